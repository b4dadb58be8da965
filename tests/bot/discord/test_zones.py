"""A server's time zone: "yesterday", "kemarin" and since:1d count from the server's day, not UTC's,
in /ask, mentions and the message menu; DMs count in UTC.

At 06:00 WIB on 9 June it is still 8 June in UTC: "yesterday" in Jakarta is 8 June, in UTC 7 June.
Two reports of the same patrols, of 8 and of 7 June, show which day the bot counted from."""

from __future__ import annotations

import asyncio
import logging
import re
import sqlite3
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path

import pytest
from foreign_desk.bot.discord.answers import FILE_NAME, AnswerStore
from foreign_desk.bot.discord.client import ForeignDeskBot
from foreign_desk.index.article import Article, Block

from tests.discord_standin import DiscordStandin, StoredMessage

from .conftest import StartBot, embed_of

DAWN_IN_JAKARTA = datetime(2024, 6, 8, 23, 0, tzinfo=UTC)  # 06:00 WIB on 9 June
PATROLS = (
    "Indonesia and the Philippines began joint naval patrols in the Sulawesi Sea to stop kidnappings "
    "of fishermen, the two navies said."
)
REPORTS = [
    Article(
        "Indonesia and Philippines start Sulawesi Sea patrols",
        (Block(PATROLS),),
        source="Wire",
        url="https://example.org/patrols-8-june",
        published="2024-06-08",
        language="en",
    ),
    Article(
        "Indonesia, Philippines launch joint Sulawesi Sea patrols",
        (Block(PATROLS + " Radar data will be shared."),),
        source="Post",
        url="https://example.org/patrols-7-june",
        published="2024-06-07",
        language="en",
    ),
]
YESTERDAY = "What happened in the Sulawesi Sea yesterday?"


async def at_dawn_in_jakarta(bot: ForeignDeskBot) -> None:
    bot.clock = lambda: DAWN_IN_JAKARTA
    await bot.engine.add_articles(REPORTS)


def citations(message: StoredMessage) -> list[str]:
    return re.findall(r"^— (.*)$", embed_of(message)["description"], re.MULTILINE)


async def reply_to(standin: DiscordStandin, command: str, options: dict[str, str] | None = None, **kw):
    return await (await standin.send_slash_command(command, options, **kw)).wait_for_reply(timeout=15)


async def test_an_admin_sets_the_servers_time_zone(standin: DiscordStandin, start_bot: StartBot):
    async with asyncio.timeout(60), start_bot() as bot:
        await at_dawn_in_jakarta(bot)
        in_utc = await reply_to(standin, "ask", {"question": YESTERDAY})
        refused = await reply_to(standin, "admin timezone", {"zone": "UTC"}, user=standin.user, force=True)
        unknown = await reply_to(standin, "admin timezone", {"zone": "Mars/Olympus"}, user=standin.admin)
        shown = await reply_to(standin, "admin timezone", user=standin.admin)
        told = await reply_to(standin, "admin timezone", {"zone": "asia/jakarta"}, user=standin.admin)
        in_jakarta = await reply_to(standin, "ask", {"question": YESTERDAY})
        since = await reply_to(standin, "ask", {"question": "Sulawesi Sea patrols", "since": "1d"})
        still = await reply_to(standin, "admin timezone", user=standin.admin)
    assert "7 Jun 2024" in citations(in_utc)[0]  # an English-speaking server counts in UTC by default
    assert refused.ephemeral and refused.content == "Only members who can manage this server can use /admin."
    assert unknown.ephemeral and unknown.content == (
        "Unknown time zone: Mars/Olympus. Use an IANA name such as Asia/Jakarta or Europe/London."
    )
    assert shown.content.startswith('This server counts days ("yesterday", since:7d) in UTC, the default')
    assert told.ephemeral and told.content == (
        'This server now counts days ("yesterday", since:7d) in Asia/Jakarta: today there is 9 Jun 2024.'
    )
    assert "8 Jun 2024" in citations(in_jakarta)[0]
    assert citations(since) and not any("7 Jun 2024" in line for line in citations(since))
    assert still.content.startswith('This server counts days ("yesterday", since:7d) in Asia/Jakarta:')


