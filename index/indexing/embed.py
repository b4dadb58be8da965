"""Embed: a vector for every passage to stage, from the embedding cache or the model.

A passage vector is made of its lines (``PASSAGE_RECIPE``): the headline, the section heading
and each sentence are embedded once, and the passage's vector is the normalized sum of its
lines' vectors. That costs the model no more than embedding the passage whole (sentences are
shorter, so a little less; a headline shared by an article's passages is embedded once:
``python -m bench.embedding_cost``), and the sentence vectors come with it: they highlight the
best sentence in any language and let a passage whose one sentence states the fact outrank
passages that are merely about its topic (``search/judge.py``).

Each batch is committed as soon as it is embedded (its lines, then its sentence vectors, then
its passage vectors, which mark it done), so a run that is killed never pays for it twice. The
model runs through ``run_model`` (the indexing thread), never on the event loop.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable, Mapping, Sequence

import numpy as np
from foreign_desk.index.embed import Fingerprint
from foreign_desk.index.faults import checkpoint
from foreign_desk.index.indexing.prepare import PASSAGE_RECIPE, Prepared
from foreign_desk.index.store import StoreWriter
from foreign_desk.index.store.writer import StoredText
from foreign_desk.index.text import split_sentences

RunModel = Callable[[list[str]], Awaitable[np.ndarray]]
"""Embeds texts (normalized rows) off the event loop."""
Source = tuple[str, str]
"""What a passage vector is made of: its context (headline, section heading) and its text."""


def vector_key(fingerprint: Fingerprint, text: str) -> str:
    """Cache key of an embedding: the same model and input give the same vector."""
    return hashlib.sha1(f"{fingerprint.to_json()}\n{text}".encode()).hexdigest()


def passage_key(fingerprint: Fingerprint, context: str, text: str) -> str:
    """Cache key of a passage vector: the model, the recipe, and the lines it is made of."""
    return vector_key(fingerprint, f"{PASSAGE_RECIPE}\n{context}\n\n{text}")


def passage_lines(context: str, text: str) -> tuple[list[str], list[str]]:
    """(context lines, sentences): what a passage vector is the sum of."""
    return [line for line in context.split("\n") if line.strip()], split_sentences(text) or [text]


def passages_to_embed(
    to_stage: Sequence[Prepared], restage: Sequence[StoredText], fingerprint: Fingerprint
) -> tuple[dict[str, Source], list[list[str]]]:
    """Every distinct passage (key → context and text), and the keys of each article to stage."""
    sources: dict[str, Source] = {}
    owners: list[list[str]] = []
    for item in to_stage:
        keys = []
        for context, passage in zip(item.contexts, item.passages, strict=True):
            key = passage_key(fingerprint, context, passage.text)
            sources.setdefault(key, (context, passage.text))
            keys.append(key)
        owners.append(keys)
    for stored in restage:
        sources.setdefault(
            passage_key(fingerprint, stored.context, stored.text), (stored.context, stored.text)
        )
    return sources, owners


async def embed_passages(
    writer: StoreWriter,
    sources: dict[str, Source],
    run_model: RunModel,
    *,
    fingerprint: Fingerprint,
    batch: int,
    keep_sentences: bool,
    on_batch: Callable[[Sequence[str], int], None],
) -> dict[str, np.ndarray]:
    """Vectors for every passage of ``sources``: cached ones read, the others made of their lines
    ``batch`` passages at a time (their sentence vectors kept when ``keep_sentences``).
    ``on_batch(keys_now_done, newly_embedded)`` is called first (with the cached keys) and
    after each batch."""
    cached = await writer.cached_vectors(sources)
    vectors = {k: np.frombuffer(v, dtype=np.float32) for k, v in cached.items()}
    missing = [k for k in sources if k not in vectors]
    on_batch(list(vectors), 0)
    for start in range(0, len(missing), max(1, batch)):
        keys = missing[start : start + max(1, batch)]
        made = await _from_lines(
            writer, {k: sources[k] for k in keys}, run_model, fingerprint, keep_sentences
        )
        vectors.update(made)
        checkpoint("embedded-batch")
        on_batch(keys, len(keys))
    return vectors


async def _from_lines(
    writer: StoreWriter,
    sources: Mapping[str, Source],
    run_model: RunModel,
    fingerprint: Fingerprint,
    keep_sentences: bool,
) -> dict[str, np.ndarray]:
    """Passage vectors (and sentence vectors) of ``sources``, each distinct line embedded once."""
    parts = {key: passage_lines(*source) for key, source in sources.items()}
    line_keys = {
        line: vector_key(fingerprint, line)
        for lines, sentences in parts.values()
        for line in (*lines, *sentences)
    }
    known = {
        k: np.frombuffer(v, dtype=np.float32)
        for k, v in (await writer.cached_vectors(line_keys.values())).items()
    }
    todo = [line for line, key in line_keys.items() if key not in known]
    if todo:
        embedded = await run_model(todo)
        fresh = [(line_keys[line], vec) for line, vec in zip(todo, embedded, strict=True)]
        await writer.put_embeddings(fresh)
        known.update(fresh)
    out: dict[str, np.ndarray] = {}
    sentences_of = []
    for key, (lines, sentences) in parts.items():
        rows = np.stack([known[line_keys[line]] for line in (*lines, *sentences)])
        total = rows.sum(axis=0)
        out[key] = (total / max(float(np.linalg.norm(total)), 1e-12)).astype(np.float32)
        sentences_of.append((key, rows[len(lines) :]))
    if keep_sentences:
        await writer.put_sentence_vectors(sentences_of)
    await writer.put_embeddings(list(out.items()))  # last: a passage with a vector is done
    return out


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
