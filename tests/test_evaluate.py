"""Question files, matching, recall@k and MRR in ``index.evaluate``, with hand-built results."""

from __future__ import annotations

import json
import os
from collections.abc import Sequence

import pytest
from foreign_desk.index.errors import ForeignDeskError
from foreign_desk.index.evaluate import (
    MAX_FILE_BYTES,
    Question,
    QuestionFileError,
    evaluate,
    found_rank,
    load_questions,
    normalize,
    parse_questions,
    summarize,
)
from foreign_desk.index.models import ArticleRef, Result
from hypothesis import given
from hypothesis import strategies as st


def result(text: str, title: str = "Some headline", rank: int = 1) -> Result:
    article = ArticleRef(
        id="0123456789abcdef",
        title=title,
        source="Test Wire",
        url=None,
        published=None,
        language="en",
        path="corpus/a.jsonl",
    )
    return Result(
        rank=rank,
        score=0.5,
        similarity=0.5,
        text=text,
        highlight=text,
        paragraphs=(1,),
        section=None,
        article=article,
        citation="[1]",
        passage_id=rank,
    )


def results(*items: str | tuple[str, str]) -> list[Result]:
    out = []
    for i, item in enumerate(items, start=1):
        text, title = (item, "Some headline") if isinstance(item, str) else item
        out.append(result(text, title, rank=i))
    return out


def q(
    question: str = "q?", answers: Sequence[str] = (), titles: Sequence[str] = (), kind: str = "x"
) -> Question:
    return Question(question=question, answers=tuple(answers), gold_titles=tuple(titles), kind=kind)


# -- normalisation and matching ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Jens  Stoltenberg", "jens stoltenberg"),
        ("  a\n\tb \u00a0c  ", "a b c"),
        ("\u201cIndo-Pasifik\u201d", '"indo-pasifik"'),
        ("Putin\u2019s war", "putin's war"),
        ("\uff2e\uff21\uff34\uff2f", "nato"),  # fullwidth letters (NFKC)
        ("STRASSE", "strasse"),
        ("Stra\u00dfe", "strasse"),  # casefold, not lower
        ("caf\u0065\u0301", "caf\u00e9"),  # combining accent composed
        ("\ufb01nance", "finance"),  # ligature
        ("\u200b29\u00bd days\ufeff", "291\u20442 days"),  # invisible characters dropped, NFKC fraction
        ("Indo\u00adnesia", "indonesia"),  # soft hyphen
    ],
)
def test_normalize(raw: str, expected: str) -> None:
    assert normalize(raw) == expected


@pytest.mark.parametrize(
    ("question", "found", "expected"),
    [
        # answer in the first, second, third result
        (q(answers=["Iruma Air Base"]), results("visited Iruma Air Base today", "x", "y"), 1),
        (q(answers=["Iruma Air Base"]), results("x", "he went to IRUMA air\n base", "y"), 2),
        (q(answers=["Kishida"]), results("x", "y", "PM Fumio Kishida"), 3),
        # first of several answers wins, any answer counts
        (q(answers=["Tokyo", "Kishida"]), results("x", "Kishida met", "Tokyo"), 2),
        # curly quotes in the text, straight in the answer and the other way round
        (
            q(answers=['"Indo-Pasifik yang Bebas"']),
            results("x", "visi \u201cIndo-Pasifik yang Bebas\u201d"),
            2,
        ),
        (q(answers=["Putin\u2019s"]), results("Putin's war"), 1),
        # NFKC: a non-breaking space and a fullwidth letter
        (q(answers=["Laut China Selatan"]), results("di Laut\u00a0China \uff33elatan"), 1),
        # not found at all
        (q(answers=["Pyongyang"]), results("x", "y", "z"), None),
        (q(answers=["Pyongyang"]), [], None),
        # a gold title: exact match after normalisation, not a substring
        (
            q(titles=["Normans \u00b6squadid-Normans-000"]),
            results("x", ("y", "normans  \u00b6squadid-Normans-000")),
            2,
        ),
        (q(titles=["Normans"]), results(("x", "Normans and Vikings")), None),
        # an answer or a title, whichever comes first
        (
            q(answers=["Rollo"], titles=["Normans"]),
            results(("Rollo led them", "Vikings"), ("x", "Normans")),
            1,
        ),
        (q(answers=["Rollo"], titles=["Normans"]), results(("x", "Vikings"), ("y", "NORMANS")), 2),
        # nothing to look for: never found
        (q(), results("anything"), None),
    ],
)
def test_found_rank(question: Question, found: list[Result], expected: int | None) -> None:
    assert found_rank(question, found) == expected


def test_found_rank_uses_position_not_result_rank() -> None:
    paged = [result("x", rank=6), result("the answer", rank=7)]
    assert found_rank(q(answers=["answer"]), paged) == 2


# -- question files ----------------------------------------------------------------------------


