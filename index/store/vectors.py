"""The FAISS side of the store: one index per generation, ids = passage row ids.

Exact inner-product search (``IndexIDMap2(IndexFlatIP)``) while small; past the configured
threshold an IVF index (``IndexIVFFlat``, ids stored natively) keeps latency flat. Vectors
are normalized, so inner product is cosine. All methods are blocking: call them in an
executor. A ``VectorIndex`` is never mutated while it serves: writers work on ``clone()``.
"""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Iterable
from pathlib import Path

import faiss
import numpy as np

log = logging.getLogger(__name__)

FLAT = "flat"
IVF = "ivf"


MIN_PROBED_SHARE = 1 / 64
"""Lists probed per query grow with the index: at 1M passages (4,000 lists) nprobe 32 gives
recall@10 0.948 against exact search, 1/64 of the lists (63) 0.988 for +1 ms (bench/core.py)."""


def ivf_nlist(n: int) -> int:
    """Inverted lists for ``n`` vectors: ~4·sqrt(n) (a common, benchmark-checked choice),
    and at least 39 training points per list as FAISS asks."""
    return int(max(1, min(65536, 4 * math.sqrt(max(n, 1)), n // 39)))


class VectorIndex:
    """A FAISS index plus what kind it is; search can be restricted to a set of ids."""

    def __init__(self, index: faiss.Index, kind: str, nprobe: int = 32) -> None:
        self.index = index
        self.kind = kind
        self.nprobe = nprobe

    # -- construction -------------------------------------------------------------------
    @classmethod
    def empty(cls, dim: int, nprobe: int = 32) -> VectorIndex:
        return cls(faiss.IndexIDMap2(faiss.IndexFlatIP(dim)), FLAT, nprobe)

    @classmethod
    def build(
        cls,
        dim: int,
        ids: np.ndarray,
        vectors: np.ndarray,
        *,
        approximate_threshold: int,
        nprobe: int = 32,
        train_sample: int = 100_000,
    ) -> VectorIndex:
        """A fresh index over ``vectors``: exact up to the threshold, IVF past it."""
        n = len(ids)
        if n <= approximate_threshold:
            index = cls.empty(dim, nprobe)
        else:
            nlist = ivf_nlist(n)
            ivf = faiss.IndexIVFFlat(faiss.IndexFlatIP(dim), dim, nlist, faiss.METRIC_INNER_PRODUCT)
            rng = np.random.default_rng(0)
            sample = vectors if n <= train_sample else vectors[np.sort(rng.choice(n, train_sample, False))]
            ivf.train(np.ascontiguousarray(sample, dtype=np.float32))
            index = cls(ivf, IVF, nprobe)
        index.add(ids, vectors)
        return index

    def clone(self) -> VectorIndex:
        return VectorIndex(faiss.clone_index(self.index), self.kind, self.nprobe)

    # -- reading ------------------------------------------------------------------------
    @property
    def ntotal(self) -> int:
        return int(self.index.ntotal)

    @property
    def dim(self) -> int:
        return int(self.index.d)

    def ids(self) -> np.ndarray:
        """Every id in the index (order unspecified)."""
        if self.kind == FLAT:
            return faiss.vector_to_array(self.index.id_map).astype(np.int64)
        invlists = faiss.extract_index_ivf(self.index).invlists
        parts = []
        for list_no in range(invlists.nlist):
            size = invlists.list_size(list_no)
            if size:
                ptr = invlists.get_ids(list_no)
                parts.append(faiss.rev_swig_ptr(ptr, size).copy())
                invlists.release_ids(list_no, ptr)
        return np.concatenate(parts).astype(np.int64) if parts else np.empty(0, dtype=np.int64)

    def sample(self, n: int = 256) -> tuple[np.ndarray, np.ndarray]:
        """(ids, vectors) of up to ``n`` stored vectors spread evenly over the index (cheap)."""
        if self.ntotal == 0:
            return np.empty(0, dtype=np.int64), np.empty((0, self.dim), dtype=np.float32)
        if self.kind == FLAT:
            flat = faiss.downcast_index(self.index.index)
            xb = faiss.rev_swig_ptr(flat.get_xb(), self.ntotal * self.dim).reshape(self.ntotal, self.dim)
            step = max(1, self.ntotal // n)
            ids = faiss.vector_to_array(self.index.id_map)[::step][:n]
            return ids.astype(np.int64), np.array(xb[::step][:n], dtype=np.float32)
        invlists = faiss.extract_index_ivf(self.index).invlists
        per_list = max(1, -(-n // invlists.nlist))
        ids, rows = [], []
        for list_no in range(invlists.nlist):
            size = invlists.list_size(list_no)
            for offset in sorted({int(o) for o in np.linspace(0, size - 1, min(size, per_list))}):
                ids.append(invlists.get_single_id(list_no, offset))
                code = invlists.get_single_code(list_no, offset)
                rows.append(np.frombuffer(bytes(faiss.rev_swig_ptr(code, self.dim * 4)), dtype=np.float32))
                invlists.release_codes(list_no, code)
        step = max(1, len(ids) // n)
        return np.asarray(ids[::step][:n], dtype=np.int64), np.vstack(rows[::step][:n]).astype(np.float32)

    def search(
        self, queries: np.ndarray, k: int, allowed: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Top-``k`` (scores, ids) per query row; ``allowed`` restricts to those ids."""
        if self.ntotal == 0 or k <= 0:
            shape = (len(queries), 0)
            return np.empty(shape, dtype=np.float32), np.empty(shape, dtype=np.int64)
        queries = np.ascontiguousarray(queries, dtype=np.float32)
        selector = (
            faiss.IDSelectorBatch(np.ascontiguousarray(allowed, dtype=np.int64))
            if allowed is not None
            else None
        )
        if self.kind == IVF:
            # A filter's ids may sit in any list: scan them all (only allowed ids are scored).
            nlist = faiss.extract_index_ivf(self.index).nlist
            probes = max(self.nprobe, math.ceil(nlist * MIN_PROBED_SHARE))
            params = faiss.SearchParametersIVF(nprobe=nlist if selector is not None else probes)
            if selector is not None:
                params.sel = selector
        else:
            params = faiss.SearchParameters(sel=selector) if selector is not None else None
        scores, ids = self.index.search(queries, min(k, self.ntotal), params=params)
        return scores, ids

    # -- writing ------------------------------------------------------------------------
    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        if len(ids):
            self.index.add_with_ids(
                np.ascontiguousarray(vectors, dtype=np.float32), np.ascontiguousarray(ids, dtype=np.int64)
            )

    def remove(self, ids: Iterable[int]) -> int:
        arr = np.fromiter(ids, dtype=np.int64)
        if not len(arr):
            return 0
        return int(self.index.remove_ids(faiss.IDSelectorBatch(arr)))

    def save(self, path: Path) -> None:
        """Write atomically: temp file, fsync, rename, fsync the directory."""
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        faiss.write_index(self.index, str(tmp))
        fd = os.open(tmp, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)

    @classmethod
    def load(cls, path: Path, nprobe: int = 32) -> VectorIndex:
        index = faiss.read_index(str(path))
        kind = IVF if faiss.try_extract_index_ivf(index) is not None else FLAT
        return cls(index, kind, nprobe)
