"""Feeds to answers, end to end over real loopback HTTP: fetch, extract, dedupe, index, ask."""

from __future__ import annotations

import asyncio
import logging

import pytest
from foreign_desk.index.engine import Engine
from foreign_desk.index.feeds import FeedDesk, FeedError
from foreign_desk.index.fetch import AddressRefused, Fetcher, FetchError, FetchFailure, UnsupportedContentType
from foreign_desk.index.models import Filters
from foreign_desk.index.progress import IndexProgress

from tests.engine.test_search import assert_dated_as_printed
from tests.feeds.conftest import (
    FakeClock,
    hasty_fetcher,
    loopback_fetcher,
    publish,
    serve_story,
    wait_until,
    with_feeds,
)
from tests.feeds.news import (
    GAZA,
    NOT_AN_ARTICLE_PDF,
    PATROL,
    PATROL_UPDATED,
    SUDAN,
    WIRE,
    WIRE_COPY,
    atom,
    item_xml,
    rss,
)
from tests.fetch.fixture_server import LOOPBACK_ONLY, FixtureServer, etag_of
from tests.gated import GatedEmbedder


async def items_table(desk: FeedDesk) -> list[tuple]:
    rows = await desk.db.rows("SELECT ident, status, attempts, error FROM feed_items ORDER BY id")
    return [tuple(r) for r in rows]


async def test_rss_feed_articles_are_answerable_when_fetch_returns(
    server: FixtureServer, desk: FeedDesk, engine: Engine, clock: FakeClock
) -> None:
    body = rss("World news | The Guardian", server.base_url, [PATROL, SUDAN])
    server.serve("/world/rss", body, content_type="application/rss+xml", etag=etag_of(body))
    serve_story(server, PATROL)
    serve_story(server, SUDAN)

    feed = await desk.add_feed(server.url("/world/rss"), every=15)
    assert (feed.name, feed.language, feed.every_minutes) == ("world-news-the-guardian", "en", 15)
    report = await desk.fetch()

    assert report.counts == {"new": 2, "updated": 0, "duplicates": 0, "unchanged": 0, "failures": 0}
    answer = await engine.ask("Which navies will patrol the Arafura Sea together?")
    top = answer.results[0].article
    assert top.title == PATROL.title and top.source == "The Guardian"
    assert top.url == server.url(PATROL.path)  # ?CMP= tracking removed
    assert top.published == "2024-03-05T09:15:00Z" and top.path is None
    # The Indonesian article answers an English question too, and `latest` lists both, newest first.
    answer = await engine.ask("How many Indonesians were evacuated from Sudan?")
    assert answer.results[0].article.title == SUDAN.title and answer.results[0].article.language == "id"
    assert [a.title for a in await engine.latest()] == [PATROL.title, SUDAN.title]
    # The feed's state: validators kept, success recorded, next poll in about 15 minutes.
    (stored,) = await desk.feeds()
    assert stored.etag == etag_of(body) and stored.last_success and stored.failures == 0
    assert stored.next_poll == pytest.approx(clock() + 15 * 60)


async def test_unchanged_feed_costs_one_304(server: FixtureServer, desk: FeedDesk, engine: Engine) -> None:
    body = rss("ANTARA News - Dunia", server.base_url, [SUDAN], language="id")
    server.serve("/rss/dunia.xml", body, content_type="application/rss+xml", etag=etag_of(body))
    serve_story(server, SUDAN)
    await desk.add_feed(server.url("/rss/dunia.xml"), name="antara", check=False)
    first = await desk.fetch("antara")

    again = await desk.fetch("antara")

    assert again.runs[0].not_modified and again.counts["new"] == 0
    assert again.generation == first.generation  # nothing re-indexed
    assert server.requests_to("/rss/dunia.xml")[-1].headers["If-None-Match"] == etag_of(body)
    assert len(server.requests_to(SUDAN.path)) == 1


