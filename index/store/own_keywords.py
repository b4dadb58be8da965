"""Keyword search in a server's own articles, scored by the shared corpus's statistics.

Since schema 7 the shared corpus's passages are indexed in ``passages_fts`` and all others (the
articles only servers own) in ``own_fts``: BM25's statistics (how many passages hold a word,
how many passages there are, how long they are) then come from the shared corpus alone, so no
server's articles change another server's ranking. FTS5's ``bm25()`` on ``own_fts`` would use
that table's statistics, every server's own passages; so a server's own matches are scored here
with the shared table's, by FTS5's own formula (``fts5Bm25Function`` in fts5_aux.c), and merge
with the shared matches by score. Since schema 11 they are found in ``own_guild_fts``, where each
server's passages are a rowid range of their own: finding them costs what the server's own
matches cost, however many other servers' passages hold the same words.
"""

from __future__ import annotations

import json
import math
import sqlite3
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from foreign_desk.index.models import Filters, Scope
from foreign_desk.index.store.db import filter_sql
from foreign_desk.index.store.schema import OWN_SLOT, visible

K1, B = 1.2, 0.75
"""FTS5's BM25 constants."""
OWN_MATCHES_MAX = 2_000
"""A server's own matches scored per question at most (``own_matches`` chooses which): a server
keeps ``server_max_articles`` articles, so its common words can match thousands of passages."""
COLUMNS = ("context", "text")

SLOT = "SELECT slot FROM own_guilds WHERE guild_id = :scope_guild"
AVERAGES = "SELECT block FROM passages_fts_data WHERE id = 1"
"""FTS5's averages record: the row count, then each column's token total (varints)."""
TERM_COLUMNS = (
    "SELECT doc, col FROM own_fts_instance WHERE term = :term AND doc IN (SELECT value FROM json_each(:ids))"
)
"""Each instance of ``:term`` in passages ``:ids`` (a JSON list): the term's instances (every
server's) are read once, the ids listed once; bound 900 at a time, they were read once a chunk."""
SIZES = "SELECT id, sz FROM own_fts_docsize WHERE id IN (:keys)"
_OWN_ROWS = (
    "FROM own_guild_fts f JOIN passages p ON p.id = f.rowid - :base JOIN articles a ON a.id = p.article_id "
    "WHERE own_guild_fts MATCH :match AND f.rowid BETWEEN :base AND :top AND p.unshared = 1 "
    "AND EXISTS (SELECT 1 FROM article_scopes s WHERE s.uid = a.uid AND s.guild_id = :scope_guild) "
    f"AND {visible('p')}"
)
"""Server ``:scope_guild``'s own passages (at ``:gen``) holding ``:match``: its rows of
``own_guild_fts`` are one rowid range (its slot's, from ``:base``), which FTS5 seeks to in each
term's postings, so other servers' matches are never read. Each match is checked against the
passage and its scope rows (a row left behind by a bug must not show one server another's)."""
OWN_POSTINGS = f"SELECT count(*) {_OWN_ROWS}"
"""How many of them hold term ``:match``."""
OWN_MATCHES = f"SELECT f.rowid - :base {_OWN_ROWS}{{filters}} ORDER BY f.rowid DESC LIMIT :room"
"""Those within the ``{filters}`` on ``a``, newest first. Before schema 11, every server's matches
in ``own_fts`` were read and looked up in the server's passage list (~7 VM steps each: ~0.16 ms
for a word 1,500 of another server's passages hold, against ~0.03 ms alone; now ~0.05 ms)."""

RowsIn = Callable[[str, Iterable[Any], dict[str, Any]], list[Any]]


@dataclass(frozen=True, slots=True)
class TableStats:
    rows: int
    tokens: int

    @property
    def mean_length(self) -> float:
        return self.tokens / self.rows if self.rows else 1.0


def varints(blob: bytes) -> list[int]:
    """SQLite's varints (FTS5's record format): 7 bits a byte, high bit set to go on, the 9th
    byte whole."""
    out: list[int] = []
    i = 0
    while i < len(blob):
        value = 0
        for n in range(9):
            byte = blob[i]
            i += 1
            if n == 8:
                value = (value << 8) | byte
                break
            value = (value << 7) | (byte & 0x7F)
            if not byte & 0x80:
                break
        out.append(value)
    return out


