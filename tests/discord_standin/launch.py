"""Run a bot in its own process against a stand-in: point discord.py there, then run a module.

    python -m tests.discord_standin.launch HTTP_URL GATEWAY_URL -m foreign_desk run --shard-count 2

Why: a bot deployed as several processes (shards, a background worker) is tested as several
processes; each needs its discord.py pointed at the stand-in exactly as the `standin` fixture
points the test's own (`patching.point_discord_py_at`), with nothing in the bot changed. The
module runs as `__main__` with `sys.argv` set to its name and the remaining arguments.
"""

from __future__ import annotations

import runpy
import sys

from .patching import point_discord_py_at

USAGE = "usage: python -m tests.discord_standin.launch HTTP_URL GATEWAY_URL -m MODULE [ARGS...]"


def main(argv: list[str]) -> None:
    if len(argv) < 4 or argv[2] != "-m":
        raise SystemExit(USAGE)
    http_url, gateway_url, _, module, *args = argv
    with point_discord_py_at(http_url, gateway_url):
        sys.argv = [module, *args]
        runpy.run_module(module, run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main(sys.argv[1:])
