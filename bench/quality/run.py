"""Every evaluation set, its test-part figures with 95% intervals, and the dense baseline beside.

    python -m bench.quality.run [--sets sample,medium,large,...] [--part test|tune|all]
                                [--out bench/out/quality] [--json] [--no-baseline] [--record]

For each set (``bench.quality.sets``) the corpus is converted from ../shared/data (read in
place) and indexed into ``OUT/SET/data`` with the default settings (kept: a rerun embeds
nothing), then every question of the chosen part is asked through the engine exactly as
``foreign-desk ask --k 10`` asks it. Figures count what the user is shown: a question is found
at rank r when the r-th passage shown holds an answer (in a gold article); "none" answers show
nothing. Printed per set: R@1, R@5, MRR with bootstrap 95% intervals, the strong/weak/none
rates of answerable questions (the answer's ``match``), how many answerable ones were answered
"none", how many off-topic ones got a strong answer, and the plain dense baseline
(``bench.quality.baseline``).

``--part test`` (default) is what to report; ``--part tune`` is what to look at while choosing
weights and thresholds (the held-out SQuAD set has no tune part). ``FOREIGN_DESK_*`` settings
in the environment apply, so ``FOREIGN_DESK_SEARCH_STRONG_MARGIN=1.5 python -m
bench.quality.run --part tune`` tries a setting. Per-question outcomes (rank, label, baseline
rank, the top results) go to ``OUT/results-PART.json``; ``--compare OLD.json`` prints what moved
since an earlier results file (copy it aside first: a run overwrites its own); ``--record`` also
stores the summary in ``bench/quality/recorded.json`` and ``recorded.md``, the figures later
changes are compared against.

A question may carry ``"now": "YYYY-MM-DD"``, the day it is asked ("last week" means the week
before it). It is passed to ``Engine.ask(..., now=date)`` (``foreign-desk ask --now``).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import inspect
import json
import os
import subprocess
import sys
import time
from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Any

from foreign_desk.index.config import load_settings
from foreign_desk.index.evaluate import Question, found_rank

from bench.quality import baseline, metrics
from bench.quality.common import QUESTIONS_DIR, REPO_ROOT
from bench.quality.report import compare, markdown, table
from bench.quality.sets import SETS, EvalSet

OUT = REPO_ROOT / "bench" / "out" / "quality"
RECORDED = QUESTIONS_DIR / "recorded"
K = 10


def in_part(question: Question, part: str) -> bool:
    return part == "all" or question.meta.get("split") == part


def match_of(answer: Any) -> str:
    """The answer's label: its ``match`` once the engine gives one, else derived from the refusal."""
    label = getattr(answer, "match", None)
    if label in metrics.MATCHES:
        return str(label)
    return "none" if answer.nothing_relevant else "strong"


def ask_options(engine: Any, question: Question) -> dict[str, Any]:
    """``now`` for a question that carries one, when the engine's ``ask`` takes it."""
    now = question.meta.get("now")
    if now and "now" in inspect.signature(engine.ask).parameters:
        return {"now": date.fromisoformat(now)}
    return {}


def _article_rank(question: Question, results: list[Any]) -> int | None:
    urls = set(question.gold_urls)
    return next((i for i, r in enumerate(results, 1) if getattr(r.article, "url", None) in urls), None)


async def ask_all(engine: Any, questions: list[Question]) -> list[dict[str, Any]]:
    """One outcome per question, asked one at a time as a user would."""
    outcomes = []
    for question in questions:
        answer = await engine.ask(question.question, k=K, **ask_options(engine, question))
        results = list(answer.results)[:K]
        outcome: dict[str, Any] = {
            "question": question.question,
            "kind": question.kind,
            "tags": list(question.meta.get("tags", ())),
            "split": question.meta.get("split"),
            "rank": found_rank(question, results) if question.kind != "off-topic" else None,
            "match": match_of(answer),
            "top": [[r.article.title[:80], getattr(r.article, "url", None)] for r in results[:3]],
            # Each result's own level and whether it holds the answer: how many answers a page's
            # "Less closely related:" divider would put under it (README, "Where the answers end").
            "levels": [[getattr(r, "match", None), found_rank(question, [r]) == 1] for r in results],
        }
        if question.gold_urls:
            outcome["article_rank"] = _article_rank(question, results)
        outcomes.append(outcome)
    return outcomes


def _progress(name: str):
    last = [0.0]

    def tell(progress: Any) -> None:
        now = time.monotonic()
        if now - last[0] > 30 or progress.phase == "done":
            last[0] = now
            print(f"{name}: {progress}", file=sys.stderr)

    return tell


