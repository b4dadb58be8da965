"""Cite: each passage of the page as a numbered ``Result`` with its best sentence highlighted
(``highlight``) and its citation (``citation``)."""

from __future__ import annotations

from collections.abc import Collection, Mapping

import numpy as np
from foreign_desk.index.citation import citation
from foreign_desk.index.highlight import best_sentence
from foreign_desk.index.models import Result
from foreign_desk.index.search.judge import widened
from foreign_desk.index.search.page import Page
from foreign_desk.index.search.retrieve import Retrieved
from foreign_desk.index.store import StoredPassage


def cite(
    shown: Page,
    rows: Mapping[int, StoredPassage],
    found: Retrieved,
    sentence_vectors: Mapping[str, np.ndarray],
    offset: int,
    *,
    own: Collection[str] = (),
) -> tuple[Result, ...]:
    """Results ranked from ``offset + 1``; ``sentence_vectors`` by passage vector key (where
    stored); articles in ``own`` are the asking server's own (``Result.own``)."""
    terms = set(found.terms)
    results = []
    for rank, cand in enumerate(shown.candidates, offset + 1):
        row = rows[cand.id]
        vectors = sentence_vectors.get(row.vector_key)
        vectors = None if vectors is None else widened(vectors)  # float16 as stored
        best = best_sentence(cand.text, found.query_vector, vectors, terms, found.weights)
        also_in = tuple(cand.also_in)
        results.append(
            Result(
                rank=rank,
                score=round(cand.score, 6),
                similarity=round(cand.similarity, 4),
                text=row.text,
                highlight=best,
                paragraphs=row.paragraphs,
                section=row.section,
                article=row.article,
                citation=citation(row.article, row.paragraphs, also_in),
                passage_id=cand.id,
                also_in=also_in,
                own=row.article.id in own,
                match=cand.match,
            )
        )
    return tuple(results)
