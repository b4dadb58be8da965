"""The buttons under an answer, through the stand-in: private answers, paging after a restart and
after expiry, links to a translation, and 👍 / 👎 votes stored without user ids."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from foreign_desk.bot.discord.answers import FILE_NAME
from foreign_desk.bot.discord.client import ForeignDeskBot
from foreign_desk.bot.discord.i18n import EN, texts

from tests.desk_corpus import PATROL_ID_TITLE, PATROL_ID_URL
from tests.discord_standin import DiscordStandin, InteractionRecord, StoredMessage

from .conftest import NATO_JAPAN, StartBot, assert_everything_quiet, embed_of

ID = texts("id")
ARAFURA = "What did Indonesia and Australia agree about patrols in the Arafura Sea?"


def page_of(message: StoredMessage) -> str:
    return embed_of(message)["description"].split("**", 2)[1]  # "[1]", "[2]", …


def labels(message: StoredMessage) -> list[str]:
    return [c.get("label") or c.get("emoji", {}).get("name") for c in message.iter_components()]


async def test_a_private_answer_is_ephemeral_and_pages_in_place(standin: DiscordStandin, start_bot: StartBot):
    async with asyncio.timeout(60), start_bot(results_per_page=1):
        ix = await standin.send_slash_command("ask", {"question": NATO_JAPAN, "private": True})
        assert await ix.wait_for_callback() == 5
        reply = await ix.wait_for_reply(lambda m: bool(m.embeds), timeout=20)
        assert reply.ephemeral and page_of(reply) == "[1]"
        more = await standin.click_button(reply, label="More")
        paged = await more.wait_for_reply(lambda m: page_of(m) == "[2]", timeout=20)
    assert paged.id == reply.id and paged.ephemeral
    assert ix.payload["data"]["options"][-1] == {"name": "private", "type": 5, "value": True}
    assert standin.bot_messages() == []  # nothing public was posted
    assert_everything_quiet(standin)


async def test_more_and_back_page_an_old_answer_after_a_restart(
    standin: DiscordStandin, start_bot: StartBot, sample_copy: Path
):
    async with asyncio.timeout(60), start_bot(sample_copy, results_per_page=1):
        ix = await standin.send_slash_command("ask", {"question": NATO_JAPAN})
        reply = await ix.wait_for_reply(lambda m: bool(m.embeds), timeout=20)
    assert page_of(reply) == "[1]"
    async with asyncio.timeout(60), start_bot(sample_copy, results_per_page=1) as restarted:
        assert restarted.answers is not None
        more = await standin.click_button(reply, label="More")
        assert await more.wait_for_callback() == 6
        await more.wait_for_reply(lambda m: page_of(m) == "[2]", timeout=20)
        back = await standin.click_button(reply, label="Back")
        await back.wait_for_reply(lambda m: page_of(m) == "[1]", timeout=20)
    assert reply.find_component(label="Back")["disabled"] is True
    assert_everything_quiet(standin)


async def test_a_button_older_than_the_timeout_says_the_answer_expired(
    standin: DiscordStandin, start_bot: StartBot, sample_copy: Path
):
    async with asyncio.timeout(60), start_bot(sample_copy, results_per_page=1):
        ix = await standin.send_slash_command("ask", {"question": NATO_JAPAN}, locale="id")
        reply = await ix.wait_for_reply(lambda m: bool(m.embeds), timeout=20)
    answer = [dict(e) for e in reply.embeds]
    async with asyncio.timeout(60), start_bot(sample_copy, results_per_page=1, view_timeout_s=60) as bot:
        now = bot.answers.clock()
        bot.answers.clock = lambda: now + 61  # a minute and a second later
        late = await standin.click_button(reply, label="Lainnya", locale="id")
        note = await late.wait_for_reply(lambda m: m.id != reply.id)
    assert late.callback_type == 6  # acknowledged, then the message is updated: its buttons go
    assert note.ephemeral and note.content == ID("answer.expired")
    assert reply.components == [] and reply.embeds == answer
    assert_everything_quiet(standin)


async def test_an_answer_made_while_the_clock_said_2099_expires_once_it_is_set_right(
    standin: DiscordStandin, start_bot: StartBot, sample_copy: Path
):
    """The clock said 2099 when the answer was made, then was set right: its More and 👍 / 👎 kept
    working until 2099."""
    async with asyncio.timeout(60), start_bot(sample_copy, results_per_page=1) as bot:
        right = bot.answers.clock
        bot.answers.clock = lambda: 4_070_908_800.0  # 2099-01-01
        ix = await standin.send_slash_command("ask", {"question": NATO_JAPAN})
        reply = await ix.wait_for_reply(lambda m: bool(m.embeds), timeout=20)
        bot.answers.clock = right
        late = await standin.click_button(reply, label="More")
        note = await late.wait_for_reply(lambda m: m.id != reply.id)
    assert note.ephemeral and note.content == EN("answer.expired")
    assert reply.components == [] and page_of(reply) == "[1]"
    assert_everything_quiet(standin)


async def test_a_mention_reply_pages_for_its_author(standin: DiscordStandin, start_bot: StartBot):
    async with asyncio.timeout(60), start_bot(results_per_page=1):
        await standin.send_message(f"{standin.bot.mention} {NATO_JAPAN}")
        reply = await standin.wait_for_bot_message(timeout=20)
        stranger = await standin.click_button(reply, label="More", user=standin.admin)
        refused = await stranger.wait_for_reply()
        more = await standin.click_button(reply, label="More")
        await more.wait_for_reply(lambda m: page_of(m) == "[2]", timeout=20)
    assert refused.ephemeral and refused.content == EN("page.not_asker")
    assert_everything_quiet(standin)


async def test_an_article_in_another_language_links_to_a_translation(
    standin: DiscordStandin, start_bot: StartBot, desk_copy: Path
):
    async with asyncio.timeout(60), start_bot(desk_copy, results_per_page=2):
        in_en = await standin.send_slash_command("ask", {"question": ARAFURA})
        english = await in_en.wait_for_reply(lambda m: bool(m.embeds), timeout=20)
        in_id = await standin.send_slash_command(
            "ask", {"question": ARAFURA}, user=standin.admin, locale="id"
        )
        indonesian = await in_id.wait_for_reply(lambda m: bool(m.embeds), timeout=20)
    links = {c["label"]: c["url"] for c in english.iter_components() if c.get("url")}
    source = next(label for label in links if PATROL_ID_TITLE in label)
    rank = source.split("]")[0] + "]"
    translated = links[f"{rank} Read in English"]
    query = parse_qs(urlsplit(translated).query)
    assert translated.startswith("https://translate.google.com/translate?")
    assert query == {"sl": ["id"], "tl": ["en"], "hl": ["en"], "u": [PATROL_ID_URL]}
    assert not any("Read in" in label and "Guardian" in label for label in links)  # English: none needed
    id_links = [c["label"] for c in indonesian.iter_components() if c.get("url")]
    assert [label for label in id_links if "Baca dalam" in label] == [
        f"{_other(rank)} Baca dalam bahasa Indonesia"
    ]
    assert_everything_quiet(standin)


async def test_one_vote_per_user_stored_with_the_page_and_no_user_id(
    standin: DiscordStandin, start_bot: StartBot, sample_copy: Path
):
    async with asyncio.timeout(60), start_bot(sample_copy, results_per_page=1) as bot:
        ix = await standin.send_slash_command("ask", {"question": NATO_JAPAN})
        reply = await ix.wait_for_reply(lambda m: bool(m.embeds), timeout=20)
        notes = []
        for user, mark in (
            (standin.user, "👍"),
            (standin.user, "👍"),
            (standin.user, "👎"),
            (standin.admin, "👍"),
        ):
            click = await standin.click_button(reply, custom_id=_vote_id(reply, mark), user=user)
            notes.append((await click.wait_for_reply()).content)
        votes = await bot.answers.votes()
    assert notes == [
        EN("vote.recorded", mark="👍"),
        EN("vote.same", mark="👍"),
        EN("vote.changed", mark="👎"),
        EN("vote.recorded", mark="👍"),
    ]
    assert sorted(v.vote for v in votes) == [-1, 1]
    for vote in votes:
        assert vote.question == NATO_JAPAN and vote.offset == 0
        assert [s.rank for s in vote.shown] == [1] and vote.shown[0].highlight
    stored = _dump(sample_copy / FILE_NAME)
    for user in (standin.user, standin.admin):
        assert str(user.id) not in stored and user.username not in stored
    assert labels(reply)[-2:] == ["👍", "👎"]  # the buttons stay for others to vote
    assert_everything_quiet(standin)


async def test_a_vote_is_acknowledged_at_once_while_another_process_writes_the_store(
    standin: DiscordStandin, start_bot: StartBot, sample_copy: Path
):
    """Another process holding discord.sqlite3's write lock past Discord's 3 seconds must not fail
    the click: it is acknowledged first, and the vote, already waiting for the lock when the other
    process lets it go, is recorded (the store retries within its busy timeout, off the loop)."""
    async with asyncio.timeout(60), start_bot(sample_copy) as bot:
        ix = await standin.send_slash_command("ask", {"question": NATO_JAPAN})
        reply = await ix.wait_for_reply(lambda m: bool(m.embeds), timeout=20)
        async with _vote_waiting_for_the_lock(bot, standin, reply, sample_copy / FILE_NAME) as click:
            assert await click.wait_for_callback() == 6
        note = await click.wait_for_reply(timeout=15)
        votes = await bot.answers.votes()
    assert note.ephemeral and note.content == EN("vote.recorded", mark="👍")
    assert [v.vote for v in votes] == [1]
    assert_everything_quiet(standin)


async def test_a_question_is_acknowledged_at_once_while_a_vote_waits_for_the_store(
    standin: DiscordStandin, start_bot: StartBot, sample_copy: Path
):
    """A vote waiting for discord.sqlite3's write lock (another process holds it) holds the store's
    connection: a question asked in a server meanwhile must still be acknowledged within Discord's
    3 seconds (it read the server's time zone there first, queued behind the vote)."""
    async with asyncio.timeout(60), start_bot(sample_copy) as bot:
        ix = await standin.send_slash_command("ask", {"question": NATO_JAPAN})
        reply = await ix.wait_for_reply(lambda m: bool(m.embeds), timeout=20)
        async with _vote_waiting_for_the_lock(bot, standin, reply, sample_copy / FILE_NAME) as click:
            asked = await standin.send_slash_command("ask", {"question": NATO_JAPAN}, user=standin.admin)
            acknowledged = await asked.wait_for_callback(timeout=10)
        answer = await asked.wait_for_reply(lambda m: bool(m.embeds), timeout=20)
        note = await click.wait_for_reply(timeout=15)
    assert acknowledged == 5 and not answer.ephemeral and page_of(answer) == "[1]"
    assert note.content == EN("vote.recorded", mark="👍")
    assert_everything_quiet(standin)


async def test_a_vote_the_store_stays_too_busy_to_record_says_so(
    standin: DiscordStandin, start_bot: StartBot, sample_copy: Path
):
    """Another process holding discord.sqlite3's write lock past the busy timeout (shortened here
    from 10 s): the voter is told the store is busy, in their language, not a general apology."""
    async with asyncio.timeout(60), start_bot(sample_copy) as bot:
        ix = await standin.send_slash_command("ask", {"question": NATO_JAPAN}, locale="id")
        reply = await ix.wait_for_reply(lambda m: bool(m.embeds), timeout=20)
        await bot.answers.conn.execute("PRAGMA busy_timeout=100")
        with _written_elsewhere(sample_copy / FILE_NAME):
            click = await standin.click_button(reply, custom_id=_vote_id(reply, "👍"), locale="id")
            note = await click.wait_for_reply(lambda m: m.id != reply.id, timeout=15)
        votes = await bot.answers.votes()
    assert note.ephemeral and note.content == ID("vote.busy")
    assert votes == []
    assert_everything_quiet(standin)


async def test_a_page_the_store_stays_too_busy_to_record_says_so(
    standin: DiscordStandin, start_bot: StartBot, sample_copy: Path
):
    """Another process holding discord.sqlite3's write lock past the busy timeout (shortened here)
    while the asker clicks More: they are told the store is busy, in their language, and the
    answer stays on its page."""
    async with asyncio.timeout(60), start_bot(sample_copy, results_per_page=1) as bot:
        ix = await standin.send_slash_command("ask", {"question": NATO_JAPAN}, locale="id")
        reply = await ix.wait_for_reply(lambda m: bool(m.embeds), timeout=20)
        await bot.answers.conn.execute("PRAGMA busy_timeout=100")
        with _written_elsewhere(sample_copy / FILE_NAME):
            click = await standin.click_button(reply, label="Lainnya", locale="id")
            note = await click.wait_for_reply(lambda m: m.id != reply.id, timeout=15)
    assert note.ephemeral and note.content == ID("page.busy")
    assert page_of(reply) == "[1]"
    assert_everything_quiet(standin)


async def test_an_answer_the_store_stays_too_busy_to_remember_comes_without_its_state_buttons(
    standin: DiscordStandin, start_bot: StartBot, desk_copy: Path, caplog: pytest.LogCaptureFixture
):
    """Another process holding discord.sqlite3's write lock past the busy timeout (shortened here)
    while a question is answered: the answer still comes, by /ask and by mention, with its links
    but no Back / More / votes (they could not find it), and one warning each in the log."""
    caplog.set_level(logging.WARNING, "foreign_desk.bot.discord.views")
    async with asyncio.timeout(60), start_bot(desk_copy, results_per_page=2) as bot:
        await bot.answers.conn.execute("PRAGMA busy_timeout=100")
        with _written_elsewhere(desk_copy / FILE_NAME):
            ix = await standin.send_slash_command("ask", {"question": ARAFURA})
            asked = await ix.wait_for_reply(lambda m: bool(m.embeds), timeout=20)
            await standin.send_message(f"{standin.bot.mention} {ARAFURA}")
            mentioned = await standin.wait_for_bot_message(timeout=20)
    for reply in (asked, mentioned):
        assert page_of(reply) == "[1]"
        components = list(reply.iter_components())
        assert components and all(c.get("url") for c in components)  # the source links only
    assert caplog.text.count("answer sent without its page and vote buttons") == 2
    assert_everything_quiet(standin)


@asynccontextmanager
async def _vote_waiting_for_the_lock(
    bot: ForeignDeskBot, standin: DiscordStandin, reply: StoredMessage, path: Path
) -> AsyncIterator[InteractionRecord]:
    """A 👍 click on ``reply`` whose vote is waiting for ``path``'s write lock, which another
    process holds until the block ends."""
    writing, loop = asyncio.Event(), asyncio.get_running_loop()

    def traced(statement: str) -> None:  # in the store's thread
        if statement.startswith("BEGIN IMMEDIATE"):
            loop.call_soon_threadsafe(writing.set)

    with _written_elsewhere(path):
        await bot.answers.conn.set_trace_callback(traced)
        click = await standin.click_button(reply, custom_id=_vote_id(reply, "👍"))
        await writing.wait()
        yield click


@contextmanager
def _written_elsewhere(path: Path) -> Iterator[None]:
    """Another process's write lock on ``path`` (a real second connection in a transaction)."""
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        yield
    finally:
        other.execute("ROLLBACK")
        other.close()


def _other(rank: str) -> str:
    """The other of the two ranks, "[1]" ↔ "[2]"."""
    return "[2]" if rank == "[1]" else "[1]"


def _vote_id(message: StoredMessage, mark: str) -> str:
    return next(c["custom_id"] for c in message.iter_components() if c.get("emoji", {}).get("name") == mark)


def _dump(path: Path) -> str:
    with sqlite3.connect(path) as conn:
        return "\n".join(conn.iterdump())
