"""What one search reads from the store, synchronously, on the thread that runs the search.

A search runs from start to end on the question thread (``search.searcher``): the keyword
query, the ids other servers own, the candidates' rows, float vectors and sentence vectors are
read there, with no hop to aiosqlite's thread and back for each statement (each hop is a wait
for a core on a busy machine). Each thread has its own read-only connection
(``sqlite.ReadConnections``); one search's reads share one read transaction (``reading``), so
they all see one state of the database while a writer publishes the next generation.
"""

from __future__ import annotations

import sqlite3
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, Generic, TypeVar

import faiss
import numpy as np
from foreign_desk.index.models import Filters, Scope
from foreign_desk.index.sqlite import ReadConnections, in_statements
from foreign_desk.index.store import own_keywords
from foreign_desk.index.store.db import (
    BM25_WEIGHTS,
    CANDIDATES_SQL,
    StoredPassage,
    intact_rows,
    meta_int,
    stored_passages,
    where_sql,
)
from foreign_desk.index.store.schema import visible
from foreign_desk.index.store.scopes import OWN_PASSAGES, OWN_UIDS, UNSHARED_PASSAGES
from foreign_desk.index.store.vectors import IDSelector, selection

HIDDEN_KEPT = 64
"""Selections kept (``SearchReads.hidden``): the passages the shared corpus lacks, and each of the
servers that asked last its own."""
TERMS_KEPT = 50_000
"""Terms whose passage counts are kept (``SearchReads.term_counts``): the words of a few thousand
questions."""
LEAD_SQL = f"SELECT id FROM passages p WHERE p.article_id = a.id AND {visible('p')} ORDER BY ordinal LIMIT 1"
"""An article ``a``'s first passage at ``:gen``."""
BM25_FROM = "SELECT f.rowid, bm25(passages_fts, :w_context, :w_text) AS s FROM passages_fts f"

K = TypeVar("K")
V = TypeVar("V")
Version = tuple[int, str]
"""(generation, scopes version): what a kept value was made for."""


