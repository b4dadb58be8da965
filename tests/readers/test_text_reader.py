"""Plain-text articles: the sample's shape, metadata found in the text, and broken files."""

from __future__ import annotations

import codecs
from pathlib import Path

import pytest
from foreign_desk.index.article import ReadProblem
from foreign_desk.index.readers import read_path

SAMPLE = "idn_times_nato_japan.txt"


def test_sample_article_shape(fixtures: Path, read_all) -> None:
    [article], problems = read_all(fixtures / SAMPLE)
    assert problems == []
    assert article.title == "Terancam Korut-China-Rusia, Jepang dan NATO Perkuat Kerja Sama"
    assert article.blocks[0].kind == "standfirst"
    assert article.blocks[0].text == "NATO puji Jepang yang menjatuhkan sanksi ke Rusia"
    assert [b.text for b in article.blocks if b.kind == "heading"] == [
        "1. Kunjungi Iruma Air Base",
        "2. Bertemu dengan Perdana Menteri Jepang",
        "3. NATO-Jepang bahas tantangan strategis yang dihadapi masyarakat internasional",
        "4. Kerja sama baru antara NATO-Jepang",
    ]
    assert article.blocks[1].text.startswith("Jakarta, IDN Times - Sekretaris Jenderal (Sekjen) NATO")


def test_sample_metadata_comes_from_the_text(fixtures: Path, read_all) -> None:
    [article], _ = read_all(fixtures / SAMPLE)
    assert article.source == "IDN Times"
    assert article.published == "2023-01-31"  # "Selasa (31/1/2023)", not "1 Februari 2023"
    assert article.language == "id"
    assert article.path == str((fixtures / SAMPLE).resolve())
    assert article.locator is None
    assert article.url is None


def test_a_date_read_from_the_text_is_said_with_its_words(
    fixtures: Path, read_all, caplog: pytest.LogCaptureFixture
) -> None:
    """Every citation shows the day; whoever indexes the file sees where it came from."""
    with caplog.at_level("INFO", logger="foreign_desk.index.readers.common"):
        [article], _ = read_all(fixtures / SAMPLE)
    assert article.published == "2023-01-31" and all(r.levelname == "INFO" for r in caplog.records)
    assert [r.getMessage() for r in caplog.records] == [
        f"{(fixtures / SAMPLE).resolve()}: no published date; dated 2023-01-31 from 'Selasa (31/1/2023)' "
        "in its text (a .md or .jsonl file can give its own)"
    ]


def test_non_breaking_spaces_are_normalised(fixtures: Path, read_all) -> None:
    [article], _ = read_all(fixtures / SAMPLE)
    assert not any("\xa0" in b.text for b in article.blocks)
    assert "Baca Juga: Swedia Hentikan Sementara Proses Daftar ke NATO" in article.paragraphs


def test_english_wire_story(fixtures: Path, read_all) -> None:
    [article], _ = read_all(fixtures / "reuters_asean_summit.txt")
    assert article.source == "Reuters"
    assert article.language == "en"
    assert article.published is None  # "Sept 5" has no year: no guess
    assert article.blocks[0].kind == "paragraph"  # a dateline paragraph is not a standfirst


