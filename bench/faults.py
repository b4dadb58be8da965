"""Fault figures: kills survived, corruptions detected, hostile inputs handled, the slowest, RSS.

    python -m bench.faults [--kills 21] [--seed 10] [--json]

Everything runs against real processes of the CLI on a fresh data dir holding the shipped
corpus: ``--kills`` SIGKILLs at random checkpoints of ``index``, ``fetch`` (from a loopback
feed) and ``backup``, each followed by ``doctor``, ``ask`` and ``stats``; every corruption of
``tests/faults/damage.py`` on its own copy; every hostile file of ``tests/faults/hostile.py``
and the hostile command lines below. Every ratio must be 1; the slowest case is printed so it
can be held against the issue's 10 s for a repair or an error.
"""

from __future__ import annotations

import argparse
import json
import logging
import random
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from foreign_desk.index.faults import BACKUP_CHECKPOINTS, CHECKPOINTS

from tests.faults import damage, hostile
from tests.faults.damage import QUESTION, KillRig, Outcome, answer_of, cli
from tests.feeds.conftest import ThreadedServer
from tests.feeds.news import Story, page, rss

POINTS = {"index": CHECKPOINTS, "fetch": CHECKPOINTS, "backup": BACKUP_CHECKPOINTS}

HOSTILE_COMMANDS: tuple[tuple[str, list[str], str], ...] = (
    ("ask --since 99999999d", ["ask", "NATO", "--since", "99999999d"], "error"),
    ("ask a 100,000-character question", ["ask", "x" * 100_000], "error"),
    ("ask a question of one 20 KB token", ["ask", "A" * 20_000], "error"),
    ("ask '?!'", ["ask", "?!", "--json"], "nothing"),
    ("ask with bytes that are not UTF-8", ["ask", b"caf\xff".decode("utf-8", "surrogateescape")], "error"),
    ("latest --topic not UTF-8", ["latest", "--topic", "\udcff"], "error"),
    ("latest --topic of 100,000 characters", ["latest", "--topic", "y" * 100_000], "error"),
    ("index a folder that does not exist", ["index", "/nonexistent/unmounted", "--prune"], "error"),
)


def hostile_command(data: Path, name: str, args: list[str], expect: str) -> Outcome:
    started = time.perf_counter()
    proc = cli(data, *args)
    seconds = time.perf_counter() - started
    errors = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
    if expect == "nothing":
        ok = proc.returncode == 0 and json.loads(proc.stdout)["nothing_relevant"]
    else:
        ok = proc.returncode in (1, 2) and len(errors) == 1 and "Traceback" not in proc.stderr
    return Outcome(name, ok, errors[0] if errors else proc.stdout[:100], seconds)


def kills(sample: Path, root: Path, count: int, seed: int) -> list[Outcome]:
    """``count`` SIGKILLs at random checkpoints, each judged by doctor, ask and stats."""
    data = root / "killed"
    shutil.copytree(sample, data, ignore=shutil.ignore_patterns("writer.lock"))
    (root / "corpus").mkdir()
    (root / "backups").mkdir()
    rng = random.Random(seed)
    outcomes: list[Outcome] = []
    with ThreadedServer() as server:
        stories: list[Story] = []

        def add_story(n: int) -> None:
            stories.append(_story(n))
            server.serve(stories[-1].path, page(stories[-1], server.base_url))
            server.serve("/rss", rss("Wire", server.base_url, stories), content_type="application/rss+xml")

        server.serve("/rss", rss("Wire", server.base_url, []), content_type="application/rss+xml")
        cli(
            data,
            "feeds",
            "add",
            server.url("/rss"),
            "--name",
            "wire",
            env={"FOREIGN_DESK_ALLOW_PRIVATE_URLS": "true"},
        )
        rig = KillRig(data, root / "corpus", root / "backups", add_story)
        articles = 0
        while sum(o.case.endswith("(killed)") for o in outcomes) < count and rig.rounds < 3 * count:
            operation = rng.choice(damage.OPERATIONS)
            started = time.perf_counter()
            what, proc = damage.kill_once(rig, operation, rng.choice(POINTS[operation]))
            outcome, articles = _after_kill(rig, what, proc.returncode, articles, started)
            outcomes.append(outcome)
    return outcomes


def _after_kill(rig: KillRig, what: str, code: int, articles: int, started: float) -> tuple[Outcome, int]:
    case = f"{what} ({'killed' if code == -9 else f'exit {code}'})"
    doctor = cli(rig.data_dir, "doctor")
    answer = cli(rig.data_dir, "ask", QUESTION, "--json")
    stats = cli(rig.data_dir, "stats", "--json")
    now = json.loads(stats.stdout)["articles"] if stats.returncode == 0 else -1
    problems = [
        "doctor found problems" * (doctor.returncode != 0),
        "no answer" * (answer.returncode != 0 or not answer_of(answer.stdout)),
        f"{articles} articles became {now}" * (now < articles),
        (damage.backups_are_whole(rig.backups) or "") if code == -9 else "",
    ]
    detail = "; ".join(p for p in problems if p) or "consistent"
    return Outcome(case, detail == "consistent", detail, time.perf_counter() - started), max(articles, now)


