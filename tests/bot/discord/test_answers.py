"""The answer store on its own: state for buttons with a time to live, one vote per user and
answer, voters unlinkable across answers, a damaged file set aside instead of stopping the bot."""

from __future__ import annotations

import asyncio
import logging
import os
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from contextlib import closing
from pathlib import Path

import pytest
from foreign_desk.bot.cli_feedback import read_votes
from foreign_desk.bot.discord import answers
from foreign_desk.bot.discord.answers import FILE_NAME, AnswerStore
from foreign_desk.bot.discord.runner import run_bot
from foreign_desk.index.config import Settings
from foreign_desk.index.errors import StoreBusy, StoreError
from foreign_desk.index.models import ArticleRef, Filters, Result

from tests.conftest import ROOT
from tests.discord_standin import DiscordStandin
from tests.engine.test_store_migration import HOLD_OPEN

from .conftest import StartBot

RESULT = Result(
    1, 0.9, 0.9, "Japan and NATO agreed to deepen ties.", "Japan and NATO agreed", (1,), None,
    ArticleRef("a1", "Japan and NATO", "Wire", None, "2023-01-31", "en", None), "", 7,
)  # fmt: skip


async def test_an_answer_lives_its_time_then_is_forgotten(tmp_path: Path):
    now = [1000.0]
    store = await AnswerStore.open(tmp_path, ttl_s=60, clock=lambda: now[0])
    try:
        state = await store.remember("what?", Filters(language="en"), asker_id=42)
        assert await store.recall(state.id) == state
        assert store.is_asker(state, 42) and not store.is_asker(state, 43)
        now[0] += 61
        assert await store.recall(state.id) is None
        await store.remember("next?", Filters(), asker_id=42)  # a new answer sweeps the old ones out
        async with store.conn.execute("SELECT count(*) FROM answers") as cur:
            assert (await cur.fetchone())[0] == 1  # type: ignore[index]
    finally:
        await store.close()


async def test_one_vote_per_user_and_answer_and_no_link_between_answers(tmp_path: Path):
    store = await AnswerStore.open(tmp_path, ttl_s=60)
    try:
        first = await store.remember("what?", Filters(), asker_id=1)
        second = await store.remember("why?", Filters(), asker_id=1)
        for state in (first, second):
            await store.page_shown(state.id, 0, [RESULT])
        assert await store.vote(first, 0, 99, 1) is None
        assert await store.vote(first, 0, 99, -1) == 1
        assert await store.vote(second, 0, 99, 1) is None
        with pytest.raises(LookupError):
            await store.vote(first, 3, 99, 1)  # a page that was never shown
        votes = await store.votes()
        async with store.conn.execute("SELECT voter FROM votes") as cur:
            voters = {row[0] for row in await cur.fetchall()}
    finally:
        await store.close()
    assert sorted(v.vote for v in votes) == [-1, 1]
    assert len(voters) == 2  # the same user, two answers: two unrelated hashes
    assert votes[0].shown[0].highlight == "Japan and NATO agreed"


async def test_a_damaged_file_is_kept_aside_and_a_new_one_started(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
):
    (tmp_path / FILE_NAME).write_bytes(b"not a database, " * 512)
    with caplog.at_level(logging.ERROR):
        store = await AnswerStore.open(tmp_path, ttl_s=60)
    try:
        state = await store.remember("still answering?", Filters(), asker_id=1)
        assert await store.recall(state.id) is not None
    finally:
        await store.close()
    (kept,) = tmp_path.glob(f"{FILE_NAME}.damaged-*")
    assert kept.read_bytes().startswith(b"not a database")
    assert "is damaged" in caplog.text


async def test_a_file_it_cannot_write_now_is_one_line_and_kept_as_it_is(tmp_path: Path):
    """A failure that passes (here its -shm cannot be made; a full disk, a file of another user)
    was taken for damage: the file with every vote was set aside and the bot started afresh."""
    store = await AnswerStore.open(tmp_path, ttl_s=60)
    try:
        await store.remember("kept?", Filters(), asker_id=1)
    finally:
        await store.close()
    (tmp_path / f"{FILE_NAME}-shm").mkdir()
    with pytest.raises(StoreError, match="cannot read or write the database file"):
        await AnswerStore.open(tmp_path, ttl_s=60)
    assert not list(tmp_path.glob(f"{FILE_NAME}.damaged-*"))
    (tmp_path / f"{FILE_NAME}-shm").rmdir()
    store = await AnswerStore.open(tmp_path, ttl_s=60)
    try:
        async with store.conn.execute("SELECT count(*) FROM answers") as cur:
            assert (await cur.fetchone())[0] == 1  # type: ignore[index]
    finally:
        await store.close()


