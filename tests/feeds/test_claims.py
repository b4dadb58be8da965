"""Alert claims: a post is claimed before it is sent, so no channel gets it twice; a sender that
stopped mid-send leaves a claim the next sender resends with the same nonce, or drops when too old."""

from __future__ import annotations

from foreign_desk.index.feeds import FeedDesk

from tests.feeds.conftest import FakeClock, serve_story
from tests.feeds.news import GAZA, PATROL, SUDAN, rss
from tests.fetch.fixture_server import FixtureServer

FISHING = "maritime patrols against illegal fishing"
GAZA_AID = "humanitarian aid to Gaza"


async def matched(server: FixtureServer, desk: FeedDesk, clock: FakeClock) -> None:
    await desk.follow(111, FISHING, guild_id=1)
    await desk.follow(222, GAZA_AID, guild_id=1)
    for story in (PATROL, SUDAN, GAZA):
        serve_story(server, story)
    server.serve(
        "/rss", rss("News", server.base_url, [PATROL, SUDAN, GAZA]), content_type="application/rss+xml"
    )
    await desk.add_feed(server.url("/rss"), name="news", check=False)
    await desk.fetch()
    clock.advance(31)


async def test_a_claimed_post_is_sent_once(server: FixtureServer, desk: FeedDesk, clock: FakeClock) -> None:
    await matched(server, desk, clock)
    first, second = await desk.due_posts()
    claimed = await desk.claim(first)
    assert claimed is not None and claimed.nonce and len(claimed.nonce) <= 25
    assert await desk.claim(first) is None  # a second sender planned the same post: it is taken
    assert [p.channel_id for p in await desk.due_posts()] == [second.channel_id]  # held while claimed
    await desk.mark_posted(claimed)
    assert [p.channel_id for p in await desk.due_posts()] == [second.channel_id]
    assert await desk.follows.pending(first.channel_id) == []


async def test_a_refused_send_keeps_its_nonce_and_backs_off(
    server: FixtureServer, desk: FeedDesk, clock: FakeClock
) -> None:
    await matched(server, desk, clock)
    post = (await desk.due_posts())[0]
    claimed = await desk.claim(post)
    assert claimed is not None
    assert await desk.send_failed(claimed, backoff_s=10) == 1
    assert claimed.channel_id not in {p.channel_id for p in await desk.due_posts()}  # backing off
    clock.advance(11)
    retry = next(p for p in await desk.due_posts() if p.channel_id == claimed.channel_id)
    assert retry.nonce == claimed.nonce and retry.article_ids == claimed.article_ids
    assert await desk.claim(retry) == retry and await desk.claim(retry) is None  # one sender at a time
    assert await desk.send_failed(retry, backoff_s=10) == 2
    clock.advance(11)
    assert claimed.channel_id not in {p.channel_id for p in await desk.due_posts()}  # 20 s the second time
    clock.advance(10)
    assert claimed.channel_id in {p.channel_id for p in await desk.due_posts()}


async def test_a_send_left_unfinished_is_resent_with_its_nonce_or_dropped_when_too_old(
    server: FixtureServer, desk: FeedDesk, clock: FakeClock
) -> None:
    await matched(server, desk, clock)
    stale_post, fresh_post = await desk.due_posts()
    stale = await desk.claim(stale_post)
    clock.advance(desk.claims.resend_within_s - 5)
    fresh = await desk.claim(fresh_post)  # both senders "died" here, mid-send
    assert fresh is not None and stale is not None
    clock.advance(10)
    assert await desk.due_posts() == []  # a claim being sent is nobody else's to send
    assert await desk.recover_claims() == (1, 1)
    due = await desk.due_posts()
    assert [(p.channel_id, p.nonce) for p in due] == [(fresh.channel_id, fresh.nonce)]
    assert await desk.follows.pending(stale.channel_id) == []  # dropped: counted as posted
