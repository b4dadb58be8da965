"""The buttons under an answer: each source's page (and a translation of it), Back / More to page
through the results, 👍 / 👎 to say whether they answered.

Back, More and the votes are dynamic items: their ``custom_id`` names the answer and the page
(``fd:page:<answer>:<offset>``, ``fd:vote:<answer>:<offset>:<up|down>``), and the answer's state
is in the ``AnswerStore``. Whichever process receives a click (this one, or one started since)
finds the question there; an answer older than ``view_timeout_s`` says "expired" and loses its
buttons (its links stay: they work forever). Only the person who asked can page; anyone may vote,
once per answer (a second vote replaces the first).
"""

from __future__ import annotations

import logging
import re
import sqlite3
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar, cast

import discord
from foreign_desk.index.models import Answer, Filters
from foreign_desk.index.sqlite import error_code

from .answers import FILE_NAME, ID_ALPHABET, ID_LENGTH, AnswerState
from .errors import Refusal
from .i18n import Texts, for_interaction
from .limits import BUTTONS_PER_ROW, CONTENT_MAX, EMBED_TOTAL_MAX, embed_size, fit
from .links import answer_links
from .render import NO_FILTERS, answer_embed, answer_text, linked_text, nothing_relevant_text
from .replies import NO_PINGS, reply_to, tell_privately
from .scopes import scope_of
from .tree import report_error
from .zones import today_of

if TYPE_CHECKING:
    from .client import ForeignDeskBot

log = logging.getLogger(__name__)

NAV_ROW = 4
ANSWER_ID = f"[{ID_ALPHABET}]{{{ID_LENGTH}}}"
UP, DOWN = "up", "down"
VOTE_MARKS = {1: "👍", -1: "👎"}
T = TypeVar("T")


def _bot(interaction: discord.Interaction) -> ForeignDeskBot:
    return cast("ForeignDeskBot", interaction.client)


async def _guarded(interaction: discord.Interaction, work: Awaitable[None], where: str) -> None:
    """Run a button's work; an error is told privately (and a bug logged) like a command's."""
    try:
        await work
    except Exception as exc:
        await report_error(interaction, exc, where)


class PageButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=rf"fd:page:(?P<id>{ANSWER_ID}):(?P<offset>\d{{1,5}})",
):
    """Back or More: shows the page of the answer that starts at ``offset``."""

    def __init__(
        self, answer_id: str, offset: int, *, label: str, disabled: bool = False, primary: bool = False
    ) -> None:
        style = discord.ButtonStyle.primary if primary else discord.ButtonStyle.secondary
        button: discord.ui.Button[Any] = discord.ui.Button(
            label=label,
            style=style,
            custom_id=f"fd:page:{answer_id}:{offset}",
            disabled=disabled,
            row=NAV_ROW,
        )
        super().__init__(button)
        self.answer_id, self.offset = answer_id, offset

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> PageButton:
        return cls(match["id"], int(match["offset"]), label=getattr(item, "label", None) or "")

    async def callback(self, interaction: discord.Interaction) -> None:
        await _guarded(interaction, turn_page(interaction, self.answer_id, self.offset), "page button")


class VoteButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=rf"fd:vote:(?P<id>{ANSWER_ID}):(?P<offset>\d{{1,5}}):(?P<vote>{UP}|{DOWN})",
):
    """👍 or 👎 on the page of the answer that starts at ``offset``."""

    def __init__(self, answer_id: str, offset: int, vote: str) -> None:
        button: discord.ui.Button[Any] = discord.ui.Button(
            emoji="👍" if vote == UP else "👎",
            style=discord.ButtonStyle.secondary,
            custom_id=f"fd:vote:{answer_id}:{offset}:{vote}",
            row=NAV_ROW,
        )
        super().__init__(button)
        self.answer_id, self.offset, self.vote = answer_id, offset, 1 if vote == UP else -1

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> VoteButton:
        return cls(match["id"], int(match["offset"]), match["vote"])

    async def callback(self, interaction: discord.Interaction) -> None:
        await _guarded(
            interaction, cast_vote(interaction, self.answer_id, self.offset, self.vote), "vote button"
        )


