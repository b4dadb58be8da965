"""How well ``article_from_html`` finds article bodies, on 181 real pages with gold bodies.

Reads the Scrapinghub article-extraction benchmark in place (``html/*.html.gz`` and
``ground-truth.json``) and, for several trafilatura configurations, compares the extracted
body (all blocks, headings included) with the gold ``articleBody``:

* ``bow``: bag of words (``\\w+`` tokens, counted with multiplicity) per page;
* ``shingle4``: bags of 4-token shingles, the benchmark's own ``evaluate.py`` measure.

For each, per-page precision, recall and F1 are summarised by mean and median, plus the
benchmark's headline figure (F1 of mean precision and mean recall). Speed is pages per
second of ``article_from_html`` (decoding, extraction, metadata, language) on one core,
each configuration in a fresh process.

    python bench/extraction.py                      # all configurations, one JSON object
    python bench/extraction.py --configs default precision --limit 40
"""

from __future__ import annotations

import argparse
import gzip
import json
import multiprocessing
import re
import statistics
import sys
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "article_extraction_benchmark"

BASE: dict[str, Any] = {
    "include_comments": False,
    "include_tables": True,
    "favor_precision": False,
    "favor_recall": False,
    "fast": False,
}
"""trafilatura's defaults, comments left out (reader comments are not the article)."""
CONFIGS: dict[str, dict[str, Any]] = {
    "default": BASE,
    "precision": {**BASE, "favor_precision": True},
    "recall": {**BASE, "favor_recall": True},
    "no_tables": {**BASE, "include_tables": False},
    "precision_no_tables": {**BASE, "favor_precision": True, "include_tables": False},
    "fast": {**BASE, "fast": True},
    "precision_fast": {**BASE, "favor_precision": True, "fast": True},
}

_TOKEN = re.compile(r"\w+")


def tokens(text: str) -> list[str]:
    return _TOKEN.findall(text or "")


def bag(words: list[str], n: int) -> Counter[tuple[str, ...]]:
    if n == 1:
        return Counter((w,) for w in words)
    return Counter(tuple(words[i : i + n]) for i in range(max(1, len(words) - n + 1)) if words[i : i + n])


def scores(gold: str, pred: str, n: int) -> tuple[float, float, float]:
    """Precision, recall, F1 of the ``n``-gram bags (empty vs empty counts as perfect)."""
    true, got = bag(tokens(gold), n), bag(tokens(pred), n)
    tp = sum((true & got).values())
    fp = sum(got.values()) - tp
    fn = sum(true.values()) - tp
    if fp == fn == 0:
        return 1.0, 1.0, 1.0
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def summarise(rows: list[tuple[float, float, float]]) -> dict[str, float]:
    p, r, f = zip(*rows, strict=True)
    mean_p, mean_r = statistics.mean(p), statistics.mean(r)
    return {
        "precision_mean": round(mean_p, 4),
        "recall_mean": round(mean_r, 4),
        "f1_mean": round(statistics.mean(f), 4),
        "precision_median": round(statistics.median(p), 4),
        "recall_median": round(statistics.median(r), 4),
        "f1_median": round(statistics.median(f), 4),
        "f1_of_means": round(2 * mean_p * mean_r / (mean_p + mean_r), 4) if mean_p + mean_r else 0.0,
    }


def load(data: Path, limit: int | None) -> list[tuple[str, bytes, str, str]]:
    truth = json.loads((data / "ground-truth.json").read_text(encoding="utf-8"))
    pages = []
    for key in sorted(truth)[:limit]:
        html = gzip.decompress((data / "html" / f"{key}.html.gz").read_bytes())
        pages.append((key, html, truth[key].get("url") or "", truth[key].get("articleBody") or ""))
    return pages


def run(options: dict[str, Any], data: Path, limit: int | None) -> dict[str, Any]:
    """Score one configuration, in a fresh process so caches warmed by another one don't flatter it."""
    sys.path.insert(0, str(ROOT))
    from foreign_desk.index.errors import ReaderError
    from foreign_desk.index.readers.html import article_from_html

    pages = load(data, limit)
    article_from_html(pages[0][1], options=options)  # warm up: language model, imports

    bow, shingles, failures = [], [], []
    elapsed = 0.0
    for key, html, url, gold in pages:
        started = time.perf_counter()
        try:
            article = article_from_html(html, url=url or None, options=options)
            predicted = "\n".join(block.text for block in article.blocks)
        except ReaderError:
            predicted = ""
            failures.append(key[:12])
        elapsed += time.perf_counter() - started
        bow.append(scores(gold, predicted, 1))
        shingles.append(scores(gold, predicted, 4))
    return {
        "options": options,
        "bow": summarise(bow),
        "shingle4": summarise(shingles),
        "pages": len(pages),
        "no_body": len(failures),
        "pages_per_s": round(len(pages) / elapsed, 1),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DATA, help="benchmark folder (default: %(default)s)")
    parser.add_argument("--configs", nargs="+", choices=sorted(CONFIGS), default=list(CONFIGS))
    parser.add_argument("--limit", type=int, default=None, help="only the first N pages")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    from foreign_desk.index.readers.html import EXTRACTION

    results = {}
    for name in args.configs:
        with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn")) as pool:
            results[name] = pool.submit(run, CONFIGS[name], args.data, args.limit).result()
    best = max(results, key=lambda n: results[n]["bow"]["f1_mean"])
    print(
        json.dumps(
            {
                "pages": results[best]["pages"],
                "extraction_in_use": EXTRACTION,
                "best_by_bow_f1_mean": best,
                "configs": results,
            },
            indent=2,
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
