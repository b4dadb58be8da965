"""A fetched page → an ``Article``: fetch, then extract off the event loop."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from foreign_desk.index.article import Article
from foreign_desk.index.errors import ReaderError
from foreign_desk.index.fetch.errors import NoArticle, UnsupportedContentType

if TYPE_CHECKING:
    from foreign_desk.index.fetch.feed import FeedItem
    from foreign_desk.index.fetch.http import Fetcher, FetchResult

log = logging.getLogger(__name__)

__all__ = ["article_from_result", "fetch_article"]


async def fetch_article(
    fetcher: Fetcher,
    url: str,
    *,
    item: FeedItem | None = None,
    fallback_source: str | None = None,
) -> Article:
    """Fetch the page at ``url`` and extract its article.

    ``item`` (the feed entry that linked to it) supplies the date when the page has none;
    ``fallback_source`` (the feed's title) names the outlet when the page does not.
    Raises ``FetchError`` subclasses, ``NoArticle`` when the page has no article body.
    """
    result = await fetcher.fetch_page(url)
    return await article_from_result(
        result,
        fallback_date=item.published if item else None,
        fallback_day=item.local_day if item else None,
        fallback_source=fallback_source,
    )


async def article_from_result(
    result: FetchResult,
    *,
    fallback_date: str | None = None,
    fallback_day: str | None = None,
    fallback_source: str | None = None,
) -> Article:
    """Extract the article of an already fetched page in a worker thread (trafilatura is CPU work)."""
    if result.content_type not in (None, "text/html", "application/xhtml+xml"):
        raise UnsupportedContentType(
            f"{result.final_url} is {result.content_type}, not an HTML page", content_type=result.content_type
        )
    from foreign_desk.index.readers.html import article_from_html  # lazy: trafilatura is slow to import

    try:
        return await asyncio.to_thread(
            article_from_html,
            result.body,
            url=result.final_url,
            charset=result.charset,
            fallback_date=fallback_date,
            fallback_day=fallback_day,
            fallback_source=fallback_source,
        )
    except ReaderError as exc:
        raise NoArticle(f"no article found at {result.final_url}: {exc}") from None
