"""Stream: the articles a run stages, embedded and staged as they are read, none kept.

Articles to stage arrive in reading order (``Planner.add`` chose them). Their passages wait for
a vector in a queue, embedded ``batch`` passages at a time in the order they came, cached ones
skipped: the same batches, so the same vectors, as embedding every passage of the run at once.
Their rows go into the pending generation ``STAGE_BATCH`` articles at a time once their
passages all have vectors (invisible to readers; a killed run's rows are discarded by the next
writer, its vectors kept). A run thus holds a batch of articles and of passages, plus each
staged passage's key and row id for the build, whatever the corpus's size.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Collection, Mapping, Sequence

from foreign_desk.index.embed import Fingerprint
from foreign_desk.index.indexing.embed import (
    COMMIT_PASSAGES,
    LineVectors,
    Model,
    Offload,
    PendingWrites,
    Source,
    embed_passages,
    passage_key,
    passage_keys,
)
from foreign_desk.index.indexing.plan import Plan
from foreign_desk.index.indexing.prepare import Prepared, passage_sentences
from foreign_desk.index.indexing.stage import STAGE_BATCH, Staged, stage
from foreign_desk.index.store.writer import StoredText, StoreWriter


class Stream:
    """Stages and embeds a run's articles as they come (call under the writer lock)."""

    def __init__(
        self,
        writer: StoreWriter,
        model: Model,
        offload: Offload,
        *,
        fingerprint: Fingerprint,
        batch: int,
        keep_sentences: bool,
        scopes: Mapping[str, Collection[int | None]] | None,
        on_batch: Callable[[int], None],
    ) -> None:
        """``on_batch(newly_embedded)`` after each embedded batch."""
        self.writer = writer
        self.model = model
        self.offload = offload
        self.fingerprint = fingerprint
        self.batch = max(1, batch)
        self.keep_sentences = keep_sentences
        self.scopes = scopes
        self.on_batch = on_batch
        self.lines = LineVectors()
        self.pending = PendingWrites()
        """Vectors embedded and not committed yet: written once due, and before any staging."""
        self.waiting: dict[str, Source] = {}
        """Passages without a vector yet, in the order they came."""
        self.to_stage: list[Prepared] = []
        """Articles added and not staged yet (the first is article number ``_first``)."""
        self._keys: list[tuple[str, ...]] = []
        """The passage keys of each of ``to_stage``: hashed once, for embedding and staging."""
        self._first = 0
        self.staged = Staged([], [], [])
        self.articles = 0
        """Articles added."""
        self.embedded = 0
        """Articles with a vector for every passage."""
        self._owners: dict[str, list[int]] = {}
        self._left: dict[int, int] = {}

    async def add(self, items: Sequence[Prepared]) -> None:
        """Queue ``items``' passages for embedding and their rows for staging; embed and stage
        what fills a batch."""
        keys = [passage_keys(self.fingerprint, item) for item in items]
        sources: dict[str, Source] = {
            k: (c, s)
            for item, ks in zip(items, keys, strict=True)
            for k, c, s in zip(ks, item.contexts, item.sentences, strict=True)
        }
        await self._queue(sources)
        for ks in keys:
            self._track(ks)
        self.to_stage.extend(items)
        self._keys.extend(keys)
        await self._embed(whole_batches=True)
        ready = 0  # articles waiting to be staged whose passages all have vectors, in order
        while ready < len(self.to_stage) and self._first + ready not in self._left:
            ready += 1
        if ready >= STAGE_BATCH:
            await self._stage(ready)

    async def add_texts(self, texts: Sequence[StoredText]) -> None:
        """Queue live passages to be embedded again (a new model): after every article."""
        await self._queue(
            {
                passage_key(self.fingerprint, t.context, t.text): (t.context, passage_sentences(t.text))
                for t in texts
            }
        )

    async def finish(self) -> Staged:
        """Embed and stage what is left; the rows staged so far."""
        await self._embed(whole_batches=False)
        await self.pending.write(self.writer)
        if self.to_stage:
            await self._stage(len(self.to_stage))
        return self.staged

    async def _queue(self, sources: dict[str, Source]) -> None:
        new = [k for k in sources if k not in self.waiting and k not in self.pending.keys]
        cached = await self.writer.cached_keys(new, self.fingerprint.dim) if new else set()
        for k in new:
            if k not in cached:
                self.waiting[k] = sources[k]

    def _track(self, keys: Sequence[str]) -> None:
        n, self.articles = self.articles, self.articles + 1
        left = {k for k in keys if k in self.waiting}
        if not left:
            self.embedded += 1
            return
        self._left[n] = len(left)
        for k in left:
            self._owners.setdefault(k, []).append(n)

    def _done(self, keys: Sequence[str], embedded: int) -> None:
        for k in keys:
            self.waiting.pop(k, None)
            for n in self._owners.pop(k, ()):
                self._left[n] -= 1
                if not self._left[n]:
                    del self._left[n]
                    self.embedded += 1
        if embedded:
            self.on_batch(embedded)

    async def _embed(self, *, whole_batches: bool) -> None:
        most = max(1, COMMIT_PASSAGES // self.batch) * self.batch  # whole batches, committed together
        while self.waiting and (len(self.waiting) >= self.batch or not whole_batches):
            ready = len(self.waiting) if not whole_batches else len(self.waiting) // self.batch * self.batch
            keys = list(itertools.islice(self.waiting, min(ready, most)))
            await embed_passages(
                self.writer, {k: self.waiting[k] for k in keys}, self.model, self.offload,
                batch=self.batch, keep_sentences=self.keep_sentences, on_batch=self._done,
                lines=self.lines, pending=self.pending,
            )  # fmt: skip

    async def _stage(self, count: int) -> None:
        """Stage the first ``count`` articles waiting (their passages all have vectors, so a run
        killed once it has staged anything has paid for those vectors)."""
        await self.pending.write(self.writer)
        items, self.to_stage = self.to_stage[:count], self.to_stage[count:]
        keys, self._keys = self._keys[:count], self._keys[count:]
        self._first += count
        staged = await stage(
            self.writer, Plan(to_stage=items, staged=len(items)), [], self.fingerprint, self.scopes, keys
        )
        self.staged.new_ids.extend(staged.new_ids)
        self.staged.new_keys.extend(staged.new_keys)
