"""The latest news: registered feeds, polling, one-URL ingestion, dedupe, topic search and alerts.

``FeedDesk`` is the one object a front end needs (see ``index.feeds.desk``); ``plan_posts`` is
the pure alert planner; ``latest_on_topic`` backs ``Engine.latest(topic=...)``.
"""

from index.feeds.desk import FeedDesk
from index.feeds.digest import plan_posts
from index.feeds.models import Feed, FeedRun, FetchReport, Follow, ItemOutcome, Match, Post
from index.feeds.poller import Poller
from index.feeds.state import FeedError
from index.feeds.topics import latest_on_topic, topic_threshold

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
