"""Each search stage on its own (retrieve → fuse → judge → page → cite): hand-made rows and
vectors, or a store indexed by the fake embedder. No model: these pin each stage's contract,
not ranking quality (``test_search`` and the quality gate do that with the real model)."""

from __future__ import annotations

import dataclasses
import json
import math
import sqlite3
import threading
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from foreign_desk.index.asked_dates import Period
from foreign_desk.index.background import ANY_LANGUAGE, MIN_BACKGROUND, Background, noise_level
from foreign_desk.index.config import IndexSettings, SearchSettings
from foreign_desk.index.engine import Engine
from foreign_desk.index.highlight import passage_sentences
from foreign_desk.index.models import ArticleRef, Filters
from foreign_desk.index.search import SearchRequest
from foreign_desk.index.search import snapshot as snapshot_module
from foreign_desk.index.search.cite import cite
from foreign_desk.index.search.fuse import fuse
from foreign_desk.index.search.judge import Judge, widened
from foreign_desk.index.search.page import Page, page
from foreign_desk.index.search.request import Laps
from foreign_desk.index.search.retrieve import Retrieved
from foreign_desk.index.sqlite import IN_SIZES, in_statements
from foreign_desk.index.store import StoredPassage, exact
from foreign_desk.index.store import db as db_module
from foreign_desk.index.store.reads import Kept, Reader

SETTINGS = SearchSettings()
NONE = Background({})  # no background at all
Q = np.array([1.0, 0.0, 0.0, 0.0], dtype=np.float32)


def at(cosine: float) -> np.ndarray:
    """A unit vector whose cosine to ``Q`` is ``cosine``."""
    return np.array([cosine, math.sqrt(max(0.0, 1 - cosine**2)), 0.0, 0.0], dtype=np.float32)


def row(
    pid: int, article: str, text: str, cosine: float | None, language: str = "en", day: str = "2024-05-02"
) -> StoredPassage:
    ref = ArticleRef(article, f"Headline {article}", "Wire", f"https://news.example/{article}", day,
                     language, None)  # fmt: skip
    vector = None if cosine is None else at(cosine)
    return StoredPassage(pid, pid, 0, None, (pid,), text, ref, f"key{pid}", vector)


def found(
    dense: list[int],
    keyword: list[int] = (),  # type: ignore[assignment]
    terms: tuple[str, ...] = (),
    names: frozenset[str] = frozenset(),
    weights: dict[str, float] | None = None,
) -> Retrieved:
    return Retrieved(terms, names, Q, list(dense), list(keyword), weights or {t: 1.0 for t in terms})


def background(mean: float = 0.5, spread: float = 0.1, language: str = ANY_LANGUAGE) -> Background:
    """A background whose similarity to ``Q`` has this mean and spread (half above, half below)."""
    half = MIN_BACKGROUND // 2
    rows = [at(mean + spread)] * half + [at(mean - spread)] * half
    return Background.of({ANY_LANGUAGE: np.stack(rows), language: np.stack(rows)}, {})


def test_a_request_takes_what_the_caller_left_out_from_the_settings() -> None:
    settings = SearchSettings(k=7, per_article=3)
    request = SearchRequest.of("who met?", settings, offset=7)
    assert (request.k, request.per_article, request.offset, request.stop) == (7, 3, 7, 14)
    assert SearchRequest.of("who met?", settings, k=2, per_article=0).per_article == 0
    assert request.period is None
    dated = SearchRequest.of("who met last week?", settings, now=date(2017, 7, 20))
    assert dated.period == Period(date(2017, 7, 10), date(2017, 7, 16))


def test_fuse_gives_every_passage_either_retriever_found_once() -> None:
    assert fuse(found([1, 2], [2, 3])) == [1, 2, 3]


