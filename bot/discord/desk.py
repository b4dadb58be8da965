"""What questions go through: a new one, from /ask, the message menu, a mention or a DM alike,
a length check and the per-user cooldown (``cooldowns``: shared by every process); every search,
the pages of the More and Back buttons and the listings on a topic (/latest topic:) included, the
bound on searches in flight and the time they may take.

Concurrency: one ``Desk`` per bot, used from the event loop only; ``answer`` and ``latest`` may be
awaited by any number of tasks at once and let ``max_concurrent_searches`` of them reach the engine.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Awaitable, Callable
from datetime import date
from typing import TypeVar

from foreign_desk.index.engine import Engine
from foreign_desk.index.models import SHARED, Answer, ArticleSummary, Filters, Scope

from .cooldowns import Cooldowns
from .errors import Refusal
from .limits import has_words, plain_words, without_noise
from .settings import BotSettings

log = logging.getLogger(__name__)
NO_FILTERS = Filters()
T = TypeVar("T")


class Desk:
    """Checks questions and runs them against the engine, at most N at a time."""

    def __init__(self, engine: Engine, settings: BotSettings, cooldowns: Cooldowns) -> None:
        self.engine = engine
        self.settings = settings
        self.cooldowns = cooldowns
        self._slots = asyncio.Semaphore(settings.max_concurrent_searches)
        self.in_flight = 0
        self.peak_in_flight = 0

    async def admit(self, user_id: int, question: str) -> str:
        """The cleaned question, or a ``Refusal`` with a friendly reason; starts the cooldown.
        Mentions and custom emoji are no words of it; invisible characters alone, or punctuation
        alone, are no question (and cost no cooldown)."""
        question = plain_words(without_noise(question))
        if not has_words(question):
            raise Refusal("ask.empty")
        limit = self.settings.max_question_chars
        if len(question) > limit:
            raise Refusal("ask.too_long", length=len(question), limit=limit + 1)
        await self.charge(user_id)
        return question

    async def charge(self, user_id: int) -> None:
        """Start the user's cooldown, or a ``Refusal`` while it runs: for a question, and for any
        other search a user starts at will (/latest topic:), which the bound on searches in
        flight alone let one member repeat ahead of every server's questions."""
        wait = await self.cooldowns.admit(user_id)
        if wait > 0:
            raise Refusal("ask.cooldown", seconds=math.ceil(wait))

    async def claim(self, event_id: int) -> bool:
        """Whether this process answers the message or command ``event_id``: another one given it
        too (two gateway sessions on one shard) may have claimed it first (``Cooldowns.claim``)."""
        return await self.cooldowns.claim(event_id)

    async def tells(self, user_id: int, refusal: Refusal) -> bool:
        """Whether a message (a mention, a DM) refused is answered with its refusal: a cooldown's
        at the first refusal of each wait only (``Cooldowns.first_notice``), the others always."""
        return refusal.key != "ask.cooldown" or await self.cooldowns.first_notice(user_id)

    async def answer(
        self,
        question: str,
        filters: Filters = NO_FILTERS,
        offset: int = 0,
        scope: Scope = SHARED,
        now: date | None = None,
    ) -> Answer:
        """One page of results (``results_per_page``) starting after ``offset`` passages, from what
        ``scope`` may see (``scopes``); ``now`` is the asker's day ("kemarin": ``zones``)."""
        k = self.settings.results_per_page
        return await self._search(
            lambda: self.engine.ask(question, k=k, filters=filters, offset=offset, scope=scope, now=now)
        )

    async def latest(
        self, count: int, *, source: str | None = None, topic: str | None = None, scope: Scope = SHARED
    ) -> list[ArticleSummary]:
        """The newest articles ``scope`` may see; on a ``topic`` a search (its words embedded, the
        recent passages scored), so bounded like a question's: it has no cooldown to slow it. A
        topic too long to embed is refused here, in the reader's language (``check_topic``)."""
        if not topic:
            return await self.engine.latest(count, source=source, scope=scope)
        self.check_topic(topic)
        return await self._search(lambda: self.engine.latest(count, source=source, topic=topic, scope=scope))

    def check_topic(self, topic: str) -> None:
        """``Refusal`` for a topic (to list or follow) past the engine's ``search.max_question_chars``,
        which an operator may set below the option's 100: it could not be embedded."""
        limit = self.engine.settings.search.max_question_chars
        if len(topic.strip()) > limit:
            raise Refusal("latest.topic_too_long", length=len(topic.strip()), limit=limit)

    async def _search(self, search: Callable[[], Awaitable[T]]) -> T:
        """``search()`` in one of the search slots; past ``search_timeout_s``, ``ask.busy``."""
        try:
            async with asyncio.timeout(self.settings.search_timeout_s or None):
                async with self._slots:
                    self.in_flight += 1
                    self.peak_in_flight = max(self.peak_in_flight, self.in_flight)
                    try:
                        return await search()
                    finally:
                        self.in_flight -= 1
        except TimeoutError:
            log.warning(
                "search timed out after %.0f s (%d in flight)",
                self.settings.search_timeout_s,
                self.in_flight,
            )
            raise Refusal("ask.busy") from None
