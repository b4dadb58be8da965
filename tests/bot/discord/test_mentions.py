"""Questions asked by mentioning the bot in a channel or in a DM get the /ask answer as a reply."""

from __future__ import annotations

import asyncio
from typing import cast

import pytest
from foreign_desk.bot.discord.client import intents_for
from foreign_desk.bot.discord.cogs.mentions import MentionsCog
from foreign_desk.bot.discord.i18n import EN
from foreign_desk.bot.discord.settings import BotSettings

from tests.discord_standin import Channel, DiscordStandin, Overwrite, Perm

from .conftest import NATO_JAPAN, SAMPLE_TITLE, StartBot, assert_everything_quiet, embed_of

GUILDS, GUILD_MESSAGES, DIRECT_MESSAGES, MESSAGE_CONTENT = 1 << 0, 1 << 9, 1 << 12, 1 << 15


async def test_a_mention_gets_the_same_answer_as_ask(standin: DiscordStandin, start_bot: StartBot):
    async with asyncio.timeout(30), start_bot(results_per_page=1) as bot:
        said = await standin.send_message(f"{standin.bot.mention} {NATO_JAPAN}")
        reply = await standin.wait_for_bot_message(timeout=15)
        ix = await standin.send_slash_command("ask", {"question": NATO_JAPAN}, user=standin.admin)
        slash = await ix.wait_for_reply(timeout=15)
        # The buttons work for the author of the message, like for the asker of /ask.
        click = await standin.click_button(reply, label="More", user=standin.user)
        await click.wait_for_reply(lambda m: embed_of(m)["description"].startswith("**[2]**"), timeout=15)
        chatter = await standin.send_message("NATO and Japan, anyone?")  # not addressed to the bot
        mentions = bot.get_cog("MentionsCog")
        await standin.wait_until(lambda: mentions.handled_through >= chatter.id, what="the chatter handled")

    assert reply.message_reference is not None and reply.message_reference["message_id"] == str(said.id)
    assert reply.channel_id == standin.general.id and not reply.pings
    assert embed_of(slash)["title"] == NATO_JAPAN and embed_of(slash)["description"].startswith("**[1]**")
    assert reply.revisions[0]["embeds"][0]["description"] == slash.revisions[1]["embeds"][0]["description"]
    assert SAMPLE_TITLE in reply.revisions[0]["embeds"][0]["description"]
    assert [
        m
        for m in standin.bot_messages()
        if m.message_reference and m.message_reference["message_id"] == str(chatter.id)
    ] == []
    assert len(standin.bot_messages()) == 1
    assert_everything_quiet(standin)


async def test_a_channel_without_embed_links_gets_the_answer_as_text(
    standin: DiscordStandin, start_bot: StartBot
):
    """Discord drops the embeds of a bot without Embed Links: the answer would be bare buttons."""
    plain = _without_embed_links(standin)
    async with asyncio.timeout(30), start_bot(results_per_page=1):
        await standin.send_message(f"{standin.bot.mention} {NATO_JAPAN}", channel=plain)
        reply = await standin.wait_for_bot_message(channel=plain, timeout=15)
        first = reply.content
        more = await standin.click_button(reply, label="More")
        await more.wait_for_reply(lambda m: "**[2]**" in m.content, timeout=15)
    assert first.startswith(f"**{NATO_JAPAN}**\n**[1]**") and SAMPLE_TITLE in first
    assert reply.embeds == [] and "**[1]**" not in reply.content
    assert_everything_quiet(standin)


async def test_a_thread_without_embed_links_gets_the_answer_as_text(
    standin: DiscordStandin, start_bot: StartBot
):
    """A thread has its parent channel's permissions: no Embed Links there, a text answer here."""
    plain = _without_embed_links(standin)
    thread = standin.world.add_thread("a talk", plain)
    async with asyncio.timeout(30), start_bot(results_per_page=1):
        await standin.send_message(f"{standin.bot.mention} {NATO_JAPAN}", channel=thread)
        reply = await standin.wait_for_bot_message(channel=thread, timeout=15)
    assert reply.content.startswith(f"**{NATO_JAPAN}**\n**[1]**") and SAMPLE_TITLE in reply.content
    assert reply.embeds == []
    assert_everything_quiet(standin)


