"""Build each evaluation index and run ``foreign-desk eval`` on it; print one table.

    python -m bench.quality.run [--sets own,facqa,tydiqa,panl,squad] [--out bench/out/quality]

Each set's corpus is converted from ../shared/data (read in place), indexed into its own data
dir under ``--out`` (kept, so a second run only re-evaluates: reindexing unchanged files embeds
nothing), then evaluated through the CLI, exactly as a user would run it. ``squad`` is the
held-out cross-lingual set: measure on it, never tune on it. Sentence vectors (highlights) are
turned off for these builds: evaluation never looks at highlights.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.quality import facqa, mixed, panl, squad_crossling, tydiqa
from bench.quality.common import QUESTIONS_DIR, REPO_ROOT

OUT = REPO_ROOT / "bench" / "out" / "quality"


def cli(data_dir: Path, *args: str) -> str:
    env = {**os.environ, "FOREIGN_DESK_INDEX_SENTENCE_VECTORS": "0"}
    done = subprocess.run(
        [sys.executable, "-m", "foreign_desk", "--data-dir", str(data_dir), *args],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise SystemExit(f"foreign-desk {' '.join(args)} failed:\n{done.stderr}")
    return done.stdout


def build_and_eval(name: str, corpus: Path, data: Path, question_files: list[Path]) -> list[dict[str, Any]]:
    started = time.perf_counter()
    cli(data, "index", str(corpus))
    built = time.perf_counter() - started
    rows = []
    for questions in question_files:
        summary = json.loads(cli(data, "eval", str(questions), "--k", "10", "--json"))
        for kind, stats in summary["by_kind"].items():
            rows.append({"set": name, "kind": kind, **stats})
    print(f"{name}: indexed in {built:.0f} s", file=sys.stderr)
    return rows


def own(out: Path) -> list[dict[str, Any]]:
    corpus = out / "own" / "corpus"
    mixed.write_corpus(corpus, mixed.PROFILES["full"], "full")
    return build_and_eval(
        "own (mixed, full profile)",
        corpus,
        out / "own" / "data",
        [QUESTIONS_DIR / "foreign_affairs.jsonl", QUESTIONS_DIR / "off_topic.jsonl"],
    )


def simple(name: str, write: Callable[[Path], Any]) -> Callable[[Path], list[dict[str, Any]]]:
    def run(out: Path) -> list[dict[str, Any]]:
        corpus = out / name / "corpus"
        write(corpus)
        return build_and_eval(name, corpus, out / name / "data", [corpus / "questions.jsonl"])

    return run


def panl_both(out: Path) -> list[dict[str, Any]]:
    corpus = out / "panl" / "corpus"
    panl.write(corpus)
    rows = []
    for direction in panl.DIRECTIONS:
        rows += build_and_eval(
            f"panl {direction}",
            corpus / direction,
            out / "panl" / f"data-{direction}",
            [corpus / direction / "questions.jsonl"],
        )
    return rows


SETS: dict[str, Callable[[Path], list[dict[str, Any]]]] = {
    "own": own,
    "facqa": simple("facqa", facqa.write),
    "tydiqa": simple("tydiqa", tydiqa.write),
    "panl": panl_both,
    "squad": simple("squad (held out)", squad_crossling.write),
}


def table(rows: list[dict[str, Any]]) -> str:
    head = "| set | kind | n | R@1 | R@3 | R@5 | R@10 | MRR | refused |"
    lines = [head, "|" + "---|" * 9]
    for r in rows:
        rec = r["recall"]
        lines.append(
            f"| {r['set']} | {r['kind']} | {r['n']} | "
            + " | ".join(f"{rec[k]:.3f}" for k in ("1", "3", "5", "10"))
            + f" | {r['mrr']:.3f} | {r.get('refused', 0):.2f} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sets", default=",".join(SETS), help=f"comma-separated, of {', '.join(SETS)}")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    rows: list[dict[str, Any]] = []
    for name in [s.strip() for s in args.sets.split(",") if s.strip()]:
        if name not in SETS:
            parser.error(f"unknown set {name!r}")
        rows += SETS[name](args.out)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "results.json").write_text(json.dumps(rows, indent=1))
    print(table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
