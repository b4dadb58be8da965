"""The hand-written question files and the converters of ``bench/quality`` against the real data.

Reads ``$FOREIGN_DESK_SHARED_DATA`` or ``../shared/data`` in place (the tests that need it are
skipped, with the reason, on a machine without it): these checks keep the answer strings true to
the corpus the engine indexes.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from datetime import date
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # ``bench`` is not an installed package
    sys.path.insert(0, str(ROOT))

from foreign_desk.index.config import ChunkingSettings  # noqa: E402
from foreign_desk.index.evaluate import load_questions, normalize  # noqa: E402

from bench.quality import common, facqa, mixed, panl, reach, squad_crossling, tydiqa  # noqa: E402
from bench.quality.common import SPLITS  # noqa: E402
from tests.shared_data import requires_shared_data  # noqa: E402

QUESTIONS = ROOT / "bench" / "quality" / "foreign_affairs.jsonl"
SAMPLE = ROOT / "bench" / "quality" / "sample.jsonl"
OFF_TOPIC = ROOT / "bench" / "quality" / "off_topic.jsonl"
KINDS = {"en-q/id-doc", "id-q/id-doc", "en-q/en-doc", "id-q/en-doc"}
TAGS = {"paraphrase", "nickname", "acronym", "date", "relative-date", "deep-fact"}
ARTICLE_KEYS = {"title", "text", "url", "source", "published", "language"}


@pytest.fixture(scope="session")
def corpus() -> dict[str, dict[str, Any]]:
    """Every article of the mixed corpus as the converter writes it, by URL."""
    return {row["url"]: row for rows in mixed.all_articles().values() for row in rows}


@pytest.fixture(scope="session")
def sample_text() -> str:
    return mixed.SAMPLE_PATH.read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def medium_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    outdir = tmp_path_factory.mktemp("medium")
    mixed.write_corpus(outdir, mixed.PROFILES["medium"], "medium")
    return outdir


def raw_lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]


# -- the hand-written files --------------------------------------------------------------------


@pytest.mark.parametrize("path", [QUESTIONS, SAMPLE, OFF_TOPIC], ids=lambda p: p.name)
def test_every_question_has_a_recorded_split(path: Path) -> None:
    rows = raw_lines(path)
    assert all(row.get("split") in SPLITS for row in rows), "run python -m bench.quality.split"
    tune = sum(row["split"] == "tune" for row in rows) / len(rows)
    assert 0.3 <= tune <= 0.5, tune
    assert len({row["question"] for row in rows}) == len(rows), "duplicate questions"


def test_own_questions_are_many_and_varied() -> None:
    questions = load_questions(QUESTIONS) + load_questions(SAMPLE)
    assert len(questions) >= 150
    kinds = Counter(q.kind for q in questions)
    assert set(kinds) == KINDS, kinds
    assert kinds["en-q/id-doc"] >= len(questions) // 2, "English about Indonesian articles is the heart"
    assert kinds["id-q/en-doc"] >= 15 and kinds["en-q/en-doc"] >= 15
    tags = Counter(t for q in questions for t in q.meta["tags"])
    assert set(tags) <= TAGS and all(tags[t] >= 5 for t in TAGS), tags
    for q in questions:
        assert 1 <= len(q.answers) <= 3, q.question
        assert all(len(a) <= 100 for a in q.answers), f"answers must be short: {q.question}"


def test_relative_dates_carry_the_day_they_are_asked() -> None:
    for row in raw_lines(QUESTIONS) + raw_lines(SAMPLE):
        if "relative-date" in row["tags"]:
            assert date.fromisoformat(row["now"]), row["question"]
        else:
            assert "now" not in row, row["question"]


def test_sample_questions_cover_every_section(sample_text: str) -> None:
    """The hidden set asks about every part of the sample article; so do we."""
    sections = [sample_text.index(f"\n{n}. ") for n in range(1, 5)]
    covered = set()
    for row in raw_lines(SAMPLE):
        assert not row.get("gold_urls"), "the sample article has no URL: answers alone identify it"
        for answer in row["answers"]:
            assert answer in sample_text, (row["question"], answer)
            covered.add(sum(sample_text.index(answer) > start for start in sections))
    assert covered == {0, 1, 2, 3, 4}
    assert len(raw_lines(SAMPLE)) >= 25


@requires_shared_data
def test_every_answer_is_verbatim_in_its_gold_articles(corpus) -> None:
    for row in raw_lines(QUESTIONS):
        assert row["gold_urls"], row["question"]
        for url in row["gold_urls"]:
            assert url in corpus, f"no article with URL {url}"
            assert any(a in corpus[url]["text"] for a in row["answers"]), (row["question"], url)
        assert all(any(a in corpus[u]["text"] for u in row["gold_urls"]) for a in row["answers"])


@requires_shared_data
def test_every_article_of_the_large_corpus_holding_an_answer_is_gold() -> None:
    """An answer string found elsewhere is either listed as gold there too or made more specific."""
    rows = [
        r for group in mixed.select(mixed.PROFILES["large"], mixed.required_urls()).values() for r in group
    ]
    texts = {row["url"]: normalize(row["text"]) for row in rows}
    clashes = []
    for row in raw_lines(QUESTIONS):
        for answer in row["answers"]:
            needle = normalize(answer)
            others = [url for url, text in texts.items() if needle in text and url not in row["gold_urls"]]
            if others:
                clashes.append((row["question"], answer, others[:3]))
    assert not clashes


@requires_shared_data
def test_every_question_is_answerable_by_one_passage(corpus, tmp_path: Path) -> None:
    """No answer is dropped by the cleaner or cut in two by the chunker: a miss is the ranking's."""
    gold = {url for row in raw_lines(QUESTIONS) for url in row["gold_urls"]}
    common.write_jsonl(tmp_path / "gold.jsonl", [corpus[url] for url in sorted(gold)])
    (tmp_path / mixed.SAMPLE_NAME).write_text(mixed.SAMPLE_PATH.read_text("utf-8"), "utf-8")
    chunking = ChunkingSettings()
    assert not reach.unreachable(load_questions(QUESTIONS), [tmp_path / "gold.jsonl"], chunking)
    assert not reach.unreachable(load_questions(SAMPLE), [tmp_path / mixed.SAMPLE_NAME], chunking)