async def test_atom_feed_and_changed_guids_with_tracking_links_are_the_same_item(
    server: FixtureServer, desk: FeedDesk, engine: Engine
) -> None:
    server.serve(
        "/wire/atom.xml", atom("Foreign wire", server.base_url, [WIRE]), content_type="application/atom+xml"
    )
    serve_story(server, WIRE)
    serve_story(server, GAZA)
    await desk.add_feed(server.url("/wire/atom.xml"), name="wire")
    assert (await desk.fetch("wire")).counts["new"] == 1

    # The CMS is migrated: every GUID changes, links gain tracking and AMP variants, and a new story appears.
    moved = [
        WIRE.with_(guid="wire-7226001", path=WIRE.path + "/amp"),
        WIRE.with_(guid="wire-7226001-repost", path=WIRE.path + "/"),
        GAZA.with_(guid="wire-7226200"),
    ]
    server.serve(
        "/wire/atom.xml", atom("Foreign wire", server.base_url, moved), content_type="application/atom+xml"
    )
    report = await desk.fetch("wire")

    counts = report.counts
    assert (counts["new"], counts["unchanged"], counts["duplicates"], counts["failures"]) == (1, 1, 0, 0)
    # The feed parser already folded the two variants of one link into one item, and said so;
    # the item is known by that link, whatever its GUID.
    assert any("repeats item" in p for p in report.runs[0].problems)
    assert len(server.requests_to(WIRE.path)) == 1  # its page was not fetched again
    assert (await engine.stats()).articles == 2


async def test_updated_article_replaces_its_passages(
    server: FixtureServer, desk: FeedDesk, engine: Engine
) -> None:
    serve_story(server, PATROL)
    server.serve("/rss", rss("World", server.base_url, [PATROL]), content_type="application/rss+xml")
    await desk.add_feed(server.url("/rss"), name="world", check=False)
    await desk.fetch()

    serve_story(server, PATROL_UPDATED)
    server.serve("/rss", rss("World", server.base_url, [PATROL_UPDATED]), content_type="application/rss+xml")
    report = await desk.fetch()

    assert report.counts["updated"] == 1 and report.counts["new"] == 0
    answer = await engine.ask("Where did the first joint patrol sail from?")
    assert "Kupang" in answer.results[0].text
    assert (await engine.stats()).articles == 1
    texts = [r.text for r in (await engine.ask("four vessels and a surveillance aircraft", k=10)).results]
    assert not any("four vessels" in t for t in texts)  # the old passage is gone
    # Polled again with nothing new: the item is unchanged and its page is not fetched again.
    again = await desk.fetch()
    assert again.counts["unchanged"] == 1 and len(server.requests_to(PATROL.path)) == 2


async def test_items_sharing_one_guid_are_each_fetched_once(server: FixtureServer, desk: FeedDesk) -> None:
    """Some feeds give several items one GUID: each is remembered by its own link, so a feed
    sent whole on every poll costs no page fetch again."""
    stories = [PATROL.with_(guid="same-guid"), SUDAN.with_(guid="same-guid")]
    for story in stories:
        serve_story(server, story)
    server.serve("/rss", rss("World", server.base_url, stories), content_type="application/rss+xml")
    await desk.add_feed(server.url("/rss"), name="world", check=False)

    first = await desk.fetch()
    later = [(await desk.fetch()).counts["unchanged"] for _ in range(2)]

    assert first.counts["new"] == 2 and later == [2, 2]
    assert [len(server.requests_to(s.path)) for s in stories] == [1, 1]


async def test_a_feed_is_read_up_to_its_first_max_feed_items_items(
    server: FixtureServer, engine: Engine, clock: FakeClock
) -> None:
    """A feed of 85,000 items took minutes of every poll: the items after the first
    ``max_feed_items`` of the document (newer ones too) are ignored, and the poll says so once."""
    engine.settings = with_feeds(engine.settings, max_feed_items=2)
    extra = "\n".join(item_xml(f"Extra {i}", server.url(f"/extra/{i}")) for i in range(3))
    server.serve(
        "/rss", rss("World", server.base_url, [PATROL, SUDAN], raw_items=extra), content_type="text/xml"
    )
    serve_story(server, PATROL)
    serve_story(server, SUDAN)
    async with await FeedDesk.open(engine, fetcher_factory=loopback_fetcher, clock=clock) as desk:
        await desk.add_feed(server.url("/rss"), name="world", check=False)
        report = await desk.fetch()

    assert report.counts["new"] == 2 and len(report.items) == 2
    assert report.runs[0].problems == ["3 item(s) after the first 2 ignored"]
    assert not any(server.requests_to(f"/extra/{i}") for i in range(3))


