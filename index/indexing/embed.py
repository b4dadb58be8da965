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
transaction), so a run that is killed pays again for about two seconds of model work at most
(the vectors held and the group embedded meanwhile), while a fast model does not pay a
transaction per 16 passages, nor one per part of a run (``PendingWrites``). Nothing else of
them stays in memory: the build reads the passage vectors back from the store a part at a
time, so a run's memory does not grow with the number of passages it embeds. Recent lines'
vectors are kept (``LineVectors``, bounded). The model, and the work around it, runs in the
indexing thread (``Offload``) a commit's batches at a time, never on the event loop.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Sequence
from typing import Protocol, TypeVar

import numpy as np
from foreign_desk.index.embed import Fingerprint
from foreign_desk.index.faults import checkpoint
from foreign_desk.index.indexing.prepare import PASSAGE_RECIPE, Prepared
from foreign_desk.index.store.writer import StoreWriter

Model = Callable[[list[str]], np.ndarray]
"""Embeds texts (normalized rows); blocking."""
T = TypeVar("T")


class Offload(Protocol):
    """Runs a blocking function off the event loop (the indexing thread)."""

    def __call__(self, fn: Callable[[], T], /) -> Awaitable[T]: ...


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


def passage_keys(fingerprint: Fingerprint, item: Prepared) -> tuple[str, ...]:
    """The cache keys of an article's passage vectors, in order."""
    pairs = zip(item.contexts, item.passages, strict=True)
    return tuple(passage_key(fingerprint, c, p.text) for c, p in pairs)


def passage_lines(context: str, sentences: Sequence[str]) -> tuple[list[str], Sequence[str]]:
    """(context lines, sentences): what a passage vector is the sum of."""
    return [line for line in context.split("\n") if line.strip()], sentences


COMMIT_SECONDS = 1.0
"""Embedding work committed to the store at a time: what a killed run pays for again, at most
(a commit per 16 passages was a tenth of a model-free run: each writes its index pages anew)."""
COMMIT_PASSAGES = 2_048
"""Passage vectors (and their sentences') held before a commit, whatever the time: ~10 MB (their
lines' float32 vectors, ~30 MB, while they are summed)."""

LINES_KEPT = 8_192
"""Line vectors a run keeps in memory (~12 MB at 384 dimensions), most recently used first: a
headline or section heading shared by an article's passages in consecutive batches is embedded
once. They are never written to the store: a passage's vector and its sentence vectors are
what outlives the batch (writing every line's vector and deleting it at publish was most of an
indexing run's disk traffic)."""


class LineVectors:
    """The vectors of lines embedded lately in this run (a bounded LRU): each line's row is
    kept in one table (a slot per line), so a batch's rows go in and out in one step each,
    not as one small array per line. Used by one thread at a time."""

    def __init__(self, capacity: int = LINES_KEPT) -> None:
        self._capacity = capacity
        self._slots: OrderedDict[str, int] = OrderedDict()
        self._table = np.empty((0, 0), dtype=np.float32)

    def known(self, lines: Sequence[str]) -> tuple[list[str], np.ndarray]:
        """Those of ``lines`` kept (each marked as just used, in turn) and their rows."""
        slots, found, at = self._slots, [], []
        for line in lines:
            slot = slots.get(line)
            if slot is not None:
                slots.move_to_end(line)
                found.append(line)
                at.append(slot)
        return found, self._table[at]

    def put_new(self, lines: Sequence[str], rows: np.ndarray) -> None:
        """Keep ``lines`` (not kept: just missed by ``known``) as the most recent, in order; the
        oldest beyond the capacity are dropped."""
        keep = min(len(lines), self._capacity)
        if not keep:
            return
        if self._table.shape != (self._capacity, rows.shape[1]):
            self._table = np.empty((self._capacity, rows.shape[1]), dtype=np.float32)
        fresh = min(keep, self._capacity - len(self._slots))
        slots = list(range(len(self._slots), len(self._slots) + fresh))
        slots += [self._slots.popitem(last=False)[1] for _ in range(keep - fresh)]
        self._slots.update(zip(lines[len(lines) - keep :], slots, strict=True))
        self._table[slots] = rows[len(rows) - keep :]


