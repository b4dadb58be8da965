"""Hybrid search: dense FAISS top-k and FTS5 BM25 top-k, fused, folded, capped, cited.

The question is embedded once; the dense and keyword searches run at the same time; every
candidate's cosine similarity to the question is computed from its stored vector, so the
"nothing relevant" floor works the same for passages only BM25 found.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from concurrent.futures import Executor
from dataclasses import dataclass

import numpy as np
from foreign_desk.index.citation import citation
from foreign_desk.index.config import Settings
from foreign_desk.index.embed import Embedder, Fingerprint, is_e5
from foreign_desk.index.fusion import Candidate, rank_page, rrf
from foreign_desk.index.highlight import best_sentence, idf_weights
from foreign_desk.index.models import Answer, Filters, Result
from foreign_desk.index.relevance import (
    ANY_LANGUAGE,
    KEYWORD_EVIDENCE,
    backgrounds,
    base_for,
    coverage,
    excess,
)
from foreign_desk.index.stopwords import STOPWORDS
from foreign_desk.index.store import Store
from foreign_desk.index.store.exact import ExactVectors
from foreign_desk.index.store.vectors import VectorIndex
from foreign_desk.index.text import tokens

log = logging.getLogger(__name__)

MAX_KEYWORDS = 8
COMMON_TERM_SHARE = 0.2
"""Terms found in more than this share of passages add little to BM25 and cost the most."""
POSTINGS_BUDGET = 6_000
"""BM25's time grows with the postings it scores (~3.5 ms per 1,000 here): the rarest terms are
asked until they hold this many (bench/core.py: BM25 p95 72 -> 51 ms at 100k passages). The
rarest term is always asked, so a 1M-passage corpus whose rarest term is common still pays."""

DEFAULT_FLOORS = {"e5": 0.80, "other": 0.25}


def default_floor(fingerprint: Fingerprint) -> float:
    """The absolute floor for a tiny corpus, per model family (see README, "Nothing relevant")."""
    return DEFAULT_FLOORS["e5" if is_e5(fingerprint) else "other"]


def query_terms(question: str) -> list[str]:
    """Content words of a question, in order, without duplicates or function words."""
    return list(
        dict.fromkeys(t for t in tokens(question) if t not in STOPWORDS and (len(t) > 1 or t.isdigit()))
    )


def match_expression(terms: Sequence[str], doc_freqs: dict[str, int], total: int) -> str | None:
    """An FTS5 query OR-ing the rarest question terms that occur in the corpus at all."""
    present = sorted((t for t in terms if doc_freqs.get(t)), key=lambda t: doc_freqs[t])
    if not present:
        return None
    rare = [t for t in present if doc_freqs[t] <= COMMON_TERM_SHARE * max(total, 1)] or present[:2]
    chosen: list[str] = []
    postings = 0
    for term in rare[:MAX_KEYWORDS]:
        if chosen and postings + doc_freqs[term] > POSTINGS_BUDGET:
            break
        chosen.append(term)
        postings += doc_freqs[term]
    return " OR ".join(f'"{t}"' for t in chosen)


@dataclass(frozen=True, slots=True)
class Snapshot:
    """One generation of the index, as a search sees it from start to end."""

    generation: int
    vectors: VectorIndex
    passages: int
    fingerprint: Fingerprint
    background: dict[str, np.ndarray]
    """Evenly spread samples of the passage vectors per language, ``""`` for all (see ``relevance``)."""

    @classmethod
    async def of(
        cls, store: Store, generation: int, vectors: VectorIndex, fingerprint: Fingerprint
    ) -> Snapshot:
        if vectors.exact is None:  # a quantized index re-ranks from the stored float vectors
            vectors.exact = ExactVectors(store.db_path, vectors.dim)
        ids, sample = await asyncio.to_thread(vectors.sample, 1024)
        languages = await store.languages_of(ids.tolist())
        background = {ANY_LANGUAGE: sample}
        for lang in {languages.get(int(i)) for i in ids} - {None}:
            background[lang] = sample[[languages.get(int(i)) == lang for i in ids]]  # type: ignore[index]
        return cls(generation, vectors, vectors.ntotal, fingerprint, background)


class Searcher:
    """Answers questions against a snapshot. Safe to use from many tasks at once."""

    def __init__(
        self, store: Store, embedder: Embedder, settings: Settings, executor: Executor | None
    ) -> None:
        self.store = store
        self.embedder = embedder
        self.settings = settings
        self.executor = executor
        floor = settings.search.relevance_floor
        self.floor = floor if floor >= 0 else default_floor(embedder.fingerprint)

    async def _run(self, fn, *args):
        return await asyncio.get_running_loop().run_in_executor(self.executor, fn, *args)

    async def search(
        self,
        snapshot: Snapshot,
        question: str,
        *,
        k: int | None = None,
        filters: Filters = Filters(),
        per_article: int | None = None,
        offset: int = 0,
    ) -> Answer:
        started = time.perf_counter()
        cfg = self.settings.search
        k = k or cfg.k
        per_article = cfg.per_article if per_article is None else per_article
        timings: dict[str, float] = {}

        def lap(stage: str, since: float) -> float:
            now = time.perf_counter()
            timings[stage] = round((now - since) * 1000, 2)
            return now

        terms = query_terms(question)
        depth = max(cfg.dense_k, offset + k)

        async def dense() -> tuple[np.ndarray, list[int], dict[str, float]]:
            t = time.perf_counter()
            qvec = (await self._run(self.embedder.embed_queries, [question]))[0]
            t = lap("embed", t)
            allowed = None if filters.empty else await self.store.allowed_ids(filters, snapshot.generation)
            if allowed is not None and not len(allowed):
                return qvec, [], {}
            _, ids = await self._run(snapshot.vectors.search, qvec[None, :], depth, allowed)
            lap("dense", t)
            return qvec, [int(i) for i in ids[0] if i >= 0], backgrounds(snapshot.background, qvec)

        async def keyword() -> tuple[dict[str, int], list[int]]:
            t = time.perf_counter()
            doc_freqs = await self.store.doc_freqs(terms)
            match = match_expression(terms, doc_freqs, snapshot.passages)
            hits = []
            if match is not None:
                hits = await self.store.bm25(match, max(cfg.bm25_k, offset + k), snapshot.generation, filters)
            lap("bm25", t)
            return doc_freqs, [pid for pid, _ in hits]

        (qvec, dense_ids, bases), (doc_freqs, bm25_ids) = await asyncio.gather(dense(), keyword())
        t = time.perf_counter()
        fused = rrf([(dense_ids, cfg.dense_weight), (bm25_ids, cfg.bm25_weight)], cfg.rrf_k)
        rows = await self.store.passages(list(fused), with_vectors=True)
        weights = idf_weights(doc_freqs, snapshot.passages)
        keyword_top = set(bm25_ids[:3])
        scored = []  # (candidate, how far it clears its margin)
        for pid, score in sorted(fused.items(), key=lambda kv: -kv[1]):
            row = rows.get(pid)
            if row is None or row.vector is None:
                continue
            similarity = float(row.vector @ qvec)
            margin = cfg.relevance_margin
            if pid in keyword_top and coverage(terms, row.text, weights) >= KEYWORD_EVIDENCE:
                margin -= cfg.keyword_relief
            clearance = excess(
                similarity, base_for(bases, row.article.language), margin=margin, floor=self.floor
            )
            scored.append(
                (Candidate(pid, row.article.id, row.text, score, similarity, row.article.source), clearance)
            )
        # The best passage decides whether anything answers; the others then need only come close.
        answered = any(c >= 0 for _, c in scored)
        candidates = [cand for cand, c in scored if answered and c >= -cfg.follower_slack]
        # Order: the passage's own similarity, nudged by how both rankings placed it (RRF).
        best_rrf = max((c.score for c in candidates), default=1.0) or 1.0
        for cand in candidates:
            cand.score = cand.similarity + cfg.fusion_weight * cand.score / best_rrf
        candidates.sort(key=lambda c: -c.score)
        page = rank_page(candidates, per_article, offset, offset + k + 1)  # one more: is there a next page?
        has_more, page = len(page) > k, page[:k]
        t = lap("fetch", t)
        stored = await self.store.sentence_vectors([rows[c.id].vector_key for c in page])
        highlights = [
            best_sentence(c.text, qvec, stored.get(rows[c.id].vector_key), set(terms), weights) for c in page
        ]
        lap("highlight", t)
        results = []
        for rank, (cand, best) in enumerate(zip(page, highlights, strict=True), offset + 1):
            row = rows[cand.id]
            results.append(
                Result(
                    rank=rank,
                    score=round(cand.score, 6),
                    similarity=round(cand.similarity, 4),
                    text=row.text,
                    highlight=best,
                    paragraphs=row.paragraphs,
                    section=row.section,
                    article=row.article,
                    citation=citation(row.article, row.paragraphs, tuple(cand.also_in)),
                    passage_id=cand.id,
                    also_in=tuple(cand.also_in),
                )
            )
        took = (time.perf_counter() - started) * 1000
        return Answer(
            question=question,
            results=tuple(results),
            took_ms=round(took, 1),
            nothing_relevant=not candidates,
            offset=offset,
            has_more=has_more,
            timings=timings,
        )
