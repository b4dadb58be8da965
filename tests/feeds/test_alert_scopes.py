"""A topic alert goes only where the follow's server may still see the article when it is posted:
a match recorded while the server could see it never shows the article to a server that no
longer may (another server's own article, stored under the same id from the same URL)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest
from foreign_desk.index.engine import Engine
from foreign_desk.index.feeds import FeedDesk, Post
from foreign_desk.index.models import Scope

from tests.feeds.conftest import FakeClock, serve_story
from tests.feeds.news import PATROL
from tests.fetch.fixture_server import FixtureServer

A, B = 111, 222
IN_A, IN_B = 11, 22
"""A channel of each server, both following ``FISHING``."""
FISHING = "maritime patrols against illegal fishing"
SHARED_CORPUS = 0
"""``Engine.forget``'s id for the shared corpus (``article_scopes.guild_id`` 0)."""
Change = Callable[[FeedDesk, Engine, str], Awaitable[str]]
"""Matches PATROL's page (at the URL given) in A's channel, then changes who sees it; its id."""
SQL_WAITING = (
    "SELECT f.channel_id FROM follow_matches m JOIN follows f ON f.id = m.follow_id "
    "WHERE m.article_uid = ? AND m.posted_at IS NULL"
)


async def left_then_came_back_as_bs(desk: FeedDesk, engine: Engine, url: str) -> str:
    """A's own page leaves the index (trimmed, forgotten); B's page of the same URL brings it back."""
    await desk.ingest(url, guild_id=A)
    await engine.forget(A)
    outcome = await desk.ingest(url, guild_id=B)
    assert outcome.status == "new"
    return outcome.article_id or ""


async def a_forgot_it_and_b_keeps_it(desk: FeedDesk, engine: Engine, url: str) -> str:
    """A and B both ingested the page; A forgets it, B still sees it (it stays indexed)."""
    uid = (await desk.ingest(url, guild_id=A)).article_id or ""
    assert (await desk.ingest(url, guild_id=B)).status == "duplicate"
    await engine.forget(A, [uid])
    return uid


async def shared_then_bs_alone(desk: FeedDesk, engine: Engine, url: str) -> str:
    """A shared article, also B's own page, leaves the shared corpus: B's own alone now."""
    uid = (await desk.ingest(url)).article_id or ""
    assert (await desk.ingest(url, guild_id=B)).status == "duplicate"
    await engine.forget(SHARED_CORPUS, [uid])
    return uid


@pytest.mark.parametrize(
    ("change", "alerted"),
    [
        (left_then_came_back_as_bs, [IN_B]),
        (a_forgot_it_and_b_keeps_it, [IN_B]),  # the duplicate was new to B: B's follow matched it
        (shared_then_bs_alone, [IN_B]),
    ],
)
async def test_an_alert_goes_only_where_its_server_still_sees_the_article(
    server: FixtureServer,
    desk: FeedDesk,
    engine: Engine,
    clock: FakeClock,
    change: Change,
    alerted: list[int],
) -> None:
    await desk.follow(IN_A, FISHING, guild_id=A)
    await desk.follow(IN_B, FISHING, guild_id=B)
    serve_story(server, PATROL)
    url = server.url(PATROL.path)

    uid = await change(desk, engine, url)  # A's channel matched PATROL while A saw it; now only B does

    assert IN_A in [r[0] for r in await desk.db.rows(SQL_WAITING, (uid,))]  # A's match waits
    assert await engine.visible([uid], Scope(A)) == set() and await engine.visible([uid], Scope(B))
    clock.advance(31)
    posts = await desk.due_posts()
    assert [(p.channel_id, [m.article.title for m in p.items]) for p in posts] == [
        (channel, [PATROL.title]) for channel in alerted
    ]
    assert all(m.channel_id != IN_A for m in await desk.follows.pending())


async def test_a_refused_alert_is_not_retried_once_its_server_no_longer_sees_the_article(
    server: FixtureServer, desk: FeedDesk, engine: Engine, clock: FakeClock
) -> None:
    """Discord refused A's alert (its claim waits for a retry); meanwhile the article became B's
    own: the retry sends nothing to A, and the claim is let go so A's alerts are not held back."""
    claimed = await claimed_in_a(server, desk, clock)
    assert await desk.send_failed(claimed, backoff_s=10) == 1
    await hidden_before_its_retry(server, desk, engine, clock)


async def hidden_before_its_retry(
    server: FixtureServer, desk: FeedDesk, engine: Engine, clock: FakeClock
) -> str:
    """A's claimed alert of PATROL waits for its retry; the article becomes B's own meanwhile:
    the retry sends A nothing, and holds A's channel no more. Returns PATROL's URL."""
    url = server.url(PATROL.path)
    await engine.forget(A)
    await desk.ingest(url, guild_id=B)
    clock.advance(11)
    assert await desk.due_posts() == [] and await desk.claims.held_channels() == set()
    return url


async def claimed_in_a(server: FixtureServer, desk: FeedDesk, clock: FakeClock) -> Post:
    """A's channel follows FISHING; PATROL, A's own page, matches: its alert is claimed."""
    await desk.follow(IN_A, FISHING, guild_id=A)
    serve_story(server, PATROL)
    await desk.ingest(server.url(PATROL.path), guild_id=A)
    clock.advance(31)
    (post,) = await desk.due_posts()
    claimed = await desk.claim(post)
    assert claimed is not None
    return claimed


async def test_a_refused_alert_let_go_while_hidden_is_posted_once_its_server_sees_the_article_again(
    server: FixtureServer, desk: FeedDesk, engine: Engine, clock: FakeClock
) -> None:
    """Discord refused A's alert (nothing was posted); the retry found the article hidden from A
    and sent nothing. A's server sees it again (its page ingested there): the alert comes, once."""
    claimed = await claimed_in_a(server, desk, clock)
    assert await desk.send_failed(claimed, backoff_s=10) == 1
    url = await hidden_before_its_retry(server, desk, engine, clock)

    assert (await desk.ingest(url, guild_id=A)).status == "duplicate"
    clock.advance(31)
    (post,) = await desk.due_posts()
    assert (post.channel_id, [m.article.title for m in post.items]) == (IN_A, [PATROL.title])
    sent = await desk.claim(post)
    assert sent is not None
    await desk.mark_posted(sent)
    assert await desk.due_posts() == []


async def test_an_alert_that_may_have_been_posted_is_never_posted_again(
    server: FixtureServer, desk: FeedDesk, engine: Engine, clock: FakeClock
) -> None:
    """A's alert was being sent when its sender died: it may have reached Discord. Its resend
    found the article hidden from A and sent nothing; A seeing the article again is no new alert."""
    await claimed_in_a(server, desk, clock)
    assert await desk.recover_claims() == (1, 0)
    url = await hidden_before_its_retry(server, desk, engine, clock)

    assert (await desk.ingest(url, guild_id=A)).status == "duplicate"
    clock.advance(31)
    assert await desk.due_posts() == []
