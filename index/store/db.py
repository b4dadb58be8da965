"""The SQLite side of the store: opening, migrating, and every read query.

Reads are pinned to one generation (see ``schema``), so a query sees one consistent index
while a writer prepares the next. Queries made for a reader take its ``Scope`` and see only
what that scope may (``scopes``); ``scope=None`` is for the engine's own bookkeeping.
Concurrency: any number of tasks may read at once (aiosqlite serialises them on the
connection's thread); writes go through ``StoreWriter``, which holds the writer lock and its own
connection, except who may see an article (``scopes``).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
import os
from collections.abc import AsyncIterator, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, TypeGuard

import aiosqlite
import numpy as np
from foreign_desk.index.date_ceiling import ceiling
from foreign_desk.index.errors import StoreError
from foreign_desk.index.faults import checkpoint
from foreign_desk.index.models import ArticleRef, ArticleSummary, Filters, Scope, SourceCount
from foreign_desk.index.outlets import canonical_outlet
from foreign_desk.index.sqlite import (
    ReadConnections,
    connect,
    database_problem,
    migrate,
    open_connection,
    read_only_uri,
    refuse_unmigrated,
    rows_in,
)
from foreign_desk.index.store.lock import OpenLock, WriterLock
from foreign_desk.index.store.restore_journal import finish, pending, read_as_it_was
from foreign_desk.index.store.schema import (
    COMPACT_KEY,
    LANGUAGE_STATS_SQL,
    MIGRATIONS,
    SLOW_MIGRATIONS,
    visible,
)
from foreign_desk.index.store.scopes import Scopes, scope_sql
from foreign_desk.index.store.upgrade import alone_to_upgrade, behind, upgrading_alone

log = logging.getLogger(__name__)

DB_NAME = "foreign-desk.sqlite3"
VECTORS_DIR = "vectors"
OPEN_LOCK = "open.lock"
"""Held shared by every process with the store open (``OpenLock``)."""
BM25_WEIGHTS = (0.5, 1.0)
"""BM25 weights of a passage's context (headline, section) and its text: the context repeats on
every passage of an article, so a match there tells less about which passage answers."""


RESTORE = "restore a backup (`foreign-desk restore`) or index into a new data dir"
"""What to do about damage nothing in the data dir can rebuild."""


SENTENCE_DTYPE = np.dtype(np.float16)
"""How sentence vectors are stored: ``count`` rows of the embedder's ``dim`` in one blob."""
VECTOR_DTYPE = np.dtype(np.float32)
"""How a passage's vector is stored: one row of the embedder's ``dim``."""


def fits(blob: bytes | None, count: int, dim: int, dtype: np.dtype[Any] = SENTENCE_DTYPE) -> TypeGuard[bytes]:
    """Whether ``blob`` holds exactly ``count`` rows of ``dim`` ``dtype`` values."""
    return blob is not None and len(blob) == count * dim * dtype.itemsize


def intact_rows(
    rows: Iterable[Any], dim: int, dtype: np.dtype[Any] = SENTENCE_DTYPE
) -> Iterator[tuple[Any, np.ndarray]]:
    """(owner, ``count`` × ``dim`` rows as stored) for each row (owner, count, blob); a blob whose
    length is not count × dim × itemsize is damaged: left out (its passage then has no such
    vectors, as when they were never kept), one warning line for all, never a crash."""
    damaged = 0
    for owner, count, blob in rows:
        if not fits(blob, int(count), dim, dtype):
            damaged += 1
            continue
        yield owner, np.frombuffer(blob, dtype=dtype).reshape(int(count), dim)
    say_damaged(damaged)


def say_damaged(damaged: int) -> None:
    """The one warning line for ``damaged`` stored vector rows left out (none: nothing said)."""
    if damaged:
        log.warning(
            "left out %d damaged stored vector row(s) (wrong length): run `foreign-desk doctor`", damaged
        )


def _rows(rows: Iterable[Any], dim: int, sentences: bool) -> Iterator[tuple[Any, np.ndarray]]:
    """Stored vector blobs as float32 rows: one passage vector each, or ``count`` float16 sentences."""
    dtype = SENTENCE_DTYPE if sentences else np.dtype(np.float32)
    for owner, found in intact_rows(rows, dim, dtype):
        yield owner, found.astype(np.float32, copy=False)


def vector_matrix(blobs: Sequence[bytes], dim: int) -> np.ndarray:
    """Stored float32 vectors as the rows of one array; ``StoreError`` when some are damaged
    (of the wrong length): a build or a repair from them would fail on a traceback."""
    joined = b"".join(blobs)
    if len(joined) != len(blobs) * dim * VECTOR_DTYPE.itemsize:
        damaged = sum(not fits(blob, 1, dim, VECTOR_DTYPE) for blob in blobs)
        raise StoreError(
            f"{damaged} stored passage vector(s) are damaged (wrong length): run `foreign-desk index --full`"
        )
    return np.frombuffer(joined, dtype=VECTOR_DTYPE).reshape(len(blobs), dim)


