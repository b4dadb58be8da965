"""Errors of the Discord front end: start-up problems for the CLI, refusals for chat users."""

from __future__ import annotations

from discord import app_commands
from foreign_desk.index.errors import ForeignDeskError


class BotError(ForeignDeskError):
    """Base of the errors ``foreign-desk run`` / ``sync`` report as one line."""


class TokenMissing(BotError):
    """``DISCORD_TOKEN`` is not set."""


class TokenRejected(BotError):
    """Discord refused the token (the message never contains it)."""


class Refusal(app_commands.CheckFailure):
    """A friendly, expected "no" to a user (cooldown, too long, not an admin): shown ephemerally.

    It is a ``CheckFailure`` so discord.py routes it, from checks and callbacks alike, to the
    tree's error handler, which shows the message and logs no traceback.
    """