async def test_a_reply_to_an_answer_is_a_question_only_when_it_mentions_the_bot(
    standin: DiscordStandin, start_bot: StartBot
):
    """A reply lists the replied-to bot in its mentions (Discord's @ON, the default) with no
    ``<@id>`` in its text: "thanks, great!" under an answer gets no reply."""
    async with asyncio.timeout(60), start_bot() as bot:
        await standin.send_message(f"{standin.bot.mention} {NATO_JAPAN}")
        answer = await standin.wait_for_bot_message(timeout=15)
        thanks = await standin.send_message("thanks, great!", reply_to=answer)
        mentions = bot.get_cog("MentionsCog")
        await standin.wait_until(lambda: mentions.handled_through >= thanks.id, what="the thanks handled")
        assert standin.bot_messages() == [answer]
        asked = await standin.send_message(f"{standin.bot.mention} {NATO_JAPAN}", reply_to=answer)
        second = await standin.wait_for_bot_message(lambda m: m.id != answer.id, timeout=15)
    assert [int(u["id"]) for u in thanks.mentions] == [standin.bot.id]  # as Discord sends a reply
    assert second.message_reference is not None and second.message_reference["message_id"] == str(asked.id)
    assert_everything_quiet(standin)


async def test_a_dm_is_answered_in_the_dm(standin: DiscordStandin, start_bot: StartBot):
    async with asyncio.timeout(30), start_bot(cooldown_s=60):
        await standin.send_message(NATO_JAPAN, dm=True)
        dm = standin.world.dm_channel(standin.user)
        reply = await standin.wait_for_bot_message(channel=dm, timeout=15)
        await standin.send_message("and who visited Japan?", dm=True)
        refusal = await standin.wait_for_bot_message(lambda m: not m.embeds, channel=dm, timeout=15)
    assert embed_of(reply)["title"] == NATO_JAPAN and "IDN Times" in embed_of(reply)["description"]
    assert refusal.content.startswith("You're asking faster than I can read")
    assert_everything_quiet(standin)


async def test_a_question_written_in_indonesian_is_answered_in_indonesian(
    standin: DiscordStandin, start_bot: StartBot
):
    """A message carries no user locale: the question's own language stands in for it."""
    async with asyncio.timeout(30), start_bot(cooldown_s=60):
        await standin.send_message("Apa kesepakatan NATO dan Jepang soal kerja sama keamanan?", dm=True)
        dm = standin.world.dm_channel(standin.user)
        await standin.wait_for_bot_message(channel=dm, timeout=15)
        await standin.send_message("Siapa menteri luar negeri yang mengunjungi Jepang?", dm=True)
        refusal = await standin.wait_for_bot_message(lambda m: not m.embeds, channel=dm, timeout=15)
    assert refusal.content.startswith("Anda bertanya lebih cepat dari yang bisa saya baca")
    assert_everything_quiet(standin)


async def test_a_question_naming_only_a_day_gets_that_days_articles(
    standin: DiscordStandin, start_bot: StartBot
):
    """Asking what happened on the sample article's day found nothing: now the article is listed,
    under a caveat saying what the list is, in the asker's language."""
    async with asyncio.timeout(30), start_bot(results_per_page=1):
        await standin.send_message(f"{standin.bot.mention} Apa yang terjadi pada 31 Januari 2023?")
        mention = await standin.wait_for_bot_message(timeout=15)
        ix = await standin.send_slash_command("ask", {"question": "what happened on 31 January 2023?"})
        slash = await ix.wait_for_reply(timeout=15)
    said = embed_of(mention)["description"]
    assert said.startswith("*Pertanyaan ini hanya menyebut waktu: artikel yang terbit pada 31 Januari 2023")
    assert "**[1]**" in said and SAMPLE_TITLE in said
    shown = embed_of(slash)["description"]
    assert shown.startswith("*The question names only a time: the articles published on 31 Jan 2023, newest")
    assert SAMPLE_TITLE in shown and embed_of(slash)["footer"]["text"].startswith("Passage 1 · ")
    assert slash.find_component(label="More") is None  # one article of that day, one page
    assert_everything_quiet(standin)


async def test_answering_mentions_and_dms_can_be_turned_off(standin: DiscordStandin, start_bot: StartBot):
    async with asyncio.timeout(30), start_bot(answer_mentions=False, answer_dms=False):
        await standin.send_message(f"{standin.bot.mention} {NATO_JAPAN}")
        await standin.send_message(NATO_JAPAN, dm=True)
        ix = await standin.send_slash_command("ask", {"question": NATO_JAPAN})
        await ix.wait_for_reply(timeout=15)
    assert standin.bot_messages() == []
    assert standin.gateway.current is not None
    assert standin.gateway.current.intents == GUILDS  # nothing to listen to: no message intents at all


