"""Fault injection for the crash-recovery tests.

``FOREIGN_DESK_KILL_AT=<name>`` makes the process kill itself (SIGKILL, no clean-up) when
indexing reaches checkpoint ``<name>``; the tests use it to prove that a kill at each step
leaves the last good generation serving. Unset, a checkpoint costs one dict lookup.
"""

from __future__ import annotations

import os
import signal

CHECKPOINTS = ("embedded-batch", "staged", "vectors-written", "published", "highlights-batch")


def checkpoint(name: str) -> None:
    if os.environ.get("FOREIGN_DESK_KILL_AT") == name:
        os.kill(os.getpid(), signal.SIGKILL)