async def test_an_indonesian_server_counts_in_jakarta_and_a_dm_in_utc(
    standin: DiscordStandin, start_bot: StartBot
):
    standin.guild.preferred_locale = "id"
    async with asyncio.timeout(60), start_bot() as bot:
        await at_dawn_in_jakarta(bot)
        asked = await reply_to(standin, "ask", {"question": "patroli Laut Sulawesi kemarin"})
        said = await standin.send_message(f"{standin.bot.mention} patroli Laut Sulawesi kemarin")
        mention = await standin.wait_for_bot_message(channel=standin.general, timeout=15)
        menu = await (await standin.send_message_command(said, "Ask Foreign Desk")).wait_for_reply(timeout=15)
        await standin.send_message("patroli Laut Sulawesi kemarin", dm=True)
        in_dm = await standin.wait_for_bot_message(lambda m: m.channel_id != standin.general.id, timeout=15)
        shown = await reply_to(standin, "admin timezone", user=standin.admin, locale="id")
    assert "8 Jun 2024" in citations(asked)[0]
    assert "8 Juni 2024" in citations(mention)[0]  # a message in an Indonesian server: Indonesian
    assert "8 Jun 2024" in citations(menu)[0]
    assert "7 Juni 2024" in citations(in_dm)[0]  # a DM counts in UTC
    assert shown.content.startswith(
        'Server ini menghitung hari ("kemarin", sejak:7d) dalam Asia/Jakarta, bawaan'
    )


async def test_an_admin_clears_the_zone_and_the_servers_default_applies_again(
    standin: DiscordStandin, start_bot: StartBot
):
    async with asyncio.timeout(60), start_bot() as bot:
        await at_dawn_in_jakarta(bot)
        await reply_to(standin, "admin timezone", {"zone": "Asia/Jakarta"}, user=standin.admin)
        typed = await standin.send_autocomplete(
            "admin timezone", {"zone": "baw"}, focused="zone", locale="id"
        )
        offered = await typed.wait_for_choices()
        cleared = await reply_to(standin, "admin timezone", {"zone": "default"}, user=standin.admin)
        in_utc = await reply_to(standin, "ask", {"question": YESTERDAY})
        await reply_to(standin, "admin timezone", {"zone": "Europe/London"}, user=standin.admin)
        bawaan = await reply_to(
            standin, "admin timezone", {"zone": "Bawaan"}, user=standin.admin, locale="id"
        )
        shown = await reply_to(standin, "admin timezone", user=standin.admin)
    assert offered[0]["value"] == "bawaan" and offered[0]["name"].startswith("bawaan: zona bahasa server")
    assert cleared.ephemeral and cleared.content == (
        'This server counts days ("yesterday", since:7d) in UTC again, the default for its language: '
        "today there is 8 Jun 2024."
    )
    assert "7 Jun 2024" in citations(in_utc)[0]
    assert bawaan.content.startswith('Server ini kembali menghitung hari ("kemarin", sejak:7d) dalam UTC')
    assert shown.content.startswith('This server counts days ("yesterday", since:7d) in UTC, the default')