class PendingWrites:
    """Vectors made and not committed yet, written in one transaction once ``COMMIT_PASSAGES``
    have piled up or ``COMMIT_SECONDS`` have passed since the last commit (a slow model's every
    group, as before): a run hands the model each part it reads (~190 passages), and a fast
    model's parts then share a commit instead of paying one each (at 100k passages with the
    stand-in, 540 commits → 65-76, SQLite's thread ~1.2 CPU-s less). Used by one task at a time."""

    def __init__(self) -> None:
        self.vectors: list[tuple[str, np.ndarray]] = []
        self.sentences: list[tuple[str, np.ndarray]] = []
        self.keys: set[str] = set()
        """The keys held: as good as cached for the run (never embedded twice)."""
        self._since = time.monotonic()
        """When the last commit was made."""

    def hold(self, keys: Sequence[str], vectors: np.ndarray, sentences: Sequence[np.ndarray]) -> None:
        """Add a group's passage vectors and (when kept) their sentence vectors."""
        self.vectors.extend(zip(keys, vectors, strict=True))
        self.sentences.extend(zip(keys, sentences, strict=True) if sentences else ())
        self.keys.update(keys)

    def due(self) -> bool:
        """Whether what is held is a commit's worth."""
        return len(self.vectors) >= COMMIT_PASSAGES or time.monotonic() - self._since >= COMMIT_SECONDS

    async def write(self, writer: StoreWriter) -> None:
        """Commit what is held (nothing to do when nothing is)."""
        if not self.vectors:
            return
        await writer.put_batch(self.vectors, self.sentences)
        self.vectors, self.sentences, self.keys = [], [], set()
        self._since = time.monotonic()
        checkpoint("embedded-batch")


async def embed_passages(
    writer: StoreWriter,
    sources: dict[str, Source],
    model: Model,
    offload: Offload,
    *,
    batch: int,
    keep_sentences: bool,
    on_batch: Callable[[Sequence[str], int], None],
    lines: LineVectors | None = None,
    pending: PendingWrites | None = None,
) -> int:
    """Give every passage of ``sources`` (none cached yet: the caller asked the store) a vector
    in the store's cache, made of its lines by ``model`` ``batch`` passages at a time (their
    sentence vectors kept when ``keep_sentences``); returns how many were made. The batches of
    ``COMMIT_SECONDS`` of work (``COMMIT_PASSAGES`` at most) run in one ``offload`` call, off
    the event loop, and go to the cache in one transaction; no vector is kept: the build reads
    them back. ``on_batch(keys_now_done, newly_embedded)`` is called after each batch.
    ``lines``: the line vectors kept by a run that embeds its passages a part at a time;
    ``pending``: its vectors not committed yet, written here only once due (else by the caller,
    ``PendingWrites.write``); without it every group is committed before this returns."""
    keys, todo = list(sources), list(sources.values())
    known, step = lines if lines is not None else LineVectors(), max(1, batch)
    held = pending if pending is not None else PendingWrites()

    def group_from(start: int) -> asyncio.Future[tuple[np.ndarray, list[np.ndarray], list[int]]]:
        """The group starting at ``start``, started now (``offload`` may return a coroutine)."""
        return asyncio.ensure_future(
            offload(functools.partial(_commit_group, todo[start:], model, known, keep_sentences, step))
        )

    done = 0
    ahead = group_from(0) if keys else None
    while ahead is not None:
        vectors, sentences, sizes = await ahead
        for size in sizes:
            on_batch(keys[done : done + size], size)
            done += size
        # The next group is embedded while this one is written (the model, on its own thread or
        # a GPU, never waits on SQLite).
        ahead = group_from(done) if done < len(keys) else None
        held.hold(keys[done - len(vectors) : done], vectors, sentences if keep_sentences else [])
        try:
            if pending is None or held.due():
                await held.write(writer)
        except BaseException:
            if ahead is not None:  # not left running unawaited (its vectors are lost, as on a kill)
                await asyncio.wait([ahead])
            raise
    return len(keys)