def test_judge_orders_by_standard_deviations_above_each_languages_background() -> None:
    """An English question is closer to every English passage: the Indonesian answer with a
    lower cosine stands further out from its own language's background and comes first."""
    english, indonesian = np.stack([at(0.6), at(0.4)] * 16), np.stack([at(0.45), at(0.35)] * 16)
    en = Background.of({ANY_LANGUAGE: english, "en": english, "id": indonesian}, {})
    rows = {1: row(1, "a", "x", 0.80, "en"), 2: row(2, "b", "y", 0.70, "id")}
    verdict = Judge(SETTINGS, floor=0.9).judge([1, 2], rows, found([1, 2]), (en, NONE), passages=100)
    assert [c.id for c in verdict.candidates] == [2, 1]
    assert [round(c.score, 1) for c in verdict.candidates] == [6.0, 3.0]  # (0.70-0.40)/0.05, (0.80-0.50)/0.1


def test_judge_says_how_sure_against_the_noise_level_of_the_corpus() -> None:
    judge = Judge(SETTINGS, floor=0.99)
    level = noise_level(1000)  # 3.1: what the best of 1,000 unrelated passages scores
    bg = background(0.5, 0.1)
    for z, label in ((level + 2.5, "strong"), (level + 1.0, "weak"), (level, "none")):
        rows = {1: row(1, "a", "x", 0.5 + 0.1 * z)}
        verdict = judge.judge([1], rows, found([1]), (bg, NONE), passages=1000)
        assert verdict.match == label
        assert [c.id for c in verdict.candidates] == ([] if label == "none" else [1])
    # The same passage in a 10-passage corpus stands out: its luckiest unrelated passage is lower.
    rows = {1: row(1, "a", "x", 0.5 + 0.1 * (level + 1.0))}
    assert judge.judge([1], rows, found([1]), (bg, NONE), passages=10).match == "strong"


def test_each_candidate_is_labelled_by_the_rule_that_labels_the_answer() -> None:
    """A page marks where its passages below the noise level begin: each candidate's own level."""
    level = noise_level(1000)
    rows = {
        i: row(i, a, a, 0.5 + 0.1 * (level + z)) for i, a, z in ((1, "a", 2.5), (2, "b", 1.0), (3, "c", -1.0))
    }
    verdict = Judge(SETTINGS, floor=0.99).judge([1, 2, 3], rows, found([1, 2, 3]), (background(), NONE), 1000)
    assert verdict.match == "strong"
    assert [(c.id, c.match) for c in verdict.candidates] == [(1, "strong"), (2, "weak"), (3, "none")]
    # No background at all: the floor labels each passage as it labels the answer.
    rows = {1: row(1, "a", "x", 0.9), 2: row(2, "b", "y", 0.7)}
    floored = Judge(SETTINGS, floor=0.8).judge([1, 2], rows, found([1, 2]), (NONE, NONE), passages=2)
    assert [(c.id, c.match) for c in floored.candidates] == [(1, "strong"), (2, "none")]


def test_the_one_passage_holding_the_rare_names_reaches_the_top() -> None:
    """Keyword evidence: a rare name (idf 7.8: one passage in 5,000) outweighs being on topic."""
    bg = background(0.5, 0.1)
    rows = {1: row(1, "a", "Talks on trade and security went on for a week.", 0.90),
            2: row(2, "b", "Prabowo met Albanese in Canberra on Thursday.", 0.85)}  # fmt: skip
    names = frozenset({"albanese", "canberra"})
    weights = {"albanese": 7.8, "canberra": 7.8, "talks": 2.0}
    question = found([1, 2], [2], terms=("albanese", "canberra", "talks"), names=names, weights=weights)
    verdict = Judge(SETTINGS, floor=0.99).judge([1, 2], rows, question, (bg, NONE), passages=5000)
    assert [c.id for c in verdict.candidates] == [2, 1]
    # The same words in ordinary lower case count for half; the meaning score alone labels.
    plain = found([1, 2], [2], terms=("albanese", "canberra", "talks"), weights=weights)
    assert (
        Judge(SETTINGS, floor=0.99).judge([1, 2], rows, plain, (bg, NONE), passages=5000).match
        == verdict.match
    )


