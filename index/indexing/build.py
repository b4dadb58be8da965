"""Build: the next generation's FAISS index, patched from the live one while it still fits,
rebuilt from the stored vectors otherwise, read back from the store a part at a time. FAISS
work runs in a thread; the live index is never mutated."""

from __future__ import annotations

import asyncio

import numpy as np
from foreign_desk.index.config import IndexSettings
from foreign_desk.index.indexing.stage import Staged
from foreign_desk.index.store import Store
from foreign_desk.index.store.repair import built
from foreign_desk.index.store.vectors import FLAT, PART, VectorIndex
from foreign_desk.index.store.writer import StoreWriter

IVF_SHRINK_DIVISOR = 2
"""An IVF index is kept until the corpus falls below ``approximate_threshold`` divided by this:
a corpus hovering at the threshold does not flip between index kinds on every run."""
IVF_GROWTH_LIMIT = 4
"""An IVF index is rebuilt (its centroids retrained) once the corpus is this many times the size
its centroids were trained on: beyond that the lists grow unevenly and recall drops."""


def still_fits(current: VectorIndex, size: int, trained: int, settings: IndexSettings) -> bool:
    """Whether the live index's kind still suits ``size`` passages (``trained``: IVF training size)."""
    if current.kind == FLAT:
        return size <= settings.approximate_threshold
    low = settings.approximate_threshold // IVF_SHRINK_DIVISOR
    return low < size <= IVF_GROWTH_LIMIT * max(trained, 1)


async def next_index(
    store: Store,
    writer: StoreWriter,
    current: VectorIndex | None,
    staged: Staged,
    *,
    dim: int,
    rebuild: bool,
    settings: IndexSettings,
) -> tuple[VectorIndex, bool]:
    """The index of the pending generation, and whether it was rebuilt rather than patched. The
    vectors come from the store's cache ``PART`` rows at a time: the run never holds them all."""
    if current is not None and not rebuild and current.dim == dim:
        size = current.ntotal - len(staged.removed) + len(staged.new_ids)
        size -= await store.unshared_passages(writer.pending)  # the shared corpus's alone (``built``)
        recorded = (await store.meta()).get("ivf_trained_n", "0")
        trained = int(recorded) if recorded.isascii() and recorded.isdigit() else 0  # damaged: rebuilt
        if still_fits(current, size, trained, settings):
            return await _patched(writer, current, staged, dim), False
    ids = await writer.pending_ids()
    index = await built(
        dim, ids, lambda picked: writer.vectors_of_ids(picked, dim), writer.pending_vectors(dim, PART),
        approximate_threshold=settings.approximate_threshold, nprobe=settings.nprobe,
        leave_out=await store.unshared_ids(),
    )  # fmt: skip
    return index, True


async def _patched(writer: StoreWriter, current: VectorIndex, staged: Staged, dim: int) -> VectorIndex:
    index = await asyncio.to_thread(current.clone)
    await asyncio.to_thread(index.remove, staged.removed)
    ids = np.asarray(staged.new_ids, dtype=np.int64)
    for start, stop in parts(len(ids), PART):
        vectors = await writer.vectors_of_keys(staged.new_keys[start:stop], dim)
        await asyncio.to_thread(index.add, ids[start:stop], vectors)
    return index


def parts(n: int, size: int) -> list[tuple[int, int]]:
    """(start, stop) of ``n`` rows cut ``size`` at a time, the last taking what is left under
    ``2 * size`` (as ``StoreWriter.pending_vectors`` cuts them)."""
    cuts = list(range(0, n, size))
    if len(cuts) > 1 and n - cuts[-1] < size:
        cuts.pop()
    return [(start, stop) for start, stop in zip(cuts, [*cuts[1:], n], strict=False)]