def test_relative_path_is_resolved(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, read_all) -> None:
    (tmp_path / "a.txt").write_text("Judul berita\n\nIsi berita yang cukup panjang.\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    [article], _ = read_all(Path("a.txt"))
    assert article.path == str(tmp_path.resolve() / "a.txt")


def test_one_paragraph_per_line_and_hard_wrapped_text(tmp_path: Path, read_all) -> None:
    scraped = tmp_path / "scraped.txt"
    scraped.write_text(
        "Presiden bertemu PM Malaysia\n"
        "Presiden menerima kunjungan PM Malaysia di Istana Bogor.\n"
        "Keduanya membahas perbatasan dan perlindungan pekerja migran.\n",
        encoding="utf-8",
    )
    [article], _ = read_all(scraped)
    assert article.paragraphs == [
        "Presiden menerima kunjungan PM Malaysia di Istana Bogor.",
        "Keduanya membahas perbatasan dan perlindungan pekerja migran.",
    ]
    wrapped = tmp_path / "wrapped.txt"
    wrapped.write_text(
        "Talks resume in Geneva\n\n"
        "Negotiators from both sides returned to the table on Monday after a\n"
        "two-week pause, according to officials who briefed reporters on the\n"
        "condition of anonymity.\n",
        encoding="utf-8",
    )
    [article], _ = read_all(wrapped)
    assert article.paragraphs == [
        "Negotiators from both sides returned to the table on Monday after a two-week pause, "
        "according to officials who briefed reporters on the condition of anonymity."
    ]


HEADLINE = "Indonesia and Japan agree to step up joint maritime patrols in the region"  # 40-100 characters
WRAPPED = (
    "The foreign ministers of both countries met in Jakarta on Tuesday and agreed\n"
    "to expand joint coast guard exercises, officials said after the meeting, which\n"
    "lasted three hours and covered trade as well as security in the region.\n"
)


@pytest.mark.parametrize(
    ("text", "paragraphs"),
    [
        (HEADLINE + "\n" + WRAPPED, 1),  # a hard-wrapped paragraph at once: it took the headline in
        (HEADLINE + ".\nThe ministers met on Tuesday.\nThey agreed to expand the patrols.\n", 2),
        ("\n \n" + HEADLINE + "\r\n\r\n" + WRAPPED.replace("\n", "\r\n"), 1),
    ],
    ids=["wrapped-at-once", "a-line-each-at-once", "blank-lines-first-crlf"],
)
def test_the_first_line_is_the_headline_with_or_without_a_blank_line_after_it(
    tmp_path: Path, text: str, paragraphs: int, read_all
) -> None:
    """As the README says: the article was refused ("no body text") when its text followed a
    headline as long as a wrapped line without a blank line between them."""
    path = tmp_path / "story.txt"
    path.write_text(text, encoding="utf-8", newline="")
    [article], problems = read_all(path)
    assert problems == [] and article.title.rstrip(".") == HEADLINE
    assert len(article.paragraphs) == paragraphs and article.paragraphs[0].startswith("The ")


def test_an_article_on_one_line_says_where_its_text_goes(tmp_path: Path, read_all) -> None:
    path = tmp_path / "one-line.txt"
    path.write_text(" ".join(WRAPPED.split()) * 50, encoding="utf-8")
    articles, [found] = read_all(path)
    assert articles == []
    assert found.reason == "no body text: the first line is the headline, the article's text goes below it"


def test_numbered_list_is_not_a_set_of_headings(tmp_path: Path, read_all) -> None:
    path = tmp_path / "list.txt"
    path.write_text(
        "Hasil pemungutan suara di Majelis Umum PBB\n\n"
        "Hasil pemungutan suara resolusi gencatan senjata adalah sebagai berikut.\n\n"
        "1. Setuju 153 negara\n\n2. Menolak 10 negara\n\n3. Abstain 23 negara\n\n"
        "Indonesia termasuk negara yang mendukung resolusi tersebut sejak awal pembahasan.\n",
        encoding="utf-8",
    )
    [article], _ = read_all(path)
    assert not [b for b in article.blocks if b.kind == "heading"]
    assert "2. Menolak 10 negara" in article.paragraphs


def test_utf16_with_bom_is_read(tmp_path: Path, read_all) -> None:
    path = tmp_path / "utf16.txt"
    path.write_bytes(codecs.BOM_UTF16_LE + "Judul\n\nIsi berita tentang diplomasi.\n".encode("utf-16-le"))
    [article], problems = read_all(path)
    assert problems == []
    assert article.paragraphs == ["Isi berita tentang diplomasi."]


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"", "empty"),
        (b"  \n\n\t\n", "empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00", "binary"),
        (b"Hanya judul tanpa isi\n", "no body"),
    ],
    ids=["empty", "blank", "binary", "title-only"],
)
def test_unreadable_text_file_is_one_problem(tmp_path: Path, content: bytes, reason: str, read_all) -> None:
    path = tmp_path / "bad.txt"
    path.write_bytes(content)
    articles, problems = read_all(path)
    assert articles == []
    assert len(problems) == 1
    assert reason in problems[0].reason
    assert problems[0].path == str(path.resolve())
    assert problems[0].line is None


def test_unreadable_file_does_not_raise(tmp_path: Path) -> None:
    path = tmp_path / "locked.txt"
    path.mkdir()  # a folder named like a file: reading it fails with an OS error
    [item] = list(read_path(path))
    assert isinstance(item, ReadProblem)
    assert "cannot read" in item.reason


WINDOWS = "Kafe \u201cBunga\u201d di Jakarta\n\nCaf\xe9 di Jakarta ramai \u2013 harga \u20ac5.\n"


@pytest.mark.parametrize(("name", "opening"), [("old.txt", ""), ("old.md", "# ")])
def test_a_windows_1252_text_is_read_and_said(
    tmp_path: Path, read_all, caplog: pytest.LogCaptureFixture, name: str, opening: str
) -> None:
    """It was refused ("save it as UTF-8") while an HTML page in the same encoding was read."""
    path = tmp_path / name
    path.write_bytes((opening + WINDOWS).encode("cp1252"))
    with caplog.at_level("WARNING"):
        [article], problems = read_all(path)
    assert problems == []
    assert article.title == "Kafe \u201cBunga\u201d di Jakarta"
    assert article.paragraphs == ["Caf\xe9 di Jakarta ramai \u2013 harga \u20ac5."]
    said = f"{article.path}: not UTF-8; read as Windows-1252 (save it as UTF-8 if it reads wrong)"
    assert [r.getMessage() for r in caplog.records] == [said]


def test_one_broken_byte_in_utf8_spoils_that_byte_only(
    tmp_path: Path, read_all, caplog: pytest.LogCaptureFixture
) -> None:
    """Read as Windows-1252, every "é" of a UTF-8 file cut or joined badly would be "Ã©"."""
    path = tmp_path / "cut.txt"
    head = "Judul\n\nCaf\xe9 di Jakarta ramai, caf\xe9 di Bandung sepi.".encode()
    path.write_bytes(head + b" \xe2\x80 Selesai.\n")  # a dash cut short
    with caplog.at_level("WARNING"):
        [article], _ = read_all(path)
    assert article.paragraphs == ["Caf\xe9 di Jakarta ramai, caf\xe9 di Bandung sepi. \ufffd Selesai."]
    said = f"{article.path}: 1 place not UTF-8 (the first at byte {len(head) + 1}) read as U+FFFD; "
    assert [r.getMessage() for r in caplog.records] == [said + "the rest is UTF-8"]
