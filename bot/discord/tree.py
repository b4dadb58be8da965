"""The one error handler for every command and button: a short private reply, one traceback.

A ``Refusal`` (cooldown, too long, not an admin) and a ``ForeignDeskError`` (nothing indexed,
a bad date) are expected: the user sees their one-line message and nothing is logged as an
error; of the host's own trouble (its store: ``failures``), the user reads that it happened and
the log what it was; a store busy past the wait (another process writing) says to try again in
a moment. Anything else is a bug: the user sees a short apology and the traceback is logged
once, here (discord.py's own "Ignoring exception" logging is replaced, not added to).

An interaction that Discord no longer takes a response for (40060: already acknowledged, by
another process given it too; 10062: unknown, its 3 seconds past) is told nothing, since no reply
could reach the user, and logged without a traceback. A command is run by the process that
claims it first (``DeskTree.interaction_check``): two gateway sessions on one shard may both get
it, and the one refused for the cooldown the other started would race the answer to the reply.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, cast

import discord
from discord import app_commands
from foreign_desk.index.errors import EmptyIndex, FingerprintMismatch, ForeignDeskError

from .errors import Refusal
from .failures import error_shown, host_trouble, store_busy
from .i18n import EN, Texts, for_interaction
from .limits import escape_content
from .replies import tell_privately

if TYPE_CHECKING:
    from .client import ForeignDeskBot

log = logging.getLogger(__name__)
ALREADY_ACKNOWLEDGED = 40060
UNKNOWN_INTERACTION = 10062


def user_message(error: BaseException, tx: Texts = EN) -> str | None:
    """The message to show for an expected error, in the reader's language, or None for a bug."""
    if isinstance(error, app_commands.CommandInvokeError):
        error = error.original
    if isinstance(error, Refusal):
        return error.text(tx)
    if store_busy(error):  # another process writing: the user's to retry, not a bug nor the host's
        return tx("error.busy")
    if isinstance(error, app_commands.NoPrivateMessage):
        return tx("error.server_only")
    if isinstance(error, EmptyIndex):
        return tx("error.empty_index")
    if isinstance(error, FingerprintMismatch):
        return tx("error.index_mismatch")
    key = getattr(error, "key", None)
    if isinstance(error, ForeignDeskError) and isinstance(key, str) and tx.get(key, ""):
        return tx(key, **getattr(error, "params", {}))
    if isinstance(error, ForeignDeskError):  # the engine's words name what others wrote: a page's links
        return escape_content(error_shown(error, tx)) or tx("error.not_allowed")
    if isinstance(error, app_commands.CheckFailure):
        return str(error) or tx("error.not_allowed")
    if isinstance(error, app_commands.TransformerError):
        return tx("error.bad_value", value=repr(error.value))
    return None


async def report_error(interaction: discord.Interaction, error: BaseException, where: str) -> None:
    """Tell the user (privately) and, for bugs, log the traceback once."""
    original = error.original if isinstance(error, app_commands.CommandInvokeError) else error
    if isinstance(original, discord.HTTPException) and original.code in (
        ALREADY_ACKNOWLEDGED,
        UNKNOWN_INTERACTION,
    ):
        log.info("%s: interaction %s takes no response: %s", where, interaction.id, original)
        return
    tx = for_interaction(interaction)
    message = user_message(error, tx)
    if message is None:
        log.error(
            "%s failed (user %s, guild %s)",
            where,
            interaction.user.id,
            interaction.guild_id,
            exc_info=original,
        )
        message = tx("error.apology")
    elif host_trouble(original) or store_busy(original):
        log.warning(
            "%s failed (user %s, guild %s): %s", where, interaction.user.id, interaction.guild_id, original
        )
    else:
        log.info("%s refused for user %s: %s", where, interaction.user.id, user_message(error))
    if interaction.type is discord.InteractionType.autocomplete:
        return
    try:
        await tell_privately(interaction, message)
    except discord.HTTPException as exc:  # the interaction expired or Discord is unhappy: nothing to tell
        log.warning("could not tell user %s about the error: %s", interaction.user.id, exc)


class DeskTree(app_commands.CommandTree):
    """The command tree with the bot's error handler."""

    async def interaction_check(self, interaction: discord.Interaction, /) -> bool:
        """Run a command only where it is claimed first (see the module); autocomplete always."""
        if interaction.type is not discord.InteractionType.application_command:
            return True
        if await cast("ForeignDeskBot", self.client).desk.claim(interaction.id):
            return True
        log.info("interaction %s is answered by another process", interaction.id)
        return False

    async def on_error(
        self, interaction: discord.Interaction, error: app_commands.AppCommandError, /
    ) -> None:
        name = interaction.command.qualified_name if interaction.command else "command"
        await report_error(interaction, error, f"/{name}")
