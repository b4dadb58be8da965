"""TyDi QA GoldP dev: Indonesian and English questions over their gold Wikipedia passages.

``python -m bench.quality.tydiqa OUTDIR [--lang id|en|both] [--limit N]`` writes
``corpus.jsonl`` (one article per distinct gold passage, both languages by default, so English
passages are distractors for Indonesian questions and the other way round) and
``questions.jsonl`` (kinds ``tydiqa-id`` and ``tydiqa-en``).

Titles are the Wikipedia titles of the data. Several passages share a title, so a question
gets its title as a gold title only when no other passage of the corpus has it; answers are the
data's, kept where they occur in no other passage. A question left with neither keeps all its
data answers (counted as ``questions_with_ambiguous_gold`` in the manifest). ``--limit N`` keeps
a deterministic sample of N questions per language; the corpus keeps every passage.
"""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path
from typing import Any

from foreign_desk.index.evaluate import normalize

from bench.quality.common import (
    article,
    data_file,
    out_dir_parser,
    question,
    read_jsonl,
    specific_answers,
    split_for,
    stable_sample,
    write_set,
)

LANGS = ("id", "en")
SOURCE = "Wikipedia (TyDi QA GoldP)"


def convert(langs: tuple[str, ...] = LANGS, limit: int | None = None) -> tuple[list[dict], list[dict]]:
    """Return ``(articles, questions)``."""
    rows: dict[str, list[dict[str, Any]]] = {
        lang: list(read_jsonl(data_file("tydiqa_goldp_id", f"tydiqa_goldp_{lang}_dev_flat.jsonl")))
        for lang in langs
    }
    passages: list[tuple[str, str, str]] = []  # (language, title, text), first seen order
    position: dict[tuple[str, str, str], int] = {}
    for lang in langs:
        for row in rows[lang]:
            key = (lang, row["title"], row["passage"])
            if key not in position:
                position[key] = len(passages)
                passages.append(key)
    title_count = Counter(normalize(title) for _, title, _ in passages)
    normalized = [normalize(text) for _, _, text in passages]
    articles = [
        article(title, [text], url=None, source=SOURCE, published=None, language=lang)
        for lang, title, text in passages
    ]
    questions: list[dict[str, Any]] = []
    for lang in langs:
        for row in stable_sample(rows[lang], limit, key=lambda r: r["qid"], salt=f"tydiqa-{lang}"):
            gold = position[(lang, row["title"], row["passage"])]
            answers = specific_answers(row["answers"], gold, normalized)
            titles = [row["title"]] if title_count[normalize(row["title"])] == 1 else []
            questions.append(
                question(
                    row["question"],
                    f"tydiqa-{lang}",
                    answers=answers or ([] if titles else row["answers"]),
                    gold_titles=titles,
                    qid=row["qid"],
                    split=split_for(row["qid"], "tydiqa"),
                    data_answers=row["answers"],
                    ambiguous_gold=not (answers or titles),
                )
            )
    return articles, questions


def write(outdir: Path, langs: tuple[str, ...] = LANGS, limit: int | None = None) -> dict:
    articles, questions = convert(langs, limit)
    ambiguous = sum(1 for q in questions if q["ambiguous_gold"])
    kinds = [f"tydiqa-{lang}" for lang in langs]
    return write_set(outdir, "tydiqa", articles, questions, kinds, questions_with_ambiguous_gold=ambiguous)


def main(argv: list[str] | None = None) -> int:
    parser = out_dir_parser(__doc__.split("\n\n")[0])
    parser.add_argument("--lang", choices=["id", "en", "both"], default="both", help="question languages")
    parser.add_argument("--limit", type=int, default=None, metavar="N", help="N questions per language")
    args = parser.parse_args(argv)
    write(args.outdir, LANGS if args.lang == "both" else (args.lang,), args.limit)
    return 0


if __name__ == "__main__":
    sys.exit(main())
