"""Installable by users: /ask, /latest, /sources, /help and the message menu are offered to a user
who installed the app for themselves, in DMs and group DMs where the bot is not; the managers'
commands stay in servers the bot is installed in."""

from __future__ import annotations

import asyncio

import pytest

from tests.discord_standin import DiscordStandin, StandinUsageError

from .conftest import NATO_JAPAN, StartBot, assert_everything_quiet, embed_of

ANYWHERE = {"ask", "latest", "sources", "help", "Ask Foreign Desk"}
SERVERS_ONLY = {"admin", "follow", "unfollow", "following"}


async def test_the_registrations_allow_user_installs_where_they_should(
    standin: DiscordStandin, start_bot: StartBot
):
    async with asyncio.timeout(60), start_bot():
        pass
    registered = {c["name"]: c for c in standin.commands.global_commands}
    assert set(registered) == ANYWHERE | SERVERS_ONLY
    for name in ANYWHERE:
        assert (registered[name]["integration_types"], registered[name]["contexts"]) == ([0, 1], [0, 1, 2]), (
            name
        )
    for name in SERVERS_ONLY:
        assert (registered[name]["integration_types"], registered[name]["contexts"]) == ([0], [0]), name


async def test_a_user_who_installed_the_app_asks_in_a_group_dm(standin: DiscordStandin, start_bot: StartBot):
    friend = standin.world.add_user("fia.friend", in_guild=False)
    group = standin.world.private_channel(standin.user, friend)
    async with asyncio.timeout(90), start_bot():
        asked = await standin.send_slash_command("ask", {"question": NATO_JAPAN}, channel=group)
        answer = await asked.wait_for_reply(lambda m: bool(m.embeds), timeout=20)
        latest = await standin.send_slash_command("latest", {"count": 1}, channel=group)
        newest = await latest.wait_for_reply(lambda m: bool(m.embeds), timeout=20)
        helped = await standin.send_slash_command("help", channel=group)
        await helped.wait_for_reply(lambda m: bool(m.embeds), timeout=20)
        said = await standin.send_message(NATO_JAPAN, author=friend, channel=group)
        menu = await standin.send_message_command(said, "Ask Foreign Desk", installed="user")
        await menu.wait_for_reply(lambda m: bool(m.embeds), timeout=20)
        for command in ("admin stats", "follow", "following"):
            with pytest.raises(StandinUsageError, match="not installable by users"):
                await standin.send_slash_command(
                    command, {"topic": "Taiwan"} if command == "follow" else {}, channel=group
                )
    assert asked.payload["context"] == 2 and not answer.ephemeral
    assert embed_of(answer)["title"] == NATO_JAPAN and embed_of(newest)["description"].startswith("**1.** ")
    touched = [r for r in standin.requests if str(group.id) in r.path]
    assert touched == []  # everything went through the interactions: the bot is not in that channel
    assert_everything_quiet(standin)


async def test_a_user_install_answers_in_the_bots_dm(standin: DiscordStandin, start_bot: StartBot):
    async with asyncio.timeout(60), start_bot():
        asked = await standin.send_slash_command("ask", {"question": NATO_JAPAN}, dm=True, installed="user")
        answer = await asked.wait_for_reply(lambda m: bool(m.embeds), timeout=20)
        with pytest.raises(StandinUsageError, match="not available in DMs"):
            await standin.send_slash_command("admin stats", dm=True)
    assert asked.payload["authorizing_integration_owners"] == {"1": str(standin.user.id)}
    assert embed_of(answer)["title"] == NATO_JAPAN


async def test_a_server_that_installed_only_the_commands_keeps_nothing_it_would_lose(
    standin: DiscordStandin, start_bot: StartBot
):
    """Without the bot user (only ``applications.commands``), the server's commands still come,
    but the bot cannot post there, and a server it is not in counts as one it left: its follows
    would stop and its zone be forgotten. So nothing is kept for it, and /ask still answers."""
    bare = standin.world.add_guild("Commands only", with_bot=False)
    owner, channel = standin.world.users[bare.owner_id], bare.general
    async with asyncio.timeout(90), start_bot() as bot:
        asked = await standin.send_slash_command("ask", {"question": NATO_JAPAN}, channel=channel, user=owner)
        answer = await asked.wait_for_reply(lambda m: bool(m.embeds), timeout=20)
        replies = []
        kept = (("follow", {"topic": "Taiwan"}), ("admin timezone", {"zone": "Asia/Jakarta"}))
        for command, options in kept:
            sent = await standin.send_slash_command(command, options, channel=channel, user=owner)
            replies.append(await sent.wait_for_reply(timeout=15))
        assert await bot.feeds.following(guild_id=bare.id) == []
        assert await bot.answers.server_zone(bare.id) is None
    assert embed_of(answer)["title"] == NATO_JAPAN
    for reply in replies:
        assert reply.ephemeral and "add the bot to this server" in reply.content
