"""Judge: in what order the candidates are shown, and how sure the answer is.

Every score is measured in standard deviations above the question's background in the
passage's language (``background.py``), so an English question weighs an Indonesian passage
and an English one alike. A passage's *meaning* score is its own z-score moved
``sentence_weight`` of the way to its best sentence's (against a background of single
sentences): a passage whose one sentence states the fact beats one that is merely about the
topic. A candidate's *evidence* adds to that:

- keyword evidence: the rarity (idf, in nats) of each question word the passage holds, names
  and numbers (which read the same in English and Indonesian) at full weight, other words at
  ``common_word_share`` of it, times ``keyword_weight``; a word of the article's headline or
  section heading counts as held by each of its passages; an ordinary word's translation
  (``search/lexicon``) held by a passage in the other language counts ``translation_share`` of
  the word. A passage that alone holds the question's rare names can overtake passages that are
  merely on its topic;
- a date: ``date_weight`` when the article was published in the period the question names.

How sure: the best candidate's *meaning* score (its z-score, without keyword or date evidence:
a name the question shares says the passage is about that name, not that it answers) is
compared with the noise level of the corpus, what the best of that many unrelated passages
would score (``background.noise_level``; a corpus measured against the reference counts as at
least the reference's sample). ``strong_margin`` above it is a strong answer; below
``none_margin`` the question is outside the corpus ("none": nothing is shown); in between a
weak answer, shown with a caveat. A passage of an article published in the period the question
names is judged by the better of its scores with and without the date words (a date it matches
never makes the answer less sure); a name typed alone ("Retno Marsudi") is at least weak when a
candidate holds all its words. Chosen on the tuning parts of three corpus sizes (README,
"Quality").

Each candidate gets its own level by the same rule (``Candidate.match``: its meaning score
against the noise level of its language): a page marks where the passages that only fill it
begin (``Answer.related``).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from foreign_desk.index.asked_dates import Period
from foreign_desk.index.background import Background, noise_level
from foreign_desk.index.config import SearchSettings
from foreign_desk.index.embed import Fingerprint, is_e5
from foreign_desk.index.fusion import Candidate
from foreign_desk.index.search.lexicon import translations_held_each
from foreign_desk.index.search.retrieve import Retrieved
from foreign_desk.index.store import StoredPassage
from foreign_desk.index.text import fold, words_held_each

Match = Literal["strong", "weak", "none"]

DEFAULT_FLOORS = {"e5": 0.80, "other": 0.25}
"""Absolute cosine floors per model family, for a corpus too small for a background when the
model ships no reference background (README, "How sure an answer is")."""


def default_floor(fingerprint: Fingerprint) -> float:
    """The absolute floor for a tiny corpus, per model family."""
    return DEFAULT_FLOORS["e5" if is_e5(fingerprint) else "other"]


@dataclass(frozen=True, slots=True)
class Judgement:
    """The candidates best first, how sure the answer is, and the score above which a candidate
    comes close to the best one (the page lets one article fill more places below it)."""

    candidates: list[Candidate]
    match: Match
    close: float

    @property
    def answered(self) -> bool:
        return self.match != "none"


@functools.cache
def _half_table() -> np.ndarray:
    """The float32 of every float16 bit pattern (256 KB), made on first use."""
    return np.arange(1 << 16, dtype=np.uint32).astype(np.uint16).view(np.float16).astype(np.float32)


def widened(rows: np.ndarray) -> np.ndarray:
    """Float16 rows (as stored) as float32, the same values as ``astype``: looked up, because
    ``astype`` takes three times as long on zeros and subnormals, which sparse vectors are full of.
    ``mode="wrap"``: every uint16 is a row of the table, and without the bounds check the look-up
    costs a quarter less (0.22 -> 0.16 ms for a search's ~630 sentences at 10k passages)."""
    if rows.dtype != np.float16:
        return rows.astype(np.float32, copy=False)
    return np.take(_half_table(), rows.view(np.uint16), mode="wrap")


def best_sentences(
    kept: Sequence[StoredPassage], sentences: Mapping[str, np.ndarray], query_vector: np.ndarray
) -> np.ndarray:
    """Each passage's best sentence similarity (NaN where it has no sentence vectors), with one
    matrix product for all of them."""
    blocks = [sentences.get(r.vector_key) for r in kept]
    have = [b for b in blocks if b is not None and len(b)]
    best = np.full(len(kept), np.nan)
    if not have:
        return best
    scores = widened(np.concatenate(have)) @ query_vector
    starts = np.cumsum([0] + [len(b) for b in have[:-1]])
    where = [i for i, b in enumerate(blocks) if b is not None and len(b)]
    best[where] = np.maximum.reduceat(scores, starts)
    return best


def _with_context(row: StoredPassage) -> str:
    """The passage's text as keyword evidence reads it: after its headline and section heading,
    the lines its vector is made of too. Every passage of an article is about its headline, so
    a word the headline holds counts for each of them alike, and the one passage that repeats it
    (most often the lead, restating the story) gains nothing over the passage that answers."""
    return fold(f"{row.article.title}\n{row.section or ''}\n{row.text}")


class Judge:
    """Orders candidates and labels the answer with the search settings; ``floor`` decides
    alone when there is no background at all."""

    def __init__(self, settings: SearchSettings, floor: float) -> None:
        self.settings = settings
        self.floor = floor

    def judge(
        self,
        ids: Sequence[int],
        rows: Mapping[int, StoredPassage],
        found: Retrieved,
        backgrounds: tuple[Background, Background],
        passages: int,
        *,
        sentences: Mapping[str, np.ndarray] | None = None,
        period: Period | None = None,
    ) -> Judgement:
        """``ids``: the candidates (any order); ``rows``: their rows, vectors included;
        ``backgrounds``: of passages and of sentences; ``passages``: how many the corpus holds
        (the noise level); ``sentences``: sentence vectors by passage vector key."""
        kept = [rows[i] for i in ids if i in rows and rows[i].vector is not None]
        if not kept:
            return Judgement([], "none", 0.0)
        similarity = np.stack([r.vector for r in kept if r.vector is not None]) @ found.query_vector
        if backgrounds[0].empty:
            return self._by_floor(kept, similarity)
        sure = meaning = self._meaning(kept, similarity, found.query_vector, backgrounds, sentences or {})
        match = self._label(kept, meaning, backgrounds[0], passages)
        if match != "strong":  # a date the answer matches may make it surer
            sure = self._sure(kept, meaning, found, backgrounds, sentences or {}, period)
            match = self._label(kept, sure, backgrounds[0], passages)
        named = self._named(kept, found)
        if match == "none" and named.any():
            match = "weak"
        if match == "none":  # nothing is shown: no evidence to weigh
            return Judgement([], match, 0.0)
        evidence = meaning + self._keywords(kept, found) + self._dates(kept, period)
        above = self._above(kept, sure, backgrounds[0], passages)
        own = [self.match(float(a)) for a in above]  # a passage holding the name typed: as the answer
        levels: list[Match] = ["weak" if n and m == "none" else m for m, n in zip(own, named, strict=True)]
        return self._ordered(kept, evidence, similarity, match, (above, levels))

    def _meaning(
        self,
        kept: Sequence[StoredPassage],
        similarity: np.ndarray,
        vector: np.ndarray,
        backgrounds: tuple[Background, Background],
        sentences: Mapping[str, np.ndarray],
    ) -> np.ndarray:
        """Each passage's z-score for the query ``vector`` (``similarity``: its cosines), moved
        ``sentence_weight`` of the way to its best sentence's."""
        languages = [r.article.language for r in kept]
        meaning = backgrounds[0].scale(vector).z(similarity, languages)
        best = best_sentences(kept, sentences, vector)
        if not backgrounds[1].empty and self.settings.sentence_weight:
            own = ~np.isnan(best)  # passages without sentence vectors keep their own score
            z = backgrounds[1].scale(vector).z(np.where(own, best, 0.0), languages)
            meaning = meaning + own * self.settings.sentence_weight * (z - meaning)
        return meaning

    def _sure(
        self,
        kept: Sequence[StoredPassage],
        meaning: np.ndarray,
        found: Retrieved,
        backgrounds: tuple[Background, Background],
        sentences: Mapping[str, np.ndarray],
        period: Period | None,
    ) -> np.ndarray:
        """The meaning scores the match is judged by. A passage of an article published when the
        question says keeps the better of its score with and without the date words: a date it
        matches never makes the answer less sure. Any other passage keeps its score with them:
        the date of a near miss ("the May 2023 election" asked of 2019's) still counts against it."""
        if period is None or found.undated_vector is None:
            return meaning
        in_period = self._in_period(kept, period)
        if not in_period.any():  # the question embedded once more only when it can count
            return meaning
        vector = found.undated_vector()
        similarity = np.stack([r.vector for r in kept if r.vector is not None]) @ vector
        undated = self._meaning(kept, similarity, vector, backgrounds, sentences)
        return np.where(in_period, np.maximum(meaning, undated), meaning)

    def _label(
        self, kept: Sequence[StoredPassage], scores: np.ndarray, background: Background, passages: int
    ) -> Match:
        """The answer's label by its best passage's score against the noise level of the corpus
        (or of the background's sample in that passage's language, when larger)."""
        top = int(np.argmax(scores))
        size = max(passages, background.sample_size(kept[top].article.language))
        return self.match(float(scores[top]) - noise_level(size))

    @staticmethod
    def _above(
        kept: Sequence[StoredPassage], scores: np.ndarray, background: Background, passages: int
    ) -> np.ndarray:
        """Each passage's meaning score above the noise level ``_label`` measures the best one
        against (of its own language's background sample, when larger than the corpus)."""
        levels: dict[str | None, float] = {}
        for r in kept:
            language = r.article.language
            if language not in levels:
                levels[language] = noise_level(max(passages, background.sample_size(language)))
        return scores - np.array([levels[r.article.language] for r in kept])

    def _ordered(
        self,
        kept: Sequence[StoredPassage],
        evidence: np.ndarray,
        similarity: np.ndarray,
        match: Match,
        levels: tuple[np.ndarray, Sequence[Match]],
    ) -> Judgement:
        """Candidates best first by ``evidence``; ``levels``: each one's meaning above the noise
        level and its own label by the answer's rule (``Candidate.match``: a page marks where the
        passages below the noise level begin)."""
        if match == "none":
            return Judgement([], match, 0.0)
        candidates = [
            Candidate(
                r.id, r.article.id, r.text, float(e), float(s), r.article.source, match=m, above=float(a)
            )
            for r, e, s, a, m in zip(kept, evidence, similarity, *levels, strict=True)
        ]
        candidates.sort(key=lambda c: -c.score)
        return Judgement(candidates, match, candidates[0].score - self.settings.close_gap)

    def _by_floor(self, kept: Sequence[StoredPassage], similarity: np.ndarray) -> Judgement:
        """No background (a tiny corpus, a model without a reference): cosine order, and the
        absolute floor decides between strong and none, as before backgrounds existed."""
        match: Match = "strong" if similarity.max() >= self.floor else "none"
        above = similarity - self.floor  # each passage by the same floor
        levels: list[Match] = ["strong" if a >= 0 else "none" for a in above]
        judgement = self._ordered(kept, similarity, similarity, match, (above, levels))
        return Judgement(judgement.candidates, judgement.match, -np.inf)

    def _keywords(self, kept: Sequence[StoredPassage], found: Retrieved) -> np.ndarray:
        cfg = self.settings
        weights = {
            t: idf * (1.0 if t in found.names else cfg.common_word_share)
            for t, idf in found.weights.items()
            if t in found.terms
        }
        if not (weights or found.translated) or cfg.keyword_weight == 0:
            return np.zeros(len(kept))
        folded = [_with_context(r) for r in kept]
        held = words_held_each(folded, weights)
        scores = np.array([sum(weights[t] for t in h) for h in held], float)
        if found.translated and cfg.translation_share:
            scores += self._translated(kept, folded, held, found)
        return cfg.keyword_weight * scores

    def _translated(
        self, kept: Sequence[StoredPassage], folded: list[str], held: list[list[str]], found: Retrieved
    ) -> np.ndarray:
        """Evidence for the translations of the question's words each passage holds (a word it
        holds as written counts once)."""
        share = self.settings.common_word_share * self.settings.translation_share
        weight = {t: share * found.crossing.get(t, 0.0) for t in found.translated}
        languages = [r.article.language for r in kept]
        crossed = translations_held_each(folded, languages, found.translated)
        return np.array(
            [sum(weight[t] for t in c.difference(h)) for c, h in zip(crossed, held, strict=True)], float
        )

    @staticmethod
    def _named(kept: Sequence[StoredPassage], found: Retrieved) -> np.ndarray:
        """Which candidates hold every word of a question that is a name typed alone (none when it
        is not): the passages about a name are what its asker wants, however little a bare name
        means to the model (no off-topic question is a few words without a function word)."""
        if not found.bare:
            return np.zeros(len(kept), bool)
        held = words_held_each([fold(r.text) for r in kept], found.terms)
        return np.array([len(set(h)) == len(found.terms) for h in held], bool)

    def _dates(self, kept: Sequence[StoredPassage], period: Period | None) -> np.ndarray:
        if period is None:
            return np.zeros(len(kept))
        return self.settings.date_weight * self._in_period(kept, period).astype(float)

    @staticmethod
    def _in_period(kept: Sequence[StoredPassage], period: Period) -> np.ndarray:
        return np.array([period.covers(r.article.day) for r in kept], bool)

    def match(self, above: float) -> Match:
        """The label of an answer whose best meaning score is ``above`` the level it must clear."""
        if above >= self.settings.strong_margin:
            return "strong"
        return "none" if above < self.settings.none_margin else "weak"