def _commit_group(
    sources: Sequence[Source], model: Model, known: LineVectors, keep_sentences: bool, step: int
) -> tuple[np.ndarray, list[np.ndarray], list[int]]:
    """The first batches of ``sources`` that make ``COMMIT_SECONDS`` of work (or
    ``COMMIT_PASSAGES``): their passage vectors, sentence vectors and batch sizes (blocking).
    The model sees one batch at a time; the sums are made once for the whole group (per batch
    of 16 they took a dozen numpy calls each: the embedding path of a model-free run at 20k
    passages, 1.75 → 1.48 CPU-s)."""
    since = time.monotonic()
    lines, sizes = GroupLines(), []
    for start in range(0, len(sources), step):
        part = sources[start : start + step]
        lines.add(part, model, known)
        sizes.append(len(part))
        if start + step >= COMMIT_PASSAGES or time.monotonic() - since >= COMMIT_SECONDS:
            break
    vectors, sentences = lines.vectors(keep_sentences)
    return vectors, sentences, sizes


class GroupLines:
    """The line vectors of a group's passages, batch by batch (each distinct line of a batch
    embedded once, or found among those kept), and what they sum to."""

    def __init__(self) -> None:
        self._blocks: list[np.ndarray] = []
        self._rows = 0
        self._at: list[np.ndarray] = []
        """Per batch: the table row of each passage's lines, in order, passage after passage."""
        self._counts: list[int] = []
        self._contexts: list[int] = []
        """Per passage: how many lines it has, how many of them (the first) are context."""

    def add(self, sources: Sequence[Source], model: Model, known: LineVectors) -> None:
        """Embed the lines of ``sources`` not kept in ``known`` (one model call), and note them."""
        parts = [passage_lines(*source) for source in sources]
        order = [line for lines, sentences in parts for line in (*lines, *sentences)]
        wanted = list(dict.fromkeys(order))
        hits, hit_rows = known.known(wanted)
        found = set(hits)
        todo = [line for line in wanted if line not in found]
        if todo:
            embedded = np.asarray(model(todo), dtype=np.float32)
            known.put_new(todo, embedded)
            self._blocks.append(embedded)
        if hits:
            self._blocks.append(hit_rows)
        position = {line: self._rows + n for n, line in enumerate((*todo, *hits))}
        self._rows += len(position)
        self._at.append(np.fromiter(map(position.__getitem__, order), dtype=np.int64, count=len(order)))
        self._counts.extend(len(lines) + len(sentences) for lines, sentences in parts)
        self._contexts.extend(len(lines) for lines, _ in parts)

    def vectors(self, keep_sentences: bool) -> tuple[np.ndarray, list[np.ndarray]]:
        """Passage vectors (float32 rows) and, with ``keep_sentences``, each passage's sentence
        vectors (float16, as stored)."""
        table, at = np.concatenate(self._blocks), np.concatenate(self._at)
        self._blocks.clear()  # not held twice (a group's lines are ~30 MB)
        counts = np.array(self._counts, dtype=np.int64)
        starts = np.cumsum(counts) - counts
        totals = _line_sums(table, at, starts, counts)
        norms = np.sqrt(np.array([total.dot(total) for total in totals], dtype=np.float32))
        vectors = totals / np.maximum(norms, np.float32(1e-12))[:, None]
        if not keep_sentences:
            return vectors, []
        contexts = np.array(self._contexts, dtype=np.int64)
        sentence = np.arange(len(at)) >= np.repeat(starts + contexts, counts)
        stored = table[at[sentence]].astype(np.float16)  # the sentences' rows only, once a group
        ends = np.cumsum(counts - contexts).tolist()
        return vectors, [stored[a:b] for a, b in zip([0, *ends], ends, strict=False)]


def _line_sums(table: np.ndarray, at: np.ndarray, starts: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Each passage's rows of ``table`` (``at[start:start + count]``) summed in line order: the
    float32 additions of summing them one passage at a time, so identical vectors
    (``np.add.reduceat`` adds in another order). The first row of every passage at once, then
    the second of those that have one, ..., passages ordered by their number of lines."""
    longest = np.argsort(-counts, kind="stable")
    firsts, fewer = starts[longest], -counts[longest]  # ascending
    totals = np.full((len(counts), table.shape[1]), -0.0, dtype=np.float32)  # a passage of no line
    for n in range(-int(fewer[0]) if len(counts) else 0):
        have = int(np.searchsorted(fewer, -n))  # passages with more than n lines
        rows = table[at[firsts[:have] + n]]
        if n:
            np.add(totals[:have], rows, out=totals[:have])
        else:
            totals[:have] = rows
    out = np.empty_like(totals)
    out[longest] = totals
    return out
