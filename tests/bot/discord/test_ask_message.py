"""“Ask Foreign Desk” on a message (right-click → Apps) through the stand-in: a private answer about
the message's text; a link to an article in the corpus is recognised, with the same story from
other outlets."""

from __future__ import annotations

import asyncio
from pathlib import Path

from foreign_desk.bot.discord.i18n import EN, texts

from tests.desk_corpus import PATROL_ID_TITLE, PATROL_URL
from tests.discord_standin import DiscordStandin

from .conftest import NATO_JAPAN, StartBot, assert_everything_quiet

MENU = "Ask Foreign Desk"
ID = texts("id")


async def test_a_message_is_asked_about_privately(standin: DiscordStandin, start_bot: StartBot):
    async with asyncio.timeout(60), start_bot():
        said = await standin.send_message(f"hey {standin.admin.mention}, {NATO_JAPAN}", author=standin.owner)
        ix = await standin.send_message_command(said, MENU)
        assert await ix.wait_for_callback() == 5
        reply = await ix.wait_for_reply(lambda m: bool(m.embeds), timeout=20)
    assert reply.ephemeral and reply.content == ""
    (embed,) = reply.embeds
    assert embed["title"] == f"hey , {NATO_JAPAN}"  # the mention is no part of the question
    assert embed["description"].startswith("**[1]** ")
    assert standin.bot_messages() == []
    assert_everything_quiet(standin)


async def test_a_forwarded_message_is_asked_about_like_the_message_it_forwards(
    standin: DiscordStandin, start_bot: StartBot
):
    """A forward has no text of its own: Discord sends the forwarded message in its snapshots."""
    async with asyncio.timeout(60), start_bot():
        said = await standin.send_message(NATO_JAPAN, author=standin.owner)
        forward = await standin.forward_message(said)
        ix = await standin.send_message_command(forward, MENU)
        reply = await ix.wait_for_reply(lambda m: bool(m.embeds), timeout=20)
    assert forward.content == "" and reply.ephemeral
    (embed,) = reply.embeds
    assert embed["title"] == NATO_JAPAN and embed["description"].startswith("**[1]** ")


async def test_a_link_to_an_article_in_the_corpus_brings_the_same_story_from_other_outlets(
    standin: DiscordStandin, start_bot: StartBot, desk_copy: Path
):
    async with asyncio.timeout(60), start_bot(desk_copy):
        said = await standin.send_message(f"Big news: {PATROL_URL}?utm_source=chat")
        ix = await standin.send_message_command(said, MENU)
        reply = await ix.wait_for_reply(lambda m: bool(m.embeds), timeout=20)
    title = "Indonesia and Australia agree joint maritime patrols in the Arafura Sea"
    assert reply.ephemeral
    assert reply.content == EN("menu.in_corpus", title=title, meta="The Guardian, 5 Mar 2024")
    answer, coverage = reply.embeds
    assert answer["title"] == f"Big news: {title}"
    assert coverage["title"] == EN("menu.coverage_title")
    assert coverage["description"].startswith(f"**1.** [{PATROL_ID_TITLE}](https://antara.example/")
    assert "Antara · 5 Mar 2024" in coverage["description"] and "Foreign Wire" not in coverage["description"]
    assert_everything_quiet(standin)


async def test_a_bare_link_asks_about_its_article_in_the_readers_language(
    standin: DiscordStandin, start_bot: StartBot, desk_copy: Path
):
    async with asyncio.timeout(60), start_bot(desk_copy):
        said = await standin.send_message(PATROL_URL)
        ix = await standin.send_message_command(said, "Tanya Foreign Desk", locale="id")
        reply = await ix.wait_for_reply(lambda m: bool(m.embeds), timeout=20)
    answer, coverage = reply.embeds
    assert ix.payload["data"]["name"] == MENU
    assert answer["title"] == "Indonesia and Australia agree joint maritime patrols in the Arafura Sea"
    assert (
        reply.content.startswith("🔗 Artikel yang ditautkan ada di korpus")
        and "5 Maret 2024" in reply.content
    )
    assert coverage["title"] == ID("menu.coverage_title")


async def test_a_message_with_nothing_to_ask_gets_a_private_note(
    standin: DiscordStandin, start_bot: StartBot
):
    """Emoji and a mention, or a link too broken to read (an unclosed IPv6 bracket: it failed
    with an apology and a logged traceback), have nothing to ask about."""
    notes = []
    async with asyncio.timeout(60), start_bot():
        for text in (f"{standin.admin.mention} 👍", "https://[oops"):
            said = await standin.send_message(text)
            ix = await standin.send_message_command(said, MENU)
            notes.append(await ix.wait_for_reply())
    assert [(note.ephemeral, note.content) for note in notes] == [(True, EN("menu.nothing"))] * 2
