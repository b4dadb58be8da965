"""Housekeeping forgets the topic matches that guard no alert any more (their articles left the
index, or were posted long ago), and keeps those that still do: no alert is posted twice."""

from __future__ import annotations

import pytest
from foreign_desk.index.engine import Engine
from foreign_desk.index.feeds import FeedDesk, Post
from foreign_desk.index.feeds.follows import POSTED_KEPT_S, SettledMatch

from tests.feeds.conftest import FakeClock, publish
from tests.feeds.news import GAZA, PATROL
from tests.fetch.fixture_server import FixtureServer

A = 111
FISHING = "maritime patrols against illegal fishing"
GAZA_AID = "humanitarian aid to Gaza"
OLD, RECENT, CLAIMED, WAITING, UNFOLLOWED, LIVE_OLD = 11, 12, 13, 14, 15, 21
"""Channels: PATROL posted long ago, posted now, being sent, not posted yet, in a follow since
removed; GAZA (which stays indexed) posted long ago."""
SQL_ROWS = (
    "SELECT f.channel_id FROM follow_matches m JOIN follows f ON f.id = m.follow_id ORDER BY f.channel_id"
)


async def alerted(server: FixtureServer, desk: FeedDesk, engine: Engine, clock: FakeClock) -> Post:
    """Every channel's match in its state; PATROL (server A's own) then leaves the index.
    Returns CLAIMED's post, still being sent."""
    for channel in (OLD, RECENT, CLAIMED, WAITING, UNFOLLOWED):
        await desk.follow(channel, FISHING, guild_id=A)
    await desk.follow(LIVE_OLD, GAZA_AID, guild_id=A)
    await desk.add_feed(publish(server, "/a", PATROL), name="a", check=False, guild_id=A)
    await desk.fetch(guild_id=A)
    await desk.add_feed(publish(server, "/shared", GAZA), name="shared", check=False)
    await desk.fetch()
    clock.advance(31)
    posts = {p.channel_id: p for p in await desk.due_posts()}
    assert set(posts) == {OLD, RECENT, CLAIMED, WAITING, UNFOLLOWED, LIVE_OLD}
    long_ago = clock() - POSTED_KEPT_S - 1
    for channel, at in ((OLD, long_ago), (RECENT, None), (UNFOLLOWED, None), (LIVE_OLD, long_ago)):
        await desk.mark_posted(posts[channel], at=at)
    claimed = await desk.claim(posts[CLAIMED])
    assert claimed is not None
    await desk.unfollow(UNFOLLOWED, FISHING)  # its matches go with it (ON DELETE CASCADE)
    await engine.forget(A)
    assert [r[0] for r in await desk.db.rows(SQL_ROWS)] == [OLD, RECENT, CLAIMED, WAITING, LIVE_OLD]
    return claimed


async def test_housekeeping_forgets_spent_matches_and_no_alert_is_posted_twice(
    server: FixtureServer, desk: FeedDesk, engine: Engine, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("foreign_desk.index.feeds.desk.FORGET_BATCH", 2)  # several batches
    claimed = await alerted(server, desk, engine, clock)
    count = await desk.db.rows("SELECT count(*) FROM follow_matches")
    assert count[0][0] == 5  # none of UNFOLLOWED: gone with its follow

    assert await desk.forget_spent_matches() == 2  # OLD and WAITING: their article left the index
    assert [r[0] for r in await desk.db.rows(SQL_ROWS)] == [RECENT, CLAIMED, LIVE_OLD]
    assert await desk.forget_spent_matches() == 0

    # PATROL comes back (its page ingested again: the same article id), the claim is sent.
    await desk.ingest(server.url(PATROL.path), guild_id=A)
    await desk.mark_posted(claimed)
    clock.advance(POSTED_KEPT_S)
    posts = await desk.due_posts()
    # RECENT and CLAIMED got it already: not again. OLD got it more than POSTED_KEPT_S ago, and
    # WAITING never: both get it now, once.
    assert [(p.channel_id, [m.article.title for m in p.items]) for p in posts] == [
        (OLD, [PATROL.title]),
        (WAITING, [PATROL.title]),
    ]
    # GAZA is still indexed: LIVE_OLD's match stays, and an update of GAZA is not alerted again.
    assert [r[0] for r in await desk.db.rows(SQL_ROWS)] == [OLD, RECENT, CLAIMED, WAITING, LIVE_OLD]


async def test_a_match_whose_article_comes_back_while_it_is_forgotten_is_kept(
    server: FixtureServer, desk: FeedDesk, engine: Engine, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """PATROL is ingested again between housekeeping's look at the index and its delete: its new
    matches found the old rows and added none. OLD's posted one is put back (no second alert),
    WAITING's is made again (its alert is not lost)."""
    claimed = await alerted(server, desk, engine, clock)
    forget = desk.follows.forget

    async def ingested_meanwhile(matches: list[SettledMatch]) -> int:
        await desk.ingest(server.url(PATROL.path), guild_id=A)
        return await forget(matches)

    monkeypatch.setattr(desk.follows, "forget", ingested_meanwhile)
    await desk.forget_spent_matches()
    await desk.mark_posted(claimed)
    clock.advance(31)
    assert [p.channel_id for p in await desk.due_posts()] == [WAITING]  # OLD: posted already


async def test_a_match_posted_by_a_clock_since_set_back_is_forgotten_once_its_article_left(
    server: FixtureServer, desk: FeedDesk, engine: Engine, clock: FakeClock
) -> None:
    """PATROL was posted in a channel while the clock said 2099, then left the index. Set right,
    the clock kept its match until 30 days after 2099: the row stayed, and PATROL, ingested
    again, was never alerted there again. When it was posted is unknown: it is spent now."""
    await desk.follow(OLD, FISHING, guild_id=A)
    await desk.add_feed(publish(server, "/a", PATROL), name="a", check=False, guild_id=A)
    await desk.fetch(guild_id=A)
    clock.advance(31)
    (post,) = await desk.due_posts()
    await desk.mark_posted(post, at=4_070_908_800.0)  # 2099-01-01
    await engine.forget(A)
    assert await desk.forget_spent_matches() == 1
    await desk.ingest(server.url(PATROL.path), guild_id=A)
    clock.advance(31)
    assert [(p.channel_id, [m.article.title for m in p.items]) for p in await desk.due_posts()] == [
        (OLD, [PATROL.title])
    ]
