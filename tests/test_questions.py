"""The hand-written question files and the converters of ``bench/quality`` against the real data.

Reads ``$FOREIGN_DESK_SHARED_DATA`` or ``../shared/data`` in place (the tests that need it are
skipped, with the reason, on a machine without it): these checks keep the answer strings true to
the corpus the engine indexes.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # ``bench`` is not an installed package
    sys.path.insert(0, str(ROOT))

from foreign_desk.index.evaluate import load_questions, normalize  # noqa: E402

from bench.quality import common, facqa, mixed, panl, squad_crossling, tydiqa  # noqa: E402
from tests.shared_data import requires_shared_data  # noqa: E402

QUESTIONS = ROOT / "bench" / "quality" / "foreign_affairs.jsonl"
OFF_TOPIC = ROOT / "bench" / "quality" / "off_topic.jsonl"
KINDS = {"en-q/id-doc", "id-q/id-doc", "en-q/en-doc", "id-q/en-doc"}
ARTICLE_KEYS = {"title", "text", "url", "source", "published", "language"}


@pytest.fixture(scope="session")
def corpus() -> dict[str, dict[str, Any]]:
    """Every article of the mixed corpus as the converter writes it, by URL."""
    return {row["url"]: row for rows in mixed.all_articles().values() for row in rows}


@pytest.fixture(scope="session")
def sample_text() -> str:
    return mixed.SAMPLE_PATH.read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def gate_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    outdir = tmp_path_factory.mktemp("gate")
    mixed.write_corpus(outdir, mixed.PROFILES["gate"], "gate")
    return outdir


def raw_lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]


def article_text(row: dict[str, Any], corpus: dict[str, dict[str, Any]], sample_text: str) -> str:
    if row.get("article_path"):
        assert row["article_path"] == f"corpus/{mixed.SAMPLE_NAME}"
        return sample_text
    assert row["article_url"] in corpus, f"no article with URL {row['article_url']}"
    return corpus[row["article_url"]]["text"]


# -- foreign_affairs.jsonl ---------------------------------------------------------------------


def test_foreign_affairs_parses_and_is_balanced() -> None:
    questions = load_questions(QUESTIONS)
    rows = raw_lines(QUESTIONS)
    assert len(questions) == len(rows) >= 40
    kinds = Counter(q.kind for q in questions)
    assert set(kinds) == KINDS, kinds
    assert kinds["en-q/id-doc"] >= len(questions) // 3, "cross-lingual questions must be a good share"
    assert len({q.question for q in questions}) == len(questions), "duplicate questions"
    sample = [r for r in rows if r.get("article_path")]
    assert len(sample) >= 3, "the sample article needs questions"
    for q, row in zip(questions, rows, strict=True):
        assert 1 <= len(q.answers) <= 3, q.question
        assert all(len(a) <= 80 for a in q.answers), f"answers must be short: {q.question}"
        assert bool(row.get("article_url")) != bool(row.get("article_path")), q.question


@requires_shared_data
def test_every_answer_is_verbatim_in_its_article(corpus, sample_text) -> None:
    missing = [
        (row["question"], answer)
        for row in raw_lines(QUESTIONS)
        for answer in row["answers"]
        if answer not in article_text(row, corpus, sample_text)
    ]
    assert not missing


@requires_shared_data
def test_every_answer_is_in_no_other_article(corpus, sample_text) -> None:
    """Each question is answered by exactly one article: its answers match nowhere else."""
    texts = {url: normalize(row["text"]) for url, row in corpus.items()}
    texts[mixed.SAMPLE_NAME] = normalize(sample_text)
    clashes = []
    for row in raw_lines(QUESTIONS):
        own = row.get("article_url") or mixed.SAMPLE_NAME
        for answer in row["answers"]:
            needle = normalize(answer)
            others = [key for key, text in texts.items() if key != own and needle in text]
            if others:
                clashes.append((row["question"], answer, others[:3]))
    assert not clashes


@requires_shared_data
def test_question_articles_are_in_gate_and_full_subsets(gate_dir: Path, sample_text: str) -> None:
    urls = {row["article_url"] for row in raw_lines(QUESTIONS) if row.get("article_url")}
    assert urls == mixed.required_urls()
    written = {
        row["url"]: row["text"]
        for name in ("indosum.jsonl", "bbc.jsonl", "detik.jsonl")
        for row in raw_lines(gate_dir / name)
    }
    assert urls <= set(written)
    assert (gate_dir / mixed.SAMPLE_NAME).read_text("utf-8") == sample_text
    for row in raw_lines(QUESTIONS):
        text = written[row["article_url"]] if row.get("article_url") else sample_text
        assert all(answer in text for answer in row["answers"]), row["question"]
    full = mixed.select(mixed.PROFILES["full"], mixed.required_urls())
    assert urls <= {row["url"] for rows in full.values() for row in rows}


@requires_shared_data
def test_gate_subset_is_small_and_deterministic(gate_dir: Path) -> None:
    manifest = json.loads((gate_dir / "manifest.json").read_text("utf-8"))
    assert manifest["approx_embed_seconds_at_8_5_per_s"] < 90 / 2, "gate must embed well under 90 s"
    again = mixed.select(mixed.PROFILES["gate"], mixed.required_urls())
    assert [r["url"] for rows in again.values() for r in rows] == [
        r["url"] for name in ("indosum.jsonl", "bbc.jsonl", "detik.jsonl") for r in raw_lines(gate_dir / name)
    ]


@requires_shared_data
def test_mixed_corpus_lines_have_the_article_format(gate_dir: Path) -> None:
    for name, language in (("indosum.jsonl", "id"), ("bbc.jsonl", "en"), ("detik.jsonl", "id")):
        for row in raw_lines(gate_dir / name):
            assert set(row) == ARTICLE_KEYS
            assert row["title"] and row["text"] and row["url"] and row["source"]
            assert row["language"] == language
            assert row["published"] is None or row["published"][:2] == "20"
            assert "\n\n" in row["text"] or len(row["text"]) < 600, f"one-paragraph article {row['url']}"
            assert "SCROLL TO CONTINUE WITH CONTENT" not in row["text"]


# -- off_topic.jsonl ---------------------------------------------------------------------------


def test_off_topic_questions() -> None:
    questions = load_questions(OFF_TOPIC)
    assert len(questions) >= 20
    assert all(q.kind == "off-topic" and not q.answers and not q.gold_titles for q in questions)
    assert len({q.question for q in questions}) == len(questions)
    indonesian = [
        q for q in questions if any(w in q.question.lower().split() for w in ("apa", "bagaimana", "berapa"))
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