async def test_a_departed_servers_zone_is_forgotten_with_its_feeds(
    standin: DiscordStandin, start_bot: StartBot, sample_copy: Path, caplog: pytest.LogCaptureFixture
):
    caplog.set_level(logging.INFO, "foreign_desk.bot.discord")
    other = standin.world.add_guild("Other")
    gone = standin.world.add_guild("Removed the bot while it was down", with_bot=False)
    store = await AnswerStore.open(sample_copy, ttl_s=60)
    await store.set_server_zone(gone.id, "Asia/Jayapura")  # its only trace
    await store.close()
    # forget_after_days=0: forgotten at housekeeping's next look after the departure.
    async with asyncio.timeout(60), start_bot(forget_after_days=0, housekeeping_s=0.05) as bot:
        await reply_to(standin, "admin timezone", {"zone": "Asia/Jakarta"}, user=standin.admin)
        await bot.answers.set_server_zone(other.id, "Asia/Makassar")
        await standin.remove_bot_from_guild(standin.guild)
        # The bot records a departure in a task of its own (GUILD_DELETE, or READY for ``gone``):
        # the looks that forget count from there.
        left = [f"removed from server {g.id}" for g in (standin.guild, gone)]
        await standin.wait_until(lambda: all(x in caplog.text for x in left), timeout=30, what="departures")
        housekeeping = bot.housekeeping
        assert housekeeping is not None
        looked = housekeeping.runs
        await standin.wait_until(lambda: housekeeping.runs > looked + 1, what="two looks after the departure")
        assert await bot.answers.server_zone(standin.guild.id) is None
        assert await bot.answers.server_zone(gone.id) is None
        assert await bot.answers.server_zone(other.id) == "Asia/Makassar"  # still there: kept


async def test_a_stored_zone_this_host_no_longer_knows_counts_as_the_default(
    standin: DiscordStandin, start_bot: StartBot, sample_copy: Path, caplog: pytest.LogCaptureFixture
):
    standin.guild.preferred_locale = "id"
    async with asyncio.timeout(60), start_bot() as bot:
        await at_dawn_in_jakarta(bot)
        with closing(sqlite3.connect(sample_copy / FILE_NAME)) as conn, conn:  # tz data changed since
            conn.execute("INSERT INTO server_zones VALUES (?, 'Mars/Olympus')", (standin.guild.id,))
        asked = await reply_to(standin, "ask", {"question": YESTERDAY})
        again = await reply_to(standin, "ask", {"question": "Sulawesi Sea patrols", "since": "1d"})
        shown = await reply_to(standin, "admin timezone", user=standin.admin)
    assert "8 Jun 2024" in citations(asked)[0]  # counted in Asia/Jakarta, the Indonesian default
    assert citations(again) and not any("7 Jun 2024" in line for line in citations(again))
    assert shown.content.startswith(
        "This server's time zone Mars/Olympus is unknown to this host (its time zone data changed), so "
        'it counts days ("yesterday", since:7d) in Asia/Jakarta, the default for its language'
    )
    assert caplog.text.count("time zone 'Mars/Olympus' is unknown to this host") == 1


async def test_an_admin_is_told_the_zone_they_set_when_another_process_sets_one_meanwhile(
    standin: DiscordStandin, start_bot: StartBot, sample_copy: Path, monkeypatch: pytest.MonkeyPatch
):
    """Another process (a shard on the same data folder) writes the server's zone right after this
    command's write: the reply says what the admin did, not what the other process set."""
    other = await AnswerStore.open(sample_copy, ttl_s=60)  # a second connection to the same file
    try:
        async with asyncio.timeout(60), start_bot() as bot:
            await at_dawn_in_jakarta(bot)
            write = bot.answers.set_server_zone

            async def then_another_process_writes(guild_id: int, zone: str | None) -> None:
                await write(guild_id, zone)
                await other.set_server_zone(guild_id, "Europe/London")

            monkeypatch.setattr(bot.answers, "set_server_zone", then_another_process_writes)
            told = await reply_to(standin, "admin timezone", {"zone": "Asia/Jakarta"}, user=standin.admin)
            cleared = await reply_to(standin, "admin timezone", {"zone": "default"}, user=standin.admin)
            monkeypatch.undo()
            shown = await reply_to(standin, "admin timezone", user=standin.admin)
    finally:
        await other.close()
    assert told.content == (
        'This server now counts days ("yesterday", since:7d) in Asia/Jakarta: today there is 9 Jun 2024.'
    )
    assert cleared.content.startswith('This server counts days ("yesterday", since:7d) in UTC again')
    assert shown.content.startswith('This server counts days ("yesterday", since:7d) in Europe/London:')
