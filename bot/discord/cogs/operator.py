"""/operator: the bot's operators run the shared corpus every server sees: reindex it, manage
the shared feeds (``cogs.feeds``), ingest pages into it, read the full statistics.

Operators are the application's owner or team (``operators``) and ``discord.admin_user_ids``;
the check is made on every use. The group is registered only on the servers in
``discord.operator_guild_ids`` (none by default: the CLI does all of this too), so no other
server's members ever see it. Refusals are ephemeral.
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
class OperatorCog(
    FeedCommands,
    commands.GroupCog,
    group_name=L("command.operator.name"),
    group_description=L("command.operator.description"),
):
    def __init__(self, bot: ForeignDeskBot) -> None:
        self.bot = bot
        self.running: asyncio.Task[Any] | None = None
        self.fetching = {}
        super().__init__()

    def scope(self, interaction: discord.Interaction) -> int | None:
        return None  # the shared corpus

    async def allowed(self, interaction: discord.Interaction) -> bool:
        return await self.bot.operators.check(interaction.user.id)

    async def interaction_check(self, interaction: discord.Interaction) -> bool:  # type: ignore[override]
        if not await self.allowed(interaction):
            raise Refusal("operator.not_operator")
        return True

    @app_commands.command(
        name=L("command.operator.reindex.name"), description=L("command.operator.reindex.description")
    )
    @app_commands.rename(
        full=L("command.operator.reindex.full.name"), prune=L("command.operator.reindex.prune.name")
    )
    @app_commands.describe(
        full=L("command.operator.reindex.full.description"),
        prune=L("command.operator.reindex.prune.description"),
    )
    async def reindex(
        self, interaction: discord.Interaction, full: bool = False, prune: bool = False
    ) -> None:
        """Reindex the shared corpus while the bot keeps answering; progress is shown here.
        Articles whose files are gone stay unless ``prune`` (an unmounted drive removes nothing)."""
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
            host=True,  # the operators read the host's own failures in full
            handoff=Handoff(
                interaction,
                after_s=settings.handoff_after_s,
                retry_s=settings.handoff_retry_s,
                what="reindex",
                tx=tx,
            ),
        )
        paths = settings.reindex_paths or None
        job = self.bot.engine.index(paths, full=full, prune=prune, progress=status)
        stopped = lambda: status.interrupted(tx("reindex.interrupted"))  # noqa: E731
        self.running = self.bot.spawn(job, "reindex", on_stop=stopped)
        try:
            report = await status.follow(self.running, lambda message: failure_text(message, tx))
        finally:
            self.bot.catalog.forget()
        if report is None:
            return
        log.info("reindex by user %s finished: generation %d", interaction.user.id, report.generation)
        await status.finish(report_text(report, tx))

    @app_commands.command(
        name=L("command.operator.stats.name"), description=L("command.operator.stats.description")
    )
    async def stats(self, interaction: discord.Interaction) -> None:
        """Everything indexed, with the index type, the embedder, the size and the data folder."""
        await defer_private(interaction)
        data = await self.bot.engine.stats()
        embed = stats_embed(data, for_interaction(interaction))
        await interaction.edit_original_response(embed=embed, allowed_mentions=NO_PINGS)
