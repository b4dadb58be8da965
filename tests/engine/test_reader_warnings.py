"""A reader's warning about a file it read anyway (Windows-1252, a front matter value cut at
' #') is said when its article is new or changed, not on every reindex of an unchanged file:
those are logged at INFO (``-v``) and counted, here and in a second reading process alike."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from foreign_desk.bot.render_text import print_report
from foreign_desk.index.config import IndexSettings
from foreign_desk.index.engine import Engine
from foreign_desk.index.progress import IndexReport
from rich.console import Console

from tests.fake_embedder import FakeEmbedder

BODY = "The two ministers met in the capital. They agreed to hold joint patrols in the disputed waters."


def write_corpus(folder: Path) -> tuple[Path, Path]:
    folder.mkdir()
    legacy = folder / "legacy.txt"
    legacy.write_bytes(f"Caf\xe9 talks end\n\n{BODY}\n".encode("cp1252"))
    cut = folder / "cut.md"
    cut.write_text(f"---\ntitle: Indonesia #1 partner\n---\n\n{BODY}\n", encoding="utf-8")
    return legacy, cut


def said(caplog: pytest.LogCaptureFixture, level: int) -> list[str]:
    return sorted(
        r.getMessage().split(": ", 1)[1].split(" ")[0]
        for r in caplog.records
        if r.levelno == level and r.name.startswith("foreign_desk.index.readers")
    )


async def run(
    engine: Engine, folder: Path, caplog: pytest.LogCaptureFixture, *, full: bool = False
) -> IndexReport:
    caplog.clear()
    return await engine.index([folder], full=full)


@pytest.mark.parametrize("reading_process_bytes", [-1, 0], ids=["here", "apart"])
async def test_a_readers_warning_is_said_once_per_version_of_an_article(
    make_settings, tmp_path: Path, caplog: pytest.LogCaptureFixture, reading_process_bytes: int
) -> None:
    caplog.set_level(logging.INFO)
    legacy, _ = write_corpus(tmp_path / "news")
    settings = make_settings(index=IndexSettings(reading_process_bytes=reading_process_bytes))
    async with await Engine.open(settings, embedder=FakeEmbedder()) as engine:
        first = await run(engine, legacy.parent, caplog)
        assert said(caplog, logging.WARNING) == ["front", "not"]  # "front matter ...", "not UTF-8"
        assert first.warnings_not_repeated == 0

        again = await run(engine, legacy.parent, caplog)
        assert again.articles_unchanged == 2
        assert said(caplog, logging.WARNING) == []
        assert said(caplog, logging.INFO) == ["front", "not"]  # `-v` shows them
        assert again.warnings_not_repeated == 2
        console = Console(width=200, record=True)
        print_report(console, again)
        assert "Not repeated: 2 warnings about unchanged articles" in console.export_text()

        legacy.write_bytes(f"Caf\xe9 talks end\n\n{BODY} Later.\n".encode("cp1252"))
        changed = await run(engine, legacy.parent, caplog)
        assert said(caplog, logging.WARNING) == ["not"]
        assert changed.warnings_not_repeated == 1

        full = await run(engine, legacy.parent, caplog, full=True)
        assert said(caplog, logging.WARNING) == ["front", "not"]
        assert full.warnings_not_repeated == 0
