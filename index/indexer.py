"""Indexing: articles → cleaned → passages → vectors (embedded once) → a new published generation.

A run reads and chunks everything first, embeds only passages whose (embedder, input text)
was never embedded before, stages rows invisibly, writes the next FAISS file atomically,
then publishes in one transaction. It is killed-safe at every step (see ``faults``).
Concurrency: call under the writer lock only (``Engine`` does); the CPU-heavy parts run in
executors so an event loop serving questions is never blocked.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import os
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from foreign_desk.index.chunk import chunk_article
from foreign_desk.index.clean import clean_article
from foreign_desk.index.config import Settings
from foreign_desk.index.embed import Embedder, Fingerprint
from foreign_desk.index.errors import FingerprintMismatch
from foreign_desk.index.faults import checkpoint
from foreign_desk.index.models import Article, IndexProgress, IndexReport, Passage, ReadProblem
from foreign_desk.index.readers import discover, read_path
from foreign_desk.index.store import Store, StoreWriter
from foreign_desk.index.store.vectors import FLAT, IVF, VectorIndex
from foreign_desk.index.text import split_sentences

log = logging.getLogger(__name__)

ProgressFn = Callable[[IndexProgress], None]
CHUNKER_VERSION = "1"


@dataclass(frozen=True, slots=True)
class Prepared:
    """An article ready to store: cleaned, chunked, hashed."""

    article: Article
    passages: tuple[Passage, ...]
    contexts: tuple[str, ...]
    lede: str
    content_hash: str

    def embed_texts(self) -> list[str]:
        return [f"{c}\n{p.text}" if c else p.text for c, p in zip(self.contexts, self.passages, strict=True)]


def embed_context(article: Article, passage: Passage) -> str:
    """What the embedder sees before a passage's text: the headline and section heading."""
    return "\n".join(part for part in (article.title, passage.section) if part)


def prepare(article: Article, settings: Settings) -> Prepared | ReadProblem:
    """Clean and chunk one article; an article left with no text is a problem, not an error."""
    cleaned = clean_article(article)
    passages = tuple(chunk_article(cleaned, settings.chunking))
    where = f"{article.path or article.url or article.title}"
    if not passages:
        return ReadProblem(where, "no article text left after removing boilerplate")
    lede = next((b.text for b in cleaned.blocks if b.kind != "heading"), "")
    sentences = split_sentences(lede)
    lede = (sentences[0] if sentences else lede)[:300]
    payload = {
        "article": asdict(cleaned) | {"path": None, "locator": None},
        "chunking": asdict(settings.chunking),
        "chunker": CHUNKER_VERSION,
    }
    digest = hashlib.sha1(json.dumps(payload, sort_keys=True, default=str).encode("utf-8")).hexdigest()
    contexts = tuple(embed_context(cleaned, p) for p in passages)
    return Prepared(cleaned, passages, contexts, lede, digest)


def vector_key(fingerprint: Fingerprint, text: str) -> str:
    """Cache key of an embedding: the same model and input give the same vector."""
    return hashlib.sha1(f"{fingerprint.to_json()}\n{text}".encode()).hexdigest()


def read_corpus(
    paths: Sequence[str | Path], settings: Settings, on_file: Callable[[int, int], None] | None = None
) -> tuple[list[Prepared], list[ReadProblem], set[str]]:
    """Read every article under ``paths`` (blocking). Returns the prepared articles, the
    problems, and the files that had problems (whose old articles must not be dropped)."""
    files, problems = discover(paths)
    prepared: list[Prepared] = []
    troubled: set[str] = set()
    seen: dict[str, str] = {}
    for n, path in enumerate(files, 1):
        for item in read_path(path):
            if isinstance(item, ReadProblem):
                problems.append(item)
                troubled.add(str(path))
                continue
            result = prepare(item, settings)
            if isinstance(result, ReadProblem):
                problems.append(result)
                troubled.add(str(path))
                continue
            key = result.article.key
            if key in seen:
                problems.append(ReadProblem(str(path), f"same article as {seen[key]} (skipped)", None))
                continue
            seen[key] = f"{path}" + (f" {item.locator}" if item.locator else "")
            prepared.append(result)
        if on_file:
            on_file(n, len(files))
    return prepared, problems, troubled


