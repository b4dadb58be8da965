"""What servers' own articles cost every search. Prints one JSON object.

    python -m bench.servers [--passages 100000] [--own 2000] [--few 10] [--rounds 3] [--work DIR]

Indexes the peer benchmark's stand-in corpus (``bench.peers``) with its model-free embedder,
asks its real questions in four scopes (the shared corpus, a server owning nothing, a server
owning ``--own`` of the articles, one owning ``--few`` others) and prints the CPU milliseconds a
question and each stage's share, before and after those servers take the articles as their own
(no longer shared). The search is run on the question thread as ``Searcher.answer`` runs it: the
model is a hash, so the figures are the search side's. ``own_keywords_ms``: the two steps of an
owning server's keyword search alone (finding its matches, scoring them), a question: the few
articles' server should not pay for the many's matches.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from pathlib import Path
from typing import Any

from foreign_desk.index.config import load_settings
from foreign_desk.index.engine import Engine
from foreign_desk.index.models import SHARED, Filters, Scope
from foreign_desk.index.search.request import SearchRequest
from foreign_desk.index.search.retrieve import own_terms, query_terms
from foreign_desk.index.store import own_keywords
from foreign_desk.index.store.db import BM25_WEIGHTS

from bench.peers.standin import make_embedder, questions, write_corpus

OWNER, OTHER, FEW = 222, 111, 333


async def cost(engine: Engine, asked: list[str], scope: Scope, rounds: int) -> dict[str, Any]:
    """CPU ms a question in ``scope`` (and per stage), and own results a question."""
    snapshot = await engine.snapshot()
    assert snapshot is not None
    requests = [SearchRequest.of(q, engine.settings.search, k=10, scope=scope) for q in asked]
    for request in requests[:5]:  # warm
        engine.searcher.answer(snapshot, request)
    laps: dict[str, float] = {}
    own = 0
    started = time.process_time()
    for _ in range(rounds):
        for request in requests:
            answer = engine.searcher.answer(snapshot, request)
            own += sum(r.own for r in answer.results)
            for stage, ms in answer.timings.items():
                laps[stage] = laps.get(stage, 0.0) + ms
    n = rounds * len(requests)
    return {
        "cpu_ms": round((time.process_time() - started) * 1000 / n, 2),
        "stages_ms": {stage: round(ms / n, 2) for stage, ms in laps.items()},
        "own_results": round(own / n, 2),
    }


NAMED = {
    "shared": SHARED,
    "server owning none": Scope(OTHER),
    "server owning them": Scope(OWNER),
    "server owning a few": Scope(FEW),
}


async def scopes(engine: Engine, asked: list[str], rounds: int) -> dict[str, Any]:
    return {name: await cost(engine, asked, scope, rounds) for name, scope in NAMED.items()}


async def own_keyword_cost(engine: Engine, asked: list[str], scope: Scope, rounds: int) -> dict[str, Any]:
    """CPU ms a question of ``own_matches`` and ``scored`` for ``scope``, as retrieval calls them."""
    snapshot = await engine.snapshot()
    assert snapshot is not None
    found = scoring = 0.0
    matches = 0
    with engine.searcher.reads.reading() as read:
        for _ in range(rounds):
            for question in asked:
                terms = query_terms(question)
                doc_freqs = read.doc_freqs(terms, snapshot.generation)
                wanted = own_terms(terms, doc_freqs, snapshot.passages)
                args = (wanted, snapshot.generation, Filters(), scope)
                t = time.process_time()
                ids = own_keywords.own_matches(read.conn, *args)
                found += time.process_time() - t
                t = time.process_time()
                own_keywords.scored(read.conn, read.rows_in, ids, wanted, doc_freqs, BM25_WEIGHTS)
                scoring += time.process_time() - t
                matches += len(ids)
    n = rounds * len(asked)
    return {"own_matches": round(found * 1000 / n, 3), "scored": round(scoring * 1000 / n, 3),
            "matches": round(matches / n, 1)}  # fmt: skip


async def take(engine: Engine, server: int, uids: list[str]) -> None:
    await engine.store.scopes.grant([(uid, server) for uid in uids])
    await engine.store.scopes.revoke(0, uids)


async def run(work: Path, passages: int, own: int, few: int, rounds: int) -> dict[str, Any]:
    write_corpus(work / "corpus", passages)
    settings = load_settings(None, environ={}, data_dir=str(work / "data"))
    async with await Engine.open(settings, embedder=make_embedder("hash")) as engine:
        await engine.index([work / "corpus"])
        asked = questions(40)
        before = await scopes(engine, asked, rounds)
        async with engine.store.conn.execute(
            "SELECT DISTINCT uid FROM articles LIMIT ?", (own + few,)
        ) as cur:
            uids = [r[0] for r in await cur.fetchall()]
        started = time.perf_counter()
        await take(engine, OWNER, uids[:own])
        moved_s = time.perf_counter() - started
        await take(engine, FEW, uids[own:])
        stats = await engine.stats()
        return {
            "passages": stats.passages,
            "index": stats.index_type,
            "own_articles": own,
            "few_articles": len(uids) - own,
            "own_passages": len(await engine.store.unshared_ids()),
            "taking_them_s": round(moved_s, 2),
            "before": before,
            "after": await scopes(engine, asked, rounds),
            "own_keywords_ms": {
                name: await own_keyword_cost(engine, asked, NAMED[name], rounds)
                for name in ("server owning them", "server owning a few")
            },
        }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--passages", type=int, default=100_000)
    parser.add_argument("--own", type=int, default=2_000, help="articles the server takes as its own")
    parser.add_argument("--few", type=int, default=10, help="articles another server takes as its own")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--work", type=Path, default=None, help="where the corpus and store go (kept)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        work = args.work or Path(tmp)
        print(json.dumps(asyncio.run(run(work, args.passages, args.own, args.few, args.rounds)), indent=1))


if __name__ == "__main__":
    main()
