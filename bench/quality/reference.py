"""The reference background shipped with the default model: what news in each language looks like.

    python -m bench.quality.reference [--out bench/out/reference]

A question's scores are measured against its background: how similar it is to passages that
do not answer it, per language (``index/background.py``). A corpus of a few articles has too
few passages to tell, so the product ships a sample of ordinary news passages per language,
embedded as the product embeds passages, to stand in for the corpus's own sample there.

The sample is news that no evaluation corpus holds: English articles of ~120 outlets (the
article extraction benchmark's gold bodies) and Indonesian IndoSum articles outside the
``medium`` and ``large`` corpora; each article's first ``WORDS_PER_ARTICLE`` words. They are
indexed with the default settings into ``OUT/data`` (a rerun embeds nothing), then
``PER_LANGUAGE`` passage vectors per language are written, as float16, to
``index/search/reference/<model>.npz`` with their sentences' vectors (vectors only: no text
leaves the shared data folder).
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import html
import json
import re
import sys
from pathlib import Path
from typing import Any

import numpy as np
from foreign_desk.index.config import load_settings
from foreign_desk.index.search.reference import REFERENCE_DIR, SENTENCES, reference_path

from bench.quality import mixed
from bench.quality.common import (
    REPO_ROOT,
    article,
    data_dir,
    data_file,
    paragraphs_of,
    stable_key,
    stable_sample,
    write_jsonl,
)

OUT = REPO_ROOT / "bench" / "out" / "reference"
ARTICLES_PER_LANGUAGE = 160
"""Articles read per language: many outlets and topics, a few passages each."""
WORDS_PER_ARTICLE = 300
"""Each article's opening words only (two or three passages), so no long article dominates."""
PER_LANGUAGE = 256
"""Passage vectors kept per language: a steady mean and spread for a 384-d model."""
SENTENCES_PER_LANGUAGE = 512
"""Sentence vectors kept per language (of those passages' sentences): the same, for sentences."""
_TITLE = re.compile(rb"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)


def _opening(paragraphs: list[str], words: int = WORDS_PER_ARTICLE) -> list[str]:
    kept, count = [], 0
    for paragraph in paragraphs:
        if count >= words:
            break
        kept.append(paragraph)
        count += len(paragraph.split())
    return kept


def english_articles() -> list[dict[str, Any]]:
    """English gold bodies of the article extraction benchmark, titled from their pages."""
    import py3langid

    truth = json.loads(data_file("article_extraction_benchmark", "ground-truth.json").read_text("utf-8"))
    rows = []
    for sha, item in sorted(truth.items()):
        body = item.get("articleBody") or ""
        if py3langid.classify(body[:2000])[0] != "en":
            continue
        page = data_dir() / "article_extraction_benchmark" / "html" / f"{sha}.html.gz"
        found = _TITLE.search(gzip.decompress(page.read_bytes())) if page.is_file() else None
        title = html.unescape(found.group(1).decode("utf-8", "replace")) if found else body[:80]
        opening = _opening(paragraphs_of(body))
        rows.append(article(title, opening, url=item.get("url"), source=None, published=None, language="en"))
    return stable_sample(rows, ARTICLES_PER_LANGUAGE, key=lambda r: r["url"] or r["title"], salt="reference")


def indonesian_articles() -> list[dict[str, Any]]:
    """IndoSum articles that no evaluation corpus holds (every section, not only world news)."""
    used = mixed.corpus_urls(mixed.PROFILES["large"]) | mixed.corpus_urls(mixed.PROFILES["medium"])
    rows = [
        dict(r, text="\n\n".join(_opening(r["text"].split("\n\n"))))
        for group in mixed.indosum_articles().values()
        for r in group
        if r["url"] not in used
    ]
    return stable_sample(rows, ARTICLES_PER_LANGUAGE, key=lambda r: r["url"], salt="reference")


async def _sample(data: Path) -> dict[str, np.ndarray]:
    """``PER_LANGUAGE`` live passage vectors per article language (``en``), and the sentence
    vectors of those passages (``sentences-en``)."""
    from foreign_desk.index.store import Store

    store = await Store.open(data)
    try:
        ids, vectors = await store.visible_vectors(await store.generation())
        languages = await store.languages_of(ids.tolist())
        codes = np.array([languages.get(int(i)) or "" for i in ids])
        out: dict[str, np.ndarray] = {}
        for lang in sorted(set(codes) - {""}):
            rows = np.flatnonzero(codes == lang)
            chosen = sorted(rows, key=lambda i: stable_key(str(int(ids[i])), lang))[:PER_LANGUAGE]
            out[lang] = vectors[chosen]
            found = await store.sentence_vectors_of([int(ids[i]) for i in chosen], vectors.shape[1])
            sentences = np.concatenate(list(found.values()))
            keep = sorted(range(len(sentences)), key=lambda i: stable_key(str(i), SENTENCES + lang))
            out[SENTENCES + lang] = sentences[keep[:SENTENCES_PER_LANGUAGE]]
    finally:
        await store.close()
    return out


async def build(out: Path) -> Path:
    """Index the reference articles into ``out`` and write the vector sample; returns its path."""
    from foreign_desk.index.engine import Engine

    corpus = out / "corpus"
    write_jsonl(corpus / "en.jsonl", english_articles())
    write_jsonl(corpus / "id.jsonl", indonesian_articles())
    settings = load_settings(None, environ={}, data_dir=str(out / "data"))
    async with await Engine.open(settings) as engine:
        await engine.index([corpus])
        fingerprint = engine.embedder.fingerprint
    arrays = await _sample(settings.data_path)
    path = reference_path(fingerprint)
    REFERENCE_DIR.mkdir(parents=True, exist_ok=True)
    halves = {name: rows.astype(np.float16) for name, rows in arrays.items()}
    np.savez_compressed(path, fingerprint=np.array(fingerprint.to_json()), **halves)
    print(f"{path}: " + ", ".join(f"{k} {len(v)}" for k, v in arrays.items()))
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=OUT, help="where the reference corpus is indexed")
    args = parser.parse_args(argv)
    asyncio.run(build(args.out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
