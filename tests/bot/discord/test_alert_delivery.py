"""Delivering alerts to channels that changed: gone (10003) or closed to the bot (50001, 50013)
channels lose their follows; without Embed Links the alert is plain text, also in a channel of
another shard the bot cannot see; other errors are retried a bounded number of times."""

from __future__ import annotations

import asyncio
import logging

import pytest

from tests.discord_standin import DiscordStandin, Overwrite, Perm
from tests.feeds.news import PATROL
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
    url = publish(news, [PATROL])
    options = alerts_options(alert_attempts=2, alert_retry_s=0.05)
    async with asyncio.timeout(TIMEOUT), start_bot(**options) as bot:
        await bot.feeds.follow(standin.general.id, TOPIC, guild_id=standin.guild.id)
        await bot.feeds.add_feed(url, name="world", check=False)
        await bot.feeds.fetch()
        await standin.wait_until(lambda: "dropping an alert" in caplog.text, timeout=90, what="the drop")
        assert await bot.feeds.follows.pending() == [] and await bot.feeds.following(standin.general.id)
    assert injected.sent == 10 and standin.bot_messages(standin.general) == []
    assert [r.status for r in standin.requests if r.route == posts] == [429] * 10
    assert "after 2 failed attempts" in caplog.text


async def test_a_server_that_removes_the_bot_stops_its_follows(
    standin: DiscordStandin, start_bot: StartBot, caplog: pytest.LogCaptureFixture
):
    caplog.set_level(logging.INFO, "foreign_desk.bot.discord")
    other = standin.world.add_guild("Other")
    async with asyncio.timeout(TIMEOUT), start_bot(**alerts_options()) as bot:
        for channel in (standin.general, standin.world.add_text_channel("news"), other.general):
            await bot.feeds.follow(channel.id, TOPIC, guild_id=channel.guild_id)
        await standin.remove_bot_from_guild(standin.guild)
        await standin.wait_until(lambda: "stopped its 2 follow(s)" in caplog.text, what="the log line")
        assert await bot.feeds.following(guild_id=standin.guild.id) == []
        assert [f.channel_id for f in await bot.feeds.following()] == [other.general.id]
    assert f"removed from server {standin.guild.id}: stopped its 2 follow(s)" in caplog.text
