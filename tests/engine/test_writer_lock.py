"""The writer lock: a run waiting for another process's writer stops at Ctrl-C, holding nothing."""

from __future__ import annotations

import fcntl
import os
import signal
import subprocess
import sys
from pathlib import Path

from foreign_desk.index.store.lock import flock, open_lock_file, try_lock

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


def test_ctrl_c_stops_a_wait_for_another_writer(tmp_path: Path) -> None:
    path = tmp_path / "writer.lock"
    held = flock(path, fcntl.LOCK_EX, 0, "busy")  # another process's writer, for as long as the test runs
    waiter = subprocess.Popen(
        [sys.executable, "-c", WAITER, str(path)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert waiter.stdout is not None and waiter.stdout.readline() == "waiting\n"
        waiter.send_signal(signal.SIGINT)
        out, _ = waiter.communicate(timeout=60)  # a hang guard: the other writer never lets go
    finally:
        waiter.kill()
        os.close(held)
    assert waiter.returncode != 0 and "held" not in out
    fd = open_lock_file(path)
    assert try_lock(fd, fcntl.LOCK_EX)  # the interrupted waiter left nothing holding it
    os.close(fd)
