"""A data dir is upgraded (migrated) only by a process that has it to itself.

A process of the version before still running on it (another shard's ``run``, a long ``index``)
would go on writing as it knows the tables the migration changes. Every process with the data
dir open holds ``open.lock`` shared, so the process that must migrate asks for it exclusively,
at once, and refuses in one line when it cannot have it, with nothing migrated. So does a front
end migrating its own database in the data dir (the Discord bot's ``discord.sqlite3``), through
``Store.upgrading`` or, without the store open, ``upgrading_alone``.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

from foreign_desk.index.sqlite import Migrations
from foreign_desk.index.store.lock import OpenLock

__all__ = ["UPGRADE_BUSY", "alone_to_upgrade", "behind", "upgrading_alone"]

UPGRADE_BUSY = (
    "this version of Foreign Desk must upgrade the data folder's tables, and another Foreign Desk "
    "process (the bot, or another command, perhaps of the version before) has it open: stop every "
    "process on it, then run this again (nothing was changed)"
)


FEEDS_TABLE, FEEDS_LATEST = "feed_schema_migrations", 20
"""The feeds' tables' migrations table and newest migration (``feeds.schema``; a test keeps them
equal): importing the feeds package to read them cost every answering process ~0.3 s at start."""


def behind(db_path: Path, migrations: Migrations) -> bool:
    """Whether the database was migrated by an older version: the store's tables lack one of
    ``migrations``, or the feeds' tables one of theirs. A new database (nothing migrated yet) is
    not behind: two processes may make it at once."""
    if not db_path.exists():
        return False
    latest = max(version for version, _ in migrations)
    uri = f"{db_path.absolute().as_uri()}?mode=ro"  # a relative --data-dir has no URI of its own
    with contextlib.closing(sqlite3.connect(uri, uri=True, timeout=30)) as conn:
        for table, newest in (("schema_migrations", latest), (FEEDS_TABLE, FEEDS_LATEST)):
            try:
                current = conn.execute(f"SELECT coalesce(max(version), 0) FROM {table}").fetchone()[0]
            except sqlite3.Error:  # no such table yet, or damage: opening it says what is wrong
                continue
            if 0 < int(current) < newest:
                return True
    return False


@contextlib.asynccontextmanager
async def alone_to_upgrade(opened: OpenLock) -> AsyncIterator[None]:
    """``opened`` (held shared) held exclusively while what an older version made is migrated;
    ``StoreBusy(UPGRADE_BUSY)`` at once while another process holds it."""
    await asyncio.to_thread(opened.take_alone, UPGRADE_BUSY)
    try:
        yield
    finally:
        await asyncio.to_thread(opened.share_again)


@contextlib.asynccontextmanager
async def upgrading_alone(lock_path: Path) -> AsyncIterator[None]:
    """``alone_to_upgrade`` for a process without the store open (``feedback export``): the open
    lock at ``lock_path`` taken, then held alone while it migrates."""
    opened = OpenLock(lock_path)
    await opened.share()
    try:
        async with alone_to_upgrade(opened):
            yield
    finally:
        opened.release()
