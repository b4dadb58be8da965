"""A deterministic stand-in for the embedding model, for unit tests of the engine's stages.

Each word (``index.text.tokens``) is hashed to one dimension with a sign, so texts that share
words are close and texts that share none are nearly orthogonal, in microseconds and without
a model. It says nothing about retrieval quality: tests of ranking quality use the real models.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import numpy as np
from foreign_desk.index.embed import Fingerprint
from foreign_desk.index.text import tokens


class FakeEmbedder:
    """Bag-of-hashed-words vectors, L2-normalized; counts the texts it embedded."""

    def __init__(self, dim: int = 64) -> None:
        self._dim = dim
        self.queries: list[str] = []
        self.passages: list[str] = []

    @property
    def dim(self) -> int:
        return self._dim

    @property
    def fingerprint(self) -> Fingerprint:
        return Fingerprint("fake", "hashed-words", self._dim)

    def vector(self, text: str) -> np.ndarray:
        vec = np.zeros(self._dim, dtype=np.float32)
        for word in tokens(text) or [text]:
            digest = hashlib.blake2b(word.encode("utf-8"), digest_size=8).digest()
            slot = int.from_bytes(digest[:4], "little")
            vec[slot % self._dim] += 1.0 if digest[4] & 1 else -1.0
        norm = float(np.linalg.norm(vec))
        return vec / norm if norm else vec

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        self.queries.extend(texts)
        return self._matrix(texts)

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        self.passages.extend(texts)
        return self._matrix(texts)

    def _matrix(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.empty((0, self._dim), dtype=np.float32)
        return np.stack([self.vector(t) for t in texts])