def test_the_headlines_names_count_for_every_passage_of_its_article() -> None:
    """The lead repeats the headline's names, the passage that answers does not: the names say
    which article, not which passage, so the one nearer the question in meaning comes first."""
    bg = background(0.5, 0.1)
    ref = ArticleRef("a", "Albanese hosts Prabowo in Canberra", "Wire", "https://news.example/a",
                     "2024-05-02", "en", None)  # fmt: skip
    lead = StoredPassage(1, 1, 0, None, (1,), "Prabowo met Albanese in Canberra on Thursday.", ref,
                         "key1", at(0.85))  # fmt: skip
    answer = StoredPassage(2, 1, 1, None, (2,), "The two leaders signed a defence pact.", ref, "key2",
                           at(0.88))  # fmt: skip
    weights = {"albanese": 7.8, "canberra": 7.8}
    question = found([1, 2], [1], terms=("albanese", "canberra"), names=frozenset(weights), weights=weights)
    verdict = Judge(SETTINGS, floor=0.99).judge([1, 2], {1: lead, 2: answer}, question, (bg, NONE), 5000)
    assert [c.id for c in verdict.candidates] == [2, 1]


def test_a_passage_whose_one_sentence_states_the_fact_beats_one_merely_on_the_topic() -> None:
    """Sentence evidence: the best sentence's z-score (against single sentences) counts half."""
    bg, sentence_bg = background(0.5, 0.1), background(0.4, 0.1)
    rows = {1: row(1, "a", "On topic throughout. Still on topic.", 0.80),
            2: row(2, "b", "Background first. The fact itself.", 0.78)}  # fmt: skip
    sentences = {"key1": np.stack([at(0.55), at(0.55)]), "key2": np.stack([at(0.3), at(0.85)])}
    judge = Judge(SETTINGS, floor=0.99)
    assert [c.id for c in judge.judge([1, 2], rows, found([1, 2]), (bg, NONE), 100).candidates] == [1, 2]
    verdict = judge.judge([1, 2], rows, found([1, 2]), (bg, sentence_bg), 100, sentences=sentences)
    assert [c.id for c in verdict.candidates] == [2, 1]
    assert [round(c.score, 2) for c in verdict.candidates] == [3.65, 2.25]  # (2.8+4.5)/2, (3.0+1.5)/2
    # Without sentence vectors a passage keeps its own score.
    alone = judge.judge([1], rows, found([1]), (bg, sentence_bg), 100, sentences={}).candidates[0]
    assert round(alone.score, 2) == 3.0


def test_an_article_published_in_the_period_asked_about_is_preferred() -> None:
    bg = background(0.5, 0.1)
    rows = {1: row(1, "a", "x", 0.80, day="2017-05-02")}
    rows[2] = row(2, "b", "y", 0.78, day="2017-03-14")
    judge = Judge(SETTINGS, floor=0.99)
    assert [c.id for c in judge.judge([1, 2], rows, found([1, 2]), (bg, NONE), passages=100).candidates] == [
        1,
        2,
    ]
    march = Period(date(2017, 3, 1), date(2017, 3, 31))
    assert [
        c.id for c in judge.judge([1, 2], rows, found([1, 2]), (bg, NONE), 100, period=march).candidates
    ] == [2, 1]


def test_without_any_background_the_absolute_floor_decides() -> None:
    judge = Judge(SETTINGS, floor=0.8)  # a tiny corpus and a model without a reference
    rows = {1: row(1, "a", "x", 0.9), 2: row(2, "b", "y", 0.78), 3: row(3, "c", "z", 0.5)}
    verdict = judge.judge([3, 1, 2], rows, found([1, 2, 3]), (NONE, NONE), passages=3)
    assert verdict.match == "strong" and [c.id for c in verdict.candidates] == [1, 2, 3]
    rows[1] = row(1, "a", "x", 0.79)
    assert judge.judge([1, 2, 3], rows, found([1, 2, 3]), (NONE, NONE), passages=3).match == "none"


def test_judge_skips_rows_it_cannot_measure() -> None:
    rows = {1: row(1, "a", "x", None), 2: row(2, "b", "y", 0.95)}  # 3 was removed meanwhile
    verdict = Judge(SETTINGS, floor=0.8).judge([1, 2, 3], rows, found([1, 2, 3]), (NONE, NONE), 3)
    assert [c.id for c in verdict.candidates] == [2]


