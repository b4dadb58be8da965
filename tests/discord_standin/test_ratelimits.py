"""Rate limits: discord.py meets per-route 429s (Retry-After), the global limit and injected
429s, waits, retries, and every request finally succeeds; `enforce_nonce` makes a resend
return the first message instead of posting twice."""

from __future__ import annotations

import asyncio
from typing import Any

import discord
import pytest
from discord.ext import commands

from .server import DiscordStandin, StandinConfig

MESSAGES = "POST /channels/{channel_id}/messages"


def client(client_options: dict[str, Any]) -> discord.Client:
    return discord.Client(intents=discord.Intents.none(), **client_options)


@pytest.mark.parametrize("standin_config", [StandinConfig(route_limits={MESSAGES: (2, 0.3)})])
async def test_two_clients_share_a_route_bucket_and_recover_from_429(
    standin: DiscordStandin, client_options: dict[str, Any]
):
    """Two processes of one bot drain the same bucket: the one that did not see the headers
    gets 429 with Retry-After, waits, and retries until its message is sent."""
    first, second = client(client_options), client(client_options)
    async with asyncio.timeout(30), standin.run_client(first), standin.run_client(second):
        texts = [f"message {i}" for i in range(6)]
        senders = [first, second] * 3
        await asyncio.gather(
            *(
                c.get_partial_messageable(standin.general.id).send(t)
                for c, t in zip(senders, texts, strict=True)
            )
        )
    posts = [
        r for r in standin.requests if r.route == "/channels/{channel_id}/messages" and r.method == "POST"
    ]
    limited = [r for r in posts if r.status == 429]
    assert limited and all(r.response["retry_after"] > 0 and not r.response["global"] for r in limited)
    assert sorted(m.content for m in standin.bot_messages(standin.general)) == sorted(texts)
    assert len([r for r in posts if r.status == 200]) == len(texts)


@pytest.mark.parametrize("standin_config", [StandinConfig(global_limit=3)])
async def test_the_global_limit_pauses_every_route_then_lets_them_through(
    standin: DiscordStandin, client_options: dict[str, Any]
):
    bot = client(client_options)
    async with asyncio.timeout(30), standin.run_client(bot):
        channels = await asyncio.gather(*(bot.fetch_channel(standin.general.id) for _ in range(5)))
        sent = await bot.get_partial_messageable(standin.general.id).send("after the pause")
    assert all(c.id == standin.general.id for c in channels) and sent.content == "after the pause"
    refused = [r for r in standin.requests if r.status == 429]
    assert refused and all(r.response["global"] for r in refused)


async def test_injected_429s_on_interaction_followups_are_retried(
    standin: DiscordStandin, client_options: dict[str, Any]
):
    bot = commands.Bot(command_prefix="!", intents=discord.Intents.none(), **client_options)

    @bot.tree.command()
    async def slow(interaction: discord.Interaction) -> None:
        """Defer, then follow up."""
        await interaction.response.defer()
        await interaction.followup.send("done at last")

    injected = standin.rate_limits.inject(
        lambda method, path: path.startswith("/webhooks/"), count=2, scope="shared"
    )
    async with asyncio.timeout(15), standin.run_client(bot):
        ix = await standin.send_slash_command("slow")
        reply = await ix.wait_for_reply(timeout=10)
    assert reply.content == "done at last" and injected.sent == 2
    assert [r.status for r in standin.requests if r.path.startswith("/webhooks/")] == [429, 429, 200]


async def test_a_resent_nonce_returns_the_first_message(
    standin: DiscordStandin, client_options: dict[str, Any]
):
    bot = client(client_options)
    async with asyncio.timeout(15), standin.run_client(bot):
        channel = bot.get_partial_messageable(standin.general.id)
        once = await channel.send("alert #42", nonce="alert-42")
        again = await channel.send("alert #42", nonce="alert-42")
        other = await channel.send("alert #43", nonce="alert-43")
    assert once.id == again.id != other.id
    assert [m.content for m in standin.bot_messages(standin.general)] == ["alert #42", "alert #43"]


async def test_a_held_answer_arrives_only_on_release(standin: DiscordStandin, client_options: dict[str, Any]):
    bot = client(client_options)
    hold = standin.hold_answers(lambda r: r.method == "POST" and r.route == "/channels/{channel_id}/messages")
    async with asyncio.timeout(15), standin.run_client(bot):
        sending = asyncio.create_task(bot.get_partial_messageable(standin.general.id).send("held"))
        await standin.wait_until(lambda: hold.held, what="the held request")
        posted = standin.bot_messages(standin.general)
        assert [m.content for m in posted] == ["held"] and not sending.done()  # posted, not yet answered
        hold.release()
        sent = await sending
    assert sent.id == posted[0].id


async def test_a_held_answer_failed_on_release_is_an_error_though_the_message_was_posted(
    standin: DiscordStandin, client_options: dict[str, Any]
):
    bot = client(client_options)
    hold = standin.hold_answers(lambda r: r.method == "POST" and r.route == "/channels/{channel_id}/messages")
    async with asyncio.timeout(15), standin.run_client(bot):
        sending = asyncio.create_task(bot.get_partial_messageable(standin.general.id).send("held"))
        await standin.wait_until(lambda: hold.held, what="the held request")
        hold.fail(503)
        with pytest.raises(discord.DiscordServerError):
            await sending
    assert [m.content for m in standin.bot_messages(standin.general)] == ["held"]
    assert hold.held[0].status == 503
