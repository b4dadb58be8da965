"""The write side of the store: staging a new generation next to the live one, then publishing it.

Only one ``StoreWriter`` exists at a time (it is created under the writer lock). Staged rows
carry ``gen_added = pending`` or ``gen_removed = pending`` and stay invisible to readers of
the live generation until ``publish`` flips ``meta.generation`` in one transaction. A run that
dies before publishing leaves only invisible rows, which the next writer discards first
(keeping the embeddings it paid for).
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import time
from collections.abc import AsyncIterator, Callable, Iterable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import aiosqlite
import numpy as np
from foreign_desk.index.article import Article
from foreign_desk.index.models import Passage
from foreign_desk.index.sqlite import BUSY_TIMEOUT_MS, JOURNAL_SIZE_LIMIT, chunks, connect, now_iso, rows_in
from foreign_desk.index.store.db import VECTOR_DTYPE, Store, vector_matrix, vector_parts, vectors_by_id
from foreign_desk.index.store.schema import LANGUAGE_STATS_SQL, visible
from foreign_desk.index.store.scopes import GRANT, scope_id

log = logging.getLogger(__name__)


WRITE_CACHE_KIB = 64 * 1024
"""Page cache of the writer: a commit of embeddings (~2,000 passages' vectors and sentence
vectors, ~15 MB) fits, so its pages are not spilled to the log (and synced) in the middle of
the transaction, as with SQLite's default 2 MB."""
WRITE_CHECKPOINT_BYTES = JOURNAL_SIZE_LIMIT
"""Log size after which a commit copies the log into the database (``wal_autocheckpoint``
counts pages of the file's own size): the log the store keeps anyway (``JOURNAL_SIZE_LIMIT``).
At SQLite's default of 1,000 pages (4 MB of 4 KiB pages) a model-free run checkpointed (two
fsyncs, pages that later commits rewrite copied again) after every commit of embeddings: 20k
passages took 13.5 s instead of 11.2. A crash loses nothing either way: what is committed is
in the log or the database."""

_PASSAGE_COLUMNS = "id, article_id, ordinal, section, paragraphs, text, context, vector_key, gen_added"
STAGING_TABLE = (
    "CREATE TEMP TABLE IF NOT EXISTS staged_passages (id INTEGER PRIMARY KEY, article_id, ordinal, "
    "section, paragraphs, text, context, vector_key, gen_added)"
)
"""Passage rows of a batch on their way into ``passages``: connection-private, never on disk
past the connection, emptied after each batch (see ``stage_articles``)."""
STAGE_PASSAGE = f"INSERT INTO temp.staged_passages({_PASSAGE_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?)"
STAGE_PASSAGES = (
    f"INSERT INTO main.passages({_PASSAGE_COLUMNS}) "
    f"SELECT {_PASSAGE_COLUMNS} FROM temp.staged_passages ORDER BY id"
)


_UNUSED_SQL = (
    "DELETE FROM {table} WHERE {of} AND NOT EXISTS (SELECT 1 FROM passages p "
    "WHERE p.vector_key = {table}.key AND (p.gen_removed IS NULL OR p.gen_removed > ?1))"
)
"""Vectors no passage kept past generation ``?1`` uses, among those ``_REMOVED`` or ``_SWEEP`` pick."""
_REMOVED = "key IN (SELECT vector_key FROM passages WHERE gen_removed IS NOT NULL AND gen_removed <= ?1)"
"""Those of the passages being collected."""
_SWEEP = "1"
"""All of them."""


@functools.lru_cache(maxsize=4_096)
def _paragraphs_json(paragraphs: tuple[int, ...]) -> str:
    """A passage's paragraph numbers as stored (``json.dumps`` of the list): a few hundred
    distinct lists serve a whole corpus."""
    return json.dumps(list(paragraphs))


@dataclass(frozen=True, slots=True)
class ExistingArticle:
    row: int
    uid: str
    key: str
    path: str | None
    content_hash: str


