"""Where a command is offered. Discord applies these itself (``integration_types``, ``contexts``);
the bot never sees a command used where it is not offered.

``anywhere``: installable by a server and by a user for themselves, usable in servers, in DMs with
the bot and in group DMs and other private channels (where the bot is not: it answers through the
interaction only). ``in_servers``: installed by servers, used in their channels (managers'
commands, and those that post in a channel or read its settings).
"""

from __future__ import annotations

from typing import TypeVar

from discord import app_commands

T = TypeVar("T")

INSTALLS_ANYWHERE = app_commands.AppInstallationType(guild=True, user=True)
CONTEXTS_ANYWHERE = app_commands.AppCommandContext(guild=True, dm_channel=True, private_channel=True)


def anywhere(command: T) -> T:
    allowed = app_commands.allowed_contexts(guilds=True, dms=True, private_channels=True)(command)
    return app_commands.allowed_installs(guilds=True, users=True)(allowed)


def in_servers(command: T) -> T:
    return app_commands.allowed_installs(guilds=True, users=False)(app_commands.guild_only()(command))
