"""Fuse: the dense and keyword candidates → one candidate list, each passage once.

A passage only one retriever found (BM25 cannot match across languages) is a candidate all the
same: ``judge`` measures every candidate by its own vector and words, so the retrievers only
decide who competes, never the order.
"""

from __future__ import annotations

from foreign_desk.index.search.retrieve import Retrieved


def fuse(found: Retrieved) -> list[int]:
    """Passage ids found by either retriever, dense ones first."""
    return list(dict.fromkeys([*found.dense, *found.keyword]))