_VECTORS_BY_ID = (
    "SELECT p.id, e.vector FROM passages p JOIN embeddings e ON e.key = p.vector_key WHERE p.id IN (:keys)"
)


async def vectors_by_id(conn: aiosqlite.Connection, ids: np.ndarray, dim: int) -> np.ndarray:
    """The stored vectors of passages ``ids``, one float32 row each in their order (all must exist)."""
    found = {int(r[0]): r[1] for r in await rows_in(conn, _VECTORS_BY_ID, ids.tolist())}
    return vector_matrix([found[int(i)] for i in ids], dim)


async def vector_parts(
    conn: aiosqlite.Connection, gen: int, dim: int, rows: int
) -> AsyncIterator[tuple[np.ndarray, np.ndarray]]:
    """(ids, vectors) of every passage visible at ``gen`` that has a stored vector, in id order,
    ``rows`` at a time (the last part takes what is left under ``2 * rows``): a build holds one
    part, never every vector of the corpus."""
    sql = (
        "SELECT p.id, e.vector FROM passages p JOIN embeddings e ON e.key = p.vector_key "
        f"WHERE {visible('p')} ORDER BY p.id"
    )
    async with conn.execute(sql, {"gen": gen}) as cur:
        got = list(await cur.fetchmany(rows))
        while got:
            more = list(await cur.fetchmany(rows))
            if len(more) < rows:  # the end: no short part on its own
                got, more = [*got, *more], []
            ids = np.fromiter((int(r[0]) for r in got), dtype=np.int64)
            yield ids, vector_matrix([r[1] for r in got], dim)
            got = more


@dataclass(frozen=True, slots=True)
class StoredPassage:
    """A passage row joined with its article, and its vector when asked for."""

    id: int
    article_row: int
    ordinal: int
    section: str | None
    paragraphs: tuple[int, ...]
    text: str
    article: ArticleRef
    vector_key: str = ""
    vector: np.ndarray | None = None


def day_sql(alias: str) -> str:
    """SQL for ``published_day`` of articles alias ``alias``: the outlet's day, else the UTC one."""
    return f"coalesce({alias}.local_day, substr({alias}.published, 1, 10))"


def believed_sql(alias: str) -> str:
    """SQL for the ``published`` of articles alias ``alias`` as believed now (``:ceiling``,
    ``date_ceiling.ceiling``), else NULL: a date stored while a clock since set back said 2099 is no
    date, as a feed's "2099" read now is none; else that article heads every listing until then."""
    return f"CASE WHEN {alias}.published <= :ceiling THEN {alias}.published END"


def newest_sql(columns: str, where: str, limit: str) -> str:
    """SQL for ``columns`` of the ``limit`` newest articles ``a`` meeting ``where``, the undated
    last (with ``believed`` and ``stamp`` columns; ``:ceiling`` bound); of one date, the one
    stored last, as the clock says (stored "in 2099" is stored at a time unknown: before the
    others). The dated are read down the ``published`` index, stopping at ``limit``: one sort
    of every article made ``latest`` ~9 ms at 50,000 articles, this ~1.6 (the undated sorted)."""
    stamp = "CASE WHEN a.added_at <= :ceiling THEN a.added_at END"

    def part(condition: str, order: str) -> str:
        return (
            f"SELECT * FROM (SELECT {columns}, {believed_sql('a')} AS believed, {stamp} AS stamp "
            f"FROM articles a WHERE {where} AND {condition} ORDER BY {order} LIMIT {limit})"
        )

    dated = part("a.published <= :ceiling", "a.published DESC, stamp DESC")
    undated = part("(a.published IS NULL OR a.published > :ceiling)", "stamp DESC")
    return (
        f"SELECT * FROM ({dated} UNION ALL {undated}) "
        f"ORDER BY believed IS NULL, believed DESC, stamp DESC LIMIT {limit}"
    )


def filter_sql(filters: Filters, alias: str = "a") -> tuple[str, dict[str, Any]]:
    """SQL conditions (joined with AND, leading AND included) and parameters for ``filters``."""
    parts: list[str] = []
    params: dict[str, Any] = {}
    if filters.language:
        parts.append(f"{alias}.language = :f_language")
        params["f_language"] = filters.language.lower()
    if filters.source:  # as typed, or by the house spelling stored ("BBC News" is "BBC")
        parts.append(f"{alias}.source COLLATE NOCASE IN (:f_source, :f_outlet)")
        params["f_source"] = filters.source
        params["f_outlet"] = canonical_outlet(filters.source) or filters.source
    if filters.since:
        parts.append(f"{day_sql(alias)} >= :f_since")
        params["f_since"] = filters.since[:10]
    if filters.until:
        parts.append(f"{day_sql(alias)} <= :f_until")
        params["f_until"] = filters.until[:10]
    if filters.since or filters.until:  # an article dated as no longer believed is undated
        parts.append(f"{alias}.published <= :ceiling")
        params["ceiling"] = ceiling()
    return "".join(f" AND {p}" for p in parts), params


