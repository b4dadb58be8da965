"""The small quality gate CI runs: own questions + off-topic questions over the gate corpus.

    python -m bench.quality.gate [--record]

Prints the figures as JSON; ``--record`` also stores them in gate_baseline.json (the figures
``tests/test_quality_gate.py`` holds the engine to, within ``TOLERANCE``).
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

from foreign_desk.index.config import load_settings
from foreign_desk.index.evaluate import evaluate, load_questions

from bench.quality import mixed
from bench.quality.common import QUESTIONS_DIR

BASELINE = Path(__file__).resolve().parent / "gate_baseline.json"
TOLERANCE = 0.03


def measure(workdir: Path, *, embedder: Any = None) -> dict[str, Any]:
    """Index the gate corpus into ``workdir`` and evaluate; returns recall, MRR and refusals."""
    from foreign_desk.index.engine import Engine

    corpus = workdir / "corpus"
    mixed.write_corpus(corpus, mixed.PROFILES["gate"], "gate")
    settings = load_settings(None, environ={}, data_dir=str(workdir / "data"))
    settings = dataclasses.replace(
        settings, index=dataclasses.replace(settings.index, sentence_vectors=False)
    )
    answerable = load_questions(QUESTIONS_DIR / "foreign_affairs.jsonl")
    off_topic = load_questions(QUESTIONS_DIR / "off_topic.jsonl")

    async def run() -> dict[str, Any]:
        async with await Engine.open(settings, embedder=embedder) as engine:
            await engine.index([corpus])
            refused = {"answerable": 0, "off_topic": 0}

            def asker(group: str):
                async def ask(question: str) -> Any:
                    answer = await engine.ask(question, k=10)
                    refused[group] += answer.nothing_relevant
                    return answer.results

                return ask

            summary = await evaluate(answerable, asker("answerable"), 10)
            await evaluate(off_topic, asker("off_topic"), 10)
        return {
            "n": summary["n"],
            "recall": summary["recall"],
            "mrr": round(summary["mrr"], 4),
            "by_kind": {k: {"n": v["n"], "recall": v["recall"]} for k, v in summary["by_kind"].items()},
            "answerable_refused": round(refused["answerable"] / len(answerable), 4),
            "off_topic_refused": round(refused["off_topic"] / len(off_topic), 4),
        }

    return asyncio.run(run())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--record", action="store_true", help="store the figures as the new baseline")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        figures = measure(Path(tmp))
    print(json.dumps(figures, indent=1))
    if args.record:
        BASELINE.write_text(json.dumps(figures, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
