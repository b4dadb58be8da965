"""One poll of a feed at a time, across every process on the data folder.

The poller of the process doing the background work, an ``/admin fetch`` served by another
process, and a ``foreign-desk fetch`` from cron may poll one feed at the same moment: each then
asked the site for the feed and for every new article's page, and indexed them, as if alone.
A poll holds the feed's lock: an ``asyncio.Lock`` within the process, and an exclusive ``flock``
on ``<data>/feed-locks/<feed id>.lock`` across them (the kernel drops it when its process dies,
however it dies). The one waiting reads the feed after, under the lock, so it asks the site
with the validators the first poll left (an ETag: nothing new is fetched again).
Concurrency: one per ``FeedDesk``; ``hold`` from any task of its event loop.
"""

from __future__ import annotations

import asyncio
import fcntl
import logging
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from foreign_desk.index.errors import StoreError

log = logging.getLogger(__name__)

FOLDER = "feed-locks"
POLL_S = 0.1
"""How often a poll waiting for another process's tries its lock again (a cancel stops the wait)."""


class FeedLocks:
    """The feeds' locks of the data folder whose lock files are in ``folder``."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._local: dict[int, asyncio.Lock] = {}

    @asynccontextmanager
    async def hold(self, feed_id: int) -> AsyncIterator[None]:
        """Hold ``feed_id``'s lock for one poll, waiting for whoever polls it now, here or elsewhere."""
        async with self._local.setdefault(feed_id, asyncio.Lock()):
            fd = await self._take(feed_id)
            try:
                yield
            finally:
                os.close(fd)  # closing the only descriptor drops the flock

    def forget(self, feed_id: int) -> None:
        """Drop the in-process lock of a feed nobody polls any more (its file may stay)."""
        lock = self._local.get(feed_id)
        if lock is not None and not lock.locked():
            del self._local[feed_id]

    async def _take(self, feed_id: int) -> int:
        """A descriptor holding the feed's file lock, once no other process holds it."""
        path = self.folder / f"{feed_id}.lock"
        fd = await asyncio.to_thread(_open, path)
        told = False
        try:
            while not _try(fd):
                if not told:
                    log.info("feed %s is being polled by another process: this poll waits for it", feed_id)
                    told = True
                await asyncio.sleep(POLL_S)
        except BaseException:
            os.close(fd)
            raise
        return fd


def _open(path: Path) -> int:
    """``path`` opened for locking (its folder made if need be); a refusal is a ``StoreError``."""
    try:
        path.parent.mkdir(exist_ok=True)
        return os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise StoreError(f"cannot open the lock file {path}: {exc.strerror or exc}") from None


def _try(fd: int) -> bool:
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True
