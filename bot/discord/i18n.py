"""The bot's words in English and Indonesian: one gettext catalogue per language, read at runtime.

``locales/<lang>.po`` holds every text the bot writes itself (replies, refusals, captions, status
messages, alert headers, command names and descriptions), keyed by a dotted id (``ask.busy``);
placeholders are ``str.format`` fields (``{seconds}``). ``Texts`` is one language's view of them,
with dates and language names from Babel's CLDR data ("31 Jan 2023" / "31 Januari 2023").

Which language: an interaction's own locale (the user's client), then the server's locale, then
English (``for_interaction``); messages and alerts, which have no user locale, use the server's.
A key missing in a language falls back to English; a key missing in English is a bug
(``KeyError``), and ``tests/bot/discord/test_i18n.py`` fails for either.
"""

from __future__ import annotations

import string
from collections.abc import Iterable
from datetime import date
from functools import cache
from importlib import resources
from typing import Any

import discord
from babel import Locale
from babel.dates import format_date
from babel.messages.pofile import read_po
from babel.numbers import format_decimal
from foreign_desk.bot.render_text import language_name

LANGUAGES = ("en", "id")
DEFAULT = "en"


@cache
def catalogue(language: str) -> dict[str, str]:
    """Key → text of ``locales/<language>.po`` (untranslated entries left out)."""
    source = resources.files(__package__).joinpath("locales", f"{language}.po")
    with source.open("rb") as handle:
        po = read_po(handle, locale=language)
    return {str(m.id): str(m.string) for m in po if m.id and m.string}


def placeholders(text: str) -> set[str]:
    """The ``str.format`` field names in ``text``."""
    return {field for _, field, _, _ in string.Formatter().parse(text) if field}


def language_of(locales: Iterable[str | discord.Locale | None]) -> str:
    """The first of ``locales`` the bot speaks ("id", "en-GB" → "en"), else English."""
    for locale in locales:
        if locale is None:
            continue
        code = str(getattr(locale, "value", locale)).split("-")[0].lower()
        if code in LANGUAGES:
            return code
    return DEFAULT


class Texts:
    """One language's texts: ``tx("ask.busy")``, ``tx("ask.cooldown", seconds=5)``, ``tx.date(...)``."""

    def __init__(self, language: str) -> None:
        self.language = language
        self.locale = Locale.parse(language)
        self._own = catalogue(language)
        self._english = catalogue(DEFAULT)

    def __call__(self, key: str, /, **params: Any) -> str:
        text = self._own.get(key) or self._english[key]
        return text.format(**params) if params else text

    def get(self, key: str, default: str) -> str:
        """The text of ``key``, or ``default`` for keys made from engine values (phases, units)."""
        return self._own.get(key) or self._english.get(key) or default

    def plural(self, key: str, count: int, /, **params: Any) -> str:
        """``key.one`` for 1, else ``key.other``, with ``{n}`` set to ``count``."""
        return self(f"{key}.{'one' if count == 1 else 'other'}", n=count, **params)

    def date(self, published: str | None) -> str | None:
        """``2023-01-31`` (or a timestamp starting so) → "31 Jan 2023" / "31 Januari 2023"."""
        if not published or len(published) < 10:
            return published or None
        try:
            day = date.fromisoformat(published[:10])
        except ValueError:
            return published[:10]
        return format_date(day, self("format.date"), locale=self.locale)

    def decimal(self, value: float) -> str:
        """3.25 → "3.2" in English, "3,2" in Indonesian, whose decimal mark is a comma (a point
        there groups thousands: "3.2 detik" reads as a typo)."""
        return format_decimal(value, format="#,##0.0", locale=self.locale)

    def language_name(self, code: str) -> str:
        """ "id" → "Indonesian" in English, "Indonesia" in Indonesian; unknown codes as they are."""
        return language_name(code, self.locale)


@cache
def texts(language: str = DEFAULT) -> Texts:
    return Texts(language if language in LANGUAGES else DEFAULT)


EN = texts(DEFAULT)


def for_interaction(interaction: discord.Interaction) -> Texts:
    """The user's language, then the server's, then English."""
    return texts(language_of((interaction.locale, interaction.guild_locale)))


def for_guild(guild: discord.Guild | None, written_in: str | None = None) -> Texts:
    """The language a message was ``written_in`` when the bot speaks it (a message carries no
    user locale), then the server's ("preferred locale", set by its managers), else English."""
    return texts(language_of((written_in, guild.preferred_locale if guild is not None else None)))
