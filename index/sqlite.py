"""SQLite plumbing shared by the store and the feed state: connections, numbered migrations,
``IN`` queries over many keys, timestamps.

Both keep their tables in one database file; each owns its migrations and the table that
records which of them ran (``schema_migrations`` for the store, ``feed_schema_migrations``
for the feeds), so either can change its tables without touching the other's.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sqlite3
import threading
import weakref
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiosqlite
from foreign_desk.index.errors import StoreError
from foreign_desk.index.faults import checkpoint

log = logging.getLogger(__name__)

Migrations = Sequence[tuple[int, str]]
"""(version, SQL script) pairs, in the order they are applied."""
Slow = Mapping[int, tuple[str, str]]
"""Migrations that take a while on a big database: version -> (SQL counting the rows it works
through, a warning with ``{n}``), said before it runs so that an upgrade is not a silent wait."""

IN_CHUNK = 900
"""Keys bound per ``IN (...)`` statement: SQLite's default limit on bound parameters is 999."""
BUSY_TIMEOUT_MS = 10_000
"""How long a statement waits for another connection's write lock before it fails."""
JOURNAL_SIZE_LIMIT = 64 * 1024 * 1024
"""Bytes the write-ahead log keeps after a checkpoint; a big indexing run's log is cut back."""
PAGE_SIZE = 16_384
"""Page size of a database file made from now on (SQLite's default: 4,096); a file that exists
keeps its own. Indexing writes every page twice (the log, then the checkpoint), ~2 pages per
passage with their vectors: at 16 KiB there are a quarter as many, and SQLite's and the kernel's
work per page went with them (100k passages, stand-in embedder: commits 5.9 -> 3.9 s of CPU).
A sentence-vector row (~5.4 KB) fits in a page instead of spilling to an overflow page."""


READ_CACHE_KIB = 64 * 1024
"""Page cache of each thread's read-only connection: a search reads ~100 passage rows, their
vectors and sentence vectors (overflow pages); SQLite's default 2 MB cache keeps few of them.
Past the memory map (a 100k-passage store is 1.1 GB) each page missed is a ``pread``: 300
distinct questions at 100k read 459 pages each with 32 MB, 376 with 64 MB (CPU p50 12.5 ->
11.6 ms). The question thread's re-ranking once had a 32 MB cache of its own: the same
memory in one cache (``Store.readers``)."""
READ_MAP_BYTES = 256 * 1024 * 1024
"""How much of the database file a read-only connection reads through a memory map instead of
``read`` calls (a sixth of a search's CPU at 10k passages). Only SQLite writes the file, so the
map never sees it cut short; bounded, because the mapped pages a long-running reader touches
count as its resident memory (mapping 2 GiB saved a fifth of a search's CPU at 100k, but a
serving process at 1M passages would then grow past issue 11's 1 GB)."""


class ReadConnections:
    """One read-only connection per thread to the database at ``path``, for the threads that
    read synchronously (the question thread, FAISS re-ranking); ``close`` closes them all."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._local = threading.local()
        self._opened: list[sqlite3.Connection] = []
        self._lock = threading.Lock()

    def get(self) -> sqlite3.Connection:
        """This thread's connection (autocommit: a caller opens its own read transaction)."""
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            uri = reader_uri(self.path)
            # Used by its own thread only; ``close`` may come from another once that one is done.
            conn = sqlite3.connect(uri, uri=True, isolation_level=None, check_same_thread=False)
            conn.execute("PRAGMA query_only=ON")
            conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
            conn.execute(f"PRAGMA cache_size=-{READ_CACHE_KIB}")
            conn.execute(f"PRAGMA mmap_size={READ_MAP_BYTES}")
            self._local.conn = conn
            with self._lock:
                self._opened.append(conn)
        return conn

    def close(self) -> None:
        """Close every thread's connection; call when no thread reads any more."""
        with self._lock:
            opened, self._opened = self._opened, []
        for conn in opened:
            conn.close()
        self._local = threading.local()


def error_code(exc: sqlite3.Error) -> int:
    """The primary SQLite result code of ``exc`` (``SQLITE_BUSY`` …; an extended one's base), 0 if none."""
    return (getattr(exc, "sqlite_errorcode", None) or 0) & 0xFF


