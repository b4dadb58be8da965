"""The evaluation runner's pieces that need no model: splits, labels, intervals, baseline paragraphs."""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path
from types import SimpleNamespace

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # ``bench`` is not an installed package
    sys.path.insert(0, str(ROOT))

from foreign_desk.index.evaluate import parse_questions  # noqa: E402
from foreign_desk.index.text import word_count  # noqa: E402

from bench.quality import baseline, metrics, report, run  # noqa: E402


def question(line: str):
    (q,) = parse_questions([line])
    return q


def test_only_the_asked_part_is_asked() -> None:
    tune = question('{"question": "q", "split": "tune"}')
    assert run.in_part(tune, "tune") and not run.in_part(tune, "test") and run.in_part(tune, "all")


def test_labels_until_the_engine_gives_them() -> None:
    assert run.match_of(SimpleNamespace(nothing_relevant=True)) == "none"
    assert run.match_of(SimpleNamespace(nothing_relevant=False)) == "strong"
    assert run.match_of(SimpleNamespace(nothing_relevant=False, match="weak")) == "weak"


def test_now_is_passed_only_to_an_ask_that_takes_it() -> None:
    dated = question('{"question": "last week?", "now": "2025-02-14"}')

    class Old:
        async def ask(self, question: str, *, k: int | None = None): ...

    class New:
        async def ask(self, question: str, *, k: int | None = None, now: date | None = None): ...

    assert run.ask_options(Old(), dated) == {}
    assert run.ask_options(New(), dated) == {"now": date(2025, 2, 14)}
    assert run.ask_options(New(), question('{"question": "q"}')) == {}


def test_interval_brackets_the_mean_and_is_repeatable() -> None:
    values = [1.0] * 30 + [0.0] * 70
    lo, hi = metrics.interval(values)
    assert lo < 0.3 < hi and hi - lo < 0.25
    assert metrics.interval(values) == (lo, hi)
    assert metrics.interval([1.0] * 10) == (1.0, 1.0)


def test_summary_counts_what_the_user_is_shown() -> None:
    outcomes = [
        {"kind": "en-q/id-doc", "tags": ["date"], "rank": 1, "match": "strong", "baseline_rank": 3},
        {"kind": "en-q/id-doc", "tags": [], "rank": 4, "match": "weak", "baseline_rank": None},
        {"kind": "en-q/en-doc", "tags": [], "rank": None, "match": "none", "baseline_rank": 1},
        {"kind": "off-topic", "tags": ["near-miss"], "rank": None, "match": "strong"},
        {"kind": "off-topic", "tags": ["far"], "rank": None, "match": "none"},
    ]
    summary = metrics.summarize(outcomes)
    answerable = summary["answerable"]
    assert answerable["n"] == 3
    assert answerable["r1"]["value"] == 0.3333
    assert answerable["r5"]["value"] == 0.6667  # the weak answer holding the answer counts
    assert answerable["answered_none"] == 0.3333
    assert answerable["baseline"]["r1"]["value"] == 0.3333 and answerable["baseline"]["r5"]["value"] == 0.6667
    assert summary["off_topic"]["match"] == {"strong": 0.5, "weak": 0.0, "none": 0.5}
    assert summary["by_kind"]["en-q/id-doc"]["r5"] == 1.0 and summary["by_tag"]["date"]["n"] == 1
    assert summary["off_topic_by_tag"]["near-miss"]["match"]["strong"] == 1.0


def test_baseline_paragraphs_are_about_sixty_words() -> None:
    long = " ".join(f"Sentence number {i} says five words." for i in range(40))  # 240 words
    short = ["One short line.", "Another short line here.", "A third."]
    pieces = baseline.paragraphs_of([long, *short])
    assert all(word_count(p) <= baseline.TARGET_WORDS for p in pieces)
    assert " ".join(pieces).split() == " ".join([long, *short]).split(), "nothing lost, order kept"
    assert len(pieces) == 5  # 240 words in four pieces, the three short lines packed into one


def test_baseline_scores_with_the_same_rule_as_the_product(tmp_path: Path) -> None:
    class Embedder:
        dim = 2
        fingerprint = "fake"
        calls = 0

        def _embed(self, texts):
            Embedder.calls += len(texts)
            return np.array([[1.0, 0.0] if "Jakarta" in t else [0.0, 1.0] for t in texts], np.float32)

        embed_queries = embed_passages = _embed

    (tmp_path / "corpus").mkdir()
    (tmp_path / "corpus" / "a.jsonl").write_text(
        '{"title": "A", "url": "https://a.example", "text": "Nothing here.\\n\\nJakarta hosts it."}\n'
        '{"title": "B", "url": "https://b.example", "text": "Jakarta hosts it too."}\n'
    )
    questions = [
        question('{"question": "Jakarta?", "answers": ["hosts it"], "gold_urls": ["https://b.example"]}'),
        question('{"question": "Jakarta?", "answers": ["hosts it"], "gold_urls": ["https://c.example"]}'),
    ]
    cache = baseline.VectorCache(tmp_path / "vectors.sqlite3", Embedder())  # type: ignore[arg-type]
    ranks = baseline.ranks(tmp_path / "corpus", questions, cache, k=10)
    assert ranks[0] in (1, 2) and ranks[1] is None
    embedded = Embedder.calls
    assert baseline.ranks(tmp_path / "corpus", questions, cache, k=10) == ranks
    assert Embedder.calls == embedded, "a rerun embeds nothing"
    cache.close()


def test_compare_names_each_question_that_moved_across_rank_five() -> None:
    def results(ranks: list[int | None]) -> dict:
        outcomes = [
            {"set": "s", "question": f"q{i}", "kind": "en-q/id-doc", "rank": r, "match": "strong"}
            for i, r in enumerate(ranks)
        ]
        summary = {"s": metrics.summarize(outcomes)}
        return {"part": "tune", "commit": "abc", "sets": summary, "outcomes": outcomes}

    text = report.compare(results([1, 7, None, 2]), results([1, 3, None, 6]))
    assert "s: r1 0.25 -> 0.25, r5 0.50 -> 0.50" in text
    assert "+ s: q1 (rank 7 -> 3)" in text and "- s: q3 (rank 2 -> 6)" in text
    assert "q0" not in text and "q2" not in text


def test_each_shown_result_records_its_level_and_whether_it_holds_the_answer() -> None:
    """What the "Less closely related:" divider is measured by (answers under it must be rare)."""
    import asyncio

    from foreign_desk.index.models import Answer, ArticleRef, Result

    ref = ArticleRef("a", "Headline", None, None, None, "en", None)
    found = [
        Result(r, 1.0, 1.0, t, t, (1,), None, ref, "", r, match=m)
        for r, t, m in ((1, "Jeddah.", "strong"), (2, "Paris.", "none"))
    ]

    class Engine:
        async def ask(self, question: str, *, k: int | None = None) -> Answer:
            return Answer(question, tuple(found), 1.0)

    asked = question('{"question": "where?", "answers": ["Jeddah"]}')
    (outcome,) = asyncio.run(run.ask_all(Engine(), [asked]))
    assert outcome["levels"] == [["strong", True], ["none", False]]
