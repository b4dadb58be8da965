"""The time a question asks about: "in March 2017", "Maret 2017", "last week", "kemarin".

Questions about news often say when ("in February 2025", "pekan lalu"); the articles that
answer them were mostly published then. ``period_asked`` turns what a question says into the
span of publication days it points at, for a soft preference in ranking (never a filter:
"the 2015 arrest" may be told in a 2017 article). Relative words need the day the question is
asked (``now``); without it they are not read. Forms that are not read are left alone: a
question without a date is ranked as before.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, timedelta

from foreign_desk.index.dates import MONTHS, WEEKDAYS

YEARS = r"(?P<y>(?:19|20)\d{2})"
"""A four-digit year of modern news (1900-2099), not part of a longer number."""


def _alternatives(words: list[str]) -> str:
    return "|".join(sorted((re.escape(w) for w in words), key=len, reverse=True))


_MONTH = _alternatives(list(MONTHS))
"""Any month name or abbreviation: before a year ("Mar 2017", "May 2017") they are months."""
_MONTH_WORD = _alternatives([m for m in MONTHS if len(m) > 3 or m == "mei"])
"""Month names read without a year: "may", "mar" and "jun" alone are too often other words."""
_PAST_DAY = _alternatives([w for w in WEEKDAYS if len(w) > 3 and w != "minggu"])
"""Weekday names read as "the last such day"; "minggu" is also "week" ("minggu lalu")."""

_DAY_MONTH_YEAR = re.compile(rf"\b(?P<d>\d{{1,2}})\s+(?P<m>{_MONTH})\.?,?\s+{YEARS}\b", re.IGNORECASE)
_MONTH_DAY_YEAR = re.compile(
    rf"\b(?P<m>{_MONTH})\.?\s+(?P<d>\d{{1,2}})(?:st|nd|rd|th)?,?\s+{YEARS}\b", re.IGNORECASE
)
_MONTH_YEAR = re.compile(rf"\b(?P<m>{_MONTH})\.?,?\s+(?:of\s+|tahun\s+)?{YEARS}\b", re.IGNORECASE)
_YEAR = re.compile(rf"(?<![\d/.,-]){YEARS}(?![\d/]|[.,]\d)")
_MONTH_ALONE = re.compile(
    rf"\b(?:in|during|since|bulan|pada|sejak)\s+(?P<m>{_MONTH_WORD})\b(?!\s+\d)", re.IGNORECASE
)

_RELATIVE: tuple[tuple[str, str], ...] = (
    (r"\b(?:the\s+)?day\s+before\s+yesterday\b|\bkemarin\s+lusa\b", "day-2"),
    (r"\byesterday\b|\bkemarin\b", "day-1"),
    (r"\btoday\b|\bhari\s+ini\b", "day-0"),
    (r"\blast\s+week(?:end)?\b|\b(?:pekan|minggu)\s+(?:lalu|kemarin)\b", "week-1"),
    (r"\bthis\s+week\b|\b(?:pekan|minggu)\s+ini\b", "week-0"),
    (r"\blast\s+month\b|\bbulan\s+(?:lalu|kemarin)\b", "month-1"),
    (r"\bthis\s+month\b|\bbulan\s+ini\b", "month-0"),
    (r"\blast\s+year\b|\btahun\s+(?:lalu|kemarin)\b", "year-1"),
    (r"\bthis\s+year\b|\btahun\s+ini\b", "year-0"),
)
_RELATIVE_RE = tuple((re.compile(pattern, re.IGNORECASE), what) for pattern, what in _RELATIVE)
_DAYS_AGO = re.compile(r"\b(?P<n>\d{1,2})\s+(?:days?\s+ago|hari\s+(?:lalu|yang\s+lalu))\b", re.IGNORECASE)
_WEEKDAY_PAST = re.compile(
    rf"\b(?:last|on|hari|pada)\s+(?P<w>{_PAST_DAY})"
    r"(?:\s+(?:lalu|kemarin))?\b",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class Period:
    """Publication days from ``start`` to ``end``, both included."""

    start: date
    end: date

    def covers(self, published: str | None) -> bool:
        """Whether an ISO publication date or time (``2017-03-05``, ``...T10:00:00Z``) is inside."""
        if not published:
            return False
        day = published[:10]
        return self.start.isoformat() <= day <= self.end.isoformat()

    def as_json(self) -> list[str]:
        return [self.start.isoformat(), self.end.isoformat()]


def period_asked(question: str, now: date | None = None) -> Period | None:
    """The publication days ``question`` points at, or None when it names no time.

    Several expressions ("between March and May 2017") give the span from the first day of the
    earliest to the last of the latest."""
    found = _absolute(question) or _relative(question, now)
    if not found:
        return None
    return Period(min(p.start for p in found), max(p.end for p in found))


def _absolute(question: str) -> list[Period]:
    found: list[Period] = []
    taken: list[tuple[int, int]] = []
    for pattern in (_DAY_MONTH_YEAR, _MONTH_DAY_YEAR, _MONTH_YEAR, _YEAR):
        for m in pattern.finditer(question):
            if any(a <= m.start() < b for a, b in taken):
                continue
            period = _period_of(m)
            if period is not None:
                found.append(period)
                taken.append(m.span())
    return found


def _period_of(m: re.Match[str]) -> Period | None:
    year = int(m.group("y"))
    fields = m.groupdict()
    if fields.get("m") is None:
        return Period(date(year, 1, 1), date(year, 12, 31))
    month = MONTHS[m.group("m").lower()]
    if fields.get("d") is None:
        return Period(date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1]))
    day = int(m.group("d"))
    if not 1 <= day <= calendar.monthrange(year, month)[1]:
        return None
    return Period(date(year, month, day), date(year, month, day))


def _relative(question: str, now: date | None) -> list[Period]:
    if now is None:
        return []
    found: list[Period] = []
    taken: list[tuple[int, int]] = []
    for pattern, what in _RELATIVE_RE:  # longer phrases first: "kemarin lusa" is not "kemarin"
        for m in pattern.finditer(question):
            if not any(a < m.end() and m.start() < b for a, b in taken):
                found.append(_relative_period(what, now))
                taken.append(m.span())
    for m in _DAYS_AGO.finditer(question):
        day = now - timedelta(days=int(m.group("n")))
        found.append(Period(day, day))
    for m in _MONTH_ALONE.finditer(question):
        month = MONTHS[m.group("m").lower()]
        year = now.year if month <= now.month else now.year - 1
        found.append(Period(date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1])))
    for m in _WEEKDAY_PAST.finditer(question):
        back = (now.weekday() - WEEKDAYS[m.group("w").lower()]) % 7 or 7
        found.append(Period(now - timedelta(days=back), now - timedelta(days=back)))
    return found


def _relative_period(what: str, now: date) -> Period:
    unit, back = what.split("-")
    n = int(back)
    if unit == "day":
        day = now - timedelta(days=n)
        return Period(day, day)
    if unit == "week":
        monday = now - timedelta(days=now.weekday()) - timedelta(weeks=n)
        return Period(monday, min(monday + timedelta(days=6), now))
    if unit == "month":
        year, month = (now.year, now.month - n) if now.month > n else (now.year - 1, now.month - n + 12)
        last = date(year, month, calendar.monthrange(year, month)[1])
        return Period(date(year, month, 1), min(last, now))
    return Period(date(now.year - n, 1, 1), min(date(now.year - n, 12, 31), now))
