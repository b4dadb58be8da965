"""The servers the bot joins and leaves: when it is removed from one, its follows stop at once
(with a log line; /following lists them for a week should it come back) and the server is
marked departed, so that its own feeds and articles are forgotten ``discord.forget_after_days``
later (``housekeeping``) unless the bot comes back. A removal while no process was connected
shows on the next READY: the server is missing.
A server's locale is kept with its follows (on update and when it becomes available), so that
the process posting its alerts, which may not run its shard, writes them in its language."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import discord
from discord.ext import commands

if TYPE_CHECKING:
    from ..client import ForeignDeskBot

log = logging.getLogger(__name__)


class ServersCog(commands.Cog):
    def __init__(self, bot: ForeignDeskBot) -> None:
        self.bot = bot

    @commands.Cog.listener()
    async def on_guild_remove(self, guild: discord.Guild) -> None:
        """Removed from a server (kicked, or the server deleted)."""
        await self._removed(guild.id)

    @commands.Cog.listener()
    async def on_ready(self) -> None:
        """Servers of this process's shards that removed the bot while no process was connected:
        Discord says so only by leaving them out of READY."""
        present = {g.id for g in self.bot.guilds}  # unavailable ones (an outage) included
        count = self.bot.shard_count or 1
        shards = set(self.bot.shard_ids or range(count))
        known = await self.bot.feeds.known_servers() | await self.bot.answers.servers()
        for guild_id in sorted(known - present):
            if (guild_id >> 22) % count in shards:
                await self._removed(guild_id)

    async def _removed(self, guild_id: int) -> None:
        feeds = self.bot.feeds
        follows = await feeds.drop_follows("removed", guild_id=guild_id)
        await feeds.server_left(guild_id)
        days = self.bot.bot_settings.forget_after_days
        log.info(
            "removed from server %s: stopped its %d follow(s); its own feeds and articles are kept %g days",
            guild_id,
            len(follows),
            days,
        )

    @commands.Cog.listener()
    async def on_guild_join(self, guild: discord.Guild) -> None:
        await self._present(guild)

    @commands.Cog.listener()
    async def on_guild_available(self, guild: discord.Guild) -> None:
        await self._present(guild)

    @commands.Cog.listener()
    async def on_guild_update(self, before: discord.Guild, after: discord.Guild) -> None:
        if before.preferred_locale != after.preferred_locale:
            await self._locale(after)

    async def _present(self, guild: discord.Guild) -> None:
        if await self.bot.feeds.server_back(guild.id):
            log.info("back in server %s: its own feeds and articles are kept", guild.id)
        await self._locale(guild)  # it may have changed while no process was connected

    async def _locale(self, guild: discord.Guild) -> None:
        """Alerts are in the server's language whichever process posts them: its follows keep it."""
        if await self.bot.feeds.server_locale(guild.id, str(guild.preferred_locale)):
            log.info("server %s now speaks %s: its alerts follow", guild.id, guild.preferred_locale)