async def run_set(
    eval_set: EvalSet,
    out: Path,
    part: str,
    embedder: Any,
    cache: Any,
    *,
    environ: Mapping[str, str] = os.environ,
) -> list[dict[str, Any]]:
    """Build (or update) the set's index in ``out/NAME``, ask its questions of ``part``, run the
    dense baseline unless ``cache`` is ``None``; returns one outcome per question."""
    from foreign_desk.index.engine import Engine

    folder = out / eval_set.name
    corpus = folder / "corpus"
    corpus.mkdir(parents=True, exist_ok=True)
    with contextlib.redirect_stdout(sys.stderr):  # the converters' summaries; stdout is the result
        eval_set.write(corpus)
    questions = [q for q in eval_set.questions(corpus) if in_part(q, part)]
    settings = load_settings(None, environ=environ, data_dir=str(folder / "data"))
    async with await Engine.open(settings, embedder=embedder) as engine:
        await engine.index(eval_set.corpus_files(corpus), progress=_progress(eval_set.name))
        outcomes = await ask_all(engine, questions)
    if cache is not None:
        answerable = [(q, o) for q, o in zip(questions, outcomes, strict=True) if q.kind != "off-topic"]
        ranks = await asyncio.to_thread(
            baseline.ranks, corpus, [q for q, _ in answerable], cache, K, _embedding_progress(eval_set.name)
        )
        for (_, outcome), rank in zip(answerable, ranks, strict=True):
            outcome["baseline_rank"] = rank
    for outcome in outcomes:
        outcome["set"] = eval_set.name
    return outcomes


def _embedding_progress(name: str):
    last = [0.0]

    def tell(done: int, total: int) -> None:
        now = time.monotonic()
        if now - last[0] > 30 or done == total:
            last[0] = now
            print(f"{name}: dense baseline: embedded {done}/{total} paragraphs", file=sys.stderr)

    return tell


def commit() -> str:
    done = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=REPO_ROOT, capture_output=True, text=True
    )
    return done.stdout.strip() or "unknown"


async def run(names: list[str], out: Path, part: str, with_baseline: bool) -> dict[str, Any]:
    from foreign_desk.index.embed import make_embedder

    settings = load_settings(None, environ=os.environ)
    embedder = make_embedder(settings.embedder)
    cache = baseline.VectorCache(out / "baseline-vectors.sqlite3", embedder) if with_baseline else None
    report: dict[str, Any] = {"part": part, "commit": commit(), "k": K, "sets": {}}
    outcomes: list[dict[str, Any]] = []
    try:
        for name in names:
            eval_set = SETS[name]
            if eval_set.held_out and part == "tune":
                print(f"{name}: held out, no tune part: skipped", file=sys.stderr)
                continue
            got = await run_set(eval_set, out, part, embedder, cache)
            report["sets"][name] = metrics.summarize(got)
            outcomes += got
    finally:
        if cache is not None:
            cache.close()
    report["outcomes"] = outcomes
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sets", default=",".join(SETS), help=f"comma-separated, of {', '.join(SETS)}")
    parser.add_argument("--part", choices=["test", "tune", "all"], default="test", help="which questions")
    parser.add_argument("--out", type=Path, default=OUT, help="where corpora, indexes and results go")
    parser.add_argument("--json", action="store_true", help="print the summary as JSON instead of tables")
    parser.add_argument("--no-baseline", action="store_true", help="skip the dense baseline")
    parser.add_argument("--record", action="store_true", help="store the summary in bench/quality/recorded.*")
    parser.add_argument(
        "--compare", type=Path, metavar="RESULTS", help="a previous results-PART.json: print what changed"
    )
    args = parser.parse_args(argv)
    names = [s.strip() for s in args.sets.split(",") if s.strip()]
    unknown = [n for n in names if n not in SETS]
    if unknown:
        parser.error(f"unknown set(s) {', '.join(unknown)}; known: {', '.join(SETS)}")
    before = json.loads(args.compare.read_text()) if args.compare else None
    report = asyncio.run(run(names, args.out, args.part, not args.no_baseline))
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / f"results-{args.part}.json").write_text(
        json.dumps(report, indent=1, ensure_ascii=False) + "\n"
    )
    summary = {k: v for k, v in report.items() if k != "outcomes"}
    if args.record:
        RECORDED.with_suffix(".json").write_text(json.dumps(summary, indent=1) + "\n")
        RECORDED.with_suffix(".md").write_text(markdown(summary))
    print(json.dumps(summary, indent=1) if args.json else table(summary))
    if before is not None:
        print(compare(before, report), file=sys.stderr if args.json else sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