def database_problem(exc: sqlite3.Error) -> str:
    """What a SQLite error means to the user, from its code: only a damaged file is sent to
    ``doctor`` (a full disk or a failed read or write is no damage, and doctor would say ok)."""
    code = error_code(exc)
    if code == sqlite3.SQLITE_FULL:
        return f"the disk is full ({exc})"
    if code in (sqlite3.SQLITE_IOERR, sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_READONLY, sqlite3.SQLITE_PERM):
        return f"cannot read or write the database file ({exc})"
    if code in (sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB):
        return f"the database is damaged ({exc}): run `foreign-desk doctor`"
    return f"the database failed ({exc})"


def now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def reader_uri(path: Path) -> str:
    """A read-only connection's URI: ``mode=ro`` (it sees other processes' commits through the
    -shm file), or ``read_only_uri`` in a folder that cannot be written, where no -shm can be made."""
    return f"file:{path}?mode=ro" if os.access(path.parent, os.W_OK) else read_only_uri(path)


def read_only_uri(path: Path) -> str:
    """A URI that reads ``path`` in a folder that cannot be written (a read-only copy or mount),
    where SQLite cannot create the -shm file of a WAL database: ``immutable`` (no -shm, no
    locks), unless a -wal file holds changes not yet in the database: only a ``mode=ro`` reader
    sees those (with the -shm beside it)."""
    try:
        pending = path.with_name(f"{path.name}-wal").stat().st_size > 0
    except OSError:
        pending = False
    return f"file:{path}?mode=ro" + ("" if pending else "&immutable=1")


_LOOPS: weakref.WeakKeyDictionary[aiosqlite.Connection, asyncio.AbstractEventLoop] = (
    weakref.WeakKeyDictionary()
)
"""Each connection ``open_connection`` made, with the event loop it was opened on (``stop_abandoned``)."""


async def open_connection(database: str | Path, **kwargs: Any) -> aiosqlite.Connection:
    """``aiosqlite.connect(database, isolation_level=None, **kwargs)``, known to ``stop_abandoned``."""
    pending = aiosqlite.connect(database, isolation_level=None, **kwargs)
    _LOOPS[pending] = asyncio.get_running_loop()  # before its thread starts: known at any moment after
    return await pending


def stop_abandoned() -> None:
    """Stop every connection ``open_connection`` made on an event loop closed since: no coroutine can
    close it any more (a second Ctrl-C cut its owner's cleanup short), and its thread, no
    daemon (aiosqlite 0.22), would keep the process from ever exiting. The thread closes it
    (what was not committed is rolled back, as after a kill) and ends; stopping one closed
    already changes nothing."""
    for conn, loop in list(_LOOPS.items()):
        stop = getattr(conn, "stop", None)  # aiosqlite 0.22.1 (before 0.22 its thread was a daemon)
        if loop.is_closed() and stop is not None:
            stop()


async def connect(path: Path) -> aiosqlite.Connection:
    """A connection with the pragmas every connection needs (WAL, foreign keys, patience)."""
    conn = await open_connection(path)
    try:
        conn.row_factory = aiosqlite.Row
        await conn.execute(f"PRAGMA page_size={PAGE_SIZE}")  # a new file only: before WAL is on
        await conn.execute("PRAGMA journal_mode=WAL")
        await conn.execute("PRAGMA synchronous=FULL")
        await conn.execute("PRAGMA foreign_keys=ON")
        await conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        await conn.execute(f"PRAGMA journal_size_limit={JOURNAL_SIZE_LIMIT}")
    except BaseException:  # a damaged file: close, or aiosqlite's thread keeps the process alive
        await conn.close()
        raise
    return conn


async def connect_reader(path: Path) -> aiosqlite.Connection:
    """A query-only ``connect``ion: in WAL mode it reads the last commit, never a transaction
    still open on another connection, and never waits for a writer."""
    conn = await connect(path)
    try:
        await conn.execute("PRAGMA query_only=ON")
    except BaseException:
        await conn.close()
        raise
    return conn


