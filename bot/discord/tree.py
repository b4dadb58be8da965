"""The one error handler for every command and button: a short private reply, one traceback.

A ``Refusal`` (cooldown, too long, not an admin) and a ``ForeignDeskError`` (nothing indexed,
a bad date) are expected: the user sees their one-line message and nothing is logged as an
error. Anything else is a bug: the user sees a short apology and the traceback is logged once,
here (discord.py's own "Ignoring exception" logging is replaced, not added to).
"""

from __future__ import annotations

import logging

import discord
from discord import app_commands
from foreign_desk.index.errors import ForeignDeskError

from .render import APOLOGY
from .replies import tell_privately

log = logging.getLogger(__name__)


def user_message(error: BaseException) -> str | None:
    """The message to show for an expected error, or None for a bug."""
    if isinstance(error, app_commands.CommandInvokeError):
        error = error.original
    if isinstance(error, app_commands.NoPrivateMessage):
        return "That command works only in a server."
    if isinstance(error, (app_commands.CheckFailure, ForeignDeskError)):
        return str(error) or "You can't use that here."
    if isinstance(error, app_commands.TransformerError):
        return f"I couldn't read the option value {error.value!r}."
    return None


async def report_error(interaction: discord.Interaction, error: BaseException, where: str) -> None:
    """Tell the user (privately) and, for bugs, log the traceback once."""
    message = user_message(error)
    original = error.original if isinstance(error, app_commands.CommandInvokeError) else error
    if message is None:
        log.error(
            "%s failed (user %s, guild %s)",
            where,
            interaction.user.id,
            interaction.guild_id,
            exc_info=original,
        )
        message = APOLOGY
    else:
        log.info("%s refused for user %s: %s", where, interaction.user.id, message)
    if interaction.type is discord.InteractionType.autocomplete:
        return
    try:
        await tell_privately(interaction, message)
    except discord.HTTPException as exc:  # the interaction expired or Discord is unhappy: nothing to tell
        log.warning("could not tell user %s about the error: %s", interaction.user.id, exc)


class DeskTree(app_commands.CommandTree):
    """The command tree with the bot's error handler."""

    async def on_error(
        self, interaction: discord.Interaction, error: app_commands.AppCommandError, /
    ) -> None:
        name = interaction.command.qualified_name if interaction.command else "command"
        await report_error(interaction, error, f"/{name}")
