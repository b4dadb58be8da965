"""The FAISS side, on real indexes and files."""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from foreign_desk.index.errors import StoreError
from foreign_desk.index.store.vectors import FLAT, IVF, VectorIndex, ivf_nlist

ROOT = Path(__file__).resolve().parents[2]
SAVE_ON_A_FULL_DISK = """
import resource, signal, sys
from pathlib import Path
import numpy as np
from foreign_desk.index.errors import StoreError
from foreign_desk.index.store.vectors import VectorIndex

vecs = np.random.default_rng(0).standard_normal((2000, 32)).astype("float32")
index = VectorIndex.build(32, np.arange(2000, dtype="int64"), vecs, approximate_threshold=10_000)
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails, as on a full disk
resource.setrlimit(resource.RLIMIT_FSIZE, (65536, 65536))  # the index needs 256 kB
try:
    index.save(Path(sys.argv[1]) / "gen-000002.faiss")
except StoreError as exc:
    print(exc)
"""


def unit(n: int, dim: int = 32, seed: int = 0) -> np.ndarray:
    x = np.random.default_rng(seed).standard_normal((n, dim)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def exact_source(ids: np.ndarray, vecs: np.ndarray):
    """What the store gives a quantized index: float vectors by id (unknown ids left out)."""
    by_id = {int(i): v for i, v in zip(ids, vecs, strict=True)}

    def exact(wanted: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        found = [int(i) for i in wanted if int(i) in by_id]
        rows = np.array([by_id[i] for i in found], dtype=np.float32).reshape(len(found), -1)
        return np.asarray(found, dtype=np.int64), rows

    return exact


@pytest.mark.parametrize("threshold", [10_000, 100])
def test_build_search_remove_save_load(tmp_path: Path, threshold: int) -> None:
    vecs = unit(2000)
    ids = np.arange(1000, 3000, dtype=np.int64)
    index = VectorIndex.build(32, ids, vecs, approximate_threshold=threshold, nprobe=64)
    index.exact = exact_source(ids, vecs)
    assert index.kind == (FLAT if threshold > 2000 else IVF)
    assert index.quantized == (index.kind == IVF)
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
    loaded.exact = index.exact
    assert loaded.kind == index.kind
    assert loaded.ntotal == 1998
    assert loaded.search(vecs[2:3], 1)[1][0, 0] == 1002


def test_quantized_search_reranks_to_the_exact_top_k_order() -> None:
    """8-bit codes pick the candidates; the float vectors decide their order and scores."""
    vecs = unit(3000, dim=48, seed=1)
    ids = np.arange(1, 3001, dtype=np.int64)
    exact = VectorIndex.build(48, ids, vecs, approximate_threshold=10_000)
    sq8 = VectorIndex.build(48, ids, vecs, approximate_threshold=100, nprobe=10_000)  # every list
    assert sq8.quantized
    queries = unit(25, dim=48, seed=2)
    truth_scores, truth = exact.search(queries, 10)
    _, coded = sq8.search(queries, 10)  # no float vectors attached: ranked by the codes
    sq8.exact = exact_source(ids, vecs)
    scores, found = sq8.search(queries, 10)
    assert found.tolist() == truth.tolist()
    assert np.allclose(scores, truth_scores, atol=1e-6)
    assert coded.tolist() != truth.tolist(), "the codes alone should not already give the exact order"


def test_a_memory_mapped_index_serves_after_its_file_is_replaced(tmp_path: Path) -> None:
    """Loading maps the file read-only; a writer replaces files by rename, never in place, so
    the generation being served keeps its contents, and writers change only in-memory copies."""
    vecs = unit(500)
    ids = np.arange(1, 501, dtype=np.int64)
    path = tmp_path / "gen-000001.faiss"
    VectorIndex.build(32, ids, vecs, approximate_threshold=10_000).save(path)
    serving = VectorIndex.load(path)
    copy = serving.clone()
    copy.remove(ids[:250])
    copy.save(path)  # the next generation's writer reusing the name: temp file + rename
    assert serving.ntotal == 500 and serving.search(vecs[:1], 1)[1][0, 0] == 1
    assert VectorIndex.load(path).ntotal == 250


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
    """nprobe is a floor: a configured nprobe of 1 still searches 1/64 of the lists."""
    vecs = unit(20_000)
    ids = np.arange(20_000, dtype=np.int64)
    index = VectorIndex.build(32, ids, vecs, approximate_threshold=0, nprobe=1)
    assert index.kind == IVF
    floor = math.ceil(ivf_nlist(20_000) / 64)
    assert floor > 1
    queries = unit(20, seed=3)
    _, one = index.search(queries, 10)
    index.nprobe = floor
    _, at_floor = index.search(queries, 10)
    assert one.tolist() == at_floor.tolist()


@pytest.mark.parametrize("threshold", [10_000, 100])
def test_a_clone_of_a_mapped_index_takes_writes(tmp_path: Path, threshold: int) -> None:
    vecs = unit(2000)
    ids = np.arange(1, 2001, dtype=np.int64)
    path = tmp_path / "gen-000001.faiss"
    VectorIndex.build(32, ids, vecs, approximate_threshold=threshold).save(path)
    serving = VectorIndex.load(path)
    assert serving.mapped
    with pytest.raises(ValueError, match="read-only"):
        serving.remove(ids[:1])
    copy = serving.clone()
    assert copy.remove(ids[:10]) == 10
    copy.add(np.array([5000], dtype=np.int64), unit(1, seed=9))
    assert copy.ntotal == 1991 and 5000 in copy.ids()
    assert serving.ntotal == 2000 and 5000 not in serving.ids()


@pytest.mark.parametrize("threshold", [10_000, 100])
def test_chunks_give_every_stored_vector_once_a_few_at_a_time(threshold: int) -> None:
    """What doctor compares with the database: each id once, its own stored (decoded) vector,
    never the exact copies it is checked against, in chunks of about the size asked."""
    vecs = unit(2000)
    ids = np.arange(1000, 3000, dtype=np.int64)
    index = VectorIndex.build(32, ids, vecs, approximate_threshold=threshold, nprobe=64)
    index.exact = exact_source(ids, vecs + 1)  # would differ everywhere if it were used
    chunks = list(index.chunks(300))
    got = np.concatenate([c[0] for c in chunks])
    rows = np.vstack([c[1] for c in chunks])
    assert sorted(got.tolist()) == ids.tolist() and len(chunks) >= 2000 // 600
    assert np.max(np.abs(rows - vecs[got - 1000])) < (0.02 if index.quantized else 1e-6)


def test_a_vector_file_that_cannot_be_written_is_one_line_and_leaves_nothing(tmp_path: Path) -> None:
    """A full disk (here a file size limit: the same failed write) in the middle of the FAISS file."""
    child = subprocess.run(
        [sys.executable, "-c", SAVE_ON_A_FULL_DISK, str(tmp_path)], cwd=ROOT, capture_output=True, text=True
    )
    assert child.returncode == 0, child.stderr
    assert child.stdout == f"cannot write the vector file {tmp_path}/gen-000002.faiss: File too large\n"
    assert not list(tmp_path.iterdir())  # no gen-000002.faiss.tmp


def test_a_vector_file_whose_folder_is_a_file_is_one_line(tmp_path: Path) -> None:
    """Removing the temp file failed too (``Not a directory``): that raw OSError replaced the
    one-line error, and front ends took the write failure for a bug."""
    (tmp_path / "vectors").write_text("not a folder\n")
    index = VectorIndex.build(32, np.arange(10, dtype=np.int64), unit(10), approximate_threshold=10_000)
    path = tmp_path / "vectors" / "gen-000002.faiss"
    with pytest.raises(StoreError, match=f"^cannot write the vector file {path}: File exists$"):
        index.save(path)
