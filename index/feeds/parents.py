"""The parent channel of threads followed before feeds migration 18, learnt as the bot meets them.

``follows.parent_id`` lets a deleted channel take its threads' follows along (``drops``); a
thread followed before it was kept has NULL there, so its follows stayed until their next alert
met Discord's 10003. Wherever the bot sees such a thread with its parent (an alert posted in it,
``/following`` run in it, the threads a server's READY lists), it records the parent here, from
whichever process sees it.
Concurrency: may be awaited from many tasks; the write goes through ``StateDB``'s lock.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Mapping

from foreign_desk.index.feeds.state import StateDB

log = logging.getLogger(__name__)

CHUNK = 500
"""Thread ids per look-up (well under SQLite's limit on a statement's values)."""
SQL_ORPHANS = "SELECT DISTINCT channel_id FROM follows WHERE parent_id IS NULL AND channel_id IN ({marks})"
SQL_ADOPT = "UPDATE follows SET parent_id = ? WHERE channel_id = ? AND parent_id IS NULL"


async def learn_parents(db: StateDB, parents: Mapping[int, int | None]) -> int:
    """Record ``parents`` (thread id → its channel's id) for the follows of those threads that
    lack one; returns how many threads learnt theirs. Reads first (through the channel index), so
    the usual call, where every follow knows its parent already, writes nothing and waits for no
    lock. Best effort: a store too busy to take it now learns it the next time (logged)."""
    try:
        orphans = await _orphans(db, [thread for thread, parent in parents.items() if parent])
        if orphans:
            async with db.transaction() as conn:
                for thread in orphans:
                    await conn.execute(SQL_ADOPT, (parents[thread], thread))
    except sqlite3.OperationalError as exc:  # busy: an alert or a command must not fail on it
        log.info("could not record the channel of followed threads yet (%s)", exc)
        return 0
    if orphans:
        log.info("recorded the channel of %d thread(s) followed before it was kept", len(orphans))
    return len(orphans)


async def _orphans(db: StateDB, threads: list[int]) -> list[int]:
    """Those of ``threads`` with a follow that has no ``parent_id``."""
    found: list[int] = []
    for start in range(0, len(threads), CHUNK):
        chunk = threads[start : start + CHUNK]
        rows = await db.rows(SQL_ORPHANS.format(marks=",".join("?" * len(chunk))), chunk)
        found += [int(row[0]) for row in rows]
    return found
