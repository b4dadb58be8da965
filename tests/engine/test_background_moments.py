"""Publishing saves the generation's background moments; opening uses them only while they hold
(the same vector file, embedder and recipe, the sampled passages' sentence vectors unchanged),
and a damaged file is ignored with a log line. Either way the backgrounds are the same, bit for bit."""

from __future__ import annotations

import asyncio
import json
import logging
import random
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from foreign_desk.index.background import Background
from foreign_desk.index.config import IndexSettings, Settings, load_settings
from foreign_desk.index.embed import Embedder, Fingerprint
from foreign_desk.index.engine import Engine
from foreign_desk.index.search import Snapshot, moments
from foreign_desk.index.search.moments import FILE_NAME, RECIPE, Sampled, load, moments_key, save
from foreign_desk.index.store.integrity import CHECKSUM_KEY

from tests.conftest import ROOT
from tests.fake_embedder import FakeEmbedder

WORDS = {
    "en": "harbour minister patrol vessel election court budget flood rice export drought council".split(),
    "id": "pelabuhan menteri patroli kapal pemilu sidang anggaran banjir beras ekspor kemarau dewan".split(),
}


def write_corpus(folder: Path, articles: int = 80) -> Path:
    """Articles in two languages, one passage of six sentences each."""
    rng = random.Random(7)
    folder.mkdir(parents=True)
    with (folder / "articles.jsonl").open("w", encoding="utf-8") as out:
        for n in range(articles):
            lang = "en" if n % 2 else "id"

            def sentence(lang: str = lang) -> str:
                return " ".join(rng.choices(WORDS[lang], k=12)).capitalize() + "."

            text = "\n\n".join(" ".join(sentence() for _ in range(3)) for _ in range(2))
            row = {"title": f"Story {n}", "text": text, "url": f"https://news.example/{n}", "source": "Wire"}
            out.write(json.dumps(row | {"published": "2024-03-05T00:00:00Z", "language": lang}) + "\n")
    return folder


def same(a: Background, b: Background) -> bool:
    """The same languages in the same order, with bit-identical moments."""
    return list(a.languages) == list(b.languages) and all(
        m.count == n.count
        and m.mean.tobytes() == n.mean.tobytes()
        and m.covariance.tobytes() == n.covariance.tobytes()
        for m, n in zip(a.languages.values(), b.languages.values(), strict=True)
    )


def saved_key(data: Path) -> dict[str, object]:
    """The key opening the store's live generation looks its saved moments up with."""
    with sqlite3.connect(data / "foreign-desk.sqlite3") as db:
        meta = dict(db.execute("SELECT key, value FROM meta").fetchall())
    return moments_key(
        int(meta["generation"]), meta[CHECKSUM_KEY], Fingerprint.from_json(meta["fingerprint"])
    )


