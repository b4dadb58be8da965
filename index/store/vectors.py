"""The FAISS side of the store: one index per generation, ids = passage row ids.

Exact inner-product search (``IndexIDMap2(IndexFlatIP)``) while small; past the configured
threshold an IVF index with 8-bit scalar-quantized vectors (``IndexIVFScalarQuantizer``, ids
stored natively) keeps latency flat and memory a quarter of float32's. Its candidates are
re-ranked exactly from the float vectors the store keeps (``exact``), so quantization never
decides the order. Vectors are normalized, so inner product is cosine. Indexes are loaded
memory-mapped, read-only: opening a generation costs milliseconds, and only the pages a search
touches are read. All methods are blocking: call them in an executor. A ``VectorIndex`` is
never mutated while it serves: writers work on ``clone()`` (an in-memory copy).
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import re
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from foreign_desk.index import threads
from foreign_desk.index.errors import StoreError

threads.configure_openmp()  # before FAISS loads its OpenMP runtime

import faiss  # noqa: E402
import numpy as np  # noqa: E402

log = logging.getLogger(__name__)

FAISS_REASON = re.compile(r"\(([^()]+)\)\s*$")
"""The system's reason at the end of a FAISS I/O error: ``... 65454 != 256000 (File too large)``."""

IDSelector = faiss.IDSelector

FLAT = "flat"
IVF = "ivf"

ExactVectors = Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]
"""``exact(ids) -> (found_ids, float32 rows)``: the stored float vectors of those passage ids
(ids it cannot find are left out)."""

RERANK_DEPTH = 2
"""A quantized search takes ``RERANK_DEPTH · k`` (at least ``k + RERANK_MIN``) candidates and
re-ranks them exactly: enough that quantization error never pushes a true top-k passage out."""
RERANK_MIN = 32
TRAIN_PER_LIST = 40
"""Training points per IVF list (FAISS asks for at least 39); more only slows training."""
KMEANS_ITERATIONS = 10
"""k-means rounds when training IVF lists (FAISS's default is 25): at 100k passages, 632 lists
and 64 probes, recall@10 after re-ranking is 0.982 with either, training 6.2 s of CPU with 25."""
MMAP_FLAGS = faiss.IO_FLAG_MMAP_IFC | faiss.IO_FLAG_READ_ONLY
PART = 8_192
"""Vectors read from the store and added to an index at a time (12 MB at 384 dimensions), by an
indexing build and a repair alike. A multiple of FAISS's 4,096-query blocks, so adding part by
part assigns every vector exactly as adding them all at once (the same index, byte for byte)."""


DEFAULT_NPROBE = 64
"""IVF lists probed per question unless configured (``index.nprobe``; see its docstring)."""
MIN_PROBED_SHARE = 1 / 64
"""Lists probed per query grow with the index, past ``nprobe`` for very big ones."""


def selection(ids: np.ndarray) -> faiss.IDSelector:
    """A restriction to ``ids`` for ``VectorIndex.search``, made once for ids searched often
    (making one costs ~0.2 ms per 5,000 ids, as much as the search it restricts)."""
    return faiss.IDSelectorBatch(np.ascontiguousarray(ids, dtype=np.int64))


