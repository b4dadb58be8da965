"""From feed to article over real HTTP: fetch pages, extract the body, keep what a reader needs."""

from __future__ import annotations

import pytest
from foreign_desk.index.fetch import (
    AddressRefused,
    FeedItem,
    Fetcher,
    HTTPStatusError,
    NoArticle,
    fetch_article,
    poll_feed,
)

from tests.fetch.fixture_server import FixtureServer, etag_of, fixture_bytes

ANTARA_PATH = "/berita/4012345/menlu-ri-dan-filipina-bahas-kode-etik-laut-china-selatan"
GUARDIAN_PATH = "/world/2024/mar/05/asean-ministers-south-china-sea-code-of-conduct"
DETIK_PATH = "/read/2024/03/05/083011/7225890/10/kemlu-pastikan-wni-di-sudan-dalam-kondisi-aman"
# Navigation, share buttons, related and popular lists, tags, footer.
ANTARA_BOILERPLATE = ["Beranda", "Cari berita", "Bagikan", "WhatsApp", "Berita Terkait", "Natuna Utara",
                      "Terpopuler", "Harga beras", "Pedoman Media Siber", "Kebijakan Privasi", "Tag:",
                      "ANTARA News Agency"]  # fmt: skip
GUARDIAN_BOILERPLATE = ["Skip to main content", "Support the Guardian", "Share on Facebook", "Read more",
                        "Sign up to This is Europe", "Most viewed", "More on this story", "Lake District",
                        "Privacy policy"]  # fmt: skip


def _text(article) -> str:  # type: ignore[no-untyped-def]
    return "\n".join(block.text for block in article.blocks)


@pytest.mark.parametrize("content_type", ["text/html; charset=ISO-8859-1", "text/html"])
async def test_indonesian_windows_1252_page(
    news_server: FixtureServer, fetcher: Fetcher, content_type: str
) -> None:
    news_server.serve_fixture(ANTARA_PATH, "artikel_antara_cp1252.html", content_type=content_type)

    article = await fetch_article(fetcher, news_server.url(ANTARA_PATH + "?utm_source=twitter"))

    assert article.title == "Menlu RI dan Filipina bahas kode etik Laut China Selatan"
    assert article.url == news_server.url(ANTARA_PATH)
    assert article.source == "Antara"  # index.outlets spelling of "ANTARA News"
    assert article.author == "Yuni Arisandy Sinaga"
    assert article.published == "2024-03-05T07:30:00Z"  # 14:30 WIB
    assert article.language == "id"
    body = _text(article)
    assert article.paragraphs[0].startswith("Jakarta (ANTARA) \u2013 Menteri Luar Negeri RI bertemu mitranya")
    assert "\u201cKami sepakat bahwa perundingan harus selesai dalam dua tahun" in body  # cp1252 0x93
    assert "Jean-No\u00ebl Barrot" in body
    assert "Pertemuan tingkat menteri berikutnya dijadwalkan berlangsung di Manila" in body
    for noise in ANTARA_BOILERPLATE:
        assert noise not in body, noise


async def test_english_page_keeps_headings_and_drops_boilerplate(
    news_server: FixtureServer, fetcher: Fetcher
) -> None:
    news_server.serve_fixture(GUARDIAN_PATH, "article_guardian.html")

    article = await fetch_article(fetcher, news_server.url(GUARDIAN_PATH + "?CMP=Share_iOSApp_Other"))

    assert article.url == news_server.url(GUARDIAN_PATH)
    assert article.published == "2024-03-05T09:15:00Z"  # JSON-LD datePublished
    assert article.language == "en"
    assert [b.text for b in article.blocks if b.kind == "heading"] == [
        "Enforcement remains the sticking point",
        "Regional reaction",
    ]
    assert len(article.paragraphs) == 7
    assert article.paragraphs[2] == (
        "\u201cWe cannot allow the waters that connect us to become the waters that divide us,\u201d "
        "the Indonesian foreign minister said at the opening session."
    )
    body = _text(article)
    for noise in GUARDIAN_BOILERPLATE:
        assert noise not in body, noise


