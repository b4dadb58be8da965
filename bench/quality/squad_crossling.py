"""HELD OUT. English questions whose gold passage is Indonesian (SQuAD-id + XQuAD, 632 questions).

Measure on it once the engine is settled; never tune on it (no threshold, weight or prompt
chosen by looking at its numbers), or it stops telling the truth about cross-lingual retrieval.

``python -m bench.quality.squad_crossling OUTDIR`` writes ``corpus.jsonl`` (all 1,202
machine-translated Indonesian SQuAD paragraphs, 35 Wikipedia articles) and ``questions.jsonl``
(kind ``squad-crossling``). Each paragraph's title is ``"{title} ¶{passage_id}"``
(``Normans ¶squadid-Normans-000``), unique, so ``gold_titles`` names exactly the gold
paragraph; answer strings are not used for matching (the data's English and machine-translated
answers stay under ``answers_en`` / ``answers_id_mt`` for reading).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from bench.quality.common import (
    article,
    data_file,
    out_dir_parser,
    question,
    read_jsonl,
    stable_sample,
    write_set,
)

KIND = "squad-crossling"
SOURCE = "SQuAD 2.0 dev, machine-translated to Indonesian"


def url_for(passage_id: str) -> str:
    """Each paragraph's own address: the gold paragraph is known exactly while the title
    stays the Wikipedia article's, as a headline would."""
    return f"https://squad.example/{passage_id}"


def convert(limit: int | None = None) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Return ``(articles, questions)``."""
    corpus = list(read_jsonl(data_file("squad_id_xquad_crossling", "squad_id_corpus.jsonl")))
    articles = [
        article(
            row["title"].replace("_", " "),
            [row["text"]],
            url=url_for(row["passage_id"]),
            source=SOURCE,
            published=None,
            language="id",
        )
        for row in corpus
    ]
    rows = list(read_jsonl(data_file("squad_id_xquad_crossling", "crossling_en_question__id_passage.jsonl")))
    questions = [
        question(
            row["question_en"],
            KIND,
            gold_urls=[url_for(row["gold_passage_id"])],
            qid=row["qid"],
            gold_passage_id=row["gold_passage_id"],
            answers_en=row["answers_en"],
            answers_id_mt=row["answers_id_mt"],
            held_out=True,
            split="test",
        )
        for row in stable_sample(rows, limit, key=lambda r: r["qid"], salt="squad-crossling")
    ]
    return articles, questions


def write(outdir: Path, limit: int | None = None) -> dict:
    articles, questions = convert(limit)
    return write_set(outdir, "squad-crossling (HELD OUT: measure, never tune)", articles, questions, [KIND])


def main(argv: list[str] | None = None) -> int:
    parser = out_dir_parser(__doc__.split("\n\n")[0])
    parser.add_argument(
        "--limit", type=int, default=None, metavar="N", help="deterministic sample of N questions"
    )
    args = parser.parse_args(argv)
    write(args.outdir, args.limit)
    return 0


if __name__ == "__main__":
    sys.exit(main())