def _in_scope(path: str | None, roots: Sequence[Path]) -> bool:
    if not path:
        return False
    for root in roots:
        r = str(root)
        if path == r or path.startswith(r.rstrip(os.sep) + os.sep):
            return True
    return False


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
    ) -> None:
        self.store = store
        self.embedder = embedder
        self.settings = settings
        self.executor = executor
        self.progress = progress or (lambda _p: None)
        self.started = time.monotonic()
        self.report = IndexReport()
        self._rebuilt = False

    def _tell(self, phase: str, done: int = 0, total: int = 0, unit: str = "articles") -> None:
        elapsed = time.monotonic() - self.started
        self.progress(IndexProgress(phase, done, total, unit, self.report.passages_embedded, elapsed))

    async def index_paths(
        self, paths: Sequence[str | Path], current: VectorIndex | None, *, full: bool = False
    ) -> tuple[IndexReport, VectorIndex]:
        """Make the store reflect ``paths``: add new, replace changed, drop deleted articles."""
        loop = asyncio.get_running_loop()
        roots = [Path(p).expanduser().resolve() for p in paths]

        def on_file(done: int, total: int) -> None:
            loop.call_soon_threadsafe(self._tell, "reading", done, total, "files")

        prepared, problems, troubled = await asyncio.to_thread(read_corpus, roots, self.settings, on_file)
        self.report.problems.extend(problems)
        self.report.articles_seen = len(prepared)
        return await self._apply(prepared, current, full=full, scope=roots, keep_paths=troubled)

    async def add_articles(
        self, articles: Sequence[Article], current: VectorIndex | None
    ) -> tuple[IndexReport, VectorIndex, list[Prepared]]:
        """Add or replace single articles (fetched pages); nothing else is removed."""
        prepared: list[Prepared] = []
        for article in articles:
            result = await asyncio.to_thread(prepare, article, self.settings)
            if isinstance(result, ReadProblem):
                self.report.problems.append(result)
            else:
                prepared.append(result)
        self.report.articles_seen = len(prepared)
        report, index = await self._apply(prepared, current, full=False, scope=[], keep_paths=set())
        return report, index, prepared

    async def _apply(
        self,
        prepared: list[Prepared],
        current: VectorIndex | None,
        *,
        full: bool,
        scope: Sequence[Path],
        keep_paths: set[str],
    ) -> tuple[IndexReport, VectorIndex]:
        fingerprint = self.embedder.fingerprint
        async with StoreWriter.open(self.store) as writer:
            await writer.discard_unpublished()
            meta = await self.store.meta()
            stored_fp = Fingerprint.from_json(meta["fingerprint"]) if "fingerprint" in meta else None
            new_model = stored_fp is not None and stored_fp != fingerprint
            if new_model and not full:
                raise FingerprintMismatch(
                    f"the index was built with {stored_fp} but the configured embedder is {fingerprint}: "
                    "run `foreign-desk index --full` to rebuild it"
                )
            existing = await writer.existing()
            to_stage: list[Prepared] = []
            replaced: list[int] = []
            for item in prepared:
                old = existing.get(item.article.key)
                if old is None:
                    to_stage.append(item)
                    self.report.articles_added += 1
                elif full or old.content_hash != item.content_hash:
                    to_stage.append(item)
                    replaced.append(old.row)
                    self.report.articles_updated += 1
                else:
                    self.report.articles_unchanged += 1
            seen = {p.article.key for p in prepared}
            gone = [
                old.row
                for old in existing.values()
                if old.key not in seen and _in_scope(old.path, scope) and old.path not in keep_paths
            ]
            self.report.articles_removed = len(gone)
            # A new embedder: every other live passage needs a vector from it too.
            untouched = {old.row for old in existing.values()} - set(replaced) - set(gone)
            restage = await writer.live_texts(sorted(untouched)) if new_model else []

            vectors = await self._embed(writer, to_stage, restage, fingerprint)
            if (
                not to_stage
                and not replaced
                and not gone
                and not restage
                and current is not None
                and not full
            ):
                self.report.generation = writer.live
                self.report.seconds = time.monotonic() - self.started
                await self._embed_sentences(writer)  # finishes what an interrupted run left
                self._tell("done", len(prepared), len(prepared))
                return self.report, current

            self._tell("writing", len(to_stage), len(to_stage))
            new_ids: list[int] = []
            new_keys: list[str] = []
            async with writer.transaction():
                removed = await writer.stage_removal(replaced + gone)
                for item in to_stage:
                    keys = [vector_key(fingerprint, t) for t in item.embed_texts()]
                    ids = await writer.stage_article(
                        item.article,
                        lede=item.lede,
                        content_hash=item.content_hash,
                        passages=item.passages,
                        contexts=item.contexts,
                        vector_keys=keys,
                    )
                    new_ids.extend(ids)
                    new_keys.extend(keys)
                if restage:
                    copies = [(t, vector_key(fingerprint, t.embed_text)) for t in restage]
                    new_ids.extend(await writer.stage_passage_copies(copies))
                    new_keys.extend(k for _, k in copies)
                    removed.extend(t.id for t in restage)
            checkpoint("staged")
            self.report.passages_added = len(new_ids)
            self.report.passages_removed = len(removed)

            index = await self._next_index(
                writer, current, full or new_model, new_ids, new_keys, vectors, removed
            )
            path = self.store.vectors_path(writer.pending)
            await asyncio.to_thread(index.save, path)
            checkpoint("vectors-written")
            await writer.publish(
                {
                    "fingerprint": fingerprint.to_json(),
                    "index_kind": index.kind,
                    "vectors_file": path.name,
                    "chunking": json.dumps(asdict(self.settings.chunking)),
                    "ivf_trained_n": str(index.ntotal)
                    if self._rebuilt and index.kind == IVF
                    else meta.get("ivf_trained_n", "0"),
                }
            )
            checkpoint("published")
            await writer.collect_garbage()
            self.report.generation = writer.live
            self.report.seconds = time.monotonic() - self.started
            await self._embed_sentences(writer)
        self._tell("done", len(to_stage), len(to_stage))
        log.info("published generation %d: %s", self.report.generation, self.report)
        return self.report, index

    async def _embed(
        self, writer: StoreWriter, to_stage: list[Prepared], restage: list, fingerprint: Fingerprint
    ) -> dict[str, np.ndarray]:
        """Vectors for every passage to stage, from the cache or the embedder (in batches)."""
        texts: dict[str, str] = {}
        owners: list[tuple[int, list[str]]] = []  # (article index, its keys) for progress
        for n, item in enumerate(to_stage):
            keys = []
            for text in item.embed_texts():
                key = vector_key(fingerprint, text)
                texts.setdefault(key, text)
                keys.append(key)
            owners.append((n, keys))
        for stored in restage:
            texts.setdefault(vector_key(fingerprint, stored.embed_text), stored.embed_text)
        cached = await writer.cached_vectors(texts)
        vectors = {k: np.frombuffer(v, dtype=np.float32) for k, v in cached.items()}
        missing = [k for k in texts if k not in vectors]
        total = len(to_stage)
        done_keys: set[str] = set(vectors)

        def articles_done() -> int:
            return sum(1 for _, keys in owners if all(k in done_keys for k in keys))

        self._tell("embedding", articles_done(), total)
        loop = asyncio.get_running_loop()
        batch = max(1, self.settings.embedder.batch_size)
        for start in range(0, len(missing), batch):
            keys = missing[start : start + batch]
            embedded = await loop.run_in_executor(
                self.executor, self.embedder.embed_passages, [texts[k] for k in keys]
            )
            await writer.put_embeddings(list(zip(keys, embedded, strict=True)))
            for key, vec in zip(keys, embedded, strict=True):
                vectors[key] = vec
            done_keys.update(keys)
            self.report.passages_embedded += len(keys)
            checkpoint("embedded-batch")
            self._tell("embedding", articles_done(), total)
        return vectors

    async def _embed_sentences(self, writer: StoreWriter) -> None:
        """Give every live passage's sentences vectors, for highlighting across languages.

        Runs after publishing, so new passages are searchable at the embedder's full rate;
        until their turn comes they are highlighted by word overlap. Committed per batch:
        a run that is stopped resumes where it stopped.
        """
        if not self.settings.index.sentence_vectors:
            return
        started = time.monotonic()
        todo = await writer.passages_without_sentence_vectors()
        if not todo:
            return
        loop = asyncio.get_running_loop()
        batch = max(16, 2 * self.settings.embedder.batch_size)
        done = 0
        self._tell("highlights", 0, len(todo), "passages")
        pending: list[tuple[str, list[str]]] = []

        async def flush() -> None:
            nonlocal done
            texts = [s for _, sentences in pending if len(sentences) > 1 for s in sentences]
            vectors = (
                await loop.run_in_executor(self.executor, self.embedder.embed_passages, texts)
                if texts
                else None
            )
            items, at = [], 0
            for key, sentences in pending:
                if len(sentences) > 1:
                    items.append((key, vectors[at : at + len(sentences)]))  # type: ignore[index]
                    at += len(sentences)
                else:  # one sentence: nothing to choose between, just mark it done
                    items.append((key, np.zeros((1, self.embedder.dim), dtype=np.float32)))
            await writer.put_sentence_vectors(items)
            done += len(pending)
            pending.clear()
            checkpoint("highlights-batch")
            self._tell("highlights", done, len(todo), "passages")

        count = 0
        for key, text in todo:
            sentences = split_sentences(text) or [text]
            pending.append((key, sentences))
            count += len(sentences) if len(sentences) > 1 else 0
            if count >= batch:
                await flush()
                count = 0
        if pending:
            await flush()
        self.report.highlight_seconds = round(time.monotonic() - started, 2)

    async def _next_index(
        self,
        writer: StoreWriter,
        current: VectorIndex | None,
        rebuild: bool,
        new_ids: list[int],
        new_keys: list[str],
        vectors: dict[str, np.ndarray],
        removed: list[int],
    ) -> VectorIndex:
        """The next generation's FAISS index: patched from the live one, or rebuilt."""
        cfg = self.settings.index
        dim = self.embedder.dim
        if current is not None and not rebuild and current.dim == dim:
            size = current.ntotal - len(removed) + len(new_ids)
            trained = int((await self.store.meta()).get("ivf_trained_n", "0") or 0)
            if current.kind == FLAT:
                still_fits = size <= cfg.approximate_threshold
            else:  # IVF: keep while big enough and not far past what its centroids were trained on
                still_fits = cfg.approximate_threshold // 2 < size <= 4 * max(trained, 1)
            if still_fits:

                def patch() -> VectorIndex:
                    index = current.clone()
                    index.remove(removed)
                    if new_ids:
                        index.add(
                            np.asarray(new_ids, dtype=np.int64), np.stack([vectors[k] for k in new_keys])
                        )
                    return index

                return await asyncio.to_thread(patch)
        self._rebuilt = True
        ids, matrix = await self.store.visible_vectors(writer.pending)
        if not len(ids):
            return VectorIndex.empty(dim, cfg.nprobe)
        return await asyncio.to_thread(
            VectorIndex.build,
            dim,
            ids,
            matrix,
            approximate_threshold=cfg.approximate_threshold,
            nprobe=cfg.nprobe,
        )
