"""Bots in other processes, pointed at the stand-in by `launch.py`, share the guilds by shard."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import pytest

from .server import DiscordStandin, StandinConfig

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def standin_config() -> StandinConfig:
    return StandinConfig(max_guilds_per_shard=1)


async def launch(standin: DiscordStandin, shard: int) -> asyncio.subprocess.Process:
    args = [standin.http_url, standin.gateway_url, "-m", "tests.discord_standin.pong_bot"]
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.discord_standin.launch",
        *args,
        standin.config.bot_token,
        str(shard),
        "2",
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )


async def test_two_processes_answer_the_guilds_of_their_own_shard(standin: DiscordStandin):
    guilds = [standin.world.add_guild(f"Guild {i}", shard=(i, 2)) for i in (0, 1)]
    standin.guild.members.pop(standin.bot.id)  # the default guild is left out: one guild per shard
    procs = [await launch(standin, shard) for shard in (0, 1)]
    try:
        await standin.wait_until(lambda: len(standin.sessions_by_shard()) == 2, timeout=60, what="two shards")
        replies = []
        for guild in guilds:
            owner = standin.world.users[guild.owner_id]
            ix = await standin.send_slash_command("ping", channel=guild.general, user=owner)
            replies.append((await ix.wait_for_reply(timeout=15)).content)
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            await proc.wait()
    assert replies == [f"pong from shard {i} in process {proc.pid}" for i, proc in enumerate(procs)]
