"""A question holding a link to a corpus article: every entry point names the article (🔗) above
the answer, on its first page and on the pages More and Back show, embedded or as plain text."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

from foreign_desk.bot.discord.i18n import EN, texts

from tests.desk_corpus import PATROL_URL
from tests.discord_standin import Channel, DiscordStandin, Overwrite, Perm, StoredMessage

from .conftest import StartBot, assert_everything_quiet, embed_of

TITLE = "Indonesia and Australia agree joint maritime patrols in the Arafura Sea"
NOTE = EN("menu.in_corpus", title=TITLE, meta="The Guardian, 5 Mar 2024")
QUESTION = f"what will the navies share? {PATROL_URL}"


def _page(message: StoredMessage) -> str:
    """The text a page is read from: the embed's description, else the message's text."""
    return embed_of(message)["description"] if message.embeds else message.content


def _without_embed_links(standin: DiscordStandin) -> Channel:
    world = standin.world
    return world.add_text_channel(
        "plain", overwrites=[Overwrite(world.bot_role.id, 0, deny=int(Perm.EMBED_LINKS))]
    )


async def _more_and_back(
    standin: DiscordStandin,
    reply: StoredMessage,
    labels: tuple[str, str] = ("More", "Back"),
    locale: str = "en-US",
) -> list[str]:
    """``reply``'s text on page 1, after More (page 2) and after Back (page 1 again)."""
    seen = [reply.content]
    for label, page in zip(labels, ("**[2]**", "**[1]**"), strict=True):
        ix = await standin.click_button(reply, label=label, locale=locale)
        await ix.wait_for_reply(_showing(page), timeout=20)
        seen.append(reply.content)
    return seen


def _showing(page: str) -> Callable[[StoredMessage], bool]:
    return lambda message: page in _page(message)


async def test_a_mention_in_a_plain_text_channel_keeps_the_linked_line_on_every_page(
    standin: DiscordStandin, start_bot: StartBot, desk_copy: Path
):
    plain = _without_embed_links(standin)
    async with asyncio.timeout(90), start_bot(desk_copy, results_per_page=1):
        await standin.send_message(f"{standin.bot.mention} {QUESTION}", channel=plain)
        reply = await standin.wait_for_bot_message(channel=plain, timeout=20)
        pages = await _more_and_back(standin, reply)
    assert reply.embeds == []
    for text in pages:
        assert text.startswith(f"{NOTE}\n**what will the navies share? {TITLE}**\n**[")
        assert len(text) <= 2000
    assert "**[2]**" in pages[1] and "**[1]**" in pages[2]
    assert_everything_quiet(standin)


async def test_ask_and_a_mention_with_embeds_keep_the_linked_line_on_every_page(
    standin: DiscordStandin, start_bot: StartBot, desk_copy: Path
):
    """The 🔗 line is the message's text above the embed: paging edits the embed only. /ask names
    the article in the asker's language."""
    tx = texts("id")
    note_id = tx("menu.in_corpus", title=TITLE, meta=f"The Guardian, {tx.date('2024-03-05')}")
    async with asyncio.timeout(90), start_bot(desk_copy, results_per_page=1):
        await standin.send_message(f"{standin.bot.mention} {QUESTION}")
        mention = await standin.wait_for_bot_message(timeout=20)
        mention_pages = await _more_and_back(standin, mention)
        ix = await standin.send_slash_command("ask", {"question": QUESTION}, locale="id")
        slash = await ix.wait_for_reply(lambda m: bool(m.embeds), timeout=20)
        slash_pages = await _more_and_back(standin, slash, ("Lainnya", "Kembali"), locale="id")
    assert mention_pages == [NOTE] * 3 and slash_pages == [note_id] * 3
    assert embed_of(slash)["title"] == f"what will the navies share? {TITLE}"
    assert_everything_quiet(standin)