async def test_a_feed_document_over_max_feed_bytes_is_a_one_line_feed_error(
    server: FixtureServer, engine: Engine, clock: FakeClock
) -> None:
    """feedparser read a 4.7 MB feed for 12 s while holding a polling slot: a feed document has
    its own ceiling, below a page's, and past it the poll fails at once with a one-line reason."""
    engine.settings = with_feeds(engine.settings, max_feed_bytes=20_000, max_bytes=200_000)
    extra = "\n".join(item_xml(f"Extra {i}", server.url(f"/extra/{i}")) for i in range(200))
    server.serve("/rss", rss("World", server.base_url, [SUDAN], raw_items=extra), content_type="text/xml")
    serve_story(server, SUDAN)

    def fetcher() -> Fetcher:
        return Fetcher.from_settings(engine.settings, policy=LOOPBACK_ONLY)

    async with await FeedDesk.open(engine, fetcher_factory=fetcher, clock=clock) as desk:
        await desk.add_feed(server.url("/rss"), name="world", check=False)
        report = await desk.fetch()

    (run,) = report.runs
    assert run.error == f"{server.url('/rss')} is 44,050 bytes, over the 20,000 byte limit (max_feed_bytes)"
    assert report.items == [] and not server.requests_to(SUDAN.path)


async def test_same_text_at_another_url_of_the_same_outlet_is_a_duplicate(
    server: FixtureServer, desk: FeedDesk, engine: Engine
) -> None:
    other = GAZA.with_(path="/berita/4012461/kapal-rs-tni-al-berangkat-ke-gaza")
    serve_story(server, GAZA)
    serve_story(server, other)
    server.serve(
        "/rss", rss("ANTARA", server.base_url, [GAZA, other], language="id"), content_type="text/xml"
    )
    await desk.add_feed(server.url("/rss"), name="antara", check=False)

    report = await desk.fetch()

    assert (report.counts["new"], report.counts["duplicates"]) == (1, 1)
    dup = next(i for i in report.items if i.status == "duplicate")
    assert "same text" in (dup.reason or "")
    assert (await engine.stats()).articles == 1


async def test_syndicated_copy_is_kept_and_shown_once_naming_both_outlets(
    server: FixtureServer, desk: FeedDesk, engine: Engine
) -> None:
    serve_story(server, WIRE)
    serve_story(server, WIRE_COPY)
    server.serve("/a.rss", rss("Wire A", server.base_url, [WIRE]), content_type="application/rss+xml")
    server.serve("/b.rss", rss("Paper B", server.base_url, [WIRE_COPY]), content_type="application/rss+xml")
    await desk.add_feed(server.url("/a.rss"), name="a", source="Reuters", check=False)
    await desk.add_feed(server.url("/b.rss"), name="b", source="Jakarta Globe", check=False)

    report = await desk.fetch()

    assert report.counts["new"] == 2 and report.generation == 1  # two articles, one generation
    assert {s.source for s in await engine.sources()} == {"Reuters", "Jakarta Globe"}
    answer = await engine.ask("What did Japan and the Philippines sign?")
    first = answer.results[0]
    assert first.also_in and {first.article.source, *first.also_in} == {"Reuters", "Jakarta Globe"}
    assert all("reciprocal access agreement" not in r.text for r in answer.results[1:])
    assert f"also in {first.also_in[0]}" in first.citation


