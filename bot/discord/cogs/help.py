"""/help: what the desk knows (outlets, languages, how many articles, the newest date), three
questions to try from the current corpus, and what each command does, in the reader's language."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from ..i18n import Texts, for_interaction
from ..reach import anywhere
from ..render_help import CommandLine, Knowledge, example_questions, help_embed
from ..replies import NO_PINGS, defer_private
from ..scopes import scope_of
from ..translator import L

if TYPE_CHECKING:
    from ..client import ForeignDeskBot

RECENT = 30
"""Newest articles the example questions are drawn from."""


class HelpCog(commands.Cog):
    def __init__(self, bot: ForeignDeskBot) -> None:
        self.bot = bot

    @app_commands.command(name=L("command.help.name"), description=L("command.help.description"))
    @anywhere
    async def help(self, interaction: discord.Interaction) -> None:
        """What the bot knows and how to ask it."""
        await defer_private(interaction)
        tx = for_interaction(interaction)
        engine = self.bot.engine
        scope = scope_of(interaction)  # a server's /help counts its own articles, never another's
        known = Knowledge(await engine.sources(scope=scope), await engine.languages(scope=scope))
        examples = example_questions(await engine.latest(RECENT, scope=scope), tx)
        name = self.bot.user.display_name if self.bot.user else "Foreign Desk"
        embed = help_embed(known, examples, self.command_lines(tx), tx, name)
        await interaction.edit_original_response(embed=embed, allowed_mentions=NO_PINGS)

    def command_lines(self, tx: Texts) -> list[CommandLine]:
        """The slash commands in the reader's language; those Discord hides from members without a
        permission (``default_permissions``) are for managers."""
        lines = []
        for command in self.bot.tree.get_commands(type=discord.AppCommandType.chat_input):
            name = tx.get(f"command.{command.name}.name", command.name)
            description = tx.get(f"command.{command.name}.description", getattr(command, "description", ""))
            lines.append(CommandLine(name, description, command.default_permissions is not None))
        return lines
