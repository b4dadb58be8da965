"""Each search stage on its own (retrieve → fuse → judge → page → cite): hand-made rows and
vectors, or a store indexed by the fake embedder. No model: these pin each stage's contract,
not ranking quality (``test_search`` and the quality gate do that with the real model)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from foreign_desk.index.config import SearchSettings
from foreign_desk.index.engine import Engine
from foreign_desk.index.models import ArticleRef, Filters
from foreign_desk.index.relevance import ANY_LANGUAGE, MIN_BACKGROUND
from foreign_desk.index.search import SearchRequest
from foreign_desk.index.search.cite import cite
from foreign_desk.index.search.fuse import fuse
from foreign_desk.index.search.judge import Judge
from foreign_desk.index.search.page import Page, page
from foreign_desk.index.search.request import Laps
from foreign_desk.index.search.retrieve import Retrieved
from foreign_desk.index.store import StoredPassage

SETTINGS = SearchSettings()
Q = np.array([1.0, 0.0, 0.0, 0.0], dtype=np.float32)


def at(cosine: float) -> np.ndarray:
    """A unit vector whose cosine to ``Q`` is ``cosine``."""
    return np.array([cosine, math.sqrt(max(0.0, 1 - cosine**2)), 0.0, 0.0], dtype=np.float32)


def row(pid: int, article: str, text: str, cosine: float | None, language: str = "en") -> StoredPassage:
    ref = ArticleRef(article, f"Headline {article}", "Wire", f"https://news.example/{article}", "2024-05-02",
                     language, None)  # fmt: skip
    vector = None if cosine is None else at(cosine)
    return StoredPassage(pid, pid, 0, None, (pid,), text, ref, f"key{pid}", vector)


def found(dense: list[int], keyword: list[int] = (), terms: tuple[str, ...] = ()) -> Retrieved:  # type: ignore[assignment]
    return Retrieved(terms, Q, list(dense), list(keyword), {t: 1.0 for t in terms})


def test_a_request_takes_what_the_caller_left_out_from_the_settings() -> None:
    settings = SearchSettings(k=7, per_article=3)
    request = SearchRequest.of("who met?", settings, offset=7)
    assert (request.k, request.per_article, request.offset, request.stop) == (7, 3, 7, 14)
    assert SearchRequest.of("who met?", settings, k=2, per_article=0).per_article == 0


def test_fuse_scores_every_passage_either_ranking_found() -> None:
    fused = fuse(found([1, 2], [2, 3]), SETTINGS)
    assert set(fused) == {1, 2, 3} and fused[2] > fused[1] > fused[3]
    dense_only = fuse(found([1, 2], [2, 3]), SearchSettings(bm25_weight=0.0))
    assert dense_only[3] == 0.0


def test_judge_keeps_the_passages_near_the_best_answer_when_the_best_clears_the_floor() -> None:
    judge = Judge(SETTINGS, floor=0.8)  # no background in a tiny corpus: the floor decides
    rows = {1: row(1, "a", "x", 0.9), 2: row(2, "b", "y", 0.78), 3: row(3, "c", "z", 0.5)}
    verdict = judge.judge(fuse(found([1, 2, 3]), SETTINGS), rows, found([1, 2, 3]), {})
    assert verdict.answered and [c.id for c in verdict.candidates] == [1, 2]  # 0.78: within the slack
    rows[1] = row(1, "a", "x", 0.79)
    nothing = judge.judge(fuse(found([1, 2, 3]), SETTINGS), rows, found([1, 2, 3]), {})
    assert not nothing.answered and nothing.candidates == []


def test_judge_skips_rows_it_cannot_measure() -> None:
    rows = {1: row(1, "a", "x", None), 2: row(2, "b", "y", 0.95)}  # 3 was removed meanwhile
    verdict = Judge(SETTINGS, floor=0.8).judge(fuse(found([1, 2, 3]), SETTINGS), rows, found([1, 2, 3]), {})
    assert [c.id for c in verdict.candidates] == [2]


def test_judge_measures_against_the_background_and_relieves_top_keyword_hits() -> None:
    background = {ANY_LANGUAGE: np.tile(at(0.5), (MIN_BACKGROUND, 1))}  # bar: 0.5 + margin 0.08
    judge = Judge(SETTINGS, floor=0.99)
    text = "Prabowo met Albanese in Canberra"
    rows = {1: row(1, "a", text, 0.56)}
    plain = judge.judge({1: 1.0}, rows, found([1], terms=("prabowo", "albanese")), background)
    assert not plain.answered
    named = judge.judge({1: 1.0}, rows, found([1], [1], terms=("prabowo", "albanese")), background)
    assert named.answered  # both rare names verbatim in a top keyword hit: margin 0.05


def test_judge_orders_by_similarity_and_breaks_near_ties_by_fusion() -> None:
    rows = {1: row(1, "a", "x", 0.90), 2: row(2, "b", "y", 0.90), 3: row(3, "c", "z", 0.95)}
    verdict = Judge(SETTINGS, floor=0.8).judge({1: 0.01, 2: 0.03, 3: 0.0}, rows, found([]), {})
    assert [c.id for c in verdict.candidates] == [3, 2, 1]


def test_page_caps_each_article_and_says_whether_more_follow() -> None:
    rows = [row(i, "a" if i < 4 else "b", f"passage number {i} " * 3, 0.9) for i in range(1, 6)]
    judged = Judge(SETTINGS, floor=0.5).judge({r.id: 1.0 / r.id for r in rows}, {r.id: r for r in rows},
                                              found([]), {})  # fmt: skip
    first = page(judged.candidates, SearchRequest("q", k=2, per_article=2))
    assert [c.id for c in first.candidates] == [1, 2] and first.has_more
    last = page(judged.candidates, SearchRequest("q", k=2, per_article=2, offset=2))
    assert [c.id for c in last.candidates] == [4, 5] and not last.has_more  # 3: a third of "a"


def test_cite_numbers_from_the_offset_and_highlights_the_closest_sentence() -> None:
    text = "The talks began on Monday. Both sides agreed on joint patrols. Nothing else was said."
    rows = {7: row(7, "a", text, 0.9)}
    judged = Judge(SETTINGS, floor=0.5).judge({7: 1.0}, rows, found([7]), {})
    sentences = np.stack([at(0.1), at(0.9), at(0.2)])
    (result,) = cite(Page(judged.candidates, False), rows, found([7]), {"key7": sentences}, offset=5)
    assert (result.rank, result.passage_id, result.similarity) == (6, 7, 0.9)
    assert result.highlight == "Both sides agreed on joint patrols."
    assert result.citation == "\u201cHeadline a\u201d, Wire, 2 May 2024, ¶7, https://news.example/a"


ARTICLES = [
    {"title": "Ministers agree on patrols", "text": "Indonesia and Australia agreed on joint naval "
     "patrols in the Arafura Sea, the ministers said in Darwin.", "url": "https://n.example/1",
     "source": "Wire", "published": "2024-03-05", "language": "en"},
    {"title": "Harga beras naik", "text": "Harga beras di pasar Jakarta naik lagi pekan ini menurut "
     "para pedagang di Cipinang.", "url": "https://n.example/2", "source": "Berita",
     "published": "2024-03-06", "language": "id"},
]  # fmt: skip


@pytest.fixture
async def fake_engine(make_settings, fake_embedder, tmp_path: Path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "news.jsonl").write_text("".join(json.dumps(a) + "\n" for a in ARTICLES), encoding="utf-8")
    async with await Engine.open(make_settings(), embedder=fake_embedder) as engine:
        await engine.index([corpus])
        yield engine


async def test_retrieve_runs_both_retrievers_as_deep_as_the_page_needs(fake_engine: Engine) -> None:
    snapshot = await fake_engine.snapshot()
    assert snapshot is not None
    laps = Laps()
    request = SearchRequest("joint patrols Arafura", k=3)
    got = await fake_engine.searcher.retriever.retrieve(snapshot, request, laps)
    assert got.terms == ("joint", "patrols", "arafura")
    assert len(got.dense) == snapshot.passages  # fewer passages than dense_k: all of them
    assert len(got.keyword) == 1 and got.keyword[0] == got.dense[0]
    assert set(laps.ms) == {"embed", "dense", "bm25"}
    filtered = SearchRequest("joint patrols Arafura", k=3, filters=Filters(language="fr"))
    none = await fake_engine.searcher.retriever.retrieve(snapshot, filtered, Laps())
    assert (none.dense, none.keyword) == ([], [])


async def test_the_stages_together_answer_through_the_engine(fake_engine: Engine) -> None:
    answer = await fake_engine.ask("joint naval patrols in the Arafura Sea")
    assert answer.results[0].article.title == "Ministers agree on patrols"
    assert set(answer.timings) == {"embed", "dense", "bm25", "fetch", "highlight"}
    assert (await fake_engine.ask("quantum chromodynamics lattice")).nothing_relevant
