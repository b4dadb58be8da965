"""The background poller: on schedule, one poll per feed at a time, never stopped by one bad feed."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace
from typing import Any

import pytest
from aiohttp import web
from foreign_desk.index.embed import Embedder
from foreign_desk.index.engine import Engine
from foreign_desk.index.feeds import FeedDesk, FetchReport

from tests.feeds.conftest import NO_SEED, FakeClock, loopback_fetcher, wait_until
from tests.feeds.news import rss
from tests.fetch.fixture_server import FixtureServer, etag_of


def held_feed(
    body: str,
) -> tuple[asyncio.Event, dict[str, int], Callable[[web.Request], Awaitable[web.Response]]]:
    """A feed handler that answers only once ``gate`` is set, counting requests in flight
    (``active["now"]``) and the most at once (``active["peak"]``)."""
    gate = asyncio.Event()
    active = {"now": 0, "peak": 0}

    async def held(request: web.Request) -> web.Response:
        active["now"] += 1
        active["peak"] = max(active["peak"], active["now"])
        try:
            await gate.wait()
            return web.Response(text=body, content_type="application/rss+xml")
        finally:
            active["now"] -= 1

    return gate, active, held


def between_polls(
    desk: FeedDesk, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> Callable[[float], Awaitable[None]]:
    """The poller's sleep on ``clock``, moving it only while no poll runs: a poll takes no time on
    it. Were it to move while a poll runs (in the poller's steps of up to 60 s), a poll's own time
    would be however many steps fit in its real time: more on a loaded machine."""
    running = 0
    fetch_feeds = desk.fetch_feeds

    async def counted(ids: Sequence[int], **kwargs: Any) -> FetchReport:
        nonlocal running
        running += 1
        try:
            return await fetch_feeds(ids, **kwargs)
        finally:
            running -= 1

    async def sleep(seconds: float) -> None:
        await wait_until(lambda: running == 0)
        await clock.sleep(seconds)

    monkeypatch.setattr(desk, "fetch_feeds", counted)
    return sleep


async def test_poller_polls_on_schedule_and_survives_a_crashing_feed(
    server: FixtureServer, desk: FeedDesk, clock: FakeClock, monkeypatch
) -> None:
    body = rss("Quiet", server.base_url, [])
    server.serve("/good.rss", body, content_type="application/rss+xml", etag=etag_of(body))
    server.serve("/bad.rss", body, content_type="application/rss+xml")
    await desk.add_feed(server.url("/good.rss"), name="good", every=30, check=False)
    await desk.add_feed(server.url("/bad.rss"), name="bad", every=30, check=False)
    collect = desk.ingester.collect

    async def exploding(feed, fetcher, *args):
        if feed.name == "bad":
            raise RuntimeError("parser exploded")
        return await collect(feed, fetcher, *args)

    monkeypatch.setattr(desk.ingester, "collect", exploding)
    polled: list[float] = []

    def on_run(report: FetchReport) -> None:
        polled.extend(r.polled_at for r in report.runs if r.feed == "good")

    poller = desk.poller(sleep=between_polls(desk, clock, monkeypatch), on_run=on_run)
    start = clock()
    poller.start()
    await wait_until(lambda: len(polled) >= 3)
    assert poller.running
    await poller.stop()

    assert not poller.running and polled[0] == start  # the first poll at once
    gaps = [b - a for a, b in itertools.pairwise(polled)]
    assert gaps == [30 * 60] * len(gaps)  # then every 30 minutes
    assert server.requests_to("/good.rss")[-1].headers.get("If-None-Match") == etag_of(body)
    bad = next(f for f in await desk.feeds() if f.name == "bad")
    assert bad.failures >= 1 and "parser exploded" in (bad.last_error or "")
    assert bad.next_poll - clock() > 30 * 60  # backed off beyond the plain interval


async def test_one_poll_per_feed_at_a_time(server: FixtureServer, desk: FeedDesk) -> None:
    body = rss("Slow", server.base_url, [])
    gate, active, held = held_feed(body)
    server.handle("/slow.rss", held)
    server.serve("/other.rss", body, content_type="application/rss+xml")
    slow = await desk.add_feed(server.url("/slow.rss"), name="slow", check=False)
    await desk.add_feed(server.url("/other.rss"), name="other", check=False)
    poller = desk.poller()  # real clock: both feeds are due now
    poller.start()
    # /admin fetch twice while the poller polls the same feed: they queue behind one another...
    fetches = asyncio.gather(desk.fetch("slow"), desk.fetch("slow"), desk.fetch("other"))
    await wait_until(lambda: active["now"] == 1 and desk.queued[slow.id] == 2)
    # ... while another feed is not held up by them.
    await wait_until(lambda: len(server.requests_to("/other.rss")) >= 2)
    assert len(server.requests_to("/slow.rss")) == 1
    gate.set()
    reports = await fetches
    await wait_until(lambda: poller.polls >= 2)
    await poller.stop()

    assert active["peak"] == 1 and len(server.requests_to("/slow.rss")) == 3
    assert all(r.runs[0].ok for r in reports)


async def test_stop_cancels_a_stuck_poll(server: FixtureServer, desk: FeedDesk) -> None:
    never = asyncio.Event()  # the feed answers only after the test: the poll can only be cancelled

    async def stuck(request: web.Request) -> web.Response:
        await never.wait()
        return web.Response(text="")

    server.handle("/stuck.rss", stuck)
    await desk.add_feed(server.url("/stuck.rss"), name="stuck", check=False)
    poller = desk.poller()
    poller.start()
    await wait_until(lambda: bool(server.requests_to("/stuck.rss")))
    try:
        async with asyncio.timeout(60):  # a hang guard: a stop that waited for the feed never returns
            await poller.stop(timeout_s=0.2)
    finally:
        never.set()
    assert not poller.running


async def test_a_feed_whose_poll_ends_while_the_schedule_is_read_is_not_polled_again(
    server: FixtureServer, desk: FeedDesk, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another feed's poll ended and the poller read the schedule again; the held feed's poll
    ended during that read, which still said it was due: it was polled a second time at once."""
    body = rss("Quiet", server.base_url, [])
    gate, active, held = held_feed(body)
    server.handle("/held.rss", held)
    server.serve("/quick.rss", body, content_type="application/rss+xml")
    await desk.add_feed(server.url("/held.rss"), name="held", check=False)
    await desk.add_feed(server.url("/quick.rss"), name="quick", check=False)
    poller = desk.poller()  # real clock: both feeds are due now
    schedule, raced, reads = desk.all_feeds, asyncio.Event(), 0

    async def racing() -> list[Any]:
        nonlocal reads
        feeds = await schedule()
        reads += poller.polls == 1
        if reads == 2 and not gate.is_set():  # the quick feed's poll ended: the tick reads the
            gate.set()  # schedule (after the catch-ups'), and the held feed's poll ends meanwhile
            await wait_until(lambda: poller.polls == 2)
            raced.set()
        return feeds

    monkeypatch.setattr(desk, "all_feeds", racing)
    poller.start()
    await raced.wait()
    await poller.stop()  # lets a poll that tick started finish: its request is made
    assert len(server.requests_to("/held.rss")) == 1 and active["now"] == 0


async def test_at_most_feeds_at_once_feeds_are_polled_at_once(
    server: FixtureServer, make_settings, fake_embedder: Embedder
) -> None:
    gate, active, held = held_feed(rss("Held", server.base_url, []))
    settings = make_settings(feeds=replace(NO_SEED, feeds_at_once=2))
    async with (
        await Engine.open(settings, embedder=fake_embedder) as engine,
        await FeedDesk.open(engine, fetcher_factory=loopback_fetcher) as desk,
    ):
        for n in range(6):
            server.handle(f"/feed-{n}.rss", held)
            await desk.add_feed(server.url(f"/feed-{n}.rss"), name=f"feed-{n}", check=False)
        poller = desk.poller()  # all six are due now
        poller.start()
        slots = desk.ingester.slots
        # Every poll has started: two are at the server, the other four wait for a slot.
        await wait_until(lambda: active["now"] == 2 and slots.queued == 4)
        assert slots.busy == 2
        gate.set()
        await wait_until(lambda: poller.polls >= 6)
        await poller.stop()
    assert active["peak"] == slots.peak == 2
    assert sum(len(server.requests_to(f"/feed-{n}.rss")) for n in range(6)) == 6


async def test_a_poll_scheduled_by_a_clock_since_set_back_is_polled_at_once(
    server: FixtureServer, desk: FeedDesk, clock: FakeClock
) -> None:
    """The machine woke with its clock in 2099 and polled; the clock set right, the feed's next
    poll stayed 2099 + 30 minutes, and the poller waited for it: the feed was never polled again."""
    body = rss("Quiet", server.base_url, [])
    server.serve("/news.rss", body, content_type="application/rss+xml")
    await desk.add_feed(server.url("/news.rss"), name="news", every=30, check=False)
    right = clock()
    clock.now = 4_070_908_800.0  # 2099-01-01
    await desk.fetch("news")
    clock.now = right
    polled: list[float] = []
    poller = desk.poller(
        sleep=clock.sleep, on_run=lambda report: polled.extend(r.polled_at for r in report.runs)
    )
    poller.start()
    try:
        await wait_until(lambda: bool(polled))
    finally:
        await poller.stop()
    assert polled[0] - right <= 60
    (feed,) = await desk.feeds()
    assert 30 * 60 * 0.9 <= feed.next_poll - polled[0] <= 30 * 60 * 1.1  # back on its schedule


async def test_a_clock_stepped_forward_polls_each_feed_due_once_and_keeps_its_backoff(
    server: FixtureServer, desk: FeedDesk, clock: FakeClock, monkeypatch
) -> None:
    """The wall clock steps three hours forward while the poller waits (a resume from suspend,
    when the time did pass; an NTP step, when it did not). It counts as time passed: each feed
    due by then is polled once, as after a restart, its next poll counted from then; a failing
    feed's backoff goes on doubling (its failures are counted, not timed), so the step ends a
    wait early once, by at most the step, and never starts a burst of polls."""
    body = rss("Quiet", server.base_url, [])
    server.serve("/good.rss", body, content_type="application/rss+xml")
    server.serve("/bad.rss", "oops", status=500)
    await desk.add_feed(server.url("/good.rss"), name="good", every=30, check=False)
    await desk.add_feed(server.url("/bad.rss"), name="bad", every=30, check=False)
    between = between_polls(desk, clock, monkeypatch)
    polled: dict[str, list[float]] = {"good": [], "bad": []}
    start, step, stepped = clock(), 3 * 3600.0, list[float]()

    async def stepping(seconds: float) -> None:
        if not stepped and polled["good"] and polled["bad"]:
            stepped.append(clock())  # while the poller sleeps, after the first polls
            clock.advance(step)
        await between(seconds)

    def on_run(report: FetchReport) -> None:
        for run in report.runs:
            polled[run.feed].append(run.polled_at)

    poller = desk.poller(sleep=stepping, on_run=on_run)
    poller.start()
    try:
        await wait_until(lambda: len(polled["good"]) >= 4)
    finally:
        await poller.stop()

    woke = polled["good"][1]
    assert stepped[0] + step < woke <= stepped[0] + step + 60  # at the next look after the step
    assert [t - woke for t in polled["good"][1:4]] == [0, 30 * 60, 60 * 60]
    assert polled["bad"] == [start, woke]  # once, not again until its backoff ends
    bad = next(f for f in await desk.feeds() if f.name == "bad")
    assert (bad.failures, bad.next_poll - woke) == (2, 30 * 60 * 4)
