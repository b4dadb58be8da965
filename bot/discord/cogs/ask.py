"""/ask: parse, defer within Discord's 3 seconds, one engine call, render."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands
from foreign_desk.bot.options import make_filters

from ..replies import defer_public
from ..settings import QUESTION_CEILING
from ..views import Reply

if TYPE_CHECKING:
    from ..client import ForeignDeskBot


class AskCog(commands.Cog):
    def __init__(self, bot: ForeignDeskBot) -> None:
        self.bot = bot

    @app_commands.command(name="ask")
    @app_commands.describe(
        question="What you want to know, in English or Indonesian",
        language="Only articles in this language (en, id)",
        source="Only articles from this outlet",
        since="Only articles published since this day: YYYY-MM-DD, or 7d, 2w, 3m, 1y",
    )
    async def ask(
        self,
        interaction: discord.Interaction,
        question: app_commands.Range[str, 1, QUESTION_CEILING],
        language: app_commands.Range[str, 1, 10] | None = None,
        source: app_commands.Range[str, 1, 100] | None = None,
        since: app_commands.Range[str, 1, 30] | None = None,
    ) -> None:
        """Ask the news desk a foreign-affairs question; get cited passages."""
        filters = make_filters(language, source, since)
        desk = self.bot.desk
        question = desk.admit(interaction.user.id, question)
        await defer_public(interaction)
        answer = await desk.answer(question, filters)
        await Reply(desk, answer, asker_id=interaction.user.id, filters=filters).edit_into(interaction)

    @ask.autocomplete("source")
    async def _source(self, interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
        return await self.bot.catalog.source_choices(current)

    @ask.autocomplete("language")
    async def _language(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return await self.bot.catalog.language_choices(current)
