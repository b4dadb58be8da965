"""Background housekeeping of the process holding the background lease: forgetting the servers
the bot left ``forget_after_days`` ago (their feeds and own articles, ``feeds.servers``; their
time zones, ``answers``), the records of pages ingested and of removed feeds' items whose
articles left the index, the topic matches that guard no alert any more, and the follows the bot
stopped more than a week ago (``FeedDesk.prune``, which fetches and ingests also run, hourly, for
deployments without the bot).

It looks once at start and then every ``every_s``; a failure is logged and tried again at the
next look. Concurrency: one task; ``stop`` may be awaited from any task.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING

from foreign_desk.index.feeds import FeedDesk

if TYPE_CHECKING:
    from .answers import AnswerStore

log = logging.getLogger(__name__)

DAY_S = 86400.0


class Housekeeping:
    """``start`` once; ``await stop()``. ``runs`` counts the looks done (for logs and tests)."""

    def __init__(
        self, feeds: FeedDesk, answers: AnswerStore, *, forget_after_days: float, every_s: float
    ) -> None:
        self.feeds = feeds
        self.answers = answers
        self.forget_after_s = forget_after_days * DAY_S
        self.every_s = every_s
        self.runs = 0
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="housekeeping")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _run(self) -> None:
        while True:
            try:
                forgotten = await self.feeds.forget_departed(self.forget_after_s, self.answers.forget_server)
                if forgotten:
                    log.info("forgot %d server(s) the bot left: %s", len(forgotten), forgotten)
            except Exception:  # the store is busy or a bug: say so, look again later
                log.exception("housekeeping: forgetting departed servers failed")
            await self.feeds.prune()  # every look: fetches and ingests prune only hourly
            self.runs += 1
            await asyncio.sleep(self.every_s)
