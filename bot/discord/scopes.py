"""Whose articles a Discord reader sees: the shared corpus, plus, in a server that installed
the bot, that server's own (its feeds and pages). A DM, a group DM, or a server where only a
user installed the app sees the shared corpus alone. The engine enforces it; the cogs only say
where the question was asked."""

from __future__ import annotations

import discord
from foreign_desk.index.models import SHARED, Scope


def scope_of(interaction: discord.Interaction) -> Scope:
    """The scope of an interaction: its server's, when the server installed the bot."""
    if interaction.guild_id is not None and interaction.is_guild_integration():
        return Scope(interaction.guild_id)
    return SHARED


def scope_of_message(message: discord.Message) -> Scope:
    """The scope of a message the bot received (it is in the message's server, or a DM)."""
    return Scope(message.guild.id) if message.guild is not None else SHARED
