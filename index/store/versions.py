"""Whether a newer version of Foreign Desk made a database: this one must not write it.

``restore`` refuses such a backup and ``doctor`` names such a database (an older version put
back on a data dir a newer one migrated: ``run`` refuses it, ``doctor`` must not call it ok).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from foreign_desk.index.errors import StoreError
from foreign_desk.index.feeds.schema import MIGRATIONS as FEED_MIGRATIONS
from foreign_desk.index.feeds.schema import MIGRATIONS_TABLE as FEED_MIGRATIONS_TABLE
from foreign_desk.index.sqlite import Migrations, refuse_newer
from foreign_desk.index.store.db import DB_NAME
from foreign_desk.index.store.schema import MIGRATIONS

__all__ = ["STORE_TABLES", "newer_version"]

STORE_TABLES = (("schema_migrations", MIGRATIONS), (FEED_MIGRATIONS_TABLE, FEED_MIGRATIONS))
"""The migration tables of the store's database and the migrations this version knows of each."""


def newer_version(db: Path, user_version: Migrations | None) -> str | None:
    """Why ``db`` is a newer version's (its recorded migrations: the store's and the feeds' tables;
    ``user_version``, numbered in ``PRAGMA user_version``, for another, the bot's), or None.
    Raises ``sqlite3.DatabaseError`` where it cannot be read."""
    tables = STORE_TABLES if db.name == DB_NAME else ()
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)
    try:
        for table, known in tables:
            refuse_newer(_recorded(conn, table), known, table)
        if user_version is not None:
            refuse_newer(int(conn.execute("PRAGMA user_version").fetchone()[0]), user_version, "user_version")
    except StoreError as exc:
        return str(exc)
    finally:
        conn.close()
    return None


def _recorded(conn: sqlite3.Connection, table: str) -> int:
    """The last migration recorded in ``table`` (0 without the table: made before it)."""
    if not conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)).fetchone():
        return 0
    return int(conn.execute(f"SELECT coalesce(max(version), 0) FROM {table}").fetchone()[0])
