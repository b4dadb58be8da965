"""Sending to Discord the same careful way everywhere: no pings, ephemeral when private.

``allowed_mentions`` is ``AllowedMentions.none()`` on the bot itself and again on every send and
edit here, so an article or a question containing ``@everyone`` or ``<@id>`` notifies nobody.
"""

from __future__ import annotations

import logging
from typing import Any

import discord

from .limits import CONTENT_MAX, fit

log = logging.getLogger(__name__)

NO_PINGS = discord.AllowedMentions.none()
PUBLIC_DEFER = "foreign_desk_public_defer"
CANNOT_REPLY = 160002
"""Discord refuses a reply where the bot may not read the channel's history (Read Message History)."""


async def defer_public(interaction: discord.Interaction) -> None:
    """Acknowledge at once with "Foreign Desk is thinking…", visible to the channel."""
    interaction.extras[PUBLIC_DEFER] = True
    await interaction.response.defer(thinking=True)


async def defer_private(interaction: discord.Interaction) -> None:
    """Acknowledge at once with an ephemeral "thinking…" only the user sees."""
    await interaction.response.defer(thinking=True, ephemeral=True)


async def tell_privately(interaction: discord.Interaction, text: str) -> None:
    """Show ``text`` to the user alone, whatever the interaction has answered so far.

    Not answered yet: an ephemeral reply. Deferred publicly: the public "thinking…" placeholder is
    deleted and an ephemeral followup is sent (a first followup would otherwise inherit the
    placeholder's visibility). Deferred privately: the private placeholder (or status) becomes
    ``text``. Otherwise (a button acknowledged, a reply already sent): an ephemeral followup.
    """
    text = fit(text, CONTENT_MAX)
    response = interaction.response
    if not response.is_done():
        await response.send_message(text, ephemeral=True, allowed_mentions=NO_PINGS)
        return
    if response.type is discord.InteractionResponseType.deferred_channel_message:
        if not interaction.extras.get(PUBLIC_DEFER):
            await interaction.edit_original_response(
                content=text, embed=None, view=None, allowed_mentions=NO_PINGS
            )
            return
        try:
            await interaction.delete_original_response()
        except discord.HTTPException as exc:
            log.info("could not delete the thinking placeholder: %s", exc)
        interaction.extras[PUBLIC_DEFER] = False
    await interaction.followup.send(text, ephemeral=True, allowed_mentions=NO_PINGS)


async def reply_to(message: discord.Message, content: str | None, **kwargs: Any) -> discord.Message:
    """Answer ``message`` in its channel, as a reply that pings nobody; as a plain message where
    Discord refuses replies (no Read Message History there: a channel that hides its past) or
    once the message is deleted (its author thought better of it, the answer may still serve)."""
    reference = message.to_reference(fail_if_not_exists=False)
    try:
        return await message.channel.send(
            content, reference=reference, allowed_mentions=NO_PINGS, mention_author=False, **kwargs
        )
    except discord.Forbidden as exc:
        if exc.code != CANNOT_REPLY:
            raise
        log.info("no replies in channel %s (%s): answering without one", message.channel.id, exc.text)
        return await message.channel.send(content, allowed_mentions=NO_PINGS, **kwargs)
