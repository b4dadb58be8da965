"""How long the waits take that the test suite proves by events only. Prints one JSON object.

    python -m bench.waits [--runs 5]

The tests check that these things happen (a fetch times out, a private address is refused
before any connection, the gateway heartbeat keeps its interval); how long they take on this
machine is a figure, not a test:

- ``fetch_timeout_s``: a fetch with ``timeout_s=0.5`` of a loopback page that never answers,
  until ``FetchTimeout`` (target: 0.5 plus a few ms);
- ``refusal_ms``: refusing each private or loopback target (no connection is attempted);
- ``heartbeat_gap_s``: gaps between a discord.py client's heartbeats against the loopback
  stand-in, which asks for one every 500 ms; ``heartbeat_latency_s``: the client's own figure.

The bot's acknowledgement and answer times (during a reindex too) are ``bench.discord_stall``'s.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import statistics
import time
from typing import Any

from aiohttp import web
from foreign_desk.index.fetch import AddressRefused, Fetcher, FetchTimeout

PRIVATE = ["127.0.0.1:{port}", "localhost:{port}", "[::1]:{port}", "10.20.30.40", "169.254.169.254"]


def summary(values: list[float], digits: int = 3) -> dict[str, float]:
    return {
        "min": round(min(values), digits),
        "median": round(statistics.median(values), digits),
        "max": round(max(values), digits),
        "n": len(values),
    }


async def fetch_timeouts(runs: int) -> list[float]:
    from tests.fetch.fixture_server import LOOPBACK_ONLY, FixtureServer

    answer = asyncio.Event()

    async def never(request: web.Request) -> web.Response:
        await answer.wait()
        return web.Response(text="late")

    took = []
    async with FixtureServer() as server:
        server.handle("/slow", never)
        async with Fetcher(policy=LOOPBACK_ONLY, timeout_s=0.5) as fetcher:
            for _ in range(runs):
                started = time.perf_counter()
                try:
                    await fetcher.fetch_page(server.url("/slow"))
                except FetchTimeout:
                    took.append(time.perf_counter() - started)
        answer.set()
    return took


async def refusals(runs: int) -> list[float]:
    took = []
    async with Fetcher(allow_private=False, timeout_s=2.0) as fetcher:
        for _, host in itertools.product(range(runs), PRIVATE):
            started = time.perf_counter()
            try:
                await fetcher.fetch_page(f"http://{host.format(port=8080)}/admin")
            except AddressRefused:
                took.append((time.perf_counter() - started) * 1000)
    return took


async def heartbeats(beats: int) -> tuple[list[float], float]:
    import discord

    from tests.discord_standin import DiscordStandin, StandinConfig

    async with DiscordStandin(StandinConfig(heartbeat_interval_ms=500)) as standin:
        with standin.patch_discord_py():
            client = discord.Client(intents=discord.Intents.default(), guild_ready_timeout=0.05)
            async with standin.run_client(client):
                got = await standin.wait_for_heartbeats(beats, timeout=beats * 2.0)
                latency = client.latency
    return [b.at - a.at for a, b in itertools.pairwise(got)][1:], latency


async def measure(runs: int) -> dict[str, Any]:
    gaps, latency = await heartbeats(2 + 2 * runs)
    return {
        "benchmark": "waits",
        "fetch_timeout_s": summary(await fetch_timeouts(runs)),
        "refusal_ms": summary(await refusals(runs), 2),
        "heartbeat_interval_s": 0.5,
        "heartbeat_gap_s": summary(gaps),
        "heartbeat_latency_s": round(latency, 4),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="repetitions of each measurement")
    args = parser.parse_args()
    print(json.dumps(asyncio.run(measure(args.runs)), indent=1))


if __name__ == "__main__":
    main()
