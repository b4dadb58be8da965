"""A plain discord.py client logs in, connects, stays alive, resumes and shuts down cleanly."""

from __future__ import annotations

import asyncio
import gc
import itertools
import logging
import math
import threading
import time
import warnings
from typing import Any

import discord
import pytest
from discord import app_commands

from .server import DiscordStandin, StandinConfig


def make_client(client_options: dict[str, Any], **intent_flags: bool) -> discord.Client:
    intents = discord.Intents.default()
    for name, value in intent_flags.items():
        setattr(intents, name, value)
    return discord.Client(intents=intents, **client_options)


async def test_login_connect_ready_and_guild_available(
    standin: DiscordStandin, client_options: dict[str, Any]
):
    client = make_client(client_options)
    available: list[discord.Guild] = []
    client.event(_collector("on_guild_available", available))

    async with asyncio.timeout(15), standin.run_client(client):
        assert client.user is not None and client.user.id == standin.bot.id
        assert client.application_id == standin.application_id
        assert [g.id for g in available] == [standin.guild.id]
        guild = client.get_guild(standin.guild.id)
        assert guild is not None and not guild.unavailable
        assert {c.name for c in guild.text_channels} == {"general", "announcements"}
        assert {r.name for r in guild.roles} >= {"@everyone", "Admin"}
        assert guild.me is not None and guild.me.guild_permissions.send_messages
        # Without the GUILD_MEMBERS intent Discord sends only the bot's own member.
        assert [m.id for m in guild.members] == [standin.bot.id]
        announcements = guild.get_channel(standin.announcements.id)
        assert isinstance(announcements, discord.TextChannel)
        assert not announcements.permissions_for(guild.me).send_messages

    startup = [f"{r.method} {r.route}" for r in standin.requests]
    assert startup == ["GET /users/@me", "GET /oauth2/applications/@me"]
    assert standin.unknown_routes() == []
    session = standin.gateway.current
    assert session is not None and session.intents == discord.Intents.default().value


async def test_members_intent_gets_members_and_chunks(
    standin: DiscordStandin, client_options: dict[str, Any]
):
    client = make_client(client_options, members=True)
    async with asyncio.timeout(15), standin.run_client(client):
        guild = client.get_guild(standin.guild.id)
        assert guild is not None and guild.chunked
        admin = guild.get_member(standin.admin.id)
        assert admin is not None and admin.guild_permissions.manage_guild
        user = guild.get_member(standin.user.id)
        assert user is not None and not user.guild_permissions.manage_guild
        # op 8 REQUEST_GUILD_MEMBERS is answered with a GUILD_MEMBERS_CHUNK carrying its nonce.
        found = await guild.query_members("ada", limit=5)
        assert [m.id for m in found] == [standin.admin.id]


async def test_disallowed_privileged_intent_is_refused(client_options: dict[str, Any]):
    async with DiscordStandin(StandinConfig(privileged_intents=0)) as standin, asyncio.timeout(15):
        with standin.patch_discord_py():
            client = make_client(client_options, message_content=True)
            with pytest.raises(discord.PrivilegedIntentsRequired):
                async with standin.run_client(client):
                    pass
    assert standin.gateway.connections[0].close_code == 4014


async def test_wrong_token_is_a_login_failure(standin: DiscordStandin, client_options: dict[str, Any]):
    client = make_client(client_options)
    async with asyncio.timeout(10), client:
        with pytest.raises(discord.LoginFailure):
            await client.login("not-the-token")
    assert standin.requests[-1].status == 401


@pytest.mark.parametrize("split_frames", [False, True], ids=["whole-frames", "split-frames"])
async def test_zlib_stream_transport_compression(client_options: dict[str, Any], split_frames: bool):
    config = StandinConfig(split_compressed_frames=split_frames)
    async with DiscordStandin(config) as standin, asyncio.timeout(15):
        with standin.patch_discord_py():
            client = make_client(client_options)
            got: list[discord.Message] = []
            client.event(_collector("on_message", got))
            async with standin.run_client(client):
                sent = await standin.send_message("compressed, maybe split")
                await standin.wait_until(lambda: got, what="on_message")
                assert got[0].id == sent.id
    requested = discord.utils._ActiveDecompressionContext.COMPRESSION_TYPE
    assert requested == "zlib-stream"  # discord.py 2.7 without the zstandard package
    assert standin.gateway.connections[0].compression == requested


