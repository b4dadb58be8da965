"""Embed: a vector for every passage to stage, from the embedding cache or the model, and after
publishing, vectors for the sentences of new passages (for highlighting across languages).

Each batch is committed as soon as it is embedded, so a run that is killed never pays for it
twice. The model runs through ``run_model`` (the indexing thread), never on the event loop.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable, Sequence

import numpy as np
from foreign_desk.index.embed import Fingerprint
from foreign_desk.index.faults import checkpoint
from foreign_desk.index.indexing.prepare import Prepared
from foreign_desk.index.store import StoreWriter
from foreign_desk.index.store.writer import StoredText
from foreign_desk.index.text import split_sentences

RunModel = Callable[[list[str]], Awaitable[np.ndarray]]
"""Embeds passage texts (normalized rows) off the event loop."""

MIN_SENTENCE_BATCH = 16
"""Sentences are short: at least this many per model call, or the per-call overhead dominates."""


def vector_key(fingerprint: Fingerprint, text: str) -> str:
    """Cache key of an embedding: the same model and input give the same vector."""
    return hashlib.sha1(f"{fingerprint.to_json()}\n{text}".encode()).hexdigest()


def texts_to_embed(
    to_stage: Sequence[Prepared], restage: Sequence[StoredText], fingerprint: Fingerprint
) -> tuple[dict[str, str], list[list[str]]]:
    """Every distinct embedding input (key → text), and the keys of each article to stage."""
    texts: dict[str, str] = {}
    owners: list[list[str]] = []
    for item in to_stage:
        keys = []
        for text in item.embed_texts():
            key = vector_key(fingerprint, text)
            texts.setdefault(key, text)
            keys.append(key)
        owners.append(keys)
    for stored in restage:
        texts.setdefault(vector_key(fingerprint, stored.embed_text), stored.embed_text)
    return texts, owners


async def embed_passages(
    writer: StoreWriter,
    texts: dict[str, str],
    run_model: RunModel,
    *,
    batch: int,
    on_batch: Callable[[Sequence[str], int], None],
) -> dict[str, np.ndarray]:
    """Vectors for every key of ``texts``: cached ones read, the others embedded ``batch`` at a
    time. ``on_batch(keys_now_done, newly_embedded)`` is called first (with the cached keys)
    and after each batch."""
    cached = await writer.cached_vectors(texts)
    vectors = {k: np.frombuffer(v, dtype=np.float32) for k, v in cached.items()}
    missing = [k for k in texts if k not in vectors]
    on_batch(list(vectors), 0)
    for start in range(0, len(missing), max(1, batch)):
        keys = missing[start : start + max(1, batch)]
        embedded = await run_model([texts[k] for k in keys])
        await writer.put_embeddings(list(zip(keys, embedded, strict=True)))
        for key, vec in zip(keys, embedded, strict=True):
            vectors[key] = vec
        checkpoint("embedded-batch")
        on_batch(keys, len(keys))
    return vectors


class ArticlesEmbedded:
    """How many articles have a vector for every passage, kept up to date key by key (counting
    afresh after each batch cost O(articles x batches): minutes at 100k passages)."""

    def __init__(self, owners: Sequence[Sequence[str]]) -> None:
        self._waiting: dict[str, list[int]] = {}
        self._left = [len(set(keys)) for keys in owners]
        for n, keys in enumerate(owners):
            for key in set(keys):
                self._waiting.setdefault(key, []).append(n)
        self.done = sum(1 for left in self._left if not left)

    def add(self, keys: Sequence[str]) -> None:
        for key in keys:
            for n in self._waiting.pop(key, ()):
                self._left[n] -= 1
                self.done += not self._left[n]


async def embed_sentences(
    writer: StoreWriter,
    run_model: RunModel,
    *,
    dim: int,
    batch: int,
    on_batch: Callable[[int, int], None],
) -> int:
    """Give every live passage's sentences vectors, ``batch`` sentences per model call at least;
    ``on_batch(passages_done, passages_total)`` after each. Committed per batch: a run that is
    stopped resumes where it stopped. A one-sentence passage is only marked done. Returns how
    many passages were done."""
    todo = await writer.passages_without_sentence_vectors()
    if not todo:
        return 0
    batch = max(MIN_SENTENCE_BATCH, batch)
    done = 0
    on_batch(0, len(todo))
    pending: list[tuple[str, list[str]]] = []
    count = 0
    for key, text in todo:
        sentences = split_sentences(text) or [text]
        pending.append((key, sentences))
        count += len(sentences) if len(sentences) > 1 else 0
        if count >= batch:
            done += await _sentence_batch(writer, run_model, pending, dim)
            on_batch(done, len(todo))
            pending, count = [], 0
    if pending:
        done += await _sentence_batch(writer, run_model, pending, dim)
        on_batch(done, len(todo))
    return done


async def _sentence_batch(
    writer: StoreWriter, run_model: RunModel, pending: list[tuple[str, list[str]]], dim: int
) -> int:
    texts = [s for _, sentences in pending if len(sentences) > 1 for s in sentences]
    vectors = await run_model(texts) if texts else None
    items, at = [], 0
    for key, sentences in pending:
        if len(sentences) > 1:
            items.append((key, vectors[at : at + len(sentences)]))  # type: ignore[index]
            at += len(sentences)
        else:  # one sentence: nothing to choose between, just mark it done
            items.append((key, np.zeros((1, dim), dtype=np.float32)))
    await writer.put_sentence_vectors(items)
    checkpoint("highlights-batch")
    return len(pending)
