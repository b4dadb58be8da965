"""One writer at a time: an asyncio lock inside the process, an advisory file lock across them;
and ``OpenLock``: every process with a data folder open holds it shared, so ``restore``, which
replaces the index under them, can tell that one is running."""

from __future__ import annotations

import asyncio
import fcntl
import os
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

from foreign_desk.index.errors import WRITER_BUSY, StoreBusy, StoreError


class WriterLock:
    """Held by whoever changes the store; readers never take it."""

    def __init__(self, path: Path, *, create: bool = True) -> None:
        self.path = path
        self.create = create
        """Whether the lock file is made if missing; else it is only opened to read (a folder
        that cannot be written: ``flock`` needs no write access)."""
        self._local = asyncio.Lock()

    @property
    def locked(self) -> bool:
        return self._local.locked()

    @asynccontextmanager
    async def hold(
        self, *, wait_s: float = 3600.0, waiting: Callable[[], None] | None = None
    ) -> AsyncIterator[None]:
        """Hold the lock, waiting up to ``wait_s`` for another process's writer; ``waiting`` is
        called (on the loop, once) when another writer holds it, so a status can say so."""
        if waiting is not None and self._local.locked():
            waiting()
            waiting = None
        async with self._local:
            busy = f"{WRITER_BUSY} ({self.path}); try later"
            fd = await wait_lock(self.path, fcntl.LOCK_EX, wait_s, busy, waiting, create=self.create)
            try:
                yield
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
                os.close(fd)


class OpenLock:
    """Held shared from a store's opening to its closing; ``alone`` holds it exclusively, for
    what must not happen under a running process (a restore)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    async def share(self, wait_s: float = 60.0) -> None:
        busy = f"the data folder is being restored ({self.path}); try again when it is done"
        self._fd = await wait_lock(self.path, fcntl.LOCK_SH, wait_s, busy)

    async def alone(self) -> None:
        busy = (
            "a running Foreign Desk process (the bot, or another command) has this data folder "
            "open: stop it first"
        )
        self._fd = await wait_lock(self.path, fcntl.LOCK_EX, 0, busy)

    def take_alone(self, busy: str) -> None:
        """From shared to exclusive, at once, or ``StoreBusy(busy)`` holding it shared again (a
        conversion that fails may have let go of it). Blocking: call it off the loop."""
        assert self._fd is not None
        if not try_lock(self._fd, fcntl.LOCK_EX):
            fcntl.flock(self._fd, fcntl.LOCK_SH)
            raise StoreBusy(busy)

    def share_again(self) -> None:
        """From exclusive back to shared. Blocking: call it off the loop."""
        assert self._fd is not None
        fcntl.flock(self._fd, fcntl.LOCK_SH)

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None


async def wait_lock(
    path: Path,
    mode: int,
    wait_s: float,
    busy: str,
    waiting: Callable[[], None] | None = None,
    *,
    create: bool = True,
) -> int:
    """A file descriptor of ``path`` holding an advisory lock (``mode``): tried at once, then, while
    another process holds it, again every tenth of a second on the loop (a non-blocking call), so a
    cancel (Ctrl-C) stops the wait; ``StoreBusy(busy)`` after ``wait_s``. ``waiting`` is called
    once when the lock is held elsewhere, so a status can say so (``create``: ``open_lock_file``)."""
    fd = await asyncio.to_thread(open_lock_file, path, create=create)
    try:
        deadline = asyncio.get_running_loop().time() + wait_s
        while not try_lock(fd, mode):
            if asyncio.get_running_loop().time() >= deadline:
                raise StoreBusy(busy)
            if waiting is not None:
                waiting()
                waiting = None
            await asyncio.sleep(0.1)
    except BaseException:
        os.close(fd)
        raise
    return fd


def open_lock_file(path: Path, *, create: bool = True) -> int:
    """``path`` opened for locking, created if need be (else opened to read, as it is); a
    file-system refusal is a ``StoreError``."""
    try:
        return os.open(path, os.O_RDWR | os.O_CREAT, 0o644) if create else os.open(path, os.O_RDONLY)
    except OSError as exc:
        raise StoreError(f"cannot open the lock file {path}: {exc.strerror or exc}") from None


def try_lock(fd: int, mode: int) -> bool:
    """Whether the lock (``mode``) on ``fd`` was taken, without waiting for it."""
    try:
        fcntl.flock(fd, mode | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True
