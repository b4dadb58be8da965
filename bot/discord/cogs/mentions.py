"""Questions asked by mentioning the bot in a channel, or in a direct message.

"@Foreign Desk what did NATO and Japan agree on?" gets the same answer as /ask, as a reply to
the message. Discord delivers the text of such messages without the privileged Message Content
intent (mentions of the bot and DMs are exempt), so the bot never asks for it.
"""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING

import discord
from discord.ext import commands
from foreign_desk.index.errors import ForeignDeskError

from ..errors import Refusal
from ..i18n import for_guild
from ..replies import NO_PINGS
from ..tree import user_message
from ..views import compose

if TYPE_CHECKING:
    from ..client import ForeignDeskBot

log = logging.getLogger(__name__)


def question_from(content: str, bot_id: int) -> str:
    """The message text without the mentions of the bot."""
    return re.sub(rf"<@!?{bot_id}>", " ", content).strip()


class MentionsCog(commands.Cog):
    def __init__(self, bot: ForeignDeskBot) -> None:
        self.bot = bot

    def addressed(self, message: discord.Message) -> bool:
        """Is this a question for the bot: a DM, or a message that mentions it (as configured)?"""
        me = self.bot.user
        if me is None or message.author.bot or message.author.id == me.id:
            return False
        settings = self.bot.bot_settings
        if message.guild is None:
            return settings.answer_dms
        return settings.answer_mentions and any(u.id == me.id for u in message.mentions)

    @commands.Cog.listener()
    async def on_message(self, message: discord.Message) -> None:
        if not self.addressed(message):
            return
        assert self.bot.user is not None
        tx = for_guild(message.guild)
        try:
            question = self.bot.desk.admit(
                message.author.id, question_from(message.content, self.bot.user.id)
            )
        except Refusal as refusal:
            await self._say(message, refusal.text(tx))
            return
        try:
            async with message.channel.typing():
                answer = await self.bot.desk.answer(question)
            reply = await compose(self.bot, answer, asker_id=message.author.id, tx=tx, target=tx.language)
            await reply.reply_to(message)
        except (Refusal, ForeignDeskError) as expected:
            await self._say(message, user_message(expected, tx) or str(expected))
        except discord.Forbidden as exc:  # no permission to write here: nothing to tell anyone
            log.info("cannot answer in channel %s: %s", message.channel.id, exc)
        except Exception as exc:
            log.error("answering message %s failed", message.id, exc_info=exc)
            await self._say(message, tx("error.apology"))

    async def _say(self, message: discord.Message, text: str) -> None:
        try:
            await message.reply(text, allowed_mentions=NO_PINGS, mention_author=False)
        except discord.HTTPException as exc:
            log.info("cannot reply in channel %s: %s", message.channel.id, exc)
