"""Topic follows and `latest --topic` against really embedded articles."""

from __future__ import annotations

from dataclasses import replace

import pytest
from foreign_desk.index.engine import Engine
from foreign_desk.index.feeds import FeedDesk, FeedError, Match, Post
from foreign_desk.index.feeds.drops import DROPS_KEPT_S
from foreign_desk.index.models import ArticleSummary

from tests.feeds.conftest import FakeClock, serve_story
from tests.feeds.news import GAZA, PATROL, PATROL_UPDATED, SUDAN, WIRE, rss
from tests.fetch.fixture_server import FixtureServer
from tests.topic_news import ARTICLES, HAITI, HAITI_ID, SHOAL_ID

FISHING = "maritime patrols against illegal fishing"
GAZA_AID = "humanitarian aid to Gaza"


async def test_followed_topics_alert_each_matching_article_once(
    server: FixtureServer, desk: FeedDesk, engine: Engine, clock: FakeClock
) -> None:
    patrol_follow = await desk.follow(111, FISHING, guild_id=1, created_by=42)
    await desk.follow(222, GAZA_AID, guild_id=1)
    with pytest.raises(FeedError, match="already follows"):
        await desk.follow(111, FISHING.upper())
    heard: list[Match] = []
    desk.on_match(heard.extend)
    for story in (PATROL, SUDAN, GAZA):
        serve_story(server, story)
    server.serve(
        "/rss", rss("News", server.base_url, [PATROL, SUDAN, GAZA]), content_type="application/rss+xml"
    )
    await desk.add_feed(server.url("/rss"), name="news", check=False)

    await desk.fetch()

    assert {(m.channel_id, m.article.title) for m in heard} == {(111, PATROL.title), (222, GAZA.title)}
    assert await desk.due_posts() == []  # a burst is let settle first
    clock.advance(31)
    posts = await desk.due_posts()
    assert [(p.channel_id, [m.article.title for m in p.items]) for p in posts] == [
        (111, [PATROL.title]),
        (222, [GAZA.title]),
    ]
    alert = posts[0].items[0].article  # what the message shows: headline, outlet, date, lede, link
    assert (alert.source, alert.published, alert.url) == (
        "The Guardian",
        "2024-03-05T09:15:00Z",
        server.url(PATROL.path),
    )
    assert alert.lede.startswith("Indonesia and Australia will begin joint naval patrols")
    for post in posts:
        await desk.mark_posted(post)
    assert await desk.due_posts() == [] and await desk.follows.pending() == []

    # The article is updated and re-indexed: it is not posted again.
    serve_story(server, PATROL_UPDATED)
    server.serve("/rss", rss("News", server.base_url, [PATROL_UPDATED, SUDAN, GAZA]), content_type="text/xml")
    assert (await desk.fetch()).counts["updated"] == 1
    assert await desk.follows.pending() == []

    assert [f.topic for f in await desk.following(guild_id=1)] == [FISHING, GAZA_AID]
    assert (await desk.unfollow(222, "HUMANITARIAN  aid to gaza")).channel_id == 222
    assert await desk.following(222) == [] and await desk.following(111) == [patrol_follow]
    with pytest.raises(FeedError, match="does not follow"):
        await desk.unfollow(222, GAZA_AID)


async def test_latest_on_a_topic_keeps_recent_articles_about_it_newest_first(
    server: FixtureServer, desk: FeedDesk, engine: Engine
) -> None:
    stories = [PATROL, SUDAN, GAZA, WIRE]
    for story in stories:
        serve_story(server, story)
    server.serve("/rss", rss("News", server.base_url, stories), content_type="application/rss+xml")
    await desk.add_feed(server.url("/rss"), name="news", check=False)
    await desk.fetch()

    assert [a.title for a in await engine.latest(topic=GAZA_AID)] == [GAZA.title]
    assert [a.title for a in await engine.latest(topic="perjanjian pertahanan Jepang dan Filipina")] == [
        WIRE.title
    ]
    assert await engine.latest(topic="football transfer news") == []
    assert await engine.latest(topic=GAZA_AID, source="The Guardian") == []
    assert [a.title for a in await engine.latest(2)] == [GAZA.title, PATROL.title]
    # Only the newest articles are searched: the wire story is the oldest of the four.
    feeds = replace(engine.settings.feeds, topic_recent=3)
    async with await Engine.open(replace(engine.settings, feeds=feeds), embedder=engine.embedder) as recent:
        assert await recent.latest(topic="Japanese troops training on Philippine territory") == []


async def test_a_followed_place_alerts_the_articles_that_name_it_not_those_naming_it_in_passing(
    desk: FeedDesk, engine: Engine
) -> None:
    """Alerts and ``latest`` share one rule: an article is on the topic when its headline or
    first sentence names it (or it stands out by meaning); a name deep in the body is not enough."""
    await desk.follow(111, "Haiti", guild_id=1)
    await desk.follow(222, "Laut China Selatan", guild_id=1)
    heard: list[Match] = []
    desk.on_match(heard.extend)
    await engine.add_articles(list(ARTICLES))  # indexed: matched against the follows
    assert {(m.channel_id, m.article.title) for m in heard} == {
        (111, HAITI.title),
        (111, HAITI_ID.title),
        (222, SHOAL_ID.title),
    }


