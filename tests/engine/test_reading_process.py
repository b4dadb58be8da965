"""A large corpus is read, cleaned and chunked by a second process: the run publishes what
reading here publishes; a reading process that dies stops the run with one line and keeps the
last generation serving; one that cannot start leaves the reading to this process."""

from __future__ import annotations

import json
import logging
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from foreign_desk.index.config import IndexSettings
from foreign_desk.index.engine import Engine
from foreign_desk.index.errors import ReaderError
from foreign_desk.index.progress import IndexProgress

from tests.fake_embedder import FakeEmbedder

BODY = "The ministers met in Jakarta. They agreed to hold joint patrols in the disputed waters this year."


def corpus(folder: Path) -> Path:
    """Six articles in five files, one of them read twice, and a file that is not text."""
    folder.mkdir()
    for n in range(5):
        rows = [{"title": f"Talks {n}.{i}", "text": f"{BODY} Round {n}.{i}.", "url": f"https://n.example/{n}/{i}"}
                for i in range(1 + (n == 0))]  # fmt: skip
        (folder / f"n{n}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    (folder / "z-dup.jsonl").write_text((folder / "n1.jsonl").read_text(), encoding="utf-8")
    (folder / "broken.txt").write_bytes(b"\x00\x01binary")
    return folder


async def index(make_settings, data: Path, folder: Path, reading_process_bytes: int) -> tuple:  # type: ignore[no-untyped-def]
    settings = make_settings(data, index=IndexSettings(reading_process_bytes=reading_process_bytes))
    told: list[IndexProgress] = []
    async with await Engine.open(settings, embedder=FakeEmbedder()) as engine:
        report = await engine.index([folder], progress=told.append)
        answer = await engine.ask("Where did the ministers meet?")
    with sqlite3.connect(data / "foreign-desk.sqlite3") as db:
        rows = db.execute("SELECT id, article_id, text, vector_key FROM passages ORDER BY id").fetchall()
    files = [(p.done, p.total) for p in told if p.phase == "reading" and p.unit == "files"]
    return report, rows, files, [r.citation for r in answer.results]


async def test_the_reading_process_publishes_what_reading_here_publishes(
    make_settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    folder = corpus(tmp_path / "corpus")
    started: list[list[str]] = []
    popen = subprocess.Popen

    def spy(args, *rest, **kwargs):  # type: ignore[no-untyped-def]
        started.append(list(args))
        return popen(args, *rest, **kwargs)

    here = await index(make_settings, tmp_path / "here", folder, -1)
    monkeypatch.setattr(subprocess, "Popen", spy)
    apart = await index(make_settings, tmp_path / "apart", folder, 0)
    assert started == [[sys.executable, "-m", "foreign_desk.index.indexing.reading_process"]]
    assert "could not start" not in caplog.text
    (report, rows, files, citations), (report2, rows2, files2, citations2) = here, apart
    assert (rows2, citations2) == (rows, citations) and len(rows) == 6
    assert [str(p) for p in report2.problems] == [str(p) for p in report.problems]
    assert len(report.problems) == 2  # the binary file, the article read twice
    counts = [(r.articles_added, r.articles_seen) for r in (report, report2)]
    assert counts == [(6, 6), (6, 6)]
    assert files2[-1] == files[-1] == (7, 7)


async def test_a_reading_process_that_dies_stops_the_run_and_keeps_the_last_generation(
    make_settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, data = tmp_path / "first", tmp_path / "data"
    first.mkdir()
    old = {"title": "Old talks", "text": BODY, "url": "https://n.example/a"}
    (first / "a.jsonl").write_text(json.dumps(old) + "\n", encoding="utf-8")
    await index(make_settings, data, first, -1)
    monkeypatch.setenv("FOREIGN_DESK_KILL_AT", "read-batch:1")  # the child, once it has sent a batch
    with pytest.raises(ReaderError, match="its process exited with status -9"):
        await index(make_settings, data, corpus(tmp_path / "corpus"), 0)
    monkeypatch.delenv("FOREIGN_DESK_KILL_AT")
    async with await Engine.open(make_settings(data), embedder=FakeEmbedder()) as engine:
        assert (await engine.stats()).generation == 1
        answer = await engine.ask("Where did the ministers meet?")
    assert [r.article.title for r in answer.results] == ["Old talks"]


@pytest.mark.parametrize(
    ("executable", "why"), [("/bin/false", "status 1"), ("/nonexistent/python", "No such file")]
)
async def test_a_reading_process_that_cannot_start_leaves_the_reading_here(
    executable: str,
    why: str,
    make_settings,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    folder = corpus(tmp_path / "corpus")
    monkeypatch.setattr(sys, "executable", executable)
    with caplog.at_level(logging.WARNING):
        report, rows, files, _ = await index(make_settings, tmp_path / "data", folder, 0)
    [said] = [r.getMessage() for r in caplog.records if r.name.endswith("reading_process")]
    assert said.startswith("the reading process could not start (") and said.endswith("): reading here")
    assert why in said
    assert report.articles_added == len(rows) == 6 and files[-1] == (7, 7)
