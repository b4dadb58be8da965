"""Deciding that nothing in the corpus answers a question.

Raw cosine similarity alone cannot tell: e5 gives a cooking question 0.83 against news
passages and a real question 0.80 against its answer. What separates them is how far the
best passages stand out from the question's background, the similarity of the passages
ranked 11-50 (for an off-topic question everything is equally unrelated, so nothing stands
out). A passage is kept when it beats that background by ``margin``; with too few passages
for a background (a tiny corpus), an absolute floor decides instead. Measured on real
questions: see README, "Nothing relevant".
"""

from __future__ import annotations

from collections.abc import Sequence

BACKGROUND_RANKS = (10, 50)
"""0-based slice of the dense ranking that stands for "unrelated to this question"."""
MIN_BACKGROUND = 10


def background(dense_similarities: Sequence[float]) -> float | None:
    """Mean similarity of the ranks that stand for the question's background, if enough exist."""
    start, stop = BACKGROUND_RANKS
    tail = list(dense_similarities[start:stop])
    if len(tail) < MIN_BACKGROUND:
        return None
    return sum(tail) / len(tail)


def relevant(similarity: float, base: float | None, *, margin: float, floor: float) -> bool:
    """Does a passage with this similarity answer the question?"""
    if base is None:
        return similarity >= floor
    return similarity - base >= margin
