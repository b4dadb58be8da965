"""SQLite plumbing shared by the store and the feed state: connections, numbered migrations,
``IN`` queries over many keys, timestamps.

Both keep their tables in one database file; each owns its migrations and the table that
records which of them ran (``schema_migrations`` for the store, ``feed_schema_migrations``
for the feeds), so either can change its tables without touching the other's.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiosqlite

log = logging.getLogger(__name__)

Migrations = Sequence[tuple[int, str]]
"""(version, SQL script) pairs, in the order they are applied."""

IN_CHUNK = 900
"""Keys bound per ``IN (...)`` statement: SQLite's default limit on bound parameters is 999."""
BUSY_TIMEOUT_MS = 10_000
"""How long a statement waits for another connection's write lock before it fails."""
JOURNAL_SIZE_LIMIT = 64 * 1024 * 1024
"""Bytes the write-ahead log keeps after a checkpoint; a big indexing run's log is cut back."""


def now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


async def connect(path: Path) -> aiosqlite.Connection:
    """A connection with the pragmas every connection needs (WAL, foreign keys, patience)."""
    conn = await aiosqlite.connect(path, isolation_level=None)
    try:
        conn.row_factory = aiosqlite.Row
        await conn.execute("PRAGMA journal_mode=WAL")
        await conn.execute("PRAGMA synchronous=FULL")
        await conn.execute("PRAGMA foreign_keys=ON")
        await conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        await conn.execute(f"PRAGMA journal_size_limit={JOURNAL_SIZE_LIMIT}")
    except BaseException:  # a damaged file: close, or aiosqlite's thread keeps the process alive
        await conn.close()
        raise
    return conn


async def migrate(
    conn: aiosqlite.Connection, migrations: Migrations, table: str = "schema_migrations"
) -> None:
    """Apply the ``migrations`` not yet recorded in ``table``, in order, each in its own transaction."""
    await conn.execute(
        f"CREATE TABLE IF NOT EXISTS {table} (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)"
    )
    async with conn.execute(f"SELECT coalesce(max(version), 0) FROM {table}") as cur:
        row = await cur.fetchone()
    current = int(row[0]) if row else 0
    for version, sql in migrations:
        if version <= current:
            continue
        await conn.execute("BEGIN IMMEDIATE")
        try:
            # Re-check inside the transaction: another process may have just migrated.
            async with conn.execute(f"SELECT 1 FROM {table} WHERE version = ?", (version,)) as cur:
                if await cur.fetchone():
                    await conn.execute("ROLLBACK")
                    continue
            for statement in _statements(sql):
                await conn.execute(statement)
            insert = f"INSERT INTO {table}(version, applied_at) VALUES (?, ?)"
            await conn.execute(insert, (version, now_iso()))
            await conn.execute("COMMIT")
        except BaseException:
            await conn.execute("ROLLBACK")
            raise
        log.info("applied %s migration %d", table, version)


def _statements(sql: str) -> list[str]:
    """Split a migration script into statements (triggers contain inner semicolons)."""
    out: list[str] = []
    buf: list[str] = []
    for line in sql.splitlines():
        buf.append(line)
        text = "\n".join(buf).strip()
        if text.endswith(";") and (
            not text.upper().startswith("CREATE TRIGGER") or text.upper().endswith("END;")
        ):
            out.append(text)
            buf = []
    if "\n".join(buf).strip():
        out.append("\n".join(buf).strip())
    return out


async def rows_in(
    conn: aiosqlite.Connection, sql: str, keys: Iterable[Any], params: dict[str, Any] | None = None
) -> list[aiosqlite.Row]:
    """Rows of ``sql`` for every key, where ``IN (:keys)`` in ``sql`` takes the keys, ``IN_CHUNK``
    at a time; ``params`` binds the statement's other names."""
    unique = list(dict.fromkeys(keys))
    rows: list[aiosqlite.Row] = []
    for chunk in chunks(unique, IN_CHUNK):
        names = {f"k{i}": key for i, key in enumerate(chunk)}
        statement = sql.replace(":keys", ",".join(f":{name}" for name in names))
        async with conn.execute(statement, {**names, **(params or {})}) as cur:
            rows.extend(await cur.fetchall())
    return rows


def chunks(items: list[Any], size: int = IN_CHUNK) -> Iterable[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
