"""MESSAGE_CREATE → on_message → channel.send, validation errors and allowed_mentions."""

from __future__ import annotations

import asyncio
import io
from typing import Any

import discord
import pytest

from .server import DiscordStandin


class EchoBot(discord.Client):
    """Replies to messages that mention it or arrive in a DM; a throwaway test bot."""

    def __init__(self, client_options: dict[str, Any], **kwargs: Any) -> None:
        intents = discord.Intents.default()
        super().__init__(intents=intents, **client_options, **kwargs)
        self.received: list[discord.Message] = []
        self.errors: list[Exception] = []
        self.outgoing: str | None = None  # overrides the reply text

    async def on_message(self, message: discord.Message) -> None:
        if message.author.bot:
            return
        self.received.append(message)
        if self.user not in message.mentions and message.guild is not None:
            return
        text = self.outgoing if self.outgoing is not None else f"echo: {message.clean_content}"
        try:
            if message.guild is None:
                await message.channel.send(text)
            else:
                await message.channel.send(text, reference=message)
        except discord.HTTPException as exc:
            self.errors.append(exc)


async def test_message_create_reaches_on_message_and_the_bot_replies(
    standin: DiscordStandin, client_options: dict[str, Any]
):
    bot = EchoBot(client_options)
    async with asyncio.timeout(15), standin.run_client(bot):
        sent = await standin.send_message(f"{standin.bot.mention} what is new in Geneva?")
        reply = await standin.wait_for_bot_message(channel=standin.general)
        # Without the MESSAGE_CONTENT intent the bot still sees messages that mention it...
        quiet = await standin.send_message("no mention here")
        await standin.wait_until(lambda: len(bot.received) == 2, what="the second MESSAGE_CREATE")

    first, second = bot.received
    assert first.id == sent.id and first.author.id == standin.user.id and first.guild is not None
    assert reply.content == "echo: @Foreign Desk what is new in Geneva?"
    assert reply.message_reference is not None and reply.message_reference["message_id"] == str(sent.id)
    # ...but other users' messages arrive with empty content, as on Discord.
    assert second.id == quiet.id and second.content == ""
    assert standin.bot_messages() == [reply]


async def test_direct_messages(standin: DiscordStandin, client_options: dict[str, Any]):
    bot = EchoBot(client_options)
    async with asyncio.timeout(15), standin.run_client(bot):
        await standin.send_message("hello in private", dm=True)
        reply = await standin.wait_for_bot_message()
        user = await bot.fetch_user(standin.admin.id)
        await user.send("a DM the bot starts")  # POST /users/@me/channels, then a message
        started = await standin.wait_for_bot_message(lambda m: m.content == "a DM the bot starts")

    assert bot.received[0].guild is None and isinstance(bot.received[0].channel, discord.DMChannel)
    assert reply.content == "echo: hello in private" and reply.guild_id is None
    assert reply.channel_id == standin.world.dm_channel(standin.user).id
    assert started.channel_id == standin.world.dm_channel(standin.admin).id


async def test_over_long_message_is_rejected_with_invalid_form_body(
    standin: DiscordStandin, client_options: dict[str, Any]
):
    bot = EchoBot(client_options)
    bot.outgoing = "x" * 2001
    async with asyncio.timeout(15), standin.run_client(bot):
        await standin.send_message(f"{standin.bot.mention} say a lot")
        await standin.wait_until(lambda: bot.errors, what="the bot's HTTPException")

    (error,) = bot.errors
    assert isinstance(error, discord.HTTPException) and error.status == 400 and error.code == 50035
    assert "content" in error.text and "Must be 2000 or fewer in length." in error.text
    assert standin.bot_messages() == []
    assert (
        standin.error_responses()[0].response["errors"]["content"]["_errors"][0]["code"]
        == "BASE_TYPE_MAX_LENGTH"
    )


async def test_sending_where_the_bot_may_not_is_forbidden(
    standin: DiscordStandin, client_options: dict[str, Any]
):
    bot = EchoBot(client_options)
    async with asyncio.timeout(15), standin.run_client(bot):
        channel = bot.get_channel(standin.announcements.id)
        assert isinstance(channel, discord.TextChannel)
        with pytest.raises(discord.Forbidden) as caught:
            await channel.send("breaking news")
    assert caught.value.code == 50013


@pytest.mark.parametrize(
    ("allowed_mentions", "expect_ping"),
    [
        (None, True),
        (discord.AllowedMentions.none(), False),
        # AllowedMentions' defaults are all True; spell out what may ping.
        (discord.AllowedMentions(everyone=False, roles=False, users=True, replied_user=False), True),
    ],
    ids=["absent-pings-everything", "none", "users-only"],
)
async def test_allowed_mentions_are_recorded_and_judged(
    standin: DiscordStandin,
    client_options: dict[str, Any],
    allowed_mentions: discord.AllowedMentions | None,
    expect_ping: bool,
):
    options = {} if allowed_mentions is None else {"allowed_mentions": allowed_mentions}
    bot = EchoBot(client_options, **options)
    bot.outgoing = f"cc <@{standin.admin.id}> @everyone <@&{standin.world.admin_role.id}>"
    async with asyncio.timeout(15), standin.run_client(bot):
        await standin.send_message(f"{standin.bot.mention} ping people")
        reply = await standin.wait_for_bot_message()

    (request,) = standin.message_requests()
    assert bool(request.pings) is expect_ping and bool(reply.pings) is expect_ping
    if allowed_mentions is None:
        assert request.allowed_mentions is None
        assert request.pings.everyone and request.pings.roles == {standin.world.admin_role.id}
        with pytest.raises(AssertionError, match="would have pinged"):
            standin.assert_no_pings()
    elif not expect_ping:
        assert request.mentions_suppressed and request.allowed_mentions == {"parse": []}
        standin.assert_no_pings()
    else:
        assert request.pings.users == {standin.admin.id} and not request.pings.everyone
        assert not request.pings.roles and not request.pings.replied_user


async def test_typing_edit_delete_and_file_upload(standin: DiscordStandin, client_options: dict[str, Any]):
    bot = EchoBot(client_options)
    async with asyncio.timeout(15), standin.run_client(bot):
        channel = bot.get_channel(standin.general.id)
        assert isinstance(channel, discord.TextChannel)
        async with channel.typing():
            sent = await channel.send("draft", file=discord.File(io.BytesIO(b"a,b\n1,2\n"), "table.csv"))
        await sent.edit(content="final", attachments=[])
        await sent.delete()

    upload = next(
        r for r in standin.requests if r.method == "POST" and r.route == "/channels/{channel_id}/messages"
    )
    assert upload.json["content"] == "draft" and upload.files[0][:3] == ("files[0]", "table.csv", 8)
    stored = standin.message(sent.id)
    assert [r.method for r in standin.requests[2:]] == ["POST", "POST", "PATCH", "DELETE"]
    assert stored.deleted and stored.content == "final" and stored.attachments == []
    assert stored.revisions[0]["attachments"][0]["filename"] == "table.csv" and stored.edited_timestamp
    session = standin.gateway.current
    assert session is not None
    events = [e["t"] for e in session.log]
    assert events[-3:] == ["MESSAGE_CREATE", "MESSAGE_UPDATE", "MESSAGE_DELETE"]
