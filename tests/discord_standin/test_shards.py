"""Sharding: 4011 when a shard would hold too many guilds, the recommended shard count, and each
guild's events reaching only the session of its shard, whether the shards share one client or
each runs in its own."""

from __future__ import annotations

import asyncio
from typing import Any

import discord
import pytest

from .server import DiscordStandin, StandinConfig
from .world import shard_of


class ShardedWatcher(discord.AutoShardedClient):
    """Identifies its shards back to back (discord.py's default waits 5 s between two)."""

    def __init__(self, client_options: dict[str, Any], **kwargs: Any) -> None:
        super().__init__(intents=discord.Intents.default(), **client_options, **kwargs)
        self.seen: list[tuple[int, int | None]] = []

    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        return None

    async def on_interaction(self, interaction: discord.Interaction) -> None:
        guild = interaction.guild
        self.seen.append((interaction.guild_id or 0, guild.shard_id if guild is not None else 0))
        await interaction.response.send_message("ok", ephemeral=True)


def owner_of(standin: DiscordStandin, guild: Any) -> Any:
    return standin.world.users[guild.owner_id]


@pytest.fixture
def standin_config() -> StandinConfig:
    return StandinConfig(max_guilds_per_shard=2, recommended_shards=2)


def guilds_on_both_shards(standin: DiscordStandin) -> list[Any]:
    """The default guild plus one guild on each of two shards (so each shard holds at most two)."""
    return [
        standin.guild,
        standin.world.add_guild("Even", shard=(0, 2)),
        standin.world.add_guild("Odd", shard=(1, 2)),
    ]


async def test_a_client_without_shards_is_refused_with_4011(
    standin: DiscordStandin, client_options: dict[str, Any]
):
    guilds_on_both_shards(standin)
    client = discord.Client(intents=discord.Intents.default(), **client_options)
    with pytest.raises(discord.ConnectionClosed) as closed:
        async with asyncio.timeout(15), standin.run_client(client):
            pass
    assert closed.value.code == 4011
    assert standin.gateway.connections[0].closed_by == "server"


async def test_an_auto_sharded_client_takes_the_recommended_count(
    standin: DiscordStandin, client_options: dict[str, Any]
):
    guilds = guilds_on_both_shards(standin)
    client = ShardedWatcher(client_options)
    async with asyncio.timeout(20), standin.run_client(client):
        await standin.wait_until(lambda: len(standin.sessions_by_shard()) == 2, what="two shards")
        assert client.shard_count == 2 and {g.id for g in client.guilds} == {g.id for g in guilds}
        for guild in guilds:
            ix = await standin.send_slash_command(
                "ping", channel=guild.general, user=owner_of(standin, guild)
            )
            await ix.wait_for_callback()
        sessions = standin.sessions_by_shard()
    assert {s: session.shard for s, session in sessions.items()} == {0: (0, 2), 1: (1, 2)}
    for shard_id, session in sessions.items():
        ready = next(e for e in session.log if e["t"] == "READY")
        expected = {str(g.id) for g in guilds if shard_of(g.id, 2) == shard_id}
        assert {g["id"] for g in ready["d"]["guilds"]} == expected
        interactions = [e["d"]["guild_id"] for e in session.log if e["t"] == "INTERACTION_CREATE"]
        assert set(interactions) == expected
    assert sorted(client.seen) == sorted((g.id, shard_of(g.id, 2)) for g in guilds)
    assert [r.route for r in standin.requests if r.route == "/gateway/bot"] == ["/gateway/bot"]


async def test_two_clients_one_shard_each_share_the_guilds(
    standin: DiscordStandin, client_options: dict[str, Any]
):
    guilds = guilds_on_both_shards(standin)
    clients = [ShardedWatcher(client_options, shard_ids=[i], shard_count=2) for i in (0, 1)]
    async with asyncio.timeout(20), standin.run_client(clients[0]), standin.run_client(clients[1]):
        for guild in guilds:
            ix = await standin.send_slash_command(
                "ping", channel=guild.general, user=owner_of(standin, guild)
            )
            await ix.wait_for_callback()
        dm = await standin.send_slash_command("ping", dm=True)
        await dm.wait_for_callback()
    for shard_id, client in enumerate(clients):
        mine = {g.id for g in guilds if shard_of(g.id, 2) == shard_id}
        assert {g.id for g in client.guilds} == mine
        assert {gid for gid, _ in client.seen} == mine | ({0} if shard_id == 0 else set())  # DMs: shard 0


class MessageWatcher(ShardedWatcher):
    async def on_message(self, message: discord.Message) -> None:
        self.seen.append((message.id, message.guild.id if message.guild is not None else None))


@pytest.mark.parametrize("every_session", [False, True])
async def test_two_sessions_of_one_shard_get_its_messages_as_configured(
    standin: DiscordStandin, client_options: dict[str, Any], every_session: bool
):
    """Discord allows several sessions on one [shard_id, num_shards] (a rolling restart's overlap):
    `every_session_of_shard` gives each of them the shard's events; by default only the newest."""
    standin.config.every_session_of_shard = every_session
    guilds_on_both_shards(standin)
    older, newer = [MessageWatcher(client_options, shard_ids=[0], shard_count=2) for _ in range(2)]
    even = next(g for g in standin.world.bot_guilds() if shard_of(g.id, 2) == 0)
    async with asyncio.timeout(20), standin.run_client(older), standin.run_client(newer):
        said = await standin.send_message("hello", channel=even.general, author=owner_of(standin, even))
        await standin.wait_until(lambda: newer.seen, what="the newest session's MESSAGE_CREATE")
        if every_session:
            await standin.wait_until(lambda: older.seen, what="the older session's MESSAGE_CREATE")
    assert newer.seen == [(said.id, even.id)]
    assert older.seen == ([(said.id, even.id)] if every_session else [])
