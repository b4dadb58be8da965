"""A server's time zone: "yesterday", "kemarin" and since:1d count from the server's day, not UTC's,
in /ask, mentions and the message menu; DMs count in UTC.

At 06:00 WIB on 9 June it is still 8 June in UTC: "yesterday" in Jakarta is 8 June, in UTC 7 June.
Two reports of the same patrols, of 8 and of 7 June, show which day the bot counted from."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime

from foreign_desk.bot.discord.client import ForeignDeskBot
from foreign_desk.index.models import Article, Block

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
