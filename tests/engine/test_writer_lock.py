"""The writer lock and the open lock: a run waiting for another process (its writer, a restore)
stops at Ctrl-C, holding nothing."""

from __future__ import annotations

import fcntl
import os
import signal
import subprocess
import sys
from pathlib import Path

from foreign_desk.index.store.db import OPEN_LOCK
from foreign_desk.index.store.lock import open_lock_file, try_lock

ROOT = Path(__file__).resolve().parents[2]
WAITER = """
import asyncio, sys
from pathlib import Path
from foreign_desk.index.store.lock import WriterLock

async def main():
    async with WriterLock(Path(sys.argv[1])).hold(waiting=lambda: print("waiting", flush=True)):
        print("held", flush=True)

asyncio.run(main())
"""
OPENER = """
import asyncio, sys
from pathlib import Path
from foreign_desk.index.store.db import Store

async def main():
    print("opening", flush=True)
    await Store.open(Path(sys.argv[1]))
    print("opened", flush=True)

asyncio.run(main())
"""


def held_elsewhere(path: Path) -> int:
    """A descriptor holding ``path`` exclusively, as another process would (a writer, a restore)."""
    fd = open_lock_file(path)
    assert try_lock(fd, fcntl.LOCK_EX)
    return fd


def interrupted(script: str, path: Path, says: str) -> tuple[int, str]:
    """Run ``script`` on ``path`` until it prints ``says`` (it then waits for the lock), press
    Ctrl-C, and return its exit code and what it printed after."""
    waiter = subprocess.Popen(
        [sys.executable, "-c", script, str(path)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert waiter.stdout is not None and waiter.stdout.readline() == says
        waiter.send_signal(signal.SIGINT)
        out, _ = waiter.communicate(timeout=30)  # a hang guard: the lock is held past the test
    finally:
        waiter.kill()
    return waiter.returncode, out


def test_ctrl_c_stops_a_wait_for_another_writer(tmp_path: Path) -> None:
    path = tmp_path / "writer.lock"
    held = held_elsewhere(path)  # another process's writer, for as long as the test runs
    try:
        code, out = interrupted(WAITER, path, "waiting\n")
    finally:
        os.close(held)
    assert code != 0 and "held" not in out
    fd = open_lock_file(path)
    assert try_lock(fd, fcntl.LOCK_EX)  # the interrupted waiter left nothing holding it
    os.close(fd)


def test_ctrl_c_stops_an_open_waiting_for_a_restore(tmp_path: Path) -> None:
    """Opening the store waits (up to a minute) while a restore holds the data folder; Ctrl-C
    stops that wait at once, while the restore still runs."""
    held = held_elsewhere(tmp_path / OPEN_LOCK)  # a restore, for as long as the test runs
    try:
        code, out = interrupted(OPENER, tmp_path, "opening\n")
    finally:
        os.close(held)
    assert code != 0 and "opened" not in out
