"""Fetching the web safely: feeds and pages over HTTP, canonical URLs, feed parsing, extraction.

Typical use (a feed poller)::

    async with Fetcher.from_settings(settings) as fetcher:
        poll = await poll_feed(fetcher, feed_url, etag=etag, last_modified=modified)
        if not poll.not_modified:
            for item in poll.feed.items:
                article = await fetch_article(fetcher, item.link, item=item,
                                              fallback_source=poll.feed.title)

Every failure is an ``index.errors.FetchError`` subclass from ``index.fetch.errors``.
"""

from __future__ import annotations

from foreign_desk.index.fetch.errors import (
    AddressRefused,
    ConnectionFailed,
    FetchError,
    FetchFailure,
    FetchTimeout,
    HTTPStatusError,
    InvalidURL,
    NoArticle,
    NotAFeed,
    ResponseTooLarge,
    RetryLater,
    TooManyRedirects,
    UnsupportedContentType,
)
from foreign_desk.index.fetch.extract import article_from_result, fetch_article
from foreign_desk.index.fetch.feed import FeedItem, FeedPoll, ParsedFeed, parse_feed, poll_feed
from foreign_desk.index.fetch.http import Fetcher, FetchResult
from foreign_desk.index.fetch.ssrf import AddressPolicy
from foreign_desk.index.fetch.urls import canonical_url, feed_key

__all__ = [
    "AddressPolicy",
    "AddressRefused",
    "ConnectionFailed",
    "FeedItem",
    "FeedPoll",
    "FetchError",
    "FetchFailure",
    "FetchResult",
    "FetchTimeout",
    "Fetcher",
    "HTTPStatusError",
    "InvalidURL",
    "NoArticle",
    "NotAFeed",
    "ParsedFeed",
    "ResponseTooLarge",
    "RetryLater",
    "TooManyRedirects",
    "UnsupportedContentType",
    "article_from_result",
    "canonical_url",
    "feed_key",
    "fetch_article",
    "parse_feed",
    "poll_feed",
]
