"""One published generation of the index, as a search sees it from start to end."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from foreign_desk.index.background import Background
from foreign_desk.index.embed import Fingerprint
from foreign_desk.index.search.moments import moments_key, sampled, with_exact
from foreign_desk.index.search.reference import reference_vectors
from foreign_desk.index.store import Store
from foreign_desk.index.store.vectors import FLAT, IDSelector, VectorIndex, selection


@dataclass(frozen=True, slots=True)
class Snapshot:
    """One generation of the index, as a search sees it from start to end."""

    generation: int
    vectors: VectorIndex
    passages: int
    """How many passages the shared corpus holds: the statistics every server's ranking uses
    count the shared corpus alone, so no server's own articles change another's answers."""
    fingerprint: Fingerprint
    background: Background
    sentence_background: Background
    """The same for single sentences (a passage's best sentence is measured against it)."""
    by_language: dict[str, np.ndarray]
    """Passage ids per article language (``""``: unknown), for a dense search per language;
    empty for an approximate index, which is searched once, not per language (``dense_groups``)."""
    languages: tuple[str, ...] = ()
    """The article languages of the passages (``""``: unknown): an approximate index searches
    once, deeper by their number (``retrieve``)."""
    language_selections: tuple[IDSelector, ...] = ()
    """``by_language``'s id sets as FAISS selections, made once (``dense_groups``)."""

    @classmethod
    async def of(
        cls,
        store: Store,
        generation: int,
        vectors: VectorIndex,
        fingerprint: Fingerprint,
        *,
        checksum: str | None = None,
    ) -> Snapshot:
        """``checksum``: the vector file's, when ``vectors`` are that file as published (then
        the background moments saved at publish are used, ``search.moments``)."""
        with_exact(store, vectors)  # a quantized index re-ranks from the stored float vectors
        by_language = await store.ids_by_language(generation) if vectors.kind == FLAT else {}
        languages = tuple(by_language) if vectors.kind == FLAT else await store.passage_languages(generation)
        key = moments_key(generation, checksum, fingerprint) if checksum else None
        sample = await sampled(store, key, vectors, by_language)
        reference = reference_vectors(fingerprint)
        background = await asyncio.to_thread(Background.of_moments, sample.passages, reference.passages)
        sentence_background = await asyncio.to_thread(
            Background.of_moments, sample.sentences, reference.sentences
        )
        selections: tuple[IDSelector, ...] = ()
        if len(by_language) > 1:  # in a thread: ~6 ms of CPU at 100k passages (a hash set of ids)
            groups = list(by_language.values())
            selections = await asyncio.to_thread(lambda: tuple(map(selection, groups)))
        shared = vectors.ntotal - await store.unshared_passages(generation)
        return cls(
            generation, vectors, shared, fingerprint, background, sentence_background, by_language,
            languages, selections,
        )  # fmt: skip

    def dense_groups(self, allowed: np.ndarray | None) -> Sequence[np.ndarray | IDSelector | None]:
        """The id sets to search one at a time, so every language gets its own best passages
        (raw similarity favours the question's language): one per language on an exact index;
        on an approximate one a filter scans every list, so one search (deeper) instead."""
        if len(self.by_language) < 2 or self.vectors.kind != FLAT:
            return [allowed]
        if allowed is None:
            return self.language_selections
        groups = self.by_language.values()
        return [kept for kept in (np.intersect1d(g, allowed) for g in groups) if len(kept)]
