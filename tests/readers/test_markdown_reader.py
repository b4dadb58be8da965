"""Markdown articles: front matter, headings, inline syntax, and broken front matter."""

from __future__ import annotations

from pathlib import Path

import pytest
from foreign_desk.index.readers.markdown import plain


def test_front_matter_and_body(fixtures: Path, read_all) -> None:
    [article], problems = read_all(fixtures / "jakarta_post_style.md")
    assert problems == []
    assert article.title == "Indonesia, Australia sign defence cooperation agreement"
    assert article.url == "https://example.org/news/2024/08/30/indonesia-australia-defence"
    assert article.source == "The Jakarta Post"
    assert article.published == "2024-08-30T02:15:00Z"  # +07:00 converted to UTC
    assert article.language == "en"
    assert article.author == "Dewi Kusuma, Tom Baker"
    assert [b.text for b in article.blocks if b.kind == "heading"] == [
        "What the agreement covers",
        "Reactions in the region",
    ]


def test_markdown_syntax_is_reduced_to_plain_words(fixtures: Path, read_all) -> None:
    [article], _ = read_all(fixtures / "jakarta_post_style.md")
    first = article.paragraphs[0]
    assert first == (
        "Defence ministers of the two neighbours signed the agreement in Canberra, "
        "the first such treaty since the 1995 security pact lapsed."
    )
    text = "\n".join(b.text for b in article.blocks)
    for syntax in ("**", "](", "![", "#", "https://example.org/img"):
        assert syntax not in text
    assert "The deal allows joint exercises on each other's territory" in text


@pytest.mark.parametrize(
    ("markdown", "expected"),
    [
        ("**Bold** and __strong__", "Bold and strong"),
        ("*emph* and _also_ here", "emph and also here"),
        ("snake_case_name stays", "snake_case_name stays"),
        ("a [link](http://x.org/a) b", "a link b"),
        ("a [ref link][1] b", "a ref link b"),
        ("![photo](p.jpg) caption gone", "caption gone"),
        ("`code` and ~~old~~", "code and old"),
        ("2 \\* 3 \\_x\\_", "2 * 3 _x_"),
        ("line<br/>break <em>html</em>", "linebreak html"),
    ],
)
def test_plain(markdown: str, expected: str) -> None:
    assert plain(markdown) == expected


@pytest.mark.parametrize("opening", ["---\n---\n", "---\n...\n", "---  \n---\n\n"])
def test_empty_front_matter_is_no_front_matter(tmp_path: Path, read_all, opening: str) -> None:
    """Jekyll's ``---`` twice was refused: "front matter opened with '---' is never closed"."""
    path = tmp_path / "a.md"
    path.write_text(
        opening + "# Menlu RI bertemu Menlu Tiongkok\n\n"
        "Menteri Luar Negeri Indonesia bertemu mitranya dari Tiongkok di Beijing pada hari Kamis.\n",
        encoding="utf-8",
    )
    [article], problems = read_all(path)
    assert problems == [] and article.title == "Menlu RI bertemu Menlu Tiongkok"
    assert article.paragraphs == [
        "Menteri Luar Negeri Indonesia bertemu mitranya dari Tiongkok di Beijing pada hari Kamis."
    ]


def test_h1_is_the_title_without_front_matter(tmp_path: Path, read_all) -> None:
    path = tmp_path / "a.md"
    path.write_text(
        "# Menlu RI bertemu Menlu Tiongkok\n\n"
        "Menteri Luar Negeri Indonesia bertemu mitranya dari Tiongkok di Beijing pada hari Kamis.\n\n"
        "Subjudul\n--------\n\nKedua menteri membahas Laut China Selatan.\n",
        encoding="utf-8",
    )
    [article], _ = read_all(path)
    assert article.title == "Menlu RI bertemu Menlu Tiongkok"
    assert article.language == "id"
    assert [(b.kind, b.text) for b in article.blocks] == [
        (
            "paragraph",
            "Menteri Luar Negeri Indonesia bertemu mitranya dari Tiongkok di Beijing pada hari Kamis.",
        ),
        ("heading", "Subjudul"),
        ("paragraph", "Kedua menteri membahas Laut China Selatan."),
    ]


def test_language_and_date_aliases(tmp_path: Path, read_all) -> None:
    path = tmp_path / "b.md"
    path.write_text(
        "---\ntitle: Kunjungan ke Tokyo\ndate: 2023-01-31\nlang: id-ID\nsource: antaranews\n---\n"
        "Presiden tiba di Tokyo untuk kunjungan kenegaraan.\n",
        encoding="utf-8",
    )
    [article], _ = read_all(path)
    assert (article.published, article.language, article.source) == ("2023-01-31", "id", "Antara")


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("---\ntitle: [unclosed\nurl: x\n---\nBody text here.\n", "broken YAML front matter"),
        ("---\ntitle: Lost\n\nBody text that never closes the front matter.\n", "never closed"),
        ("---\n- just\n- a list\n---\nBody.\n", "not a mapping"),
        ("---\nurl: https://example.org/x\n---\nBody without any title.\n", "no title"),
        ("---\ntitle: Only a title\n---\n\n", "no body"),
        ('+++\ntitle = "Hugo"\n+++\n# Hugo\n\nBody.\n', "TOML front matter (+++) is not read"),
    ],
    ids=["broken-yaml", "unclosed", "list", "no-title", "no-body", "toml"],
)
def test_broken_markdown_is_one_problem(tmp_path: Path, text: str, reason: str, read_all) -> None:
    path = tmp_path / "broken.md"
    path.write_text(text, encoding="utf-8")
    articles, problems = read_all(path)
    assert articles == []
    assert [reason in p.reason for p in problems] == [True]