@pytest.mark.parametrize("desk", [hasty_fetcher], indirect=True)  # "/slow" times out
async def test_failures_are_reported_with_reasons_and_never_stop_the_fetch(
    server: FixtureServer, desk: FeedDesk, engine: Engine
) -> None:
    serve_story(server, SUDAN)
    server.serve("/report.pdf", NOT_AN_ARTICLE_PDF, content_type="application/pdf")
    server.serve("/huge", "<html><body>" + "<p>x</p>" * 40_000 + "</body></html>")
    server.redirect("/loop-a", "/loop-b")
    server.redirect("/loop-b", "/loop-a")
    server.serve("/slow", "<html><body><p>late</p></body></html>", delay=3.0)
    failing = [("Laporan tahunan", "/report.pdf"), ("Huge", "/huge"), ("Loop", "/loop-a"), ("Slow", "/slow")]
    raw = "\n".join(item_xml(title, server.url(path)) for title, path in failing)
    raw += "\n" + item_xml("Briefing notes", "http://10.20.30.40/world/briefing-notes")
    server.serve(
        "/rss", rss("Mixed", server.base_url, [SUDAN], raw_items=raw), content_type="application/rss+xml"
    )
    await desk.add_feed(server.url("/rss"), name="mixed", check=False)

    report = await desk.fetch()

    assert report.counts["new"] == 1 and report.counts["failures"] == 5
    reasons = {url.rsplit("/", 1)[-1]: reason for _, url, reason in report.failures}
    assert "not an HTML page" in reasons["report.pdf"]
    assert "byte limit" in reasons["huge"]
    assert "redirect" in reasons["loop-a"]
    assert "timed out" in reasons["slow"]
    assert "10.20.30.40" in reasons["briefing-notes"] and "private" in reasons["briefing-notes"]
    (feed,) = await desk.feeds()
    assert feed.failures == 0 and feed.last_error is None  # item failures are not feed failures
    # Only the page that may work later (the timeout; still slow) is tried again on the next poll.
    before = {p: len(server.requests_to(p)) for _, p in failing}
    await desk.fetch()
    after = {p: len(server.requests_to(p)) for _, p in failing}
    assert {p for p in after if after[p] > before[p]} == {"/slow"}
    attempts = {ident.rsplit("/", 1)[-1]: (status, n) for ident, status, n, _ in await items_table(desk)}
    assert attempts["report.pdf"] == ("failed", 3) and attempts["slow"] == ("failed", 2)


async def test_a_changed_items_page_is_retried_whatever_its_earlier_version_did(
    server: FixtureServer, desk: FeedDesk, engine: Engine
) -> None:
    """The item's page failed for good (404); the feed then changed the item, and its page failed
    for a passing reason (500): the failures count again from the new version, so the page is
    tried at the next poll, and its article comes."""
    publish(server, "/rss", PATROL)
    server.serve(PATROL.path, "not found", status=404)
    await desk.add_feed(server.url("/rss"), name="news", check=False)
    assert [i.status for i in (await desk.fetch()).items] == ["failed"]
    publish(server, "/rss", PATROL_UPDATED)
    server.serve(PATROL.path, "oops", status=500)
    assert [i.status for i in (await desk.fetch()).items] == ["failed"]
    serve_story(server, PATROL_UPDATED)

    assert [i.status for i in (await desk.fetch()).items] == ["new"]
    assert (await engine.latest(5))[0].title == PATROL_UPDATED.title


async def test_malformed_feed_is_read_as_far_as_it_goes(server: FixtureServer, desk: FeedDesk) -> None:
    serve_story(server, SUDAN)
    body = rss("Tempo.co News Site", server.base_url, [SUDAN], language="id")
    broken = body.replace("</channel>\n</rss>", "<item><title>RI & Malaysia <b>batas laut</title>")
    server.serve("/rss", broken, content_type="application/rss+xml")
    await desk.add_feed(server.url("/rss"), name="tempo", check=False)

    report = await desk.fetch()

    assert report.counts["new"] == 1 and report.runs[0].ok
    assert report.runs[0].problems and "malformed" in report.runs[0].problems[0]


async def test_feed_failures_back_off_and_honour_retry_after(
    server: FixtureServer, desk: FeedDesk, clock: FakeClock
) -> None:
    server.serve("/rss", "busy", status=429, headers={"Retry-After": "7200"})
    await desk.add_feed(server.url("/rss"), name="busy", every=10, check=False)

    report = await desk.fetch()
    (feed,) = await desk.feeds()
    assert not report.runs[0].ok and "429" in (report.runs[0].error or "")
    assert feed.failures == 1 and "429" in (feed.last_error or "")
    assert feed.next_poll == pytest.approx(clock() + 7200)  # the server's wait beats 2 × 10 minutes

    server.serve("/rss", "oops", status=500)
    clock.advance(7200)
    await desk.fetch()
    (feed,) = await desk.feeds()
    assert feed.failures == 2 and feed.next_poll == pytest.approx(clock() + 4 * 600)  # doubled again

    serve_story(server, GAZA)
    server.serve("/rss", rss("Back", server.base_url, [GAZA]), content_type="application/rss+xml")
    await desk.fetch(ignore_wait=True)  # the operators' explicit choice: backoff or not, now
    (feed,) = await desk.feeds()
    assert (feed.failures, feed.last_error) == (0, None) and feed.next_poll == pytest.approx(clock() + 600)


