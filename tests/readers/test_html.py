"""The HTML reader: one page → one Article with paragraphs, headings, date, language and URL."""

from __future__ import annotations

import codecs
import gzip
import tracemalloc
import warnings
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from foreign_desk.index.article import Article, ReadProblem
from foreign_desk.index.errors import ReaderError
from foreign_desk.index.readers import html, read_path
from foreign_desk.index.readers.common import MAX_TITLE_CHARS
from foreign_desk.index.readers.html import article_from_html, decode_html, read

FIXTURES = Path(__file__).resolve().parents[1] / "fetch" / "fixtures"
BASE = b"https://www.antaranews.com"
PARAGRAPHS = "".join(
    f"<p>Paragraf {n}: Menteri Luar Negeri menyampaikan sikap Indonesia mengenai perundingan di kawasan "
    f"Asia Tenggara kepada para wartawan di Jakarta.</p>"
    for n in range(1, 5)
)


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes().replace(b"{{BASE}}", BASE)


def page(body: str = PARAGRAPHS, head: str = "", lang: str = "id") -> str:
    return (
        f'<!DOCTYPE html><html lang="{lang}"><head><meta charset="utf-8">'
        f"<title>Judul berita</title>{head}</head>"
        f"<body><nav><a href='/'>Beranda</a></nav><article><h1>Judul berita</h1>{body}</article>"
        "<footer>Hak cipta dilindungi</footer></body></html>"
    )


def test_read_one_file(tmp_path: Path) -> None:
    file = tmp_path / "menlu.html"
    file.write_bytes(fixture("artikel_antara_cp1252.html"))

    (article,) = list(read(file))

    assert isinstance(article, Article)
    assert article.path == str(file)
    assert (
        article.url
        == "https://antaranews.com/berita/4012345/menlu-ri-dan-filipina-bahas-kode-etik-laut-china-selatan"
    )
    assert article.title == "Menlu RI dan Filipina bahas kode etik Laut China Selatan"
    assert "\u201cKami sepakat" in article.paragraphs[1]
    assert article.key == f"url:{article.url}"


def test_read_folder_reports_bad_files_and_goes_on(tmp_path: Path) -> None:
    (tmp_path / "a_guardian.html").write_bytes(fixture("article_guardian.html"))
    (tmp_path / "b_detik.htm").write_bytes(fixture("artikel_detik_tanpa_tanggal.html"))
    (tmp_path / "c_zipped.html.gz").write_bytes(gzip.compress(fixture("artikel_antara_cp1252.html")))
    (tmp_path / "d_image.html").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)))
    (tmp_path / "e_empty.html").write_bytes(b"  \n")
    (tmp_path / "f_index.html").write_text("<html><body><nav><a href='/'>Beranda</a></nav></body></html>")
    (tmp_path / "g_broken.html.gz").write_bytes(b"\x1f\x8b\x08\x00garbage")
    (tmp_path / "h_binary.html").write_bytes(b"<html>\x00\x01\x02\x00\xff" * 50)
    (tmp_path / "notes.txt").write_text("not a page")

    results = list(read(tmp_path))

    assert [type(r).__name__ for r in results] == ["Article"] * 3 + ["ReadProblem"] * 5
    problems = {Path(r.path).name: r.reason for r in results if isinstance(r, ReadProblem)}
    assert problems["d_image.html"] == "not HTML: looks like a PNG image"
    assert problems["e_empty.html"] == "empty file"
    assert problems["f_index.html"] == "no article body found"
    assert problems["g_broken.html.gz"].startswith("cannot read file")
    assert problems["h_binary.html"] == "not HTML: binary data"
    assert results[2].title == "Menlu RI dan Filipina bahas kode etik Laut China Selatan"  # type: ignore[union-attr]


def peak_bytes_while(read_it: Callable[[], object]) -> int:
    """The most memory Python held at once while ``read_it`` ran."""
    tracemalloc.start()
    try:
        read_it()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_gzip_bomb_is_refused_without_unzipping_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(html, "MAX_FILE_BYTES", 100_000)
    bomb = tmp_path / "bomb.html.gz"
    bomb.write_bytes(gzip.compress(page().encode() + b" " * 10_000_000))  # 10 MB from 10 KB
    assert bomb.stat().st_size < 100_000

    found: list[Article | ReadProblem] = []
    peak = peak_bytes_while(lambda: found.extend(read(bomb)))

    assert peak < 2_000_000
    assert [str(p) for p in found] == [f"{bomb}: unzips to over 100,000 bytes, too large for one page"]


