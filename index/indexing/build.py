"""Build: the next generation's FAISS index, patched from the live one while it still fits,
rebuilt from the stored vectors otherwise. Runs in a thread; the live index is never mutated."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

import numpy as np
from foreign_desk.index.config import IndexSettings
from foreign_desk.index.indexing.stage import Staged
from foreign_desk.index.store import Store
from foreign_desk.index.store.vectors import FLAT, VectorIndex

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
    pending: int,
    current: VectorIndex | None,
    staged: Staged,
    vectors: Mapping[str, np.ndarray],
    *,
    dim: int,
    rebuild: bool,
    settings: IndexSettings,
) -> tuple[VectorIndex, bool]:
    """The index of generation ``pending``, and whether it was rebuilt rather than patched."""
    if current is not None and not rebuild and current.dim == dim:
        size = current.ntotal - len(staged.removed) + len(staged.new_ids)
        trained = int((await store.meta()).get("ivf_trained_n", "0") or 0)
        if still_fits(current, size, trained, settings):
            return await asyncio.to_thread(_patched, current, staged, vectors), False
    ids, matrix = await store.visible_vectors(pending)
    if not len(ids):
        return VectorIndex.empty(dim, settings.nprobe), True
    built = await asyncio.to_thread(
        VectorIndex.build,
        dim,
        ids,
        matrix,
        approximate_threshold=settings.approximate_threshold,
        nprobe=settings.nprobe,
    )
    return built, True


def _patched(current: VectorIndex, staged: Staged, vectors: Mapping[str, np.ndarray]) -> VectorIndex:
    index = current.clone()
    index.remove(staged.removed)
    if staged.new_ids:
        new = np.stack([vectors[k] for k in staged.new_keys])
        index.add(np.asarray(staged.new_ids, dtype=np.int64), new)
    return index
