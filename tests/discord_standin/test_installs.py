"""User installs and message commands: where Discord offers a command (contexts, integration
types), a group DM without the bot, and a message command carrying its target message."""

from __future__ import annotations

import asyncio
from typing import Any

import discord
import pytest
from discord import app_commands
from discord.ext import commands

from tests.discord_standin import DiscordStandin, StandinUsageError


def make_bot(client_options: dict[str, Any], seen: list[dict[str, Any]]) -> commands.Bot:
    bot = commands.Bot(command_prefix="!", intents=discord.Intents.default(), **client_options)

    @bot.tree.command(description="Anywhere")
    @app_commands.allowed_installs(guilds=True, users=True)
    @app_commands.allowed_contexts(guilds=True, dms=True, private_channels=True)
    async def anywhere(interaction: discord.Interaction) -> None:
        seen.append(
            {"private": interaction.context.private_channel, "user": interaction.is_user_integration()}
        )
        await interaction.response.send_message("here")

    @bot.tree.command(description="Servers only")
    @app_commands.guild_only()
    @app_commands.allowed_installs(guilds=True, users=False)
    async def servers(interaction: discord.Interaction) -> None:
        await interaction.response.send_message("server")

    @bot.tree.context_menu(name="Quote it")
    @app_commands.allowed_installs(guilds=True, users=True)
    @app_commands.allowed_contexts(guilds=True, dms=True, private_channels=True)
    async def quote(interaction: discord.Interaction, message: discord.Message) -> None:
        await interaction.response.send_message(f"> {message.content}", ephemeral=True)

    return bot


async def test_a_user_installed_command_answers_in_a_group_dm_without_the_bot(
    standin: DiscordStandin, client_options: dict[str, Any]
):
    seen: list[dict[str, Any]] = []
    friend = standin.world.add_user("fia.friend", in_guild=False)
    group = standin.world.private_channel(standin.user, friend)
    async with asyncio.timeout(30), standin.run_client(make_bot(client_options, seen)) as bot:
        await bot.tree.sync()
        registered = {c["name"]: c for c in standin.commands.global_commands}
        ix = await standin.send_slash_command("anywhere", channel=group)
        reply = await ix.wait_for_reply()
        with pytest.raises(StandinUsageError, match="not installable by users"):
            await standin.send_slash_command("servers", channel=group)
        with pytest.raises(StandinUsageError, match="not available in DMs"):
            await standin.send_slash_command("servers", dm=True)
    assert registered["anywhere"]["integration_types"] == [0, 1]
    assert registered["anywhere"]["contexts"] == [0, 1, 2]
    assert (registered["servers"]["integration_types"], registered["servers"]["contexts"]) == ([0], [0])
    assert reply.content == "here" and ix.payload["context"] == 2 and "guild_id" not in ix.payload
    assert seen == [{"private": True, "user": True}]


async def test_the_bot_cannot_post_in_a_group_dm_it_is_not_in(
    standin: DiscordStandin, client_options: dict[str, Any]
):
    group = standin.world.private_channel(standin.user, standin.admin)
    async with asyncio.timeout(30), standin.run_client(make_bot(client_options, [])) as bot:
        with pytest.raises(discord.Forbidden) as refused:
            await bot.get_partial_messageable(group.id).send("hello")
    assert refused.value.code == 50001


async def test_a_message_command_carries_its_message_whatever_the_intents(
    standin: DiscordStandin, client_options: dict[str, Any]
):
    async with asyncio.timeout(30), standin.run_client(make_bot(client_options, [])) as bot:
        await bot.tree.sync()
        said = await standin.send_message("NATO and Japan agreed to work together")
        ix = await standin.send_message_command(said, "Quote it", user=standin.admin)
        reply = await ix.wait_for_reply()
        with pytest.raises(StandinUsageError, match="no message command"):
            await standin.send_message_command(said, "Unknown")
    assert ix.payload["data"]["type"] == 3 and ix.payload["data"]["target_id"] == str(said.id)
    assert reply.ephemeral and reply.content == "> NATO and Japan agreed to work together"
