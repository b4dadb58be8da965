"""FacQA: Indonesian factoid questions over Indonesian news passages (kind ``facqa-id``).

``python -m bench.quality.facqa OUTDIR [--limit N] [--distractors N] [--data-split S]`` writes
``corpus.jsonl`` (one article per passage) and ``questions.jsonl``.

Each of the 1,369 passages (one or two news sentences, ~50 words) becomes one article whose
title is its own opening words and whose URL names the passage; every question has that URL as
its gold URL, so it is found exactly when its passage is (or a copy of it: 55 passages are in
the data twice, ``twins_of``, and the search shows one of the two). The answers of the data are
kept only where they occur in no other passage of the written corpus but such a copy (``"PBB"``
or ``"60"`` would credit unrelated passages); all of them stay under ``data_answers``. Each
question's ``split`` (tune/test, ~40/60) comes from the hash of its id; the data's own
train/valid/test split is kept as ``data_split``.

``--limit N`` keeps a deterministic sample of N questions; the corpus is then the passages those
need plus ``--distractors`` others (deterministic; default: all the rest, 0 for none).
"""

from __future__ import annotations

import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from foreign_desk.index.evaluate import normalize

from bench.quality.common import (
    article,
    data_file,
    headline_from,
    out_dir_parser,
    question,
    read_jsonl,
    specific_answers,
    split_for,
    stable_sample,
    write_set,
)

KIND = "facqa-id"
_LETTERS_AND_DIGITS = re.compile(r"[\W_]+")
"""What is not a letter or digit: passages equal without it are copies."""
SOURCE = "FacQA (ITB)"


def url_for(passage_id: str) -> str:
    """Each passage's own address, so a question's gold passage is known exactly."""
    return f"https://facqa.example/{passage_id}"


def twins_of(ids: Sequence[str], normalized: Sequence[str]) -> dict[str, list[str]]:
    """Each passage's copies: the data holds 55 passages twice under two ids (``"4,2"`` in one,
    ``"4, 2"`` in the other). A search shows one copy of a passage (``fusion.rank_page`` folds
    the other), so either copy answers the questions of both."""
    groups: dict[str, list[str]] = {}
    for pid, text in zip(ids, normalized, strict=True):
        groups.setdefault(_LETTERS_AND_DIGITS.sub("", text), []).append(pid)
    return {pid: [o for o in group if o != pid] for group in groups.values() for pid in group}


def convert(
    limit: int | None = None, distractors: int | None = None, data_split: str | None = None
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Return ``(articles, questions)`` for the options of the command line."""
    passages = {
        row["passage_id"]: row["text"]
        for row in read_jsonl(data_file("facqa_id", "facqa_corpus_detok.jsonl"))
    }
    rows = list(read_jsonl(data_file("facqa_id", "facqa_qa_detok.jsonl")))
    if data_split:
        rows = [row for row in rows if row["split"] == data_split]
    rows = stable_sample(rows, limit, key=lambda r: r["qid"], salt="facqa")
    needed = {row["passage_id"] for row in rows}
    others = [pid for pid in passages if pid not in needed]
    kept = needed | set(stable_sample(others, distractors, key=str, salt="facqa-distractors"))
    ids = [pid for pid in passages if pid in kept]
    articles = [
        article(
            headline_from(passages[pid]),
            [passages[pid]],
            url=url_for(pid),
            source=SOURCE,
            published=None,
            language="id",
        )
        for pid in ids
    ]
    position = {pid: i for i, pid in enumerate(ids)}
    normalized = [normalize(passages[pid]) for pid in ids]
    twins = twins_of(ids, normalized)
    questions = [
        question(
            row["question"],
            KIND,
            answers=specific_answers(
                row["answers"],
                position[row["passage_id"]],
                normalized,
                {position[pid] for pid in twins[row["passage_id"]]},
            ),
            gold_urls=[url_for(pid) for pid in [row["passage_id"], *twins[row["passage_id"]]]],
            qid=row["qid"],
            split=split_for(row["qid"], "facqa"),
            data_split=row["split"],
            passage_id=row["passage_id"],
            data_answers=row["answers"],
        )
        for row in rows
    ]
    return articles, questions


def write(
    outdir: Path, limit: int | None = None, distractors: int | None = None, data_split: str | None = None
) -> dict:
    articles, questions = convert(limit, distractors, data_split)
    specific = sum(1 for q in questions if q.get("answers"))
    return write_set(outdir, "facqa", articles, questions, [KIND], questions_with_specific_answers=specific)


def main(argv: list[str] | None = None) -> int:
    parser = out_dir_parser(__doc__.split("\n\n")[0])
    parser.add_argument(
        "--limit", type=int, default=None, metavar="N", help="deterministic sample of N questions"
    )
    parser.add_argument(
        "--distractors", type=int, default=None, metavar="N", help="passages beyond those the questions need"
    )
    parser.add_argument(
        "--data-split",
        choices=["train", "valid", "test"],
        default=None,
        help="one of the data's own splits only",
    )
    args = parser.parse_args(argv)
    write(args.outdir, args.limit, args.distractors, args.data_split)
    return 0


if __name__ == "__main__":
    sys.exit(main())