def where_sql(filters: Filters, scope: Scope | None) -> tuple[str, dict[str, Any]]:
    """``filter_sql`` and ``scope_sql`` together, on the articles alias ``a``."""
    fsql, params = filter_sql(filters)
    ssql, sparams = scope_sql(scope)
    return fsql + ssql, {**params, **sparams}


PASSAGE_COLUMNS = (
    "p.id, p.article_id, p.ordinal, p.section, p.paragraphs, p.text, p.vector_key, "
    "a.uid, a.title, a.source, a.url, a.published, a.language, a.path, a.author, a.local_day"
)
SENTENCES_SQL = "SELECT key, count, vectors FROM sentence_embeddings WHERE key IN (:keys)"
CANDIDATES_SQL = (
    f"SELECT {PASSAGE_COLUMNS}, e.vector, s.count, s.vectors FROM passages p "
    "JOIN articles a ON a.id = p.article_id LEFT JOIN embeddings e ON e.key = p.vector_key "
    "LEFT JOIN sentence_embeddings s ON s.key = p.vector_key WHERE p.id IN (:keys)"
)
"""``passages_sql(True)`` with each passage's sentence vectors (count, blob; NULL when it has
none): a search's candidates in one read (``Reader.candidates``)."""


def passages_sql(with_vectors: bool) -> str:
    """Passage rows with their articles (and vectors) for ``stored_passage``, ``IN (:keys)`` ids."""
    vec_col = ", e.vector" if with_vectors else ", NULL"
    vec_join = " LEFT JOIN embeddings e ON e.key = p.vector_key" if with_vectors else ""
    return (
        f"SELECT {PASSAGE_COLUMNS}{vec_col} "
        f"FROM passages p JOIN articles a ON a.id = p.article_id{vec_join} WHERE p.id IN (:keys)"
    )


@functools.lru_cache(maxsize=4_096)
def _paragraphs(stored: str) -> tuple[int, ...]:
    """A passage's paragraph numbers from their JSON: a few hundred distinct lists ("[3, 4]")
    serve a whole corpus, and a search parses ~100 of them."""
    return tuple(json.loads(stored))


def _believed(ref: ArticleRef, top: str) -> ArticleRef:
    """``ref`` dated as believed now (``believed_sql``): what a citation shows and a question's
    period is matched against."""
    if ref.published is not None and ref.published > top:
        return replace(ref, published=None, local_day=None)
    return ref


def stored_passages(rows: Iterable[Sequence[Any]], dim: int | None = None) -> dict[int, StoredPassage]:
    """Rows of ``passages_sql`` by id (by position: plain ``sqlite3`` rows and aiosqlite's
    alike); the passages of one article share its ``ArticleRef``. ``dim``: a vector blob of
    another length is damaged: the passage has no vector, as when none was kept (one warning)."""
    articles: dict[int, ArticleRef] = {}
    passages = {}
    damaged, top = 0, ceiling()
    for pid, article_id, ordinal, section, paragraphs, text, vector_key, *article, blob in rows:
        ref = articles.get(article_id)
        if ref is None:
            ref = articles[article_id] = _believed(ArticleRef(*article), top)
        if blob is not None and dim is not None and not fits(blob, 1, dim, VECTOR_DTYPE):
            damaged, blob = damaged + 1, None
        vector = np.frombuffer(blob, dtype=VECTOR_DTYPE) if blob is not None else None
        passages[pid] = StoredPassage(
            pid, article_id, ordinal, section, _paragraphs(paragraphs), text, ref, vector_key, vector
        )
    say_damaged(damaged)
    return passages


async def _compact_if_pending(conn: aiosqlite.Connection) -> None:
    """VACUUM once after a migration that freed much of the file (``COMPACT_KEY``). VACUUM is
    atomic (a kill leaves the file as it was, the key still set); another process holding the
    write lock makes it wait ``busy_timeout``, then it is left for a later open."""
    async with conn.execute("SELECT value FROM meta WHERE key = ?", (COMPACT_KEY,)) as cur:
        if await cur.fetchone() is None:
            return
    log.warning("compacting %s once after a schema migration (a minute or so per GB)", DB_NAME)
    checkpoint("compact")
    try:
        await conn.execute("VACUUM")
    except aiosqlite.OperationalError as exc:
        log.warning("could not compact the database now (%s): the next open tries again", exc)
        return
    await conn.execute("DELETE FROM meta WHERE key = ?", (COMPACT_KEY,))
    await conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")


async def _finish_restore(data_dir: Path) -> None:
    """A restore killed after its journal is finished before anything opens its files (one killed
    before it is undone: ``restore_journal``), under the writer lock: other processes opening
    meanwhile wait for it, then find nothing left to do."""
    if not await asyncio.to_thread(pending, data_dir):
        return
    async with WriterLock(data_dir / "writer.lock").hold():
        try:
            await asyncio.to_thread(finish, data_dir)
        except OSError as exc:
            raise StoreError(f"cannot finish the restore into {data_dir}: {exc}") from None


