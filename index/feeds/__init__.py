"""The latest news: registered feeds, polling, one-URL ingestion, dedupe, topic search and alerts.

``FeedDesk`` is the one object a front end needs (see ``index.feeds.desk``); ``plan_posts`` is
the pure alert planner; ``latest_on_topic`` backs ``Engine.latest(topic=...)``.
"""

from foreign_desk.index.feeds.desk import FeedDesk
from foreign_desk.index.feeds.digest import plan_posts
from foreign_desk.index.feeds.models import Feed, FeedRun, FetchReport, Follow, ItemOutcome, Match, Post
from foreign_desk.index.feeds.poller import Poller
from foreign_desk.index.feeds.state import FeedError
from foreign_desk.index.feeds.topics import latest_on_topic, topic_threshold

__all__ = [
    "Feed",
    "FeedDesk",
    "FeedError",
    "FeedRun",
    "FetchReport",
    "Follow",
    "ItemOutcome",
    "Match",
    "Poller",
    "Post",
    "latest_on_topic",
    "plan_posts",
    "topic_threshold",
]