def ivf_nlist(n: int) -> int:
    """Inverted lists for ``n`` vectors: ~2·sqrt(n), and at least 39 training points per list
    as FAISS asks. Half the common 4·sqrt(n): training costs less than half (at 100k, 6.2 s of
    CPU instead of 24.6) and 64 probes still give recall@10 0.982 (1,264 lists: 0.988)."""
    return int(max(1, min(65536, 2 * math.sqrt(max(n, 1)), n // 39)))


def _spread(invlists: faiss.InvertedLists, list_no: int, count: int) -> list[int]:
    """Up to ``count`` offsets spread evenly over one inverted list."""
    size = invlists.list_size(list_no)
    if count == 1 or size <= 1:  # the list's first (linspace's one point): 10x faster, same offsets
        return [0] if size else []
    return sorted({int(o) for o in np.linspace(0, size - 1, min(size, count))})


class VectorIndex:
    """A FAISS index plus what kind it is; search can be restricted to a set of ids.

    ``exact`` (set by whoever knows where the float vectors live) lets a quantized index re-rank
    its candidates exactly; without it a quantized index ranks by its 8-bit codes.
    """

    def __init__(
        self,
        index: faiss.Index,
        kind: str,
        nprobe: int = DEFAULT_NPROBE,
        exact: ExactVectors | None = None,
        *,
        mapped: bool = False,
    ) -> None:
        self.index = index
        self.kind = kind
        self.nprobe = nprobe
        self.exact = exact
        self.mapped = mapped
        """Memory-mapped read-only: never written to (writers use ``clone``)."""

    # -- construction -------------------------------------------------------------------
    @classmethod
    def empty(cls, dim: int, nprobe: int = DEFAULT_NPROBE) -> VectorIndex:
        return cls(faiss.IndexIDMap2(faiss.IndexFlatIP(dim)), FLAT, nprobe)

    @classmethod
    def build(
        cls,
        dim: int,
        ids: np.ndarray,
        vectors: np.ndarray,
        *,
        approximate_threshold: int,
        nprobe: int = DEFAULT_NPROBE,
    ) -> VectorIndex:
        """A fresh index over ``vectors``: exact up to the threshold, IVF with 8-bit codes past it."""
        index = cls.sized(dim, len(ids), approximate_threshold=approximate_threshold, nprobe=nprobe)
        picked = index.training_rows(len(ids))
        if picked is not None:
            index.train(vectors if len(picked) == len(ids) else vectors[picked])
        index.add(ids, vectors)
        return index

    @classmethod
    def sized(
        cls, dim: int, n: int, *, approximate_threshold: int, nprobe: int = DEFAULT_NPROBE
    ) -> VectorIndex:
        """An empty index of the kind that suits ``n`` vectors: exact up to the threshold, IVF
        with 8-bit codes past it (to be trained on ``training_rows`` before vectors are added:
        a build may then add them a part at a time)."""
        if n <= approximate_threshold:
            return cls.empty(dim, nprobe)
        quantizer, nlist = faiss.IndexFlatIP(dim), ivf_nlist(n)
        ivf = faiss.IndexIVFScalarQuantizer(
            quantizer, dim, nlist, faiss.ScalarQuantizer.QT_8bit, faiss.METRIC_INNER_PRODUCT
        )
        ivf.cp.niter = KMEANS_ITERATIONS
        return cls(ivf, IVF, nprobe)

    def training_rows(self, n: int) -> np.ndarray | None:
        """Which of the ``n`` rows to add (ascending positions) train it, None if it needs no training."""
        if self.kind != IVF or self.index.is_trained:
            return None
        take = min(n, TRAIN_PER_LIST * self._ivf().nlist)
        if take == n:
            return np.arange(n)
        return np.sort(np.random.default_rng(0).choice(n, take, replace=False))

    def train(self, sample: np.ndarray) -> None:
        self._writable()
        self.index.train(np.ascontiguousarray(sample, dtype=np.float32))

    def clone(self) -> VectorIndex:
        """An in-memory, writable copy. FAISS's ``clone_index`` of a memory-mapped index still
        points at the read-only mapping (writing to it crashes), so that one is copied through
        its serialized form."""
        if self.mapped:
            copy = faiss.deserialize_index(faiss.serialize_index(self.index))
        else:
            copy = faiss.clone_index(self.index)
        return VectorIndex(copy, self.kind, self.nprobe, self.exact)

    # -- reading ------------------------------------------------------------------------
    @property
    def ntotal(self) -> int:
        return int(self.index.ntotal)

    @property
    def dim(self) -> int:
        return int(self.index.d)

    @property
    def quantized(self) -> bool:
        """Does the index hold 8-bit codes rather than the float vectors?"""
        return self.kind == IVF and self._ivf().code_size < 4 * self.dim

    def _ivf(self) -> faiss.IndexIVF:
        return faiss.extract_index_ivf(self.index)

    def ids(self) -> np.ndarray:
        """Every id in the index (order unspecified)."""
        if self.kind == FLAT:
            return faiss.vector_to_array(self.index.id_map).astype(np.int64)
        invlists = self._ivf().invlists
        parts = []
        for list_no in range(invlists.nlist):
            size = invlists.list_size(list_no)
            if size:
                ptr = invlists.get_ids(list_no)
                parts.append(faiss.rev_swig_ptr(ptr, size).copy())
                invlists.release_ids(list_no, ptr)
        return np.concatenate(parts).astype(np.int64) if parts else np.empty(0, dtype=np.int64)

    def sample(self, n: int = 256, leave_out: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(ids, vectors) of up to ``n`` stored vectors spread evenly over the index (cheap), none
        of ``leave_out``. A quantized index gives its decoded codes (within ~1% of the float
        vectors)."""
        if self.ntotal == 0:
            return np.empty(0, dtype=np.int64), np.empty((0, self.dim), dtype=np.float32)
        if self.kind == FLAT:
            flat = faiss.downcast_index(self.index.index)
            xb = faiss.rev_swig_ptr(flat.get_xb(), self.ntotal * self.dim).reshape(self.ntotal, self.dim)
            ids = faiss.vector_to_array(self.index.id_map)
            kept = np.arange(self.ntotal) if leave_out is None else np.flatnonzero(~np.isin(ids, leave_out))
            at = kept[:: max(1, len(kept) // n)][:n]
            return ids[at].astype(np.int64), np.array(xb[at], dtype=np.float32)
        if leave_out is not None and self.exact is not None:
            # The lists' layout depends on every vector: spread over the ids kept, in id order.
            kept = np.setdiff1d(self.ids(), leave_out)
            return self.exact(kept[:: max(1, len(kept) // n)][:n])
        ivf = self._ivf()
        invlists = ivf.invlists
        per_list = max(1, -(-n // invlists.nlist))
        where = [
            (list_no, offset)
            for list_no in range(invlists.nlist)
            for offset in _spread(invlists, list_no, per_list)
        ]
        where = where[:: max(1, len(where) // n)][:n]
        picked = np.asarray(
            [invlists.get_single_id(list_no, offset) for list_no, offset in where], dtype=np.int64
        )
        if self.quantized and self.exact is not None:  # exact copies: decoding them would be wasted
            return self.exact(picked)
        return picked, np.vstack([self._code(ivf, list_no, offset) for list_no, offset in where])

    def _code(self, ivf: faiss.IndexIVF, list_no: int, offset: int) -> np.ndarray:
        """The decoded vector at ``offset`` in list ``list_no``."""
        code = ivf.invlists.get_single_code(list_no, offset)
        raw = np.frombuffer(bytes(faiss.rev_swig_ptr(code, ivf.code_size)), dtype=np.uint8)
        ivf.invlists.release_codes(list_no, code)
        return self._decode(ivf, list_no, raw[None, :])[0].astype(np.float32)

    def chunks(self, size: int = 2_000) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Every (ids, vectors) the index stores, about ``size`` at a time: checking all of a
        1M-passage index holds one chunk in memory, not 1.5 GB. A quantized index gives its
        decoded codes; never ``exact``'s copies (they are what the index is checked against)."""
        if self.kind == FLAT:
            flat = faiss.downcast_index(self.index.index)
            xb = faiss.rev_swig_ptr(flat.get_xb(), self.ntotal * self.dim).reshape(self.ntotal, self.dim)
            ids = faiss.vector_to_array(self.index.id_map).astype(np.int64)
            for start in range(0, self.ntotal, size):
                yield ids[start : start + size], np.array(xb[start : start + size], dtype=np.float32)
            return
        ivf = self._ivf()
        parts: list[tuple[np.ndarray, np.ndarray]] = []
        for list_no in range(ivf.invlists.nlist):
            if ivf.invlists.list_size(list_no):
                parts.append(self._list(ivf, list_no))
            if parts and (sum(len(i) for i, _ in parts) >= size or list_no == ivf.invlists.nlist - 1):
                yield np.concatenate([i for i, _ in parts]), np.vstack([v for _, v in parts])
                parts = []

    def _list(self, ivf: faiss.IndexIVF, list_no: int) -> tuple[np.ndarray, np.ndarray]:
        """One inverted list's ids and decoded vectors."""
        invlists, n = ivf.invlists, ivf.invlists.list_size(list_no)
        ids_ptr, codes_ptr = invlists.get_ids(list_no), invlists.get_codes(list_no)
        ids = faiss.rev_swig_ptr(ids_ptr, n).astype(np.int64)
        codes = np.array(faiss.rev_swig_ptr(codes_ptr, n * ivf.code_size), dtype=np.uint8)
        invlists.release_ids(list_no, ids_ptr)
        invlists.release_codes(list_no, codes_ptr)
        return ids, self._decode(ivf, list_no, codes.reshape(n, ivf.code_size))

    def _decode(self, ivf: faiss.IndexIVF, list_no: int, codes: np.ndarray) -> np.ndarray:
        """Float rows of one list's ``codes`` (one row of ``code_size`` bytes each)."""
        if not self.quantized:
            return codes.view(np.float32).reshape(len(codes), self.dim)
        rows = faiss.downcast_index(ivf).sq.decode(codes)
        if ivf.by_residual:
            rows += ivf.quantizer.reconstruct(list_no)
        return rows.astype(np.float32)

    def search(
        self,
        queries: np.ndarray,
        k: int,
        allowed: np.ndarray | faiss.IDSelector | None = None,
        excluded: np.ndarray | faiss.IDSelector | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Top-``k`` (scores, ids) per query row; ``allowed`` restricts to those ids (or to a
        ``selection`` of them), ``excluded`` leaves those out (or a ``selection`` of them: other
        servers' own passages)."""
        if self.ntotal == 0 or k <= 0:
            shape = (len(queries), 0)
            return np.empty(shape, dtype=np.float32), np.empty(shape, dtype=np.int64)
        queries = np.ascontiguousarray(queries, dtype=np.float32)
        k = min(k, self.ntotal)
        rerank = self.quantized and self.exact is not None
        depth = min(self.ntotal, max(RERANK_DEPTH * k, k + RERANK_MIN)) if rerank else k
        with threads.faiss_threads(1 if len(queries) < threads.BATCH_QUERIES else 0):
            scores, ids = self.index.search(queries, depth, params=self._params(allowed, excluded))
        if rerank:
            return self._rerank(queries, ids, k)
        return scores, ids

    def _params(
        self,
        allowed: np.ndarray | faiss.IDSelector | None,
        excluded: np.ndarray | faiss.IDSelector | None = None,
    ) -> faiss.SearchParameters | None:
        selector: faiss.IDSelector | None = None
        if isinstance(excluded, faiss.IDSelector):
            selector = faiss.IDSelectorNot(excluded)  # faiss's wrapper keeps ``excluded`` referenced
        elif excluded is not None and len(excluded):
            selector = faiss.IDSelectorNot(selection(excluded))
        if allowed is not None:
            only = allowed if isinstance(allowed, faiss.IDSelector) else selection(allowed)
            selector = only if selector is None else faiss.IDSelectorAnd(only, selector)
        if self.kind != IVF:
            return faiss.SearchParameters(sel=selector) if selector is not None else None
        # A filter's ids may sit in any list: scan them all (only allowed ids are scored).
        nlist = self._ivf().nlist
        probes = max(self.nprobe, math.ceil(nlist * MIN_PROBED_SHARE))
        params = faiss.SearchParametersIVF(nprobe=nlist if allowed is not None else probes)
        if selector is not None:
            params.sel = selector
        return params

    def _rerank(self, queries: np.ndarray, candidates: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """The best ``k`` of each row's candidates by exact inner product with the float vectors."""
        assert self.exact is not None
        scores = np.full((len(queries), k), -np.inf, dtype=np.float32)
        ids = np.full((len(queries), k), -1, dtype=np.int64)
        for row, (query, wanted) in enumerate(zip(queries, candidates, strict=True)):
            found, vectors = self.exact(wanted[wanted >= 0])
            if not len(found):
                continue
            exact = vectors @ query
            order = np.lexsort((found, -exact))[:k]  # ties: the smaller id first, as FAISS does
            scores[row, : len(order)] = exact[order]
            ids[row, : len(order)] = found[order]
        return scores, ids

    # -- writing ------------------------------------------------------------------------
    def _writable(self) -> None:
        if self.mapped:  # FAISS would write into the read-only mapping and crash the process
            raise ValueError("a memory-mapped index is read-only: write to a clone()")

    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        self._writable()
        if len(ids):
            self.index.add_with_ids(
                np.ascontiguousarray(vectors, dtype=np.float32), np.ascontiguousarray(ids, dtype=np.int64)
            )

    def remove(self, ids: Iterable[int]) -> int:
        self._writable()
        arr = np.fromiter(ids, dtype=np.int64)
        if not len(arr):
            return 0
        return int(self.index.remove_ids(faiss.IDSelectorBatch(arr)))

    def save(self, path: Path) -> None:
        """Write atomically: temp file, fsync, rename, fsync the directory. A failed write (a
        full disk, a folder that is a file) removes the temp file, as large as the index, and is
        one line."""
        tmp = path.with_name(path.name + ".tmp")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            faiss.write_index(self.index, str(tmp))
            fd = os.open(tmp, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
            os.replace(tmp, path)
        except (RuntimeError, OSError) as exc:
            with contextlib.suppress(OSError):  # none was made where the folder is no folder
                tmp.unlink(missing_ok=True)
            raise StoreError(f"cannot write the vector file {path}: {_reason(exc)}") from None
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)

    @classmethod
    def load(cls, path: Path, nprobe: int = DEFAULT_NPROBE, *, mmap: bool = True) -> VectorIndex:
        """Open a saved index; memory-mapped and read-only unless ``mmap`` is false (a file
        replaced by rename keeps serving its old contents until it is closed)."""
        index = faiss.read_index(str(path), MMAP_FLAGS if mmap else 0)
        kind = IVF if faiss.try_extract_index_ivf(index) is not None else FLAT
        return cls(index, kind, nprobe, mapped=mmap)


def _reason(exc: RuntimeError | OSError) -> str:
    """Why a write failed, in a few words (FAISS's message is a C++ assertion with the reason last)."""
    if isinstance(exc, OSError):
        return str(exc.strerror or exc)
    found = FAISS_REASON.search(str(exc))
    return found.group(1) if found else str(exc).splitlines()[-1]
