"""Judge: does anything answer the question, which candidates are shown, and in what order.

Each candidate's cosine similarity to the question (from its stored vector, so passages only
BM25 found are measured too) is compared with the question's background in the passage's
language (``relevance``). The best passage decides whether anything answers; the others then
need only come close. The order is the passage's own similarity, nudged by both rankings (RRF).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from foreign_desk.index.config import SearchSettings
from foreign_desk.index.embed import Fingerprint, is_e5
from foreign_desk.index.fusion import Candidate
from foreign_desk.index.relevance import KEYWORD_EVIDENCE, backgrounds, base_for, coverage, excess
from foreign_desk.index.search.retrieve import Retrieved
from foreign_desk.index.store import StoredPassage

DEFAULT_FLOORS = {"e5": 0.80, "other": 0.25}
"""Absolute cosine floors per model family, for corpora too small for a background
(README, "Nothing relevant")."""
KEYWORD_TOP = 3
"""Only this many best BM25 hits may earn keyword relief: lower hits share words, rarely the answer."""


def default_floor(fingerprint: Fingerprint) -> float:
    """The absolute floor for a tiny corpus, per model family (see README, "Nothing relevant")."""
    return DEFAULT_FLOORS["e5" if is_e5(fingerprint) else "other"]


@dataclass(frozen=True, slots=True)
class Judgement:
    """The candidates shown as answers, best first; none when nothing answers the question."""

    candidates: list[Candidate]

    @property
    def answered(self) -> bool:
        return bool(self.candidates)


class Judge:
    """Decides relevance and order with the search settings and the absolute ``floor``."""

    def __init__(self, settings: SearchSettings, floor: float) -> None:
        self.settings = settings
        self.floor = floor

    def judge(
        self,
        fused: Mapping[int, float],
        rows: Mapping[int, StoredPassage],
        found: Retrieved,
        background: dict[str, np.ndarray],
    ) -> Judgement:
        """``fused`` candidates (id → RRF score) with their ``rows`` (vectors included)."""
        scored = self.weigh(fused, rows, found, backgrounds(background, found.query_vector))
        answered = any(clearance >= 0 for _, clearance in scored)
        slack = self.settings.follower_slack
        candidates = [cand for cand, clearance in scored if answered and clearance >= -slack]
        return Judgement(self.order(candidates))

    def weigh(
        self,
        fused: Mapping[int, float],
        rows: Mapping[int, StoredPassage],
        found: Retrieved,
        bases: dict[str, float],
    ) -> list[tuple[Candidate, float]]:
        """Each candidate (by RRF score) with how far it clears its bar (negative: below it)."""
        cfg = self.settings
        keyword_top = set(found.keyword[:KEYWORD_TOP])
        scored = []
        for pid, score in sorted(fused.items(), key=lambda kv: -kv[1]):
            row = rows.get(pid)
            if row is None or row.vector is None:
                continue
            similarity = float(row.vector @ found.query_vector)
            margin = cfg.relevance_margin
            if pid in keyword_top and coverage(found.terms, row.text, found.weights) >= KEYWORD_EVIDENCE:
                margin -= cfg.keyword_relief
            base = base_for(bases, row.article.language)
            clearance = excess(similarity, base, margin=margin, floor=self.floor)
            candidate = Candidate(pid, row.article.id, row.text, score, similarity, row.article.source)
            scored.append((candidate, clearance))
        return scored

    def order(self, candidates: list[Candidate]) -> list[Candidate]:
        """Best first: similarity plus ``fusion_weight`` times the RRF score scaled to the best one."""
        best_rrf = max((c.score for c in candidates), default=1.0) or 1.0
        for cand in candidates:
            cand.score = cand.similarity + self.settings.fusion_weight * cand.score / best_rrf
        candidates.sort(key=lambda c: -c.score)
        return candidates
