"""A message that mentions the bot's managed role (what Discord's @-picker often inserts) is a
question for the bot, answered like a mention of the bot itself."""

from __future__ import annotations

import asyncio

import pytest
from foreign_desk.bot.discord.i18n import EN

from tests.discord_standin import DiscordStandin, StandinConfig

from .conftest import NATO_JAPAN, StartBot, assert_everything_quiet, embed_of


async def test_a_mention_of_the_bots_role_is_answered_like_a_mention_of_the_bot(
    standin: DiscordStandin, start_bot: StartBot
):
    role = standin.world.bot_role
    async with asyncio.timeout(60), start_bot():
        asked = await standin.send_message(f"{role.mention} {NATO_JAPAN}")
        reply = await standin.wait_for_bot_message(lambda m: bool(m.embeds), timeout=20)
    assert asked.mention_roles == [str(role.id)] and asked.mentions == []
    assert embed_of(reply)["title"] == NATO_JAPAN  # the role mention is not part of the question
    assert reply.message_reference is not None and reply.message_reference["message_id"] == str(asked.id)
    assert_everything_quiet(standin)


async def test_a_mention_of_another_role_is_not_a_question(standin: DiscordStandin, start_bot: StartBot):
    others = standin.world.add_role("Desk fans", 0, mentionable=True)
    async with asyncio.timeout(60), start_bot():
        await standin.send_message(f"{others.mention} {NATO_JAPAN}")
        direct = await standin.send_message(f"{standin.bot.mention} {NATO_JAPAN}")
        await standin.wait_for_bot_message(timeout=20)
    (only,) = standin.bot_messages()  # messages are handled in order: the first one was passed over
    assert only.message_reference is not None and only.message_reference["message_id"] == str(direct.id)


@pytest.mark.parametrize("standin_config", [StandinConfig(role_mention_shows_content=False)])
async def test_a_role_mention_that_arrives_without_its_text_gets_a_hint(
    standin: DiscordStandin, start_bot: StartBot
):
    async with asyncio.timeout(60), start_bot():
        await standin.send_message(f"{standin.world.bot_role.mention} {NATO_JAPAN}")
        hint = await standin.wait_for_bot_message(timeout=20)
    assert hint.content == EN("mention.no_text", bot="Foreign Desk")
    assert_everything_quiet(standin)
