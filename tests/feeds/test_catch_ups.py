"""A subscription's catch-up (the articles so far of a feed others poll) is owed in the database
until done: the process running it keeps its claim alive, a dead process's is taken on by a
poller, and a poller that cannot take one on still polls the feeds."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

import pytest
from aiohttp import web
from foreign_desk.index.engine import Engine
from foreign_desk.index.feeds import FeedDesk
from foreign_desk.index.feeds.desk import CATCH_UP_GIVE_UP_S, CATCH_UP_RENEW_S, CATCH_UP_STALE_S
from foreign_desk.index.feeds.models import FetchReport
from foreign_desk.index.models import Scope

from tests.feeds.conftest import FakeClock, loopback_fetcher, publish, serve_story, wait_until
from tests.feeds.news import PATROL, page
from tests.fetch.fixture_server import FixtureServer

A, C = 111, 333
CLAIM_FAILS = (
    "CREATE TEMP TRIGGER claim_fails BEFORE UPDATE ON feed_catch_ups "
    "BEGIN SELECT RAISE(ABORT, 'the claim cannot be written'); END"
)
GRANT_FAILS = (
    f"CREATE TRIGGER grant_fails BEFORE INSERT ON article_scopes WHEN NEW.guild_id = {C} "
    "BEGIN SELECT RAISE(ABORT, 'the grant cannot be written'); END"
)
DAY = 86_400.0


class Beats:
    """A sleep that ends only when the test beats: each beat lets a catch-up renew its claim once."""

    def __init__(self) -> None:
        self.waits = 0
        self._beats: asyncio.Queue[None] = asyncio.Queue()

    async def sleep(self, seconds: float) -> None:
        self.waits += 1
        await self._beats.get()

    def wake(self) -> None:
        """Let one renewal happen."""
        self._beats.put_nowait(None)

    async def beat(self) -> None:
        """Let one renewal happen and wait until it is done (the renewer is asleep again)."""
        waits = self.waits
        self.wake()
        await wait_until(lambda: self.waits > waits)


class HeldPage:
    """PATROL's page, answered only once ``release`` is set; ``asked`` when first requested."""

    def __init__(self, server: FixtureServer) -> None:
        self.asked, self.release = asyncio.Event(), asyncio.Event()
        self.base = server.base_url
        server.handle(PATROL.path, self.handle)

    async def handle(self, request: web.Request) -> web.Response:
        self.asked.set()
        await self.release.wait()
        return web.Response(text=page(PATROL, self.base), content_type="text/html")


@contextlib.asynccontextmanager
async def two_desks(
    engine: Engine, clock: FakeClock, beats: Beats
) -> AsyncIterator[tuple[FeedDesk, FeedDesk]]:
    """Two processes' desks on one data dir: the first renews its claims when ``beats`` beat."""
    first = await FeedDesk.open(engine, fetcher_factory=loopback_fetcher, clock=clock, sleep=beats.sleep)
    async with first, await FeedDesk.open(engine, fetcher_factory=loopback_fetcher, clock=clock) as second:
        yield first, second


async def subscribe_c_mid_catch_up(server: FixtureServer, desk: FeedDesk, engine: Engine) -> HeldPage:
    """A polls a feed and forgot its article; C subscribes: C's catch-up fetches the page again,
    and is held there."""
    await desk.add_feed(publish(server, "/a", PATROL), name="a", check=False, guild_id=A)
    await desk.fetch(guild_id=A)
    await engine.forget(A)
    held = HeldPage(server)
    await desk.add_feed(server.url("/a"), name="same", check=False, guild_id=C)
    await held.asked.wait()
    return held


async def on_its_own(desk: FeedDesk, sql: str) -> None:
    """Run ``sql`` in a transaction of its own, under the lock of the desk's ``StateDB``. Sent on
    its connection outside that lock, it ran inside the poller's claim, whose rollback (the
    trigger refusing the claim) then undid it: the trigger dropped came back, and no claim ever
    passed."""
    async with desk.db.transaction() as conn:
        await conn.execute(sql)


async def seen_by_c(engine: Engine) -> list[str]:
    return [a.title for a in await engine.latest(10, scope=Scope(C))]


