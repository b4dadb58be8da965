"""The background poller: polls each feed when it is due, for as long as the bot runs.

Each feed's next poll time is in the store (set after every poll: its interval with jitter,
backed off after failures, never before a ``Retry-After``), so a restart keeps the schedule.
One poll per feed at a time (the desk's per-feed lock, shared with ``fetch``), at most
``feeds_at_once`` feeds at once (the ingester's slots, shared with ``fetch`` too: a due feed's
poll waits for one). A poll that fails is recorded on its feed; an exception
anywhere in one poll is logged and recorded, and never stops the other feeds or the loop; nor
does one met resuming the subscriptions' catch-ups (``FeedDesk.resume_catch_ups``).

Time is injectable: ``clock`` (Unix seconds) and ``sleep`` let tests run hours of schedule in
milliseconds.

The schedule is wall-clock time, as stored, for every process and restart. A clock stepped
forward counts as time passed, on purpose: after a suspend it did pass (a monotonic clock, which
stops during a suspend, would poll every feed late by its length); after an NTP step it did not,
and each feed due by the new time is polled once, at most the step early, as after a restart,
then keeps its schedule from there. A failing feed's backoff counts failures, not time: a step
ends one wait early, never resets it, and starts no burst of polls beyond ``feeds_at_once``. A
clock stepped back holds no feed longer than its longest wait (``_longest``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from foreign_desk.index.feeds.models import Feed, FetchReport
from foreign_desk.index.feeds.race import first_of
from foreign_desk.index.feeds.schedule import longest_delay

if TYPE_CHECKING:
    from foreign_desk.index.feeds.desk import FeedDesk

log = logging.getLogger(__name__)

RunListener = Callable[[FetchReport], Awaitable[None] | None]


class Poller:
    """``start()`` it once the engine is open; ``await stop()`` before closing the desk."""

    def __init__(
        self,
        desk: FeedDesk,
        *,
        clock: Callable[[], float] | None = None,
        sleep: Callable[[float], Awaitable[object]] | None = None,
        max_wait_s: float = 60.0,
        on_run: RunListener | None = None,
    ) -> None:
        self.desk = desk
        self.clock = clock or desk.clock
        self.sleep = sleep or asyncio.sleep
        self.max_wait_s = max_wait_s
        self.on_run = on_run
        self.polls = 0
        """Polls finished since start (a health figure for logs and tests)."""
        self._task: asyncio.Task[None] | None = None
        self._polling: dict[int, asyncio.Task[None]] = {}
        self._ended: dict[int, int] = {}
        """Feed id → ``polls`` when its last poll ended: one that ended while the schedule was
        read is judged at the next look, its row being from before its poll was scheduled."""
        self._wake = asyncio.Event()
        self._stopping = False

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def start(self) -> None:
        if self.running:
            return
        self._stopping = False
        self._task = asyncio.create_task(self._loop(), name="feed-poller")

    def wake(self) -> None:
        """Look at the schedule again now (a feed was added or changed)."""
        self._wake.set()

    async def stop(self, timeout_s: float = 10.0) -> None:
        """Stop polling; polls in progress get ``timeout_s`` to finish, then are cancelled."""
        self._stopping = True
        self._wake.set()
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        tasks = list(self._polling.values())
        if tasks:
            _, late = await asyncio.wait(tasks, timeout=timeout_s)
            for task in late:
                task.cancel()
            await asyncio.gather(*late, return_exceptions=True)
        self._polling.clear()

    async def _loop(self) -> None:
        log.info("feed poller started")
        while not self._stopping:
            self._wake.clear()
            try:
                delay = await self._tick()
            except Exception:  # the store is busy or broken: say so, try again later
                log.exception("feed poller: reading the schedule failed")
                delay = self.max_wait_s
            if self._stopping:
                break
            await self._pause(delay)
        log.info("feed poller stopped")

    async def _tick(self) -> float:
        """Start the polls that are due, and catch-ups left unfinished; return how long to
        wait before looking again. A catch-up that cannot be resumed stays owed for a later
        tick, and the polls go on."""
        try:
            await self.desk.resume_catch_ups()
        except Exception:
            log.exception("feed poller: resuming catch-ups failed (they stay owed)")
        now = self.clock()
        soonest = now + self.max_wait_s
        ended = self.polls
        feeds = await self.desk.all_feeds()
        self._ended = {f: n for f, n in self._ended.items() if n > ended}  # the next look's
        for feed in feeds:
            if feed.id in self._polling or feed.id in self._ended:
                continue
            if feed.next_poll <= now or feed.next_poll - now > self._longest(feed):
                self._polling[feed.id] = asyncio.create_task(self._poll(feed), name=f"poll-{feed.name}")
            else:
                soonest = min(soonest, feed.next_poll)
        return max(0.0, soonest - now)

    def _longest(self, feed: Feed) -> float:
        """How far ahead ``feed``'s next poll may be; further, a clock set back scheduled it."""
        return longest_delay(feed.every_minutes * 60.0, self.desk.settings)

    async def _pause(self, delay: float) -> None:
        await first_of(self.sleep(delay), self._wake.wait())

    async def _poll(self, feed: Feed) -> None:
        try:
            report = await self.desk.fetch_feeds([feed.id])
            if self.on_run is not None:
                result = self.on_run(report)
                if asyncio.iscoroutine(result):
                    await result
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a bug in one poll: record it on the feed, keep polling
            log.exception("feed poller: polling %s failed", feed.name)
            with contextlib.suppress(Exception):
                await self.desk.record_crash(feed.id, exc)
        finally:
            self.polls += 1
            self._ended[feed.id] = self.polls
            self._polling.pop(feed.id, None)
            self._wake.set()