def test_intents_are_only_what_the_features_need() -> None:
    both = intents_for(BotSettings()).value
    assert both == GUILDS | GUILD_MESSAGES | DIRECT_MESSAGES and not both & MESSAGE_CONTENT
    assert intents_for(BotSettings(answer_mentions=False)).value == GUILDS | DIRECT_MESSAGES
    assert intents_for(BotSettings(answer_dms=False)).value == GUILDS | GUILD_MESSAGES


@pytest.mark.parametrize("cooldown_s", [0.0, 60.0])
async def test_a_question_two_processes_get_is_answered_once(
    standin: DiscordStandin, start_bot: StartBot, cooldown_s: float
):
    """Two sessions on one shard (a rolling restart's overlap, two processes started with the same
    shard ids) both get every message: one process answers, the other says nothing, not even
    that the asker asks too fast (with a cooldown, the first one started the asker's wait)."""
    standin.config.every_session_of_shard = True
    options = {"identify_spacing_s": 0.0, "cooldown_s": cooldown_s}
    async with asyncio.timeout(60), start_bot(**options) as one, start_bot(**options) as other:
        said = await standin.send_message(f"{standin.bot.mention} {NATO_JAPAN}")
        dm = await standin.send_message(NATO_JAPAN, dm=True, author=standin.admin)
        cogs = [cast(MentionsCog, bot.get_cog("MentionsCog")) for bot in (one, other)]
        await standin.wait_until(
            lambda: [c.questions for c in cogs] == [2, 2], what="both handled by both", timeout=30
        )
    replies = [m.message_reference["message_id"] for m in standin.bot_messages() if m.message_reference]
    assert sorted(replies) == sorted([str(said.id), str(dm.id)])
    assert_everything_quiet(standin)


def _without_embed_links(standin: DiscordStandin) -> Channel:
    """A text channel where the bot's role is denied Embed Links."""
    world = standin.world
    return world.add_text_channel(
        "plain", overwrites=[Overwrite(world.bot_role.id, 0, deny=int(Perm.EMBED_LINKS))]
    )


async def test_a_channel_without_read_message_history_still_gets_the_answer(
    standin: DiscordStandin, start_bot: StartBot
):
    """Discord refuses a reply (403 160002) where the bot may not read the channel's history, as
    channels that hide their past do: the answer is posted in the channel, not lost."""
    world = standin.world
    channel = world.add_text_channel(
        "no-history", overwrites=[Overwrite(world.bot_role.id, 0, deny=int(Perm.READ_MESSAGE_HISTORY))]
    )
    async with asyncio.timeout(60), start_bot():
        await standin.send_message(f"{standin.bot.mention} {NATO_JAPAN}", channel=channel)
        answer = await standin.wait_for_bot_message(lambda m: bool(m.embeds), channel=channel, timeout=30)
        await standin.send_message(f"{standin.bot.mention} \u200b", channel=channel)
        refusal = await standin.wait_for_bot_message(lambda m: not m.embeds, channel=channel, timeout=30)

    assert embed_of(answer)["title"] == NATO_JAPAN and answer.message_reference is None
    assert refusal.content == EN("ask.empty")
    assert standin.message_requests() and standin.pinging_requests() == []


async def test_a_question_deleted_before_its_answer_is_still_answered_in_the_channel(
    standin: DiscordStandin, start_bot: StartBot, caplog: pytest.LogCaptureFixture
):
    """Discord refuses a reply to a message deleted meanwhile (50035, unknown message): the answer
    was lost, an apology tried the same way, and a traceback was logged as for a bug."""
    async with asyncio.timeout(60), start_bot() as bot:
        real, asked, gate = bot.desk.answer, asyncio.Event(), asyncio.Event()

        async def held(*args: object, **kwargs: object) -> object:
            asked.set()
            await gate.wait()
            return await real(*args, **kwargs)  # type: ignore[arg-type]

        bot.desk.answer = held  # type: ignore[method-assign]
        said = await standin.send_message(f"{standin.bot.mention} {NATO_JAPAN}")
        await asked.wait()
        standin.messages.delete(said)  # the asker thought better of it
        gate.set()
        answer = await standin.wait_for_bot_message(lambda m: bool(m.embeds), timeout=30)

    assert embed_of(answer)["title"] == NATO_JAPAN and answer.message_reference is None
    assert "failed" not in caplog.text
    assert_everything_quiet(standin)
