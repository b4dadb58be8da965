"""Polling and parsing feeds served over HTTP: the shapes of the real feeds, their quirks, dedupe."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from foreign_desk.index.fetch import Fetcher, NotAFeed, parse_feed, poll_feed

from tests.fetch.fixture_server import FixtureServer, etag_of, fixture_bytes


async def test_guardian_rss_items(news_server: FixtureServer, fetcher: Fetcher) -> None:
    news_server.serve_fixture("/world/rss", "guardian_world.rss")

    poll = await poll_feed(fetcher, news_server.url("/world/rss"))

    assert poll.feed is not None and poll.feed.title == "World news | The Guardian"
    first, second, third = poll.feed.items
    assert first.title == "Asean ministers agree to fast-track talks on South China Sea code of conduct"
    assert first.link == news_server.url(
        "/world/2024/mar/05/asean-ministers-south-china-sea-code-of-conduct?CMP=Share_iOSApp_Other"
    )
    assert first.canonical_link == news_server.url(
        "/world/2024/mar/05/asean-ministers-south-china-sea-code-of-conduct"
    )
    assert (
        first.guid
        == "https://www.theguardian.com/world/2024/mar/05/asean-ministers-south-china-sea-code-of-conduct"
    )
    assert first.published == "2024-03-05T09:15:00Z"
    assert first.author == "Amelia Hart in Jakarta"
    assert first.summary.startswith("Foreign ministers meeting in Jakarta set a two-year deadline")
    assert "<p>" not in first.summary and "Continue reading..." in first.summary
    assert second.canonical_link == news_server.url(
        "/world/2024/mar/04/pacific-islands-forum-climate-finance"
    )
    assert third.link == "http://10.20.30.40/world/briefing-notes"
    assert poll.feed.problems == ()


async def test_atom_entries_with_html_content(news_server: FixtureServer, fetcher: Fetcher) -> None:
    news_server.serve_fixture("/wire/news-atom.xml", "wire_world.atom")

    poll = await poll_feed(fetcher, news_server.url("/wire/news-atom.xml"))

    assert poll.feed is not None and poll.feed.version == "atom10"
    first, second = poll.feed.items
    assert first.title == "Außenminister beraten über Seerecht in Südostasien"
    assert first.published == "2024-03-05T10:22:00Z"  # +01:00 normalised to UTC
    assert first.canonical_link == news_server.url(
        "/wire/meldung/Aussenminister-beraten-ueber-Seerecht-4012345.html"
    )
    assert first.content is not None and "Ein erster Entwurf soll bis zum Herbst vorliegen." in first.content
    assert second.title == "Gipfel in Genf: Waffenruhe & Gefangenenaustausch vereinbart"
    assert second.published == "2024-03-04T18:29:00Z"  # only <updated>: used as the date
    assert second.content is None


async def test_indonesian_feed_with_content_encoded(news_server: FixtureServer, fetcher: Fetcher) -> None:
    news_server.serve_fixture("/dunia/rss", "antara_dunia.xml", content_type="text/xml")

    poll = await poll_feed(fetcher, news_server.url("/dunia/rss"))

    assert poll.feed is not None and poll.feed.language == "id"
    item = poll.feed.items[0]
    assert item.title == "Menlu RI dan Filipina bahas kode etik Laut China Selatan"
    assert item.published == "2024-03-05T07:30:00Z"  # 14:30 WIB
    assert item.content is not None
    assert "\u201cKami sepakat bahwa perundingan harus selesai dalam dua tahun,\u201d" in item.content
    assert item.content.count("\n") == 1  # two paragraphs
    assert poll.feed.items[1].content is None


async def test_conditional_poll_skips_unchanged_feed(news_server: FixtureServer, fetcher: Fetcher) -> None:
    body = fixture_bytes("detik_v1.xml").replace(b"{{BASE}}", news_server.base_url.encode())
    news_server.serve("/rss", body, content_type="application/rss+xml", etag=etag_of(body))
    first = await poll_feed(fetcher, news_server.url("/rss"))

    second = await poll_feed(
        fetcher, news_server.url("/rss"), etag=first.etag, last_modified=first.last_modified
    )

    assert second.not_modified and second.feed is None and second.etag == first.etag


async def test_changed_guids_do_not_make_old_articles_new(
    news_server: FixtureServer, fetcher: Fetcher
) -> None:
    news_server.serve_fixture("/rss", "detik_v1.xml")
    before = await poll_feed(fetcher, news_server.url("/rss"))
    news_server.serve_fixture("/rss", "detik_v2.xml")  # CMS migration: new GUIDs, utm tags, AMP links

    after = await poll_feed(fetcher, news_server.url("/rss"))

    assert before.feed is not None and after.feed is not None
    old_keys = {item.key for item in before.feed.items}
    new_items = [item for item in after.feed.items if item.key not in old_keys]
    assert [item.title for item in new_items] == ["WNI Dievakuasi dari Port Sudan Lewat Jalur Laut"]
    assert {i.guid for i in after.feed.items} & {i.guid for i in before.feed.items} == set()
    # The same article twice in one feed (a repost with a trailing slash) is kept once.
    assert len(after.feed.items) == 3
    assert any("repeats item 3" in problem for problem in after.feed.problems)


@pytest.mark.parametrize(
    ("content_type", "problem"),
    [("application/rss+xml", True), ("text/xml", True), ("application/rss+xml; charset=ISO-8859-1", False)],
)
async def test_latin1_feed_without_declaration(
    news_server: FixtureServer, fetcher: Fetcher, content_type: str, problem: bool
) -> None:
    news_server.serve_fixture("/ultimas", "latin1_noticias.rss", content_type=content_type)

    poll = await poll_feed(fetcher, news_server.url("/ultimas"))

    assert poll.feed is not None
    titles = [item.title for item in poll.feed.items]
    assert titles == [
        "Chanceler se reúne com ministro da Indonésia em São Paulo",
        "Côte d'Ivoire e Indonésia assinam acordo de cacau",
    ]
    assert poll.feed.items[0].published == "2024-03-05T22:42:40Z"
    assert any("encoding" in p for p in poll.feed.problems) is problem


async def test_malformed_feed_is_read_as_far_as_it_goes(news_server: FixtureServer, fetcher: Fetcher) -> None:
    news_server.serve_fixture("/tempo/rss", "malformed.rss")

    poll = await poll_feed(fetcher, news_server.url("/tempo/rss"))

    assert poll.feed is not None
    assert [item.title for item in poll.feed.items] == [
        "RI & Malaysia Sepakati Batas Laut di Selat Malaka",
        "Menlu Bertemu Dubes Negara Sahabat",
    ]
    assert poll.feed.problems and poll.feed.problems[0].startswith("malformed feed")


async def test_error_page_is_not_a_feed(news_server: FixtureServer, fetcher: Fetcher) -> None:
    news_server.serve_fixture("/rss", "broken.xml", content_type="text/html")

    with pytest.raises(NotAFeed, match=r"not a feed at http://127\.0\.0\.1:\d+/rss: an HTML page"):
        await poll_feed(fetcher, news_server.url("/rss"))


def test_empty_but_valid_feed_has_no_items() -> None:
    feed = parse_feed(b'<?xml version="1.0"?><rss version="2.0"><channel><title>Sepi</title></channel></rss>')
    assert feed.title == "Sepi" and feed.items == () and feed.problems == ()


@pytest.mark.parametrize(
    "date",
    [
        "0000-01-01T00:00:00Z",
        "9999-12-31T23:59:59-12:00",  # year 10000 in UTC
        f"{datetime.now(UTC).year + 1}-12-31T00:00:00Z",
        f"{datetime.now(UTC).year + 1}-12-31",
        "2024-13-45",
    ],
)
def test_an_item_with_an_impossible_or_future_date_is_kept_undated(date: str) -> None:
    items = "".join(
        f"<item><title>{title}</title><link>https://news.example/{title}</link><pubDate>{when}</pubDate></item>"
        for title, when in (("good", "Tue, 05 Mar 2024 10:00:00 GMT"), ("bad", date))
    )
    feed = parse_feed(f'<rss version="2.0"><channel><title>World</title>{items}</channel></rss>'.encode())
    assert [(item.title, item.published) for item in feed.items] == [
        ("good", "2024-03-05T10:00:00Z"),
        ("bad", None),
    ]
    assert feed.problems == (f"1 item(s) with an unreadable or future date, e.g. {date!r}",)


def test_an_item_keeps_the_day_its_feed_wrote() -> None:
    """feedparser reads dates in UTC: 06:30 WIB on 8 June is 7 June there, yet the item is of 8 June."""
    item = "<item><title>Subuh</title><link>https://berita.example/a</link><pubDate>{}</pubDate></item>"
    xml = f'<rss version="2.0"><channel><title>Dunia</title>{item}</channel></rss>'
    (dawn,) = parse_feed(xml.format("Wed, 08 Jun 2022 06:30:00 +0700").encode()).items
    (noon,) = parse_feed(xml.format("Wed, 08 Jun 2022 12:30:00 +0700").encode()).items
    assert (dawn.published, dawn.local_day) == ("2022-06-07T23:30:00Z", "2022-06-08")
    assert (noon.published, noon.local_day) == ("2022-06-08T05:30:00Z", None)


async def test_feed_bytes_are_never_treated_as_a_path_or_url(
    news_server: FixtureServer, tmp_path: Path
) -> None:
    secret = tmp_path / "secret.xml"
    secret.write_text('<rss version="2.0"><channel><item><title>leaked</title></item></channel></rss>')
    news_server.serve_fixture("/rss", "guardian_world.rss")

    for data in (str(secret).encode(), news_server.url("/rss").encode()):
        with pytest.raises(NotAFeed):
            parse_feed(data)
    assert news_server.requests == []


@pytest.mark.parametrize("charset", ["utf-16", "utf16", "utf-32", "cp1026", "base64"])
@pytest.mark.parametrize("pad", [b"", b" ", b"  ", b"   "])
def test_a_charset_the_bytes_cannot_be_in_is_passed_over(charset: str, pad: bytes) -> None:
    """A UTF-8 feed served as ``charset=utf-16`` was read two bytes at a time when its length was
    even: "no feed items could be read", and the next poll, one byte longer, worked."""
    document = (
        b'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Dunia</title>'
        b"<item><title>Menlu RI bertemu Menlu Jepang</title><link>https://example.org/a</link></item>"
        b"</channel></rss>" + pad
    )
    feed = parse_feed(document, headers={"content-type": f"application/rss+xml; charset={charset}"})
    assert [i.title for i in feed.items] == ["Menlu RI bertemu Menlu Jepang"]


@pytest.mark.parametrize("content_type", ["application/feed+json", "application/json", ""])
def test_a_json_feed_is_refused_as_what_it_is(content_type: str) -> None:
    """feedparser 6.0 reads no JSON Feed: it was "no feed items could be read: malformed feed
    (SAXParseException): <unknown>:2:0: not well-formed (invalid token)"."""
    document = (
        b'\xef\xbb\xbf {"version": "https://jsonfeed.org/version/1.1", "title": "Dunia", "items": '
        b'[{"id": "1", "url": "https://example.org/a", "title": "Menlu RI bertemu Menlu Jepang"}]}'
    )
    with pytest.raises(NotAFeed, match=r"^not a feed at https://example\.org/feed\.json: a JSON Feed, "):
        parse_feed(document, url="https://example.org/feed.json", headers={"content-type": content_type})


