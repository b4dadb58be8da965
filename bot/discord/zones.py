"""A server's time zone: the day that "yesterday", "kemarin", "last week" and ``since:7d`` count from.

Discord does not tell a user's time zone (the CLI counts from its user's own day), so each server
has one: the IANA zone an admin set (``/admin timezone``), kept in ``discord.sqlite3`` and read on
every question (another process may have set it), else ``Asia/Jakarta`` for a server whose
preferred locale is Indonesian and UTC for any other. DMs count in UTC. An admin clears the zone
with the word for "default" (``zone.default_word``: "default", "bawaan"). A stored zone this host
no longer knows (its tz data changed) counts as the default, with one warning a process.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, date, datetime, tzinfo
from functools import cache
from typing import TYPE_CHECKING, NamedTuple
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

import discord

from .errors import Refusal
from .i18n import LANGUAGES, Texts, language_of

if TYPE_CHECKING:
    from .answers import AnswerStore
    from .client import ForeignDeskBot

DEFAULT_ZONES = {"id": "Asia/Jakarta"}
"""A server's zone by its language when no admin set one; any other language: UTC."""
CHOICES_MAX = 25
"""Discord shows at most 25 autocomplete choices."""
_loaded: dict[str, tzinfo | None] = {"UTC": UTC}
"""Zones read so far; None for a name this host does not know (warned about once)."""

log = logging.getLogger(__name__)


class ServerZone(NamedTuple):
    """The zone a server counts days in, and the one an admin set (None: its language's default;
    another name than ``name``: a zone this host does not know, so the default is used)."""

    name: str
    stored: str | None
    tz: tzinfo

    def today(self, now: datetime) -> date:
        return now.astimezone(self.tz).date()


@cache
def default_words() -> frozenset[str]:
    """The words that clear a server's zone, in every language the bot speaks."""
    return frozenset(Texts(language)("zone.default_word").lower() for language in LANGUAGES)


def is_default(typed: str) -> bool:
    return typed.strip().lower() in default_words()


@cache
def zone_names() -> dict[str, str]:
    """Lower-cased IANA name → name, of every zone this host knows (reads the disk once)."""
    return {name.lower(): name for name in available_timezones()}


async def zone_named(name: str) -> str:
    """The IANA zone ``name`` spells in any case ("asia/jakarta" → "Asia/Jakarta"), else a Refusal."""
    found = (await asyncio.to_thread(zone_names)).get(name.strip().lower())
    if found is None:
        raise Refusal("zone.unknown", zone=name.strip()[:64])
    return found


async def zone_choices(current: str) -> list[str]:
    """The zones whose names contain ``current`` (any case), for autocomplete."""
    names = await asyncio.to_thread(zone_names)
    typed = current.strip().lower()
    return sorted(name for key, name in names.items() if typed in key)[:CHOICES_MAX]


async def _load(name: str) -> tzinfo | None:
    """The zone ``name``, read off the loop once a process; None, with one warning, when this host
    does not know it (its tz data changed since an admin chose it)."""
    if name in _loaded:
        return _loaded[name]
    try:
        found: tzinfo | None = await asyncio.to_thread(ZoneInfo, name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        found = None
        if name not in _loaded:
            log.warning(
                "time zone %r is unknown to this host: servers that chose it count in their default", name
            )
    return _loaded.setdefault(name, found)


async def server_zone(store: AnswerStore, guild_id: int, locale: str | discord.Locale | None) -> ServerZone:
    """The server's zone: the one an admin set when this host knows it, else its language's."""
    return await zone_of(await store.server_zone(guild_id), locale)


async def zone_of(stored: str | None, locale: str | discord.Locale | None) -> ServerZone:
    """The zone of a server whose admin set ``stored`` (None: none): that one when this host knows
    it, else its language's."""
    tz = None if stored is None else await _load(stored)
    if stored is not None and tz is not None:
        return ServerZone(stored, stored, tz)
    name = DEFAULT_ZONES.get(language_of((locale,)), "UTC")
    tz = await _load(name)
    assert tz is not None  # the defaults ship with tzdata
    return ServerZone(name, stored, tz)


async def _today(bot: ForeignDeskBot, guild_id: int | None, locale: str | discord.Locale | None) -> date:
    if guild_id is None:
        return bot.clock().astimezone(UTC).date()
    return (await server_zone(bot.answers, guild_id, locale)).today(bot.clock())


async def today_of(bot: ForeignDeskBot, interaction: discord.Interaction) -> date:
    """The asker's day: in the zone of the server the interaction came from, in a DM UTC's."""
    return await _today(bot, interaction.guild_id, interaction.guild_locale)


async def today_of_message(bot: ForeignDeskBot, message: discord.Message) -> date:
    """The asker's day: in the zone of the message's server, in a DM UTC's."""
    guild = message.guild
    return await _today(bot, guild.id if guild else None, guild.preferred_locale if guild else None)