class Kept(Generic[K, V]):
    """Values made for one (generation, scopes version), the ``limit`` last used: a new generation
    or any grant or revoke (by any process) starts afresh. Searches may run on several threads."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.version: Version | None = None
        self.values: OrderedDict[K, V] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, version: Version, keys: Iterable[K], make: Callable[[list[K]], dict[K, V]]) -> dict[K, V]:
        """The values of ``keys``; ``make`` makes those not kept (for each key it is given)."""
        keys = list(dict.fromkeys(keys))
        with self.lock:
            if version != self.version:
                self.version, self.values = version, OrderedDict()
            known = {k: self.values[k] for k in keys if k in self.values}
            for key in known:
                self.values.move_to_end(key)
        missing = [k for k in keys if k not in known]
        if missing:
            made = make(missing)
            known.update(made)
            with self.lock:
                if version == self.version:  # not made for a version already gone
                    self.values.update(made)
                    while len(self.values) > self.limit:
                        self.values.popitem(last=False)
        return known


class SearchReads:
    """Synchronous reads for searches; any thread may call, each on its own connection."""

    def __init__(self, connections: ReadConnections) -> None:
        self.connections = connections
        self.hidden: Kept[int, IDSelector | None] = Kept(HIDDEN_KEPT)
        """What dense searches leave out (``Reader.hidden``) per server (0: the shared scope):
        made once, not per question (its query took 12 ms a question at 100k passages, 6,400
        of them servers' own)."""
        self.term_counts: Kept[str, int] = Kept(TERMS_KEPT)
        """How many shared passages hold each term (0: none; ``Reader.doc_freqs``): FTS5 counts
        a term by walking all its postings, 1.3 ms a question at 100k passages and ~6 ms at 1M,
        and the words readers ask about repeat."""

    def close(self) -> None:
        self.connections.close()

    @contextmanager
    def reading(self) -> Iterator[Reader]:
        """One read transaction on this thread's connection for the ``with`` block."""
        conn = self.connections.get()
        conn.execute("BEGIN")
        try:
            yield Reader(conn, self.hidden, self.term_counts)
        finally:
            conn.execute("COMMIT")


class Reader:
    """The reads of one search, inside its read transaction (``SearchReads.reading``)."""

    def __init__(
        self,
        conn: sqlite3.Connection,
        hidden: Kept[int, IDSelector | None],
        term_counts: Kept[str, int],
    ) -> None:
        self.conn = conn
        self.kept = hidden
        self.term_counts = term_counts
        self._scopes_version: str | None = None

    def rows_in(self, sql: str, keys: Iterable[Any], params: dict[str, Any] | None = None) -> list[Any]:
        """Rows of ``sql`` for every key (``sqlite.rows_in``, synchronously; lists padded to
        few lengths, so each statement stays prepared)."""
        rows: list[Any] = []
        for statement, bound in in_statements(sql, keys, params, padded=True):
            rows.extend(self.conn.execute(statement, bound))
        return rows

    def doc_freqs(self, terms: Iterable[str], gen: int) -> dict[str, int]:
        """How many shared passages contain each term (all generations: an estimate for ranking,
        counted once per generation and scopes version, ``SearchReads.term_counts``)."""
        sql = "SELECT term, doc FROM passages_vocab WHERE term IN (:keys)"

        def count(missing: list[str]) -> dict[str, int]:
            counted = {term: int(doc) for term, doc in self.rows_in(sql, missing)}
            return {term: counted.get(term, 0) for term in missing}  # 0: the corpus lacks it

        counts = self.term_counts.get((gen, self.scopes_version()), terms, count)
        return {term: n for term, n in counts.items() if n}

    def scopes_version(self) -> str:
        """What ``meta.scopes_version`` says in this read transaction: every grant or revoke
        changes it, and with it who sees which passages and the shared corpus's word counts."""
        if self._scopes_version is None:
            self.versions()
        assert self._scopes_version is not None
        return self._scopes_version

    def versions(self) -> tuple[int, int]:
        """(the live generation, how often who-may-see-what changed) in this read transaction:
        either one moving means an answer computed before may be out of date or show what a
        scope may no longer see (``answer_cache``)."""
        values = dict(
            self.conn.execute("SELECT key, value FROM meta WHERE key IN ('generation', 'scopes_version')")
        )
        self._scopes_version = values.get("scopes_version", "")
        return meta_int("generation", values.get("generation")), meta_int(
            "scopes_version", self._scopes_version
        )

    def bm25(
        self,
        match: str,
        k: int,
        gen: int,
        filters: Filters,
        weights: tuple[float, float] = BM25_WEIGHTS,
        scope: Scope | None = None,
    ) -> list[tuple[int, float]]:
        """Top-``k`` passages for an FTS5 ``match`` expression, best first, as (id, bm25 score).

        Without filters the best ``2k`` matches come first, whatever their generation and scope,
        then which of them this reader may see: joining every match with its passage and article
        (to check both) was three times the cost. The best ``k`` are checked first, the next
        ``k`` only when some of those are hidden: their rows are read for nothing otherwise
        (passages the later stages never see; at 100k passages most of them are page reads).
        Only when that leaves fewer than ``k``, or the ``k``-th ties with the last match asked,
        are all of them checked."""
        params = {"match": match, "w_context": weights[0], "w_text": weights[1]}
        if filters.empty:
            top = self._ranked(f"{BM25_FROM} WHERE passages_fts MATCH :match", params, 2 * k)
            seen = self._visible([pid for pid, _ in top[:k]], gen, scope)
            if len(seen) < len(top[:k]):
                seen |= self._visible([pid for pid, _ in top[k:]], gen, scope)
            kept = [hit for hit in top if hit[0] in seen]
            if len(top) < 2 * k or (len(kept) >= k and kept[k - 1][1] > top[-1][1]):
                return kept[:k]
        fsql, where = where_sql(filters, scope)
        join = " JOIN passages p ON p.id = f.rowid JOIN articles a ON a.id = p.article_id"
        sql = f"{BM25_FROM}{join} WHERE passages_fts MATCH :match AND {visible('p')}{fsql}"
        return self._ranked(sql, {**params, **where, "gen": gen}, k)

    def own_bm25(
        self,
        terms: Sequence[str],
        k: int,
        gen: int,
        filters: Filters,
        scope: Scope,
        doc_freqs: dict[str, int],
        weights: tuple[float, float] = BM25_WEIGHTS,
    ) -> tuple[list[tuple[int, float]], set[str]]:
        """Top-``k`` of ``scope``'s own passages holding any of ``terms``, scored as ``bm25``
        scores the shared corpus's (``store.own_keywords``), and which of ``terms`` they hold."""
        ids = own_keywords.own_matches(self.conn, terms, gen, filters, scope)
        hits, held = own_keywords.scored(self.conn, self.rows_in, ids, terms, doc_freqs, weights)
        return hits[:k], held

    def _ranked(self, sql: str, params: dict[str, Any], k: int) -> list[tuple[int, float]]:
        rows = self.conn.execute(f"{sql} ORDER BY s LIMIT :k", {**params, "k": k})
        return [(int(pid), -float(score)) for pid, score in rows]

    def _visible(self, ids: Sequence[int], gen: int, scope: Scope | None) -> set[int]:
        """Those of passages ``ids`` visible at ``gen`` to ``scope``."""
        ssql, params = where_sql(Filters(), scope)
        sql = (
            "SELECT p.id FROM passages p JOIN articles a ON a.id = p.article_id "
            f"WHERE p.id IN (:keys) AND {visible('p')}{ssql}"
        )
        return {int(r[0]) for r in self.rows_in(sql, ids, {**params, "gen": gen})}

    def allowed_ids(self, filters: Filters, gen: int, scope: Scope | None = None) -> np.ndarray:
        """Ids of the passages a filtered search may return."""
        fsql, params = where_sql(filters, scope)
        sql = f"SELECT p.id FROM passages p JOIN articles a ON a.id = p.article_id WHERE {visible('p')}{fsql}"
        return self._ids(sql, {**params, "gen": gen})

    def hidden(self, scope: Scope, gen: int) -> IDSelector | None:
        """The passages at ``gen`` a dense search in ``scope`` leaves out, as a FAISS selection of
        them (None: none): those the shared corpus lacks, but the ones ``scope``'s server owns."""
        version = (gen, self.scopes_version())
        unshared = self._kept(version, 0, UNSHARED_PASSAGES, {"gen": gen})
        if unshared is None or not scope.guild_id:
            return unshared
        own = self._kept(version, scope.guild_id, OWN_PASSAGES, {"gen": gen, "scope_guild": scope.guild_id})
        return unshared if own is None else faiss.IDSelectorAnd(unshared, faiss.IDSelectorNot(own))

    def _kept(self, version: Version, guild: int, sql: str, params: dict[str, Any]) -> IDSelector | None:
        """Server ``guild``'s selection of ``sql``'s ids, made once per ``version``."""
        return self.kept.get(version, [guild], lambda _: {guild: self._selection(sql, params)})[guild]

    def _selection(self, sql: str, params: dict[str, Any]) -> IDSelector | None:
        ids = self._ids(sql, params)
        return selection(ids) if len(ids) else None

    def _ids(self, sql: str, params: dict[str, Any]) -> np.ndarray:
        rows = self.conn.execute(sql, params).fetchall()
        return np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))

    def candidates(
        self, ids: Sequence[int], dim: int
    ) -> tuple[dict[int, StoredPassage], dict[str, np.ndarray]]:
        """Passage rows with their articles and vectors, by id (missing ids are left out), and the
        stored sentence vectors (float16 rows in sentence order) of those that have them intact,
        by vector key: converted to float32 where used (``search.judge``). One read: each
        candidate looked up once, not once for its row and again for its sentences (~0.3 ms a
        search of ~100 candidates)."""
        rows = self.rows_in(CANDIDATES_SQL, ids)
        sentences = {row[6]: (row[-2], row[-1]) for row in rows if row[-1] is not None}
        kept = intact_rows(((key, count, blob) for key, (count, blob) in sentences.items()), dim)
        return stored_passages((row[:-2] for row in rows), dim), dict(kept)

    def leads(self, filters: Filters, scope: Scope, gen: int, limit: int) -> list[int]:
        """The first passage of each article ``scope`` may see within ``filters``, newest first,
        ``limit`` at most: a question naming only a time is answered with them (``search.period``)."""
        fsql, params = where_sql(filters, scope)
        if filters.since and filters.until:  # an outlet's day is within a day of UTC's: walk that range
            fsql += " AND a.published >= date(:f_since, '-1 day') AND a.published < date(:f_until, '+2 days')"
        sql = (
            f"SELECT ({LEAD_SQL}) FROM articles a WHERE {visible('a')}{fsql} "
            "ORDER BY a.published DESC, a.id DESC LIMIT :limit"
        )
        rows = self.conn.execute(sql, {**params, "gen": gen, "limit": limit})
        return [int(r[0]) for r in rows if r[0] is not None]

    def own(self, guild_id: int, uids: Sequence[str]) -> set[str]:
        """Those of ``uids`` the server sees as its own, not as part of the shared corpus."""
        return {r[0] for r in self.rows_in(OWN_UIDS, uids, {"g": guild_id})}
