"""Reading rows a hand edit may have damaged (``dropped_follows``, ``undelivered_alerts``): each
value is checked for the type the listing needs, and a row that fails is left out with a warning.
One bad row (topics that are no JSON list, a reason no version wrote, a time that is no number)
failed ``/following`` for its whole channel and server; the other rows are still worth showing.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")


def rows_read(table: str, rows: Iterable[Sequence[Any]], make: Callable[..., T]) -> list[T]:
    """``make(*row)`` for each row but its last value (the row's id, for the warning); the rows
    it refuses (``ValueError``, ``TypeError``, JSON nested too deep) are left out and said."""
    out: list[T] = []
    for *values, row_id in rows:
        try:
            out.append(make(*values))
        except (ValueError, TypeError, RecursionError) as exc:
            log.warning("%s row %s is damaged (%s): left out of /following", table, row_id, exc)
    return out


def an_id(value: Any, what: str) -> int:
    """A Discord id: a whole number."""
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return value
    raise TypeError(f"{what} {value!r:.40} is no id")


def an_id_or_none(value: Any, what: str) -> int | None:
    return None if value is None or value == 0 else an_id(value, what)


def some_text(value: Any, what: str) -> str:
    if isinstance(value, str) and value:
        return value
    raise TypeError(f"{what} {value!r:.40} is no text")


def one_of(value: Any, allowed: Sequence[str], what: str) -> str:
    if value in allowed:
        return str(value)
    raise ValueError(f"{what} {value!r:.40} is none of {', '.join(allowed)}")


def a_time(value: Any, what: str) -> float:
    """Unix seconds: a finite number."""
    if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    raise TypeError(f"{what} {value!r:.40} is no time")
