"""One published generation of the index, as a search sees it from start to end."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import numpy as np
from foreign_desk.index.background import ANY_LANGUAGE, Background
from foreign_desk.index.embed import Fingerprint
from foreign_desk.index.search.reference import reference_vectors
from foreign_desk.index.store import Store
from foreign_desk.index.store.exact import ExactVectors
from foreign_desk.index.store.vectors import FLAT, VectorIndex

BACKGROUND_SAMPLE = 1024
"""Passage vectors sampled per generation for the questions' backgrounds (``background``):
enough for a steady mean and spread per language; computed once per generation."""


@dataclass(frozen=True, slots=True)
class Snapshot:
    """One generation of the index, as a search sees it from start to end."""

    generation: int
    vectors: VectorIndex
    passages: int
    fingerprint: Fingerprint
    background: Background
    by_language: dict[str, np.ndarray]
    """Passage ids per article language (``""``: unknown), for a dense search per language."""

    @classmethod
    async def of(
        cls, store: Store, generation: int, vectors: VectorIndex, fingerprint: Fingerprint
    ) -> Snapshot:
        if vectors.exact is None:  # a quantized index re-ranks from the stored float vectors
            vectors.exact = ExactVectors(store.db_path, vectors.dim)
        ids, sample = await asyncio.to_thread(vectors.sample, BACKGROUND_SAMPLE)
        by_language = await store.ids_by_language(generation)
        samples = {ANY_LANGUAGE: sample}
        for lang, members in by_language.items():
            if lang:
                samples[lang] = sample[np.isin(ids, members)]
        background = await asyncio.to_thread(Background.of, samples, reference_vectors(fingerprint))
        return cls(generation, vectors, vectors.ntotal, fingerprint, background, by_language)

    def dense_groups(self, allowed: np.ndarray | None) -> list[np.ndarray | None]:
        """The id sets to search one at a time, so every language gets its own best passages
        (raw similarity favours the question's language): one per language on an exact index;
        on an approximate one a filter scans every list, so one search (deeper) instead."""
        if len(self.by_language) < 2 or self.vectors.kind != FLAT:
            return [allowed]
        groups = self.by_language.values()
        if allowed is None:
            return list(groups)
        return [kept for kept in (np.intersect1d(g, allowed) for g in groups) if len(kept)]
