"""What every question goes through, from /ask, the More button, a mention or a DM alike:
a length check, the per-user cooldown, and a bound on searches in flight.

Concurrency: one ``Desk`` per bot, used from the event loop only; ``answer`` may be awaited by
any number of tasks at once and lets ``max_concurrent_searches`` of them reach the engine.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Callable

from foreign_desk.index.engine import Engine
from foreign_desk.index.models import SHARED, Answer, Filters, Scope

from .errors import Refusal
from .settings import BotSettings

log = logging.getLogger(__name__)
NO_FILTERS = Filters()


class Cooldowns:
    """Per-user cooldown from monotonic timestamps; a refused attempt does not restart the wait."""

    def __init__(self, seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.seconds = seconds
        self.clock = clock
        self._last: dict[int, float] = {}

    def remaining(self, user_id: int) -> float:
        last = self._last.get(user_id)
        if last is None or self.seconds <= 0:
            return 0.0
        return max(0.0, last + self.seconds - self.clock())

    def hit(self, user_id: int) -> None:
        """Start ``user_id``'s cooldown now (and forget users whose cooldown is long over)."""
        if self.seconds <= 0:
            return
        now = self.clock()
        if len(self._last) > 1000:
            self._last = {u: t for u, t in self._last.items() if now - t < self.seconds}
        self._last[user_id] = now


class Desk:
    """Checks questions and runs them against the engine, at most N at a time."""

    def __init__(self, engine: Engine, settings: BotSettings) -> None:
        self.engine = engine
        self.settings = settings
        self.cooldowns = Cooldowns(settings.cooldown_s)
        self._slots = asyncio.Semaphore(settings.max_concurrent_searches)
        self.in_flight = 0
        self.peak_in_flight = 0

    def admit(self, user_id: int, question: str) -> str:
        """The cleaned question, or a ``Refusal`` with a friendly reason; starts the cooldown."""
        question = " ".join(question.split())
        if not question:
            raise Refusal("ask.empty")
        limit = self.settings.max_question_chars
        if len(question) > limit:
            raise Refusal("ask.too_long", length=len(question), limit=limit + 1)
        wait = self.cooldowns.remaining(user_id)
        if wait > 0:
            raise Refusal("ask.cooldown", seconds=math.ceil(wait))
        self.cooldowns.hit(user_id)
        return question

    async def answer(
        self, question: str, filters: Filters = NO_FILTERS, offset: int = 0, scope: Scope = SHARED
    ) -> Answer:
        """One page of results (``results_per_page``) starting after ``offset`` passages, from what
        ``scope`` may see (``scopes``)."""
        try:
            async with asyncio.timeout(self.settings.search_timeout_s or None):
                async with self._slots:
                    self.in_flight += 1
                    self.peak_in_flight = max(self.peak_in_flight, self.in_flight)
                    try:
                        return await self.engine.ask(
                            question,
                            k=self.settings.results_per_page,
                            filters=filters,
                            offset=offset,
                            scope=scope,
                        )
                    finally:
                        self.in_flight -= 1
        except TimeoutError:
            log.warning(
                "question timed out after %.0f s (%d in flight)",
                self.settings.search_timeout_s,
                self.in_flight,
            )
            raise Refusal("ask.busy") from None
