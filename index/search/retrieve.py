"""Retrieve: the question's candidates from two retrievers, keyword (FTS5 BM25 over the
question's rarest words) and dense (the question embedded once, FAISS top-k), one after the
other on the question thread (``searcher``); the model runs its own threads inside. A question
that names a time may be embedded once more without its date words, when the judge asks.

This is the only stage that runs the model; a query cache or a per-search thread budget
belongs here.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cache

import numpy as np
from foreign_desk.index.config import SearchSettings
from foreign_desk.index.embed import Embedder
from foreign_desk.index.highlight import idf_weights
from foreign_desk.index.search.lexicon import Translations, dictionary_words, translations
from foreign_desk.index.search.request import Laps, SearchRequest
from foreign_desk.index.search.snapshot import Snapshot
from foreign_desk.index.stopwords import STOPWORDS
from foreign_desk.index.store.reads import Reader
from foreign_desk.index.store.vectors import IDSelector
from foreign_desk.index.text import tokens

MAX_KEYWORDS = 8
"""Question words asked of BM25 at most: beyond eight, a question is a paragraph, not a query."""
COMMON_TERM_SHARE = 0.2
"""Terms found in more than this share of passages add little to BM25 and cost the most."""
POSTINGS_BUDGET = 6_000
"""BM25's time grows with the postings it scores (~3.5 ms per 1,000 here): the rarest terms are
asked until they hold this many (bench/core.py: BM25 p95 72 -> 51 ms at 100k passages). The
rarest term is always asked, so a 1M-passage corpus whose rarest term is common still pays."""

MAX_BARE_WORDS = 4
"""Longest question read as a name typed alone ("Retno Marsudi"), when it has no function word."""

_WORD = re.compile(r"[^\W_]+")


def name_terms(question: str) -> frozenset[str]:
    """Question words that read the same in English and Indonesian: numbers, and names as the
    asker wrote them (capitalized after the first word, or all capitals: "NATO", "Pretoria")."""
    found = set()
    for n, m in enumerate(_WORD.finditer(question)):
        word = m.group(0)
        named = (n > 0 and word[0].isupper()) or (len(word) > 1 and word.isupper())
        if named or any(ch.isdigit() for ch in word):
            found.update(tokens(word))
    return frozenset(found)


def query_terms(question: str) -> list[str]:
    """Content words of a question, in order, without duplicates or function words."""
    return list(
        dict.fromkeys(t for t in tokens(question) if t not in STOPWORDS and (len(t) > 1 or t.isdigit()))
    )


def bare_words(question: str) -> bool:
    """Whether ``question`` is at most ``MAX_BARE_WORDS`` words, every one a content word."""
    terms = query_terms(question)
    return 0 < len(terms) <= MAX_BARE_WORDS and terms == list(dict.fromkeys(tokens(question)))


def match_expression(terms: Sequence[str], doc_freqs: dict[str, int], total: int) -> str | None:
    """An FTS5 query OR-ing the rarest question terms that occur in the corpus at all."""
    chosen = keyword_terms(terms, doc_freqs, total)
    return " OR ".join(f'"{t}"' for t in chosen) if chosen else None


def own_terms(terms: Sequence[str], doc_freqs: dict[str, int], total: int) -> list[str]:
    """The terms to look for in a server's own articles: those the shared corpus lacks (a name
    only the server's articles hold), then those asked of the shared corpus."""
    absent = [t for t in terms if not doc_freqs.get(t)]
    return (absent + keyword_terms(terms, doc_freqs, total))[:MAX_KEYWORDS]


def keyword_terms(terms: Sequence[str], doc_freqs: dict[str, int], total: int) -> list[str]:
    """The rarest question terms that occur in the corpus at all, rarest first."""
    present = sorted((t for t in terms if doc_freqs.get(t)), key=lambda t: doc_freqs[t])
    if not present:
        return []
    rare = [t for t in present if doc_freqs[t] <= COMMON_TERM_SHARE * max(total, 1)] or present[:2]
    chosen: list[str] = []
    postings = 0
    for term in rare[:MAX_KEYWORDS]:
        if chosen and postings + doc_freqs[term] > POSTINGS_BUDGET:
            break
        chosen.append(term)
        postings += doc_freqs[term]
    return chosen


@dataclass(frozen=True, slots=True)
class Retrieved:
    """What the two retrievers found, best first, with what later stages weigh it by."""

    terms: tuple[str, ...]
    """The question's content words (``query_terms``)."""
    names: frozenset[str]
    """Those of them that are names or numbers (``name_terms``)."""
    query_vector: np.ndarray
    dense: list[int]
    """Passage ids by vector similarity."""
    keyword: list[int]
    """Passage ids by BM25."""
    weights: dict[str, float]
    """Rarity (idf) of each question word found in the corpus."""
    undated_vector: Callable[[], np.ndarray] | None = None
    """The question embedded without the words that name its time, when it names one: embedded
    on first call only, as the judge needs it for few questions (``Judge._sure``)."""
    translated: dict[str, Translations] = field(default_factory=dict)
    """The question's words (names aside) with their translations (``lexicon.translations``)."""
    crossing: dict[str, float] = field(default_factory=dict)
    """The rarity (idf) each translated word's evidence is weighed by."""
    bare: bool = False
    """The question is a few words with no function word ("Retno Marsudi", "ASEAN summit"): a
    name typed to find the passages about it (``bare_words``)."""