@requires_shared_data
def test_medium_and_large_corpora_hold_the_question_articles(medium_dir: Path) -> None:
    urls = {url for row in raw_lines(QUESTIONS) for url in row["gold_urls"]}
    assert urls == mixed.required_urls()
    assert urls <= mixed.corpus_urls(mixed.PROFILES["large"])
    written = {
        row["url"]
        for name in ("indosum.jsonl", "bbc.jsonl", "detik.jsonl")
        for row in raw_lines(medium_dir / name)
    }
    in_medium = [row for row in raw_lines(QUESTIONS) if set(row["gold_urls"]) & written]
    assert 40 <= len(in_medium) <= len(raw_lines(QUESTIONS)) * 0.6
    assert len({row["kind"] for row in in_medium}) == len(KINDS)


@requires_shared_data
def test_medium_corpus_is_small_and_deterministic(medium_dir: Path) -> None:
    manifest = json.loads((medium_dir / "manifest.json").read_text("utf-8"))
    assert 80 <= manifest["articles"] <= 130 and manifest["approx_passages"] <= 450, "the CI gate indexes it"
    again = mixed.select(mixed.PROFILES["medium"], mixed.required_urls())
    assert [r["url"] for rows in again.values() for r in rows] == [
        r["url"]
        for name in ("indosum.jsonl", "bbc.jsonl", "detik.jsonl")
        for r in raw_lines(medium_dir / name)
    ]


@requires_shared_data
def test_large_corpus_is_shaped_like_the_hidden_one() -> None:
    groups = {
        g: len(rows) for g, rows in mixed.select(mixed.PROFILES["large"], mixed.required_urls()).items()
    }
    assert 1300 <= sum(groups.values()) <= 1500, groups
    assert groups["indosum-intl"] == 147 and groups["bbc"] == 671 and groups["detik"] >= 300


