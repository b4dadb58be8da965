"""Pure ranking steps of hybrid search: reciprocal rank fusion, near-duplicate folding, per-article caps.

Kept free of I/O so the ranking rules are tested directly and reused by every front end.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

_WORD = re.compile(r"\w+", re.UNICODE)


def rrf(rankings: Sequence[tuple[Sequence[int], float]], k: int = 60) -> dict[int, float]:
    """Reciprocal rank fusion: each list adds ``weight / (k + rank)`` to the ids it ranks.

    A passage missing from one list (BM25 cannot match across languages) keeps what the
    other list gave it: fusion never filters a ranking out.
    """
    scores: dict[int, float] = {}
    for ids, weight in rankings:
        for rank, pid in enumerate(ids, 1):
            scores[pid] = scores.get(pid, 0.0) + weight / (k + rank)
    return scores


def shingles(text: str, n: int = 3) -> frozenset[tuple[str, ...]]:
    words = _WORD.findall(text.casefold())
    if len(words) < n:
        return frozenset({tuple(words)})
    return frozenset(tuple(words[i : i + n]) for i in range(len(words) - n + 1))


def near_duplicate(
    a: frozenset[tuple[str, ...]], b: frozenset[tuple[str, ...]], threshold: float = 0.8
) -> bool:
    """Containment of word 3-grams: a syndicated copy with a changed dateline still matches."""
    if not a or not b:
        return False
    return len(a & b) / min(len(a), len(b)) >= threshold


@dataclass(slots=True)
class Candidate:
    """A passage competing for a place in the answer."""

    id: int
    article: str
    text: str
    score: float
    similarity: float
    source: str | None = None
    also_in: list[str] = field(default_factory=list)


def fold_duplicates(candidates: Iterable[Candidate]) -> list[Candidate]:
    """Keep the best of near-identical passages (wire copies); name the other outlets on it."""
    kept: list[tuple[Candidate, frozenset[tuple[str, ...]]]] = []
    for cand in candidates:
        grams = shingles(cand.text)
        twin = next((k for k, g in kept if near_duplicate(g, grams)), None)
        if twin is None:
            kept.append((cand, grams))
        elif cand.source and cand.source != twin.source and cand.source not in twin.also_in:
            twin.also_in.append(cand.source)
    return [c for c, _ in kept]


def cap_per_article(candidates: Iterable[Candidate], per_article: int) -> list[Candidate]:
    """At most ``per_article`` passages of one article, in the given order."""
    if per_article <= 0:
        return list(candidates)
    counts: dict[str, int] = {}
    out = []
    for cand in candidates:
        if counts.get(cand.article, 0) < per_article:
            counts[cand.article] = counts.get(cand.article, 0) + 1
            out.append(cand)
    return out
