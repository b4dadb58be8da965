"""Embed: a vector for every passage to stage, from the embedding cache or the model.

A passage vector is made of its lines (``PASSAGE_RECIPE``): the headline, the section heading
and each sentence are embedded once, and the passage's vector is the normalized sum of its
lines' vectors. That costs the model no more than embedding the passage whole (sentences are
shorter, so a little less; a headline shared by an article's passages is embedded once:
``python -m bench.embedding_cost``), and the sentence vectors come with it: they highlight the
best sentence in any language and let a passage whose one sentence states the fact outrank
passages that are merely about its topic (``search/judge.py``).

Batches are committed together once ``COMMIT_SECONDS`` of work or ``COMMIT_PASSAGES`` passages
have piled up (their sentence vectors and their passage vectors, which mark them done, in one
transaction), so a run that is killed pays again for about a second of model work at most,
while a model-free run does not pay a transaction per 16 passages. Nothing else of them stays
in memory: the build reads the passage vectors back from the store a part at a time, so a
run's memory does not grow with the number of passages it embeds. Recent lines' vectors are
kept (``LineVectors``, bounded). The model runs through ``run_model`` (the indexing thread),
never on the event loop.
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Mapping, Sequence

import numpy as np
from foreign_desk.index.embed import Fingerprint
from foreign_desk.index.faults import checkpoint
from foreign_desk.index.indexing.prepare import PASSAGE_RECIPE
from foreign_desk.index.store import StoreWriter

RunModel = Callable[[list[str]], Awaitable[np.ndarray]]
"""Embeds texts (normalized rows) off the event loop."""
Source = tuple[str, Sequence[str]]
"""What a passage vector is made of: its context (headline, section heading) and its
sentences (``passage_sentences``)."""


def vector_key(fingerprint: Fingerprint, text: str) -> str:
    """Cache key of an embedding: the same model and input give the same vector."""
    return hashlib.sha1(f"{_fingerprint_json(fingerprint)}\n{text}".encode()).hexdigest()


@functools.lru_cache(maxsize=16)
def _fingerprint_json(fingerprint: Fingerprint) -> str:
    """``to_json`` once per fingerprint (it was a twentieth of a model-free indexing run)."""
    return fingerprint.to_json()


def passage_key(fingerprint: Fingerprint, context: str, text: str) -> str:
    """Cache key of a passage vector: the model, the recipe, and the lines it is made of."""
    return vector_key(fingerprint, f"{PASSAGE_RECIPE}\n{context}\n\n{text}")


def passage_lines(context: str, sentences: Sequence[str]) -> tuple[list[str], Sequence[str]]:
    """(context lines, sentences): what a passage vector is the sum of."""
    return [line for line in context.split("\n") if line.strip()], sentences


COMMIT_SECONDS = 1.0
"""Embedding work committed to the store at a time: what a killed run pays for again, at most
(a commit per 16 passages was a tenth of a model-free run: each writes its index pages anew)."""
COMMIT_PASSAGES = 2_048
"""Passage vectors (and their sentences') held before a commit, whatever the time: ~10 MB."""

LINES_KEPT = 8_192
"""Line vectors a run keeps in memory (~12 MB at 384 dimensions), most recently used first: a
headline or section heading shared by an article's passages in consecutive batches is embedded
once. They are never written to the store: a passage's vector and its sentence vectors are
what outlives the batch (writing every line's vector and deleting it at publish was most of an
indexing run's disk traffic)."""


class LineVectors:
    """The vectors of lines embedded lately in this run (a bounded LRU), float32 rows."""

    def __init__(self, capacity: int = LINES_KEPT) -> None:
        self._capacity = capacity
        self._rows: OrderedDict[str, np.ndarray] = OrderedDict()

    def get(self, line: str) -> np.ndarray | None:
        row = self._rows.get(line)
        if row is not None:
            self._rows.move_to_end(line)
        return row

    def put(self, line: str, row: np.ndarray) -> None:
        self._rows[line] = row
        self._rows.move_to_end(line)
        while len(self._rows) > self._capacity:
            self._rows.popitem(last=False)

    def put_new(self, lines: Sequence[str], rows: np.ndarray) -> None:
        """``put`` of each line in turn, for lines not kept (just missed by ``get``): they go
        to the end as they come, and the oldest beyond the capacity are dropped once."""
        self._rows.update(zip(lines, rows, strict=True))
        for _ in range(len(self._rows) - self._capacity):
            self._rows.popitem(last=False)


async def embed_passages(
    writer: StoreWriter,
    sources: dict[str, Source],
    run_model: RunModel,
    *,
    fingerprint: Fingerprint,
    batch: int,
    keep_sentences: bool,
    on_batch: Callable[[Sequence[str], int], None],
    lines: LineVectors | None = None,
) -> int:
    """Give every passage of ``sources`` a vector in the store's cache: those not cached yet are
    made of their lines ``batch`` passages at a time (their sentence vectors kept when
    ``keep_sentences``); returns how many were made. No vector is kept: they go to the cache
    a few batches at a time (``COMMIT_SECONDS``) and the build reads them back (a run holds
    ``COMMIT_PASSAGES`` at most, not 1.5 GB at 1M passages). ``on_batch(keys_now_done,
    newly_embedded)`` is called first (with the cached keys) and after each batch. ``lines``:
    the line vectors kept by a run that embeds its passages a part at a time (``stream``)."""
    cached = await writer.cached_keys(sources)
    missing = [k for k in sources if k not in cached]
    on_batch([k for k in sources if k in cached], 0)
    lines = lines if lines is not None else LineVectors()
    made: list[tuple[str, np.ndarray]] = []
    sentences: list[tuple[str, np.ndarray]] = []
    since = time.monotonic()
    step = max(1, batch)
    for start in range(0, len(missing), step):
        keys = missing[start : start + step]
        vectors, kept = await _from_lines({k: sources[k] for k in keys}, run_model, lines, keep_sentences)
        made.extend(vectors)
        sentences.extend(kept)
        on_batch(keys, len(keys))
        last = start + step >= len(missing)
        if last or len(made) >= COMMIT_PASSAGES or time.monotonic() - since >= COMMIT_SECONDS:
            await writer.put_batch(made, sentences)
            checkpoint("embedded-batch")
            made, sentences, since = [], [], time.monotonic()
    return len(missing)


async def _from_lines(
    sources: Mapping[str, Source],
    run_model: RunModel,
    known: LineVectors,
    keep_sentences: bool,
) -> tuple[list[tuple[str, np.ndarray]], list[tuple[str, np.ndarray]]]:
    """Passage vectors (float32) and, with ``keep_sentences``, sentence vectors (float16, as
    stored) of ``sources`` by key, each distinct line embedded once."""
    parts = {key: passage_lines(*source) for key, source in sources.items()}
    wanted = dict.fromkeys(line for lines, sentences in parts.values() for line in (*lines, *sentences))
    hits = {line: row for line in wanted if (row := known.get(line)) is not None}
    todo = [line for line in wanted if line not in hits]
    blocks = []
    if todo:
        embedded = np.asarray(await run_model(todo), dtype=np.float32)
        known.put_new(todo, embedded)
        blocks.append(embedded)
    if hits:
        blocks.append(np.stack(list(hits.values())))
    # Every passage's line rows gathered into one array, then each passage's rows summed in line
    # order: the float32 additions of stacking and summing them passage by passage (identical
    # vectors; ``np.add.reduceat`` adds in another order), at a quarter of the CPU.
    table = np.concatenate(blocks) if len(blocks) > 1 else blocks[0]
    position = {line: n for n, line in enumerate((*todo, *hits))}
    counts = [len(lines) + len(sentences) for lines, sentences in parts.values()]
    rows = table[[position[line] for lines, sentences in parts.values() for line in (*lines, *sentences)]]
    starts = [0, *itertools.accumulate(counts)][:-1]
    totals = np.empty((len(counts), rows.shape[1]), dtype=np.float32)
    for n, (start, count) in enumerate(zip(starts, counts, strict=True)):
        np.add.reduce(rows[start : start + count], axis=0, out=totals[n])
    norms = np.sqrt(np.array([total.dot(total) for total in totals], dtype=np.float32))
    vectors = totals / np.maximum(norms, np.float32(1e-12))[:, None]
    if not keep_sentences:
        return list(zip(parts, vectors, strict=True)), []
    stored = rows.astype(np.float16)  # once for the batch, not once per passage
    sentences_of = [
        (key, stored[start + len(lines) : start + count])
        for key, (lines, _), start, count in zip(parts, parts.values(), starts, counts, strict=True)
    ]
    return list(zip(parts, vectors, strict=True)), sentences_of