def test_page_caps_each_article_while_others_come_close_and_says_whether_more_follow() -> None:
    rows = [row(i, "a" if i < 4 else "b", f"passage number {i} " * 3, 0.9 - i / 100) for i in range(1, 6)]
    judged = Judge(SETTINGS, floor=0.5).judge([r.id for r in rows], {r.id: r for r in rows}, found([]),
                                              (NONE, NONE), 5)  # fmt: skip
    first = page(judged.candidates, SearchRequest("q", k=2, per_article=2))
    assert [c.id for c in first.candidates] == [1, 2] and first.has_more
    second = page(judged.candidates, SearchRequest("q", k=2, per_article=2, offset=2))
    assert [c.id for c in second.candidates] == [4, 5] and second.has_more  # 3: a third of "a", last
    alone = page(judged.candidates, SearchRequest("q", k=5, per_article=2), close=0.87)  # "b" is not close
    assert [c.id for c in alone.candidates] == [1, 2, 3, 4, 5]


def test_cite_numbers_from_the_offset_and_highlights_the_closest_sentence() -> None:
    text = "The talks began on Monday. Both sides agreed on joint patrols. Nothing else was said."
    rows = {7: row(7, "a", text, 0.9)}
    judged = Judge(SETTINGS, floor=0.5).judge([7], rows, found([7]), (NONE, NONE), 1)
    sentences = np.stack([at(0.1), at(0.9), at(0.2)])
    (result,) = cite(Page(judged.candidates, False), rows, found([7]), {"key7": sentences}, offset=5)
    assert (result.rank, result.passage_id, result.similarity) == (6, 7, 0.9)
    assert result.highlight == "Both sides agreed on joint patrols."
    assert result.citation == "\u201cHeadline a\u201d, Wire, 2 May 2024, ¶7, https://news.example/a"


def test_a_passage_shown_again_is_not_split_into_sentences_again() -> None:
    """The results of related questions recur: a passage's sentences are kept for the next page,
    and the next question's closest sentence is highlighted from them."""
    text = "The talks began on Monday. 2. Both sides agreed on joint patrols. Nothing else was said."
    rows = {7: row(7, "a", text, 0.9)}
    judged = Judge(SETTINGS, floor=0.5).judge([7], rows, found([7]), (NONE, NONE), 1)
    passage_sentences.cache_clear()
    for best, expected in ((2, "Both sides agreed on joint patrols."), (0, "The talks began on Monday.")):
        sentences = np.stack([at(1.0 if i == 1 else 0.9 if i == best else 0.1) for i in range(4)])
        (result,) = cite(Page(judged.candidates, False), rows, found([7]), {"key7": sentences}, offset=0)
        assert result.highlight == expected  # "2." (no letter) is never the highlight
    assert passage_sentences.cache_info()[:2] == (1, 1)  # split once, then kept


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
    searcher = fake_engine.searcher
    with searcher.reads.reading() as read:
        got = searcher.retriever.retrieve(snapshot, request, laps, read)
    assert got.terms == ("joint", "patrols", "arafura")
    assert len(got.dense) == snapshot.passages  # fewer passages than dense_k: all of them
    assert len(got.keyword) == 1 and got.keyword[0] == got.dense[0]
    assert set(laps.ms) == {"embed", "dense", "bm25"}
    filtered = SearchRequest("joint patrols Arafura", k=3, filters=Filters(language="fr"))
    with searcher.reads.reading() as read:
        none = searcher.retriever.retrieve(snapshot, filtered, Laps(), read)
    assert (none.dense, none.keyword) == ([], [])


