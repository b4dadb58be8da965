"""JSON Lines corpora: good rows, bad rows with their line numbers, and broken files."""

from __future__ import annotations

import json
import tracemalloc
from pathlib import Path

import pytest
from foreign_desk.index.article import Article
from foreign_desk.index.readers.common import MAX_NAME_CHARS, MAX_TITLE_CHARS
from foreign_desk.index.readers.jsonl import MAX_LINE_BYTES, MAX_PROBLEMS_LISTED, NOT_JSON_LINES


def test_good_and_bad_lines(fixtures: Path, read_all) -> None:
    path = fixtures / "wires.jsonl"
    articles, problems = read_all(path)
    assert [a.title for a in articles] == [
        "Menlu Retno bahas Gaza dengan Menlu Yordania",
        "EU agrees new sanctions package against Russia",
        "PM Jepang kunjungi Jakarta",
    ]
    # line 2 is blank and ignored; 4 is cut off; 5 has no title
    assert [a.locator for a in articles] == ["line 1", "line 3", "line 6"]
    assert [(p.line, p.reason.split(":")[0]) for p in problems] == [
        (4, "broken JSON"),
        (5, "missing 'title'"),
    ]
    assert all(a.path == str(path.resolve()) for a in articles + problems)


def test_metadata_is_normalised(fixtures: Path, read_all) -> None:
    cnn, ap, antara = read_all(fixtures / "wires.jsonl")[0]
    assert cnn.source == "CNN Indonesia"  # "cnn indonesia" in the file
    assert cnn.published == "2023-11-06T07:30:00Z"
    assert cnn.language == "id"
    assert cnn.url == "https://www.cnnindonesia.com/internasional/20231106-menlu-retno-gaza"
    assert ap.source == "AP"  # from the dateline "BRUSSELS (AP) —"
    assert ap.published == "2024-02-23T16:05:00Z"  # RFC 822
    assert (ap.language, ap.author) == ("en", "Lorne Cook")
    assert antara.source == "Antara"
    assert antara.published == "2024-01-10"  # "Rabu (10/1/2024)" in the text


def test_single_newlines_in_text_separate_paragraphs(fixtures: Path, read_all) -> None:
    cnn = read_all(fixtures / "wires.jsonl")[0][0]
    assert cnn.paragraphs[:3] == [
        "Jakarta, CNN Indonesia -- Menteri Luar Negeri Retno Marsudi bertemu Menteri Luar Negeri "
        "Yordania Ayman Safadi di Amman, Senin (6/11/2023), untuk membahas situasi kemanusiaan di Gaza.",
        "SCROLL TO CONTINUE WITH CONTENT",
        "Kedua menteri sepakat mendorong gencatan senjata segera dan membuka akses bantuan kemanusiaan.",
    ]


def row(**fields: object) -> str:
    return json.dumps(fields, ensure_ascii=False)


GOOD = row(title="Judul", text="Isi berita yang cukup untuk dibaca.")


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("{not json", "broken JSON"),
        ('["a", "list"]', "expected a JSON object"),
        (row(title="Tanpa isi"), "missing 'text'"),
        (row(title="Isi kosong", text="   "), "missing 'text'"),
        (row(title="", text="Isi tanpa judul."), "missing 'title'"),
        (row(title=5, text="Judul bukan teks."), "'title' must be a string, not int"),
    ],
)
def test_bad_line_is_reported_and_reading_continues(tmp_path: Path, line: str, reason: str, read_all) -> None:
    path = tmp_path / "corpus.jsonl"
    path.write_text(f"{GOOD}\n{line}\n{GOOD}\n", encoding="utf-8")
    articles, problems = read_all(path)
    assert [a.locator for a in articles] == ["line 1", "line 3"]
    assert [p.line for p in problems] == [2]
    assert reason in problems[0].reason


def test_bad_encoding_on_one_line(tmp_path: Path, read_all) -> None:
    path = tmp_path / "corpus.jsonl"
    path.write_bytes(GOOD.encode() + b"\n" + '{"title": "Caf\xe9", "text": "x"}'.encode("latin-1") + b"\n")
    articles, problems = read_all(path)
    assert len(articles) == 1
    assert problems[0].line == 2
    assert "not UTF-8" in problems[0].reason


