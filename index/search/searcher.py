"""Hybrid search in five named stages: retrieve → fuse → judge → page → cite.

    retrieve  question → dense (FAISS) and keyword (BM25) rankings, at the same time
    fuse      two candidate lists → one
    judge     each candidate's evidence against the question's background → order, how sure
    page      the requested slice, wire copies folded, each article capped while others come close
    cite      numbered results with highlights and citations

Only ``retrieve`` and the row reads between stages touch the store; ``fuse``, ``judge``,
``page`` and ``cite`` are pure and tested on their own. A search runs from start to end on the
question thread (``answer``): one hop from the event loop and back per question, every read
(the version the answer cache is keyed by included) in one read transaction of that thread's
own connection (``store.reads``).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from concurrent.futures import Executor

import numpy as np
from foreign_desk.index.answer_cache import AnswerCache, as_cached
from foreign_desk.index.config import Settings
from foreign_desk.index.embed import Embedder
from foreign_desk.index.models import Answer
from foreign_desk.index.search.cite import cite
from foreign_desk.index.search.fuse import fuse
from foreign_desk.index.search.judge import Judge, default_floor
from foreign_desk.index.search.page import Page, page
from foreign_desk.index.search.period import period_page
from foreign_desk.index.search.recent import preferring_recent
from foreign_desk.index.search.request import Laps, SearchRequest
from foreign_desk.index.search.retrieve import Retrieved, Retriever
from foreign_desk.index.search.snapshot import Snapshot
from foreign_desk.index.store import Store, StoredPassage
from foreign_desk.index.store.reads import Reader, SearchReads
from foreign_desk.index.text import LETTER_OR_DIGIT


class Searcher:
    """Answers questions against a snapshot. Safe to use from many tasks at once."""

    def __init__(
        self, store: Store, embedder: Embedder, settings: Settings, executor: Executor | None
    ) -> None:
        self.reads = SearchReads(store.readers)
        self.settings = settings.search
        self.executor = executor
        self.retriever = Retriever(embedder, self.settings)
        floor = self.settings.relevance_floor
        self.judge = Judge(self.settings, floor if floor >= 0 else default_floor(embedder.fingerprint))

    def close(self) -> None:
        """Close the reading connections; no search may run any more."""
        self.reads.close()

    async def search(self, snapshot: Snapshot, request: SearchRequest, answers: AnswerCache) -> Answer | None:
        """``answer``, or the one ``answers`` remembers, on the question thread: one hop from the
        event loop and back, the version (``Reader.versions``) read in the search's own read
        transaction. None when the live generation is no longer ``snapshot``'s (load it, ask again)."""
        if not LETTER_OR_DIGIT.search(request.question):  # "?!": nothing to look for
            return Answer(request.question, (), took_ms=0.0, nothing_relevant=True, match="none")
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.executor, self._live, snapshot, request, answers)

    def _live(self, snapshot: Snapshot, request: SearchRequest, answers: AnswerCache) -> Answer | None:
        started = time.perf_counter()
        with self.reads.reading() as read:
            version = read.versions()
            if version[0] != snapshot.generation:
                return None
            cached = answers.get(version, request)
            if cached is not None:
                return as_cached(cached, (time.perf_counter() - started) * 1000)
            answer = self._answer(snapshot, request, read, started)
        answers.put(version, request, answer)
        return answer

    def answer(self, snapshot: Snapshot, request: SearchRequest) -> Answer:
        """The whole search, synchronously, every read in one read transaction."""
        started = time.perf_counter()
        with self.reads.reading() as read:
            return self._answer(snapshot, request, read, started)

    def _answer(self, snapshot: Snapshot, request: SearchRequest, read: Reader, started: float) -> Answer:
        if request.only_period or request.only_news:
            listed = self._period(snapshot, request, read, started)
            if listed is not None:
                return listed
        request = preferring_recent(request, read, snapshot.generation, snapshot.vectors.dim)
        laps = Laps()
        found = self.retriever.retrieve(snapshot, request, laps, read)
        t = time.perf_counter()
        ids = fuse(found)
        rows, sentences = read.candidates(ids, snapshot.vectors.dim)
        backgrounds = (snapshot.background, snapshot.sentence_background)
        judgement = self.judge.judge(
            ids, rows, found, backgrounds, snapshot.passages, sentences=sentences, period=request.period
        )
        shown = page(judgement.candidates, request, judgement.close)
        t = laps.lap("fetch", t)
        results = cite(shown, rows, found, sentences, request.offset, own=_own(read, request, shown, rows))
        laps.lap("highlight", t)
        return Answer(
            question=request.question,
            results=results,
            took_ms=round((time.perf_counter() - started) * 1000, 1),
            nothing_relevant=not judgement.answered,
            offset=request.offset,
            has_more=shown.has_more,
            timings=laps.ms,
            match=judgement.match,
            understood=_understood(request),
        )

    def _period(
        self, snapshot: Snapshot, request: SearchRequest, read: Reader, started: float
    ) -> Answer | None:
        """A question naming only a time: the articles published then (``search.period``), first
        sentences marked; None when that period holds none. Asking only for news: the newest
        articles. Neither retriever nor model runs."""
        laps = Laps()
        listed = period_page(request, read, snapshot.generation, snapshot.vectors.dim)
        if listed is None:
            return None
        shown, rows = listed
        t = laps.lap("fetch", started)
        nothing = Retrieved((), frozenset(), np.zeros(snapshot.vectors.dim, np.float32), [], [], {})
        results = cite(shown, rows, nothing, {}, request.offset, own=_own(read, request, shown, rows))
        laps.lap("highlight", t)
        return Answer(
            question=request.question,
            results=results,
            took_ms=round((time.perf_counter() - started) * 1000, 1),
            offset=request.offset,
            has_more=shown.has_more,
            timings=laps.ms,
            match="weak",
            understood={"published": request.period.as_json()} if request.period else {},
            period_articles=True,
        )


def _understood(request: SearchRequest) -> dict[str, object]:
    """What the answer took the question to ask (``Answer.understood``): the publication days it
    preferred, and whether they are the latest of the scope (``search.recent``), not named."""
    if request.period is None:
        return {}
    return {"published": request.period.as_json()} | ({"recent": True} if request.latest else {})


def _own(read: Reader, request: SearchRequest, shown: Page, rows: Mapping[int, StoredPassage]) -> set[str]:
    """Which of the page's articles are the asking server's own (none outside a server)."""
    if not (request.scope.guild_id and shown.candidates):
        return set()
    return read.own(request.scope.guild_id, [rows[c.id].article.id for c in shown.candidates])
