"""The small quality gate CI runs: the TEST part of the sample and medium sets.

    python -m bench.quality.gate [--record]

Indexes the shipped sample article and the ~100-article medium corpus (default settings, no
``FOREIGN_DESK_*`` from the environment), asks
their test-part questions (own answerable ones and off-topic ones) and prints the figures as
JSON; ``--record`` also stores them in gate_baseline.json, the figures
``tests/test_quality_gate.py`` holds the engine to, within ``TOLERANCE``. Tune-part questions
are never asked here: the gate must not become one more set that thresholds are fitted to.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

from bench.quality.metrics import match_rates
from bench.quality.run import run_set
from bench.quality.sets import SETS

BASELINE = Path(__file__).resolve().parent / "gate_baseline.json"
TOLERANCE = 0.03
GATE_SETS = ("sample", "medium")
KS = (1, 5, 10)
MIN_KIND = 10
"""A kind's own R@5 is held only when the gate has at least this many of its questions."""


def _recall(outcomes: list[dict[str, Any]]) -> dict[str, float]:
    n = max(len(outcomes), 1)
    return {str(k): round(sum(1 for o in outcomes if o["rank"] and o["rank"] <= k) / n, 4) for k in KS}


def figures(outcomes: list[dict[str, Any]]) -> dict[str, Any]:
    """Recall, MRR and labels of the answerable questions; labels of the off-topic ones."""
    answerable = [o for o in outcomes if o["kind"] != "off-topic"]
    off = [o for o in outcomes if o["kind"] == "off-topic"]
    kinds: dict[str, list[dict[str, Any]]] = {}
    for outcome in answerable:
        kinds.setdefault(outcome["kind"], []).append(outcome)
    return {
        "n": len(answerable),
        "recall": _recall(answerable),
        "mrr": round(sum(1 / o["rank"] for o in answerable if o["rank"]) / max(len(answerable), 1), 4),
        "by_set": {s: _recall([o for o in answerable if o["set"] == s]) for s in GATE_SETS},
        "by_kind": {k: {"n": len(v), "recall": _recall(v)} for k, v in sorted(kinds.items())},
        "answerable_none": match_rates(answerable)["none"],
        "off_topic_n": len(off),
        "off_topic_strong": match_rates(off)["strong"],
    }


def measure(workdir: Path, *, embedder: Any = None) -> dict[str, Any]:
    """Index the gate corpora into ``workdir`` and evaluate their test parts."""

    async def run() -> list[dict[str, Any]]:
        outcomes: list[dict[str, Any]] = []
        for name in GATE_SETS:
            outcomes += await run_set(SETS[name], workdir, "test", embedder, None, environ={})
        return outcomes

    if embedder is None:
        from foreign_desk.index.config import EmbedderSettings
        from foreign_desk.index.embed import make_embedder

        embedder = make_embedder(EmbedderSettings())
    return figures(asyncio.run(run()))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--record", action="store_true", help="store the figures as the new baseline")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        result = measure(Path(tmp))
    print(json.dumps(result, indent=1))
    if args.record:
        BASELINE.write_text(json.dumps(result, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