def meta_int(key: str, value: str | None) -> int:
    """A whole-number meta value (0 when absent); ``StoreError`` when it is none: SQLite checks
    no values (its quick_check passes), and a generation of '1x' failed every question on a
    ``ValueError`` traceback."""
    try:
        return int(value or 0)
    except ValueError:
        raise StoreError(f"the database is damaged (meta {key} = {str(value)[:40]!r}): {RESTORE}") from None


def vectors_name(generation: int) -> str:
    """Generation ``generation``'s vector file, relative to the data dir. The live one is found by
    the generation's number, as publishing names it, never by the ``vectors_file`` recorded beside
    it: a damaged row or a hostile backup's ``../discord.sqlite3`` had a repair write the rebuilt
    index over that file."""
    return f"{VECTORS_DIR}/gen-{generation:06d}.faiss"


def read_only(data_dir: Path) -> bool:
    """Whether ``data_dir`` holds a store that cannot be written (a read-only mount or copy): it is
    then only read (``Store.open_read_only``)."""
    if not (data_dir / DB_NAME).is_file():
        return False
    return not all(os.access(path, os.W_OK) for path in (data_dir, data_dir / DB_NAME))


class Store:
    """The store's files in ``data_dir`` and the read side of its database."""

    def __init__(
        self,
        data_dir: Path,
        conn: aiosqlite.Connection,
        opened: OpenLock | None = None,
        *,
        read_only: bool = False,
    ) -> None:
        self.data_dir = data_dir
        self.conn = conn
        self.read_only = read_only
        """Opened by ``open_read_only``: the data dir cannot be written, only read."""
        self.scopes = Scopes(conn)
        self._opened = opened
        self.readers = ReadConnections(self.db_path)
        """Each thread's read-only connection for synchronous reads: a search's own reads and a
        quantized index's re-ranking share one on the question thread, and so its page cache
        (the rows the re-ranking read are read again for the candidates)."""

    @classmethod
    async def open(cls, data_dir: Path) -> Store:
        """The store in ``data_dir``, held open (``OpenLock``) until ``close``; one that cannot be
        written is read as it is (``open_read_only``)."""
        if await asyncio.to_thread(read_only, data_dir):
            return await cls.open_read_only(data_dir)
        opened = OpenLock(data_dir / OPEN_LOCK)
        try:
            data_dir.mkdir(parents=True, exist_ok=True)
            await opened.share()
        except OSError as exc:
            raise StoreError(f"cannot open the store in {data_dir}: {exc}") from exc
        try:
            await _finish_restore(data_dir)
            return cls(data_dir, await cls._connect_alone_to_upgrade(data_dir, opened), opened)
        except BaseException:
            opened.release()
            raise

    @classmethod
    async def open_read_only(cls, data_dir: Path) -> Store:
        """The store in a data dir that cannot be written (a read-only copy or mount), to answer
        from and check: not migrated, and without the open lock (whose file cannot be made there,
        and no restore can replace the files there either). A restore stopped halfway: refused."""
        await asyncio.to_thread(read_as_it_was, data_dir)
        try:
            conn = await open_connection(read_only_uri(data_dir / DB_NAME), uri=True)
        except aiosqlite.Error as exc:
            raise StoreError(f"{data_dir / DB_NAME}: {database_problem(exc)}") from exc
        conn.row_factory = aiosqlite.Row
        try:
            await refuse_unmigrated(conn, MIGRATIONS)
        except BaseException as exc:
            await conn.close()
            if isinstance(exc, aiosqlite.Error):
                raise StoreError(f"{data_dir / DB_NAME}: {database_problem(exc)}") from exc
            raise
        return cls(data_dir, conn, read_only=True)

    @classmethod
    async def _connect_alone_to_upgrade(cls, data_dir: Path, opened: OpenLock) -> aiosqlite.Connection:
        """``_connect``, holding ``opened`` exclusively where that migrates what an older version
        made (``index.store.upgrade``)."""
        if not await asyncio.to_thread(behind, data_dir / DB_NAME, MIGRATIONS):
            return await cls._connect(data_dir)
        async with alone_to_upgrade(opened):
            return await cls._connect(data_dir)

    def upgrading(self) -> contextlib.AbstractAsyncContextManager[None]:
        """Held while a front end migrates its own database in the data dir from what an older
        version made (the Discord bot's): the data dir alone, or ``StoreBusy`` at once."""
        if self._opened is None:  # read only: nothing there is migrated
            return contextlib.nullcontext()
        return alone_to_upgrade(self._opened)

    @staticmethod
    def upgrading_alone(data_dir: Path) -> contextlib.AbstractAsyncContextManager[None]:
        """``upgrading`` for a process without the store open (``feedback export``)."""
        return upgrading_alone(data_dir / OPEN_LOCK)

    @staticmethod
    async def _connect(data_dir: Path) -> aiosqlite.Connection:
        try:
            conn = await connect(data_dir / DB_NAME)
        except aiosqlite.DatabaseError as exc:
            raise StoreError(f"{data_dir / DB_NAME}: {database_problem(exc)}") from exc
        except (OSError, aiosqlite.Error) as exc:
            raise StoreError(f"cannot open the store in {data_dir}: {exc}") from exc
        try:
            await migrate(conn, MIGRATIONS, slow=SLOW_MIGRATIONS)
            await _compact_if_pending(conn)
        except BaseException as exc:
            await conn.close()
            if isinstance(exc, aiosqlite.DatabaseError):
                raise StoreError(f"{data_dir / DB_NAME}: {database_problem(exc)}") from exc
            raise
        return conn

    async def close(self) -> None:
        self.readers.close()
        try:
            await self.conn.close()
        finally:
            if self._opened is not None:
                self._opened.release()

    @property
    def db_path(self) -> Path:
        return self.data_dir / DB_NAME

    def vectors_path(self, generation: int) -> Path:
        return self.data_dir / vectors_name(generation)

    # -- meta -----------------------------------------------------------------------------
    async def meta(self) -> dict[str, str]:
        """The meta rows; ``StoreError`` when a number among them is none (``meta_int``)."""
        async with self.conn.execute("SELECT key, value FROM meta") as cur:
            meta = {row["key"]: row["value"] for row in await cur.fetchall()}
        for key in ("generation", "scopes_version"):
            meta_int(key, meta.get(key))
        return meta

    async def generation(self) -> int:
        """The live generation; 0 when nothing was ever indexed."""
        async with self.conn.execute("SELECT value FROM meta WHERE key = 'generation'") as cur:
            row = await cur.fetchone()
        return meta_int("generation", row[0] if row else None)

    # -- consistency ----------------------------------------------------------------------
    async def visible_id_stats(self, gen: int) -> tuple[int, int]:
        """(count, sum) of the passage ids visible at ``gen``: a cheap check against FAISS.

        Publishing records them for the generation it makes live (a full scan there, once), so
        opening a big store reads two numbers instead of scanning a million rows."""
        async with self.conn.execute("SELECT value FROM meta WHERE key = 'id_stats'") as cur:
            row = await cur.fetchone()
        recorded = _recorded_stats(row[0] if row else None)
        if recorded is not None and recorded[0] == gen:
            return recorded[1], recorded[2]
        sql = f"SELECT count(*), coalesce(sum(id), 0) FROM passages p WHERE {visible('p')}"
        async with self.conn.execute(sql, {"gen": gen}) as cur:
            row = await cur.fetchone()
        return (int(row[0]), int(row[1])) if row else (0, 0)

    async def passage_languages(self, gen: int) -> tuple[str, ...]:
        """The article languages (``""``: unknown) of the passages visible at ``gen``, in order.
        Publishing records them beside ``id_stats``; only another generation's are counted again."""
        async with self.conn.execute("SELECT value FROM meta WHERE key = 'languages'") as cur:
            row = await cur.fetchone()
        recorded = _recorded_languages(row[0] if row else None)
        if recorded is not None and recorded[0] == gen:
            return recorded[1]
        async with self.conn.execute(LANGUAGE_STATS_SQL, {"gen": gen}) as cur:
            return tuple(r[0] for r in await cur.fetchall() if r[3])

    async def unshared_passages(self, gen: int) -> int:
        """How many passages visible at ``gen`` are not the shared corpus's (servers' own)."""
        sql = (
            "SELECT count(*) FROM passages p INDEXED BY passages_unshared "
            f"WHERE p.unshared = 1 AND {visible('p')}"
        )
        async with self.conn.execute(sql, {"gen": gen}) as cur:
            row = await cur.fetchone()
        return int(row[0]) if row else 0

    async def unshared_ids(self) -> np.ndarray:
        """Ids of the passages (any generation) that are not the shared corpus's."""
        return await self._ids("SELECT id FROM passages INDEXED BY passages_unshared WHERE unshared = 1", {})

    async def visible_ids(self, gen: int) -> np.ndarray:
        sql = f"SELECT id FROM passages p WHERE {visible('p')}"
        return await self._ids(sql, {"gen": gen})

    async def vectors_for(self, ids: Sequence[int]) -> tuple[np.ndarray, list[bytes | None]]:
        """Stored vectors of passages ``ids`` (None where the embedding cache lacks one)."""
        sql = (
            "SELECT p.id, e.vector FROM passages p LEFT JOIN embeddings e ON e.key = p.vector_key "
            "WHERE p.id IN (:keys)"
        )
        out: dict[int, bytes | None] = {int(r[0]): r[1] for r in await rows_in(self.conn, sql, ids)}
        ordered = np.asarray(list(out), dtype=np.int64)
        return ordered, [out[i] for i in ordered.tolist()]

    async def visible_vectors(self, gen: int) -> tuple[np.ndarray, np.ndarray]:
        """(ids, vectors) of every passage visible at ``gen``, all at once (1.5 GB at 1M passages:
        a FAISS build reads ``vector_parts`` instead)."""
        sql = (
            "SELECT p.id, e.vector FROM passages p JOIN embeddings e ON e.key = p.vector_key "
            f"WHERE {visible('p')} ORDER BY p.id"
        )
        ids: list[int] = []
        blobs: list[bytes] = []
        async with self.conn.execute(sql, {"gen": gen}) as cur:
            async for row in cur:
                ids.append(int(row[0]))
                blobs.append(row[1])
        if not ids:
            return np.empty(0, dtype=np.int64), np.empty((0, 0), dtype=np.float32)

        def assemble() -> np.ndarray:  # hundreds of MB at scale: not on the event loop
            return np.frombuffer(b"".join(blobs), dtype=np.float32).reshape(len(ids), -1)

        return np.asarray(ids, dtype=np.int64), await asyncio.to_thread(assemble)

    async def vector_ids(self, gen: int) -> np.ndarray:
        """Ids of the passages visible at ``gen`` that have a stored vector, ascending."""
        sql = (
            "SELECT p.id FROM passages p JOIN embeddings e ON e.key = p.vector_key "
            f"WHERE {visible('p')} ORDER BY p.id"
        )
        parts = [np.empty(0, dtype=np.int64)]
        async with self.conn.execute(sql, {"gen": gen}) as cur:
            while rows := await cur.fetchmany(65_536):  # not a million row tuples at once
                parts.append(np.fromiter((int(r[0]) for r in rows), dtype=np.int64))
        return np.concatenate(parts)

    async def vectors_of_ids(self, ids: np.ndarray, dim: int) -> np.ndarray:
        """The stored vectors of passages ``ids``, one float32 row each in their order."""
        return await vectors_by_id(self.conn, ids, dim)

    def vector_parts(self, gen: int, dim: int, rows: int) -> AsyncIterator[tuple[np.ndarray, np.ndarray]]:
        """``vector_parts`` of generation ``gen``: ``rows`` vectors at a time, in id order."""
        return vector_parts(self.conn, gen, dim, rows)

    async def languages_of(self, passage_ids: Sequence[int]) -> dict[int, str | None]:
        """The article language of each passage id."""
        sql = (
            "SELECT p.id, a.language FROM passages p JOIN articles a ON a.id = p.article_id "
            "WHERE p.id IN (:keys)"
        )
        return {int(r[0]): r[1] for r in await rows_in(self.conn, sql, passage_ids)}

    async def article_languages(self, uids: Sequence[str], gen: int) -> dict[str, str | None]:
        """The language of each live article in ``uids``."""
        sql = f"SELECT a.uid, a.language FROM articles a WHERE a.uid IN (:keys) AND {visible('a')}"
        return {uid: lang for uid, lang in await rows_in(self.conn, sql, uids, {"gen": gen})}

    async def ids_by_language(self, gen: int) -> dict[str, np.ndarray]:
        """The ids of the passages visible at ``gen``, per article language (``""``: unknown)."""
        sql = (
            "SELECT coalesce(a.language, ''), p.id FROM passages p JOIN articles a ON a.id = p.article_id "
            f"WHERE {visible('p')} ORDER BY 1, 2"
        )
        async with self.conn.execute(sql, {"gen": gen}) as cur:
            rows = await cur.fetchall()
        return await asyncio.to_thread(ids_per_language, rows)  # 11 ms of CPU at 100k passages

    # -- search support -------------------------------------------------------------------
    async def _ids(self, sql: str, params: dict[str, Any]) -> np.ndarray:
        async with self.conn.execute(sql, params) as cur:
            rows = list(await cur.fetchall())
        return np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))

    async def passages(self, ids: Sequence[int], *, with_vectors: bool = False) -> dict[int, StoredPassage]:
        """Passage rows with their articles, by id (missing ids are left out)."""
        rows = await rows_in(self.conn, passages_sql(with_vectors), ids)
        return stored_passages(rows)

    async def sentence_vectors(self, keys: Sequence[str], dim: int) -> dict[str, np.ndarray]:
        """Stored sentence vectors (float32 rows in sentence order) of the passages with these
        keys (those that have them intact)."""
        return dict(_rows(await rows_in(self.conn, SENTENCES_SQL, keys), dim, sentences=True))

    async def sentence_vectors_of(self, passage_ids: Sequence[int], dim: int) -> dict[int, np.ndarray]:
        """Stored sentence vectors of the passages with these ids (those that have them intact)."""
        sql = (
            "SELECT p.id, s.count, s.vectors FROM passages p "
            "JOIN sentence_embeddings s ON s.key = p.vector_key WHERE p.id IN (:keys)"
        )
        return dict(_rows(await rows_in(self.conn, sql, passage_ids), dim, sentences=True))

    # -- listings -------------------------------------------------------------------------
    async def latest(
        self,
        limit: int,
        gen: int,
        filters: Filters = Filters(),
        uids: Sequence[str] | None = None,
        scope: Scope | None = None,
    ) -> list[ArticleSummary]:
        """Newest articles first (undated ones last), optionally only those in ``uids``; in a
        server's scope its own articles are marked ``own``."""
        fsql, params = where_sql(filters, scope)
        if uids is not None:
            if not uids:
                return []
            marks = ",".join(f":u{i}" for i in range(len(uids)))
            fsql += f" AND a.uid IN ({marks})"
            params.update({f"u{i}": u for i, u in enumerate(uids)})
        sql = newest_sql("a.*", f"{visible('a')}{fsql}", ":limit")
        params.update(gen=gen, limit=limit, ceiling=ceiling())
        async with self.conn.execute(sql, params) as cur:
            rows = await cur.fetchall()
        own: set[str] = set()
        if scope is not None and scope.guild_id and rows:
            own = await self.scopes.own(scope.guild_id, [r["uid"] for r in rows])
        return [
            ArticleSummary(
                id=r["uid"],
                title=r["title"],
                source=r["source"],
                url=r["url"],
                published=r["believed"],
                language=r["language"],
                path=r["path"],
                lede=r["lede"],
                own=r["uid"] in own,
                local_day=r["local_day"] if r["believed"] else None,
            )
            for r in rows
        ]

    async def sources(self, gen: int, scope: Scope | None = None) -> list[SourceCount]:
        ssql, params = scope_sql(scope)
        sql = (
            f"SELECT a.source AS source, count(*) AS n, max({believed_sql('a')}) AS latest, "
            f"max(CASE WHEN {believed_sql('a')} IS NOT NULL THEN {day_sql('a')} END) AS latest_day "
            "FROM articles a "
            f"WHERE {visible('a')}{ssql} AND a.source IS NOT NULL GROUP BY a.source COLLATE NOCASE "
            "ORDER BY n DESC, a.source"
        )
        async with self.conn.execute(sql, {"gen": gen, "ceiling": ceiling(), **params}) as cur:
            rows = await cur.fetchall()
        return [SourceCount(r["source"], int(r["n"]), r["latest"], r["latest_day"]) for r in rows]

    async def counts(self, gen: int, scope: Scope | None = None) -> dict[str, Any]:
        """Articles, passages, and articles per language at ``gen`` (those ``scope`` may see)."""
        ssql, params = scope_sql(scope)
        async with self.conn.execute(
            f"SELECT count(*) FROM articles a WHERE {visible('a')}{ssql}", {"gen": gen, **params}
        ) as c:
            articles = int((await c.fetchone())[0])  # type: ignore[index]
        if scope is None:
            passages, _ = await self.visible_id_stats(gen)
        else:
            sql = (
                "SELECT count(*) FROM passages p JOIN articles a ON a.id = p.article_id "
                f"WHERE {visible('p')}{ssql}"
            )
            async with self.conn.execute(sql, {"gen": gen, **params}) as c:
                passages = int((await c.fetchone())[0])  # type: ignore[index]
        languages = await self.languages(gen, scope)
        return {"articles": articles, "passages": passages, "languages": languages}

    async def languages(self, gen: int, scope: Scope | None = None) -> dict[str, int]:
        """Articles per language code at ``gen`` (``?``: unknown), most first."""
        ssql, params = scope_sql(scope)
        async with self.conn.execute(
            f"SELECT coalesce(a.language, '?'), count(*) FROM articles a WHERE {visible('a')}{ssql} "
            "GROUP BY 1 ORDER BY 2 DESC",
            {"gen": gen, **params},
        ) as cur:
            return {r[0]: int(r[1]) for r in await cur.fetchall()}

    def size_bytes(self) -> int:
        """Bytes on disk: the database with its WAL files and the FAISS files (blocking)."""
        files = [
            self.db_path,
            *self.data_dir.glob(f"{DB_NAME}-*"),
            *self.data_dir.glob(f"{VECTORS_DIR}/*.faiss"),
        ]
        return sum(f.stat().st_size for f in files if f.exists())

    # -- fetched articles and topics --------------------------------------------------------
    async def live_keys(self, keys: Sequence[str], gen: int) -> dict[str, str]:
        """Which of the article ``keys`` are visible at ``gen``, as key → public id."""
        sql = f"SELECT a.key, a.uid FROM articles a WHERE a.key IN (:keys) AND {visible('a')}"
        return {r[0]: r[1] for r in await rows_in(self.conn, sql, keys, {"gen": gen})}

    async def versions(self, keys: Sequence[str], gen: int) -> dict[str, list[tuple[str, str, str]]]:
        """The live versions of each of the article ``keys`` (the article itself and the
        ``Article.copy`` versions of its page) at ``gen``, as key → [(key, uid, content hash)]
        in the order they were stored; keys without any left out."""
        sql = (
            "SELECT key, uid, content_hash FROM articles a WHERE (a.key = :k OR "
            f"(a.key > :k || '#copy:' AND a.key < :k || '#copy;')) AND {visible('a')} ORDER BY a.id"
        )
        found: dict[str, list[tuple[str, str, str]]] = {}
        for key in dict.fromkeys(keys):
            async with self.conn.execute(sql, {"k": key, "gen": gen}) as cur:
                rows = [(r[0], r[1], r[2]) for r in await cur.fetchall()]
            if rows:
                found[key] = rows
        return found

    async def live_uids(self, uids: Sequence[str], gen: int) -> set[str]:
        """Those of the article ids ``uids`` visible at ``gen``."""
        sql = f"SELECT a.uid FROM articles a WHERE a.uid IN (:keys) AND {visible('a')}"
        return {r[0] for r in await rows_in(self.conn, sql, uids, {"gen": gen})}

    async def article_vectors(
        self, uids: Sequence[str], gen: int, dim: int, *, sentences: bool = False
    ) -> dict[str, np.ndarray]:
        """The passage vectors (rows) of each article in ``uids`` visible at ``gen``; with
        ``sentences``, the vectors of their sentences instead (articles without them left out)."""
        table, column = (
            ("sentence_embeddings s", "s.count, s.vectors") if sentences else ("embeddings s", "1, s.vector")
        )
        sql = (
            f"SELECT a.uid, {column} FROM articles a JOIN passages p ON p.article_id = a.id "
            f"JOIN {table} ON s.key = p.vector_key WHERE a.uid IN (:keys) "
            f"AND {visible('a')} AND {visible('p')} ORDER BY p.id"
        )
        rows: dict[str, list[np.ndarray]] = {}
        for uid, found in _rows(await rows_in(self.conn, sql, uids, {"gen": gen}), dim, sentences):
            rows.setdefault(uid, []).append(found)
        return {uid: np.concatenate(parts) for uid, parts in rows.items()}

    async def recent_vectors(
        self,
        gen: int,
        articles: int,
        dim: int,
        filters: Filters | None = None,
        scope: Scope | None = None,
        *,
        sentences: bool = False,
    ) -> tuple[list[str], np.ndarray, np.ndarray]:
        """Passage vectors of the ``articles`` newest articles (with ``sentences``, their
        sentences' vectors): (article ids, owner index per row into those ids, vectors).
        Undated articles count as the oldest."""
        fsql, params = where_sql(filters or Filters(), scope)
        table, column = (
            ("sentence_embeddings s", "s.count, s.vectors") if sentences else ("embeddings s", "1, s.vector")
        )
        where = f"{visible('a')}{fsql}"
        sql = (
            f"WITH recent AS ({newest_sql('a.id, a.uid', where, ':n')}) "
            f"SELECT r.uid, {column} FROM recent r JOIN passages p ON p.article_id = r.id "
            f"JOIN {table} ON s.key = p.vector_key WHERE {visible('p')} ORDER BY r.id, p.id"
        )
        params.update(gen=gen, n=articles, ceiling=ceiling())
        uids: dict[str, int] = {}
        owners: list[int] = []
        parts: list[np.ndarray] = []
        async with self.conn.execute(sql, params) as cur:
            found = await cur.fetchall()
        for uid, rows in _rows(found, dim, sentences):
            owners.extend([uids.setdefault(uid, len(uids))] * len(rows))
            parts.append(rows)
        if not parts:
            return [], np.empty(0, dtype=np.int64), np.empty((0, 0), dtype=np.float32)
        return list(uids), np.asarray(owners, dtype=np.int64), np.concatenate(parts)


def ids_per_language(rows: Iterable[Sequence[Any]]) -> dict[str, np.ndarray]:
    """(language, passage id) rows as each language's ids: run in a thread, as every opening of
    a generation does it (a serving process after each publish), on every passage."""
    out: dict[str, list[int]] = {}
    for lang, pid in rows:
        out.setdefault(lang, []).append(pid)
    return {lang: np.asarray(ids, dtype=np.int64) for lang, ids in out.items()}


def _recorded_stats(value: str | None) -> tuple[int, int, int] | None:
    """(generation, count, sum) as publishing recorded them; ``None`` when absent or malformed
    (then they are counted again)."""
    try:
        gen, count, total = (int(x) for x in (value or "").split())
    except ValueError:
        return None
    return gen, count, total


def _recorded_languages(value: str | None) -> tuple[int, tuple[str, ...]] | None:
    """(generation, languages) as publishing recorded them; ``None`` when absent or malformed
    (then they are counted again, never guessed)."""
    try:
        recorded = json.loads(value or "null")
        gen, languages = recorded["gen"], recorded["languages"]
    except (ValueError, TypeError, KeyError):
        return None
    if not isinstance(gen, int) or not all(isinstance(x, str) for x in languages):
        return None
    return gen, tuple(languages)
