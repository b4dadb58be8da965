"""Opening a generation's vector file with its checks, and rebuilding it from SQLite when damaged.

SQLite keeps every passage's vector (the ``embeddings`` table), so a damaged, truncated or
missing FAISS file is rebuilt from it without the model: seconds, not a re-embedding. Which
side to believe when they disagree: the checksum says whether the FAISS file is the one that
was written; a file that passes it is kept even when a sampled vector differs from SQLite's
(then it is the database's copy that is damaged, and ``doctor`` reports it).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from foreign_desk.index.errors import StoreError
from foreign_desk.index.store.db import Store
from foreign_desk.index.store.integrity import (
    CHECKSUM_KEY,
    SPOT_CHECK,
    SpotCheck,
    compare,
    file_checksum,
    file_damage,
    tolerance_for,
)
from foreign_desk.index.store.keyword_spot import keyword_damage
from foreign_desk.index.store.vectors import PART, VectorIndex

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Checked:
    """A generation's vector index and what opening it found."""

    vectors: VectorIndex | None
    damage: str | None = None
    """Why the file on disk cannot be served (``vectors`` is then ``None``)."""
    spot: SpotCheck | None = None


@dataclass(frozen=True, slots=True)
class Prechecked:
    """The live generation's files checked before the engine asked for them (see ``precheck``)."""

    generation: int
    meta: dict[str, str]
    checked: Checked
    keywords: str | None
    """Why the keyword indexes cannot be served (``keyword_spot``), or ``None``."""


async def precheck(store: Store, nprobe: int) -> Prechecked | None:
    """Check the live generation's vector file and keyword indexes now: ``Engine.open`` runs
    this while the model loads, so hashing the file adds nothing to the time until the first
    answer; the keyword indexes are checked at the same time, on a thread of their own."""
    meta = await store.meta()  # the generation's number from it too: one read, one generation
    gen = int(meta.get("generation", 0))
    if gen == 0:
        return None
    checked, keywords = await opened(store, meta, nprobe)
    return Prechecked(gen, meta, checked, keywords)


async def opened(store: Store, meta: dict[str, str], nprobe: int) -> tuple[Checked, str | None]:
    """``open_checked`` and ``keyword_damage``, at the same time."""
    keywords = asyncio.create_task(asyncio.to_thread(keyword_damage, store.db_path))
    try:
        checked = await open_checked(store, meta, nprobe)
    finally:
        damage = await keywords  # never left running past the store's close
    return checked, damage


def vectors_path(store: Store, meta: dict[str, str]) -> Path:
    """The live generation's vector file (``db.vectors_name``)."""
    return store.vectors_path(int(meta.get("generation", 0)))


async def open_checked(store: Store, meta: dict[str, str], nprobe: int) -> Checked:
    """Load the live vector file after checking its checksum, then spot-check it against SQLite."""
    path = vectors_path(store, meta)
    expected = meta.get(CHECKSUM_KEY)
    damage = await asyncio.to_thread(file_damage, path, expected)
    if damage is not None:
        return Checked(None, damage)
    try:
        vectors = await asyncio.to_thread(VectorIndex.load, path, nprobe)
    except (RuntimeError, MemoryError, ValueError) as exc:  # FAISS on a file it cannot parse
        return Checked(None, f"FAISS cannot read it ({str(exc).strip().splitlines()[0][:120]})")
    spot = await spot_check(store, vectors)
    if not spot.ok and not expected:  # no checksum to say which side is right: trust SQLite
        return Checked(None, f"{spot.differ} of {spot.checked} sampled vectors differ from the database's")
    if not spot.ok:
        log.warning(
            "%d of %d sampled vectors of %s differ from the copies in the database; the file matches "
            "its checksum and is kept: run `foreign-desk doctor`",
            spot.differ,
            spot.checked,
            path.name,
        )
    return Checked(vectors, None, spot)


async def spot_check(store: Store, vectors: VectorIndex, n: int = SPOT_CHECK) -> SpotCheck:
    """A sample of ``vectors`` compared with SQLite's copies of the same passages' vectors."""
    ids, rows = await asyncio.to_thread(vectors.sample, n)
    found, blobs = await store.vectors_for(ids.tolist())
    return compare(ids, rows, dict(zip(found.tolist(), blobs, strict=True)), tolerance_for(vectors))


async def rebuild(
    store: Store, gen: int, dim: int, *, approximate_threshold: int, nprobe: int
) -> VectorIndex:
    """A new vector index for generation ``gen`` from the vectors SQLite keeps (no model needed),
    read ``PART`` at a time as an indexing build reads them: never every vector at once."""
    count, _ = await store.visible_id_stats(gen)
    ids = await store.vector_ids(gen)
    if len(ids) < count:
        raise StoreError(
            f"the database lacks the vectors of {count - len(ids)} of {count} passages, so the vector "
            "file cannot be rebuilt: run `foreign-desk index --full`"
        )
    return await built(
        dim, ids, lambda picked: store.vectors_of_ids(picked, dim), store.vector_parts(gen, dim, PART),
        approximate_threshold=approximate_threshold, nprobe=nprobe, leave_out=await store.unshared_ids(),
    )  # fmt: skip


async def built(
    dim: int,
    ids: np.ndarray,
    vectors_of: Callable[[np.ndarray], Awaitable[np.ndarray]],
    parts: AsyncIterator[tuple[np.ndarray, np.ndarray]],
    *,
    approximate_threshold: int,
    nprobe: int,
    leave_out: np.ndarray | None = None,
) -> VectorIndex:
    """A fresh index over the vectors of ``ids`` (ascending): exact up to the threshold, IVF
    past it, trained on ``vectors_of(sampled ids)``, then filled from ``parts`` ((ids, vectors)
    in id order): byte for byte ``VectorIndex.build`` over all of them, holding one part.

    Its kind, lists and training count the ids not in ``leave_out`` alone (servers' own
    passages), so no server's articles change how the shared corpus is searched."""
    pool = ids if leave_out is None or not len(leave_out) else np.setdiff1d(ids, leave_out)
    index = VectorIndex.sized(dim, len(pool), approximate_threshold=approximate_threshold, nprobe=nprobe)
    picked = index.training_rows(len(pool))
    if picked is not None:
        await asyncio.to_thread(index.train, await vectors_of(pool[picked]))
    del ids, pool, picked
    async for part_ids, part in parts:
        await asyncio.to_thread(index.add, part_ids, part)
    return index


async def save_checked(store: Store, vectors: VectorIndex, path: Path) -> str:
    """Write ``vectors`` atomically to ``path`` and record its new checksum in ``meta``."""
    await asyncio.to_thread(vectors.save, path)
    checksum = await asyncio.to_thread(file_checksum, path)
    await store.conn.execute(
        "INSERT INTO meta(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        (CHECKSUM_KEY, checksum),
    )
    return checksum
