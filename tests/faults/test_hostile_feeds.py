"""Hostile servers: feed bytes that are no feed, HTML pages offered as feeds, Retry-After
values that would silence a feed for decades or overflow a date, and publication dates that
overflow or lie in the future."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import pytest
from foreign_desk.index.config import FeedSettings
from foreign_desk.index.engine import Engine
from foreign_desk.index.feeds import FeedDesk
from foreign_desk.index.feeds.schedule import next_delay
from foreign_desk.index.fetch import NotAFeed, ParsedFeed, parse_feed
from foreign_desk.index.fetch.http import MAX_RETRY_AFTER_S, parse_retry_after
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.feeds.conftest import FakeClock
from tests.feeds.news import PATROL, SUDAN, page, rss
from tests.fetch.fixture_server import FixtureServer

FUZZ = settings(max_examples=100, deadline=None)
DAY = 86_400


@FUZZ
@given(st.binary(max_size=4000))
def test_any_bytes_are_a_feed_or_not_a_feed(data: bytes) -> None:
    try:
        assert isinstance(parse_feed(data, url="http://127.0.0.1/rss"), ParsedFeed)
    except NotAFeed as exc:
        assert "\n" not in str(exc)


_FIELD = st.text(max_size=300)


@FUZZ
@given(
    title=_FIELD,
    link=_FIELD,
    date=_FIELD,
    description=_FIELD,
    content_type=st.sampled_from(
        ["application/rss+xml", "text/html; charset=iso-8859-1", "text/xml", "application/json", ""]
    ),
)
def test_any_item_fields(title: str, link: str, date: str, description: str, content_type: str) -> None:
    from xml.sax.saxutils import escape

    item = (
        f"<item><title>{escape(title)}</title><link>{escape(link)}</link>"
        f"<pubDate>{escape(date)}</pubDate><description>{escape(description)}</description></item>"
    )
    channel = f"<channel><title>t</title>{item}</channel>"
    document = f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0">{channel}</rss>'
    try:
        feed = parse_feed(document.encode("utf-8", "surrogatepass"), headers={"content-type": content_type})
    except NotAFeed:
        return
    for parsed in feed.items:
        assert parsed.published is None or parsed.published[:4].isdigit()
        parsed.title.encode("utf-8")


@pytest.mark.parametrize(
    "page",
    [
        "<!DOCTYPE html><html><head><title>News</title></head><body><p>Latest news</p></body></html>",
        "<html><body><a href='/a'>An article</a></body></html>",
    ],
)
async def test_feeds_add_refuses_an_html_page(server: FixtureServer, desk: FeedDesk, page: str) -> None:
    server.serve("/news", page, content_type="text/html")
    with pytest.raises(NotAFeed, match=r"^not a feed at .*/news: an HTML page"):
        await desk.add_feed(server.url("/news"))
    assert await desk.feeds() == []


def test_an_html_page_that_links_its_feed_says_where_it_is() -> None:
    page = (
        b'<html><head><link rel="alternate" type="application/rss+xml" href="/rss/dunia.xml"></head></html>'
    )
    with pytest.raises(NotAFeed, match=r"the feed it links to is https://example\.org/rss/dunia\.xml$"):
        parse_feed(page, url="https://example.org/dunia")


@FUZZ
@given(st.text(max_size=80) | st.from_regex(r"[0-9]{1,400}", fullmatch=True))
def test_any_retry_after_is_read_within_a_day(value: str) -> None:
    now = datetime(2024, 3, 5, 10, 0, tzinfo=UTC)
    seconds, at = parse_retry_after(value, now=now)
    assert (seconds is None) == (at is None)
    if seconds is not None and at is not None:
        assert 0 <= seconds <= MAX_RETRY_AFTER_S == DAY
        assert now <= at <= now + timedelta(days=1)


@pytest.mark.parametrize(
    "header",
    ["Wed, 21 Oct 2099 07:28:00 GMT", "99999999999999999999", "1" * 5000, "Fri, 31 Dec 9999 23:59:59 GMT"],
)
def test_hostile_retry_after_values_wait_a_day_at_most(header: str) -> None:
    now = datetime(2024, 3, 5, 10, 0, tzinfo=UTC)
    assert parse_retry_after(header, now=now) == (DAY, now + timedelta(days=1))


@pytest.mark.parametrize("retry_after", [1e308, math.inf, math.nan, 10.0 * DAY])
def test_the_schedule_caps_any_retry_after(retry_after: float) -> None:
    flat = FeedSettings(jitter=0.0, backoff_cap_minutes=360)
    assert next_delay(600, 0, flat, retry_after=retry_after) <= DAY
    assert next_delay(600, 3, flat, retry_after=retry_after) <= DAY


@pytest.mark.parametrize("where", ["the feed", "an article page"])
async def test_retry_after_2099_delays_a_feed_by_a_day_at_most(
    server: FixtureServer, desk: FeedDesk, clock: FakeClock, where: str
) -> None:
    far = {"Retry-After": "Wed, 21 Oct 2099 07:28:00 GMT"}
    if where == "the feed":
        server.serve("/rss", "busy", status=503, headers=far)
    else:
        server.serve(
            "/rss", rss("ANTARA", server.base_url, [SUDAN], language="id"), content_type="application/rss+xml"
        )
        server.serve(SUDAN.path, "slow down", status=429, headers=far)
    await desk.add_feed(server.url("/rss"), name="antara", every=5, check=False)

    await desk.fetch()

    (feed,) = await desk.feeds()
    assert feed.next_poll is not None
    assert clock() + 5 * 60 <= feed.next_poll <= clock() + DAY


async def test_a_page_reached_through_a_redirect_is_reported_under_its_final_url(
    server: FixtureServer, desk: FeedDesk
) -> None:
    server.serve(SUDAN.path, page(SUDAN, server.base_url))
    server.redirect("/s/abc", SUDAN.path, status=301)
    outcome = await desk.ingest(server.url("/s/abc"))
    assert (outcome.status, outcome.url) == ("new", server.url(SUDAN.path))


async def test_an_item_dated_year_0_loses_its_date_not_the_feed(
    server: FixtureServer, desk: FeedDesk, engine: Engine
) -> None:
    undatable = (
        f"<item><title>{SUDAN.title}</title><link>{server.url(SUDAN.path)}</link>"
        "<pubDate>0000-01-01T00:00:00Z</pubDate></item>"
    )
    server.serve(
        "/rss",
        rss("World", server.base_url, [PATROL], raw_items=undatable),
        content_type="application/rss+xml",
    )
    server.serve(PATROL.path, page(PATROL, server.base_url))
    server.serve(SUDAN.path, page(SUDAN, server.base_url))
    await desk.add_feed(server.url("/rss"), name="world", check=False)

    report = await desk.fetch("world")

    assert report.runs[0].error is None and report.counts["new"] == 2
    assert {a.title for a in await engine.latest()} == {PATROL.title, SUDAN.title}


async def test_an_article_dated_next_year_does_not_head_latest(
    server: FixtureServer, desk: FeedDesk, engine: Engine
) -> None:
    # The feed item and the page's article:published_time alike.
    future = SUDAN.with_(published=f"{datetime.now(UTC).year + 1}-12-31T00:00:00+00:00")
    server.serve("/rss", rss("World", server.base_url, [PATROL, future]), content_type="application/rss+xml")
    server.serve(PATROL.path, page(PATROL, server.base_url))
    server.serve(future.path, page(future, server.base_url))
    await desk.add_feed(server.url("/rss"), name="world", check=False)

    await desk.fetch("world")

    latest = await engine.latest()
    assert [a.title for a in latest] == [PATROL.title, future.title]
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert (latest[1].published or "") <= now  # a date guessed from the page's text, or none


@pytest.mark.parametrize("declared", ["punycode", "undefined"])
async def test_a_feed_that_declares_an_encoding_no_text_can_have_is_read(
    server: FixtureServer, desk: FeedDesk, engine: Engine, declared: str
) -> None:
    """feedparser lets such a declaration's ``UnicodeError`` escape: every poll of the feed
    failed with "internal error: UnicodeError" and a traceback, and nothing of it was indexed."""
    document = rss("World", server.base_url, [PATROL]).replace('encoding="utf-8"', f'encoding="{declared}"')
    server.serve("/rss", document, content_type=f"application/rss+xml; charset={declared}")
    server.serve(PATROL.path, page(PATROL, server.base_url))
    await desk.add_feed(server.url("/rss"), name="world")

    report = await desk.fetch("world")

    assert report.runs[0].error is None and report.counts["new"] == 1
    assert any("wrong encoding declaration" in p for p in report.runs[0].problems)
    assert [a.title for a in await engine.latest()] == [PATROL.title]


@pytest.mark.parametrize("declared", ["cp037", "IBM500", "utf-16"])
async def test_a_feed_declaring_an_encoding_that_reads_ascii_otherwise_is_added_and_read(
    server: FixtureServer, desk: FeedDesk, engine: Engine, declared: str
) -> None:
    """An ASCII feed whose XML declaration names EBCDIC (or UTF-16) was decoded by it into
    gibberish: adding it was refused and every poll failed with "no feed items could be read:
    malformed feed (SAXParseException) ... not well-formed (invalid token)"."""
    document = rss("World", server.base_url, [PATROL]).replace('encoding="utf-8"', f'encoding="{declared}"')
    server.serve("/rss", document, content_type="application/rss+xml")
    server.serve(PATROL.path, page(PATROL, server.base_url))
    await desk.add_feed(server.url("/rss"), name="world")  # fetched once first: a feed, not refused

    report = await desk.fetch("world")

    assert report.runs[0].error is None and report.counts["new"] == 1
    assert report.runs[0].problems == [
        f"wrong encoding declaration ({declared}, which the feed is not in); read as utf-8"
    ]
    assert [a.title for a in await engine.latest()] == [PATROL.title]


async def test_an_enormous_item_title_is_cut_in_what_a_fetch_reports(
    server: FixtureServer, desk: FeedDesk
) -> None:
    """A 90 KB title (the feed may be megabytes) on an item whose page fails went whole into the
    run's report: ``fetch`` printed all of it on one line, ``fetch --json`` too."""
    from foreign_desk.index.readers.common import MAX_TITLE_CHARS

    huge = "Breaking " * 10_000
    item = f"<item><title>{huge}</title><link>{server.url('/gone')}</link></item>"
    server.serve(
        "/rss", rss("World", server.base_url, [], raw_items=item), content_type="application/rss+xml"
    )
    server.serve("/gone", "gone", status=404)
    await desk.add_feed(server.url("/rss"), name="world", check=False)

    report = await desk.fetch("world")

    (outcome,) = report.runs[0].items
    assert outcome.status == "failed" and outcome.title.startswith("Breaking Breaking")
    assert len(outcome.title) <= MAX_TITLE_CHARS
