"""One published generation of the index, as a search sees it from start to end."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from foreign_desk.index.background import ANY_LANGUAGE, MIN_BACKGROUND, Background
from foreign_desk.index.embed import Fingerprint
from foreign_desk.index.search.reference import reference_vectors
from foreign_desk.index.store import Store
from foreign_desk.index.store.exact import ExactVectors
from foreign_desk.index.store.vectors import FLAT, IDSelector, VectorIndex, selection

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
        cls, store: Store, generation: int, vectors: VectorIndex, fingerprint: Fingerprint
    ) -> Snapshot:
        if vectors.exact is None:  # a quantized index re-ranks from the stored float vectors
            vectors.exact = ExactVectors(store.db_path, vectors.dim)
        ids, sample = await asyncio.to_thread(vectors.sample, BACKGROUND_SAMPLE)
        by_language = await store.ids_by_language(generation) if vectors.kind == FLAT else {}
        languages = tuple(by_language) if vectors.kind == FLAT else await store.passage_languages(generation)
        sampled = _languages(ids, by_language) if by_language else await store.languages_of(ids.tolist())
        sentences = await store.sentence_vectors_of(ids.tolist())
        samples, sentence_samples = _samples(ids, sample, sampled, sentences)
        reference = reference_vectors(fingerprint)
        background = await asyncio.to_thread(Background.of, samples, reference.passages)
        sentence_background = await asyncio.to_thread(Background.of, sentence_samples, reference.sentences)
        per_language = len(by_language) > 1
        selections = tuple(map(selection, by_language.values())) if per_language else ()
        return cls(
            generation, vectors, vectors.ntotal, fingerprint, background, sentence_background, by_language,
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


def _languages(ids: np.ndarray, by_language: dict[str, np.ndarray]) -> dict[int, str | None]:
    """The language of each of ``ids``, from the per-language id sets an exact index keeps anyway."""
    out: dict[int, str | None] = {}
    for lang, members in by_language.items():
        out.update(dict.fromkeys(ids[np.isin(ids, members)].tolist(), lang))
    return out


def _samples(
    ids: np.ndarray,
    sample: np.ndarray,
    languages: dict[int, str | None],
    sentences: dict[int, np.ndarray],
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """The sampled passage vectors and their sentences' vectors, per language (``""``: all).
    Sentences only where their passages are enough for a background: thirty sentences of one
    article are one topic, not a background. ``languages`` holds the sampled ids' languages
    only: listing every passage's language costs 0.16 s at 100k passages, 1.6 s at 1M."""
    of_sample = np.array([languages.get(int(i)) or "" for i in ids], dtype=object)
    masks = {ANY_LANGUAGE: np.ones(len(ids), dtype=bool)}
    masks.update({lang: of_sample == lang for lang in sorted(set(of_sample.tolist())) if lang})
    passages = {lang: sample[mask] for lang, mask in masks.items()}
    rows = {
        lang: [sentences[int(i)] for i in ids[mask] if int(i) in sentences] for lang, mask in masks.items()
    }
    dim = sample.shape[1] if sample.ndim == 2 else 0
    return passages, {
        lang: np.concatenate(found) if found else np.empty((0, dim), dtype=np.float32)
        for lang, found in rows.items()
        if int(masks[lang].sum()) >= MIN_BACKGROUND
    }