def test_load_questions(tmp_path) -> None:
    path = tmp_path / "q.jsonl"
    lines = [
        {
            "question": " Who visited Japan? ",
            "answers": ["Stoltenberg"],
            "kind": "en-q/id-doc",
            "article_url": "u",
        },
        {"question": "Where?", "gold_titles": ["T"]},
        {"question": "Nothing known"},
    ]
    path.write_text(
        "\n".join(json.dumps(x) for x in lines[:2]) + "\n\n" + json.dumps(lines[2]) + "\n", "utf-8"
    )
    got = load_questions(path)
    assert [x.question for x in got] == ["Who visited Japan?", "Where?", "Nothing known"]
    assert got[0].answers == ("Stoltenberg",)
    assert got[0].kind == "en-q/id-doc"
    assert got[0].meta == {"article_url": "u"}
    assert got[1].gold_titles == ("T",)
    assert got[1].kind == "default"
    assert [x.line for x in got] == [1, 2, 4]


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("{not json", "not valid JSON"),
        ("[1, 2]", "expected a JSON object"),
        ('{"answers": ["a"]}', "'question' must be a non-empty string"),
        ('{"question": "  "}', "'question' must be a non-empty string"),
        ('{"question": 3}', "'question' must be a non-empty string"),
        ('{"question": "q", "answers": "a"}', "'answers' must be a list"),
        ('{"question": "q", "answers": ["a", ""]}', "'answers' must hold non-empty strings"),
        ('{"question": "q", "gold_titles": [1]}', "'gold_titles' must hold non-empty strings"),
        ('{"question": "q", "kind": 7}', "'kind' must be a non-empty string"),
        ("[" * 100_000, "JSON nested too deeply"),
        ('{"question": "q", "n": ' + "9" * 5_000 + "}", "a number in the JSON is too long"),
    ],
    ids=lambda value: value[:40],
)
def test_malformed_line_names_the_line(tmp_path, line: str, message: str) -> None:
    path = tmp_path / "q.jsonl"
    path.write_text('{"question": "fine"}\n\n' + line + "\n", "utf-8")
    with pytest.raises(QuestionFileError) as info:
        load_questions(path)
    assert f"{path}, line 3: " in str(info.value)
    assert message in str(info.value)
    assert isinstance(info.value, ForeignDeskError)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "not found"),
        (b"", "no questions"),
        (b"\n \n", "no questions"),
        (b'{"question": "\xff"}', "not UTF-8"),
    ],
)
def test_unreadable_files(tmp_path, content: bytes | None, message: str) -> None:
    path = tmp_path / "q.jsonl"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(QuestionFileError, match=message):
        load_questions(path)


def test_a_file_over_the_ceiling_is_refused(tmp_path) -> None:
    path = tmp_path / "q.jsonl"
    path.write_text('{"question": "a"}\n', "utf-8")
    os.truncate(path, MAX_FILE_BYTES + 1)  # sparse: no disk used
    with pytest.raises(QuestionFileError, match="too large for a question file"):
        load_questions(path)


def test_parse_questions_from_lines() -> None:
    assert parse_questions(['{"question": "a"}', "", '{"question": "b"}'])[1].line == 3


@pytest.mark.parametrize("separator", ["\u2028", "\u2029", "\x85"])
def test_a_line_separator_inside_a_string_is_no_line_end(tmp_path, separator: str) -> None:
    """``feedback export --json -o`` writes such characters as they are (and so does any
    ``ensure_ascii=False`` writer): ``eval`` said "line 1: not valid JSON (Unterminated string)"."""
    rows = [{"question": "q", "answers": [f"one{separator}two"]}, {"question": "r", "answers": ["x"]}]
    path = tmp_path / "q.jsonl"
    path.write_text("\r\n".join(json.dumps(r, ensure_ascii=False) for r in rows), encoding="utf-8")
    got = load_questions(path)
    assert [(q.question, q.answers, q.line) for q in got] == [
        ("q", (f"one{separator}two",), 1),
        ("r", ("x",), 2),
    ]


def test_load_questions_accepts_a_byte_order_mark(tmp_path) -> None:
    path = tmp_path / "q.jsonl"
    path.write_bytes(b'\xef\xbb\xbf{"question": "a"}\n')
    assert load_questions(path)[0].question == "a"


# -- summaries ---------------------------------------------------------------------------------


def test_summarize_shape_and_values() -> None:
    a, b, c, d = q("a", kind="k1"), q("b", kind="k1"), q("c", kind="k2"), q("d", kind="k2")
    summary = summarize([(a, 1), (b, 3), (c, None), (d, 7)])
    assert set(summary) == {"n", "recall", "mrr", "by_kind", "misses"}
    assert summary["n"] == 4
    assert summary["recall"] == {"1": 0.25, "3": 0.5, "5": 0.5, "10": 0.75}
    assert summary["mrr"] == pytest.approx((1 + 1 / 3 + 1 / 7) / 4)
    assert summary["by_kind"] == {
        "k1": {"n": 2, "recall": {"1": 0.5, "3": 1.0, "5": 1.0, "10": 1.0}, "mrr": pytest.approx(2 / 3)},
        "k2": {"n": 2, "recall": {"1": 0.0, "3": 0.0, "5": 0.0, "10": 0.5}, "mrr": pytest.approx(1 / 14)},
    }
    # every question not at rank 1, in input order; None when not found at all
    assert summary["misses"] == [
        {"question": "b", "rank": 3},
        {"question": "c", "rank": None},
        {"question": "d", "rank": 7},
    ]
    json.dumps(summary)  # plain JSON


