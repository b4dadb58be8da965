"""The quick-start from the package docstring, verbatim, so the documentation stays true."""

from __future__ import annotations

from typing import Any

import discord
from discord.ext import commands

from .server import DiscordStandin


async def test_ask(standin: DiscordStandin, client_options: dict[str, Any]):
    bot = commands.Bot(command_prefix="!", intents=discord.Intents.default(), **client_options)

    @bot.tree.command()
    async def ask(interaction: discord.Interaction, question: str) -> None:
        """Ask the desk a question."""
        await interaction.response.defer(thinking=True)
        await interaction.followup.send(f"You asked: {question}")

    async with standin.run_client(bot):
        ix = await standin.send_slash_command("ask", {"question": "Who chairs the UNSC?"})
        reply = await ix.wait_for_reply(timeout=5)

    assert reply.content == "You asked: Who chairs the UNSC?"
    assert ix.callback_type == 5 and not reply.ephemeral
    standin.assert_no_pings()
