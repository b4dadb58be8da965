"""Which sentence of a passage best answers the question.

When the question shares most of its content words with the passage (same language),
word overlap weighted by rarity picks the sentence for free. Across languages there is no
overlap to count, so the passage's sentences are embedded and compared with the question
vector; those vectors are cached, and a per-answer budget bounds the cost (sentences past
it fall back to overlap, then to the first sentence).
"""

from __future__ import annotations

import hashlib
import math
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence

import numpy as np

from index.text import split_sentences, tokens

MIN_COVERAGE = 0.5
"""Share of the question's content words a passage must contain for overlap to decide."""


class SentenceVectorCache:
    """A bounded LRU of sentence vectors, keyed by sentence text (one embedder per cache)."""

    def __init__(self, size: int = 20_000) -> None:
        self.size = size
        self._data: OrderedDict[str, np.ndarray] = OrderedDict()

    @staticmethod
    def key(text: str) -> str:
        return hashlib.blake2b(text.encode("utf-8"), digest_size=12).hexdigest()

    def get(self, text: str) -> np.ndarray | None:
        key = self.key(text)
        vec = self._data.get(key)
        if vec is not None:
            self._data.move_to_end(key)
        return vec

    def put(self, text: str, vec: np.ndarray) -> None:
        self._data[self.key(text)] = vec
        self._data.move_to_end(self.key(text))
        while len(self._data) > self.size:
            self._data.popitem(last=False)


def lexical_pick(
    sentences: Sequence[str], terms: set[str], weights: Mapping[str, float], min_coverage: float = MIN_COVERAGE
) -> int | None:
    """Index of the sentence with the most (rarity-weighted) question words, or None when the
    passage does not cover enough of the question for word overlap to mean anything."""
    if not terms or not sentences:
        return None
    bags = [set(tokens(s)) for s in sentences]
    covered = terms & set().union(*bags)
    if len(covered) / len(terms) < min_coverage:
        return None
    scores = [sum(weights.get(t, 1.0) for t in bag & terms) for bag in bags]
    best = max(range(len(sentences)), key=lambda i: scores[i])
    return best if scores[best] > 0 else None


def idf_weights(doc_freqs: Mapping[str, int], total: int) -> dict[str, float]:
    return {t: math.log(1 + total / (1 + df)) for t, df in doc_freqs.items()}


def pick_highlights(
    passages: Sequence[str],
    query_vector: np.ndarray,
    terms: set[str],
    weights: Mapping[str, float],
    embed: Callable[[list[str]], np.ndarray],
    cache: SentenceVectorCache,
    budget: int = 24,
) -> list[str]:
    """The best sentence of each passage (blocking: ``embed`` runs the model)."""
    split = [split_sentences(p) or [p] for p in passages]
    picks: list[int | None] = []
    for sentences in split:
        picks.append(0 if len(sentences) == 1 else lexical_pick(sentences, terms, weights))
    # Embed the undecided passages' sentences, best-ranked passages first, within the budget.
    wanted: list[str] = []
    for n, sentences in enumerate(split):
        if picks[n] is None:
            fresh = [s for s in sentences if cache.get(s) is None and s not in wanted]
            if len(wanted) + len(fresh) > budget:
                continue
            wanted.extend(fresh)
    if wanted:
        for text, vec in zip(wanted, embed(wanted), strict=True):
            cache.put(text, vec)
    out = []
    for n, sentences in enumerate(split):
        pick = picks[n]
        if pick is None:
            vecs = [cache.get(s) for s in sentences]
            if all(v is not None for v in vecs):
                pick = int(np.argmax(np.stack(vecs) @ query_vector))  # type: ignore[arg-type]
            else:
                pick = lexical_pick(sentences, terms, weights, min_coverage=0.0) or 0
        out.append(sentences[pick])
    return out
