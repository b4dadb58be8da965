"""How far past the clock a date is believed: one rule for dates read now (``dates``) and for
dates stored while a clock, since set right, said 2099 (``store.db``). Apart from ``dates`` so
that a process that only answers does not compile the date parser's patterns."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

FUTURE_TOLERANCE = timedelta(days=1)
"""How far past the clock a date is still believed: time zones ahead of UTC, clocks that drift."""


def ceiling(now: datetime | None = None) -> str:
    """The latest ``published`` believed at ``now`` (the clock), in its ISO form: a stored date
    after it was believed by a clock since set back (one that said 2099 believed 2099), and is no
    date now, as it would not be if read now. Compared as text: a day sorts before its instants."""
    return ((now or datetime.now(UTC)) + FUTURE_TOLERANCE).strftime("%Y-%m-%dT%H:%M:%SZ")
