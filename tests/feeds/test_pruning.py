"""Fetches and ingests forget the records that guard nothing any more (the items of pages
ingested whose articles left the index, spent topic matches), so a deployment that only polls
from the command line, with no bot's housekeeping, keeps those tables bounded; all the
processes on one data folder take turns, at most one turn an hour. The fetch or ingest does not
wait for it: it runs after, and closing the desk waits for it."""

from __future__ import annotations

import asyncio

import pytest
from foreign_desk.index.engine import Engine
from foreign_desk.index.feeds import FeedDesk
from foreign_desk.index.feeds.desk import PRUNE_EVERY_S

from tests.feeds.conftest import FakeClock, loopback_fetcher, publish, serve_story
from tests.feeds.news import GAZA, PATROL, SUDAN
from tests.fetch.fixture_server import FixtureServer

A = 111
FISHING = "maritime patrols against illegal fishing"
SQL_FEEDLESS = "SELECT url FROM feed_items WHERE feed_id IS NULL ORDER BY id"
SQL_MATCHES = "SELECT article_uid FROM follow_matches"


async def left_the_index(server: FixtureServer, desk: FeedDesk, engine: Engine, story: str) -> str:
    """Server A ingests the page at ``story`` (a path), then forgets it: it leaves the index,
    its feed-less item stays behind. Returns its URL."""
    url = server.url(story)
    await desk.ingest(url, guild_id=A)
    await engine.forget(A)
    return url


async def test_fetches_forget_spent_items_and_matches_taking_turns_hourly(
    server: FixtureServer, desk: FeedDesk, engine: Engine, clock: FakeClock
) -> None:
    await desk.follow(11, FISHING, guild_id=A)
    serve_story(server, PATROL)
    serve_story(server, SUDAN)
    await desk.add_feed(publish(server, "/shared", GAZA), name="shared", check=False)
    patrol = await left_the_index(server, desk, engine, PATROL.path)  # not the hour yet: kept
    assert [r[0] for r in await desk.db.rows(SQL_FEEDLESS)] == [patrol]
    assert len(await desk.db.rows(SQL_MATCHES)) == 1  # A's channel matched PATROL, never posted
    clock.advance(PRUNE_EVERY_S + 1)

    await desk.fetch()  # the command line's `foreign-desk fetch`: nothing else prunes
    await desk.settled()  # the prune it started (``close`` waits for it too)

    assert await desk.db.rows(SQL_FEEDLESS) == [] and await desk.db.rows(SQL_MATCHES) == []
    sudan = await left_the_index(server, desk, engine, SUDAN.path)
    async with await FeedDesk.open(engine, fetcher_factory=loopback_fetcher, clock=clock) as other:
        await other.fetch()  # another process, within the hour: not its turn
        await other.settled()
        assert [r[0] for r in await desk.db.rows(SQL_FEEDLESS)] == [sudan]
        clock.advance(PRUNE_EVERY_S + 1)
        await other.fetch()
    assert await desk.db.rows(SQL_FEEDLESS) == []


async def test_a_fetch_or_ingest_returns_before_its_prune_which_close_still_finishes(
    server: FixtureServer, engine: Engine, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[asyncio.Task[object]] = []
    returned: list[bool] = []
    """Whether the fetch or ingest had returned when its prune began, each time."""
    began, release = asyncio.Event(), asyncio.Event()
    forget = FeedDesk.forget_feedless_items

    async def watched(desk: FeedDesk) -> int:  # the prune, taking as long as the test says
        returned.append(calls[-1].done())
        began.set()
        await release.wait()
        return await forget(desk)

    monkeypatch.setattr(FeedDesk, "forget_feedless_items", watched)
    serve_story(server, PATROL)
    desk = await FeedDesk.open(engine, fetcher_factory=loopback_fetcher, clock=clock)
    try:  # ``asyncio.timeout``: a prune the fetch waited for would never begin (fail, do not hang)
        await desk.add_feed(publish(server, "/shared", GAZA), name="shared", check=False)
        release.set()
        calls.append(asyncio.create_task(desk.ingest(server.url(PATROL.path), guild_id=A)))
        await calls[-1]
        async with asyncio.timeout(60):
            await began.wait()
        assert returned == [True]
        await engine.forget(A)
        clock.advance(PRUNE_EVERY_S + 1)
        began.clear()
        release.clear()  # the next prune waits until the desk closes
        calls.append(asyncio.create_task(desk.fetch()))
        await calls[-1]
        async with asyncio.timeout(60):
            await began.wait()
        assert returned == [True, True]
        assert [r[0] for r in await desk.db.rows(SQL_FEEDLESS)] == [server.url(PATROL.path)]
    finally:
        release.set()
        await desk.close()  # waits for the prune: a one-shot command prunes before it exits
    assert list(await engine.store.conn.execute_fetchall(SQL_FEEDLESS)) == []
