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
from foreign_desk.bot.discord.cooldowns import CLAIM_KEEP_S, CLAIM_PRUNE_S, Cooldowns

from tests.discord_standin import DiscordStandin

from .conftest import NATO_JAPAN, StartBot, assert_everything_quiet, embed_of


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


async def test_a_message_is_claimed_by_one_process_and_claims_are_forgotten(store: AnswerStore, processes):
    now, here, there = processes
    assert [await here.claim(7), await there.claim(7), await here.claim(7)] == [True, False, False]
    assert await there.claim(8) and not await here.claim(8)
    now[0] += CLAIM_KEEP_S + CLAIM_PRUNE_S
    assert await here.claim(9)  # an hour later: 7 and 8 are forgotten
    async with store.conn.execute("SELECT id FROM claims") as cur:
        assert [row[0] for row in await cur.fetchall()] == [9]


async def test_a_message_is_answered_while_the_claims_are_busy(store: AnswerStore, processes, caplog):
    _, here, there = processes
    await store.conn.execute("BEGIN IMMEDIATE")  # another writer holds the file
    try:
        assert await here.claim(7) and await there.claim(7)  # a reply twice rather than none
    finally:
        await store.conn.execute("ROLLBACK")
    assert "answering 7 unclaimed" in caplog.text
    assert await here.claim(8) and not await there.claim(8)  # the file usable again


async def test_a_refused_user_is_told_once_per_wait_by_whichever_process_refuses_first(processes):
    """Each refusal was told: a member repeating a mention had the bot repeat its notice, and two
    processes would each tell it for the one wait."""
    now, here, there = processes
    assert await here.admit(1) == 0
    now[0] = 102.0
    assert await here.admit(1) == 8 and await here.first_notice(1)
    assert await there.admit(1) == 8 and not await there.first_notice(1)  # told by the other process
    now[0] = 105.0
    assert await here.admit(1) == 5 and not await here.first_notice(1)
    assert await there.admit(2) == 0  # per user
    now[0] = 110.0
    assert await there.admit(1) == 0  # a new wait ...
    now[0] = 111.0
    assert await here.admit(1) == 9 and await here.first_notice(1)  # ... is told of once again
    assert await there.admit(1) == 9 and not await there.first_notice(1)


async def test_a_busy_table_still_tells_a_refused_user_once_per_wait_in_each_process(
    store: AnswerStore, processes
):
    now, here, _ = processes
    assert await here.admit(1) == 0
    await store.conn.execute("BEGIN IMMEDIATE")  # another writer holds the file
    try:
        now[0] = 101.0
        assert await here.admit(1) == 9
        assert [await here.first_notice(1) for _ in range(3)] == [True, False, False]
    finally:
        await store.conn.execute("ROLLBACK")


async def test_mentions_and_dms_refused_for_the_cooldown_get_one_notice_per_wait(
    standin: DiscordStandin, start_bot: StartBot
):
    """Every mention refused for the asker's cooldown got its own reply: a member repeating a
    mention had the bot repeat itself in the channel, spending the rate limit every server shares."""
    now = [1000.0]
    async with asyncio.timeout(120), start_bot(cooldown_s=60) as bot:
        bot.desk.cooldowns.clock = lambda: now[0]
        mentions = bot.get_cog("MentionsCog")

        async def say(text: str, *, dm: bool = False) -> None:
            sent = await standin.send_message(text if dm else f"{standin.bot.mention} {text}", dm=dm)
            await standin.wait_until(lambda: mentions.handled_through >= sent.id, what="a message handled")

        async def requests_for(*texts: tuple[str, bool]) -> int:
            """The requests the bot made to Discord for these messages."""
            before = len(standin.requests)
            for text, dm in texts:
                await say(text, dm=dm)
            return len(standin.requests) - before

        await say(NATO_JAPAN)  # answered: the wait begins
        now[0] += 5
        first = await requests_for(*[(f"{NATO_JAPAN} {n}", False) for n in range(4)], ("and now?", True))
        now[0] += 60  # the wait is over
        await say(NATO_JAPAN, dm=True)
        now[0] += 1
        second = await requests_for(("again?", True), ("and again?", True), ("hello?", False))
        notices = [m for m in standin.bot_messages() if not m.embeds]
        dm = standin.world.dm_channel(standin.user)
    assert first == second == 1
    assert [m.channel_id for m in notices] == [standin.general.id, dm.id]
    assert all(m.content.startswith("You're asking faster than I can read") for m in notices)
    assert len(standin.bot_messages()) == 4  # two answers, two notices
    assert_everything_quiet(standin)