async def test_a_fetch_now_leaves_a_feed_that_must_wait_and_fetches_the_others(
    server: FixtureServer, desk: FeedDesk, clock: FakeClock
) -> None:
    server.serve("/busy", "busy", status=503, headers={"Retry-After": "3600"})
    server.serve("/rss", rss("Fine", server.base_url, []), content_type="application/rss+xml")
    busy = await desk.add_feed(server.url("/busy"), name="busy", every=10, check=False, guild_id=7)
    await desk.add_feed(server.url("/rss"), name="fine", every=10, check=False, guild_id=7)
    await desk.fetch(guild_id=7)
    assert len(server.requests_to("/busy")) == 1

    clock.advance(1800)  # the site asked for an hour: a server's fetch now does not ask again
    report = await desk.fetch(guild_id=7, as_seen_by=7)
    assert [r.feed for r in report.runs] == ["fine"] and len(server.requests_to("/rss")) == 2
    (waiting,) = report.waiting
    assert (waiting.feed, waiting.url, waiting.until) == ("busy", busy.url, pytest.approx(clock() + 1800))
    report = await desk.fetch("busy", guild_id=7)
    assert report.runs == [] and [w.feed for w in report.waiting] == ["busy"]
    assert len(server.requests_to("/busy")) == 1

    report = await desk.fetch("busy", guild_id=7, ignore_wait=True)  # only when asked to
    assert [r.feed for r in report.runs] == ["busy"] and len(server.requests_to("/busy")) == 2
    clock.advance(2 * 3600)  # its wait is over: fetched like any feed
    report = await desk.fetch("busy", guild_id=7)
    assert report.waiting == [] and len(server.requests_to("/busy")) == 3


async def test_a_fetch_now_asks_again_a_feed_whose_last_failure_was_the_hosts(
    server: FixtureServer, desk: FeedDesk, clock: FakeClock
) -> None:
    """A feed backing off after the host failed it (a full disk, a bug) was held back as if its
    site had asked to wait: the site asked nothing, and the one fetching may have mended the host."""
    server.serve("/rss", rss("Fine", server.base_url, []), content_type="application/rss+xml")
    feed = await desk.add_feed(server.url("/rss"), name="fine", every=10, check=False, guild_id=7)
    failed = "indexing failed: database or disk is full"
    async with desk.db.transaction() as conn:
        await conn.execute(
            "UPDATE feeds SET last_error = ?, failures = 1, next_poll = ? WHERE id = ?",
            (failed, clock() + 1800, feed.id),
        )
    report = await desk.fetch(guild_id=7)
    assert [r.feed for r in report.runs] == ["fine"] and report.waiting == []
    assert len(server.requests_to("/rss")) == 1


async def test_what_failed_a_feed_is_stored_beside_its_english_until_a_poll_succeeds(
    server: FixtureServer, desk: FeedDesk
) -> None:
    """Only the English ``last_error`` was stored: a front end could not say in its reader's
    language why a feed failed in an earlier poll. Its kind and the values its words need are
    stored with it, for the feed and each subscription the poll was for."""
    server.serve("/rss", "gone", status=404)
    await desk.add_feed(server.url("/rss"), name="gone", check=False, guild_id=5)
    server.serve("/pdf", "%PDF", content_type="application/pdf")
    await desk.add_feed(server.url("/pdf"), name="pdf", check=False)

    await desk.fetch(guild_id=5)
    await desk.fetch()

    [gone] = await desk.feeds(guild_id=5)
    [pdf] = await desk.feeds()
    assert "404" in (gone.last_error or "") and "application/pdf" in (pdf.last_error or "")
    assert (gone.last_failure, pdf.last_failure) == (
        FetchFailure("HTTPStatusError", 404),
        FetchFailure("UnsupportedContentType", content_type="application/pdf"),
    )
    assert [f.last_failure for f in await desk.all_feeds()] == [gone.last_failure, pdf.last_failure]
    serve_story(server, GAZA)
    server.serve("/rss", rss("Back", server.base_url, [GAZA]), content_type="application/rss+xml")
    await desk.fetch(guild_id=5, ignore_wait=True)
    [back] = await desk.feeds(guild_id=5)
    assert (back.last_error, back.last_failure) == (None, None)
    assert [f.last_failure for f in await desk.all_feeds()] == [None, pdf.last_failure]


