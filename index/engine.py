"""The engine facade every front end uses: open once, then ask, index, list, inspect.

It is the boundary of the engine's core (this module, ``search``, ``indexing``, ``store``):
nothing outside them touches the store; front ends and the feeds ask the engine
(``tests/test_boundaries.py`` checks it).

Concurrency: all methods are coroutines for one event loop. Any number of ``ask`` calls may
run at once, also while one indexing run (``index`` / ``add_articles``) is in progress;
indexing runs are serialised by the writer lock (across processes too). Embedding, FAISS and
file work run in executors: questions on one thread, indexing on another, so a reindex
never makes a question wait for its batch. Ingest listeners (``on_ingest``) are awaited after
``add_articles`` has published, outside the writer lock.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Collection, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractAsyncContextManager
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from foreign_desk.index.answer_cache import AnswerCache
from foreign_desk.index.asked_links import LINKS_LOOKED_UP, linked_question, split_links, url_spellings
from foreign_desk.index.config import Settings
from foreign_desk.index.embed import Embedder, Fingerprint, make_embedder
from foreign_desk.index.errors import EmptyIndex, FingerprintMismatch, QuestionTooLong, StoreBusy, StoreError
from foreign_desk.index.models import SHARED, Answer, ArticleSummary, EngineStats, Filters, Scope, SourceCount
from foreign_desk.index.search import Searcher, SearchRequest, Snapshot, lexicon
from foreign_desk.index.search.coverage import article_with_key, same_story, same_story_threshold
from foreign_desk.index.search.topic_names import ArticleWords, TopicName
from foreign_desk.index.search.topics import latest_on_topic, topic_scores, topic_threshold, topic_verdicts
from foreign_desk.index.store import Store, WriterLock
from foreign_desk.index.store.db import DB_NAME, VECTOR_DTYPE, fits
from foreign_desk.index.store.integrity import CHECKSUM_KEY
from foreign_desk.index.store.repair import (
    Prechecked,
    opened,
    precheck,
    rebuild,
    save_checked,
    vectors_path,
)
from foreign_desk.index.store.schema import VECTOR_IDS_KEY
from foreign_desk.index.store.vectors import VectorIndex

if TYPE_CHECKING:  # loaded by the methods that use them: answering questions needs none of them
    from foreign_desk.index.article import Article
    from foreign_desk.index.indexing.indexer import Indexer
    from foreign_desk.index.progress import IndexReport, ProgressFn
    from foreign_desk.index.sqlite import Migrations
    from foreign_desk.index.store.backup import BackupReport
    from foreign_desk.index.store.doctor import Finding

log = logging.getLogger(__name__)

SHIPPED_CORPUS = Path(__file__).resolve().parent.parent / "corpus"
SEARCH_TRIES = 3
"""Searches of one question (``Engine.search``): each other than the first follows a generation
another process published meanwhile (seconds apart, so a third is already unlikely)."""

IngestListener = Callable[[int, list[str]], Awaitable[None]]
"""Called as ``listener(generation, article_ids)`` with the articles ``add_articles`` made new or changed."""


class Engine:
    """Owns the store, the embedder, the live vector index and the executors."""

    DB_NAME = DB_NAME
    """The main database's file name, which ``doctor`` names its check by."""

    def __init__(self, settings: Settings, store: Store, embedder: Embedder) -> None:
        self.settings = settings
        self.store = store
        self.embedder = embedder
        self.lock = WriterLock(store.data_dir / "writer.lock")
        self._query_pool = ThreadPoolExecutor(1, thread_name_prefix="fd-query")
        self._index_pool = ThreadPoolExecutor(1, thread_name_prefix="fd-index")
        self.searcher = Searcher(store, embedder, settings, self._query_pool)
        self._snapshot: Snapshot | None = None
        self.answers = AnswerCache()
        self._reload = asyncio.Lock()
        self._listeners: list[IngestListener] = []
        self._prechecked: Prechecked | None = None

    # -- lifecycle ------------------------------------------------------------------------
    @classmethod
    async def open(cls, settings: Settings, *, embedder: Embedder | None = None) -> Engine:
        """Open the store in ``settings.data_path`` and load the embedder (off the loop)."""
        store = await Store.open(settings.data_path)
        checking = asyncio.create_task(precheck(store, settings.index.nprobe))  # while the model loads
        warming = asyncio.create_task(asyncio.to_thread(lexicon.warm))
        try:
            if embedder is None:
                embedder = await asyncio.to_thread(make_embedder, settings.embedder)
            engine = cls(settings, store, embedder)
            engine._prechecked = await checking
            await warming
        except BaseException:
            checking.cancel()
            await asyncio.gather(checking, warming, return_exceptions=True)
            await store.close()
            raise
        try:
            await engine.snapshot(required=False)
        except StoreError as exc:  # answers say so; `index --full` can still rebuild
            log.warning("%s", exc)
        except BaseException:  # close what was opened, or its threads keep the process alive
            await engine.close()
            raise
        return engine

    async def close(self) -> None:
        """Wait for the executors' work, then close the store. A second Ctrl-C during that wait
        still closes the store's connection (its thread would keep the process from exiting),
        not its read connections: a question's thread may still be reading through them."""
        try:
            self._query_pool.shutdown(wait=True, cancel_futures=True)
            self._index_pool.shutdown(wait=True, cancel_futures=True)
        except BaseException:
            await self.store.conn.close()
            raise
        self.searcher.close()
        await self.store.close()

    async def __aenter__(self) -> Engine:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # -- the live generation ----------------------------------------------------------------
    async def snapshot(self, *, required: bool = True, gen: int | None = None) -> Snapshot | None:
        """The live generation (``gen`` when the caller just read it), reloaded when another
        process (or run) published a new one."""
        gen = await self.store.generation() if gen is None else gen
        snap = self._snapshot
        if snap is None or snap.generation != gen:
            async with self._reload:
                snap = self._snapshot
                if snap is None or snap.generation != gen:
                    snap = await self._load(gen)
                    self._snapshot = snap
        if snap is None and required:
            raise EmptyIndex("nothing is indexed yet: run `foreign-desk index`")
        if snap is not None and required and snap.fingerprint != self.embedder.fingerprint:
            raise FingerprintMismatch(
                f"the index was built with {snap.fingerprint} but the configured embedder is "
                f"{self.embedder.fingerprint}: run `foreign-desk index --full` to rebuild it"
            )
        return snap

    async def _load(self, gen: int) -> Snapshot | None:
        """The generation's vectors, verified (``store.repair``): a damaged file is rebuilt from
        the vectors SQLite keeps and never served. The live generation's: a newer one than
        ``gen`` when another process published after ``gen`` was read. Keyword indexes out of
        step with the passages (``store.keyword_spot``) are not served either: only ``doctor
        --repair`` indexes them again, so until then every load says so (and checks again)."""
        if gen == 0:
            return None
        pre, self._prechecked = self._prechecked, None
        if pre is not None and pre.generation == gen:
            meta, checked, keywords = pre.meta, pre.checked, pre.keywords
        else:
            meta = await self.store.meta()
            gen = int(meta.get("generation", gen))  # another process may have published since
            checked, keywords = await opened(self.store, meta, self.settings.index.nprobe)
        if keywords is not None:
            raise StoreError(f"{keywords}: run `foreign-desk doctor --repair` to index it again")
        fingerprint = Fingerprint.from_json(meta["fingerprint"])
        path = vectors_path(self.store, meta)
        if checked.vectors is None:
            vectors = await self._rebuild(gen, fingerprint.dim)
            log.warning(
                "the vector file %s was damaged (%s): rebuilt it from the %d vectors kept in the database",
                path.name,
                checked.damage,
                vectors.ntotal,
            )
            await self._save_repair(gen, vectors, path)
        else:
            vectors = await self._verified(gen, checked.vectors, path, meta)
        as_published = meta.get(CHECKSUM_KEY) if vectors is checked.vectors else None
        return await Snapshot.of(self.store, gen, vectors, fingerprint, checksum=as_published)

    async def _rebuild(self, gen: int, dim: int) -> VectorIndex:
        index = self.settings.index
        return await rebuild(
            self.store, gen, dim, approximate_threshold=index.approximate_threshold, nprobe=index.nprobe
        )

    async def _verified(
        self, gen: int, vectors: VectorIndex, path: Path, meta: dict[str, str]
    ) -> VectorIndex:
        """Check FAISS ids against the passage rows; patch (and save, if we may write) on mismatch.
        ``vectors`` passed the checksum in ``meta``: the ids counted when that file was written
        stand for reading them all again."""
        count, total = await self.store.visible_id_stats(gen)
        if meta.get(VECTOR_IDS_KEY) == f"{meta.get(CHECKSUM_KEY)} {count} {total}":
            return vectors
        ids = await asyncio.to_thread(vectors.ids)
        if len(ids) == count and int(ids.sum()) == total:
            return vectors
        log.warning("vector file %s disagrees with the passages table; repairing", path.name)
        rows = await self.store.visible_ids(gen)
        extra, missing = await asyncio.to_thread(lambda: (np.setdiff1d(ids, rows), np.setdiff1d(rows, ids)))
        found, blobs = await self.store.vectors_for(missing.tolist())
        stored = [b for b in blobs if fits(b, 1, vectors.dim, VECTOR_DTYPE)]  # damaged: as missing
        if len(stored) < len(blobs):
            raise StoreError("vectors are missing from the store or damaged: run `foreign-desk index --full`")
        vectors = await asyncio.to_thread(
            _patched, vectors, extra, found, stored
        )  # a copy: CPU, off the loop
        await self._save_repair(gen, vectors, path)
        return vectors

    async def _save_repair(self, gen: int, vectors: VectorIndex, path: Path) -> None:
        """Write a repaired vector file (and its checksum) unless another process is writing."""
        try:
            async with self.lock.hold(wait_s=0):
                if await self.store.generation() == gen:
                    await save_checked(self.store, vectors, path)
        except StoreError:
            log.info("another process is writing; the repair stays in memory")

    # -- questions --------------------------------------------------------------------------
    async def ask(
        self,
        question: str,
        *,
        k: int | None = None,
        filters: Filters = Filters(),
        per_article: int | None = None,
        offset: int = 0,
        scope: Scope = SHARED,
        now: date | None = None,
    ) -> Answer:
        """Cited passages answering ``question`` from what ``scope`` may see (the shared corpus,
        plus a server's own articles; ``match``: how sure), or ``nothing_relevant``; what is left
        out comes from ``[search]`` settings. ``now``: the day the question is asked, for "last
        week" and "kemarin" (default: today). A question holding links asks about the article
        they name (``asked_links``; ``linked``)."""
        question, linked = await self._read_links(question, scope)
        request = SearchRequest.of(
            question, self.settings.search, k=k, filters=filters, per_article=per_article, offset=offset,
            scope=scope, now=now,
        )  # fmt: skip
        answer = await self.search(request)
        return answer if linked is None else replace(answer, linked=linked)

    async def _read_links(self, question: str, scope: Scope) -> tuple[str, ArticleSummary | None]:
        """What ``question`` asks with its links read (``asked_links``), within
        ``search.max_question_chars``, and the article they name; one too long as typed is left as
        typed (``SearchRequest.of`` refuses it)."""
        words, links = split_links(question)
        limit = self.settings.search.max_question_chars
        if not links or len(question) > limit:
            return question, None
        linked = await self.linked_article(links, scope=scope)
        return linked_question(words, links, linked)[:limit], linked

    async def search(self, request: SearchRequest) -> Answer:
        """Answer one fully specified request against the live generation; the same request on
        the same generation, while nobody was granted or denied an article, again is answered
        from ``answers``. One hop to the question thread, unless another process published."""
        held = self._snapshot.generation if self._snapshot is not None else None
        for _ in range(SEARCH_TRIES):
            snap = await self.snapshot(gen=held)
            assert snap is not None
            answer = await self.searcher.search(snap, request, self.answers)
            if answer is not None:
                return answer
            held = None  # a newer generation is live: load it
        raise StoreBusy("the index was republished while answering, several times: ask again")

    # -- indexing ---------------------------------------------------------------------------
    def _indexer(self, **options: Any) -> Indexer:
        """An indexing run's pipeline. Imported here: a process that only answers questions (a
        cold start) does not load the readers, cleaning and building modules (~20 ms)."""
        from foreign_desk.index.indexing.indexer import Indexer

        return Indexer(self.store, self.embedder, self.settings, executor=self._index_pool, **options)

    async def index(
        self,
        paths: Sequence[str | Path] | None = None,
        *,
        full: bool = False,
        prune: bool = False,
        progress: ProgressFn | None = None,
    ) -> IndexReport:
        """Index files or folders (default: the shipped corpus); incremental unless ``full``.

        Articles whose files under ``paths`` are gone are removed only with ``prune``; a path
        that does not exist is reported (``IndexReport.missing_roots``) and removes nothing."""
        from foreign_desk.index.progress import waiting_notice

        async with self.lock.hold(waiting=waiting_notice(progress)):
            return await self._index_held(paths or [self.corpus_dir], full, prune, progress)

    async def _index_held(
        self, paths: Sequence[str | Path], full: bool, prune: bool, progress: ProgressFn | None
    ) -> IndexReport:
        """``index`` under the writer lock."""
        current = await self._writable_snapshot(full)
        indexer = self._indexer(progress=progress)
        report, vectors = await indexer.index_paths(list(paths), current, full=full, prune=prune)
        await self._install(report, vectors)
        return report

    async def add_articles(
        self,
        articles: Sequence[Article],
        *,
        progress: ProgressFn | None = None,
        scopes: Mapping[str, Collection[int | None]] | None = None,
    ) -> IndexReport:
        """Add or replace fetched articles (nothing else is removed). ``scopes`` says who may see
        each, by article id: server ids for a server's own articles, None for the shared corpus
        (an article left out is shared)."""
        from foreign_desk.index.progress import waiting_notice

        async with self.lock.hold(waiting=waiting_notice(progress)):
            current = await self._writable_snapshot(False)
            indexer = self._indexer(progress=progress, scopes=scopes)
            report, vectors = await indexer.add_articles(articles, current)
            await self._install(report, vectors)
            # The unchanged ones too (staging granted the new and changed ones).
            shared: tuple[int | None, ...] = (None,)
            await self.store.scopes.grant(
                (a.id, guild) for a in articles for guild in (scopes or {}).get(a.id, shared)
            )
        if self._listeners and report.changed_ids:
            for listener in list(self._listeners):
                try:
                    await listener(report.generation, report.changed_ids)
                except Exception:  # a listener's bug must not fail the ingestion that already happened
                    log.exception("an ingest listener failed")
        return report

    def on_ingest(self, listener: IngestListener) -> Callable[[], None]:
        """Await ``listener(generation, article_ids)`` after each ``add_articles`` that changed
        something (corpus ``index`` runs do not notify); returns a function that unsubscribes."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener) if listener in self._listeners else None

    async def ensure_indexed(self, progress: ProgressFn | None = None) -> IndexReport | None:
        """Index the shipped corpus when nothing was ever indexed (first run on a new machine)."""
        if not await self.is_empty():
            return None
        from foreign_desk.index.progress import waiting_notice

        async with self.lock.hold(waiting=waiting_notice(progress)):
            if not await self.is_empty():  # another process indexed (the user's own news) meanwhile
                return None
            return await self._index_held([self.corpus_dir], False, False, progress)

    async def _writable_snapshot(self, full: bool) -> VectorIndex | None:
        try:
            snap = await self.snapshot(required=False)
        except StoreError:
            if not full:
                raise
            return None
        return snap.vectors if snap is not None else None

    async def _install(self, report: IndexReport, vectors: VectorIndex) -> None:
        meta = await self.store.meta()
        if "fingerprint" in meta:
            fingerprint = Fingerprint.from_json(meta["fingerprint"])
            live = self._snapshot
            published = live is None or vectors is not live.vectors  # else a run with nothing to publish
            checksum = meta.get(CHECKSUM_KEY) if published else None
            gen = report.generation
            self._snapshot = await Snapshot.of(self.store, gen, vectors, fingerprint, checksum=checksum)

    # -- maintenance: no model, no snapshot (they must work on a store that cannot open) -----
    @staticmethod
    async def doctor(
        settings: Settings, *, repair: bool = False, versioned: Mapping[str, Migrations] | None = None
    ) -> list[Finding]:
        """Check every file of the data dir (``store.doctor``); rebuild the vector file with ``repair``.
        ``versioned``: the front ends' own databases and their migrations, as for ``restore``."""
        from foreign_desk.index.store.doctor import diagnose

        index = settings.index
        return await diagnose(
            settings.data_path,
            nprobe=index.nprobe,
            approximate_threshold=index.approximate_threshold,
            repair=repair,
            versioned=versioned,
        )

    @staticmethod
    async def backup(settings: Settings, dest: Path) -> BackupReport:
        """A consistent copy of the data dir in ``dest``, taken while the bot runs (``store.backup``)."""
        from foreign_desk.index.store.backup import backup

        return await backup(settings.data_path, dest)

    @staticmethod
    async def restore(
        settings: Settings, src: Path, versioned: Mapping[str, Migrations] | None = None
    ) -> BackupReport:
        """Replace the data dir's index with the backup in ``src`` (checked first; ``versioned``:
        the front ends' own databases and their migrations, see ``store.backup.restore``)."""
        from foreign_desk.index.store.backup import restore

        return await restore(src, settings.data_path, versioned)

    def upgrading(self) -> AbstractAsyncContextManager[None]:
        """Held while a front end migrates its own database in the data dir from what an older
        version made (the Discord bot's): the data dir alone, or ``StoreBusy`` at once."""
        return self.store.upgrading()

    @staticmethod
    def upgrading_alone(data_dir: Path) -> AbstractAsyncContextManager[None]:
        """``upgrading`` for a process without the engine open (``feedback export``)."""
        return Store.upgrading_alone(data_dir)

    @property
    def corpus_dir(self) -> Path:
        return SHIPPED_CORPUS

    @property
    def indexing(self) -> bool:
        return self.lock.locked

    @property
    def read_only(self) -> bool:
        """Whether the data dir cannot be written (a read-only mount or copy): it is only read."""
        return self.store.read_only

    @property
    def db_path(self) -> Path:
        """The database file; the feeds keep their own tables in it (``index.feeds.schema``)."""
        return self.store.db_path

    @property
    def fingerprint(self) -> Fingerprint:
        """The configured embedder's fingerprint."""
        return self.embedder.fingerprint

    # -- the live generation, for callers ----------------------------------------------------
    async def generation(self) -> int:
        """The live generation; 0 when nothing was ever indexed."""
        return await self.store.generation()

    async def is_empty(self) -> bool:
        """Whether nothing was ever indexed (``ensure_indexed`` would index the shipped corpus)."""
        return not await self.store.generation()

    async def indexed(self, keys: Sequence[str]) -> dict[str, str]:
        """Which of the article ``keys`` (``Article.key``) are live, as key → article id."""
        return await self.store.live_keys(keys, await self.store.generation())

    async def content_hash(self, article: Article) -> str | None:
        """The content hash ``article`` would be stored with (None: it has no text to store),
        to tell whether a stored version says the same. Cleans and chunks it, in a thread."""
        # Here: a process that only answers never loads cleaning and chunking.
        from foreign_desk.index.indexing.prepare import Prepared, prepare

        prepared = await asyncio.to_thread(prepare, article, self.settings)
        return prepared.content_hash if isinstance(prepared, Prepared) else None

    async def versions(self, keys: Sequence[str]) -> dict[str, list[tuple[str, str, str]]]:
        """The live versions of each article key's page (``Store.versions``)."""
        return await self.store.versions(keys, await self.store.generation())

    async def on_topics(
        self, article_ids: Sequence[str], topics: Sequence[str], vectors: np.ndarray
    ) -> dict[str, list[float | None]]:
        """For each live article, each topic's score where the article is on the topic, None
        where it is not (``search.topics.on_topic``: it names the topic, or the topic, embedded
        as the query ``vectors[i]``, stands out ``topic_z`` at its best passage). The score is
        the z-score of its best passage against the topic's background in its language."""
        snap = await self.snapshot()
        assert snap is not None
        found = await self.store.article_vectors(article_ids, snap.generation, snap.vectors.dim)
        languages = await self.store.article_languages(list(found), snap.generation)
        articles = await self.summaries(list(found))
        names = [TopicName.of(t) for t in topics]
        threshold = topic_threshold(self.settings)
        out = {}
        for uid, rows in found.items():
            langs = [languages.get(uid)] * len(rows)
            scores = np.stack([topic_scores(v, rows, langs, snap.background) for v in vectors]).max(axis=1)
            a = articles.get(uid)
            words = ArticleWords.of(a.title, a.lede) if a is not None else None
            out[uid] = topic_verdicts(scores, names, words, threshold)
        return out

    async def summaries(self, article_ids: Sequence[str]) -> dict[str, ArticleSummary]:
        """The live articles among ``article_ids``, by id."""
        wanted = list(dict.fromkeys(article_ids))
        if not wanted:
            return {}
        found = await self.store.latest(len(wanted), await self.store.generation(), uids=wanted)
        return {s.id: s for s in found}

    # -- who may see what ------------------------------------------------------------------
    async def grant(self, grants: Iterable[tuple[str, int | None]]) -> None:
        """Let each (article id, server id) pair's server (None: every reader) see the stored
        article (a feed or page of theirs brought an article already stored: it is stored once).
        Articles no longer live (forgotten, pruned) are not granted: a server never holds a
        place in its quota for an article nobody can read."""
        wanted = list(grants)
        live = await self.live([uid for uid, _ in wanted])
        await self.store.scopes.grant((uid, guild) for uid, guild in wanted if uid in live)

    async def live(self, article_ids: Sequence[str]) -> set[str]:
        """Those of ``article_ids`` in the live generation (not forgotten or pruned since)."""
        if not article_ids:
            return set()
        return await self.store.live_uids(article_ids, await self.store.generation())

    async def viewers(self, article_ids: Sequence[str]) -> dict[str, set[int | None]]:
        """Who may see each live article of ``article_ids``: server ids, None for every reader."""
        return await self.store.scopes.viewers(list(await self.live(article_ids)))

    async def visible(self, article_ids: Sequence[str], scope: Scope) -> set[str]:
        """Those of ``article_ids`` that ``scope`` may see."""
        return await self.store.scopes.visible(article_ids, scope)

    async def servers(self) -> set[int]:
        """The servers that own articles."""
        return await self.store.scopes.servers()

    async def own_articles(self, guild_id: int) -> list[str]:
        """The server's own articles (not the shared corpus's), oldest first."""
        return await self.store.scopes.owned(guild_id)

    async def forget(self, guild_id: int, article_ids: Sequence[str] | None = None) -> int:
        """The server stops seeing these own articles (or all of them); those nobody else sees
        are removed from the index in a new generation. Returns how many were removed."""
        revoked = await self.store.scopes.revoke(guild_id, article_ids)
        if not revoked:
            return 0
        async with self.lock.hold():
            unseen = await self.store.scopes.unseen(
                revoked
            )  # asked under the lock: a grant may just have come
            if not unseen:
                return 0
            current = await self._writable_snapshot(False)
            indexer = self._indexer()
            report, vectors = await indexer.remove_articles(unseen, current)
            if vectors is not None:
                await self._install(report, vectors)
        return report.articles_removed

    # -- listings ---------------------------------------------------------------------------
    async def latest(
        self,
        limit: int = 10,
        *,
        source: str | None = None,
        topic: str | None = None,
        scope: Scope = SHARED,
    ) -> list[ArticleSummary]:
        """Newest articles ``scope`` may see first; with ``topic``, only recent ones on it
        (``search.topics.on_topic``: they name it, or it stands out at their best passage). In a
        server's scope its own articles are marked ``own``."""
        if topic and topic.strip():
            topic, longest = topic.strip(), self.settings.search.max_question_chars
            if len(topic) > longest:  # said here: ``embed_query`` knows no more than "the text"
                raise QuestionTooLong(f"the topic is {len(topic):,} characters long; at most {longest:,}")
            snap = await self.snapshot(required=False)
            if snap is None:
                return []
            await self.snapshot()  # a model mismatch is a clear error, not silent nonsense
            return await latest_on_topic(
                self.store,
                snap.generation,
                snap.vectors.dim,
                topic,
                lambda: self.embed_query(topic),
                snap.background,
                threshold=topic_threshold(self.settings),
                limit=limit,
                source=source,
                recent=self.settings.feeds.topic_recent,
                scope=scope,
            )
        gen = await self.store.generation()
        return await self.store.latest(limit, gen, Filters(source=source), scope=scope)

    async def article_at(self, url: str, *, scope: Scope = SHARED) -> ArticleSummary | None:
        """The live article ``scope`` may see at web address ``url`` (as written, canonical, or
        as a corpus file may have written it: ``url_spellings``)."""
        # Here, not at the top: the fetch package loads aiohttp, which the engine alone never needs.
        from foreign_desk.index.fetch.urls import canonical_url

        keys = [f"url:{u}" for u in url_spellings(url, canonical_url(url))]
        return await article_with_key(self.store, await self.store.generation(), keys, scope)

    async def linked_article(self, links: Sequence[str], *, scope: Scope = SHARED) -> ArticleSummary | None:
        """The first of ``links`` (of the first ``LINKS_LOOKED_UP``) that is an article ``scope``
        may see: never another server's own."""
        for url in links[:LINKS_LOOKED_UP]:
            found = await self.article_at(url, scope=scope)
            if found is not None:
                return found
        return None

    async def same_story(
        self, article: ArticleSummary, *, limit: int = 5, scope: Scope = SHARED
    ) -> list[ArticleSummary]:
        """Other outlets' articles on ``article``'s story, closest first (``search.coverage``)."""
        snap = await self.snapshot()
        assert snap is not None
        threshold = same_story_threshold(self.embedder.fingerprint)
        return await same_story(
            self.store, snap.generation, snap.vectors.dim, article, threshold, limit=limit, scope=scope
        )

    async def embed_query(self, text: str) -> np.ndarray:
        """``text`` embedded as a query (normalized), on the question thread; ``QuestionTooLong``
        past ``search.max_question_chars`` (a topic to follow or list is a question too)."""
        limit = self.settings.search.max_question_chars
        if len(text) > limit:
            raise QuestionTooLong(f"the text is {len(text):,} characters long; at most {limit:,}")
        loop = asyncio.get_running_loop()
        vectors = await loop.run_in_executor(self._query_pool, self.embedder.embed_queries, [text])
        return np.asarray(vectors[0], dtype=np.float32)

    async def sources(self, *, scope: Scope = SHARED) -> list[SourceCount]:
        """Outlets with their live article counts (of what ``scope`` may see), most first."""
        return await self.store.sources(await self.store.generation(), scope)

    async def languages(self, *, scope: Scope = SHARED) -> dict[str, int]:
        """Live articles per language code (``?``: unknown) ``scope`` may see, most first."""
        return await self.store.languages(await self.store.generation(), scope)

    async def stats(self, *, scope: Scope | None = None) -> EngineStats:
        """What ``foreign-desk stats`` shows: everything, or what ``scope`` may see (the data
        folder, generation, size on disk and vector count are the whole folder's either way:
        front ends show them to operators only)."""
        gen = await self.store.generation()
        meta = await self.store.meta()
        counts = await self.store.counts(gen, scope)
        snap = self._snapshot
        fp = meta.get("fingerprint")
        return EngineStats(
            data_dir=str(self.store.data_dir.absolute()),  # `--data-dir d`: say where that is
            generation=gen,
            articles=counts["articles"],
            passages=counts["passages"],
            languages=counts["languages"],
            sources=await self.store.sources(gen, scope),
            index_type=meta.get("index_kind", "none") if snap is None else snap.vectors.kind,
            vectors=snap.vectors.ntotal if snap else 0,
            embedder=str(Fingerprint.from_json(fp)) if fp else None,
            configured_embedder=str(self.embedder.fingerprint),
            published_at=meta.get("published_at"),
            size_bytes=await asyncio.to_thread(self.store.size_bytes),
        )


def _patched(
    vectors: VectorIndex, extra: np.ndarray, found: np.ndarray, blobs: Sequence[bytes]
) -> VectorIndex:
    """A copy of ``vectors`` without the ids in ``extra`` and with the stored vectors ``found``."""
    copy = vectors.clone()
    copy.remove(extra.tolist())
    if len(found):
        copy.add(found, np.stack([np.frombuffer(b, dtype=np.float32) for b in blobs]))
    return copy
