"""The passages' float vectors by id, read synchronously by the thread that searches FAISS.

A quantized FAISS index re-ranks its candidates with these (``VectorIndex.exact``), so the
order of dense results is decided by the float32 vectors the embedder made, not by 8-bit
codes. They come from the store's embedding cache, so nothing is stored twice. Each thread
reads on its own read-only connection (``Store.readers``; on the question thread the search's
own): FAISS searches run in executors, never on the event loop.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from foreign_desk.index.sqlite import ReadConnections
from foreign_desk.index.store.db import VECTOR_DTYPE, fits, say_damaged

SQL = (
    "SELECT p.id, e.vector FROM passages p JOIN embeddings e ON e.key = p.vector_key "
    "WHERE p.id IN ({marks}) ORDER BY p.id"
)
MAX_IDS = 900
"""Ids per statement (SQLite's limit on bound parameters is 999 in old builds)."""


class ExactVectors:
    """``reader(ids) -> (found ids, float32 rows)``; ids without a stored vector (or with a
    damaged one, of the wrong length) are left out."""

    def __init__(self, connections: ReadConnections, dim: int) -> None:
        self.dim = dim
        self._connections = connections

    def __call__(self, ids: Sequence[int] | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        wanted = [int(i) for i in ids]
        found: list[int] = []
        blobs: list[bytes] = []
        damaged = 0
        conn = self._connections.get()
        for start in range(0, len(wanted), MAX_IDS):
            chunk = wanted[start : start + MAX_IDS]
            for pid, blob in conn.execute(SQL.format(marks=",".join("?" * len(chunk))), chunk):
                if not fits(blob, 1, self.dim, VECTOR_DTYPE):  # damaged: left out, as if not kept
                    damaged += 1
                    continue
                found.append(int(pid))
                blobs.append(blob)
        say_damaged(damaged)
        matrix = np.frombuffer(b"".join(blobs), dtype=np.float32).reshape(len(blobs), self.dim)
        return np.asarray(found, dtype=np.int64), matrix
