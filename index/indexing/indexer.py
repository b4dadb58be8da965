"""Indexing: articles → cleaned → passages → vectors (embedded once) → a new published generation.

A run streams its articles through named stages as it reads them (``prepare``, a batch of
articles at a time, see ``stream``), holding only what deciding what is gone needs (the keys
read) whatever the corpus's size:

    plan     each article judged as it is read: new, changed or unchanged (against the live
             generation); what is gone or kept is decided once everything has been read
    embed    a vector for every passage to stage (cache first; the rest made of its lines:
             headline, section heading, sentences, whose vectors are kept for highlights),
             written to the store's cache batch by batch and not held
    stage    rows of the pending generation, invisible to readers, a batch of articles at a
             time as they come; the removals last
    build    the next FAISS index (patched or rebuilt), its vectors read back a part at a time
    publish  the FAISS file written atomically, the generation flipped in one transaction

It is killed-safe at every step (see ``faults``). Concurrency: call under the writer lock only
(``Engine`` does); the CPU-heavy parts run in executors so an event loop serving questions is
never blocked.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
from collections.abc import (
    AsyncIterator,
    Awaitable,
    Callable,
    Collection,
    Iterable,
    Iterator,
    Mapping,
    Sequence,
)
from concurrent.futures import Executor
from pathlib import Path
from typing import TypeVar

from foreign_desk.index.article import Article, ReadProblem
from foreign_desk.index.config import Settings
from foreign_desk.index.embed import Embedder, Fingerprint, block_size
from foreign_desk.index.errors import FingerprintMismatch
from foreign_desk.index.indexing.build import next_index
from foreign_desk.index.indexing.plan import Plan, Planner, removed_links
from foreign_desk.index.indexing.prepare import CorpusReader, Prepared, prepare
from foreign_desk.index.indexing.publish import publish
from foreign_desk.index.indexing.stage import Staged, stage
from foreign_desk.index.indexing.stream import Stream
from foreign_desk.index.progress import IndexProgress, IndexReport, ProgressFn
from foreign_desk.index.readers import shown, unusable
from foreign_desk.index.readers.notes import say
from foreign_desk.index.store import Store
from foreign_desk.index.store.vectors import VectorIndex
from foreign_desk.index.store.writer import StoredText, StoreWriter

log = logging.getLogger(__name__)
T = TypeVar("T")

READ_BATCH = 64
"""Articles read (in a thread) per step of a run: the next step is read while this one is
embedded and staged."""


def _take(articles: Iterator[Prepared], n: int) -> list[Prepared]:
    return list(itertools.islice(articles, n))


async def _chunks(articles: Iterable[Prepared], n: int) -> AsyncIterator[list[Prepared]]:
    """``articles`` read in a thread ``n`` at a time, the next part read while the caller works."""
    it = iter(articles)
    ahead = asyncio.ensure_future(asyncio.to_thread(_take, it, n))
    try:
        while chunk := await ahead:
            ahead = asyncio.ensure_future(asyncio.to_thread(_take, it, n))
            yield chunk
    finally:
        if not ahead.done():
            ahead.cancel()


class Indexer:
    """One indexing run against a store; build with the live vector index (or None)."""

    def __init__(
        self,
        store: Store,
        embedder: Embedder,
        settings: Settings,
        *,
        executor: Executor | None,
        progress: ProgressFn | None = None,
        scopes: Mapping[str, Collection[int | None]] | None = None,
    ) -> None:
        """``scopes``: who may see each article by id (server ids, None for the shared corpus);
        an article left out is the shared corpus's."""
        self.store = store
        self.scopes = scopes
        self.embedder = embedder
        self.settings = settings
        self.executor = executor
        self.progress = progress or (lambda _p: None)
        self.started = time.monotonic()
        self.report = IndexReport()
        self._files = (0, 0)
        self._reading = False

    def _tell(self, phase: str, done: int = 0, total: int = 0, unit: str = "articles") -> None:
        elapsed = time.monotonic() - self.started
        self.progress(IndexProgress(phase, done, total, unit, self.report.passages_embedded, elapsed))

    def _offload(self, fn: Callable[[], T]) -> Awaitable[T]:
        """``fn`` run in the indexing thread (embedding: the model and the work around it)."""
        return asyncio.get_running_loop().run_in_executor(self.executor, fn)

    async def index_paths(
        self, paths: Sequence[str | Path], current: VectorIndex | None, *, full: bool = False,
        prune: bool = False,
    ) -> tuple[IndexReport, VectorIndex]:  # fmt: skip
        """Make the store reflect ``paths``: add new, replace changed articles; with ``prune``,
        drop those whose files under ``paths`` are gone. A path that does not exist (an
        unmounted drive, a typo) is a problem and the articles under it are never touched."""
        loop = asyncio.get_running_loop()
        given = [Path(p).expanduser() for p in paths]
        why = {p: unusable(p) for p in given}
        self.report.missing_roots = {shown(p.absolute()): w for p, w in why.items() if w is not None}
        roots = [p.resolve() for p, w in why.items() if w is None]

        def on_file(done: int, total: int) -> None:
            self._files = (done, total)
            loop.call_soon_threadsafe(self._tell, "reading", done, total, "files")

        reader = CorpusReader(given, self.settings, on_file, self.report.problems, scope=roots)
        report, index = await self._apply(
            reader, current, full=full, scope=roots, keep_paths=reader.troubled, prune=prune,
            links=reader.links,
        )  # fmt: skip
        report.article_files, report.unsupported = reader.files, dict(sorted(reader.others.items()))
        return report, index

    async def add_articles(
        self, articles: Sequence[Article], current: VectorIndex | None
    ) -> tuple[IndexReport, VectorIndex]:
        """Add or replace single articles (fetched pages); nothing else is removed."""
        prepared: list[Prepared] = []
        self.report.problems.limit += len(articles)  # each one's kept: callers look them up by path
        for article in articles:
            result = await asyncio.to_thread(prepare, article, self.settings)
            if isinstance(result, ReadProblem):
                self.report.problems.append(result)
            else:
                prepared.append(result)
        return await self._apply(prepared, current, full=False, scope=[], keep_paths=set())

    async def remove_articles(
        self, uids: Sequence[str], current: VectorIndex | None
    ) -> tuple[IndexReport, VectorIndex | None]:
        """Drop these live articles (those nobody may see any more) in a new generation."""
        async with StoreWriter.open(self.store) as writer:
            await writer.discard_unpublished()
            existing = (await writer.existing()).values()
            wanted = set(uids)
            todo = Plan(gone=[old for old in existing if old.uid in wanted])
            todo.untouched = sorted({old.row for old in existing} - {old.row for old in todo.gone})
            self._count(todo)
            if not todo.gone:
                self.report.generation = writer.live
                return self.report, current
            index = await self._write(
                writer, todo, [], Staged([], [], []), current, False, await self.store.meta()
            )
        log.info("published generation %d: %s", self.report.generation, self.report)
        return self.report, index

    async def _apply(
        self,
        articles: Iterable[Prepared],
        current: VectorIndex | None,
        *,
        full: bool,
        scope: Sequence[Path],
        keep_paths: set[str],
        prune: bool = True,
        links: dict[str, Path] | None = None,
    ) -> tuple[IndexReport, VectorIndex]:
        """Plan, embed and stage ``articles`` as they come (``keep_paths`` and ``links`` are read
        once they have all come: a ``CorpusReader`` fills them while reading), then the rest of
        the run; the links read through are recorded, those removed forgotten once pruned."""
        fingerprint = self.embedder.fingerprint
        async with StoreWriter.open(self.store) as writer:
            await writer.discard_unpublished()
            meta = await self.store.meta()
            new_model = self._model_changed(meta, fingerprint, full)
            planner = Planner(await writer.existing(), full=full)
            stream = Stream(
                writer, self.embedder.embed_passages, self._offload, fingerprint=fingerprint,
                batch=block_size(self.embedder, self.settings.embedder.batch_size),
                keep_sentences=self.settings.index.sentence_vectors, scopes=self.scopes,
                on_batch=lambda n: self._embedded(stream, n),
            )  # fmt: skip
            self._reading = True
            seen = 0
            async for chunk in _chunks(articles, READ_BATCH):
                seen += len(chunk)
                await stream.add([item for item in chunk if self._judge(planner, item)])
            self._reading = False
            self.report.articles_seen = seen
            removed = removed_links(await writer.links(), links or {}, scope, keep_paths)
            gone_scope = [*scope, *map(Path, removed.values())]
            todo = planner.finish(scope=gone_scope, keep_paths=keep_paths, prune=prune)
            self._count(todo)
            # A new embedder: every other live passage needs a vector from it too.
            restage = await writer.live_texts(todo.untouched) if new_model else []
            await stream.add_texts(restage)
            self._tell("embedding", stream.embedded, stream.articles)
            staged = await stream.finish()
            idle = not (todo.changes or restage or full) and (current is not None or writer.live == 0)
            if idle and current is None:  # a new store and nothing read: no empty generation 1
                index = VectorIndex.empty(self.embedder.dim, self.settings.index.nprobe)
            elif idle and current is not None:  # nothing to publish
                index, self.report.generation = current, writer.live
            else:
                index = await self._write(writer, todo, restage, staged, current, full or new_model, meta)
            self.report.seconds = time.monotonic() - self.started
            if links is not None:
                await writer.remember_links(links, removed if prune else ())
        done = seen if idle else todo.staged
        self._tell("done", done, done)
        if not idle:
            log.info("published generation %d: %s", self.report.generation, self.report)
        return self.report, index

    def _judge(self, planner: Planner, item: Prepared) -> bool:
        """Whether ``item`` is to be staged (``Planner.add``). What its reader said of it is a
        warning only then: of an unchanged article it was said when it was staged, and is said
        again at INFO (``-v``), counted in the report."""
        staged = planner.add(item)
        say(item.notes, again=not staged)
        if not staged:
            self.report.warnings_not_repeated += len(item.notes)
        return staged

    def _embedded(self, stream: Stream, passages: int) -> None:
        """Progress after a batch embedded: while reading, in files read; then in articles
        whose passages all have vectors."""
        self.report.passages_embedded += passages
        if self._reading:
            self._tell("reading", *self._files, "files")
        else:
            self._tell("embedding", stream.embedded, stream.articles)

    def _model_changed(self, meta: dict[str, str], fingerprint: Fingerprint, full: bool) -> bool:
        """Whether the live generation was embedded by another model (allowed only with ``full``)."""
        stored = Fingerprint.from_json(meta["fingerprint"]) if "fingerprint" in meta else None
        if stored is not None and stored != fingerprint and not full:
            raise FingerprintMismatch(
                f"the index was built with {stored} but the configured embedder is {fingerprint}: "
                "run `foreign-desk index --full` to rebuild it"
            )
        return stored is not None and stored != fingerprint

    def _count(self, todo: Plan) -> None:
        report = self.report
        report.articles_added = len(todo.added_ids)
        report.articles_updated = len(todo.updated_ids)
        report.articles_unchanged = todo.unchanged
        report.articles_removed = len(todo.gone)
        report.articles_gone_kept = todo.kept_gone
        report.added_ids = list(todo.added_ids)
        report.updated_ids = list(todo.updated_ids)
        report.removed_ids = [old.uid for old in todo.gone]

    async def _write(
        self,
        writer: StoreWriter,
        todo: Plan,
        restage: list[StoredText],
        streamed: Staged,
        current: VectorIndex | None,
        rebuild: bool,
        meta: dict[str, str],
    ) -> VectorIndex:
        """Stage the rest (removals, copies), build and publish the next generation;
        ``streamed``: the articles staged as they were read."""
        fingerprint = self.embedder.fingerprint
        self._tell("writing", todo.staged, todo.staged)
        rest = await stage(writer, todo, restage, fingerprint, self.scopes)
        staged = Staged(streamed.new_ids + rest.new_ids, streamed.new_keys + rest.new_keys, rest.removed)
        self.report.passages_added = len(staged.new_ids)
        self.report.passages_removed = len(staged.removed)
        index, rebuilt = await next_index(
            self.store, writer, current, staged,
            dim=self.embedder.dim, rebuild=rebuild, settings=self.settings.index,
        )  # fmt: skip
        await publish(
            self.store, writer, index, fingerprint=fingerprint, chunking=self.settings.chunking,
            rebuilt=rebuilt, meta=meta, sweep=rebuild,
        )  # fmt: skip
        self.report.generation = writer.live
        return index
