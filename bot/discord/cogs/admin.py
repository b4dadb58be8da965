"""/admin reindex and /admin stats (and, from ``cogs.feeds``, /admin feeds, fetch and ingest), for
members who can manage the server (or configured admins).

Discord hides /admin from members without Manage Server (``default_permissions``), but server
owners can change that in their integration settings, so the check is made again at run time;
the configured admin roles and users pass it too. Refusals are ephemeral.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from ..errors import Refusal
from ..i18n import for_interaction
from ..permissions import is_admin
from ..reach import in_servers
from ..render import failure_text, report_text, stats_embed
from ..replies import NO_PINGS, defer_private
from ..status import Handoff, StatusMessage
from ..translator import L
from .feeds import FeedCommands

if TYPE_CHECKING:
    from ..client import ForeignDeskBot

log = logging.getLogger(__name__)


@app_commands.default_permissions(manage_guild=True)
@in_servers
class AdminCog(
    FeedCommands,
    commands.GroupCog,
    group_name=L("command.admin.name"),
    group_description=L("command.admin.description"),
):
    def __init__(self, bot: ForeignDeskBot) -> None:
        self.bot = bot
        self.running: asyncio.Task[Any] | None = None
        self.fetching: asyncio.Task[Any] | None = None
        super().__init__()

    async def interaction_check(self, interaction: discord.Interaction) -> bool:  # type: ignore[override]
        if interaction.guild_id is None:
            raise Refusal("admin.server_only")
        if not is_admin(interaction, self.bot.bot_settings):
            raise Refusal("admin.not_admin")
        return True

    @app_commands.command(
        name=L("command.admin.reindex.name"), description=L("command.admin.reindex.description")
    )
    @app_commands.rename(full=L("command.admin.reindex.full.name"))
    @app_commands.describe(full=L("command.admin.reindex.full.description"))
    async def reindex(self, interaction: discord.Interaction, full: bool = False) -> None:
        """Reindex the corpus while the bot keeps answering; progress is shown here."""
        if (self.running is not None and not self.running.done()) or self.bot.engine.indexing:
            raise Refusal("reindex.already")
        await defer_private(interaction)
        tx = for_interaction(interaction)
        settings = self.bot.bot_settings
        status = StatusMessage(
            interaction.edit_original_response,
            interval_s=settings.status_edit_interval_s,
            full=full,
            tx=tx,
            handoff=Handoff(interaction, after_s=settings.handoff_after_s, what="reindex", tx=tx),
        )
        paths = self.bot.bot_settings.reindex_paths or None
        self.running = self.bot.spawn(self.bot.engine.index(paths, full=full, progress=status), "reindex")
        try:
            report = await status.follow(self.running, lambda message: failure_text(message, tx))
        finally:
            self.bot.catalog.forget()
        if report is None:
            return
        log.info("reindex by user %s finished: generation %d", interaction.user.id, report.generation)
        await status.finish(report_text(report, tx))

    @app_commands.command(
        name=L("command.admin.stats.name"), description=L("command.admin.stats.description")
    )
    async def stats(self, interaction: discord.Interaction) -> None:
        """What is indexed: articles, passages, languages, sources, index type, embedder, size."""
        await defer_private(interaction)
        data = await self.bot.engine.stats()
        embed = stats_embed(data, for_interaction(interaction))
        await interaction.edit_original_response(embed=embed, allowed_mentions=NO_PINGS)
