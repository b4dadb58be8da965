"""A question's background: what passages that do not answer it score, per language.

Raw cosine similarity means different things for different questions and languages: e5 gives a
cooking question 0.85 against news and a real question 0.82 against its answer, and every
question is closer to all passages in its own language. So scores are measured in standard
deviations above the question's background in the passage's language (a z-score): the mean and
spread of the question's similarity to a sample of passages in that language. The sample's mean
vector and covariance are kept, so a question's background costs one matrix-vector product per
language, whatever the sample's size: for passage vectors ``v`` of a language with mean ``m``
and covariance ``C``, the similarity ``q·v`` has mean ``q·m`` and variance ``qᵀCq``.

A language with fewer than ``MIN_BACKGROUND`` passages in the sample says little (a one-article
corpus is all on one topic): the shipped reference sample of ordinary news in that language
(``search/reference.py``) stands in for it, else the whole sample, else nothing (``None``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np

MIN_BACKGROUND = 32
"""Below this many sampled passages a language's own sample does not make its background."""
ANY_LANGUAGE = ""
"""The key of the sample of all languages together (passages whose language is unknown)."""
_NORMAL = NormalDist()


@dataclass(frozen=True, slots=True)
class Moments:
    """Mean vector and covariance of one language's sampled passage vectors."""

    mean: np.ndarray
    covariance: np.ndarray
    count: int

    @classmethod
    def of(cls, vectors: np.ndarray) -> Moments:
        rows = np.asarray(vectors, dtype=np.float64)
        mean = rows.mean(axis=0)
        centred = rows - mean
        return cls(mean, centred.T @ centred / len(rows), len(rows))


class Scale:
    """One question's background per language: mean and standard deviation of its similarity,
    measured for a language when first asked for (most questions meet two of a corpus's
    languages; each costs a quadratic form over a 384 x 384 covariance)."""

    __slots__ = ("_known", "_moments", "_query")

    def __init__(self, query_vector: np.ndarray, moments: Mapping[str, Moments]) -> None:
        self._query = np.asarray(query_vector, dtype=np.float64)
        self._moments = moments
        self._known: dict[str, tuple[float, float]] = {}

    def z(self, similarities: np.ndarray, languages: Sequence[str | None]) -> np.ndarray:
        """Each similarity in standard deviations above the background of its passage's language."""
        of = {lang: self.of(lang) for lang in set(languages)}
        pairs = np.array([of[lang] for lang in languages], dtype=np.float64).reshape(-1, 2)
        return (np.asarray(similarities, dtype=np.float64) - pairs[:, 0]) / pairs[:, 1]

    def of(self, language: str | None) -> tuple[float, float]:
        """The mean and spread of ``language`` (unknown or absent: of all languages together)."""
        key = language or ANY_LANGUAGE
        if key not in self._moments:
            key = ANY_LANGUAGE if ANY_LANGUAGE in self._moments else next(iter(self._moments))
        known = self._known.get(key)
        if known is None:
            q, m = self._query, self._moments[key]
            variance = float(q @ m.covariance @ q)
            known = self._known[key] = (float(q @ m.mean), math.sqrt(max(variance, 1e-12)))
        return known


@dataclass(frozen=True, slots=True)
class Background:
    """The moments per language that questions are measured against (see the module doc)."""

    languages: Mapping[str, Moments]

    @classmethod
    def of(cls, samples: Mapping[str, np.ndarray], reference: Mapping[str, np.ndarray]) -> Background:
        """From the corpus's ``samples`` (language → vectors, ``""``: all) and the shipped
        ``reference`` (language → vectors) for languages the corpus has too few passages of."""
        return cls.of_moments(own_moments(samples), reference)

    @classmethod
    def of_moments(cls, own: Mapping[str, Moments], reference: Mapping[str, np.ndarray]) -> Background:
        """The same from the moments of the corpus's samples (``own_moments``: what publishing
        saves, ``search.moments``); the reference's are measured for the languages left."""
        chosen: dict[str, Moments | np.ndarray] = {
            lang: v for lang, v in reference.items() if len(v) >= MIN_BACKGROUND
        }
        chosen.update(own)
        if ANY_LANGUAGE not in chosen and reference:
            chosen[ANY_LANGUAGE] = np.concatenate(list(reference.values()))
        big = {lang: v for lang, v in chosen.items() if _size(v) >= MIN_BACKGROUND}
        return cls({lang: v if isinstance(v, Moments) else Moments.of(v) for lang, v in big.items()})

    @property
    def empty(self) -> bool:
        return not self.languages

    def sample_size(self, language: str | None) -> int:
        """How many passages the background of ``language`` was measured on."""
        fallback = self.languages.get(ANY_LANGUAGE) or next(iter(self.languages.values()))
        return self.languages.get(language or ANY_LANGUAGE, fallback).count

    def scale(self, query_vector: np.ndarray) -> Scale:
        """The question's mean and spread of similarity per language."""
        return Scale(query_vector, self.languages)


def _size(sample: Moments | np.ndarray) -> int:
    return sample.count if isinstance(sample, Moments) else len(sample)


def own_moments(samples: Mapping[str, np.ndarray]) -> dict[str, Moments]:
    """The moments of each language's sample that is big enough to be its background."""
    return {lang: Moments.of(v) for lang, v in samples.items() if len(v) >= MIN_BACKGROUND}


def noise_level(passages: int) -> float:
    """How many standard deviations above its background the best of ``passages`` unrelated
    passages scores, as a median: the level a passage must clear to stand out from the corpus
    rather than be its luckiest draw (normal tail: 1.2 for 6 passages, 2.8 for 300, 3.6 for 5,000).
    A corpus measured against the reference counts as at least the reference's sample: a few
    articles chosen by topic are the most topical of a larger news corpus, not random draws."""
    return _NORMAL.inv_cdf(0.5 ** (1 / max(passages, 1)))