async def test_a_feed_failure_is_a_warning_only_where_nobody_asked_for_the_poll(
    server: FixtureServer, desk: FeedDesk, caplog: pytest.LogCaptureFixture
) -> None:
    """The poller's failures are told in the log alone; a fetch someone asked for tells its own
    (``fetch``'s progress and summary, /admin fetch's status): the log keeps it at INFO."""
    server.serve("/rss", "oops", status=500)
    feed = await desk.add_feed(server.url("/rss"), name="broken", check=False)
    caplog.set_level(logging.INFO, logger="foreign_desk.index.feeds.ingest")
    await desk.fetch()
    await desk.fetch_feeds([feed.id])  # as the poller polls
    failed = [
        (r.levelno, r.getMessage()) for r in caplog.records if r.getMessage().startswith("feed broken failed")
    ]
    assert [(level, message.split(":")[0]) for level, message in failed] == [
        (logging.INFO, "feed broken failed (1 in a row)"),
        (logging.WARNING, "feed broken failed (2 in a row)"),
    ]


async def test_adding_a_feed_checks_it(server: FixtureServer, desk: FeedDesk, engine: Engine) -> None:
    serve_story(server, SUDAN)
    with pytest.raises(FetchError, match=r"not a feed at .*: an HTML page"):
        await desk.add_feed(server.url(SUDAN.path))
    assert await desk.feeds() == []
    server.serve(
        "/rss", rss("ANTARA News - Dunia", server.base_url, [], language="id"), content_type="text/xml"
    )
    feed = await desk.add_feed(server.url("/rss"), source="antaranews")
    assert (feed.name, feed.source, feed.language) == ("antara-news-dunia", "Antara", "id")
    with pytest.raises(FeedError, match="already registered"):
        await desk.add_feed(server.url("/rss") + "#top", check=False)
    await desk.remove_feed("ANTARA-news-dunia")
    assert await desk.feeds() == []


async def test_a_url_answering_not_modified_to_a_plain_request_is_not_added(
    server: FixtureServer, desk: FeedDesk
) -> None:
    """Checked once when added, it sent no feed: without the check's verdict it would be polled
    as healthy forever, never bringing an article."""
    server.serve("/never", b"", status=304, content_type=None)

    with pytest.raises(FetchError, match="HTTP 304"):
        await desk.add_feed(server.url("/never"), guild_id=7)

    assert await desk.all_feeds() == []


async def test_private_addresses_are_refused_unless_allowed(
    server: FixtureServer, engine: Engine, clock: FakeClock
) -> None:
    server.serve("/rss", rss("Local", server.base_url, [SUDAN]), content_type="application/rss+xml")
    async with await FeedDesk.open(engine, clock=clock) as strict:  # settings: allow_private_urls = false
        with pytest.raises(AddressRefused, match=r"127\.0\.0\.1"):
            await strict.add_feed(server.url("/rss"))
        with pytest.raises(AddressRefused):
            await strict.ingest(server.url(SUDAN.path))
        await strict.add_feed(server.url("/rss"), name="local", check=False)
        report = await strict.fetch()
    assert "loopback" in (report.runs[0].error or "") and server.requests == []


async def test_ingest_one_url(server: FixtureServer, desk: FeedDesk, engine: Engine) -> None:
    serve_story(server, PATROL)
    server.serve("/report.pdf", NOT_AN_ARTICLE_PDF, content_type="application/pdf")

    outcome = await desk.ingest(server.url(PATROL.path) + "?utm_source=twitter#comments")
    assert (outcome.status, outcome.title, outcome.url) == ("new", PATROL.title, server.url(PATROL.path))
    answer = await engine.ask("Arafura Sea patrols", filters=Filters(source="The Guardian"))
    assert answer.results and answer.results[0].article.id == outcome.article_id

    assert (await desk.ingest(server.url(PATROL.path))).status == "unchanged"
    serve_story(server, PATROL_UPDATED)
    assert (await desk.ingest(server.url(PATROL.path))).status == "updated"
    with pytest.raises(UnsupportedContentType):
        await desk.ingest(server.url("/report.pdf"))
    assert (await engine.stats()).articles == 1