def test_summarize_empty() -> None:
    assert summarize([]) == {
        "n": 0,
        "recall": {"1": 0.0, "3": 0.0, "5": 0.0, "10": 0.0},
        "mrr": 0.0,
        "by_kind": {},
        "misses": [],
    }


def test_summarize_custom_ks() -> None:
    assert summarize([(q(), 2)], ks=(2, 1))["recall"] == {"1": 0.0, "2": 1.0}


@pytest.mark.parametrize("bad", [0, -1, 1.5, True, "1"])
def test_summarize_rejects_bad_ranks(bad: object) -> None:
    with pytest.raises(ValueError):
        summarize([(q(), bad)])  # type: ignore[list-item]


ranks_strategy = st.lists(st.one_of(st.none(), st.integers(min_value=1, max_value=30)), max_size=40)


@given(ranks=ranks_strategy, ks=st.lists(st.integers(min_value=1, max_value=40), min_size=1, max_size=6))
def test_recall_is_monotonic_in_k(ranks: list[int | None], ks: list[int]) -> None:
    summary = summarize([(q(str(i), kind=f"k{i % 3}"), r) for i, r in enumerate(ranks)], ks=ks)
    for block in [summary, *summary["by_kind"].values()]:
        values = [block["recall"][str(k)] for k in sorted(set(ks))]
        assert values == sorted(values)
        assert all(0.0 <= v <= 1.0 for v in values)
        assert 0.0 <= block["mrr"] <= 1.0
        assert block["mrr"] >= block["recall"][str(min(ks))] / min(ks) - 1e-12
    assert summary["n"] == len(ranks) == sum(b["n"] for b in summary["by_kind"].values())
    assert len(summary["misses"]) == sum(1 for r in ranks if r != 1)


@given(prefix=st.integers(min_value=0, max_value=8))
def test_non_matching_results_push_the_rank_down(prefix: int) -> None:
    found = results(*(["nothing here"] * prefix), "the Kremlin said")
    assert found_rank(q(answers=["kremlin"]), found) == prefix + 1


# -- evaluate ----------------------------------------------------------------------------------


async def test_evaluate_asks_sequentially_and_cuts_at_k() -> None:
    questions = [q("one", answers=["alpha"]), q("two", answers=["beta"]), q("three", answers=["gamma"])]
    corpus = {
        "one": results("alpha"),
        "two": results("x", "y", "beta"),  # rank 3: beyond k=2
        "three": results("x", "gamma"),
    }
    asked: list[str] = []
    running = 0

    async def ask(text: str) -> list[Result]:
        nonlocal running
        running += 1
        assert running == 1, "questions must be asked one at a time"
        asked.append(text)
        running -= 1
        return corpus[text]

    summary = await evaluate(questions, ask, k=2)
    assert asked == ["one", "two", "three"]
    assert summary["n"] == 3
    assert summary["recall"]["1"] == pytest.approx(1 / 3)
    assert summary["recall"]["3"] == pytest.approx(2 / 3)
    assert summary["mrr"] == pytest.approx((1 + 0.5) / 3)
    assert summary["misses"] == [{"question": "two", "rank": None}, {"question": "three", "rank": 2}]


async def test_evaluate_rejects_k_below_one() -> None:
    async def ask(text: str) -> list[Result]:
        return []

    with pytest.raises(ValueError):
        await evaluate([q()], ask, k=0)


def test_gold_urls_find_the_exact_article() -> None:
    """Extension: a set whose titles repeat names its gold article by URL."""
    from types import SimpleNamespace

    def result(url: str | None) -> SimpleNamespace:
        return SimpleNamespace(text="same words", article=SimpleNamespace(title="Same title", url=url))

    (q,) = parse_questions(['{"question": "q", "gold_urls": ["https://x.example/2"]}'])
    assert q.gold_urls == ("https://x.example/2",)
    assert found_rank(q, [result("https://x.example/1"), result(None), result("https://x.example/2")]) == 3
    assert found_rank(q, [result("https://x.example/1")]) is None


def test_answers_with_gold_urls_must_meet_in_one_result() -> None:
    """A name the question asks for may occur in an article that does not answer it."""
    from types import SimpleNamespace

    def result(text: str, url: str) -> SimpleNamespace:
        return SimpleNamespace(text=text, article=SimpleNamespace(title="T", url=url))

    (q,) = parse_questions(
        ['{"question": "q", "answers": ["Kabarebe"], "gold_urls": ["https://x.example/2"]}']
    )
    shown = [
        result("Kabarebe visited", "https://x.example/1"),  # the name, in the wrong article
        result("other words", "https://x.example/2"),  # the right article, not the passage
        result("sanctions on Kabarebe", "https://x.example/2"),
    ]
    assert found_rank(q, shown) == 3
    assert found_rank(q, shown[:2]) is None
