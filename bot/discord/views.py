"""The buttons under an answer: links to the sources, and Back / More to page through results.

Only the person who asked can page; anyone else gets a private note. When the view times out
the Back / More buttons are disabled (the source links stay: they keep working forever).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

import discord
from foreign_desk.index.models import Answer, Filters

from .desk import Desk
from .i18n import EN, Texts
from .limits import BUTTONS_PER_ROW
from .links import source_links
from .render import NO_FILTERS, answer_embed, nothing_relevant_text
from .replies import NO_PINGS, tell_privately
from .tree import report_error

log = logging.getLogger(__name__)

Editor = Callable[..., Awaitable[Any]]
NAV_ROW = 4


class AnswerView(discord.ui.View):
    """Paging state for one answer: the question, its filters, the current offset, who asked."""

    def __init__(
        self,
        desk: Desk,
        answer: Answer,
        *,
        asker_id: int,
        filters: Filters = NO_FILTERS,
        timeout: float | None = None,
        tx: Texts = EN,
    ) -> None:
        super().__init__(timeout=desk.settings.view_timeout_s if timeout is None else timeout)
        self.tx = tx
        self.back.label = tx("button.back")
        self.more.label = tx("button.more")
        self.desk = desk
        self.asker_id = asker_id
        self.question = answer.question
        self.filters = filters
        self.page_size = desk.settings.results_per_page
        self.offset = 0
        self.edit_message: Editor | None = None
        """Edits the message carrying this view (set once it is sent; refreshed by each click)."""
        self._links: list[discord.ui.Button[AnswerView]] = []
        self.show(answer)

    def show(self, answer: Answer) -> None:
        """Set buttons for ``answer``: its source links, Back unless first page, More if there is more."""
        self.offset = answer.offset
        for button in self._links:
            self.remove_item(button)
        self._links = [
            discord.ui.Button(label=link.label, url=link.url, row=n // BUTTONS_PER_ROW)
            for n, link in enumerate(source_links(answer.results, limit=NAV_ROW * BUTTONS_PER_ROW))
        ]
        for button in self._links:
            self.add_item(button)
        self.back.disabled = answer.offset == 0
        self.more.disabled = not answer.has_more

    @property
    def has_navigation(self) -> bool:
        return not (self.back.disabled and self.more.disabled)

    def for_sending(self) -> AnswerView | None:
        """This view, without Back / More (and not waiting for clicks) when there is one page only;
        None when nothing is left to show."""
        if self.has_navigation:
            return self
        self.remove_item(self.back)
        self.remove_item(self.more)
        self.stop()
        return self if self.children else None

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        if interaction.user.id == self.asker_id:
            return True
        await tell_privately(interaction, self.tx("page.not_asker"))
        return False

    @discord.ui.button(label="Back", style=discord.ButtonStyle.secondary, row=NAV_ROW)
    async def back(self, interaction: discord.Interaction, button: discord.ui.Button[AnswerView]) -> None:
        await self._page(interaction, max(0, self.offset - self.page_size))

    @discord.ui.button(label="More", style=discord.ButtonStyle.primary, row=NAV_ROW)
    async def more(self, interaction: discord.Interaction, button: discord.ui.Button[AnswerView]) -> None:
        await self._page(interaction, self.offset + self.page_size)

    async def _page(self, interaction: discord.Interaction, offset: int) -> None:
        await interaction.response.defer()  # an "update" acknowledgement: the message stays as is meanwhile
        self.edit_message = interaction.edit_original_response  # a fresh token for the timeout edit
        answer = await self.desk.answer(self.question, self.filters, offset)
        if not answer.results:
            self.more.disabled = True
            await interaction.edit_original_response(view=self, allowed_mentions=NO_PINGS)
            await tell_privately(interaction, self.tx("answer.no_more"))
            return
        self.show(answer)
        await interaction.edit_original_response(
            embed=answer_embed(answer, self.filters, self.tx), view=self, allowed_mentions=NO_PINGS
        )

    async def on_timeout(self) -> None:
        self.back.disabled = self.more.disabled = True
        if self.edit_message is None:
            return
        try:
            await self.edit_message(view=self, allowed_mentions=NO_PINGS)
        except discord.HTTPException as exc:  # message deleted or token expired: nothing left to disable
            log.info("could not disable the buttons of an answer: %s", exc)

    async def on_error(
        self, interaction: discord.Interaction, error: Exception, item: discord.ui.Item[Any], /
    ) -> None:
        await report_error(interaction, error, f"button {getattr(item, 'label', item)!r}")


class Reply:
    """What to send for an answer: a plain text when nothing is relevant, else an embed and buttons."""

    def __init__(
        self, desk: Desk, answer: Answer, *, asker_id: int, filters: Filters = NO_FILTERS, tx: Texts = EN
    ) -> None:
        self.content: str | None = None
        self.embed: discord.Embed | None = None
        self.view: AnswerView | None = None
        if answer.nothing_relevant or not answer.results:
            self.content = nothing_relevant_text(filters, tx)
            return
        self.embed = answer_embed(answer, filters, tx)
        self.view = AnswerView(desk, answer, asker_id=asker_id, filters=filters, tx=tx).for_sending()

    async def edit_into(self, interaction: discord.Interaction) -> None:
        """Replace the interaction's deferred "thinking…" placeholder with this reply."""
        await interaction.edit_original_response(
            content=self.content, embed=self.embed, view=self.view, allowed_mentions=NO_PINGS
        )
        if self.view is not None:
            self.view.edit_message = interaction.edit_original_response

    async def reply_to(self, message: discord.Message) -> discord.Message:
        """Answer a user's message (a mention or a DM) in its channel, without pinging them."""
        kwargs: dict[str, Any] = {"allowed_mentions": NO_PINGS, "mention_author": False}
        if self.embed is not None:
            kwargs["embed"] = self.embed
        if self.view is not None:
            kwargs["view"] = self.view
        sent = await message.reply(self.content, **kwargs)
        if self.view is not None:
            self.view.edit_message = sent.edit
        return sent