@dataclass
class Reply:
    """What to send for an answer: a plain text when nothing is relevant, else embeds and buttons."""

    content: str | None = None
    embeds: list[discord.Embed] = field(default_factory=list)
    view: discord.ui.View | None = None

    async def edit_into(self, interaction: discord.Interaction) -> None:
        """Replace the interaction's deferred "thinking…" placeholder (or the message) with this reply."""
        await interaction.edit_original_response(
            content=self.content, embeds=self.embeds, view=self.view, allowed_mentions=NO_PINGS
        )

    async def reply_to(self, message: discord.Message) -> discord.Message:
        """Answer a user's message (a mention or a DM) in its channel, without pinging them."""
        kwargs: dict[str, Any] = {}
        if self.embeds:
            kwargs["embeds"] = self.embeds
        if self.view is not None:
            kwargs["view"] = self.view
        return await reply_to(message, self.content, **kwargs)


def answer_view(
    state: AnswerState | None, answer: Answer, page_size: int, tx: Texts, target: str
) -> discord.ui.View:
    """Link buttons (rows 0-3), then Back / More when there is more than one page, then 👍 / 👎;
    the links only without a ``state`` (the store could not save one)."""
    view = discord.ui.View(timeout=None)
    for n, link in enumerate(answer_links(answer.results, tx, target, limit=NAV_ROW * BUTTONS_PER_ROW)):
        view.add_item(discord.ui.Button(label=link.label, url=link.url, row=n // BUTTONS_PER_ROW))
    if state is None:
        view.stop()
        return view
    if answer.offset > 0 or answer.has_more:
        back = max(0, answer.offset - page_size)
        view.add_item(PageButton(state.id, back, label=tx("button.back"), disabled=answer.offset == 0))
        more = answer.offset + page_size
        view.add_item(
            PageButton(state.id, more, label=tx("button.more"), disabled=not answer.has_more, primary=True)
        )
    view.add_item(VoteButton(state.id, answer.offset, UP))
    view.add_item(VoteButton(state.id, answer.offset, DOWN))
    view.stop()  # sent, not kept: clicks reach the dynamic items, in this process or another
    return view


async def compose(
    bot: ForeignDeskBot,
    answer: Answer,
    *,
    asker_id: int,
    tx: Texts,
    target: str,
    filters: Filters = NO_FILTERS,
    note: str | None = None,
    extra: Sequence[discord.Embed] = (),
    plain: bool = False,
    asked: str | None = None,
) -> Reply:
    """The reply to a new question, with an optional ``note`` above it and ``extra`` embeds below;
    an answer with results gets a state for its buttons. ``plain``: the answer as text, for a
    channel where the bot may not embed. A question that linked to an article says which, on
    every page: the buttons keep the question as ``asked`` (with its links), not as the engine
    read it (the headline in place of the link)."""
    note = note if note is not None else linked_note(answer, tx)
    if answer.nothing_relevant or not answer.results:
        return Reply(_noted(note, nothing_relevant_text(filters, tx)), list(extra))
    state = await _remembered(bot, asked or answer.question, answer, filters, asker_id)
    view = answer_view(state, answer, bot.bot_settings.results_per_page, tx, target)
    if plain:
        return Reply(answer_text(answer, filters, tx, note), list(extra), view)
    return Reply(note, [_answer_embed(answer, filters, tx, extra), *extra], view)


async def _remembered(
    bot: ForeignDeskBot, question: str, answer: Answer, filters: Filters, asker_id: int
) -> AnswerState | None:
    """The state behind the answer's buttons, or None when another process keeps the store locked
    past its busy timeout: the asker still gets the answer, with its links but without Back / More
    and votes (they would have nothing to find)."""
    try:
        state = await bot.answers.remember(question, filters, asker_id)
        await bot.answers.page_shown(state.id, answer.offset, answer.results)
    except sqlite3.OperationalError as exc:
        if error_code(exc) != sqlite3.SQLITE_BUSY:
            raise
        log.warning("%s stayed busy (%s): answer sent without its page and vote buttons", FILE_NAME, exc)
        return None
    return state


def linked_note(answer: Answer, tx: Texts) -> str | None:
    """The 🔗 line naming the article the question linked to (``Engine.ask`` reads its links)."""
    return linked_text(answer.linked, tx) if answer.linked is not None else None


def _noted(note: str | None, text: str) -> str:
    return fit(f"{note}\n{text}", CONTENT_MAX) if note else text


def _answer_embed(
    answer: Answer, filters: Filters, tx: Texts, beside: Sequence[discord.Embed]
) -> discord.Embed:
    """The answer's embed, within what the ``beside`` embeds leave of a message's 6000 characters."""
    used = sum(embed_size(dict(e.to_dict())) for e in beside)
    return answer_embed(answer, filters, tx, total=EMBED_TOTAL_MAX - used)


async def turn_page(interaction: discord.Interaction, answer_id: str, offset: int) -> None:
    bot, tx = _bot(interaction), for_interaction(interaction)
    await acknowledge(interaction)
    state = await bot.answers.recall(answer_id)
    if state is None:
        await expired(interaction, tx)
        return
    if not bot.answers.is_asker(state, interaction.user.id):
        await tell_privately(interaction, tx("page.not_asker"))
        return
    day = await today_of(bot, interaction)
    answer = await bot.desk.answer(state.question, state.filters, offset, scope_of(interaction), day)
    if not answer.results:
        await tell_privately(interaction, tx("answer.no_more"))
        return
    await stored(bot.answers.page_shown(state.id, answer.offset, answer.results), busy="page.busy")
    view = answer_view(state, answer, bot.bot_settings.results_per_page, tx, translation_target(interaction))
    if interaction.message is not None and not interaction.message.embeds:  # a plain answer stays plain
        text = answer_text(answer, state.filters, tx, linked_note(answer, tx))
        await interaction.edit_original_response(content=text, view=view, allowed_mentions=NO_PINGS)
        return
    beside = interaction.message.embeds[1:] if interaction.message is not None else []  # e.g. coverage
    embeds = [_answer_embed(answer, state.filters, tx, beside), *beside]
    await interaction.edit_original_response(embeds=embeds, view=view, allowed_mentions=NO_PINGS)


async def cast_vote(interaction: discord.Interaction, answer_id: str, offset: int, vote: int) -> None:
    bot, tx = _bot(interaction), for_interaction(interaction)
    await acknowledge(interaction)
    state = await bot.answers.recall(answer_id)
    if state is None:
        await expired(interaction, tx)
        return
    before = await stored(bot.answers.vote(state, offset, interaction.user.id, vote), busy="vote.busy")
    key = "vote.recorded" if before is None else "vote.same" if before == vote else "vote.changed"
    log.info("vote %+d on answer %s (%s)", vote, answer_id, key)
    await tell_privately(interaction, tx(key, mark=VOTE_MARKS[vote]))


async def stored(write: Awaitable[T], *, busy: str) -> T:
    """Await a write to the answer store; when another process keeps the file locked past the busy
    timeout, the clicker is told the ``busy`` refusal (in their language), not a general apology."""
    try:
        return await write
    except sqlite3.OperationalError as exc:
        if error_code(exc) != sqlite3.SQLITE_BUSY:
            raise
        raise Refusal(busy) from None


async def acknowledge(interaction: discord.Interaction) -> None:
    """Acknowledge a click at once, before the store: another process may hold its write lock for
    seconds, past Discord's 3 (an "update" acknowledgement: the message stays as is meanwhile)."""
    await interaction.response.defer()


async def expired(interaction: discord.Interaction, tx: Texts) -> None:
    """The answer is too old for its buttons: drop them (the links stay) and say so privately."""
    kept = None
    if interaction.message is not None:
        kept = discord.ui.View.from_message(interaction.message, timeout=None)
        for item in list(kept.children):
            if getattr(item, "url", None) is None:
                kept.remove_item(item)
        kept.stop()
    await interaction.edit_original_response(view=kept if kept is not None and kept.children else None)
    await interaction.followup.send(tx("answer.expired"), ephemeral=True, allowed_mentions=NO_PINGS)


def translation_target(interaction: discord.Interaction) -> str:
    """The language to translate articles into: the user's client language."""
    return target_of(interaction.locale.value)


def target_of(locale: str) -> str:
    """A Discord locale as a translator's language code: ``pt-BR`` → ``pt``, ``zh-TW`` stays."""
    return locale if locale in ("zh-CN", "zh-TW") else locale.split("-")[0]