async def test_answers_remembered_at_the_same_time_are_all_kept(tmp_path: Path):
    """Questions answered at once (a cached answer returns within a millisecond) share the
    store's connection: each gets its own transaction, none fails."""
    import asyncio

    store = await AnswerStore.open(tmp_path, ttl_s=60)
    try:
        states = await asyncio.gather(*(store.remember(f"q{i}", Filters(), i) for i in range(8)))
        assert len({s.id for s in states}) == 8
        assert all([await store.recall(s.id) for s in states])
    finally:
        await store.close()


async def test_a_page_shown_while_another_transaction_is_undone_is_kept(tmp_path: Path):
    """A page recorded on the shared connection while another task's transaction was open (an
    answer remembered, a vote) joined that transaction, and went with its rollback: a vote on
    the page then failed as 'never shown'."""
    store = await AnswerStore.open(tmp_path, ttl_s=60)
    try:
        state = await store.remember("what?", Filters(), asker_id=1)
        async with store._transaction:  # another task's transaction, undone
            await store.conn.execute("BEGIN IMMEDIATE")
            shown = asyncio.create_task(store.page_shown(state.id, 0, [RESULT]))
            await asyncio.sleep(0)  # the task's first step: it sends its statement, or waits its turn
            await store.conn.execute("SELECT 1")  # after the page's statement, if it was sent
            await store.conn.execute("ROLLBACK")
        await shown
        assert await store.page(state.id, 0) is not None
        assert await store.vote(state, 0, 99, 1) is None
    finally:
        await store.close()


async def test_a_read_never_waits_for_a_write_waiting_on_another_process(tmp_path: Path):
    """A vote waiting for another process's write lock held the shared connection: a click's
    look-up of its answer (More, Back, a vote) and each question's server time zone queued
    behind it, until the busy timeout (10 s) failed the vote."""
    store = await AnswerStore.open(tmp_path, ttl_s=60)
    try:
        state = await store.remember("what?", Filters(), asker_id=1)
        await store.page_shown(state.id, 0, [RESULT])
        writing, loop = asyncio.Event(), asyncio.get_running_loop()

        def traced(statement: str) -> None:  # in the write connection's thread
            if statement.startswith("BEGIN IMMEDIATE"):
                loop.call_soon_threadsafe(writing.set)

        with closing(sqlite3.connect(tmp_path / FILE_NAME, isolation_level=None)) as other:
            other.execute("BEGIN IMMEDIATE")
            await store.conn.set_trace_callback(traced)
            vote = asyncio.create_task(store.vote(state, 0, 99, 1))
            await writing.wait()
            recalled, zone = await store.recall(state.id), await store.server_zone(5)
            other.execute("ROLLBACK")
        assert await vote is None  # recorded once the other process let the lock go
        assert recalled == state and zone is None
    finally:
        await store.close()


async def test_an_answer_made_by_a_clock_since_set_back_is_expired_and_forgotten(tmp_path: Path):
    """Made while the clock said 2099, then the clock was set right: its buttons worked until 2099
    and the next answers never swept it out. One made a moment ahead (a clock stepped back a
    second) keeps its time."""
    now = [1000.0]
    store = await AnswerStore.open(tmp_path, ttl_s=60, clock=lambda: now[0])
    try:
        now[0] = 4_070_908_800.0  # 2099-01-01
        far = await store.remember("in 2099?", Filters(), asker_id=42)
        now[0] = 1001.0
        near = await store.remember("a second ahead?", Filters(), asker_id=42)
        now[0] = 1000.0
        assert await store.recall(far.id) is None
        assert await store.recall(near.id) == near
        await store.remember("next?", Filters(), asker_id=42)
        async with store.conn.execute("SELECT id FROM answers WHERE id = ?", (far.id,)) as cur:
            assert await cur.fetchone() is None
        now[0] = 1001.0 + 61
        assert await store.recall(near.id) is None
    finally:
        await store.close()


