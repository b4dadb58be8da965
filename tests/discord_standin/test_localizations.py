"""The stand-in keeps the localizations a bot syncs, checks them like Discord, and lets a user of a
locale invoke a command by its localized names."""

from __future__ import annotations

import asyncio
from typing import Any

import discord
import pytest
from discord import app_commands
from discord.ext import commands

from tests.discord_standin import DiscordStandin

INDONESIAN = {
    "ask": "tanya",
    "Ask the desk.": "Tanyakan.",
    "question": "pertanyaan",
    "What to ask": "Pertanyaannya",
}


class Translator(app_commands.Translator):
    def __init__(self, table: dict[str, str]) -> None:
        self.table = table

    async def translate(
        self, string: app_commands.locale_str, locale: discord.Locale, context: Any
    ) -> str | None:
        return self.table.get(string.message) if locale is discord.Locale.indonesian else None


def make_bot(client_options: dict[str, Any], table: dict[str, str]) -> commands.Bot:
    bot = commands.Bot(command_prefix="!", intents=discord.Intents.default(), **client_options)

    @bot.tree.command(name="ask", description="Ask the desk.")
    @app_commands.describe(question="What to ask")
    async def ask(interaction: discord.Interaction, question: str) -> None:
        await interaction.response.send_message(f"{interaction.locale.value}: {question}")

    async def setup_hook() -> None:
        await bot.tree.set_translator(Translator(table))

    bot.setup_hook = setup_hook  # type: ignore[method-assign]
    return bot


async def test_localizations_are_kept_and_used_by_users_of_that_locale(
    standin: DiscordStandin, client_options: dict[str, Any]
):
    async with asyncio.timeout(30), standin.run_client(make_bot(client_options, INDONESIAN)) as bot:
        await bot.tree.sync()
        (ask,) = standin.commands.global_commands
        ix = await standin.send_slash_command("tanya", {"pertanyaan": "siapa?"}, locale="id")
        reply = await ix.wait_for_reply()
    assert ask["name_localizations"] == {"id": "tanya"}
    assert ask["options"][0]["description_localizations"] == {"id": "Pertanyaannya"}
    (seen,) = standin.commands.seen_by("id")
    assert (seen["name"], seen["description"], seen["options"][0]["name"]) == (
        "tanya",
        "Tanyakan.",
        "pertanyaan",
    )
    assert standin.commands.seen_by("fr")[0]["name"] == "ask"
    assert ix.payload["data"]["name"] == "ask" and ix.payload["data"]["options"][0]["name"] == "question"
    assert reply.content == "id: siapa?"


@pytest.mark.parametrize("bad", ["Tanya", "tanya sesuatu", "x" * 33])
async def test_an_invalid_localized_name_is_refused_like_discord_does(
    standin: DiscordStandin, client_options: dict[str, Any], bad: str
):
    async with asyncio.timeout(30), standin.run_client(make_bot(client_options, {"ask": bad})) as bot:
        with pytest.raises(discord.HTTPException) as refused:
            await bot.tree.sync()
    assert refused.value.status == 400 and refused.value.code == 50035
    assert standin.commands.global_commands == []
