"""Parsing what users type into engine values; shared by the CLI and the Discord commands."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

from foreign_desk.index.errors import ForeignDeskError
from foreign_desk.index.lang import language_code
from foreign_desk.index.models import Filters

_RELATIVE = re.compile(r"^\s*(\d+)\s*([dwmy])\s*$", re.IGNORECASE)
_UNIT_DAYS = {"d": 1, "w": 7, "m": 30, "y": 365}
MAX_DAYS_BACK = 200 * 365
"""``--since 99999999d`` reaches before year 1: relative dates go back at most 200 years."""


class BadOption(ForeignDeskError):
    """A value a user typed cannot be understood.

    ``key`` and ``params`` name the Discord catalogue's text for it (``bot/discord/locales``), so
    a chat user reads it in their language; ``str()`` is the English text the CLI prints.
    """

    def __init__(self, message: str, key: str, **params: str) -> None:
        super().__init__(message)
        self.key = key
        self.params = params


def parse_day(value: str | None, *, today: date | None = None) -> str | None:
    """``2023-01-31``, a full ISO timestamp, or a relative ``7d`` / ``2w`` / ``3m`` / ``1y``
    → ``YYYY-MM-DD``; relative days count back from ``today``, by default the UTC day (the CLI
    passes its user's local day, Discord the server's: ``bot/discord/zones``)."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    rel = _RELATIVE.match(text)
    if rel:
        today = today or datetime.now(UTC).date()
        digits = rel.group(1).lstrip("0") or "0"
        days = int(digits) * _UNIT_DAYS[rel.group(2).lower()] if len(digits) <= 9 else MAX_DAYS_BACK + 1
        if days > MAX_DAYS_BACK:
            raise BadOption(
                f"{value[:40]!r} reaches too far back (at most 200 years: 200y, or a date)",
                "error.date_too_far",
                value=repr(value[:40]),
            )
        return (today - timedelta(days=days)).isoformat()
    try:
        return date.fromisoformat(text[:10]).isoformat()
    except ValueError:
        raise BadOption(
            f"not a date: {value[:40]!r} (use YYYY-MM-DD, or 7d, 2w, 3m, 1y for 'since then')",
            "error.bad_date",
            value=repr(value[:40]),
        ) from None


class NotUTF8(ForeignDeskError):
    """A command-line argument holds bytes that are not UTF-8 (the terminal's encoding)."""


def require_utf8(args: list[str]) -> None:
    """``NotUTF8`` naming the first argument that is not UTF-8 text.

    Python hands such bytes over as lone surrogates, which fail later, deep inside SQLite or
    the embedder, with a traceback; a terminal set to another encoding is the usual cause."""
    for number, arg in enumerate(args, 1):
        try:
            arg.encode("utf-8")
        except UnicodeEncodeError:
            shown = arg[:60].encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
            shown = "".join(c if c.isprintable() else repr(c)[1:-1] for c in shown)  # one line
            raise NotUTF8(
                f"argument {number} ('{shown}') is not UTF-8 text; check the terminal's encoding"
            ) from None


def language_option(value: str | None) -> str | None:
    """A language a user typed (``ask --lang``, ``feeds add --lang``, their Discord options) as
    its code, or ``BadOption`` for text that is none (``english``): ``index.lang.language_code``."""
    try:
        return language_code(value)
    except ValueError as exc:
        raise BadOption(str(exc), "error.bad_language", value=repr((value or "")[:20])) from None


def make_filters(
    language: str | None = None,
    source: str | None = None,
    since: str | None = None,
    until: str | None = None,
    *,
    today: date | None = None,
) -> Filters:
    lang = language_option(language)
    first, last = parse_day(since, today=today), parse_day(until, today=today)
    if first and last and first > last:  # else "nothing answers that", as if the corpus lacked it
        raise BadOption(
            f"--since {first} is after --until {last}: no article can be published in between",
            "error.empty_period",
            since=first,
            until=last,
        )
    source = source.strip() if source and source.strip() else None
    return Filters(language=lang, source=source, since=first, until=last)
