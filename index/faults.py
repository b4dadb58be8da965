"""Fault injection for the crash-recovery tests.

``FOREIGN_DESK_KILL_AT=<name>`` makes the process kill itself (SIGKILL, no clean-up) when it
reaches checkpoint ``<name>``; ``<name>:<n>`` at its ``n``-th visit (a later batch). The tests
use it to prove that a kill at each step leaves the last good generation serving, and
``tests/faults`` draws random (name, n) pairs. Unset, a checkpoint costs one dict lookup.
"""

from __future__ import annotations

import os
import signal
from collections import Counter

CHECKPOINTS = ("embedded-batch", "staged", "vectors-written", "published")
BACKUP_CHECKPOINTS = ("backup-database-copied", "backup-vectors-copied", "backup-written")
RESTORE_CHECKPOINTS = ("restore-staged", "restore-journal-written", "restore-file-replaced")

_visits: Counter[str] = Counter()


def checkpoint(name: str) -> None:
    target = os.environ.get("FOREIGN_DESK_KILL_AT")
    if not target:
        return
    wanted, _, nth = target.partition(":")
    if wanted != name:
        return
    _visits[name] += 1
    if _visits[name] >= int(nth or 1):
        os.kill(os.getpid(), signal.SIGKILL)