@requires_shared_data
def test_mixed_corpus_lines_have_the_article_format(medium_dir: Path) -> None:
    for name, language in (("indosum.jsonl", "id"), ("bbc.jsonl", "en"), ("detik.jsonl", "id")):
        for row in raw_lines(medium_dir / name):
            assert set(row) == ARTICLE_KEYS
            assert row["title"] and row["text"] and row["url"] and row["source"]
            assert row["language"] == language
            assert row["published"] is None or row["published"][:2] == "20"
            assert "\n\n" in row["text"] or len(row["text"]) < 600, f"one-paragraph article {row['url']}"
            assert "SCROLL TO CONTINUE WITH CONTENT" not in row["text"]


# -- off_topic.jsonl ---------------------------------------------------------------------------


def test_off_topic_questions() -> None:
    questions = load_questions(OFF_TOPIC)
    assert len(questions) >= 40
    assert all(q.kind == "off-topic" and not q.answers and not q.gold_titles for q in questions)
    tags = Counter(tuple(q.meta["tags"]) for q in questions)
    assert set(tags) == {("far",), ("near-miss",)} and tags[("near-miss",)] >= 15, tags
    indonesian = [
        q
        for q in questions
        if any(w in q.question.lower().split() for w in ("apa", "bagaimana", "berapa", "siapa"))
    ]
    assert 5 <= len(indonesian) <= len(questions) - 5, "both English and Indonesian questions"


# -- converter pieces --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("glued", "paragraphs"),
    [
        (
            "since the start of the century.The decision ends it.",
            ["since the start of the century.", "The decision ends it."],
        ),
        (
            'for both letters and parcels".Postal services',
            ['for both letters and parcels".', "Postal services"],
        ),
        ('He said: "We go home."She said no.', ['He said: "We go home."', "She said no."]),
        ("He was at.\u201cI think\u201d he said.", ["He was at.", "\u201cI think\u201d he said."]),
        ('It is over.The end? "Maybe."Then more.', ["It is over.", 'The end? "Maybe."', "Then more."]),
        ('nothing?"As he left', ["nothing?", '"As he left']),
        ("told Danish broadcaster DR.Denmark ranks", ["told Danish broadcaster DR.", "Denmark ranks"]),
        ("the U.S. and U.S.A. stay whole. Spaces too.", ["the U.S. and U.S.A. stay whole. Spaces too."]),
        ("worth $1.20.Prices rose (LNG).This", ["worth $1.20.", "Prices rose (LNG).", "This"]),
    ],
)
def test_split_glued_paragraphs(glued: str, paragraphs: list[str]) -> None:
    assert mixed.split_glued_paragraphs(glued) == paragraphs


def test_split_for_depends_on_the_key_alone() -> None:
    keys = [f"q{i}" for i in range(2000)]
    parts = [common.split_for(k, "s") for k in keys]
    assert 0.37 <= parts.count("tune") / len(parts) <= 0.43
    assert [common.split_for(k, "s") for k in reversed(keys)] == parts[::-1]


def test_assign_splits_keeps_recorded_ones_and_balances_each_stratum() -> None:
    rows = [{"question": f"q{i}", "kind": "a" if i < 20 else "b"} for i in range(30)]
    rows[0]["split"] = "test"
    assert common.assign_splits(rows, lambda r: r["kind"], "s") == 29
    assert rows[0]["split"] == "test"
    assert (
        sum(r["split"] == "tune" for r in rows[:20]) == 8
        and sum(r["split"] == "tune" for r in rows[20:]) == 4
    )
    before = [dict(r) for r in rows]
    rows.append({"question": "new", "kind": "b"})
    assert common.assign_splits(rows, lambda r: r["kind"], "s") == 1
    assert rows[:30] == before, "adding a question never moves another"


def test_stable_sample_ignores_order() -> None:
    items = [f"url-{i}" for i in range(50)]
    picked = common.stable_sample(items, 7, key=str, salt="s")
    assert len(picked) == 7
    assert set(common.stable_sample(list(reversed(items)), 7, key=str, salt="s")) == set(picked)
    assert common.stable_sample(items, None, key=str) == items


