"""“Ask Foreign Desk” on any message (right-click or long-press → Apps): passages about its text.

The reply is private (ephemeral) by default: the person asking did not write the message. When the
message links to an article in the corpus, the reply says so and lists other outlets' coverage of
the same story (``Engine.same_story``), and the question is the message's words with that article's
headline; a message with only a link to an unknown page asks about the words of its address
(``index.asked_links``: /ask, mentions and the command line ask a link in a question so too).
Discord sends the target message's text with the command, Message Content intent or not; a bot's
post (an alert) is read from its embeds, a forward from the message it forwards (``message_snapshots``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands
from foreign_desk.index.asked_links import URL, linked_question
from foreign_desk.index.models import ArticleSummary

from ..errors import Refusal
from ..i18n import Texts, for_interaction
from ..limits import EMBED_TITLE_MAX, NOISE, escape, fit, has_words
from ..reach import CONTEXTS_ANYWHERE, INSTALLS_ANYWHERE
from ..render import COLOUR, articles_text, linked_text
from ..replies import defer_private
from ..scopes import scope_of
from ..translator import L
from ..views import compose, translation_target
from ..zones import today_of

if TYPE_CHECKING:
    from ..client import ForeignDeskBot

COVERAGE_SHOWN = 5


def source_of(message: discord.Message) -> discord.Message | discord.MessageSnapshot:
    """The message itself, or for a forward (no text or embeds of its own) the one it forwards."""
    if not message.content.strip() and not message.embeds and message.message_snapshots:
        return message.message_snapshots[0]
    return message


def message_text(message: discord.Message | discord.MessageSnapshot) -> tuple[str, list[str]]:
    """The words of a message (its text, else its embeds' titles and descriptions) and its links."""
    texts = [message.content] if message.content.strip() else []
    texts = texts or [f"{e.title or ''}\n{e.description or ''}" for e in message.embeds]
    joined = "\n".join(texts)
    links = URL.findall(joined) + [e.url for e in message.embeds if e.url]
    words = " ".join(discord.utils.remove_markdown(NOISE.sub(" ", URL.sub(" ", joined))).split())
    if not has_words(words):  # emoji and punctuation only
        words = ""
    return words, list(dict.fromkeys(link.rstrip(".,;!?") for link in links))


def coverage_embed(article: ArticleSummary, others: Sequence[ArticleSummary], tx: Texts) -> discord.Embed:
    embed = discord.Embed(title=fit(tx("menu.coverage_title"), EMBED_TITLE_MAX, escape), colour=COLOUR)
    embed.description = articles_text(others, tx, 2000) if others else tx("menu.no_coverage")
    return embed


class AskMessageCog(commands.Cog):
    def __init__(self, bot: ForeignDeskBot) -> None:
        self.bot = bot
        self.menu = app_commands.ContextMenu(name=L("menu.ask.name"), callback=self.ask_message)
        self.menu.allowed_installs = INSTALLS_ANYWHERE
        self.menu.allowed_contexts = CONTEXTS_ANYWHERE
        bot.tree.add_command(self.menu)

    async def cog_unload(self) -> None:
        self.bot.tree.remove_command(self.menu.name, type=self.menu.type)

    async def ask_message(self, interaction: discord.Interaction, message: discord.Message) -> None:
        text, links = message_text(source_of(message))
        await defer_private(interaction)
        engine, desk, scope = self.bot.engine, self.bot.desk, scope_of(interaction)
        article = await engine.linked_article(links, scope=scope)
        question = linked_question(text, links, article)  # the linked story is what it is about
        if not question:
            raise Refusal("menu.nothing")
        question = await desk.admit(interaction.user.id, fit(question, desk.settings.max_question_chars))
        answer = await desk.answer(question, scope=scope, now=await today_of(self.bot, interaction))
        tx = for_interaction(interaction)
        extra, note = [], None
        if article is not None:
            others = await engine.same_story(article, limit=COVERAGE_SHOWN, scope=scope)
            extra.append(coverage_embed(article, others, tx))
            note = linked_text(article, tx)
        reply = await compose(
            self.bot,
            answer,
            asker_id=interaction.user.id,
            tx=tx,
            target=translation_target(interaction),
            note=note,
            extra=extra,
        )
        await reply.edit_into(interaction)
