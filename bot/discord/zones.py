"""A server's time zone: the day that "yesterday", "kemarin", "last week" and ``since:7d`` count from.

Discord does not tell a user's time zone (the CLI counts from its user's own day), so each server
has one: the IANA zone an admin set (``/admin timezone``), kept in ``discord.sqlite3`` and read on
every question (another process may have set it), else ``Asia/Jakarta`` for a server whose
preferred locale is Indonesian and UTC for any other. DMs count in UTC.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, tzinfo
from functools import cache
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo, available_timezones

import discord

from .errors import Refusal
from .i18n import language_of

if TYPE_CHECKING:
    from .answers import AnswerStore
    from .client import ForeignDeskBot

DEFAULT_ZONES = {"id": "Asia/Jakarta"}
"""A server's zone by its language when no admin set one; any other language: UTC."""
CHOICES_MAX = 25
"""Discord shows at most 25 autocomplete choices."""
_loaded: dict[str, tzinfo] = {"UTC": UTC}


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


async def server_zone(
    store: AnswerStore, guild_id: int, locale: str | discord.Locale | None
) -> tuple[str, bool]:
    """The server's zone, and whether an admin set it (else it is its language's default)."""
    stored = await store.server_zone(guild_id)
    if stored is not None:
        return stored, True
    return DEFAULT_ZONES.get(language_of((locale,)), "UTC"), False


async def day_in(zone: str, now: datetime) -> date:
    """The calendar day in ``zone`` at ``now``; a zone's file is read off the loop, once."""
    if zone not in _loaded:
        _loaded[zone] = await asyncio.to_thread(ZoneInfo, zone)
    return now.astimezone(_loaded[zone]).date()


async def _today(bot: ForeignDeskBot, guild_id: int | None, locale: str | discord.Locale | None) -> date:
    zone = "UTC" if guild_id is None else (await server_zone(bot.answers, guild_id, locale))[0]
    return await day_in(zone, bot.clock())


async def today_of(bot: ForeignDeskBot, interaction: discord.Interaction) -> date:
    """The asker's day: in the zone of the server the interaction came from, in a DM UTC's."""
    return await _today(bot, interaction.guild_id, interaction.guild_locale)


async def today_of_message(bot: ForeignDeskBot, message: discord.Message) -> date:
    """The asker's day: in the zone of the message's server, in a DM UTC's."""
    guild = message.guild
    return await _today(bot, guild.id if guild else None, guild.preferred_locale if guild else None)