def _story(n: int) -> Story:
    return Story(
        path=f"/news/{n}",
        title=f"Coast guards hold joint patrol number {n}",
        paragraphs=(
            f"Coast guards of the two neighbours held joint patrol number {n} in the strait on Monday.",
            "The patrols target illegal fishing and smuggling, and will continue every month.",
        ),
        published="2024-03-05T10:00:00Z",
    )


def verification_cost(root: Path, n: int = 100_000, dim: int = 384) -> dict[str, Any]:
    """What checking a vector file adds to opening it: the checksum and a 64-vector sample,
    against FAISS's own load, for ``n`` random vectors (exact index, page cache warm)."""
    import numpy as np
    from foreign_desk.index.store.integrity import file_checksum
    from foreign_desk.index.store.vectors import VectorIndex

    rng = np.random.default_rng(0)
    vectors = rng.standard_normal((n, dim), dtype=np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    path = root / "cost.faiss"
    VectorIndex.build(dim, np.arange(n, dtype=np.int64), vectors, approximate_threshold=10 * n).save(path)
    timings: dict[str, float] = {}
    for name, step in (
        ("load_ms", lambda: VectorIndex.load(path)),
        ("checksum_ms", lambda: file_checksum(path)),
    ):
        step()  # warm the page cache
        started = time.perf_counter()
        loaded = step()
        timings[name] = round((time.perf_counter() - started) * 1000, 1)
    started = time.perf_counter()
    loaded = VectorIndex.load(path)
    loaded.sample(64)
    timings["sample_64_ms"] = round((time.perf_counter() - started) * 1000 - timings["load_ms"], 1)
    return {"vectors": n, "file_mb": round(path.stat().st_size / 1e6, 1), **timings}


def ratio(outcomes: list[Outcome], *, killed_only: bool = False) -> dict[str, Any]:
    chosen = [o for o in outcomes if not killed_only or o.case.endswith("(killed)")]
    slowest = max(chosen, key=lambda o: o.seconds, default=None)
    return {
        "ok": sum(o.ok for o in chosen),
        "tried": len(chosen),
        "ratio": round(sum(o.ok for o in chosen) / len(chosen), 3) if chosen else None,
        "slowest": {"case": slowest.case, "seconds": round(slowest.seconds, 2)} if slowest else None,
        "failures": [{"case": o.case, "detail": o.detail} for o in chosen if not o.ok],
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=21)
    parser.add_argument("--seed", type=int, default=10)
    parser.add_argument("--json", action="store_true", help="print only the JSON object")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.ERROR)  # each hostile file logs its problem line
    with tempfile.TemporaryDirectory(prefix="bench-faults-") as tmp:
        root = Path(tmp)
        sample = root / "sample"
        built = cli(sample, "index", timeout=600)
        if built.returncode != 0:
            sys.exit(f"indexing the shipped corpus failed: {built.stderr[-500:]}")
        expected = answer_of(cli(sample, "ask", QUESTION, "--json").stdout)
        inputs = hostile.run(root / "hostile") + [hostile_command(sample, *c) for c in HOSTILE_COMMANDS]
        corruptions = damage.corrupt_all(sample, root, expected)
        killed = kills(sample, root, args.kills, args.seed)
        cost = verification_cost(root)
    usage = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    result = {
        "bench": "faults",
        "kills_survived": ratio(killed, killed_only=True),
        "rounds_all": ratio(killed),
        "corruptions_detected": ratio(corruptions),
        "hostile_inputs_handled": ratio(inputs),
        "slowest": max(
            ({"case": o.case, "seconds": round(o.seconds, 2)} for o in (*killed, *corruptions, *inputs)),
            key=lambda s: float(s["seconds"]),  # type: ignore[arg-type]
        ),
        "open_verification_cost": cost,
        "rss_mb_at_end": {"bench": round(usage / 1024, 1), "largest_child": round(children / 1024, 1)},
    }
    if not args.json:
        for key in ("kills_survived", "corruptions_detected", "hostile_inputs_handled"):
            part = result[key]
            print(
                f"{key.replace('_', ' ')}: {part['ok']}/{part['tried']}; slowest {part['slowest']}",
                file=sys.stderr,
            )
    print(json.dumps(result, indent=1))
    return result


if __name__ == "__main__":
    main()