def test_overlong_line_is_skipped_without_holding_it(tmp_path: Path, read_all) -> None:
    path = tmp_path / "dump.jsonl"
    with path.open("wb") as handle:
        handle.write(GOOD.encode() + b"\n")
        handle.truncate(3 * MAX_LINE_BYTES)  # line 2: NUL bytes up to here, sparse on disk
        handle.seek(0, 2)
        handle.write(b"\n" + GOOD.encode() + b"\n")
    tracemalloc.start()
    try:
        articles, problems = read_all(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 2.5 * MAX_LINE_BYTES  # readline's buffer and its copy: twice the limit, not the line
    assert [a.locator for a in articles] == ["line 1", "line 3"]
    line_two = 3 * MAX_LINE_BYTES - len(GOOD)  # the NULs after line 1 and its newline
    assert [(p.line, p.reason) for p in problems] == [
        (2, f"line is {line_two:,} bytes, too large for one article")
    ]


def test_bad_lines_past_the_first_ones_are_counted_not_listed(tmp_path: Path, read_all) -> None:
    path = tmp_path / "server.log.jsonl"
    bad = MAX_PROBLEMS_LISTED + 5
    path.write_text(GOOD + "\n" + "INFO started\n" * bad + GOOD + "\n", encoding="utf-8")
    articles, problems = read_all(path)
    assert [a.locator for a in articles] == ["line 1", f"line {bad + 2}"]
    assert [p.line for p in problems[:-1]] == list(range(2, MAX_PROBLEMS_LISTED + 2))
    assert (problems[-1].line, problems[-1].reason) == (None, "… and 5 more bad lines (not listed)")


def test_overlong_title_source_and_author_are_cut_and_an_overlong_url_dropped(
    tmp_path: Path, read_all
) -> None:
    path = tmp_path / "odd.jsonl"
    fields = {"title": "NATO " + "Jepang " * 1_000, "source": "S" * 500, "author": "Penulis " * 100}
    path.write_text(row(**fields, text="Isi berita.", url="https://example.org/" + "x" * 3_000) + "\n")
    [article], problems = read_all(path)
    assert problems == []
    assert MAX_TITLE_CHARS - 8 < len(article.title) <= MAX_TITLE_CHARS and article.title.endswith(" Jepang…")
    assert article.source == "S" * (MAX_NAME_CHARS - 1) + "…"  # one word: cut mid-word
    assert article.author is not None and len(article.author) <= MAX_NAME_CHARS
    assert article.url is None and article.locator == "line 1"  # still cited by file and line


@pytest.mark.parametrize(
    ("content", "reason"),
    [(b"", "empty"), (b"\n\n  \n", "empty"), (b"\x00\x01\x02binary\x00\n\x00", "binary")],
    ids=["empty", "blank-lines", "binary"],
)
def test_unreadable_jsonl_file(tmp_path: Path, content: bytes, reason: str, read_all) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_bytes(content)
    articles, problems = read_all(path)
    assert articles == []
    assert len(problems) == 1
    assert reason in problems[0].reason


def test_bom_and_crlf_are_accepted(tmp_path: Path, read_all) -> None:
    path = tmp_path / "windows.jsonl"
    path.write_bytes(b"\xef\xbb\xbf" + GOOD.encode() + b"\r\n" + GOOD.encode() + b"\r\n")
    articles, problems = read_all(path)
    assert problems == []
    assert all(
        isinstance(a, Article) and a.paragraphs == ["Isi berita yang cukup untuk dibaca."] for a in articles
    )


def test_unparseable_published_falls_back_to_text(tmp_path: Path, read_all) -> None:
    path = tmp_path / "c.jsonl"
    path.write_text(
        row(title="Judul", text="Presiden berpidato di Jakarta, Kamis (17/8/2023).", published="kemarin sore")
        + "\n",
        encoding="utf-8",
    )
    [article], _ = read_all(path)
    assert article.published == "2023-08-17"


@pytest.mark.parametrize(
    ("text", "day"),
    [
        # background: the battle the medal is for, then the ceremony's weekday without a date
        (
            "Private Richard Norden ran into enemy fire on 14 May 1968 to reach a wounded comrade.\n\n"
            "The Governor-General presented the medal to his family on Tuesday, 56 years on.",
            None,
        ),
        ("The 1998 crisis began on 14 August 1997.\n\nTalks resumed on 3 March 2025.", None),
        (
            "Menlu bertemu mitranya di Amman, Senin (6/11/2023).\n\nPerjanjian diteken 14 Mei 1968.",
            "2023-11-06",
        ),
    ],
    ids=["battle-of-1968", "two-plain-dates", "weekday-confirmed"],
)
def test_an_undated_row_takes_only_a_weekday_confirmed_day_from_its_text(
    tmp_path: Path, read_all, text: str, day: str | None
) -> None:
    """A full date without its weekday was taken before, the first of them: a battle's day was
    cited as the article's and filtered by ("what happened in May 1968?")."""
    path = tmp_path / "undated.jsonl"
    path.write_text(row(title="Victoria Cross", text=text) + "\n", encoding="utf-8")
    [article], _ = read_all(path)
    assert article.published == day


@pytest.mark.parametrize("published", ["2099-01-01", "0001-01-01", "2023-02-30", 1675123200])
def test_a_published_value_it_cannot_hold_is_said(
    tmp_path: Path, read_all, caplog: pytest.LogCaptureFixture, published: object
) -> None:
    """A far-future or impossible date, or a Unix time, used to leave the article undated (so
    ``--since`` filters it out) with nothing on the screen."""
    path = tmp_path / "c.jsonl"
    path.write_text(
        row(title="Judul", text="Isi berita yang cukup untuk dibaca.", published=published) + "\n"
    )
    with caplog.at_level("WARNING"):
        [article], _ = read_all(path)
    assert article.published is None
    (record,) = [r for r in caplog.records if "published" in r.getMessage()]
    assert record.levelname == "WARNING"
    assert f"c.jsonl line 1: its published value {published!r} is no date" in record.getMessage()


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"title": "Judul", "text": ["Isi berita.", "Paragraf kedua."]}, "'text' must be a string, not list"),
        ({"title": 2024, "text": "Isi berita yang cukup untuk dibaca."}, "'title' must be a string, not int"),
    ],
)
def test_a_field_of_the_wrong_type_is_named_as_such(
    tmp_path: Path, read_all, fields: dict, reason: str
) -> None:
    """Both rows were "missing 'text'" / "missing 'title'", though the file has them."""
    path = tmp_path / "c.jsonl"
    path.write_text(row(**fields) + "\n")
    _, [problem] = read_all(path)
    assert (problem.line, problem.reason) == (1, reason)