def dense_search(
    snapshot: Snapshot,
    qvec: np.ndarray,
    depth: int,
    allowed: np.ndarray | None,
    hidden: IDSelector | None,
) -> list[int]:
    """The ``depth`` most similar passages of each language (``Snapshot.dense_groups``), none of
    ``hidden`` (other servers' own)."""
    groups = snapshot.dense_groups(allowed)
    per_group = depth if len(groups) > 1 else depth * max(1, len(snapshot.languages))
    found: dict[int, None] = {}
    for group in groups:
        _, ids = snapshot.vectors.search(qvec[None, :], per_group, group, hidden)
        found.update((int(i), None) for i in ids[0] if i >= 0)
    return list(found)


class Retriever:
    """Dense and keyword retrieval, synchronously on the calling thread (the question thread)."""

    def __init__(self, embedder: Embedder, settings: SearchSettings) -> None:
        self.embedder = embedder
        self.settings = settings

    def retrieve(self, snapshot: Snapshot, request: SearchRequest, laps: Laps, read: Reader) -> Retrieved:
        """Both retrievers, each going as deep as the page needs (at least its ``*_k``)."""
        terms = query_terms(request.question)
        doc_freqs, keyword = self._keyword(snapshot, request, terms, laps, read)
        qvec, undated, dense = self._dense(snapshot, request, laps, read)
        weights = idf_weights(doc_freqs, snapshot.passages)
        names, bare = name_terms(request.question), bare_words(request.question)
        translated = {t: tr for t in terms if t not in names and (tr := translations(t))}
        crossing = self._crossing_weights(snapshot, translated, weights, read)
        return Retrieved(
            tuple(terms), names, qvec, dense, keyword, weights, undated,
            translated=translated, crossing=crossing, bare=bare,
        )  # fmt: skip

    @staticmethod
    def _crossing_weights(
        snapshot: Snapshot, translated: dict[str, Translations], weights: dict[str, float], read: Reader
    ) -> dict[str, float]:
        """The rarity a translated word's evidence is weighed by: the word's own where the corpus
        holds it, else its most common translation's, else that of a word one passage in 100
        holds."""
        words = {t: dictionary_words(t) for t in translated if t not in weights}
        freqs = read.doc_freqs({w for ws in words.values() for w in ws}, snapshot.generation)
        rarity = idf_weights(freqs, snapshot.passages)
        usual = idf_weights({"": snapshot.passages // 100}, snapshot.passages)[""]
        return {
            t: weights[t]
            if t in weights
            else min((rarity[w] for w in words[t] if w in rarity), default=usual)
            for t in translated
        }

    def _dense(
        self, snapshot: Snapshot, request: SearchRequest, laps: Laps, read: Reader
    ) -> tuple[np.ndarray, Callable[[], np.ndarray] | None, list[int]]:
        """The question's vector, its vector without its date words (None: it names no time;
        embedded when first asked for), and the passages nearest the first."""
        t = time.perf_counter()
        qvec = self.embedder.embed_queries([request.question])[0]
        undated = self._embedded_once(request.undated) if request.undated else None
        t = laps.lap("embed", t)
        filters, scope, gen = request.filters, request.scope, snapshot.generation
        allowed = None if filters.empty else read.allowed_ids(filters, gen, scope)
        if allowed is not None and not len(allowed):
            return qvec, undated, []
        # Other servers' own passages are left out (with a filter, ``allowed`` already did).
        hidden = read.hidden(scope, gen) if allowed is None else None
        depth = max(self.settings.dense_k, request.stop)
        found = dense_search(snapshot, qvec, depth, allowed, hidden)
        laps.lap("dense", t)
        return qvec, undated, found

    def _embedded_once(self, text: str) -> Callable[[], np.ndarray]:
        """``text``'s query vector, embedded on the first call and kept for the next."""
        return cache(lambda: self.embedder.embed_queries([text])[0])

    def _keyword(
        self, snapshot: Snapshot, request: SearchRequest, terms: list[str], laps: Laps, read: Reader
    ) -> tuple[dict[str, int], list[int]]:
        t = time.perf_counter()
        doc_freqs = read.doc_freqs(terms, snapshot.generation)
        match = match_expression(terms, doc_freqs, snapshot.passages)
        depth = max(self.settings.bm25_k, request.stop)
        gen, filters, scope = snapshot.generation, request.filters, request.scope
        hits = read.bm25(match, depth, gen, filters, scope=scope) if match is not None else []
        if scope.guild_id:  # the server's own articles, scored by the shared corpus's statistics
            wanted = own_terms(terms, doc_freqs, snapshot.passages)
            own, held = read.own_bm25(wanted, depth, gen, filters, scope, doc_freqs)
            hits = sorted(hits + own, key=lambda hit: -hit[1])[:depth]
            doc_freqs = {**dict.fromkeys(held, 0), **doc_freqs}  # a name only they hold is rare
        laps.lap("bm25", t)
        return doc_freqs, [pid for pid, _ in hits]
