"""Alert claims: a post is claimed before it is sent, so no channel gets it twice; a sender that
stopped mid-send leaves a claim the next sender resends with the same nonce, or drops when too old."""

from __future__ import annotations

from collections import Counter
from types import SimpleNamespace

import discord
import pytest
from foreign_desk.bot.discord.alerts import Alerts
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


class Outage:
    """A Discord channel answering 503 until ``until`` (a FakeClock time), though each send still
    posts its message, unless one with its nonce was posted in the last ``nonce_memory_s``
    (``enforce_nonce``: that one is then the answer): what a lost answer leaves unknown."""

    def __init__(self, clock: FakeClock, until: float, nonce_memory_s: float) -> None:
        self.clock, self.until, self.memory = clock, until, nonce_memory_s
        self.posted: list[str] = []
        self._remembered: dict[str, float] = {}

    def get_channel(self, channel_id: int) -> Outage:  # the client's: every channel is this one
        return self

    async def send(self, content: str, **fields: object) -> SimpleNamespace:
        nonce, now = str(fields["nonce"]), self.clock()
        if now - self._remembered.get(nonce, -1e12) > self.memory:
            self.posted.append(nonce)
            self._remembered[nonce] = now
        if now < self.until:
            raise discord.DiscordServerError(SimpleNamespace(status=503, reason="Unavailable"), "upstream")
        return SimpleNamespace(embeds=[fields.get("embed")])


async def test_an_alert_that_may_have_been_posted_is_resent_only_while_discord_remembers_its_nonce(
    server: FixtureServer, desk: FeedDesk, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    """Discord answers 503 for four minutes, each first send posted all the same. The backoff
    (30 s, doubled) would resend at 210 s, past Discord's nonce memory (here three minutes):
    a second message. Resends come sooner instead, and then the alert is dropped, posted once."""
    await matched(server, desk, clock)
    start = clock()
    discord_side = Outage(clock, until=start + 240, nonce_memory_s=180)
    alerts = Alerts(discord_side, desk, check_s=5, settle_s=0, attempts=5, retry_s=30)  # type: ignore[arg-type]
    for second in range(0, 600, 5):  # the alert loop's looks, every 5 s
        clock.now = start + second
        await alerts.deliver_due()
    assert len(discord_side.posted) == 2  # both channels' alerts ...
    assert set(Counter(discord_side.posted).values()) == {1}  # ... once each
    assert await desk.follows.pending() == [] and await desk.claims.held_channels() == set()
    assert alerts.sent == 0 and "dropping an alert" in caplog.text


async def test_a_retry_scheduled_by_a_clock_since_set_back_is_due_now(
    server: FixtureServer, desk: FeedDesk, clock: FakeClock
) -> None:
    """Its retry stayed in 2099, and its channel, held while the claim was outstanding, got no
    alert again; and a backoff's doubling had no ceiling (alert_retry_s 86,400 and 100 attempts)."""
    await matched(server, desk, clock)
    post = (await desk.due_posts())[0]
    claimed = await desk.claim(post)
    assert claimed is not None
    right, clock.now = clock.now, 4_070_908_800.0  # 2099-01-01
    await desk.send_failed(claimed, backoff_s=10)
    clock.now = right
    retry = next(p for p in await desk.due_posts() if p.channel_id == claimed.channel_id)
    assert retry.nonce == claimed.nonce
    assert await desk.claim(retry) == retry

    async def due() -> bool:
        return any(p.nonce == claimed.nonce for p in await desk.due_posts())

    for _ in range(40):
        await desk.send_failed(retry, backoff_s=86_400)
        assert not await due()  # backing off
        clock.advance(86_400)
        assert await due() and await desk.claim(retry) == retry  # within a day, however many attempts


@pytest.mark.parametrize("left", ["mid-send", "failed unknown"])
async def test_an_alert_that_may_have_been_posted_by_a_clock_since_set_back_is_not_resent(
    server: FixtureServer, desk: FeedDesk, clock: FakeClock, left: str
) -> None:
    """Its send began while the clock said 2099, and its sender died mid-send, or Discord's answer
    was lost: set right, the clock made it look younger than Discord's nonce memory for decades,
    so it was resent, and a message that had been posted came twice. When it began is unknown:
    it is dropped, counted as posted, as one past that memory is."""
    await matched(server, desk, clock)
    post = (await desk.due_posts())[0]
    right, clock.now = clock.now, 4_070_908_800.0  # 2099-01-01
    claimed = await desk.claim(post)
    assert claimed is not None
    if left == "failed unknown":
        await desk.send_failed(claimed, backoff_s=10, maybe_posted=True)
    clock.now = right
    if left == "mid-send":
        assert await desk.recover_claims() == (0, 1)
    assert claimed.nonce not in {p.nonce for p in await desk.due_posts()}
    assert await desk.follows.pending(claimed.channel_id) == []
    assert claimed.channel_id not in await desk.claims.held_channels()


async def test_a_post_recorded_by_a_clock_since_set_back_neither_holds_nor_hides_its_channel(
    server: FixtureServer, desk: FeedDesk, clock: FakeClock
) -> None:
    """Posted while the clock said 2099, it was the channel's last post until 2099: no alert came
    again (the gap never passed), and no later post could count toward the gap either."""
    await matched(server, desk, clock)
    first, second = await desk.due_posts()
    await desk.mark_posted(await desk.claim(first), at=4_070_908_800.0)  # type: ignore[arg-type]
    await desk.mark_posted(await desk.claim(second), at=clock())  # type: ignore[arg-type]
    assert await desk.follows.last_posts(before=clock() + 600) == {second.channel_id: clock()}
