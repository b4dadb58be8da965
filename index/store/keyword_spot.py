"""Are the keyword indexes in step with the passages? The cheap check a serving process makes.

``doctor`` compares each FTS5 table with the passages it should hold, row by row and word by
word (``keyword_check``: ~0.5 s of CPU per 10,000 passages). Nothing else looked, so a process
served a damaged or out-of-step keyword index without a word: passages no longer found by their
words, or BM25 candidates of passages that do not exist. Opening a generation now checks, for
each of the three tables (``keyword_check.INDEXES``), that it holds as many rows as there are
passages it should hold (its ``_docsize`` table: one row per indexed passage) and that a sample
of those passages is found by one of its words at its own rowid. A row lost or left behind shows
in the counts; a damaged page, or a row indexed with other words, in the sample (or as SQLite's
"malformed" error). What it cannot see (a few rows' words, a damaged page no sampled word
reads) ``doctor`` finds. Cost: ~7 ms of CPU at 10,000 passages, ~24 ms at 100,000 of which
10,000 are servers' own (12 of it counting the servers' rows), on a thread of its own while the
vector file is hashed and spot-checked (``repair.opened``).

One read transaction on a connection of its own, so a writer committing meanwhile is no
difference. Blocking: call it in a thread.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

from foreign_desk.index.sqlite import BUSY_TIMEOUT_MS, reader_uri
from foreign_desk.index.store.keyword_check import INDEXES, KeywordIndex
from foreign_desk.index.store.schema import OWN_SLOT

log = logging.getLogger(__name__)

SAMPLE = 8
"""Passages looked up by a word in each table, spread over the passage ids."""
_SHARED, _OWN, _SERVERS = INDEXES
_UNSHARED = "FROM passages INDEXED BY passages_unshared WHERE unshared = 1"
EXPECTED = {
    _SHARED.table: f"SELECT (SELECT count(*) FROM passages) - (SELECT count(*) {_UNSHARED})",
    _OWN.table: f"SELECT count(*) {_UNSHARED}",
    _SERVERS.table: (
        "SELECT count(*) FROM own_guilds g CROSS JOIN article_scopes s INDEXED BY article_scopes_guild "
        "CROSS JOIN articles a INDEXED BY articles_uid CROSS JOIN passages p INDEXED BY passages_article "
        "WHERE s.guild_id = g.guild_id AND a.uid = s.uid AND p.article_id = a.id AND EXISTS "
        "(SELECT 1 FROM passages u INDEXED BY passages_unshared WHERE u.unshared = 1 AND u.id = p.id)"
    ),
}
"""SQL: how many rows each table should hold (``KeywordIndex.rows`` counted), read from indexes
alone: the servers' rows (``OWN_GUILD_ROWS``) from each server's scope rows to its articles'
passage ids, never a passage row (10,000 servers' passages at 100k: ~25 -> ~11 ms)."""
_SAMPLED = {
    _SHARED.table: "SELECT id, text FROM passages WHERE id >= ? AND unshared = 0 ORDER BY id LIMIT 1",
    _OWN.table: f"SELECT id, text {_UNSHARED} AND id >= ? ORDER BY id LIMIT 1",
}
_ENDS = "SELECT coalesce((SELECT min(id) FROM passages), 0), coalesce((SELECT max(id) FROM passages), -1)"
"""The lowest and highest passage ids (each its own subquery: SQLite reads the ends of the rowid
b-tree for a lone ``min`` or ``max``, and scans the table for the two in one query)."""
_OWNERS = (
    f"SELECT g.slot * {OWN_SLOT} + p.id FROM passages p JOIN articles a ON a.id = p.article_id "
    "JOIN article_scopes s ON s.uid = a.uid JOIN own_guilds g ON g.guild_id = s.guild_id "
    "WHERE p.id = ? AND p.unshared = 1"
)
"""A server's own passage's rows in ``own_guild_fts``: one per server owning it."""


def keyword_damage(db_path: Path, sample: int = SAMPLE) -> str | None:
    """Why a keyword index of the database at ``db_path`` cannot be served, in a few words that
    name it (``the shared keyword index is …``), or ``None`` when the check found nothing."""
    conn = sqlite3.connect(reader_uri(db_path), uri=True, isolation_level=None)
    with closing(conn):
        conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        conn.execute("BEGIN")
        for index in INDEXES:
            try:
                found = _damage(conn, index, sample)
            except sqlite3.OperationalError as exc:  # busy past the timeout, a failed read: no finding
                log.warning("could not check the %s now (%s)", index.check, exc)
                return None
            except sqlite3.DatabaseError as exc:  # FTS5's SQLITE_CORRUPT_VTAB, a malformed page
                return f"the {index.check} is damaged ({exc})"
            if found is not None:
                return f"the {index.check} is {found}"
        return None


def _damage(conn: sqlite3.Connection, index: KeywordIndex, sample: int) -> str | None:
    held = _count(conn, f"SELECT count(*) FROM {index.table}_docsize")
    expected = _count(conn, EXPECTED[index.table])
    if held != expected:
        return f"out of step with {index.holds}: {held:,} row(s) for {expected:,} passage(s)"
    match = f"SELECT count(*) FROM {index.table} WHERE {index.table} MATCH ? AND rowid = ?"
    for rowid, word in _sampled(conn, index, sample):
        if not _count(conn, match, (f'"{word}"', rowid)):
            return f"out of step with {index.holds}: a passage is not found by its words"
    return None


def _sampled(conn: sqlite3.Connection, index: KeywordIndex, sample: int) -> Iterator[tuple[int, str]]:
    """(rowid in ``index``, a word of its passage) for up to ``sample`` passages it should hold,
    spread evenly over the passage ids; a server's passage once per server owning it."""
    own = index is _SERVERS
    picked = _SAMPLED[_OWN.table if own else index.table]
    low, high = conn.execute(_ENDS).fetchone()
    seen: set[int] = set()
    for step in range(sample):
        row = conn.execute(picked, (low + (high - low) * step // sample,)).fetchone()
        if row is None or row[0] in seen:
            continue
        seen.add(row[0])
        word = _word(row[1])
        if word is None:
            continue
        rowids = [r[0] for r in conn.execute(_OWNERS, (row[0],))] if own else [row[0]]
        for rowid in rowids:
            yield rowid, word


def _word(text: str) -> str | None:
    """The passage's longest word between spaces, all letters and digits: the tokenizer
    (unicode61) reads it as one token whatever is around it, and a long word is a rare one
    (short postings to read)."""
    words = [w for w in text.split() if w.isalnum()]
    return max(words, key=len) if words else None


def _count(conn: sqlite3.Connection, sql: str, params: tuple[object, ...] = ()) -> int:
    row = conn.execute(sql, params).fetchone()
    return int(row[0]) if row else 0
