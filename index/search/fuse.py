"""Fuse: the dense and keyword rankings → one score per passage (reciprocal rank fusion).

A passage only one retriever found (BM25 cannot match across languages) keeps what that one
gave it. The fused score orders nothing by itself: ``judge`` uses it to break near-ties.
"""

from __future__ import annotations

from foreign_desk.index.config import SearchSettings
from foreign_desk.index.fusion import rrf
from foreign_desk.index.search.retrieve import Retrieved


def fuse(found: Retrieved, settings: SearchSettings) -> dict[int, float]:
    """Passage id → RRF score, in the order the ids were first ranked."""
    return rrf([(found.dense, settings.dense_weight), (found.keyword, settings.bm25_weight)], settings.rrf_k)
