"""One published generation of the index, as a search sees it from start to end."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import numpy as np
from foreign_desk.index.embed import Fingerprint
from foreign_desk.index.relevance import ANY_LANGUAGE
from foreign_desk.index.store import Store
from foreign_desk.index.store.exact import ExactVectors
from foreign_desk.index.store.vectors import VectorIndex

BACKGROUND_SAMPLE = 1024
"""Passage vectors sampled per generation for the question's background (see ``relevance``):
enough for a steady mean per language, and one small matrix product per question."""


@dataclass(frozen=True, slots=True)
class Snapshot:
    """One generation of the index, as a search sees it from start to end."""

    generation: int
    vectors: VectorIndex
    passages: int
    fingerprint: Fingerprint
    background: dict[str, np.ndarray]
    """Evenly spread samples of the passage vectors per language, ``""`` for all (see ``relevance``)."""

    @classmethod
    async def of(
        cls, store: Store, generation: int, vectors: VectorIndex, fingerprint: Fingerprint
    ) -> Snapshot:
        if vectors.exact is None:  # a quantized index re-ranks from the stored float vectors
            vectors.exact = ExactVectors(store.db_path, vectors.dim)
        ids, sample = await asyncio.to_thread(vectors.sample, BACKGROUND_SAMPLE)
        languages = await store.languages_of(ids.tolist())
        background = {ANY_LANGUAGE: sample}
        for lang in {languages.get(int(i)) for i in ids} - {None}:
            background[lang] = sample[[languages.get(int(i)) == lang for i in ids]]  # type: ignore[index]
        return cls(generation, vectors, vectors.ntotal, fingerprint, background)
