"""PANL-BPPT international news: an English sentence must find its Indonesian twin, and back.

``python -m bench.quality.panl OUTDIR [--limit N]`` writes two folders, each to be indexed
on its own (an English question would otherwise find its own English sentence first):

* ``en2id/corpus.jsonl``: every Indonesian sentence as a tiny article, and
  ``en2id/questions.jsonl``: English sentences whose answer is the twin's full text
  (kind ``panl-en2id``);
* ``id2en/corpus.jsonl`` and ``id2en/questions.jsonl``: the other way round (``panl-id2en``).

The corpora always hold every pair of ``panl_bppt_int_pairs.jsonl`` (6,642 lines: the two
text files have 6,641 newline-terminated lines plus a last line without one); ``--limit N``
keeps a deterministic sample of N questions per direction. There are no headlines or article
boundaries in the data: each sentence's title is its own first words (the whole sentence when
it is short, which the cleaner keeps as the brief's only line).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from bench.quality.common import (
    article,
    data_file,
    headline_from,
    out_dir_parser,
    question,
    read_jsonl,
    report,
    split_for,
    stable_sample,
    write_jsonl,
)

SOURCE = "PANL-BPPT (international news, 2009)"
DIRECTIONS = {"en2id": ("en", "id"), "id2en": ("id", "en")}


def url_for(line: int, language: str) -> str:
    return f"https://panl.example/{language}/{line:05d}"


def convert(direction: str, limit: int | None = None) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Return ``(articles, questions)`` for ``en2id`` or ``id2en``."""
    asked, found = DIRECTIONS[direction]
    pairs = list(read_jsonl(data_file("panl_bppt_int_en_id", "panl_bppt_int_pairs.jsonl")))
    articles = [
        article(
            headline_from(p[found]),
            [p[found]],
            url=url_for(p["line"], found),
            source=SOURCE,
            published=None,
            language=found,
        )
        for p in pairs
    ]
    questions = [
        question(
            p[asked],
            f"panl-{direction}",
            gold_urls=[url_for(p["line"], found)],
            line=p["line"],
            split=split_for(str(p["line"]), f"panl-{direction}"),
        )
        for p in stable_sample(pairs, limit, key=lambda p: p["line"], salt=f"panl-{direction}")
    ]
    return articles, questions


def write(outdir: Path, limit: int | None = None) -> dict:
    manifest: dict[str, Any] = {"dataset": "panl"}
    for direction in DIRECTIONS:
        articles, questions = convert(direction, limit)
        manifest[f"{direction}_articles"] = write_jsonl(outdir / direction / "corpus.jsonl", articles)
        manifest[f"{direction}_questions"] = write_jsonl(outdir / direction / "questions.jsonl", questions)
    manifest["approx_passages_per_corpus"] = manifest["en2id_articles"]
    manifest["kinds"] = [f"panl-{d}" for d in DIRECTIONS]
    report(outdir, manifest)
    return manifest


def main(argv: list[str] | None = None) -> int:
    parser = out_dir_parser(__doc__.split("\n\n")[0])
    parser.add_argument("--limit", type=int, default=None, metavar="N", help="N questions per direction")
    args = parser.parse_args(argv)
    write(args.outdir, args.limit)
    return 0


if __name__ == "__main__":
    sys.exit(main())