async def test_follows_the_bot_stops_are_remembered_for_a_week_with_why(
    desk: FeedDesk, clock: FakeClock
) -> None:
    """Discord's reasons stop follows (a channel deleted, a server that removed the bot): each is
    remembered with its reason, newest first, for ``DROPS_KEPT_S``; following the topic there
    again forgets it, and housekeeping forgets the old ones. A member's /unfollow leaves none."""
    for channel, topic in ((111, FISHING), (111, GAZA_AID), (222, FISHING), (333, FISHING)):
        await desk.follow(channel, topic, guild_id=1)
    await desk.follow(444, FISHING, guild_id=2)
    await desk.unfollow(333, FISHING)
    assert [f.topic for f in await desk.drop_follows("deleted", channel_id=111)] == [FISHING, GAZA_AID]
    assert await desk.drop_follows("deleted", channel_id=111) == []  # told twice: once
    clock.advance(60)
    await desk.drop_follows("removed", guild_id=2)
    await desk.drop_follows("locked", channel_id=222)
    assert [(d.channel_id, d.topic, d.reason) for d in await desk.dropped_follows(guild_id=1)] == [
        (222, FISHING, "locked"),
        (111, GAZA_AID, "deleted"),  # at one moment: the one followed last first
        (111, FISHING, "deleted"),
    ]
    assert [d.reason for d in await desk.dropped_follows(444)] == ["removed"]
    assert await desk.following() == [] and await desk.dropped_follows(333) == []
    await desk.follow(111, GAZA_AID.upper(), guild_id=1)  # followed again
    assert [d.topic for d in await desk.dropped_follows(111)] == [FISHING]
    clock.advance(DROPS_KEPT_S - 30)
    assert [d.channel_id for d in await desk.dropped_follows(guild_id=1)] == [222]  # the first: too old
    assert await desk.prune() == 1
    clock.advance(60)
    assert await desk.dropped_follows(guild_id=1) == [] and await desk.prune() == 2


async def test_alerts_given_up_on_are_remembered_for_a_week_with_why(
    desk: FeedDesk, clock: FakeClock
) -> None:
    """An alert dropped after its attempts was a log line only: it is remembered (its topics,
    first headline, how many articles, why), newest first, for ``DROPS_KEPT_S``; a channel's list
    holds its threads'; housekeeping forgets the old ones. The follows stay."""
    await desk.follow(111, FISHING, guild_id=1)
    await desk.follow(555, GAZA_AID, guild_id=1, parent_id=111)
    await desk.alert_undelivered(_post(111, (FISHING,), 1, guild_id=1), "refused")
    clock.advance(60)
    await desk.alert_undelivered(_post(555, (GAZA_AID,), 3, guild_id=1), "unanswered")
    await desk.alert_undelivered(_post(777, (FISHING,), 1, guild_id=2), "refused")
    shown = [
        (u.channel_id, u.topics, u.headline, u.articles, u.reason) for u in await desk.undelivered_alerts(111)
    ]
    assert shown == [
        (555, (GAZA_AID,), "Headline 0", 3, "unanswered"),
        (111, (FISHING,), "Headline 0", 1, "refused"),
    ]
    assert [u.channel_id for u in await desk.undelivered_alerts(555)] == [555]
    assert [u.channel_id for u in await desk.undelivered_alerts(guild_id=2)] == [777]
    assert [f.channel_id for f in await desk.following()] == [111, 555]
    clock.advance(DROPS_KEPT_S - 30)
    assert [u.channel_id for u in await desk.undelivered_alerts(guild_id=1)] == [555]  # the first: too old
    assert await desk.prune() == 1
    clock.advance(60)
    assert await desk.undelivered_alerts(guild_id=1) == [] and await desk.prune() == 2


def _post(channel_id: int, topics: tuple[str, ...], n: int, *, guild_id: int) -> Post:
    items = tuple(
        Match(
            1,
            channel_id,
            topics[0],
            ArticleSummary(f"a{i}", f"Headline {i}", "Outlet", None, None, "en", None, ""),
            0.9,
            1.0,
            guild_id,
        )
        for i in range(n)
    )
    return Post(channel_id, items, ((),) * n, tuple(f"a{i}" for i in range(n)), topics)


async def test_a_deleted_channels_threads_stop_with_it_a_closed_ones_do_not(desk: FeedDesk) -> None:
    """A channel closed to the bot (50013) may leave its threads open to it; a deleted one takes
    them along. The channel's drops list its threads' too."""
    await desk.follow(111, FISHING, guild_id=1)
    await desk.follow(555, FISHING, guild_id=1, parent_id=111)
    assert [f.channel_id for f in await desk.drop_follows("closed", channel_id=111)] == [111]
    assert [f.channel_id for f in await desk.following()] == [555]
    await desk.follow(111, GAZA_AID, guild_id=1)
    assert [f.channel_id for f in await desk.drop_follows("deleted", channel_id=111)] == [555, 111]
    assert [(d.channel_id, d.topic, d.reason) for d in await desk.dropped_follows(111)] == [
        (111, GAZA_AID, "deleted"),
        (555, FISHING, "deleted"),
        (111, FISHING, "closed"),
    ]


async def test_a_thread_followed_before_its_parent_was_kept_learns_it_when_seen(desk: FeedDesk) -> None:
    """A thread's follow made before feeds migration 18 has no ``parent_id``: deleting its channel
    left it until an alert met 10003. Seen with its channel, it learns it; a recorded parent and
    threads nobody follows are left as they are."""
    await desk.follow(555, FISHING, guild_id=1)  # a thread of 111, followed before
    await desk.follow(666, FISHING, guild_id=1, parent_id=222)
    assert await desk.learn_parents({555: 111, 666: 333, 777: 111, 888: None}) == 1
    assert await desk.learn_parents({555: 111}) == 0  # known now: nothing written
    assert [f.channel_id for f in await desk.drop_follows("deleted", channel_id=111)] == [555]
    assert [f.channel_id for f in await desk.drop_follows("deleted", channel_id=222)] == [666]