async def test_heartbeats_arrive_at_the_configured_interval(client_options: dict[str, Any]):
    async with DiscordStandin(StandinConfig(heartbeat_interval_ms=500)) as standin, asyncio.timeout(20):
        with standin.patch_discord_py():
            client = make_client(client_options)
            async with standin.run_client(client):
                beats = await standin.wait_for_heartbeats(5, timeout=8)
                # Every heartbeat was ACKed: an unanswered one makes the latency infinite.
                assert math.isfinite(client.latency)
    # The first heartbeat answers HELLO at once; the rest wait out the interval (how late a busy
    # machine makes them is a figure: python -m bench.waits).
    gaps = [b.at - a.at for a, b in itertools.pairwise(beats)]
    assert all(gap > 0.35 for gap in gaps), gaps
    assert all(hb.seq is not None for hb in beats[1:])


async def test_heartbeat_gap_reveals_a_blocked_event_loop(client_options: dict[str, Any]):
    """A command that blocks the loop (the bug STYLE.md forbids) shows up as a late heartbeat."""
    async with DiscordStandin(StandinConfig(heartbeat_interval_ms=500)) as standin, asyncio.timeout(20):
        with standin.patch_discord_py():
            client = make_client(client_options)
            tree = app_commands.CommandTree(client)

            @tree.command()
            async def slow(interaction: discord.Interaction) -> None:
                """Blocks the event loop."""
                time.sleep(1.3)
                await interaction.response.send_message("done")

            async with standin.run_client(client):
                await standin.wait_for_heartbeats(2)
                ix = await standin.send_slash_command("slow")
                await ix.wait_for_reply(timeout=5)
                await standin.wait_for_heartbeats(5)
    assert max(standin.heartbeat_intervals()) > 1.1


async def test_resume_after_reconnect_replays_missed_events(
    standin: DiscordStandin, client_options: dict[str, Any]
):
    client = make_client(client_options)
    resumed = asyncio.Event()
    client.event(_setter("on_resumed", resumed))
    async with asyncio.timeout(15), standin.run_client(client):
        session = standin.gateway.current
        assert session is not None
        await standin.request_reconnect()
        await asyncio.wait_for(resumed.wait(), 5)
        assert standin.gateway.current is session and session.resumes == 1
        assert len(standin.gateway.connections) == 2

        resumed.clear()
        got: list[discord.Message] = []
        client.event(_collector("on_message", got))
        await standin.drop_connection(4000)
        missed = await standin.send_message("sent while the bot was away")  # waits in the session log
        await asyncio.wait_for(resumed.wait(), 5)
        await standin.wait_until(lambda: got, what="the replayed MESSAGE_CREATE")
        assert session.resumes == 2 and got[0].id == missed.id


async def test_invalid_session_makes_the_client_identify_again(
    standin: DiscordStandin, client_options: dict[str, Any]
):
    client = make_client(client_options)
    async with asyncio.timeout(15), standin.run_client(client):
        first = standin.gateway.current
        await standin.invalidate_session(resumable=False)
        # discord.py's Client.before_identify_hook waits 5 s before a non-initial IDENTIFY.
        await standin.wait_until(
            lambda: standin.gateway.current is not first, timeout=10, what="a new IDENTIFY"
        )
        await standin.wait_until(client.is_ready)
        assert len(standin.gateway.sessions) == 2


async def test_clean_shutdown_leaves_nothing_open(
    standin: DiscordStandin, client_options: dict[str, Any], caplog: pytest.LogCaptureFixture
):
    caplog.set_level(logging.DEBUG, logger="asyncio")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        client = make_client(client_options)
        async with asyncio.timeout(15), standin.run_client(client):
            await standin.wait_for_heartbeats(1)
        assert client.is_closed()
        await standin.wait_until(lambda: standin.gateway.connections[0].close_code is not None)
        del client
        gc.collect()
        await asyncio.sleep(0)

    conn = standin.gateway.connections[0]
    # Client.close() asks for 1000, but with aiohttp 3.x the reader task closes the socket
    # first with discord.py's default 4000, so Discord would keep the session resumable.
    assert conn.closed_by == "client" and conn.close_code in (1000, 4000)
    assert not [w for w in caught if "nclosed" in str(w.message) or issubclass(w.category, ResourceWarning)]
    assert "Unclosed" not in caplog.text
    # discord.py's keep-alive thread ends once it sees the closed socket.
    await standin.wait_until(
        lambda: (
            not [t for t in threading.enumerate() if t.name.startswith("keep-alive-handler") and t.is_alive()]
        ),
        what="the keep-alive thread to end",
    )


def _collector(name: str, into: list[Any]) -> Any:
    async def handler(item: Any) -> None:
        into.append(item)

    handler.__name__ = name
    return handler


def _setter(name: str, event: asyncio.Event) -> Any:
    async def handler(*_: Any) -> None:
        event.set()

    handler.__name__ = name
    return handler