def test_oversized_page_is_refused_unread(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(html, "MAX_FILE_BYTES", 100_000)
    big = tmp_path / "dump.html"
    with big.open("wb") as handle:
        handle.truncate(50_000_000)  # sparse: no disk used

    found: list[Article | ReadProblem] = []
    peak = peak_bytes_while(lambda: found.extend(read(big)))

    assert peak < 2_000_000
    assert [str(p) for p in found] == [f"{big}: file is 50,000,000 bytes, too large for one article"]


@pytest.mark.parametrize("script", ["[" * 100_000, '{"datePublished": ' + "1" * 5000 + "}", "{broken"])
def test_unreadable_json_ld_costs_its_date_not_the_page(script: str) -> None:
    """Deeply nested JSON-LD was "reader failed (RecursionError: a bug)" with a traceback, and
    a feed's item failed with "internal error": the page's article was lost."""
    head = f'<script type="application/ld+json">{script}</script>'
    article = article_from_html(page(head=head).encode(), url="https://www.antaranews.com/berita/1")
    assert article.title == "Judul berita" and article.paragraphs[0].startswith("Paragraf 1")


def test_a_page_of_too_many_elements_is_refused_before_extraction(tmp_path: Path) -> None:
    """Extraction's time grows with the square of the elements: 50,000 ``<span>`` (750 KB) took
    445 s of CPU, so one page a server made so held a feed's poll for hours."""
    file = tmp_path / "spans.html"
    file.write_text(page("<p>" + "<span>w</span> " * html.MAX_ELEMENTS + "</p>"))

    (found,) = read(file)

    assert isinstance(found, ReadProblem)
    assert found.reason == "the page has over 10,000 HTML elements, too many for one article"


GOOD_GZIP = gzip.compress(page().encode())


@pytest.mark.parametrize(
    ("data", "why"),
    [
        (GOOD_GZIP[:10] + b"\x07" + GOOD_GZIP[11:], "invalid block type"),  # reserved deflate block type
        (GOOD_GZIP[:12] + bytes(b ^ 0xFF for b in GOOD_GZIP[12:40]) + GOOD_GZIP[40:], "Error -3"),
        (GOOD_GZIP[:-20], "ended before the end-of-stream marker"),
    ],
    ids=["bad-block", "scrambled", "cut-short"],
)
def test_damaged_gzip_is_one_line_reason(tmp_path: Path, data: bytes, why: str) -> None:
    file = tmp_path / "damaged.html.gz"
    file.write_bytes(data)

    (found,) = list(read_path(file))

    assert isinstance(found, ReadProblem)
    assert found.reason.startswith("cannot read file: damaged gzip data (")
    assert why in found.reason and "\n" not in found.reason


def test_no_body_raises_reader_error() -> None:
    with pytest.raises(ReaderError, match="no article body found"):
        article_from_html(
            "<html><body><nav><a href='/'>Home</a> <a href='/world'>World</a></nav></body></html>"
        )


def test_headings_and_paragraph_order() -> None:
    body = (
        PARAGRAPHS[:300]
        + "<h2>Reaksi kawasan</h2>"
        + PARAGRAPHS
        + "<ul><li>Poin pertama yang cukup panjang.</li>"
        "<li>Poin kedua yang juga cukup panjang.</li></ul>"
    )
    article = article_from_html(page(body))

    kinds = [b.kind for b in article.blocks]
    assert "heading" in kinds
    assert article.blocks[kinds.index("heading")].text == "Reaksi kawasan"
    assert article.paragraphs[-2:] == [
        "Poin pertama yang cukup panjang.",
        "Poin kedua yang juga cukup panjang.",
    ]
    assert article.blocks[0].text != "Judul berita"  # the headline is the title, not a heading block


@pytest.mark.parametrize(
    ("data", "charset", "expected"),
    [
        (codecs.BOM_UTF8 + "“Dunia”".encode(), "iso-8859-1", "“Dunia”"),
        (codecs.BOM_UTF16_LE + "Menlu “RI”".encode("utf-16-le"), None, "Menlu “RI”"),
        (
            "Menlu “RI” – Café".encode("cp1252"),
            "ISO-8859-1",
            "Menlu “RI” – Café",
        ),  # Latin-1 label = windows-1252
        ("Menlu “RI” – Café".encode(), "ISO-8859-1", "Menlu “RI” – Café"),  # server default on a UTF-8 page
        (b'<meta charset="windows-1252">' + "S\u00e3o Tom\u00e9".encode("cp1252"), None, "São Tomé"),
        (b'<meta http-equiv="Content-Type" content="text/html; charset=iso-8859-1">\x93ok\x94', None, "“ok”"),
        (b'<meta charset="utf-16"><p>Jakarta</p>', None, "Jakarta"),
        ("No declaration: S\u00e3o Paulo".encode("latin-1"), None, "São Paulo"),
        ("Pas de souci: été".encode(), "koi8-r", "été"),
    ],
)
def test_decoding(data: bytes, charset: str | None, expected: str) -> None:
    assert expected in decode_html(data, charset)


@pytest.mark.parametrize("label", ["utf16", "utf_16", "U16", "utf-16be", "utf32"])
@pytest.mark.parametrize("where", ["header", "meta"])
def test_a_page_labelled_utf16_in_any_spelling_is_not_read_as_utf16(label: str, where: str) -> None:
    """ "utf-16" was caught, but "utf16" or "U16" (an alias Python knows) decoded the ASCII bytes
    two at a time into CJK characters: the page was "no article" or indexed as gibberish."""
    data = (
        f'<meta charset="{label if where == "meta" else "x"}"><p>Menlu RI bertemu Menlu Jepang.</p>'.encode()
    )
    data += b" " * (len(data) % 4 and 4 - len(data) % 4)  # a length UTF-16 and UTF-32 can decode
    assert "Menlu RI bertemu Menlu Jepang" in decode_html(data, label if where == "header" else None)


@pytest.mark.parametrize("label", ["cp037", "IBM500", "ebcdic-cp-us", "cp1140", "utf-7"])
@pytest.mark.parametrize("where", ["header", "meta"])
def test_a_label_naming_an_encoding_that_reads_ascii_otherwise_is_passed_over(label: str, where: str) -> None:
    """A page whose label (readable as ASCII) names EBCDIC or UTF-7 was decoded by it: the ASCII
    page became gibberish, indexed as if it were text."""
    data = (
        f'<meta charset="{label if where == "meta" else "x"}"><p>Menlu RI bertemu Menlu Jepang.</p>'.encode()
    )
    assert "Menlu RI bertemu Menlu Jepang" in decode_html(data, label if where == "header" else None)


@pytest.mark.parametrize("label", ["unicode_escape", "raw-unicode-escape"])
def test_a_label_naming_an_escape_codec_leaves_the_backslashes_of_a_page_as_they_are(label: str) -> None:
    """The printable ASCII sample held no escape: a page labelled "unicode_escape" or
    "raw-unicode-escape" (readable as ASCII) was decoded by it, "\\u00e9" became "é" and
    "\\n" a line break; and "unicode_escape" warned (a DeprecationWarning, an error where
    warnings are)."""
    data = f'<meta charset="{label}"><p>Escape it as C:\\new\\u00e9 in a path.</p>'.encode()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert "Escape it as C:\\new\\u00e9 in a path." in decode_html(data)


@pytest.mark.parametrize("label", ["base64", "rot13", "zlib", "punycode", "undefined"])
def test_a_charset_that_is_no_text_encoding_is_passed_over(tmp_path: Path, label: str) -> None:
    """A server's (or a page's) charset naming a codec of bytes, or one that fails on any page,
    cost the page: the file was "reader failed (LookupError: a bug)" with a traceback."""
    data = page().replace('charset="utf-8"', f'charset="{label}"').encode()
    assert "Paragraf 1" in decode_html(data, label)
    file = tmp_path / "page.html"
    file.write_bytes(data)
    (article,) = read_path(file)
    assert isinstance(article, Article), article
    assert article.title == "Judul berita"


OG_TIME = '<meta property="article:published_time" content="2024-03-05T14:30:00+07:00">'
DETIK_TIME = '<meta name="publishdate" content="2024/03/05 14:30:00">'


@pytest.mark.parametrize(
    ("head", "fallback", "expected"),
    [
        (OG_TIME, None, "2024-03-05T07:30:00Z"),
        (OG_TIME, "Tue, 01 Jan 2019 00:00:00 GMT", "2024-03-05T07:30:00Z"),  # the page wins over the feed
        (DETIK_TIME, None, "2024-03-05"),  # no zone: the day only
        (DETIK_TIME, "Tue, 05 Mar 2024 14:30:00 +0700", "2024-03-05T07:30:00Z"),  # same day, said precisely
        ("", "Tue, 05 Mar 2024 14:30:00 +0700", "2024-03-05T07:30:00Z"),
        ("", "5 Maret 2024", "2024-03-05"),
    ],
)  # fmt: skip
def test_published_date_precedence(head: str, fallback: str | None, expected: str) -> None:
    assert article_from_html(page(head=head), fallback_date=fallback).published == expected


DAY_ONLY = '<meta property="article:published_time" content="2024-03-05">'


@pytest.mark.parametrize(
    ("head", "fallback"),
    [
        ('<meta property="article:published_time" content="2024-03-05T06:30:00+07:00">', None),
        (DAY_ONLY, "Mon, 04 Mar 2024 23:30:00 GMT"),  # the feed's time, the page's day
        ("", "Tue, 05 Mar 2024 06:30:00 +0700"),
    ],
)  # fmt: skip
def test_a_page_keeps_the_day_it_was_printed_on(head: str, fallback: str | None) -> None:
    """06:30 WIB on 5 March: the instant is 4 March in UTC, the day shown is the 5th."""
    article = article_from_html(page(head=head), fallback_date=fallback)
    assert (article.published, article.local_day) == ("2024-03-04T23:30:00Z", "2024-03-05")


@pytest.mark.parametrize(
    "body",
    [PARAGRAPHS + "<p>Diperbarui pada 2024-03-12 oleh redaksi.</p>",
     '<p class="date">Published March 12, 2024</p>' + PARAGRAPHS],
)  # fmt: skip
def test_date_guessed_from_the_page_comes_last(body: str) -> None:
    assert article_from_html(page(body)).published == "2024-03-12"
    assert (
        article_from_html(page(body), fallback_date="2024-03-01T08:00:00Z").published
        == "2024-03-01T08:00:00Z"
    )


def test_a_page_dated_in_the_future_takes_the_feed_date_or_none() -> None:
    """A page claiming next year's date would head /latest for a year: the date is not believed."""
    next_year = datetime.now(UTC).year + 1
    head = f'<meta property="article:published_time" content="{next_year}-12-31T00:00:00+00:00">'
    assert (
        article_from_html(page(head=head), fallback_date="2024-03-05T07:30:00Z").published
        == "2024-03-05T07:30:00Z"
    )
    assert article_from_html(page(head=head), fallback_date=f"{next_year}-12-31").published is None


def test_undated_page_without_fallback_has_no_date() -> None:
    assert article_from_html(page()).published is None


def test_language_comes_from_the_text_not_the_template() -> None:
    assert article_from_html(page(lang="en")).language == "id"
    english = "".join(
        f"<p>Paragraph {n}: the foreign minister told reporters in Jakarta that talks would go on.</p>"
        for n in range(4)
    )
    assert article_from_html(page(english, lang="id")).language == "en"


def test_source_and_url_fallbacks() -> None:
    article = article_from_html(
        page(), url="https://www.example.com/dunia/berita-1?utm_source=x", fallback_source="Contoh Feed"
    )
    assert article.url == "https://example.com/dunia/berita-1"
    assert article.address == "https://www.example.com/dunia/berita-1?utm_source=x"  # as fetched
    assert article.source == "Contoh Feed"
    head = '<link rel="canonical" href="/dunia/berita-1/?b=2&a=1">'
    declared = article_from_html(page(head=head), url="https://www.example.com/x")
    assert (declared.url, declared.address) == (
        "https://example.com/dunia/berita-1?a=1&b=2", "https://www.example.com/dunia/berita-1/?b=2&a=1"
    )  # fmt: skip


def test_foreign_canonical_link_is_not_trusted_over_the_fetched_url() -> None:
    head = '<link rel="canonical" href="https://spam.example.net/">'
    article = article_from_html(page(head=head), url="https://news.example.com/a/b")
    assert article.url == "https://news.example.com/a/b"


def test_overlong_title_is_cut_and_an_overlong_canonical_link_ignored() -> None:
    head = f'<link rel="canonical" href="https://www.antaranews.com/berita/{"x" * 3_000}">'
    html = page(head=head).replace("Judul berita", "Judul " * 1_000)

    article = article_from_html(html, url="https://www.antaranews.com/berita/1")

    assert len(article.title) <= MAX_TITLE_CHARS and article.title.endswith(" Judul…")
    assert article.url == "https://antaranews.com/berita/1"  # the fetched URL, not a link cut short