async def test_a_running_catch_up_is_never_taken_on_by_another_process(
    server: FixtureServer, engine: Engine, clock: FakeClock
) -> None:
    """C's catch-up waits on a page for twice the stale time; another process's poller, looking
    all along, leaves it to the process running it: the page is fetched once for C, not twice."""
    beats = Beats()
    async with two_desks(engine, clock, beats) as (first, second):
        held = await subscribe_c_mid_catch_up(server, first, engine)
        taken_on = clock.now
        while clock.now < taken_on + 2 * CATCH_UP_STALE_S:
            clock.advance(CATCH_UP_RENEW_S)
            await beats.beat()
            assert await second.resume_catch_ups() == []
        held.release.set()
        await first.caught_up()
        await second.caught_up()

        assert await seen_by_c(engine) == [PATROL.title]
        assert len(server.requests_to(PATROL.path)) == 2  # A's poll, C's catch-up
        assert await first.db.rows("SELECT * FROM feed_catch_ups") == []


async def test_a_dead_process_catch_up_is_taken_on_once_its_last_renewal_is_stale(
    server: FixtureServer, engine: Engine, clock: FakeClock
) -> None:
    beats = Beats()
    async with await FeedDesk.open(
        engine, fetcher_factory=loopback_fetcher, clock=clock, sleep=beats.sleep
    ) as first:
        held = await subscribe_c_mid_catch_up(server, first, engine)
        for _ in range(3):
            clock.advance(CATCH_UP_RENEW_S)
            await beats.beat()
    held.release.set()  # the process is gone, its catch-up with it

    async with await FeedDesk.open(engine, fetcher_factory=loopback_fetcher, clock=clock) as second:
        clock.advance(CATCH_UP_STALE_S)
        assert await second.resume_catch_ups() == []  # renewed this long ago: it may be alive yet
        clock.advance(1)
        (feed,) = await second.feeds(guild_id=C)
        assert await second.resume_catch_ups() == [(feed.id, C)]
        await second.caught_up()

    assert await seen_by_c(engine) == [PATROL.title]


