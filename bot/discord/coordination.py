"""How the processes of one bot on one data folder share the work: which of them does the
background work, and how they space their gateway IDENTIFYs.

Every process answers questions for the shards it runs. The background work (polling feeds and
indexing what they bring, posting topic alerts, forgetting servers the bot left) is done by one
process at a time: the holder of ``BackgroundLease``, an exclusive ``flock`` on
``<data>/background.lock`` kept for as long as the process runs. The kernel drops the lock when
its process dies, however it dies (SIGKILL included), and a standby process, which tries again
every ``takeover_check_s``, takes the work over. Advisory locks need a local file system: the
processes must share one machine (see README, "Deploying for many servers").

Discord lets a bot IDENTIFY once per 5 seconds (per ``max_concurrency`` bucket); discord.py
spaces the shards of one process but not those of several. ``IdentifyGate`` keeps the time of
the last IDENTIFY in ``<data>/identify.lock`` under a lock, so processes started together take
turns.
"""

from __future__ import annotations

import asyncio
import fcntl
import logging
import os
import time
from pathlib import Path

log = logging.getLogger(__name__)


def _try_lock(path: Path, note: str | None = None) -> int | None:
    """An fd holding an exclusive ``flock`` on ``path`` (which then says ``note``), or None when
    another process holds it."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    if note is not None:
        os.ftruncate(fd, 0)
        os.pwrite(fd, note.encode(), 0)
    return fd


class BackgroundLease:
    """The right to do the data folder's background work; ``await acquire()`` waits for it.

    Concurrency: one instance per process; ``acquire`` from one task, ``release`` from any.
    """

    def __init__(self, data_dir: Path, *, check_s: float) -> None:
        self.path = data_dir / "background.lock"
        self.check_s = check_s
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    async def try_acquire(self) -> bool:
        """Take the lease if no other process holds it; True when this process holds it now."""
        if self._fd is None:
            note = f"pid {os.getpid()} since {time.strftime('%Y-%m-%d %H:%M:%S')}\n"
            self._fd = await asyncio.to_thread(_try_lock, self.path, note)
        return self._fd is not None

    async def acquire(self) -> None:
        """Wait until this process holds the lease (another one may hold it for a long time)."""
        waited = False
        while not await self.try_acquire():
            if not waited:
                log.info("another process does the background work; this one stands by")
                waited = True
            await asyncio.sleep(self.check_s)
        log.info(
            "this process (pid %d) %s the background work: feed polling, indexing, alerts",
            os.getpid(),
            "takes over" if waited else "does",
        )

    def release(self) -> None:
        """Give the work up (the file keeps naming the last holder, for whoever looks)."""
        fd, self._fd = self._fd, None
        if fd is not None:
            os.close(fd)  # closing the only descriptor drops the flock


class IdentifyGate:
    """Spaces the IDENTIFYs of every process using one data folder by ``spacing_s`` seconds."""

    def __init__(self, data_dir: Path, *, spacing_s: float, poll_s: float = 0.05) -> None:
        self.path = data_dir / "identify.lock"
        self.spacing_s = spacing_s
        self.poll_s = poll_s

    async def wait_turn(self) -> None:
        """Return when this process may IDENTIFY; records the moment for the others."""
        if self.spacing_s <= 0 or not self.path.parent.is_dir():
            return
        while True:
            fd = await asyncio.to_thread(_try_lock, self.path)
            if fd is not None:
                try:
                    wait = await asyncio.to_thread(self._claim, fd)
                finally:
                    os.close(fd)
                if wait <= 0:
                    return
                await asyncio.sleep(wait)
            else:
                await asyncio.sleep(self.poll_s)

    def _claim(self, fd: int) -> float:
        """Under the lock: the seconds still to wait, or 0 after recording this IDENTIFY."""
        raw = os.pread(fd, 64, 0).decode(errors="replace").strip()
        try:
            last = float(raw)
        except ValueError:
            last = 0.0
        now = time.time()
        wait = last + self.spacing_s - now
        if wait > 0 and wait <= self.spacing_s:  # a clock set back leaves a stale future time: ignore it
            return wait
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{now:.3f}\n".encode(), 0)
        return 0.0
