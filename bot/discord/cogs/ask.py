"""/ask: parse, defer within Discord's 3 seconds (privately with ``private:True``), one engine call,
render."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands
from foreign_desk.bot.options import make_filters

from ..i18n import for_interaction
from ..reach import anywhere
from ..replies import defer_private, defer_public
from ..scopes import scope_of
from ..settings import QUESTION_CEILING
from ..translator import L
from ..views import compose, translation_target
from ..zones import today_of

if TYPE_CHECKING:
    from ..client import ForeignDeskBot


class AskCog(commands.Cog):
    def __init__(self, bot: ForeignDeskBot) -> None:
        self.bot = bot

    @app_commands.command(name=L("command.ask.name"), description=L("command.ask.description"))
    @anywhere
    @app_commands.rename(
        question=L("command.ask.question.name"),
        language=L("command.ask.language.name"),
        source=L("command.ask.source.name"),
        since=L("command.ask.since.name"),
        private=L("command.ask.private.name"),
    )
    @app_commands.describe(
        question=L("command.ask.question.description"),
        language=L("command.ask.language.description"),
        source=L("command.ask.source.description"),
        since=L("command.ask.since.description"),
        private=L("command.ask.private.description"),
    )
    async def ask(
        self,
        interaction: discord.Interaction,
        question: app_commands.Range[str, 1, QUESTION_CEILING],
        language: app_commands.Range[str, 1, 10] | None = None,
        source: app_commands.Range[str, 1, 100] | None = None,
        since: app_commands.Range[str, 1, 30] | None = None,
        private: bool = False,
    ) -> None:
        """Ask the news desk a foreign-affairs question; get cited passages."""
        make_filters(language, source, since)  # a value that cannot be read is refused first
        desk = self.bot.desk
        question = await desk.admit(interaction.user.id, question)
        await (defer_private if private else defer_public)(interaction)
        # The server's day (since:7d, "yesterday"), read once acknowledged: the store's connection
        # may be waiting for another process's write lock.
        day = await today_of(self.bot, interaction)
        filters = make_filters(language, source, since, today=day)
        answer = await desk.answer(question, filters, scope=scope_of(interaction), now=day)
        tx, target = for_interaction(interaction), translation_target(interaction)
        reply = await compose(
            self.bot,
            answer,
            asker_id=interaction.user.id,
            tx=tx,
            target=target,
            filters=filters,
            asked=question,
        )
        await reply.edit_into(interaction)

    @ask.autocomplete("source")
    async def _source(self, interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
        return await self.bot.catalog.source_choices(current, scope_of(interaction))

    @ask.autocomplete("language")
    async def _language(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return await self.bot.catalog.language_choices(current, scope_of(interaction))