async def test_a_page_is_dated_by_the_day_its_outlet_printed_and_listed_by_instant(
    server: FixtureServer, desk: FeedDesk, engine: Engine
) -> None:
    """06:30 WIB on 8 June is 23:30 UTC on the 7th; 21:00 in New York on the 7th is 01:00 UTC on
    the 8th, so it is the newer of the two, though of the day before."""
    dawn = SUDAN.with_(published="2022-06-08T06:30:00+07:00")
    evening = PATROL.with_(published="2022-06-07T21:00:00-04:00")
    for story in (dawn, evening):
        serve_story(server, story)
        assert (await desk.ingest(server.url(story.path))).status == "new"

    await assert_dated_as_printed(engine, "evakuasi WNI dari Sudan")
    latest = await engine.latest()
    assert [(a.title, a.day) for a in latest] == [(PATROL.title, "2022-06-07"), (SUDAN.title, "2022-06-08")]
    late = await engine.ask("Arafura Sea patrols", filters=Filters(until="2022-06-07"))
    assert "7 Jun 2022" in late.results[0].citation


async def test_a_429_on_an_article_page_delays_the_feed_and_keeps_the_item_for_later(
    server: FixtureServer, desk: FeedDesk, clock: FakeClock
) -> None:
    body = rss("ANTARA", server.base_url, [SUDAN], language="id")
    server.serve("/rss", body, content_type="application/rss+xml", etag=etag_of(body))
    server.serve(SUDAN.path, "slow down", status=429, headers={"Retry-After": "900"})
    await desk.add_feed(server.url("/rss"), name="antara", every=5, check=False)

    report = await desk.fetch()

    (item,) = report.items
    assert item.status == "failed" and "429" in (item.reason or "")
    (feed,) = await desk.feeds()
    assert feed.failures == 0 and feed.next_poll == pytest.approx(clock() + 900)
    assert feed.etag is None  # the next poll reads the whole feed again, not a 304
    serve_story(server, SUDAN)
    assert (await desk.fetch()).counts["new"] == 1
    (feed,) = await desk.feeds()
    assert feed.etag == etag_of(body)


async def test_an_ingest_queued_behind_another_tells_its_progress_that_it_waits(
    server: FixtureServer, desk: FeedDesk, engine: Engine
) -> None:
    serve_story(server, PATROL)
    serve_story(server, SUDAN)
    gated = GatedEmbedder(engine.embedder)
    engine.embedder = gated  # type: ignore[misc]  # the first ingest waits inside the model
    first = asyncio.create_task(desk.ingest(server.url(PATROL.path), guild_id=1))
    await asyncio.to_thread(gated.entered.wait, 60)
    told: list[IndexProgress] = []
    second = asyncio.create_task(desk.ingest(server.url(SUDAN.path), index_progress=told.append, guild_id=2))
    await wait_until(lambda: bool(told))
    assert [p.phase for p in told] == ["waiting"] and not first.done()
    gated.gate.set()
    assert ((await first).status, (await second).status) == ("new", "new")
    assert told[-1].phase == "done"


async def test_a_feeds_item_memory_keeps_its_ceiling_and_every_item_it_still_lists(
    server: FixtureServer, engine: Engine, clock: FakeClock
) -> None:
    """A feed polled for months remembered every item it ever listed: past ``item_memory``,
    older items are forgotten after each poll, but never one the feed still lists (its page is
    not fetched again, nor is it taken for a new item)."""
    engine.settings = with_feeds(engine.settings, item_memory=1)
    words = ("one", "two", "three", "four", "five", "six")
    rotating = [
        PATROL.with_(
            path=f"/r/{w}", title=f"{PATROL.title}, part {w}", paragraphs=(*PATROL.paragraphs, f"Part {w}.")
        )
        for w in words
    ]
    for story in [SUDAN, *rotating]:
        serve_story(server, story)
    counts, sizes = [], []
    async with await FeedDesk.open(engine, fetcher_factory=loopback_fetcher, clock=clock) as desk:
        await desk.add_feed(server.url("/rss"), name="world", check=False)
        for i in range(len(words) - 1):  # SUDAN pinned, two rotating items per poll
            listed = [SUDAN, *rotating[i : i + 2]]
            server.serve("/rss", rss("World", server.base_url, listed), content_type="application/rss+xml")
            report = await desk.fetch()
            counts.append((report.counts["new"], report.counts["unchanged"], report.counts["duplicates"]))
            sizes.append(len(await items_table(desk)))

    assert counts == [(3, 0, 0)] + [(1, 2, 0)] * 4
    assert max(sizes) <= 1 + 3  # item_memory + the items listed
    assert [len(server.requests_to(s.path)) for s in [SUDAN, *rotating]] == [1] * 7
