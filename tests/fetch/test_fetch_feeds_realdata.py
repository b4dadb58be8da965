"""Real-data check: every real feed in ../shared/data/feeds_fixtures parses, read in place.

For the rss-parser files, the expected output of that project (``expected/<name>.json``) is
the reference: same number of items, same links, same dates. The Indonesian feeds are checked
against counts and fields read off the files.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from foreign_desk.index.fetch import parse_feed
from foreign_desk.index.fetch.urls import canonical_url

from tests.shared_data import SHARED_DATA, requires_shared_data

pytestmark = [pytest.mark.realdata, requires_shared_data]

FEEDS = (SHARED_DATA or Path("/nonexistent")) / "feeds_fixtures"
RSS_PARSER = ["content-encoded.rss", "encoding.rss", "feedburner.atom", "guardian.rss", "heise.atom",
              "reddit.rss", "rss-1.rss", "uolNoticias.rss"]  # fmt: skip


def _path(*parts: str) -> Path:
    return FEEDS.joinpath(*parts)


@pytest.mark.parametrize("name", RSS_PARSER)
def test_rss_parser_feeds_match_reference(name: str) -> None:
    data = _path("rss-parser", "input", name).read_bytes()
    expected_file = _path("rss-parser", "expected", re.sub(r"\.(rss|atom)$", ".json", name))
    expected = json.loads(expected_file.read_bytes().decode("utf-8", "replace"))["feed"]["items"]

    feed = parse_feed(data)

    assert len(feed.items) == len(expected)
    for ours, theirs in zip(feed.items, expected, strict=True):
        assert ours.canonical_link == canonical_url(theirs["link"])
        iso = theirs.get("isoDate")
        assert ours.published == (re.sub(r"\.\d+Z$", "Z", iso) if iso else None)
        assert ours.title


@pytest.mark.parametrize("name", ["encoding.rss", "uolNoticias.rss"])
def test_latin1_feeds_decode_accents(name: str) -> None:
    feed = parse_feed(_path("rss-parser", "input", name).read_bytes())
    text = " ".join(item.title + " " + item.summary for item in feed.items)
    assert re.search(r"[ãçéíóú]", text)
    assert "\ufffd" not in text and "Ã" not in text  # no replacement characters, no mojibake


def test_latin1_feed_without_declaration_reports_it() -> None:
    feed = parse_feed(_path("rss-parser", "input", "uolNoticias.rss").read_bytes())
    assert any("encoding" in problem for problem in feed.problems)


def test_content_encoded_is_kept() -> None:
    feed = parse_feed(_path("rss-parser", "input", "content-encoded.rss").read_bytes())
    assert all(item.content and len(item.content) > 500 for item in feed.items)
    assert feed.items[0].author == "Jeremy Puma"


def test_rdf_feed_items_have_authors_and_dates() -> None:
    feed = parse_feed(_path("rss-parser", "input", "rss-1.rss").read_bytes())
    assert feed.version == "rss10"
    assert feed.items[0].title == "Food for fungi" and feed.items[0].author == "Hines, P. J."


@pytest.mark.parametrize(
    ("name", "count", "version", "first_title", "first_published", "has_content"),
    [
        ("viva_all_2017-04-28.xml", 200, "rss20", "Jalur Pendakian Gunung Kelud via Tulungrejo",
         "2017-04-28T01:16:01Z", False),
        ("detik_news_2017-04-28.xml", 10, "rss20", "Situs Telkomsel Diretas, Ini Reaksi Manajemen",
         "2017-04-28T00:50:21Z", False),
        ("tempo_terkini_2017-04-28.xml", 30, "rss091u",
         "Riset Wisata: Teror di Eropa Tak Membuat Turis Takut", "2017-04-28T00:38:02Z", True),
        ("antara_jambi_terkini_2022-08-28.xml", 20, "rss20",
         "Malisya Deslilian lulus Fakultas Kedokteran Unisba pada usia 20 tahun",
         "2022-08-28T14:39:36Z", True),
    ],
)  # fmt: skip
def test_indonesian_feeds(
    name: str, count: int, version: str, first_title: str, first_published: str, has_content: bool
) -> None:
    feed = parse_feed(_path("indonesian", name).read_bytes())

    assert (len(feed.items), feed.version, feed.problems) == (count, version, ())
    first = feed.items[0]
    assert (first.title, first.published) == (first_title, first_published)
    assert all(item.link and item.link.startswith("http") and item.published for item in feed.items)
    assert all("<" not in item.summary and "&lt;" not in item.summary for item in feed.items)
    assert (first.content is not None) is has_content
    if has_content:  # Tempo's and ANTARA's content:encoded repeat the teaser
        assert first.content == first.summary


def test_viva_feed_has_the_world_section() -> None:
    feed = parse_feed(_path("indonesian", "viva_all_2017-04-28.xml").read_bytes())
    assert any("dunia.news.viva.co.id" in (item.link or "") for item in feed.items)