async def test_a_words_rarity_is_counted_again_for_each_generation(
    make_settings, fake_embedder, tmp_path: Path
) -> None:
    """Word counts are remembered per generation: once three more articles name "Arafura", the
    keyword search counts (and finds) four."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()

    async def counted(engine: Engine) -> tuple[dict[str, int], list[int]]:
        snapshot = await engine.snapshot()
        assert snapshot is not None
        with engine.searcher.reads.reading() as read:
            request = SearchRequest("Arafura patrols")
            found = engine.searcher.retriever.retrieve(snapshot, request, Laps(), read)
            return read.doc_freqs(["arafura", "darwin", "tokyo"], snapshot.generation), found.keyword

    more = [dict(ARTICLES[0], url=f"https://n.example/a{i}", title=f"Arafura {i}") for i in range(3)]
    async with await Engine.open(make_settings(), embedder=fake_embedder) as engine:
        (corpus / "news.jsonl").write_text("".join(json.dumps(a) + "\n" for a in ARTICLES), encoding="utf-8")
        await engine.index([corpus])
        before = await counted(engine)
        assert await counted(engine) == before  # asked again: remembered
        lines = [*ARTICLES, *more]
        (corpus / "news.jsonl").write_text("".join(json.dumps(a) + "\n" for a in lines), encoding="utf-8")
        await engine.index([corpus])
        after = await counted(engine)
    assert before[0] == {"arafura": 1, "darwin": 1} and len(before[1]) == 1  # "tokyo": none holds it
    assert after[0] == {"arafura": 4, "darwin": 4} and len(after[1]) == 4


def test_values_kept_are_bounded_and_made_once_per_version() -> None:
    asked: list[list[str]] = []

    def count(terms: list[str]) -> dict[str, int]:
        asked.append(terms)
        return {t: 0 if t == "absent" else len(t) for t in terms}

    kept: Kept[str, int] = Kept(limit=3)
    assert kept.get((1, "v"), ["nato", "absent", "nato"], count) == {"nato": 4, "absent": 0}
    assert kept.get((1, "v"), ["absent", "japan"], count) == {"absent": 0, "japan": 5}
    assert asked == [["nato", "absent"], ["japan"]]  # a word the corpus lacks is remembered too
    kept.get((1, "v"), ["summit"], count)
    assert len(kept.values) == 3 and "nato" not in kept.values  # the least recently asked went
    kept.get((2, "v"), ["japan"], count)
    assert asked[-1] == ["japan"] and list(kept.values) == ["japan"]  # a new generation: afresh
    kept.get((2, "w"), ["japan"], count)
    assert asked[-1] == ["japan"] and len(asked) == 5  # a grant or revoke: afresh


async def test_re_ranking_reads_through_the_searchs_own_connection(
    make_settings, fake_embedder, tmp_path: Path
) -> None:
    """A quantized index re-ranks from the stored float vectors in the search's own read
    transaction: the candidates' rows read next are then in that connection's page cache."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    lines = [
        dict(
            ARTICLES[i % 2],
            url=f"https://n.example/q{i}",
            title=f"Report {i}",
            text=f"{ARTICLES[i % 2]['text']} {i}",
        )
        for i in range(60)
    ]
    (corpus / "news.jsonl").write_text("".join(json.dumps(a) + "\n" for a in lines), encoding="utf-8")
    async with await Engine.open(
        make_settings(index=IndexSettings(approximate_threshold=40)), embedder=fake_embedder
    ) as engine:
        await engine.index([corpus])
        snapshot = await engine.snapshot()
        assert snapshot is not None and snapshot.vectors.quantized
        traced: list[str] = []
        with engine.searcher.reads.reading() as read:
            read.conn.set_trace_callback(traced.append)
            found = engine.searcher.retriever.retrieve(snapshot, SearchRequest("joint patrols"), Laps(), read)
            read.conn.set_trace_callback(None)
    assert found.dense and any(exact.SQL.split("{")[0] in sql for sql in traced)


def test_a_searchs_in_lists_come_in_few_texts_and_read_the_same_rows() -> None:
    """Padded, a statement stays prepared from one question to the next (a new text is prepared
    anew: ~0.4 ms for the candidates' query); repeated keys read each row once."""
    sql = "SELECT x FROM t WHERE x IN (:keys) AND x >= :low"
    texts = {
        text for n in range(1, 2_000) for text, _ in in_statements(sql, range(n), {"low": 0}, padded=True)
    }
    assert len(texts) == len(IN_SIZES)
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE TABLE t (x INTEGER PRIMARY KEY)")
    conn.executemany("INSERT INTO t VALUES (?)", [(x,) for x in range(0, 3_000, 3)])
    for n in (1, 3, 50, 97, 901, 1_999):
        keys = [*range(n), 2]
        plain = [r for text, bound in in_statements(sql, keys, {"low": 1}) for r in conn.execute(text, bound)]
        padded = [
            r
            for text, bound in in_statements(sql, keys, {"low": 1}, padded=True)
            for r in conn.execute(text, bound)
        ]
        assert padded == plain and len(plain) == len(set(plain))