@dataclass(frozen=True, slots=True)
class ArticleRows:
    """An article to stage with its passages and their embedding keys."""

    article: Article
    lede: str
    content_hash: str
    passages: tuple[Passage, ...]
    contexts: tuple[str, ...]
    vector_keys: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class StoredText:
    """A live passage's embedding input, for re-embedding without the source file."""

    id: int
    article_row: int
    context: str
    text: str

    @property
    def embed_text(self) -> str:
        return f"{self.context}\n{self.text}" if self.context else self.text


class StoreWriter:
    """Stages and publishes one new generation. Not safe for concurrent use."""

    def __init__(self, store: Store, conn: aiosqlite.Connection, live: int) -> None:
        self.store = store
        self.conn = conn
        self.live = live
        self.pending = live + 1

    @classmethod
    @asynccontextmanager
    async def open(cls, store: Store) -> AsyncIterator[StoreWriter]:
        conn = await connect(store.db_path)
        # Staged rows and cached embeddings need not survive a power cut (the next run discards
        # or re-embeds them; a killed process loses nothing either way): no fsync per commit.
        # ``publish`` syncs the log, everything staged before it included.
        try:
            await conn.execute("PRAGMA synchronous=NORMAL")
            await conn.execute(f"PRAGMA cache_size=-{WRITE_CACHE_KIB}")
            async with conn.execute("PRAGMA page_size") as cur:
                page = await cur.fetchone()
            pages = WRITE_CHECKPOINT_BYTES // (int(page[0]) if page else 4_096)
            await conn.execute(f"PRAGMA wal_autocheckpoint={pages}")
            live = await store.generation()
            yield cls(store, conn, live)
        finally:
            await conn.close()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[None]:
        await self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            await self.conn.execute("ROLLBACK")
            raise
        await self.conn.execute("COMMIT")

    async def links(self) -> dict[str, str]:
        """The links earlier runs read through: where each is → the real path it led to."""
        async with self.conn.execute("SELECT link, target FROM corpus_links") as cur:
            return {row[0]: row[1] for row in await cur.fetchall()}

    async def remember_links(self, found: Mapping[str, Path], forget: Iterable[str]) -> None:
        """Record the links a run read through (``found``) and drop those it pruned (``forget``)."""
        async with self.transaction():
            await self.conn.executemany("DELETE FROM corpus_links WHERE link = ?", [(k,) for k in forget])
            await self.conn.executemany(
                "INSERT OR REPLACE INTO corpus_links(link, target) VALUES (?, ?)",
                [(link, str(target)) for link, target in found.items()],
            )

    async def grant(self, grants: Iterable[tuple[str, int | None]]) -> None:
        """Let each (article id, server id; None: everyone) pair's server see the article, inside
        the open transaction: staged with the articles, so a published article is never seen by
        nobody, nor by a scope it was not brought for."""
        now = time.time()
        await self.conn.executemany(GRANT, [(uid, scope_id(guild), now) for uid, guild in grants])

    # -- recovery ------------------------------------------------------------------------
    async def discard_unpublished(self) -> int:
        """Drop rows staged by a run that never published; returns how many articles."""
        async with self.transaction():
            cur = await self.conn.execute("DELETE FROM passages WHERE gen_added > ?", (self.live,))
            await self.conn.execute("DELETE FROM articles WHERE gen_added > ?", (self.live,))
            dropped = cur.rowcount
            await self.conn.execute(
                "UPDATE passages SET gen_removed = NULL WHERE gen_removed > ?", (self.live,)
            )
            await self.conn.execute(
                "UPDATE articles SET gen_removed = NULL WHERE gen_removed > ?", (self.live,)
            )
        live = self.live  # files unpublished, or left by a restore of an older backup
        await asyncio.to_thread(self._remove_vector_files, lambda gen: gen > live, partial=True)
        if dropped:
            log.warning("discarded %d passages staged by an indexing run that did not finish", dropped)
        return dropped

    def _remove_vector_files(self, stale: Callable[[int], bool], *, partial: bool = False) -> None:
        """Unlink each ``gen-N.faiss`` whose N is ``stale`` (and with ``partial`` every ``*.tmp``).
        Call it in a thread: freeing a file of 100k passages (150 MB) takes ~35 ms, 9 of CPU."""
        for path in self.store.data_dir.glob("vectors/*.tmp") if partial else ():
            path.unlink(missing_ok=True)
        for path, gen in self._vector_files():
            if stale(gen):
                path.unlink(missing_ok=True)

    def _vector_files(self) -> list[tuple[Path, int]]:
        """Each ``gen-N.faiss`` of the store with its generation N."""
        found = []
        for path in self.store.data_dir.glob("vectors/gen-*.faiss"):
            try:
                found.append((path, int(path.stem.split("-")[1])))
            except (IndexError, ValueError):
                continue
        return found

    # -- reading what is there -----------------------------------------------------------
    async def existing(self) -> dict[str, ExistingArticle]:
        """Every article visible in the live generation, by key."""
        sql = f"SELECT id, uid, key, path, content_hash FROM articles a WHERE {visible('a')}"
        async with self.conn.execute(sql, {"gen": self.live}) as cur:
            rows = await cur.fetchall()
        return {r[2]: ExistingArticle(int(r[0]), r[1], r[2], r[3], r[4]) for r in rows}

    async def cached_vectors(self, keys: Iterable[str]) -> dict[str, bytes]:
        sql = "SELECT key, vector FROM embeddings WHERE key IN (:keys)"
        return {r[0]: r[1] for r in await rows_in(self.conn, sql, keys)}

    async def cached_keys(self, keys: Iterable[str], dim: int) -> set[str]:
        """Those of ``keys`` that have a cached vector of ``dim`` (the vectors themselves stay on
        disk); a damaged one, of another length, is embedded again (``put_batch`` replaces it)."""
        sql = "SELECT key FROM embeddings WHERE key IN (:keys) AND length(vector) = :bytes"
        return {r[0] for r in await rows_in(self.conn, sql, keys, {"bytes": dim * VECTOR_DTYPE.itemsize})}

    async def vectors_of_keys(self, keys: Sequence[str], dim: int) -> np.ndarray:
        """The cached vectors of ``keys``, one float32 row each in their order (all must exist)."""
        found = await self.cached_vectors(keys)
        return vector_matrix([found[k] for k in keys], dim)

    async def pending_ids(self) -> np.ndarray:
        """Ids of every passage visible in the pending generation, ascending."""
        sql = f"SELECT p.id FROM passages p WHERE {visible('p')} ORDER BY p.id"
        parts = [np.empty(0, dtype=np.int64)]
        async with self.conn.execute(sql, {"gen": self.pending}) as cur:
            while rows := await cur.fetchmany(65_536):  # not a million row tuples at once
                parts.append(np.fromiter((int(r[0]) for r in rows), dtype=np.int64))
        return np.concatenate(parts)

    async def vectors_of_ids(self, ids: np.ndarray, dim: int) -> np.ndarray:
        """The vectors of passages ``ids`` (ascending), one float32 row each in their order."""
        return await vectors_by_id(self.conn, ids, dim)

    def pending_vectors(self, dim: int, rows: int) -> AsyncIterator[tuple[np.ndarray, np.ndarray]]:
        """(ids, vectors) of every passage visible in the pending generation, in id order,
        ``rows`` at a time (``db.vector_parts``): a build holds one part, never every vector."""
        return vector_parts(self.conn, self.pending, dim, rows)

    async def live_texts(self, article_rows: Sequence[int] | None = None) -> list[StoredText]:
        """Live passages (of ``article_rows``, or all) with the text they were embedded from."""
        sql = f"SELECT id, article_id, context, text FROM passages p WHERE {visible('p')}"
        async with self.conn.execute(sql, {"gen": self.live}) as cur:
            rows = await cur.fetchall()
        keep = set(article_rows) if article_rows is not None else None
        return [
            StoredText(int(r[0]), int(r[1]), r[2], r[3]) for r in rows if keep is None or int(r[1]) in keep
        ]

    # -- staging -------------------------------------------------------------------------
    async def put_batch(
        self, vectors: Sequence[tuple[str, np.ndarray]], sentences: Sequence[tuple[str, np.ndarray]]
    ) -> None:
        """Cache passage vectors and their sentence vectors (float16) in one committed
        transaction, so a killed run never pays for them twice; a cached vector of the wrong
        length (damaged) is replaced."""
        async with self.transaction():
            if sentences:
                await self.conn.executemany(
                    "INSERT OR REPLACE INTO sentence_embeddings(key, count, vectors) VALUES (?, ?, ?)",
                    [(k, len(vecs), np.asarray(vecs, dtype=np.float16).tobytes()) for k, vecs in sentences],
                )
            await self.conn.executemany(
                "INSERT INTO embeddings(key, vector) VALUES (?, ?) ON CONFLICT(key) DO UPDATE "
                "SET vector = excluded.vector WHERE length(vector) != length(excluded.vector)",
                [(key, np.asarray(vec, dtype=np.float32).tobytes()) for key, vec in vectors],
            )

    async def stage_article(
        self,
        article: Article,
        *,
        lede: str,
        content_hash: str,
        passages: Sequence[Passage],
        contexts: Sequence[str],
        vector_keys: Sequence[str],
    ) -> list[int]:
        """Insert an article and its passages into the pending generation; returns passage ids."""
        rows = ArticleRows(article, lede, content_hash, tuple(passages), tuple(contexts), tuple(vector_keys))
        return await self.stage_articles([rows])

    async def stage_articles(self, items: Sequence[ArticleRows]) -> list[int]:
        """Insert articles and their passages into the pending generation, one statement per
        table for the whole batch (the FTS index follows by trigger); returns the passage ids
        in order. Ids are the next free row ids, as SQLite would pick them."""
        async with self.conn.execute(
            "SELECT (SELECT coalesce(max(id), 0) FROM articles), (SELECT coalesce(max(id), 0) FROM passages)"
        ) as cur:
            row = await cur.fetchone()
        article_id, passage_id = (int(row[0]), int(row[1])) if row else (0, 0)
        added = now_iso()
        article_rows: list[tuple[object, ...]] = []
        passage_rows: list[tuple[object, ...]] = []
        for item in items:
            article_id += 1
            a = item.article
            article_rows.append(
                (article_id, a.id, a.key, a.title, a.source, a.address, a.published, a.language, a.author,
                 a.path, a.locator, item.lede, item.content_hash, added, self.pending, a.local_day)
            )  # fmt: skip
            for passage, context, vkey in zip(item.passages, item.contexts, item.vector_keys, strict=True):
                passage_id += 1
                passage_rows.append(
                    (passage_id, article_id, passage.ordinal, passage.section,
                     _paragraphs_json(passage.paragraphs), passage.text, context, vkey, self.pending)
                )  # fmt: skip
        await self.conn.executemany(
            "INSERT INTO articles(id, uid, key, title, source, url, published, language, author, path, "
            "locator, lede, content_hash, added_at, gen_added, local_day) "
            "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            article_rows,
        )
        # One statement for all the passages: the FTS5 trigger's index writes are flushed once
        # per statement, and executemany into ``passages`` makes each row a statement (half the
        # staging time). The rows go to a temporary table first (executemany, no trigger there),
        # then into ``passages`` in one INSERT ... SELECT: a third of the SQL time of passing
        # them as one JSON text, none of its encoding, and a NUL in a text is no special case.
        await self.conn.execute(STAGING_TABLE)
        await self.conn.executemany(STAGE_PASSAGE, passage_rows)
        await self.conn.execute(STAGE_PASSAGES)
        await self.conn.execute("DELETE FROM temp.staged_passages")
        return [int(r[0]) for r in passage_rows]  # type: ignore[call-overload]

    async def stage_passage_copies(self, copies: Sequence[tuple[StoredText, str]]) -> list[int]:
        """Copy live passages into the pending generation with new vector keys (a new embedder)."""
        ids = []
        for text, vkey in copies:
            cur = await self.conn.execute(
                "INSERT INTO passages(article_id, ordinal, section, paragraphs, text, context, vector_key, "
                "gen_added) SELECT article_id, ordinal, section, paragraphs, text, context, ?, ? "
                "FROM passages WHERE id = ?",
                (vkey, self.pending, text.id),
            )
            ids.append(int(cur.lastrowid))  # type: ignore[arg-type]
        await self.stage_passage_removal([t.id for t in (c[0] for c in copies)])
        return ids

    async def stage_removal(self, article_rows: Sequence[int]) -> list[int]:
        """Mark articles and their passages removed as of the pending generation."""
        removed: list[int] = []
        for chunk in chunks(list(article_rows)):
            marks = ",".join("?" * len(chunk))
            async with self.conn.execute(
                f"SELECT id FROM passages WHERE article_id IN ({marks}) AND gen_removed IS NULL", chunk
            ) as cur:
                removed.extend(int(r[0]) for r in await cur.fetchall())
            await self.conn.execute(
                f"UPDATE articles SET gen_removed = ? WHERE id IN ({marks}) AND gen_removed IS NULL",
                (self.pending, *chunk),
            )
        await self.stage_passage_removal(removed)
        return removed

    async def stage_passage_removal(self, passage_ids: Sequence[int]) -> None:
        for chunk in chunks(list(passage_ids)):
            marks = ",".join("?" * len(chunk))
            await self.conn.execute(
                f"UPDATE passages SET gen_removed = ? WHERE id IN ({marks}) AND gen_removed IS NULL",
                (self.pending, *chunk),
            )

    # -- publishing ----------------------------------------------------------------------
    async def publish(self, meta: dict[str, str]) -> None:
        """Make the pending generation live, in one transaction."""
        values = {**meta, "generation": str(self.pending), "published_at": now_iso()}
        await self.conn.execute("PRAGMA synchronous=FULL")
        try:
            async with self.transaction():
                async with self.conn.execute(LANGUAGE_STATS_SQL, {"gen": self.pending}) as cur:
                    rows = await cur.fetchall()
                count, total = sum(int(r[1]) for r in rows), sum(int(r[2]) for r in rows)
                values["id_stats"] = f"{self.pending} {count} {total}"
                languages = [r[0] for r in rows if r[3]]
                values["languages"] = json.dumps({"gen": self.pending, "languages": languages})
                await self.conn.executemany(
                    "INSERT INTO meta(key, value) VALUES (?, ?) "
                    "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                    list(values.items()),
                )
        finally:
            await self.conn.execute("PRAGMA synchronous=NORMAL")
        self.live = self.pending
        self.pending = self.live + 1

    async def collect_garbage(self, *, sweep: bool = False) -> None:
        """Delete what no reader can see any more: rows removed before the previous generation,
        the embeddings only they used, FAISS files older than the previous generation. Vectors
        no passage ever used are a killed run's, kept for its next run (another run publishing
        first must not throw them away); ``sweep`` (a full rebuild) drops every unused one."""
        keep_from = self.live - 1
        async with self.transaction():
            for table in ("embeddings", "sentence_embeddings"):
                await self.conn.execute(
                    _UNUSED_SQL.format(table=table, of=_SWEEP if sweep else _REMOVED), (keep_from,)
                )
            await self.conn.execute(
                "DELETE FROM passages WHERE gen_removed IS NOT NULL AND gen_removed <= ?", (keep_from,)
            )
            await self.conn.execute(
                "DELETE FROM articles WHERE gen_removed IS NOT NULL AND gen_removed <= ?", (keep_from,)
            )
        await asyncio.to_thread(self._remove_vector_files, lambda gen: gen < keep_from)
        # Give the log's space back: a big run's staging grows it to the size of what it wrote.
        # A reader still on an old snapshot makes this give up after a moment: the log is then
        # cut back to ``JOURNAL_SIZE_LIMIT`` when the next write starts it over.
        await self.conn.execute("PRAGMA busy_timeout=200")
        try:
            await self.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            await self.conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