@pytest.mark.parametrize("declared", ["cp037", "IBM500", "ebcdic-cp-us", "cp1140", "utf-16", "utf-7"])
@pytest.mark.parametrize(
    "content_type", ["application/rss+xml", "text/xml", "application/xml; charset=cp037", None]
)
def test_a_declaration_naming_an_encoding_that_reads_ascii_otherwise_is_passed_over(
    declared: str, content_type: str | None
) -> None:
    """The declaration is read as ASCII, so the feed is not in EBCDIC (or UTF-16, UTF-7): read by
    it, the feed was gibberish and "no feed items could be read: malformed feed
    (SAXParseException)". The bytes are read as UTF-8 (a page's label is passed over alike)."""
    document = (
        f'<?xml version="1.0" encoding="{declared}"?><rss version="2.0"><channel><title>Dunia</title>'
        "<item><title>Menlu RI bertemu Menlu Jepang di Tōkyō</title><link>https://example.org/a</link>"
        "</item></channel></rss>"
    ).encode()
    headers = {"content-type": content_type} if content_type else None

    feed = parse_feed(document, headers=headers)

    assert [i.title for i in feed.items] == ["Menlu RI bertemu Menlu Jepang di Tōkyō"]
    assert feed.problems == (
        f"wrong encoding declaration ({declared}, which the feed is not in); read as utf-8",
    )


def test_a_feed_declaring_ebcdic_in_latin_1_bytes_is_read_as_windows_1252() -> None:
    document = (
        '<?xml version="1.0" encoding="cp500"?><rss version="2.0"><channel><title>Monde</title>'
        "<item><title>Sommet à Genève</title><link>https://example.org/a</link></item></channel></rss>"
    ).encode("latin-1")

    feed = parse_feed(document, headers={"content-type": "application/rss+xml"})

    assert [i.title for i in feed.items] == ["Sommet à Genève"]
    assert feed.problems == ("wrong encoding declaration (cp500, which the feed is not in); read as cp1252",)
