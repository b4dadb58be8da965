"""Are the keyword indexes whole and in step with the passages they index? ``doctor`` asks;
``doctor --repair`` indexes them again.

Three FTS5 tables, each described by a ``KeywordIndex`` (its table and the SQL of the rows it
should hold): ``passages_fts`` (the shared corpus's passages, ``unshared = 0``), ``own_fts`` (all
others, ``unshared = 1``; scoring reads it) and ``own_guild_fts`` (each server's own passages in
its rowid range, schema 11). Triggers keep them in step; nothing else does, and SQLite's
``quick_check`` does not look inside them, so a row lost or left behind would be served without a
word: a passage no longer found by its words, or BM25 candidates of passages that do not exist.

FTS5's own checks reach only part of them: 'integrity-check' with rank 0 reads their structure
(segments, pages); with rank 1 it would also compare the two external-content tables with
``passages``, which holds every passage while each holds only its part (false damage), and the
contentless one keeps no rows to compare with. 'rebuild' would index all of ``passages`` into
each. So the rows a table should hold are indexed afresh in a temporary table and compared with
it, row by row (ids in its ``_docsize`` table) and word by word (fts5vocab 'row': each word, how
many rows hold it, how often), in one read transaction (a writer committing meanwhile is not a
difference). A repair empties it ('delete-all') and indexes those rows again, in one
transaction, under the writer lock: a kill leaves it as it was.

Cost, linear in the passages and one table at a time: each passage indexed once more (a
server's own passages twice: ``own_fts``, then ``own_guild_fts``), ~0.5 s of CPU per 10,000
passages of ~120 words (``doctor`` on 24,000 passages, half of them a server's own: 2.8 -> 3.9 s
on a busy 2-core machine; all shared: 1.9 -> 3.3 s); a repair ~0.4 s per 10,000. The temporary
copy lives in SQLite's temporary storage, as large as that table's index (~5.5 MB per 10,000
passages), and is dropped when its check ends; memory stays at SQLite's page cache and FTS5's
``hashsize``. 'integrity-check' is a write to SQLite: while another process writes, it waits up
to the busy timeout, then says the check could not be done now.
"""

from __future__ import annotations

from dataclasses import dataclass

import aiosqlite
from foreign_desk.index.store.schema import FTS_HASH_BYTES, OWN_GUILD_ROWS
from foreign_desk.index.store.scopes import transaction


@dataclass(frozen=True, slots=True)
class KeywordIndex:
    table: str
    check: str
    """The doctor's name for it."""
    rows: str
    """SQL: the rows it should hold (rowid, context, text)."""
    of: str
    """Whose passages, in the finding's words: '{of} passage(s) not in it'."""
    holds: str
    """'in step with {holds}'."""


INDEXES = (
    KeywordIndex(
        "passages_fts",
        "shared keyword index",
        "SELECT id, context, text FROM passages WHERE unshared = 0",
        "shared",
        "the shared corpus's passages",
    ),
    KeywordIndex(
        "own_fts",
        "own keyword index",
        "SELECT id, context, text FROM passages WHERE unshared = 1",
        "unshared",
        "the passages outside the shared corpus",
    ),
    KeywordIndex(
        "own_guild_fts", "servers' keyword index", OWN_GUILD_ROWS, "server", "the servers' own passages"
    ),
)
_TOKENIZE = "tokenize='unicode61 remove_diacritics 2'"
"""The three tables' tokenizer (schema 1, 7, 11): the fresh copy must find the same words."""


def _fresh(index: KeywordIndex) -> tuple[str, ...]:
    return (
        f"CREATE VIRTUAL TABLE temp.fresh_fts USING fts5(context, text, content='', {_TOKENIZE})",
        f"INSERT INTO temp.fresh_fts(fresh_fts, rank) VALUES ('hashsize', {FTS_HASH_BYTES})",
        "CREATE VIRTUAL TABLE temp.fresh_words USING fts5vocab(temp, fresh_fts, 'row')",
        f"CREATE VIRTUAL TABLE temp.stored_words USING fts5vocab(main, {index.table}, 'row')",
        f"INSERT INTO temp.fresh_fts(rowid, context, text) {index.rows}",
    )


def _counts(table: str) -> tuple[str, ...]:
    """Rows held, expected rows missing, rows not expected, words counted differently."""
    return (
        f"SELECT count(*) FROM {table}_docsize",
        f"SELECT count(*) FROM temp.fresh_fts_docsize WHERE id NOT IN (SELECT id FROM {table}_docsize)",
        f"SELECT count(*) FROM {table}_docsize WHERE id NOT IN (SELECT id FROM temp.fresh_fts_docsize)",
        "SELECT count(DISTINCT term) FROM (SELECT * FROM (SELECT * FROM temp.stored_words EXCEPT "
        "SELECT * FROM temp.fresh_words) UNION ALL SELECT * FROM (SELECT * FROM temp.fresh_words "
        "EXCEPT SELECT * FROM temp.stored_words))",
    )


async def keyword_problem(
    conn: aiosqlite.Connection, index: KeywordIndex, *, writable: bool
) -> tuple[bool, str]:
    """Whether ``index`` is sound, and the finding's words. ``writable``: FTS5 runs
    'integrity-check' as a write (so not where the data dir cannot be written; the comparison
    reads every row there all the same)."""
    try:
        if writable:
            await conn.execute(
                f"INSERT INTO {index.table}({index.table}, rank) VALUES ('integrity-check', 0)"
            )
        rows, missing, extra, words = await _compare(conn, index)
    except aiosqlite.OperationalError as exc:  # locked, out of disk for the temporary table
        return False, f"could not be checked now ({exc}): run `foreign-desk doctor` again"
    except aiosqlite.DatabaseError as exc:  # FTS5's SQLITE_CORRUPT_VTAB
        return False, f"damaged: {exc}"
    gaps = {
        f"{index.of} passage(s) not in it": missing,
        f"row(s) of no {index.of} passage": extra,
        "word(s) indexed differently": words,
    }
    if not any(gaps.values()):
        return True, f"{rows:,} row(s), in step with {index.holds}"
    listed = ", ".join(f"{n:,} {what}" for what, n in gaps.items() if n)
    return False, f"out of step with the passages it indexes: {listed}"


async def _compare(conn: aiosqlite.Connection, index: KeywordIndex) -> tuple[int, int, int, int]:
    """``_counts``, read in one transaction, whose end drops the temporary tables."""
    await conn.execute("BEGIN")
    try:
        for sql in _fresh(index):
            await conn.execute(sql)
        found = [await _count(conn, sql) for sql in _counts(index.table)]
    finally:
        if conn.in_transaction:  # an error may have ended it
            await conn.execute("ROLLBACK")
    rows, missing, extra, words = found
    return rows, missing, extra, words


async def reindex(conn: aiosqlite.Connection, index: KeywordIndex) -> int:
    """Empty ``index`` and index the rows it should hold again (under the writer lock: a writer's
    triggers must not add rows between the two); how many rows it holds now."""
    async with transaction(conn):
        await conn.execute(f"INSERT INTO {index.table}({index.table}) VALUES ('delete-all')")
        await conn.execute(f"INSERT INTO {index.table}(rowid, context, text) {index.rows}")
        return await _count(conn, _counts(index.table)[0])


async def _count(conn: aiosqlite.Connection, sql: str) -> int:
    async with conn.execute(sql) as cur:
        row = await cur.fetchone()
    return int(row[0]) if row else 0
