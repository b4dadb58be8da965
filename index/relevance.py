"""Deciding that nothing in the corpus answers a question.

Raw cosine similarity cannot tell on its own: e5 gives a cooking question 0.85 against news
passages and a real question 0.82 against its answer, because some questions are close to
everything, and a question is closer to every passage in its own language. So each passage
is measured against the question's background in the passage's language: the mean similarity
of the question to an evenly spread sample of the corpus's passages in that language. A passage
answers when it beats that background by ``margin``. With too few passages for a background (a
tiny corpus), an absolute floor decides instead. Chosen on real questions: README,
"Nothing relevant".
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from foreign_desk.index.text import tokens

MIN_BACKGROUND = 32
"""Below this many passages there is no meaningful background; the absolute floor decides."""


ANY_LANGUAGE = ""


def backgrounds(samples: dict[str, np.ndarray], query_vector: np.ndarray) -> dict[str, float]:
    """The question's mean similarity to each language's sample (``""``: all languages);
    languages with too small a sample are left out."""
    return {
        lang: float(np.mean(vectors @ query_vector))
        for lang, vectors in samples.items()
        if len(vectors) >= MIN_BACKGROUND
    }


def base_for(bases: dict[str, float], language: str | None) -> float | None:
    """The background a passage in ``language`` is measured against (None: use the floor)."""
    return bases.get(language or ANY_LANGUAGE, bases.get(ANY_LANGUAGE))


def excess(similarity: float, base: float | None, *, margin: float, floor: float) -> float:
    """How far a passage clears the bar (negative: below it). The bar is the background plus
    ``margin``, or the absolute ``floor`` when there is no background."""
    if base is None:
        return similarity - floor
    return similarity - base - margin


def relevant(similarity: float, base: float | None, *, margin: float, floor: float) -> bool:
    """Does a passage with this similarity answer the question?"""
    return excess(similarity, base, margin=margin, floor=floor) >= 0


KEYWORD_EVIDENCE = 0.6
"""Share of the question's (rarity-weighted) content words a top keyword hit must contain
for its margin to be relaxed: rare names and numbers matched verbatim are evidence too."""


def coverage(terms: Sequence[str], text: str, weights: Mapping[str, float]) -> float:
    """Rarity-weighted share of the question's content words that occur in ``text``."""
    if not terms:
        return 0.0
    present = set(tokens(text))
    total = sum(weights.get(t, 1.0) for t in terms)
    return sum(weights.get(t, 1.0) for t in terms if t in present) / total if total else 0.0
