"""The FAISS side, on real indexes and files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from foreign_desk.index.store.vectors import FLAT, IVF, VectorIndex


def unit(n: int, dim: int = 32, seed: int = 0) -> np.ndarray:
    x = np.random.default_rng(seed).standard_normal((n, dim)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


@pytest.mark.parametrize("threshold", [10_000, 100])
def test_build_search_remove_save_load(tmp_path: Path, threshold: int) -> None:
    vecs = unit(2000)
    ids = np.arange(1000, 3000, dtype=np.int64)
    index = VectorIndex.build(32, ids, vecs, approximate_threshold=threshold, nprobe=64)
    assert index.kind == (FLAT if threshold > 2000 else IVF)
    assert sorted(index.ids().tolist()) == ids.tolist()
    scores, found = index.search(vecs[:3], 1)
    assert found[:, 0].tolist() == [1000, 1001, 1002]
    assert np.allclose(scores[:, 0], 1.0, atol=1e-5)

    allowed = np.array([1500, 2500], dtype=np.int64)
    _, restricted = index.search(vecs[:1], 5, allowed)
    assert set(restricted[0][restricted[0] >= 0].tolist()) == {1500, 2500}

    assert index.remove([1000, 1001]) == 2
    assert 1000 not in index.ids()
    path = tmp_path / "v" / "gen-1.faiss"
    index.save(path)
    assert not path.with_name(path.name + ".tmp").exists()
    loaded = VectorIndex.load(path, nprobe=64)
    assert loaded.kind == index.kind
    assert loaded.ntotal == 1998
    assert loaded.search(vecs[2:3], 1)[1][0, 0] == 1002


def test_clone_leaves_the_serving_index_alone() -> None:
    index = VectorIndex.build(32, np.arange(10, dtype=np.int64), unit(10), approximate_threshold=100)
    copy = index.clone()
    copy.remove([0, 1])
    copy.add(np.array([99], dtype=np.int64), unit(1, seed=5))
    assert index.ntotal == 10 and 99 not in index.ids()
    assert copy.ntotal == 9 and 99 in copy.ids()


def test_empty_index_returns_nothing() -> None:
    index = VectorIndex.empty(32)
    scores, ids = index.search(unit(1), 5)
    assert ids.shape == scores.shape == (1, 0)


def test_a_big_ivf_index_probes_at_least_a_64th_of_its_lists() -> None:
    """nprobe is a floor: with 512 lists, a configured nprobe of 1 still searches 8 of them."""
    vecs = unit(20_000)
    ids = np.arange(20_000, dtype=np.int64)
    index = VectorIndex.build(32, ids, vecs, approximate_threshold=0, nprobe=1)
    assert index.kind == IVF
    queries = unit(20, seed=3)
    _, one = index.search(queries, 10)
    index.nprobe = 8
    _, eight = index.search(queries, 10)
    assert one.tolist() == eight.tolist()
