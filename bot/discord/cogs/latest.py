"""/latest and /sources: what is in the corpus, newest first."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from ..i18n import for_interaction
from ..limits import plain_words
from ..reach import anywhere
from ..render import latest_embed, sources_embed
from ..replies import NO_PINGS, defer_public
from ..scopes import scope_of
from ..translator import L

if TYPE_CHECKING:
    from ..client import ForeignDeskBot


class LatestCog(commands.Cog):
    def __init__(self, bot: ForeignDeskBot) -> None:
        self.bot = bot

    @app_commands.command(name=L("command.latest.name"), description=L("command.latest.description"))
    @anywhere
    @app_commands.rename(
        topic=L("command.latest.topic.name"),
        source=L("command.latest.source.name"),
        count=L("command.latest.count.name"),
    )
    @app_commands.describe(
        topic=L("command.latest.topic.description"),
        source=L("command.latest.source.description"),
        count=L("command.latest.count.description"),
    )
    async def latest(
        self,
        interaction: discord.Interaction,
        topic: app_commands.Range[str, 2, 100] | None = None,
        source: app_commands.Range[str, 1, 100] | None = None,
        count: app_commands.Range[int, 1, 10] = 5,
    ) -> None:
        """The newest articles in the corpus with their lede; with a topic, only those about it."""
        source = source.strip() if source and source.strip() else None
        topic = plain_words(topic or "") or None
        if topic:  # a search, as a question is: checked, then the asker's cooldown
            self.bot.desk.check_topic(topic)
            await self.bot.desk.charge(interaction.user.id)
        await defer_public(interaction)
        items = await self.bot.desk.latest(count, source=source, topic=topic, scope=scope_of(interaction))
        embed = latest_embed(items, source, topic, for_interaction(interaction))
        await interaction.edit_original_response(embed=embed, allowed_mentions=NO_PINGS)

    @latest.autocomplete("source")
    async def _source(self, interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
        return await self.bot.catalog.source_choices(current, scope_of(interaction))

    @app_commands.command(name=L("command.sources.name"), description=L("command.sources.description"))
    @anywhere
    async def sources(self, interaction: discord.Interaction) -> None:
        """The outlets in the corpus, with article counts and latest dates."""
        await defer_public(interaction)
        found = await self.bot.engine.sources(scope=scope_of(interaction))
        embed = sources_embed(found, for_interaction(interaction))
        await interaction.edit_original_response(embed=embed, allowed_mentions=NO_PINGS)
