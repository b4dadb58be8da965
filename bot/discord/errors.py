"""Errors of the Discord front end: start-up problems for the CLI, refusals for chat users."""

from __future__ import annotations

from typing import Any

from discord import app_commands
from foreign_desk.index.errors import ForeignDeskError

from .i18n import EN, Texts


class BotError(ForeignDeskError):
    """Base of the errors ``foreign-desk run`` / ``sync`` report as one line."""


class TokenMissing(BotError):
    """``DISCORD_TOKEN`` is not set."""


class TokenRejected(BotError):
    """Discord refused the token (the message never contains it)."""


class Refusal(app_commands.CheckFailure):
    """A friendly, expected "no" to a user (cooldown, too long, not an admin): shown ephemerally.

    It is a ``CheckFailure`` so discord.py routes it, from checks and callbacks alike, to the
    tree's error handler, which shows the message and logs no traceback. It carries a catalogue
    key and its parameters, so the user reads it in their language; ``str()`` is the English text
    (for logs).
    """

    def __init__(self, key: str, /, **params: Any) -> None:
        self.key = key
        self.params = params
        super().__init__(EN(key, **params))

    def text(self, tx: Texts) -> str:
        return tx(self.key, **self.params)
