"""Is the servers' keyword index (``own_guild_fts``, schema 11) whole and in step with the
passages it indexes? ``doctor`` asks; ``doctor --repair`` indexes them again.

Triggers keep it in step with the passages and their scope rows; nothing else reads it, so a row
lost or left behind would be served without a word: a server's own article not found by its
words. It is contentless, so FTS5's own checks reach only part of it: 'integrity-check' reads
its structure (segments, pages) but cannot compare it with rows it does not keep, and 'rebuild'
refuses such a table. So what it should hold (``OWN_GUILD_ROWS``) is indexed afresh in a
temporary table and compared with it, row by row (ids in its ``_docsize`` table) and word by
word (fts5vocab 'row': each word, how many rows hold it, how often), in one read transaction
(a writer committing meanwhile is not a difference). A repair empties it ('delete-all') and
indexes those rows again, in one transaction: a kill leaves it as it was.

Cost: the rows indexed once more, as migration 11 did: 5-9 s for 18,000 own passages of 120 words
on a busy 2-core machine (a repair: 3.4 s). 'integrity-check' is a write to SQLite: while another
process writes, it waits up to the busy timeout, then says the check could not be done now.
"""

from __future__ import annotations

import aiosqlite
from foreign_desk.index.store.schema import OWN_GUILD_ROWS
from foreign_desk.index.store.scopes import transaction

TABLE = "own_guild_fts"
CHECK = "servers' keyword index"
_TOKENIZE = "tokenize='unicode61 remove_diacritics 2'"
_FRESH = (
    f"CREATE VIRTUAL TABLE temp.fresh_guild_fts USING fts5(context, text, content='', {_TOKENIZE})",
    "CREATE VIRTUAL TABLE temp.fresh_words USING fts5vocab(temp, fresh_guild_fts, 'row')",
    f"CREATE VIRTUAL TABLE temp.stored_words USING fts5vocab(main, {TABLE}, 'row')",
    f"INSERT INTO temp.fresh_guild_fts(rowid, context, text) {OWN_GUILD_ROWS}",
)
_ROWS = f"SELECT count(*) FROM {TABLE}_docsize"
_MISSING = (
    f"SELECT count(*) FROM temp.fresh_guild_fts_docsize WHERE id NOT IN (SELECT id FROM {TABLE}_docsize)"
)
_EXTRA = f"SELECT count(*) FROM {TABLE}_docsize WHERE id NOT IN (SELECT id FROM temp.fresh_guild_fts_docsize)"
_WORDS = (
    "SELECT count(DISTINCT term) FROM (SELECT * FROM (SELECT * FROM temp.stored_words EXCEPT "
    "SELECT * FROM temp.fresh_words) UNION ALL SELECT * FROM (SELECT * FROM temp.fresh_words "
    "EXCEPT SELECT * FROM temp.stored_words))"
)


async def keyword_problem(conn: aiosqlite.Connection, *, writable: bool) -> tuple[bool, str]:
    """Whether ``own_guild_fts`` is sound, and the finding's words. ``writable``: FTS5 runs
    'integrity-check' as a write (so not where the data dir cannot be written; the comparison
    reads every row there all the same)."""
    try:
        if writable:
            await conn.execute(f"INSERT INTO {TABLE}({TABLE}, rank) VALUES ('integrity-check', 0)")
        rows, missing, extra, words = await _compare(conn)
    except aiosqlite.OperationalError as exc:  # locked, out of disk for the temporary table
        return False, f"could not be checked now ({exc}): run `foreign-desk doctor` again"
    except aiosqlite.DatabaseError as exc:  # FTS5's SQLITE_CORRUPT_VTAB
        return False, f"damaged: {exc}"
    gaps = {
        "server passage(s) not in it": missing,
        "row(s) of no server passage": extra,
        "word(s) indexed differently": words,
    }
    if not any(gaps.values()):
        return True, f"{rows:,} row(s), in step with the servers' own passages"
    listed = ", ".join(f"{n:,} {what}" for what, n in gaps.items() if n)
    return False, f"out of step with the passages it indexes: {listed}"


async def _compare(conn: aiosqlite.Connection) -> tuple[int, int, int, int]:
    """Rows held, expected rows missing, rows not expected, words counted differently: read in
    one transaction, whose end drops the temporary tables."""
    await conn.execute("BEGIN")
    try:
        for sql in _FRESH:
            await conn.execute(sql)
        found = [await _count(conn, sql) for sql in (_ROWS, _MISSING, _EXTRA, _WORDS)]
    finally:
        if conn.in_transaction:  # an error may have ended it
            await conn.execute("ROLLBACK")
    rows, missing, extra, words = found
    return rows, missing, extra, words


async def reindex(conn: aiosqlite.Connection) -> int:
    """Empty ``own_guild_fts`` and index the rows it should hold again (under the writer lock:
    a writer's triggers must not add rows between the two); how many rows it holds now."""
    async with transaction(conn):
        await conn.execute(f"INSERT INTO {TABLE}({TABLE}) VALUES ('delete-all')")
        await conn.execute(f"INSERT INTO {TABLE}(rowid, context, text) {OWN_GUILD_ROWS}")
        return await _count(conn, _ROWS)


async def _count(conn: aiosqlite.Connection, sql: str) -> int:
    async with conn.execute(sql) as cur:
        row = await cur.fetchone()
    return int(row[0]) if row else 0
