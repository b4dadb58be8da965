"""Fetches and ingests forget the records that guard nothing any more (the items of pages
ingested whose articles left the index, spent topic matches), so a deployment that only polls
from the command line, with no bot's housekeeping, keeps those tables bounded; all the
processes on one data folder take turns, at most one turn an hour."""

from __future__ import annotations

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
    patrol = await left_the_index(server, desk, engine, PATROL.path)  # its ingest took a turn
    assert [r[0] for r in await desk.db.rows(SQL_FEEDLESS)] == [patrol]
    assert len(await desk.db.rows(SQL_MATCHES)) == 1  # A's channel matched PATROL, never posted
    clock.advance(PRUNE_EVERY_S + 1)

    await desk.fetch()  # the command line's `foreign-desk fetch`: nothing else prunes

    assert await desk.db.rows(SQL_FEEDLESS) == [] and await desk.db.rows(SQL_MATCHES) == []
    sudan = await left_the_index(server, desk, engine, SUDAN.path)
    async with await FeedDesk.open(engine, fetcher_factory=loopback_fetcher, clock=clock) as other:
        await other.fetch()  # another process, within the hour: not its turn
        assert [r[0] for r in await desk.db.rows(SQL_FEEDLESS)] == [sudan]
        clock.advance(PRUNE_EVERY_S + 1)
        await other.fetch()
    assert await desk.db.rows(SQL_FEEDLESS) == []
