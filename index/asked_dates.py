"""The time a question asks about: "in March 2017", "Maret 2017", "last week", "kemarin".

Questions about news often say when ("in February 2025", "pekan lalu"); the articles that
answer them were mostly published then. ``period_asked`` turns what a question says into the
span of publication days it points at, for a soft preference in ranking (never a filter:
"the 2015 arrest" may be told in a 2017 article). Relative words need the day the question is
asked (``now``); without it they are not read. Forms that are not read are left alone: a
question without a date is ranked as before.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

from foreign_desk.index.date_words import MONTHS, WEEKDAYS

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

# The forms of ``_ABSOLUTE``, as sources: compiled on first use (``_absolute_patterns``).
_DAY_MONTH_YEAR = rf"\b(?P<d>\d{{1,2}})\s+(?P<m>{_MONTH})\.?,?\s+{YEARS}\b"
_MONTH_DAY_YEAR = rf"\b(?P<m>{_MONTH})\.?\s+(?P<d>\d{{1,2}})(?:st|nd|rd|th)?,?\s+{YEARS}\b"
_TO = r"(?:\s*[-–—]\s*|\s+(?:to|and|until|till|through|sampai|hingga|dan)\s+)"
"""What joins the ends of a range: "March-May", "March to May", "Maret hingga Mei"."""
_MONTH_YEAR = rf"\b(?:(?P<m0>{_MONTH})\.?{_TO})?(?P<m>{_MONTH})\.?,?\s+(?:of\s+|tahun\s+)?{YEARS}\b"
"""A month of a year, or a range of months ending in one ("between March and May 2017")."""
_DECADE = r"(?<![\d/.,-])(?P<y>(?:19|20)\d0)(?:s|['’]s|\s*-an)\b"
"""A decade: "the 1990s", "tahun 1990-an"."""
_YEAR = (
    r"(?<![\d/.,-])(?:(?P<y0>(?:19|20)\d{2})\s*[-–—]\s*)?(?P<y>(?(y0)(?:19|20)?\d{2}|(?:19|20)\d{2}))"
    r"(?(y0)(?![\d/-]|[.,]\d)|(?![\d/]|[.,]\d))"
)
"""A year, or a range of years ("2023-2024", "2017-18"; "2022-06-08" is no range)."""
# _COUNTED to _INTRODUCED stay strings, compiled (and kept) by ``re`` when first used: only a
# question that names a time needs them, and compiling them at import cost every process ~1 ms.
_COUNTED = (
    r"\s+(?:[^\W\d_]+\s+)?(?:people|persons|troops|soldiers|personnel|refugees|migrants|civilians|residents"
    r"|workers|students|children|victims|casualties|deaths|prisoners|detainees|hostages|families|households"
    r"|homes|houses|members|delegates|officers|police|votes|seats|cases|units|tons|tonnes|km|kilometres"
    r"|kilometers|miles|dollars|orang|jiwa|warga|pengungsi|tentara|prajurit|personel|pasukan|korban|tahanan"
    r"|sandera|penduduk|keluarga|rumah|pekerja|buruh|mahasiswa|siswa|migran|kasus|suara|kursi|unit|ton|dolar)\b"
)
"""What a number counts: "the 2000 troops", "2000 US troops", "1950 pengungsi" are no years."""
_COUNTING = (
    r"\b(?:(?:more|fewer|less)\s+than|at\s+least|nearly|almost|(?:lebih|kurang)\s+dari|sebanyak|hampir)\s+$"
)
"""Words that make the number after them a count: "more than 2000", "sebanyak 2000"."""
_DATING = r"\b(?:in|during|since|until|by|tahun|sejak|hingga|sampai)\s+$"
"""Words that make the number after them a year whatever follows: "in 2000 troops were sent"."""
_ISO_DAY = rf"(?<![\d/.,-]){YEARS}-(?P<mo>\d{{2}})-(?P<d>\d{{2}})(?![\d/-])"
_MONTH_ALONE = re.compile(
    rf"\b(?P<pre>in|during|since|bulan|pada|sejak)\s+(?P<m>{_MONTH_WORD})\b(?!\s+\d)", re.IGNORECASE
)
_SINCE = r"\b(?:since|sejak)\s+(?:the\s+|tahun\s+|bulan\s+)?$"
"""Words that make a time the start of what is asked ("since 2019": to this day). Not "after":
"after the December 2015 attack" was reported then."""
_INTRODUCED = (
    r"(?:\b(?:in|on|at|of|during|between|from|since|until|by|pada|sejak|dari|antara|hingga|sampai)\s+)?"
    r"(?:\b(?:tahun|bulan|tanggal)\s+)?$"
)
"""The word before a time that only introduces it goes with it: "agree on in 2024", "pada tahun 2017"."""

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
    rf"\b(?:(?P<pre>last|on|hari|pada)\s+)?(?P<w>{_PAST_DAY})(?P<post>\s+(?:lalu|kemarin))?\b", re.IGNORECASE
)
"""The last such day: "last Friday", "on Friday", "hari Jumat", "Jumat lalu", "Jumat kemarin"."""


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

    Several expressions ("between 2015 and 2017") give the span from the first day of the
    earliest to the last of the latest; "since" a time runs to ``now``."""
    return time_asked(question, now)[0]