@pytest.mark.parametrize("url", [["https://example.org/a", "https://example.org/b"], 5, {"href": "x"}])
def test_a_url_that_is_not_text_is_dropped_with_a_warning(
    tmp_path: Path, read_all, caplog: pytest.LogCaptureFixture, url: object
) -> None:
    """A list of URLs became one address "https://example.org/a, https://example.org/b" in every
    citation of the article, and a number the address "5"."""
    path = tmp_path / "c.jsonl"
    path.write_text(row(title="Judul", text="Isi berita yang cukup untuk dibaca.", url=url) + "\n")
    with caplog.at_level("WARNING"):
        [article], _ = read_all(path)
    assert article.url is None
    said = (
        f"(a {type(url).__name__})" if isinstance(url, list | dict) else repr(url)
    )  # a repr could nest too deep
    assert f"c.jsonl line 1: its url {said} is not text" in caplog.text


@pytest.mark.parametrize("key", ["author", "source", "url", "published"])
def test_a_deeply_nested_value_costs_that_value_not_the_rest_of_the_file(
    tmp_path: Path, read_all, key: str
) -> None:
    """A list nested 500 deep in one row's metadata was a RecursionError: "reader failed (a bug)",
    and no row after it was read (the warnings about a url or a date never repr a list)."""
    path = tmp_path / "c.jsonl"
    nested = "[" * 500 + '"Reuters"' + "]" * 500
    path.write_text(
        f'{{"title": "Judul", "text": "Isi berita yang cukup untuk dibaca.", "{key}": {nested}}}\n{GOOD}\n'
    )
    articles, problems = read_all(path)
    assert problems == [] and [a.locator for a in articles] == ["line 1", "line 2"]
    assert getattr(articles[0], key) is None


ROWS = [{"title": f"Judul {n}", "text": "Isi berita yang cukup untuk dibaca."} for n in range(3)]


@pytest.mark.parametrize(
    "text",
    [json.dumps(ROWS), json.dumps(ROWS, indent=2), "\n".join(json.dumps(r, indent=2) for r in ROWS)],
    ids=["array", "array-indented", "objects-indented"],
)
def test_json_that_is_not_json_lines_is_one_problem_saying_so(tmp_path: Path, read_all, text: str) -> None:
    """An exported array, or objects pretty-printed, were a cryptic problem a line (up to 20):
    "expected a JSON object, got list", "Expecting property name enclosed in double quotes"."""
    path = tmp_path / "export.jsonl"
    for written in ("\n" + text, "\ufeff" + text):  # a blank line first; a byte-order mark first
        path.write_text(written + "\n", encoding="utf-8")
        articles, problems = read_all(path)
        assert articles == []
        assert [(p.line, p.reason) for p in problems] == [(None, NOT_JSON_LINES)]


@pytest.mark.parametrize(
    ("published", "day", "said"),
    [
        ("12/03/2025", "2025-12-03", True),  # 12 March to an Indonesian, 3 December to an American
        ("31/03/2025", "2025-03-31", False),  # no month 31: the day comes first
        ("3/3/2025", "2025-03-03", False),
        ("2025-03-12", "2025-03-12", False),
    ],
)
def test_a_date_that_could_be_day_or_month_first_is_said(
    tmp_path: Path, read_all, caplog: pytest.LogCaptureFixture, published: str, day: str, said: bool
) -> None:
    """It was read month first without a word, and the article filed under another month."""
    path = tmp_path / "c.jsonl"
    path.write_text(row(title="Judul", text="Isi berita yang cukup.", published=published) + "\n")
    with caplog.at_level("WARNING"):
        [article], _ = read_all(path)
    assert article.published == day
    warning = f"{path} line 1: its published value {published!r} is read month first, {day}; "
    warning += "YYYY-MM-DD says which"
    assert [r.getMessage() for r in caplog.records] == ([warning] if said else [])
