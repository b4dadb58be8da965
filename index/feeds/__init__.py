"""The latest news: registered feeds, polling, one-URL ingestion, dedupe, topic follows and alerts.

``FeedDesk`` is the one object a front end needs (see ``index.feeds.desk``); ``plan_posts`` is
the pure alert planner. The feeds reach the index only through ``Engine``; their tables are
their own (``index.feeds.schema``). Topic search lives in the core (``index.search.topics``).
"""

from foreign_desk.index.feeds.desk import FeedDesk
from foreign_desk.index.feeds.digest import plan_posts
from foreign_desk.index.feeds.models import (
    Feed,
    FeedRun,
    FetchReport,
    Follow,
    ItemOutcome,
    Match,
    PollNote,
    Post,
    busy_failure,
    host_failure_at,
)
from foreign_desk.index.feeds.poller import Poller
from foreign_desk.index.feeds.servers import QuotaExceeded
from foreign_desk.index.feeds.state import FeedError, FeedTaken, UnknownFeed

__all__ = [
    "Feed",
    "FeedDesk",
    "FeedError",
    "FeedRun",
    "FeedTaken",
    "FetchReport",
    "Follow",
    "ItemOutcome",
    "Match",
    "PollNote",
    "Poller",
    "Post",
    "QuotaExceeded",
    "UnknownFeed",
    "busy_failure",
    "host_failure_at",
    "plan_posts",
]
