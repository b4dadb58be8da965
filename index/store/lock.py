"""One writer at a time: an asyncio lock inside the process, an advisory file lock across them."""

from __future__ import annotations

import asyncio
import fcntl
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from foreign_desk.index.errors import StoreError


class WriterLock:
    """Held by whoever changes the store; readers never take it."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._local = asyncio.Lock()

    @property
    def locked(self) -> bool:
        return self._local.locked()

    @asynccontextmanager
    async def hold(self, *, wait_s: float = 3600.0) -> AsyncIterator[None]:
        async with self._local:
            fd = await asyncio.to_thread(self._acquire, wait_s)
            try:
                yield
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
                os.close(fd)

    def _acquire(self, wait_s: float) -> int:
        import time

        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        deadline = time.monotonic() + wait_s
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return fd
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    os.close(fd)
                    raise StoreError(
                        f"another process is writing to the index ({self.path}); try later"
                    ) from None
                time.sleep(0.1)