@requires_shared_data
def test_facqa_converter(tmp_path: Path) -> None:
    manifest = facqa.write(tmp_path, limit=40, distractors=10)
    questions = load_questions(tmp_path / "questions.jsonl")
    articles = raw_lines(tmp_path / "corpus.jsonl")
    assert manifest["questions"] == len(questions) == 40
    assert len({q.meta["passage_id"] for q in questions}) + 10 == len(articles)
    urls = Counter(a["url"] for a in articles)
    assert all(q.kind == "facqa-id" and urls[q.gold_urls[0]] == 1 for q in questions)
    # The stand-in headline is the passage's own opening, never a label shared by every passage.
    assert all(a["text"].startswith(a["title"].rstrip("…")) and set(a) == ARTICLE_KEYS for a in articles)
    texts = {a["url"]: a["text"] for a in articles}
    assert all(a in texts[q.gold_urls[0]] for q in questions for a in q.answers)
    assert all(
        q.meta["split"] in SPLITS and q.meta["data_split"] in ("train", "valid", "test") for q in questions
    )


def test_facqa_copies_of_a_passage_answer_each_others_questions() -> None:
    texts = [normalize(t) for t in ("Rp 4,2 juta untuk Anwar.", "Rp 4, 2 juta untuk Anwar", "Rp 5 juta.")]
    twins = facqa.twins_of(["p1", "p2", "p3"], texts)
    assert twins == {"p1": ["p2"], "p2": ["p1"], "p3": []}
    # "Anwar" is in the copy too, and still names the passage; "juta" is in an unrelated one;
    # "4,2 juta" is not in the copy as written, which would then never count as found.
    assert common.specific_answers(["Anwar", "juta", "4,2 juta"], 0, texts, {1}) == ["Anwar"]
    assert common.specific_answers(["Anwar", "4,2 juta"], 0, texts) == ["4,2 juta"]


@requires_shared_data
def test_tydiqa_converter(tmp_path: Path) -> None:
    tydiqa.write(tmp_path, limit=30)
    questions = load_questions(tmp_path / "questions.jsonl")
    articles = raw_lines(tmp_path / "corpus.jsonl")
    assert Counter(q.kind for q in questions) == {"tydiqa-id": 30, "tydiqa-en": 30}
    assert len(articles) == 943  # every distinct gold passage of both languages
    titles = Counter(a["title"] for a in articles)
    assert all(titles[t] == 1 for q in questions for t in q.gold_titles)
    assert all(q.answers or q.gold_titles for q in questions)
    assert {q.meta["split"] for q in questions} == set(SPLITS)


@requires_shared_data
def test_panl_converter(tmp_path: Path) -> None:
    panl.write(tmp_path, limit=25)
    for direction, language in (("en2id", "id"), ("id2en", "en")):
        articles = raw_lines(tmp_path / direction / "corpus.jsonl")
        questions = load_questions(tmp_path / direction / "questions.jsonl")
        assert len(articles) == 6642 and {a["language"] for a in articles} == {language}
        assert len(questions) == 25 and {q.kind for q in questions} == {f"panl-{direction}"}
        urls = {a["url"] for a in articles}
        assert len(urls) == len(articles) and all(q.gold_urls[0] in urls for q in questions)
        assert all(q.meta["split"] in SPLITS for q in questions)


@requires_shared_data
def test_squad_crossling_converter(tmp_path: Path) -> None:
    squad_crossling.write(tmp_path)
    questions = load_questions(tmp_path / "questions.jsonl")
    articles = raw_lines(tmp_path / "corpus.jsonl")
    assert len(articles) == 1202 and len(questions) == 632
    urls = Counter(a["url"] for a in articles)
    assert max(urls.values()) == 1
    assert all(len(q.gold_urls) == 1 and urls[q.gold_urls[0]] == 1 for q in questions)
    assert "Amazon rainforest" in {a["title"] for a in articles}  # the Wikipedia title, as a headline
    assert all(q.kind == "squad-crossling" and q.meta["held_out"] and not q.answers for q in questions)
    assert {q.meta["split"] for q in questions} == {"test"}, "held out: nothing to tune on"
