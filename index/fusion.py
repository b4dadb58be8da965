"""Pure ranking steps of hybrid search: reciprocal rank fusion, near-duplicate folding, per-article caps.

Kept free of I/O so the ranking rules are tested directly and reused by every front end.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
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


def shingles(text: str) -> frozenset[tuple[str, ...]]:
    """The passage's word 3-grams (the whole text when shorter)."""
    words = _WORD.findall(text.casefold())
    if len(words) < 3:
        return frozenset({tuple(words)})
    return frozenset(zip(words, words[1:], words[2:], strict=False))


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


def rank_page(candidates: Sequence[Candidate], per_article: int, start: int, stop: int) -> list[Candidate]:
    """Results ``start:stop`` of ``candidates`` (best first) once near-identical passages (wire
    copies) are folded into the best one and each article is capped at ``per_article`` (0: no
    cap). Folding compares every kept passage with every later one, so it goes only as far as
    the page needs; a later copy of a passage on the page still names its outlet in ``also_in``.
    """
    kept: list[tuple[Candidate, frozenset[tuple[str, ...]]]] = []
    shown: list[tuple[Candidate, frozenset[tuple[str, ...]]]] = []  # kept and within the cap
    per: dict[str, int] = {}
    seen = 0
    for cand in candidates:
        if len(shown) >= stop:
            break
        seen += 1
        grams = shingles(cand.text)
        twin = next((k for k, g in kept if near_duplicate(g, grams)), None)
        if twin is not None:
            _name_copy(twin, cand)
            continue
        kept.append((cand, grams))
        if per_article <= 0 or per.get(cand.article, 0) < per_article:
            per[cand.article] = per.get(cand.article, 0) + 1
            shown.append((cand, grams))
    page = shown[start:stop]
    for cand in candidates[seen:]:
        if cand.source and any(cand.source != p.source and cand.source not in p.also_in for p, _ in page):
            grams = shingles(cand.text)
            twin = next((p for p, g in page if near_duplicate(g, grams)), None)
            if twin is not None:
                _name_copy(twin, cand)
    return [c for c, _ in page]


def _name_copy(twin: Candidate, copy: Candidate) -> None:
    if copy.source and copy.source != twin.source and copy.source not in twin.also_in:
        twin.also_in.append(copy.source)
