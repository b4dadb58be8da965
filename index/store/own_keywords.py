"""Keyword search in a server's own articles, scored by the shared corpus's statistics.

Since schema 7 the shared corpus's passages are indexed in ``passages_fts`` and all others (the
articles only servers own) in ``own_fts``: BM25's statistics (how many passages hold a word,
how many passages there are, how long they are) then come from the shared corpus alone, so no
server's articles change another server's ranking. FTS5's ``bm25()`` on ``own_fts`` would use
that table's statistics, every server's own passages; so a server's own matches are found there
and scored here with the shared table's, by FTS5's own formula (``fts5Bm25Function`` in
fts5_aux.c), and merge with the shared matches by score.
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
from foreign_desk.index.store.schema import visible
from foreign_desk.index.store.scopes import OWN_PASSAGES

K1, B = 1.2, 0.75
"""FTS5's BM25 constants."""
OWN_MATCHES_MAX = 2_000
"""A server's own matches scored per question at most (``own_matches`` chooses which): a server
keeps ``server_max_articles`` articles, so its common words can match thousands of passages."""
COLUMNS = ("context", "text")

OWNS_ANY = "SELECT 1 FROM article_scopes WHERE guild_id = :scope_guild LIMIT 1"
AVERAGES = "SELECT block FROM passages_fts_data WHERE id = 1"
"""FTS5's averages record: the row count, then each column's token total (varints)."""
TERM_COLUMNS = (
    "SELECT doc, col FROM own_fts_instance WHERE term = :term AND doc IN (SELECT value FROM json_each(:ids))"
)
"""Each instance of ``:term`` in passages ``:ids`` (a JSON list): the term's instances (every
server's) are read once, the ids listed once; bound 900 at a time, they were read once a chunk."""
SIZES = "SELECT id, sz FROM own_fts_docsize WHERE id IN (:keys)"
OWN_POSTINGS = f"SELECT count(*) FROM own_fts f WHERE own_fts MATCH :match AND +f.rowid IN ({OWN_PASSAGES})"
"""How many of server ``:scope_guild``'s passages (at ``:gen``) hold term ``:match``. The ``+``
keeps the id list from FTS5, which would run the match once per id: this reads the term's
postings once and looks each up in the list, made once (a common word among 300k own passages:
~25 ms, against ~5 ms counting every server's)."""

OWN_MATCHES = (
    "SELECT f.rowid FROM own_fts f JOIN passages p ON p.id = f.rowid JOIN articles a ON a.id = p.article_id "
    f"WHERE own_fts MATCH :match AND +f.rowid IN ({OWN_PASSAGES}) AND {visible('p')}{{filters}} "
    "ORDER BY f.rowid DESC LIMIT :room"
)
"""Server ``:scope_guild``'s own passages (at ``:gen``, within the ``{filters}`` on ``a``) holding
``:match``, newest first. Its own passages are listed once (as in ``OWN_POSTINGS``) and each
posting is looked up there before any join: every server's matches joined and scoped (the
scope's ``EXISTS`` per row) took ~3.7 s for a common word among 50 servers' 200k passages."""

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
    value = math.log((rows - doc_freq + 0.5) / (doc_freq + 0.5))
    return value if value > 0 else 1e-6


def own_matches(
    conn: sqlite3.Connection, terms: Sequence[str], gen: int, filters: Filters, scope: Scope
) -> list[int]:
    """Passage ids of ``scope``'s own articles (at ``gen``, within ``filters``) holding any of
    ``terms``, up to ``OWN_MATCHES_MAX``. Past that many, the passages of the terms fewest of its
    own passages hold come first, each term's newest first: a name only one new article holds is
    scored however many older ones hold the question's other words."""
    if not terms or not scope.guild_id:
        return []
    if conn.execute(OWNS_ANY, {"scope_guild": scope.guild_id}).fetchone() is None:
        return []
    fsql, params = filter_sql(filters)
    params |= {"gen": gen, "scope_guild": scope.guild_id, "room": OWN_MATCHES_MAX + 1}
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