def time_asked(question: str, now: date | None = None) -> tuple[Period | None, str]:
    """``period_asked``, and ``question`` without the words that named it ("What did NATO and
    Japan agree on?" for "... agree on in 2024?"). The judge weighs a passage published then by
    that too: in the question's vector the date words move it away from passages that answer it
    without naming the year, so an answer dated as asked could look less sure than undated."""
    found = _absolute(question, now) or _relative(question, now)
    if not found:
        return None, question
    period = Period(min(p.start for _, p in found), max(p.end for _, p in found))
    return period, _without(question, [span for span, _ in found])


def _without(question: str, spans: list[tuple[int, int]]) -> str:
    """``question`` less ``spans`` and the word that introduces each ("in", "pada"), or the
    whole question when nothing else is left ("2024?")."""
    kept, at = [], 0
    for start, end in sorted(spans):
        kept.append(re.sub(_INTRODUCED, "", question[at:start], flags=re.IGNORECASE))
        at = max(at, end)
    rest = re.sub(r"\s+(?=[?!.,])", "", " ".join("".join([*kept, question[at:]]).split()))
    return rest if any(ch.isalnum() for ch in rest) else question


def _month_end(year: int, month: int) -> date:
    """The last day of ``month`` (1-12): the day before the next month's first (without
    ``calendar``, which this alone would import into every answering process)."""
    return date(year + month // 12, month % 12 + 1, 1) - timedelta(days=1)


def _day(year: int, month: int, day: int) -> Period | None:
    if not 1 <= month <= 12 or not 1 <= day <= _month_end(year, month).day:
        return None
    return Period(date(year, month, day), date(year, month, day))


def _day_of(m: re.Match[str]) -> Period | None:
    return _day(int(m["y"]), MONTHS[m["m"].lower()], int(m["d"]))


def _iso_day_of(m: re.Match[str]) -> Period | None:
    return _day(int(m["y"]), int(m["mo"]), int(m["d"]))


def _months_of(m: re.Match[str]) -> Period:
    """A month, or months from ``m0`` to it ("December to February 2018" starts in 2017)."""
    year, month = int(m["y"]), MONTHS[m["m"].lower()]
    first = MONTHS[m["m0"].lower()] if m["m0"] else month
    return Period(date(year if first <= month else year - 1, first, 1), _month_end(year, month))


def _decade_of(m: re.Match[str]) -> Period:
    year = int(m["y"])
    return Period(date(year, 1, 1), date(year + 9, 12, 31))


def _years_of(m: re.Match[str]) -> Period | None:
    """A year, or years from ``y0`` ("2017-18" is 2017 to 2018; "2022-06" only 2022); None for a
    lone number that counts something ("the 2000 troops"): a wrong year would reorder answers."""
    if not m["y0"] and _counts(m):
        return None
    first = int(m["y0"] or m["y"])
    last = int(m["y"]) if len(m["y"]) == 4 else first // 100 * 100 + int(m["y"])
    return Period(date(first, 1, 1), date(last if first <= last else first, 12, 31))


def _counts(m: re.Match[str]) -> bool:
    before = m.string[max(0, m.start() - 20) : m.start()]
    after = re.compile(_COUNTED, re.IGNORECASE).match(m.string, m.end())
    counted = after and not re.search(_DATING, before, re.IGNORECASE)
    return bool(counted or re.search(_COUNTING, before, re.IGNORECASE))


_ANY_YEAR = re.compile(r"(?:19|20)\d\d")
"""What every pattern of ``_ABSOLUTE`` holds: a year, or a decade ("1990s"), of modern news."""
_ABSOLUTE: tuple[tuple[str, Callable[[re.Match[str]], Period | None]], ...] = (
    (_ISO_DAY, _iso_day_of),
    (_DAY_MONTH_YEAR, _day_of),
    (_MONTH_DAY_YEAR, _day_of),
    (_MONTH_YEAR, _months_of),
    (_DECADE, _decade_of),
    (_YEAR, _years_of),
)
"""The forms that hold a year, the most precise first: "7 August 2017" is not 2017."""


@functools.cache
def _absolute_patterns() -> tuple[tuple[re.Pattern[str], Callable[[re.Match[str]], Period | None]], ...]:
    """``_ABSOLUTE`` compiled when the first question holding a year comes: most hold none, and
    compiling them at import cost every process that only answers ~3 ms of its cold start."""
    return tuple((re.compile(pattern, re.IGNORECASE), period_of) for pattern, period_of in _ABSOLUTE)


def _absolute(question: str, now: date | None) -> list[tuple[tuple[int, int], Period]]:
    if not _ANY_YEAR.search(question):  # most questions: six patterns not tried (~75 µs on the loop)
        return []
    found: list[tuple[tuple[int, int], Period]] = []
    for pattern, period_of in _absolute_patterns():
        for m in pattern.finditer(question):
            if any(a <= m.start() < b for (a, b), _ in found):
                continue
            period = period_of(m)
            if period is not None:
                before = question[max(0, m.start() - 20) : m.start()]
                found.append((m.span(), _open_ended(before, period, now)))
    return found


def _open_ended(before: str, period: Period, now: date | None) -> Period:
    """``period`` run to ``now`` when the words ``before`` it are "since" / "sejak"."""
    if now is None or not re.search(_SINCE, before, re.IGNORECASE):
        return period
    return Period(period.start, max(period.end, now))


def _relative(question: str, now: date | None) -> list[tuple[tuple[int, int], Period]]:
    if now is None:
        return []
    found: list[tuple[tuple[int, int], Period]] = []
    taken: list[tuple[int, int]] = []
    for m in _WEEKDAY_PAST.finditer(question):  # first: "Jumat kemarin" is last Friday, not yesterday
        if m["pre"] or m["post"]:
            back = (now.weekday() - WEEKDAYS[m["w"].lower()]) % 7 or 7
            found.append((m.span(), Period(now - timedelta(days=back), now - timedelta(days=back))))
            taken.append(m.span())
    for pattern, what in _RELATIVE_RE:  # longer phrases first: "kemarin lusa" is not "kemarin"
        for m in pattern.finditer(question):
            if not any(a < m.end() and m.start() < b for a, b in taken):
                found.append((m.span(), _relative_period(what, now)))
                taken.append(m.span())
    for m in _DAYS_AGO.finditer(question):
        day = now - timedelta(days=int(m["n"]))
        found.append((m.span(), Period(day, day)))
    for m in _MONTH_ALONE.finditer(question):
        month = MONTHS[m["m"].lower()]
        year = now.year if month <= now.month else now.year - 1
        since = m["pre"].lower() in ("since", "sejak")
        found.append((m.span(), Period(date(year, month, 1), now if since else _month_end(year, month))))
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
        last = _month_end(year, month)
        return Period(date(year, month, 1), min(last, now))
    return Period(date(now.year - n, 1, 1), min(date(now.year - n, 12, 31), now))