def shared_stats(conn: sqlite3.Connection) -> TableStats:
    """Row count and token total of ``passages_fts`` as its ``bm25()`` sees them (committed)."""
    row = conn.execute(AVERAGES).fetchone()
    values = varints(row[0]) if row and row[0] else []
    return TableStats(values[0], sum(values[1:])) if values else TableStats(0, 0)


def idf(doc_freq: int, rows: int) -> float:
    """FTS5's idf, floored as FTS5 floors it; a term counted in more rows than the shared corpus
    holds (its servers' own passages are counted too, or the shared corpus is empty) gets the floor."""
    ratio = (rows - doc_freq + 0.5) / (doc_freq + 0.5)
    return math.log(ratio) if ratio > 1 else 1e-6


def own_matches(
    conn: sqlite3.Connection, terms: Sequence[str], gen: int, filters: Filters, scope: Scope
) -> list[int]:
    """Passage ids of ``scope``'s own articles (at ``gen``, within ``filters``) holding any of
    ``terms``, up to ``OWN_MATCHES_MAX``. Past that many, the passages of the terms fewest of its
    own passages hold come first, each term's newest first: a name only one new article holds is
    scored however many older ones hold the question's other words."""
    if not terms or not scope.guild_id:
        return []
    slot = conn.execute(SLOT, {"scope_guild": scope.guild_id}).fetchone()
    if slot is None:
        return []
    fsql, params = filter_sql(filters)
    params |= {"gen": gen, "scope_guild": scope.guild_id, "room": OWN_MATCHES_MAX + 1}
    base = int(slot[0]) * OWN_SLOT
    params |= {"base": base, "top": base + OWN_SLOT - 1}
    params["match"] = " OR ".join(f'"{t}"' for t in terms)
    sql = OWN_MATCHES.format(filters=fsql)
    found = [int(r[0]) for r in conn.execute(sql, params)]
    if len(found) <= OWN_MATCHES_MAX:
        return found
    chosen: dict[int, None] = {}
    of_term = {t: params | {"match": f'"{t}"'} for t in terms}
    for term in sorted(terms, key=lambda t: _own_postings(conn, of_term[t])):
        for (pid,) in conn.execute(sql, of_term[term]):  # stepped only while room is left
            chosen[int(pid)] = None
            if len(chosen) == OWN_MATCHES_MAX:
                return list(chosen)
    return list(chosen)


def _own_postings(conn: sqlite3.Connection, params: dict[str, Any]) -> int:
    """How many of the server's own passages hold the term: which of the terms are rarest there
    (counted among every server's, another server's articles would choose for this one)."""
    return int(conn.execute(OWN_POSTINGS, params).fetchone()[0])


def scored(
    conn: sqlite3.Connection,
    rows_in: RowsIn,
    ids: Sequence[int],
    terms: Sequence[str],
    doc_freqs: Mapping[str, int],
    weights: tuple[float, float],
) -> tuple[list[tuple[int, float]], set[str]]:
    """``ids`` (own passages) with the BM25 score ``passages_fts`` would give them, best first,
    and which of ``terms`` they hold."""
    if not ids:
        return [], set()
    stats = shared_stats(conn)
    freqs: dict[int, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    held: set[str] = set()
    listed = json.dumps(list(ids))
    for term in terms:
        for doc, col in conn.execute(TERM_COLUMNS, {"term": term, "ids": listed}):
            freqs[int(doc)][term] += weights[COLUMNS.index(col)]
            held.add(term)
    lengths = {int(i): sum(varints(sz)) for i, sz in rows_in(SIZES, ids, {})}
    idfs = {t: idf(doc_freqs.get(t, 0), stats.rows) for t in held}
    out = []
    for doc, of_doc in freqs.items():
        norm = K1 * (1 - B + B * lengths.get(doc, 0) / stats.mean_length)
        out.append((doc, sum(idfs[t] * f * (K1 + 1) / (f + norm) for t, f in of_doc.items())))
    out.sort(key=lambda hit: (-hit[1], hit[0]))
    return out, held
