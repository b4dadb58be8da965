"""An article already stored that a server's own feed or page brings (a duplicate: the same URL)
is new to that server: its follows are alerted, once. Follows that could see the article before
are not alerted again. The same text from the same outlet at another URL is the server's own
article, unless it sees the stored one already (``test_servers``): alerted to it alone."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest
from foreign_desk.index.engine import Engine
from foreign_desk.index.feeds import FeedDesk, Post
from foreign_desk.index.feeds.models import ItemOutcome
from foreign_desk.index.models import Scope

from tests.feeds.conftest import FakeClock, publish, serve_story
from tests.feeds.news import PATROL, PATROL_UPDATED
from tests.fetch.fixture_server import FixtureServer

A, B = 111, 222
IN_A, IN_B, LATE_IN_A = 11, 22, 12
"""A channel of each server, both following ``FISHING``; another channel of A's, following it
since after A brought the article (not new to A then: never alerted, as any follow's)."""
FISHING = "maritime patrols against illegal fishing"
COPY = PATROL.with_(path="/world/2024/mar/05/arafura-sea-joint-patrols-agreed")
"""PATROL's text, from the same outlet, at another URL."""
Bring = Callable[[FeedDesk, FixtureServer], Awaitable[ItemOutcome]]
"""Server B brings PATROL (already stored) again; the outcome of its item."""


async def page_at_the_same_url(desk: FeedDesk, server: FixtureServer) -> ItemOutcome:
    return await desk.ingest(server.url(PATROL.path), guild_id=B)


async def page_with_the_same_text(desk: FeedDesk, server: FixtureServer) -> ItemOutcome:
    serve_story(server, COPY)
    return await desk.ingest(server.url(COPY.path), guild_id=B)


async def feed_item_at_the_same_url(desk: FeedDesk, server: FixtureServer) -> ItemOutcome:
    await desk.add_feed(publish(server, "/b.rss", PATROL), name="b", check=False, guild_id=B)
    (outcome,) = (await desk.fetch(guild_id=B)).items
    return outcome


async def feed_item_with_the_same_text(desk: FeedDesk, server: FixtureServer) -> ItemOutcome:
    await desk.add_feed(publish(server, "/b.rss", COPY), name="b", check=False, guild_id=B)
    (outcome,) = (await desk.fetch(guild_id=B)).items
    return outcome


def posted(posts: list[Post]) -> list[tuple[int, list[str]]]:
    return [(p.channel_id, [m.article.title for m in p.items]) for p in posts]


async def deliver(desk: FeedDesk, clock: FakeClock) -> list[tuple[int, list[str]]]:
    """Send what is due (marking it posted); what was sent."""
    clock.advance(31)
    posts = await desk.due_posts()
    for post in posts:
        await desk.mark_posted(post)
    return posted(posts)


async def followed_in_a_and_b_ingested_by_a(server: FixtureServer, desk: FeedDesk, clock: FakeClock) -> str:
    """A and B follow the topic; A ingests the story and its follow is alerted: the article's id."""
    await desk.follow(IN_A, FISHING, guild_id=A)
    await desk.follow(IN_B, FISHING, guild_id=B)
    serve_story(server, PATROL)
    uid = (await desk.ingest(server.url(PATROL.path), guild_id=A)).article_id
    assert await deliver(desk, clock) == [(IN_A, [PATROL.title])]
    return uid


@pytest.mark.parametrize("bring", [page_at_the_same_url, feed_item_at_the_same_url])
async def test_a_stored_article_new_to_a_server_alerts_its_follows_once(
    server: FixtureServer, desk: FeedDesk, engine: Engine, clock: FakeClock, bring: Bring
) -> None:
    uid = await followed_in_a_and_b_ingested_by_a(server, desk, clock)
    await desk.follow(LATE_IN_A, FISHING, guild_id=A)

    outcome = await bring(desk, server)

    assert (outcome.status, outcome.article_id) == ("duplicate", uid)
    assert await deliver(desk, clock) == [(IN_B, [PATROL.title])]  # B's follow alone, A's not again
    # B brings it again: up to date, as it would be had B alone held it (before: "duplicate",
    # the stored version kept, which told B that another server holds the page).
    assert (await page_at_the_same_url(desk, server)).status == "unchanged"
    await engine.forget(B)  # B stops seeing it (A still does) and brings it back: alerted already
    assert (await page_at_the_same_url(desk, server)).status == "duplicate"
    assert await deliver(desk, clock) == []


@pytest.mark.parametrize("bring", [page_with_the_same_text, feed_item_with_the_same_text])
async def test_a_copy_of_another_servers_article_is_the_servers_own_alerted_to_it_alone(
    server: FixtureServer, desk: FeedDesk, clock: FakeClock, bring: Bring
) -> None:
    uid = await followed_in_a_and_b_ingested_by_a(server, desk, clock)

    outcome = await bring(desk, server)

    assert outcome.status == "new" and outcome.article_id != uid
    assert await deliver(desk, clock) == [(IN_B, [PATROL.title])]


async def test_a_shared_article_a_server_brings_again_is_not_new_to_it(
    server: FixtureServer, desk: FeedDesk, engine: Engine, clock: FakeClock
) -> None:
    """B saw the shared article already (its follow came after it was alerted elsewhere)."""
    await desk.follow(IN_A, FISHING, guild_id=A)
    serve_story(server, PATROL)
    await desk.ingest(server.url(PATROL.path))
    assert await deliver(desk, clock) == [(IN_A, [PATROL.title])]
    await desk.follow(IN_B, FISHING, guild_id=B)

    assert (await feed_item_with_the_same_text(desk, server)).status == "duplicate"
    assert (await page_at_the_same_url(desk, server)).status == "duplicate"

    assert await deliver(desk, clock) == []


@pytest.mark.parametrize("others", [False, True], ids=["alone", "held-by-another-server"])
async def test_a_page_a_server_updates_is_not_alerted_to_it_again_whoever_else_holds_it(
    server: FixtureServer, desk: FeedDesk, engine: Engine, clock: FakeClock, others: bool
) -> None:
    """B's update of a page A holds too is B's own version of it (a new article id): alerted
    again in B's channel, it told B what an update B alone held never does (the same id), that
    another server holds the page."""
    await desk.follow(IN_A, FISHING, guild_id=A)
    await desk.follow(IN_B, FISHING, guild_id=B)
    serve_story(server, PATROL)
    if others:
        await desk.ingest(server.url(PATROL.path), guild_id=A)
    await page_at_the_same_url(desk, server)
    assert (IN_B, [PATROL.title]) in await deliver(desk, clock)
    serve_story(server, PATROL_UPDATED.with_(path=PATROL.path))

    assert (await page_at_the_same_url(desk, server)).status == "updated"

    assert await desk.follows.pending() == []
    assert [a.title for a in await engine.latest(10, scope=Scope(B))] == [PATROL_UPDATED.title]


@pytest.mark.parametrize("others", [False, True], ids=["alone", "held-by-another-server"])
async def test_a_page_a_server_updates_before_its_alert_went_out_is_alerted_once_whoever_else_holds_it(
    server: FixtureServer, desk: FeedDesk, clock: FakeClock, others: bool
) -> None:
    """B's follow matched the page and its alert waits (the digest gap); B brings the page again,
    changed. Alone, its article keeps its id and the alert goes out; a version of its own (A
    holds the page too) took the match as posted, and B's channel was never told."""
    await desk.follow(IN_B, FISHING, guild_id=B)
    serve_story(server, PATROL)
    if others:
        await desk.ingest(server.url(PATROL.path), guild_id=A)
    await page_at_the_same_url(desk, server)
    serve_story(server, PATROL_UPDATED.with_(path=PATROL.path))

    assert (await page_at_the_same_url(desk, server)).status == "updated"

    assert await deliver(desk, clock) == [(IN_B, [PATROL_UPDATED.title])]
    assert await deliver(desk, clock) == []