async def test_a_servers_fetch_is_admitted_once_per_spacing_whichever_process_asks(tmp_path: Path):
    """Two processes on one file (a rolling restart) asked at once: one fetch starts the wait,
    the other is told what is left of it; a time ahead of the clock (set back since) is no wait."""
    now = [1000.0]
    here, there = [await AnswerStore.open(tmp_path, ttl_s=3600, clock=lambda: now[0]) for _ in range(2)]
    try:
        asked = await asyncio.gather(here.space_fetch(7, 60), there.space_fetch(7, 60))
        now[0] += 45
        later = await there.space_fetch(7, 60), await here.space_fetch(8, 60)
        now[0] -= 500  # the clock set back: the server's fetch "begun" ahead of it waits for nothing
        back = await here.space_fetch(7, 60)
    finally:
        await here.close()
        await there.close()
    assert sorted(asked) == [0, 60]
    assert later == (15, 0)
    assert back == 0


def dump(path: Path) -> tuple[int, list[str]]:
    with closing(sqlite3.connect(path)) as conn:
        return conn.execute("PRAGMA user_version").fetchone()[0], list(conn.iterdump())


async def test_a_newer_bot_migrates_its_database_only_with_the_data_dir_to_itself(
    start_bot: StartBot,
    standin: DiscordStandin,
    sample_copy: Path,
    make_settings: Callable[..., Settings],
    monkeypatch: pytest.MonkeyPatch,
):
    """A newer bot (or `feedback export`) started beside an older one still running (another
    shard, an `index`) migrated discord.sqlite3 under it, which went on writing it as it knew it:
    the store's tables had that guard, the bot's own database not. It refuses in one line now,
    nothing changed, and migrates once it has the data folder to itself."""
    await (await AnswerStore.open(sample_copy, ttl_s=60)).close()  # made by the version before
    newer = (*answers.MIGRATIONS, "CREATE TABLE added_later (x INTEGER);")
    settings = make_settings(sample_copy)
    command = [sys.executable, "-c", HOLD_OPEN, str(sample_copy)]  # the older process
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    with subprocess.Popen(
        command, cwd=ROOT, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    ) as old:
        try:
            assert old.stdout is not None and old.stdout.readline() == "open\n"
            before = dump(sample_copy / FILE_NAME)
            monkeypatch.setattr(answers, "MIGRATIONS", newer)  # this process: the newer version
            environ = {"DISCORD_TOKEN": standin.config.bot_token}
            with pytest.raises(StoreBusy, match=r"^this version of Foreign Desk must upgrade the data"):
                await asyncio.wait_for(run_bot(settings, environ=environ, guild_ready_timeout=0.05), 120)
            with pytest.raises(StoreBusy, match=r"^this version of Foreign Desk must upgrade the data"):
                await read_votes(settings)
            assert dump(sample_copy / FILE_NAME) == before
        finally:
            old.communicate("", timeout=60)  # the older process stops
    assert old.returncode == 0
    async with start_bot(sample_copy):  # alone: its own hold of the data folder is no obstacle
        pass
    assert dump(sample_copy / FILE_NAME)[0] == len(newer)
    monkeypatch.setattr(answers, "MIGRATIONS", (*newer, "CREATE TABLE added_later_still (x INTEGER);"))
    assert await read_votes(settings) == []  # `feedback export`, alone, without the store open
    assert dump(sample_copy / FILE_NAME)[0] == len(newer) + 1


async def test_an_older_bot_refuses_a_database_a_newer_one_migrated_in_one_line(
    standin: DiscordStandin, sample_copy: Path
):
    """Rolled back after a newer version migrated discord.sqlite3: `run` says so and stops, the
    file as the newer version left it (as `doctor` names it)."""
    await (await AnswerStore.open(sample_copy, ttl_s=60)).close()
    with closing(sqlite3.connect(sample_copy / FILE_NAME)) as conn:
        conn.execute("PRAGMA user_version = 99")
    before = dump(sample_copy / FILE_NAME)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "DISCORD_TOKEN": standin.config.bot_token}
    env.update(FOREIGN_DESK_FEEDS_SEED="0")
    env.pop("FOREIGN_DESK_DATA_DIR", None)
    launch = ["-m", "tests.discord_standin.launch", standin.http_url, standin.gateway_url]
    args = ["-m", "foreign_desk", "--data-dir", str(sample_copy), "run"]
    proc = await asyncio.create_subprocess_exec(
        sys.executable, *launch, *args, cwd=ROOT, env=env, stderr=asyncio.subprocess.PIPE
    )
    _, said = await asyncio.wait_for(proc.communicate(), 120)
    assert (proc.returncode, said.decode()) == (
        1,
        f"error: {FILE_NAME} was made by a newer version of Foreign Desk (version 99, this version "
        f"knows up to {len(answers.MIGRATIONS)}): upgrade Foreign Desk to open it\n",
    )
    assert dump(sample_copy / FILE_NAME) == before
