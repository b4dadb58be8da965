"""Several processes on one data folder: exactly one does the background work, another takes it
over when it stops; IDENTIFYs are spaced across processes."""

from __future__ import annotations

import asyncio
import itertools
import time
from pathlib import Path

from foreign_desk.bot.discord.coordination import BackgroundLease, IdentifyGate

from tests.discord_standin import DiscordStandin

from .conftest import NATO_JAPAN, StartBot, embed_of


async def test_one_bot_polls_and_posts_and_another_takes_over_when_it_stops(
    standin: DiscordStandin, start_bot: StartBot, sample_copy: Path
):
    options = {"takeover_check_s": 0.1, "identify_spacing_s": 0.0}
    async with (
        asyncio.timeout(60),
        start_bot(sample_copy, shards=([0], 2), **options) as first,
        start_bot(sample_copy, shards=([1], 2), **options) as second,
    ):
        assert first.lease.held and first.poller is not None and first.alerts is not None
        assert not second.lease.held and second.poller is None and second.alerts is None
        guild_shard = standin.guild.shard_id(2)
        ix = await standin.send_slash_command("ask", {"question": NATO_JAPAN})
        assert embed_of(await ix.wait_for_reply(timeout=15))["title"] == NATO_JAPAN
        await first.close()
        await standin.wait_until(lambda: second.alerts is not None, timeout=30, what="the takeover")
        assert second.lease.held and second.poller is not None
        assert "pid" in (sample_copy / "background.lock").read_text()
    answered = [
        s.shard
        for s in standin.gateway.sessions.values()
        if any(e["t"] == "INTERACTION_CREATE" for e in s.log)
    ]
    assert answered == [(guild_shard, 2)]  # only the session of the guild's shard got the question


async def test_the_lease_is_exclusive_across_holders(tmp_path: Path):
    leases = [BackgroundLease(tmp_path, check_s=0.05) for _ in range(3)]
    held = [await lease.try_acquire() for lease in leases]
    assert held == [True, False, False]
    waiting = asyncio.create_task(leases[1].acquire())
    leases[0].release()
    async with asyncio.timeout(10):
        await waiting
    assert leases[1].held and not await leases[2].try_acquire()
    leases[1].release()


async def test_identifies_are_spaced_across_gates(tmp_path: Path):
    spacing = 0.3
    passed: list[float] = []

    class Recording(IdentifyGate):
        """Notes the moment a gate records its IDENTIFY, under the lock: measured after
        ``wait_turn`` returns instead, a loaded machine delays the earlier one's return (a thread
        hop) and the gaps look shorter than the gate made them."""

        def _claim(self, fd: int) -> float:
            wait = super()._claim(fd)
            if wait <= 0:
                passed.append(time.time())
            return wait

    gates = [Recording(tmp_path, spacing_s=spacing, poll_s=0.01) for _ in range(3)]

    async def identify(gate: IdentifyGate) -> None:
        await gate.wait_turn()

    async with asyncio.timeout(20):
        await asyncio.gather(*(identify(g) for g in gates))
    passed.sort()
    assert all(b - a >= spacing * 0.9 for a, b in itertools.pairwise(passed)), passed
