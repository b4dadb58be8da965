"""One message kept up to date with a long job's progress (/admin reindex, /admin fetch)."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Awaitable, Callable
from typing import Any

import discord
from foreign_desk.index.errors import ForeignDeskError
from foreign_desk.index.models import IndexProgress

from .i18n import EN, Texts
from .render import progress_text, starting_text
from .replies import NO_PINGS

log = logging.getLogger(__name__)


class StatusMessage:
    """One message kept up to date with a long job's progress, edited at most once per interval.

    The instance is the engine's progress callback: calling it only records the progress and
    wakes the editing task, so the indexer never waits for Discord.
    """

    def __init__(
        self, edit: Callable[..., Awaitable[Any]], *, interval_s: float, full: bool, tx: Texts = EN
    ) -> None:
        self._edit = edit
        self.interval_s = interval_s
        self.full = full
        self.tx = tx
        self._latest: IndexProgress | None = None
        self._wake = asyncio.Event()
        self._loop = asyncio.get_running_loop()
        self._thread = threading.get_ident()
        self._pump: asyncio.Task[None] | None = None

    def __call__(self, progress: IndexProgress) -> None:
        self._latest = progress
        self.changed()

    def changed(self) -> None:
        """Wake the editing task (from any thread)."""
        if threading.get_ident() == self._thread:
            self._wake.set()
        else:
            self._loop.call_soon_threadsafe(self._wake.set)

    def starting(self) -> str:
        return starting_text(self.full, self.tx)

    def text(self) -> str | None:
        """The status to show now, or None when there is nothing new to say."""
        return progress_text(self._latest, self.full, self.tx) if self._latest is not None else None

    async def start(self) -> None:
        await self.show(self.starting())
        self._pump = asyncio.create_task(self._run(), name="status-message")

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            text = self.text()
            if text is not None:
                await self.show(text)
            await asyncio.sleep(self.interval_s)

    async def stop(self) -> None:
        if self._pump is not None:
            self._pump.cancel()
            await asyncio.gather(self._pump, return_exceptions=True)
            self._pump = None

    async def finish(self, text: str) -> None:
        await self.stop()
        await self.show(text)

    async def follow(self, job: asyncio.Task[Any], failure: Callable[[str], str]) -> Any | None:
        """Show progress until ``job`` ends; returns its result, or None after showing ``failure``
        of a user-facing error. The job is shielded: a cancelled command does not stop it."""
        await self.start()
        try:
            return await asyncio.shield(job)
        except ForeignDeskError as exc:
            await self.finish(failure(str(exc)))
            return None
        except BaseException:
            await self.stop()
            raise

    async def show(self, text: str) -> None:
        try:
            await self._edit(content=text, allowed_mentions=NO_PINGS)
        except discord.HTTPException as exc:  # e.g. the 15-minute interaction token expired
            log.warning("could not update a status message: %s", exc)