@pytest.fixture
def measured(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts the times the background sample is measured rather than read from the saved file."""
    calls: list[int] = []
    real = moments.measure

    async def counting(*args: object, **kwargs: object) -> Sampled:
        calls.append(1)
        return await real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(moments, "measure", counting)
    return calls


async def open_and_compare(settings: Settings, embedder: Embedder) -> Snapshot:
    """Open the store; its snapshot's backgrounds must equal ones measured afresh."""
    async with await Engine.open(settings, embedder=embedder) as engine:
        snap = await engine.snapshot()
        assert snap is not None
        fresh = await Snapshot.of(engine.store, snap.generation, snap.vectors, snap.fingerprint)
        assert same(snap.background, fresh.background)
        assert same(snap.sentence_background, fresh.sentence_background)
        assert not snap.background.empty and not snap.sentence_background.empty
        return snap


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store of the two-language corpus, exact index (built once)."""
    root = tmp_path_factory.mktemp("moments")
    corpus = write_corpus(root / "corpus")
    settings = load_settings(None, environ={}, data_dir=str(root / "data"))

    async def build() -> None:
        async with await Engine.open(settings, embedder=FakeEmbedder()) as engine:
            await engine.index([corpus])

    asyncio.run(build())
    return root / "data"


@pytest.fixture
def data(built: Path, tmp_path: Path) -> Path:
    dest = tmp_path / "data"
    shutil.copytree(built, dest, ignore=shutil.ignore_patterns("writer.lock"))
    return dest


async def test_opening_reads_the_moments_publishing_saved(
    data: Path, make_settings: Callable[..., Settings], measured: list[int]
) -> None:
    assert (data / "vectors" / FILE_NAME).is_file()
    snap = await open_and_compare(make_settings(data), FakeEmbedder())
    assert len(measured) == 1  # only the fresh one the test asked for
    assert list(snap.background.languages) == ["", "en", "id"] and snap.vectors.kind == "flat"


async def test_a_quantized_index_saves_and_reads_the_same_moments(
    tmp_path: Path, make_settings: Callable[..., Settings], measured: list[int]
) -> None:
    settings = make_settings(tmp_path / "data", index=IndexSettings(approximate_threshold=50))
    async with await Engine.open(settings, embedder=FakeEmbedder()) as engine:
        await engine.index([write_corpus(tmp_path / "corpus")])
        snap = await engine.snapshot()
        assert snap is not None and snap.vectors.quantized
    assert len(measured) == 1  # at publish; the snapshot installed after it read the file
    measured.clear()
    await open_and_compare(settings, FakeEmbedder())
    assert len(measured) == 1


async def test_a_damaged_file_is_ignored_with_a_log_line(
    data: Path, make_settings: Callable[..., Settings], measured: list[int], caplog: pytest.LogCaptureFixture
) -> None:
    path = data / "vectors" / FILE_NAME
    raw = bytearray(path.read_bytes())
    raw[-100] ^= 0x40  # one bit of the last covariance
    path.write_bytes(bytes(raw))
    with caplog.at_level(logging.WARNING):
        await open_and_compare(make_settings(data), FakeEmbedder())
    assert len(measured) == 2 and f"{FILE_NAME} is damaged" in caplog.text


@pytest.mark.parametrize("sampled", [True, False], ids=["a-sampled-passage", "another"])
async def test_sentence_vectors_written_since_publish_are_measured_again(
    data: Path, make_settings: Callable[..., Settings], measured: list[int], sampled: bool
) -> None:
    saved = load(data / "vectors" / FILE_NAME, saved_key(data))
    assert saved is not None and len(saved.ids) == 80 and saved.sentences_written > 0
    with sqlite3.connect(data / "foreign-desk.sqlite3") as db:  # replaced (other vectors), or new
        key = "(SELECT vector_key FROM passages WHERE id = ?)" if sampled else "'no passage yet'"
        args = (int(saved.ids[0]),) if sampled else ()
        db.execute(f"INSERT OR REPLACE INTO sentence_embeddings VALUES ({key}, 1, zeroblob(128))", args)
    await open_and_compare(make_settings(data), FakeEmbedder())
    assert len(measured) == 2


async def test_moments_an_opening_had_to_measure_are_kept_for_the_next(
    data: Path, make_settings: Callable[..., Settings], measured: list[int]
) -> None:
    """A store published before the recipe changed measured its background at every start (1-2 s
    at 100k passages): the first opening now saves what it measured, and the next reads it."""
    path, key = data / "vectors" / FILE_NAME, saved_key(data)
    saved = load(path, key)
    assert saved is not None
    save(path, key | {"recipe": RECIPE - 1}, saved)  # as an older version saved it
    await open_and_compare(make_settings(data), FakeEmbedder())
    assert len(measured) == 2 and load(path, key) is not None
    measured.clear()
    await open_and_compare(make_settings(data), FakeEmbedder())
    assert len(measured) == 1  # only the fresh one the test asked for


def test_a_file_for_another_key_or_unreadable_is_not_used(
    data: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = data / "vectors" / FILE_NAME
    key = saved_key(data)
    saved = load(path, key)
    assert saved is not None and len(saved.ids) and set(saved.passages) == {"", "en", "id"}
    with caplog.at_level(logging.WARNING):
        assert load(path, key | {"generation": int(key["generation"]) + 1}) is None  # stale: no log
        assert load(path, key | {"recipe": -1}) is None
        assert load(path.with_name("absent.bin"), key) is None
        assert caplog.text == ""
        raw = path.read_bytes()
        cut, renamed = raw[: len(raw) // 2], raw.replace(b'"arrays"', b'"arrayz"')
        swapped = raw.replace(b'["", "en", "id"]', b'["", "id", "en"]', 1)  # the header only
        recounted = raw.replace(b'"passages": [80, ', b'"passages": [90, ', 1)
        assert swapped != raw and recounted != raw
        for damaged in (b"", raw[:40], b"not ours" + raw[8:], cut, renamed, swapped, recounted):
            path.write_bytes(damaged)
            assert load(path, key) is None
    assert caplog.text.count("is damaged") == 7


SAVE_ON_A_FULL_DISK = """
import json, resource, signal, sys
from pathlib import Path
from foreign_desk.index.search.moments import load, save

path, key = Path(sys.argv[1]), json.loads(sys.argv[2])
measured = load(path, key)
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails, as on a full disk
resource.setrlimit(resource.RLIMIT_FSIZE, (path.stat().st_size // 2, resource.RLIM_INFINITY))
try:
    save(path, key, measured)
except OSError as exc:
    print(exc.strerror)
"""


def test_a_save_on_a_full_disk_leaves_no_partial_file(data: Path) -> None:
    """The part written (megabytes at a large corpus) would keep the disk full until the next run."""
    path = data / "vectors" / FILE_NAME
    key = saved_key(data)
    done = subprocess.run(
        [sys.executable, "-c", SAVE_ON_A_FULL_DISK, str(path), json.dumps(key)],
        cwd=ROOT, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert (done.returncode, done.stdout) == (0, "File too large\n"), done.stderr
    assert sorted(p.name for p in path.parent.iterdir() if p.name.startswith(FILE_NAME)) == [FILE_NAME]
    assert load(path, key) is not None  # the file saved before is untouched