async def migrate(
    conn: aiosqlite.Connection,
    migrations: Migrations,
    table: str = "schema_migrations",
    slow: Slow | None = None,
) -> None:
    """Apply the ``migrations`` not yet recorded in ``table``, in order, each in its own transaction;
    one of ``slow`` with rows to work through says so first (one warning line)."""
    await conn.execute(
        f"CREATE TABLE IF NOT EXISTS {table} (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)"
    )
    async with conn.execute(f"SELECT coalesce(max(version), 0) FROM {table}") as cur:
        row = await cur.fetchone()
    current = int(row[0]) if row else 0
    refuse_newer(current, migrations, table)
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
            if version in (slow or {}):
                await _announce(conn, *(slow or {})[version])
            for statement in _statements(sql):
                await conn.execute(statement)
            insert = f"INSERT INTO {table}(version, applied_at) VALUES (?, ?)"
            await conn.execute(insert, (version, now_iso()))
            checkpoint(f"{table}-{version}")  # the crash tests kill here, before the commit
            await conn.execute("COMMIT")
        except BaseException:
            await conn.execute("ROLLBACK")
            raise
        log.info("applied %s migration %d", table, version)


async def _announce(conn: aiosqlite.Connection, count_sql: str, warning: str) -> None:
    async with conn.execute(count_sql) as cur:
        row = await cur.fetchone()
    if row and row[0]:
        log.warning(warning.format(n=int(row[0])))


def refuse_newer(current: int, migrations: Migrations, table: str) -> None:
    """Refuse a database migrated past the last of ``migrations``: a newer version of Foreign
    Desk made it, and this code would write to tables it does not know (no migration is undone)."""
    known = max((version for version, _ in migrations), default=0)
    if current > known:
        raise StoreError(
            f"the database was made by a newer version of Foreign Desk ({table} {current}, this "
            f"version knows up to {known}): upgrade Foreign Desk to open it"
        )


async def refuse_unmigrated(
    conn: aiosqlite.Connection, migrations: Migrations, table: str = "schema_migrations"
) -> None:
    """Refuse a database that cannot be migrated here (a data dir that cannot be written) unless it
    has every migration this version knows: questions would fail on the tables an older one made."""
    async with conn.execute(f"SELECT coalesce(max(version), 0) FROM {table}") as cur:
        row = await cur.fetchone()
    current = int(row[0]) if row else 0
    refuse_newer(current, migrations, table)
    known = max((version for version, _ in migrations), default=0)
    if current < known:
        raise StoreError(
            f"the database was made by an older version of Foreign Desk ({table} {current}, this "
            f"version needs {known}) and cannot be upgraded where it cannot be written: open it once "
            "where it can be written"
        )


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
    rows: list[aiosqlite.Row] = []
    for statement, bound in in_statements(sql, keys, params):
        async with conn.execute(statement, bound) as cur:
            rows.extend(await cur.fetchall())
    return rows


IN_SIZES = (1, 2, 4, 8, 16, 32, 48, 64, 96, 128, 192, 256, 384, 512, 768, IN_CHUNK)
"""The lengths ``in_statements(padded=True)`` spells ``IN`` lists in."""


def in_statements(
    sql: str, keys: Iterable[Any], params: dict[str, Any] | None = None, *, padded: bool = False
) -> Iterable[tuple[str, dict[str, Any]]]:
    """``sql`` with ``IN (:keys)`` spelled out for every ``IN_CHUNK`` keys (duplicates once),
    with its parameters: the statements ``rows_in`` runs. ``padded``: each list repeats its last
    key up to the next of ``IN_SIZES`` (``IN`` is a set: the same rows), so a statement comes
    in few texts and ``sqlite3`` keeps them prepared (its cache holds 128 per connection):
    preparing a search's candidates query anew took ~0.4 ms (a quarter of the questions of a
    fresh process paid it)."""
    for chunk in chunks(list(dict.fromkeys(keys)), IN_CHUNK):
        if padded:
            chunk = chunk + chunk[-1:] * (next(n for n in IN_SIZES if n >= len(chunk)) - len(chunk))
        names = {f"k{i}": key for i, key in enumerate(chunk)}
        yield sql.replace(":keys", ",".join(f":{name}" for name in names)), {**names, **(params or {})}


def chunks(items: list[Any], size: int = IN_CHUNK) -> Iterable[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