def test_markdown_in_latin1_is_read_as_windows_1252(tmp_path: Path, read_all) -> None:
    """It was refused; front matter is read from the decoded text like any other."""
    path = tmp_path / "latin.markdown"
    path.write_bytes("---\ntitle: Caf\xe9\n---\nIsi.\n".encode("latin-1"))
    [article], problems = read_all(path)
    assert (article.title, problems) == ("Caf\xe9", [])


def test_nested_front_matter_keeps_its_indentation(tmp_path: Path, read_all) -> None:
    path = tmp_path / "nested.md"
    path.write_text(
        "---\ntitle: Sidang DK PBB\nextra:\n  source: ignored\nsource: Kompas\n---\n"
        "Dewan Keamanan PBB menggelar sidang darurat.\n",
        encoding="utf-8",
    )
    [article], problems = read_all(path)
    assert problems == []
    assert article.source == "Kompas"


@pytest.mark.parametrize(
    ("front", "body", "published", "said"),
    [
        ("published: 2023-02-30", "Isi berita.", None, "'2023-02-30' is no date it can hold; it has no date"),
        ("date: 2024-13-45", "Presiden berpidato di Jakarta, Kamis (17/8/2023).", "2023-08-17",
         "'2024-13-45' is no date it can hold; it has the day in its text, 2023-08-17"),
        ("published: 2023-01-31\nupdated: 2023-02-30", "Isi berita.", "2023-01-31", None),  # a key not read
    ],
    ids=["no-such-day", "no-such-month", "other-key"],
)  # fmt: skip
def test_an_impossible_date_costs_the_date_not_the_article(
    tmp_path: Path, read_all, caplog: pytest.LogCaptureFixture, front: str, body: str, published: str | None,
    said: str | None,
) -> None:  # fmt: skip
    """YAML reads 2023-02-30 as a date and fails: the whole file was refused ("unreadable value"),
    where a JSON Lines row only loses its date, and says so."""
    path = tmp_path / "typo.md"
    path.write_text(f"---\ntitle: Judul\n{front}\n---\n{body}\n", encoding="utf-8")
    with caplog.at_level("WARNING"):
        [article], problems = read_all(path)
    assert problems == [] and article.published == published
    warned = [r.getMessage() for r in caplog.records if "published value" in r.getMessage()]
    assert warned == ([f"{path.resolve()}: its published value {said}"] if said else [])


def test_a_headline_holding_a_colon_says_how_to_fix_it(tmp_path: Path, read_all) -> None:
    """The most usual broken front matter; it said only "broken YAML front matter at line 2"."""
    path = tmp_path / "colon.md"
    path.write_text("---\ntitle: NATO: a new era\n---\nIsi berita.\n", encoding="utf-8")
    articles, [found] = read_all(path)
    assert articles == []
    assert found.reason == (
        "broken YAML front matter at line 2: mapping values are not allowed here "
        "(put a value holding ': ' in quotes)"
    )


@pytest.mark.parametrize(
    ("line", "title", "cut"),
    [
        ("title: Indonesia #1 partner", "Indonesia", True),
        ("title: Mitra  # editor's note", "Mitra", True),  # a comment or not: only the writer knows
        ('title: "Indonesia #1 partner"', "Indonesia #1 partner", False),
        ("title: C# di Jakarta", "C# di Jakarta", False),
        ("# a comment line\ntitle: Mitra", "Mitra", False),
        ("title: Mitra\npublished: 2025-03-12 # WIB", "Mitra", False),
    ],
)
def test_a_value_cut_at_a_hash_is_said(
    tmp_path: Path, read_all, caplog: pytest.LogCaptureFixture, line: str, title: str, cut: bool
) -> None:
    """YAML reads " #" as a comment: the headline "Indonesia #1 partner" became "Indonesia" unsaid."""
    path = tmp_path / "hash.md"
    path.write_text(f"---\n{line}\n---\nIsi berita yang cukup panjang.\n", encoding="utf-8")
    with caplog.at_level("WARNING"):
        [article], _ = read_all(path)
    assert article.title == title
    said = f"{article.path}: front matter title is cut at ' #' (YAML reads a comment), leaving {title!r}; "
    assert [r.getMessage() for r in caplog.records] == ([said + "put it in quotes"] if cut else [])


def test_a_value_that_is_all_comment_is_said(
    tmp_path: Path, read_all, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "hash.md"
    path.write_text("---\ntitle: #1 partner\n---\n# Judul\n\nIsi berita.\n", encoding="utf-8")
    with caplog.at_level("WARNING"):
        [article], _ = read_all(path)
    assert article.title == "Judul"
    said = f"{article.path}: front matter title is cut at ' #' (YAML reads a comment), leaving ''; "
    assert [r.getMessage() for r in caplog.records] == [said + "put it in quotes"]