async def test_undated_page_takes_the_feed_date(news_server: FixtureServer, fetcher: Fetcher) -> None:
    news_server.serve_fixture(DETIK_PATH, "artikel_detik_tanpa_tanggal.html")
    item = FeedItem(
        guid="detik-7225890",
        link=news_server.url(DETIK_PATH),
        canonical_link=news_server.url(DETIK_PATH),
        title="Kemlu Pastikan WNI di Sudan dalam Kondisi Aman",
        published="2024-03-05T01:30:11Z",
    )

    article = await fetch_article(fetcher, item.link or "", item=item, fallback_source="news.detik")

    assert article.published == "2024-03-05T01:30:11Z"
    # <br><br> separated paragraphs become paragraphs; the "Baca juga" box and tags are gone.
    assert len(article.paragraphs) >= 5
    assert article.paragraphs[0].startswith("Jakarta - Kementerian Luar Negeri (Kemlu) memastikan")
    assert article.paragraphs[2].startswith('"Hingga pagi ini tidak ada laporan WNI')
    assert "Bentrokan di Sudan Meluas" not in _text(article)
    assert "Pesawat TNI AU" not in _text(article)


async def test_undated_page_takes_the_day_its_feed_wrote(
    news_server: FixtureServer, fetcher: Fetcher
) -> None:
    news_server.serve_fixture(DETIK_PATH, "artikel_detik_tanpa_tanggal.html")
    link = news_server.url(DETIK_PATH)
    item = FeedItem(None, link, link, "Kemlu", published="2024-03-04T23:30:00Z", local_day="2024-03-05")

    article = await fetch_article(fetcher, link, item=item)

    assert (article.published, article.local_day) == ("2024-03-04T23:30:00Z", "2024-03-05")  # 06:30 WIB


async def test_feed_to_articles(news_server: FixtureServer, fetcher: Fetcher) -> None:
    """What the feed poller does: poll, then fetch and extract each item's page."""
    news_server.serve_fixture("/dunia/rss", "antara_dunia.xml")
    news_server.serve_fixture(ANTARA_PATH, "artikel_antara_cp1252.html", content_type="text/html")

    poll = await poll_feed(fetcher, news_server.url("/dunia/rss"))
    assert poll.feed is not None
    first, second = poll.feed.items

    article = await fetch_article(fetcher, first.link or "", item=first, fallback_source=poll.feed.title)
    assert article.url == first.canonical_link
    assert article.title == first.title
    with pytest.raises(HTTPStatusError, match="HTTP 404"):
        await fetch_article(fetcher, second.link or "", item=second)


async def test_feed_item_pointing_inside_the_network_is_refused(news_server: FixtureServer) -> None:
    news_server.serve_fixture("/world/rss", "guardian_world.rss")
    async with Fetcher(allow_private=True, timeout_s=2.0) as trusted:  # the tests' feed is on loopback
        poll = await poll_feed(trusted, news_server.url("/world/rss"))
    assert poll.feed is not None
    private = poll.feed.items[2]

    async with Fetcher(allow_private=False, timeout_s=2.0) as fetcher:
        with pytest.raises(AddressRefused, match=r"10\.20\.30\.40: private address"):
            await fetch_article(fetcher, private.link or "", item=private)


async def test_updated_article_is_fetched_again_only_when_changed(
    news_server: FixtureServer, fetcher: Fetcher
) -> None:
    page = fixture_bytes("article_guardian.html")
    news_server.serve(GUARDIAN_PATH, page, etag=etag_of(page))
    first = await fetcher.fetch_page(news_server.url(GUARDIAN_PATH))
    assert (await fetcher.fetch_page(news_server.url(GUARDIAN_PATH), etag=first.etag)).not_modified

    corrected = page.replace(b"two-year deadline for a text", b"three-year deadline for a text")
    news_server.serve(GUARDIAN_PATH, corrected, etag=etag_of(corrected))
    again = await fetcher.fetch_page(news_server.url(GUARDIAN_PATH), etag=first.etag)

    assert not again.not_modified and b"three-year deadline" in again.body


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (fixture_bytes("laporan_tahunan.pdf"), "looks like a PDF"),
        (
            b"<html><body><nav><a href='/'>Beranda</a> <a href='/dunia'>Dunia</a></nav></body></html>",
            "no article",
        ),
        (b"", "empty"),
    ],
)
async def test_page_without_article_is_reported(
    news_server: FixtureServer, fetcher: Fetcher, body: bytes, reason: str
) -> None:
    news_server.serve("/page", body, content_type="text/html")  # a PDF mislabelled as HTML, an index page

    with pytest.raises(NoArticle, match=reason):
        await fetch_article(fetcher, news_server.url("/page"))
