"""When to poll a feed next: its interval with jitter, doubled after each failure, never before
the server's ``Retry-After``. Pure, so the rules are tested without a clock.

Each subscription to a feed keeps a schedule of its own (``Pace``), as if it followed the feed
alone; the feed is polled when the first of them is due (the operators' alone, where they
subscribe: ``state.driver``), and a poll moves on the schedules it was due for."""

from __future__ import annotations

import random
from dataclasses import dataclass

from foreign_desk.index.config import FeedSettings
from foreign_desk.index.fetch.http import MAX_RETRY_AFTER_S


def next_delay(
    every_s: float,
    failures: int,
    settings: FeedSettings,
    *,
    retry_after: float | None = None,
    rng: random.Random | None = None,
) -> float:
    """Seconds until the next poll of a feed polled every ``every_s`` seconds.

    After ``failures`` consecutive failures the wait is ``every_s * 2**failures``, capped at
    ``backoff_cap_minutes`` (but never shorter than the interval itself); a ``Retry-After``
    the server sent is a lower bound, itself at most ``MAX_RETRY_AFTER_S``. Jitter of
    ± ``settings.jitter`` spreads feeds apart so that feeds added together do not stay in
    lock step.
    """
    delay = float(every_s)
    if failures > 0:
        cap = max(settings.backoff_cap_minutes * 60.0, every_s)
        delay = min(every_s * 2.0 ** min(failures, 30), cap)
    jitter = max(0.0, min(settings.jitter, 0.5))
    if jitter:
        delay *= 1.0 + (rng or random).uniform(-jitter, jitter)
    if retry_after is not None and retry_after == retry_after:  # (not NaN)
        delay = max(delay, min(float(retry_after), MAX_RETRY_AFTER_S))
    return delay


def failing_for(every_s: float, failures: int, settings: FeedSettings) -> float:
    """How long something retried by ``next_delay`` has been failing at its ``failures``-th
    failure in a row: the waits between them, without jitter or ``Retry-After``. Read from the
    count alone, so a clock set back (or forward) bends no give-up bound."""
    cap = max(settings.backoff_cap_minutes * 60.0, every_s)
    return sum(min(every_s * 2.0 ** min(k, 30), cap) for k in range(1, failures))


def longest_delay(every_s: float, settings: FeedSettings) -> float:
    """The longest ``next_delay`` can be for a feed polled every ``every_s`` seconds: a next poll
    further ahead than this was scheduled by a clock since set back (a machine that woke in 2099
    for a while), and waiting for it would stop the feed for years."""
    jitter = max(0.0, min(settings.jitter, 0.5))
    return max(max(settings.backoff_cap_minutes * 60.0, every_s) * (1.0 + jitter), MAX_RETRY_AFTER_S)


def retry_floor(retry_after: float | None) -> float:
    """The least wait a server's ``Retry-After`` imposes (as ``next_delay`` bounds it); 0 without."""
    if retry_after is None or retry_after != retry_after:  # (NaN)
        return 0.0
    return max(0.0, min(float(retry_after), MAX_RETRY_AFTER_S))


@dataclass(frozen=True, slots=True)
class Pace:
    """One subscription's schedule of a feed, as if it followed the feed alone: the interval it
    asked for, its failures in a row at the polls it was due for, and when it is due next."""

    scope: int
    """The subscriber: a server's id, 0 for the shared corpus."""
    every_minutes: int
    failures: int
    next_poll: float

    def due(self, now: float, settings: FeedSettings) -> bool:
        """Due by ``now``, or scheduled further ahead than its longest wait (by a clock since set
        back: the poller polls such a feed, ``Poller._tick``)."""
        longest = longest_delay(self.every_minutes * 60.0, settings)
        return self.next_poll <= now or self.next_poll - now > longest
