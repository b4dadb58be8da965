"""The per-user cooldown (``cooldowns``) on a real ``discord.sqlite3``: two ``Cooldowns`` on one
file stand for two bot processes sharing a data folder."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import AsyncIterator
from contextlib import closing
from functools import partial
from pathlib import Path

import pytest
from foreign_desk.bot.discord.answers import FILE_NAME, AnswerStore
from foreign_desk.bot.discord.cooldowns import Cooldowns

from tests.discord_standin import DiscordStandin

from .conftest import NATO_JAPAN, StartBot, embed_of


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[AnswerStore]:
    store = await AnswerStore.open(tmp_path, ttl_s=3600)
    yield store
    await store.close()


@pytest.fixture
async def processes(
    store: AnswerStore, tmp_path: Path
) -> AsyncIterator[tuple[list[float], Cooldowns, Cooldowns]]:
    """The clock (``now[0]``, wall seconds) and two processes' 10-second cooldowns."""
    now = [100.0]
    hash_user = partial(store.hash_user, "cooldown", "")
    here, there = [await Cooldowns.open(tmp_path, 10, hash_user, clock=lambda: now[0]) for _ in range(2)]
    yield now, here, there
    await here.close()
    await there.close()


async def test_the_wait_counts_from_the_last_admitted_question_in_any_process(processes):
    now, here, there = processes
    assert await here.admit(1) == 0
    now[0] = 104.0
    assert await there.admit(1) == 6 and await here.admit(1) == 6  # refusals do not restart the wait
    assert await there.admit(2) == 0  # per user
    now[0] = 110.0
    assert await there.admit(1) == 0
    now[0] = 111.0
    assert await here.admit(1) == 9  # the other process's admission counts here too


async def test_the_table_keeps_no_user_id_and_forgets_waits_that_are_over(store: AnswerStore, processes):
    now, here, _ = processes
    assert await here.admit(123456789) == 0 and await here.admit(2) == 0
    now[0] = 120.0
    assert await here.admit(3) == 0
    async with store.conn.execute("SELECT asker, asked_at FROM cooldowns") as cur:
        rows = await cur.fetchall()
    assert rows == [(store.hash_user("cooldown", "", 3), 120.0)]


async def test_a_clock_set_back_does_not_lock_a_user_out(processes):
    now, here, there = processes
    assert await here.admit(1) == 0
    now[0] = 50.0
    assert await there.admit(1) == 0 and await here.admit(1) == 10


async def test_waits_are_still_forgotten_after_a_clock_set_back(store: AnswerStore, processes):
    """A question admitted while the clock said 2099 pruned the table 'in 2099': the process
    pruned no more until then (the table kept every user who asked), and the 2099 wait stayed."""
    now, here, _ = processes
    now[0] = 4_070_908_800.0  # 2099-01-01
    assert await here.admit(1) == 0
    now[0] = 100.0
    assert await here.admit(2) == 0
    now[0] = 120.0
    assert await here.admit(3) == 0
    async with store.conn.execute("SELECT asker FROM cooldowns") as cur:
        rows = await cur.fetchall()
    assert rows == [(store.hash_user("cooldown", "", 3),)]


async def test_a_busy_table_neither_refuses_nor_fails_a_question(store: AnswerStore, processes, caplog):
    now, here, there = processes
    assert await here.admit(1) == 0
    await store.conn.execute("BEGIN IMMEDIATE")  # another writer holds the file
    try:
        now[0] = 101.0
        with caplog.at_level(logging.WARNING):
            assert await there.admit(1) == 0  # this process alone did not see the first question
            assert await here.admit(1) == 9 and await here.admit(2) == 0
    finally:
        await store.conn.execute("ROLLBACK")
    assert "the shared cooldowns are busy" in caplog.text


async def test_a_busy_period_is_logged_once_not_once_per_question(store: AnswerStore, processes, caplog):
    _, here, _ = processes
    with caplog.at_level(logging.INFO):
        for period in (10, 20):
            await store.conn.execute("BEGIN IMMEDIATE")  # another writer holds the file
            try:
                assert [await here.admit(period + user) for user in range(3)] == [0, 0, 0]
            finally:
                await store.conn.execute("ROLLBACK")
            assert await here.admit(period + 5) == 0
    lines = [r.getMessage() for r in caplog.records if "shared cooldowns" in r.getMessage()]
    assert [line.split(" (")[0] for line in lines] == [
        "the shared cooldowns are busy",
        "the shared cooldowns are usable again",
    ] * 2


async def test_a_burst_of_questions_is_acknowledged_while_another_process_holds_the_table(
    standin: DiscordStandin, start_bot: StartBot, sample_copy: Path
):
    """Each question tried the locked table for ``BUSY_MS`` in turn on the one connection: of 16
    asked at once, the last were acknowledged after Discord's 3 seconds, and dropped."""
    readers = [standin.world.add_user(f"reader{i}") for i in range(16)]
    async with asyncio.timeout(120), start_bot(sample_copy, cooldown_s=30):
        with closing(sqlite3.connect(sample_copy / FILE_NAME, isolation_level=None)) as other:
            other.execute("BEGIN IMMEDIATE")  # another process writing discord.sqlite3
            asked = [
                await standin.send_slash_command("ask", {"question": NATO_JAPAN}, user=u) for u in readers
            ]
            acknowledged = [await ix.wait_for_callback(timeout=10) for ix in asked]
            other.execute("ROLLBACK")
        answers = [await ix.wait_for_reply(lambda m: bool(m.embeds), timeout=60) for ix in asked]
    assert acknowledged == [5] * 16
    assert all(embed_of(a)["title"] == NATO_JAPAN for a in answers)
