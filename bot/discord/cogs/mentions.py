"""Questions asked by mentioning the bot in a channel, or in a direct message.

"@Foreign Desk what did NATO and Japan agree on?" gets the same answer as /ask, as a reply to
the message. Discord delivers the text of such messages without the privileged Message Content
intent (mentions of the bot and DMs are exempt), so the bot never asks for it.

Discord's @-picker often offers the bot's managed role ("@Foreign Desk" the integration role)
before the bot user; a mention of that role is a mention of the bot. Discord documents the
content exemption for mentions of the app only: should a role mention arrive without its text,
the bot says how to mention it so that it can read the question, rather than staying silent.

A message is answered by the process that claims it first (``Desk.claim``): two gateway sessions
on one shard (a rolling restart) both get it.

A message refused for the asker's cooldown gets its reply at the first refusal of each wait
only (``Desk.tells``); the asker's later tries in that wait go unanswered.
"""

from __future__ import annotations

import asyncio
import logging
import re
from typing import TYPE_CHECKING

import discord
from discord.ext import commands
from foreign_desk.index.errors import ForeignDeskError
from foreign_desk.index.lang import detect_language

from ..errors import Refusal
from ..failures import host_trouble, store_busy
from ..i18n import for_guild
from ..permissions import may_embed
from ..replies import reply_to
from ..scopes import scope_of_message
from ..tree import user_message
from ..views import compose
from ..zones import today_of_message

if TYPE_CHECKING:
    from ..client import ForeignDeskBot

log = logging.getLogger(__name__)


def mention_of(bot_id: int) -> str:
    """The pattern of ``<@id>`` / ``<@!id>`` for the bot, as written in a message's text."""
    return rf"<@!?{bot_id}>"


def question_from(content: str, bot_id: int, role_id: int | None = None) -> str:
    """The message text without the mentions of the bot (and of its managed role)."""
    text = re.sub(mention_of(bot_id), " ", content)
    if role_id is not None:
        text = text.replace(f"<@&{role_id}>", " ")
    return text.strip()


def own_role(message: discord.Message) -> discord.Role | None:
    """The bot's managed role in the message's server, when the message mentions it."""
    role = message.guild.self_role if message.guild is not None else None
    return role if role is not None and role in message.role_mentions else None


class MentionsCog(commands.Cog):
    def __init__(self, bot: ForeignDeskBot) -> None:
        self.bot = bot
        self.handled_through = 0
        """The newest message id whose handling (an answer, a refusal, or nothing) has finished."""
        self.questions = 0
        """Messages addressed to the bot whose handling has finished (answered here or elsewhere)."""

    def addressed(self, message: discord.Message) -> bool:
        """Is this a question for the bot: a DM, or a message that mentions it (as configured)?

        Only a mention written in the text counts: a reply to the bot's answer lists the bot in
        ``message.mentions`` too (Discord's @ON, the default), and "thanks!" is no question.
        """
        me = self.bot.user
        if me is None or message.author.bot or message.author.id == me.id:
            return False
        settings = self.bot.bot_settings
        if message.guild is None:
            return settings.answer_dms
        mentioned = re.search(mention_of(me.id), message.content) is not None or own_role(message) is not None
        return settings.answer_mentions and mentioned

    @commands.Cog.listener()
    async def on_message(self, message: discord.Message) -> None:
        try:
            if self.addressed(message):
                await self._answer_once(message)
        finally:
            self.handled_through = max(self.handled_through, message.id)

    async def _answer_once(self, message: discord.Message) -> None:
        """Answer, unless another process claimed the message first (``Desk.claim``)."""
        try:
            if await self.bot.desk.claim(message.id):
                await self._answer(message)
            else:
                log.info("message %s is answered by another process", message.id)
        finally:
            self.questions += 1

    async def _answer(self, message: discord.Message) -> None:
        assert self.bot.user is not None
        role = own_role(message)
        text = question_from(message.content, self.bot.user.id, role.id if role else None)
        tx = for_guild(message.guild, await asyncio.to_thread(detect_language, text))
        if role is not None and not message.content:  # Discord withheld the text of a role mention
            await self._say(message, tx("mention.no_text", bot=self.bot.user.display_name))
            return
        try:
            question = await self.bot.desk.admit(message.author.id, text)
        except Refusal as refusal:  # a cooldown's said once per wait: a spammer gets no spam back
            if await self.bot.desk.tells(message.author.id, refusal):
                await self._say(message, refusal.text(tx))
            return
        try:
            async with message.channel.typing():
                day = await today_of_message(self.bot, message)
                answer = await self.bot.desk.answer(question, scope=scope_of_message(message), now=day)
            plain = not may_embed(message.channel)
            reply = await compose(
                self.bot,
                answer,
                asker_id=message.author.id,
                tx=tx,
                target=tx.language,
                plain=plain,
                asked=question,
            )
            await reply.reply_to(message)
        except (Refusal, ForeignDeskError) as expected:
            if host_trouble(expected):  # the asker reads that it happened, the log what it was
                log.warning("answering message %s failed: %s", message.id, expected)
            await self._say(message, user_message(expected, tx) or str(expected))
        except discord.Forbidden as exc:  # no permission to write here: nothing to tell anyone
            log.info("cannot answer in channel %s: %s", message.channel.id, exc)
        except Exception as exc:
            if store_busy(exc):  # SQLite's busy timeout: another process writing
                log.warning("answering message %s found the store busy: %s", message.id, exc)
                await self._say(message, tx("error.busy"))
                return
            log.error("answering message %s failed", message.id, exc_info=exc)
            await self._say(message, tx("error.apology"))

    async def _say(self, message: discord.Message, text: str) -> None:
        try:
            await reply_to(message, text)
        except discord.HTTPException as exc:
            log.info("cannot reply in channel %s: %s", message.channel.id, exc)