async def test_a_catch_up_taken_on_by_another_process_stops_where_it_ran(
    server: FixtureServer, engine: Engine, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    """The first process was stopped longer than the stale time (its claim not renewed); the
    second took the catch-up on. The first, running again, finds it is not its own and stops."""
    beats = Beats()
    async with two_desks(engine, clock, beats) as (first, second):
        held = await subscribe_c_mid_catch_up(server, first, engine)
        clock.advance(CATCH_UP_STALE_S + 1)
        (feed,) = await second.feeds(guild_id=C)
        assert await second.resume_catch_ups() == [(feed.id, C)]
        caplog.set_level(logging.WARNING)
        beats.wake()
        await first.caught_up()  # stopped: it no longer waits on the page
        assert any("no longer ours" in r.getMessage() for r in caplog.records)
        held.release.set()
        await second.caught_up()

        assert await seen_by_c(engine) == [PATROL.title]


async def test_a_catch_up_that_cannot_be_resumed_stays_owed_and_the_feeds_are_still_polled(
    server: FixtureServer, engine: Engine, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    """C's catch-up was left by a process that died. The next process's poller cannot claim it
    (the database refuses the write): the error is logged with its traceback, the feed due is
    polled all the same, and the catch-up, still owed, is taken on at a later tick."""
    async with await FeedDesk.open(engine, fetcher_factory=loopback_fetcher, clock=clock) as first:
        held = await subscribe_c_mid_catch_up(server, first, engine)
    held.release.set()
    clock.advance(2 * CATCH_UP_STALE_S + 3600)  # the catch-up stale, feed "a" due

    async with await FeedDesk.open(engine, fetcher_factory=loopback_fetcher, clock=clock) as desk:
        owed = [
            tuple(r) for r in await desk.db.rows("SELECT feed_id, guild_id, claimed_at FROM feed_catch_ups")
        ]
        await on_its_own(desk, CLAIM_FAILS)
        runs: list[FetchReport] = []
        poller = desk.poller(sleep=clock.sleep, on_run=runs.append)
        caplog.set_level(logging.ERROR)
        poller.start()
        await wait_until(lambda: poller.polls > 0)

        assert [r.url for report in runs for r in report.runs] == [server.url("/a")]
        failures = [r for r in caplog.records if "resuming catch-ups failed" in r.getMessage()]
        assert failures and failures[0].exc_info is not None
        still = [
            tuple(r) for r in await desk.db.rows("SELECT feed_id, guild_id, claimed_at FROM feed_catch_ups")
        ]
        assert still == owed

        await on_its_own(desk, "DROP TRIGGER temp.claim_fails")
        await wait_until(lambda: len(server.requests_to(PATROL.path)) > 2)
        await desk.caught_up()
        assert len(server.requests_to(PATROL.path)) == 3  # A's poll, C's twice
        assert await seen_by_c(engine) == [PATROL.title]
        assert await desk.db.rows("SELECT * FROM feed_catch_ups") == []


async def c_subscribes_while_the_page_is_down(
    server: FixtureServer, desk: FeedDesk, engine: Engine, status: int = 503
) -> int:
    """A polls a feed and forgot its article; C subscribes while the article's page answers
    ``status`` (no Retry-After): C's catch-up fetches it and fails. Returns the feed's id."""
    await desk.add_feed(publish(server, "/a", PATROL), name="a", check=False, guild_id=A)
    await desk.fetch(guild_id=A)
    await engine.forget(A)
    server.serve(PATROL.path, "<h1>Internal error</h1><pre>db password=hunter2</pre>", status=status)
    feed = await desk.add_feed(server.url("/a"), name="same", check=False, guild_id=C)
    await desk.caught_up()
    return feed.id


async def c_subscribes_while_its_grants_fail(server: FixtureServer, desk: FeedDesk, engine: Engine) -> int:
    """A polls a feed (its article stored); C subscribes while the database refuses C's grants:
    C's catch-up raises. Returns the feed's id."""
    await desk.add_feed(publish(server, "/a", PATROL), name="a", check=False, guild_id=A)
    await desk.fetch(guild_id=A)
    await on_its_own(desk, GRANT_FAILS)
    feed = await desk.add_feed(server.url("/a"), name="same", check=False, guild_id=C)
    await desk.caught_up()
    return feed.id


async def retry_due_in(desk: FeedDesk, clock: FakeClock) -> float:
    (row,) = await desk.db.rows("SELECT retry_at FROM feed_catch_ups")
    return float(row[0]) - clock.now


async def until_its_retry(desk: FeedDesk, clock: FakeClock) -> None:
    """Move the clock to when the catch-up owed may be tried again."""
    clock.advance(max(0.0, await retry_due_in(desk, clock)))


async def test_a_catch_up_whose_page_failed_for_now_stays_owed_and_is_tried_again_later(
    server: FixtureServer, desk: FeedDesk, engine: Engine, clock: FakeClock
) -> None:
    """The page of the article A forgot answered 503 while C caught up: the catch-up was deleted
    as if done, and C never got the article, the page back or not."""
    feed_id = await c_subscribes_while_the_page_is_down(server, desk, engine)
    assert await seen_by_c(engine) == []
    owed = await desk.db.rows("SELECT feed_id, guild_id FROM feed_catch_ups")
    assert [tuple(r) for r in owed] == [(feed_id, C)]
    wait = await retry_due_in(desk, clock)
    assert 0 < wait <= CATCH_UP_STALE_S
    clock.advance(wait - 1)
    assert await desk.resume_catch_ups() == []  # not before its retry is due
    serve_story(server, PATROL)
    clock.advance(1)
    assert await desk.resume_catch_ups() == [(feed_id, C)]
    await desk.caught_up()

    assert await seen_by_c(engine) == [PATROL.title]
    assert await desk.db.rows("SELECT * FROM feed_catch_ups") == []
    assert len(server.requests_to(PATROL.path)) == 3  # A's poll, C's two tries
    assert [f.catch_up_failed for f in await desk.feeds(guild_id=C)] == [False]


async def test_a_catch_up_failing_again_and_again_waits_longer_each_time_up_to_the_backoff_cap(
    server: FixtureServer, desk: FeedDesk, engine: Engine, clock: FakeClock
) -> None:
    feed_id = await c_subscribes_while_the_page_is_down(server, desk, engine)
    waits = [await retry_due_in(desk, clock)]
    for _ in range(10):
        clock.advance(waits[-1])
        assert await desk.resume_catch_ups() == [(feed_id, C)]
        await desk.caught_up()
        waits.append(await retry_due_in(desk, clock))

    cap = desk.settings.backoff_cap_minutes * 60.0
    assert waits == sorted(waits) and waits[0] < waits[1] and waits[-1] == cap
    serve_story(server, PATROL)
    clock.advance(cap)
    assert await desk.resume_catch_ups() == [(feed_id, C)]
    await desk.caught_up()
    assert await seen_by_c(engine) == [PATROL.title]


async def test_a_catch_up_retry_set_by_a_clock_since_set_back_is_due_at_once(
    server: FixtureServer, desk: FeedDesk, engine: Engine, clock: FakeClock
) -> None:
    """Its page failed while the clock said 2099: the retry, due in 2099, would leave C without
    the article until then."""
    right, clock.now = clock.now, 4_070_908_800.0  # 2099-01-01
    feed_id = await c_subscribes_while_the_page_is_down(server, desk, engine)
    clock.now = right
    serve_story(server, PATROL)
    assert await desk.resume_catch_ups() == [(feed_id, C)]
    await desk.caught_up()
    assert await seen_by_c(engine) == [PATROL.title]


async def test_a_catch_up_claimed_by_a_clock_since_set_back_is_taken_on_once_stale(
    server: FixtureServer, engine: Engine, clock: FakeClock
) -> None:
    """Its process died while the clock said 2099: claimed in 2099, the catch-up looked alive
    until then, and no poller took it on."""
    right, clock.now = clock.now, 4_070_908_800.0  # 2099-01-01
    async with await FeedDesk.open(engine, fetcher_factory=loopback_fetcher, clock=clock) as first:
        held = await subscribe_c_mid_catch_up(server, first, engine)
    held.release.set()  # the process is gone, its catch-up with it
    clock.now = right

    async with await FeedDesk.open(engine, fetcher_factory=loopback_fetcher, clock=clock) as second:
        (feed,) = await second.feeds(guild_id=C)
        assert await second.resume_catch_ups() == [(feed.id, C)]
        await second.caught_up()
    assert await seen_by_c(engine) == [PATROL.title]


async def test_a_catch_up_that_raises_is_logged_and_tried_again_after_a_growing_wait(
    server: FixtureServer, desk: FeedDesk, engine: Engine, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    """The database refused C's grants: the catch-up's error went to the log once, and the
    catch-up was taken on again every 15 minutes (once its claim was stale), for as long as the
    error lasted, never backing off."""
    caplog.set_level(logging.WARNING)
    feed_id = await c_subscribes_while_its_grants_fail(server, desk, engine)
    waits = [await retry_due_in(desk, clock)]
    for _ in range(8):
        await until_its_retry(desk, clock)
        assert await desk.resume_catch_ups() == [(feed_id, C)]
        await desk.caught_up()
        waits.append(await retry_due_in(desk, clock))

    cap = desk.settings.backoff_cap_minutes * 60.0
    assert 0 < waits[0] < waits[1] and waits == sorted(waits) and waits[-1] == cap
    errors = [r for r in caplog.records if r.getMessage().startswith("catching feed")]
    assert len(errors) == len(waits)  # one a try, with what went wrong
    assert all(r.exc_info and "the grant cannot be written" in str(r.exc_info[1]) for r in errors)
    await on_its_own(desk, "DROP TRIGGER grant_fails")
    await until_its_retry(desk, clock)
    assert await desk.resume_catch_ups() == [(feed_id, C)]
    await desk.caught_up()
    assert await seen_by_c(engine) == [PATROL.title]
    assert await desk.db.rows("SELECT * FROM feed_catch_ups") == []


@pytest.mark.parametrize("failing", ["page", "database"])
async def test_a_catch_up_failing_for_two_days_is_given_up_and_the_servers_feed_listing_says_so(
    server: FixtureServer,
    desk: FeedDesk,
    engine: Engine,
    clock: FakeClock,
    caplog: pytest.LogCaptureFixture,
    failing: str,
) -> None:
    """Its page answered 500 every time (or the database refused it every time): the catch-up
    was tried every 6 hours (the backoff cap) for ever, its attempts counted and nothing more.
    Given up, it was only logged: C's admins, who read C's feed listing and not the log, never
    learnt that articles of the feed were missing. A, polling the same feed, is told nothing."""
    caplog.set_level(logging.WARNING)
    first_try = clock.now
    if failing == "page":
        feed_id = await c_subscribes_while_the_page_is_down(server, desk, engine, status=500)
    else:
        feed_id = await c_subscribes_while_its_grants_fail(server, desk, engine)
    tries = 1
    while await desk.db.rows("SELECT * FROM feed_catch_ups"):
        assert tries < 50, "never given up"
        await until_its_retry(desk, clock)
        assert await desk.resume_catch_ups() == [(feed_id, C)]
        await desk.caught_up()
        tries += 1

    cap = desk.settings.backoff_cap_minutes * 60.0
    assert CATCH_UP_GIVE_UP_S <= clock.now - first_try < CATCH_UP_GIVE_UP_S + cap
    (given_up,) = [r for r in caplog.records if "given up" in r.getMessage()]
    assert given_up.levelno == logging.WARNING and f"failed {tries} times" in given_up.getMessage()
    assert not any("hunter2" in r.getMessage() or "Internal error" in r.getMessage() for r in caplog.records)
    fetched = len(server.requests_to(PATROL.path))
    clock.advance(30 * DAY)
    assert await desk.resume_catch_ups() == []
    await desk.caught_up()
    assert len(server.requests_to(PATROL.path)) == fetched
    assert await seen_by_c(engine) == []
    assert [f.catch_up_failed for f in await desk.feeds(guild_id=C)] == [True]
    assert [f.catch_up_failed for f in await desk.feeds(guild_id=A)] == [False]