async def test_language_selections_and_old_vector_files_are_made_and_removed_off_the_loop(
    make_settings, fake_embedder, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """At 100k passages the per-language selections cost ~6 ms of CPU, grouping the passage ids
    by language ~11 ms, and unlinking the old (150 MB) vector file ~9 ms of CPU and ~35 ms in
    all: on the loop, every command waited."""
    made_on: list[threading.Thread] = []
    unlinked_on: list[threading.Thread] = []
    select = snapshot_module.selection
    monkeypatch.setattr(
        snapshot_module, "selection", lambda ids: made_on.append(threading.current_thread()) or select(ids)
    )
    unlink = Path.unlink

    def recorded(path: Path, missing_ok: bool = False) -> None:
        if path.suffix == ".faiss":
            unlinked_on.append(threading.current_thread())
        unlink(path, missing_ok=missing_ok)

    monkeypatch.setattr(Path, "unlink", recorded)
    grouped_on: list[threading.Thread] = []
    group = db_module.ids_per_language
    monkeypatch.setattr(
        db_module,
        "ids_per_language",
        lambda rows: grouped_on.append(threading.current_thread()) or group(rows),
    )
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    more = dict(ARTICLES[0], url="https://n.example/3", title="Patrols again")
    async with await Engine.open(make_settings(), embedder=fake_embedder) as engine:
        for n, articles in enumerate([ARTICLES[:2], [more], [dict(more, url="https://n.example/4")]]):
            write = "".join(json.dumps(a) + "\n" for a in articles)
            (corpus / f"{n}.jsonl").write_text(write, encoding="utf-8")
            await engine.index([corpus])  # three generations: the first one's file goes
        kept = sorted(p.name for p in (tmp_path / "data" / "vectors").glob("*.faiss"))
        assert kept == ["gen-000002.faiss", "gen-000003.faiss"]
    assert made_on and unlinked_on and grouped_on
    assert threading.main_thread() not in made_on + unlinked_on + grouped_on


async def test_every_language_gets_its_own_dense_candidates(
    make_settings, fake_embedder, tmp_path: Path
) -> None:
    """Raw similarity favours the question's language: the dense search runs per language, so an
    Indonesian passage competes even when every English passage is closer to an English question."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    english = [dict(ARTICLES[0], url=f"https://n.example/en{i}", title=f"Patrols {i}") for i in range(4)]
    lines = [*english, ARTICLES[1]]
    (corpus / "news.jsonl").write_text("".join(json.dumps(a) + "\n" for a in lines), encoding="utf-8")
    settings = make_settings()
    settings = dataclasses.replace(settings, search=dataclasses.replace(settings.search, dense_k=2))
    async with await Engine.open(settings, embedder=fake_embedder) as engine:
        await engine.index([corpus])
        snapshot = await engine.snapshot()
        assert snapshot is not None and set(snapshot.by_language) == {"en", "id"}
        request = SearchRequest("joint patrols", k=1)
        with engine.searcher.reads.reading() as read:
            got = engine.searcher.retriever.retrieve(snapshot, request, Laps(), read)
        rows = await engine.store.passages(got.dense)
    assert sorted(r.article.language or "" for r in rows.values()) == ["en", "en", "id"]


async def test_the_stages_together_answer_through_the_engine(fake_engine: Engine) -> None:
    answer = await fake_engine.ask("joint naval patrols in the Arafura Sea")
    assert answer.results[0].article.title == "Ministers agree on patrols"
    assert set(answer.timings) == {"embed", "dense", "bm25", "fetch", "highlight"}
    assert (await fake_engine.ask("quantum chromodynamics lattice")).nothing_relevant


async def test_keyword_ranking_is_that_of_every_match_the_reader_may_see(
    make_settings, fake_embedder, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """BM25 ranks first and checks generation and scope for the best ``k`` only, the next ``k``
    when some of those are hidden; when old versions outscore what is live, it still returns the
    ranking of every visible match."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()

    def write(strong: str) -> None:
        lines = [
            dict(ARTICLES[0], url=f"https://n.example/p{i}", title=f"Item {i}",
                 text=f"{strong * (12 - i)} Naval patrols in the Arafura Sea, report {i}.")
            for i in range(12)
        ]  # fmt: skip
        (corpus / "news.jsonl").write_text("".join(json.dumps(a) + "\n" for a in lines), encoding="utf-8")

    oracle = (
        "SELECT f.rowid, bm25(passages_fts, 0.5, 1.0) AS s FROM passages_fts f JOIN passages p "
        "ON p.id = f.rowid WHERE passages_fts MATCH :match AND p.gen_added <= :gen AND "
        "(p.gen_removed IS NULL OR p.gen_removed > :gen) ORDER BY s LIMIT :k"
    )
    async with await Engine.open(make_settings(), embedder=fake_embedder) as engine:
        write("Patrols patrols patrols. ")
        await engine.index([corpus])
        snapshot = await engine.snapshot()
        assert snapshot is not None
        asked: list[list[int]] = []
        visible = Reader._visible

        def noted(self: Reader, ids: list[int], *rest: Any) -> set[int]:
            asked.append(list(ids))
            return visible(self, ids, *rest)

        monkeypatch.setattr(Reader, "_visible", noted)
        with engine.searcher.reads.reading() as read:
            best = read.bm25('"patrols"', 3, snapshot.generation, Filters())
        assert asked == [[pid for pid, _ in best]]  # all live: the next three are never read
        asked.clear()
        write("Ships. ")  # the new versions mention patrols once: the old ones score higher
        await engine.index([corpus])
        snapshot = await engine.snapshot()
        assert snapshot is not None
        with engine.searcher.reads.reading() as read:
            for k in (1, 3, 5, 12):
                got = read.bm25('"patrols"', k, snapshot.generation, Filters())
                rows = read.conn.execute(oracle, {"match": '"patrols"', "gen": snapshot.generation, "k": k})
                assert got == [(int(pid), -float(s)) for pid, s in rows]
                assert len(got) == k
    assert [len(ids) for ids in asked[:2]] == [1, 1]  # k=1: the old version, then the next one


def test_widened_float16_rows_are_astype_of_every_bit_pattern() -> None:
    """Zeros, subnormals, infinities and NaNs included; float32 rows pass through."""
    rows = np.arange(1 << 16, dtype=np.uint32).astype(np.uint16).view(np.float16).reshape(-1, 256)
    assert widened(rows).dtype == np.float32
    np.testing.assert_array_equal(widened(rows), rows.astype(np.float32))
    single = np.ones((2, 3), dtype=np.float32)
    assert widened(single) is single


async def test_invisible_characters_pasted_into_a_question_change_nothing(fake_engine: Engine) -> None:
    """A zero-width space or soft hyphen copied from a web page along with a name splits it in
    two unless the question is normalised as the articles were."""
    plain = await fake_engine.ask("joint patrols in the Arafura Sea")
    pasted = await fake_engine.ask("joint patrols in the Ara\u200bfura Sea\u00ad")
    assert [(r.passage_id, r.score) for r in pasted.results] == [
        (r.passage_id, r.score) for r in plain.results
    ]
    assert pasted.match == plain.match


def test_a_list_items_number_is_never_the_sentence_in_bold() -> None:
    """ "1. A protest was filed." splits into "1." and the item: the number's vector lies close to
    any question, but bolding "1." shows the reader nothing."""
    text = "Manila wants the ships to leave.\n\n1. A protest was filed.\n\n2. Patrols were doubled."
    rows = {7: row(7, "a", text, 0.9)}
    judged = Judge(SETTINGS, floor=0.5).judge([7], rows, found([7]), (NONE, NONE), 1)
    sentences = np.stack([at(0.2), at(0.95), at(0.6), at(0.9), at(0.3)])  # "1." is the closest
    (result,) = cite(Page(judged.candidates, False), rows, found([7]), {"key7": sentences}, offset=0)
    assert result.highlight == "A protest was filed."
    without = cite(Page(judged.candidates, False), rows, found([7], terms=("1", "protest")), {}, offset=0)
    assert without[0].highlight == "A protest was filed."
