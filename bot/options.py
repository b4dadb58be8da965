"""Parsing what users type into engine values; shared by the CLI and the Discord commands."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

from foreign_desk.index.errors import ForeignDeskError
from foreign_desk.index.models import Filters

_RELATIVE = re.compile(r"^\s*(\d+)\s*([dwmy])\s*$", re.IGNORECASE)
_UNIT_DAYS = {"d": 1, "w": 7, "m": 30, "y": 365}


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
    → ``YYYY-MM-DD`` (UTC)."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    rel = _RELATIVE.match(text)
    if rel:
        today = today or datetime.now(UTC).date()
        return (today - timedelta(days=int(rel.group(1)) * _UNIT_DAYS[rel.group(2).lower()])).isoformat()
    try:
        return date.fromisoformat(text[:10]).isoformat()
    except ValueError:
        raise BadOption(
            f"not a date: {value!r} (use YYYY-MM-DD, or 7d, 2w, 3m, 1y for 'since then')",
            "error.bad_date",
            value=repr(value),
        ) from None


def make_filters(
    language: str | None = None, source: str | None = None, since: str | None = None, until: str | None = None
) -> Filters:
    lang = language.strip().lower() if language and language.strip() else None
    if lang is not None and not re.fullmatch(r"[a-z]{2,3}", lang):
        raise BadOption(
            f"not a language code: {language!r} (use two letters such as en or id)",
            "error.bad_language",
            value=repr(language),
        )
    return Filters(
        language=lang,
        source=source.strip() if source and source.strip() else None,
        since=parse_day(since),
        until=parse_day(until),
    )
