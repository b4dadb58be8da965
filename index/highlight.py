"""Which sentence of a passage best answers the question.

Sentence vectors are made at indexing time (a passage vector is their sum: ``indexing/embed.py``),
so the choice costs a few dot products: the sentence closest to the question vector wins, in any
language. A passage without them (``index.sentence_vectors`` off) falls back to word overlap
weighted by rarity, then to its first sentence.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Mapping, Sequence

import numpy as np
from foreign_desk.index.text import split_sentences, tokens

_LETTER = re.compile(r"[^\W\d_]")


def idf_weights(doc_freqs: Mapping[str, int], total: int) -> dict[str, float]:
    return {t: math.log(1 + total / (1 + df)) for t, df in doc_freqs.items()}


def lexical_pick(sentences: Sequence[str], terms: set[str], weights: Mapping[str, float]) -> int | None:
    """Index of the sentence with the most (rarity-weighted) question words, or None if none has any."""
    if not terms:
        return None
    scores = [sum(weights.get(t, 1.0) for t in set(tokens(s)) & terms) for s in sentences]
    best = max(range(len(sentences)), key=lambda i: scores[i])
    return best if scores[best] > 0 else None


KEPT_SENTENCES = 512
"""Passages whose sentences a search keeps for the next: the results of related questions recur."""


@functools.lru_cache(maxsize=KEPT_SENTENCES)
def passage_sentences(text: str) -> tuple[tuple[str, ...], tuple[int, ...]]:
    """The sentences of ``text`` (itself when it has none) and the positions of those that may be
    highlighted: a list item's number ("1.") is split off as a "sentence" of its own, and its
    vector is close to any question, so a sentence without a letter is never the one shown in
    bold (unless no sentence has one)."""
    sentences = tuple(split_sentences(text)) or (text,)
    worded = [i for i, s in enumerate(sentences) if _LETTER.search(s)] or range(len(sentences))
    return sentences, tuple(worded)


def best_sentence(
    text: str,
    query_vector: np.ndarray,
    sentence_vectors: np.ndarray | None,
    terms: set[str],
    weights: Mapping[str, float],
) -> str:
    """The sentence of ``text`` that best matches the question."""
    sentences, worded = passage_sentences(text)
    if len(sentences) == 1:
        return sentences[0]
    if sentence_vectors is not None and len(sentence_vectors) == len(sentences):
        return sentences[worded[int(np.argmax(sentence_vectors[list(worded)] @ query_vector))]]
    pick = lexical_pick([sentences[i] for i in worded], terms, weights)
    return sentences[worded[pick if pick is not None else 0]]
