"""Threads as Discord answers a bot in them: private ones seen by their members and moderators,
locked ones closed to the bot, archived ones unarchived by a message, deleted ones announced."""

from __future__ import annotations

import asyncio
from typing import Any

import discord
import pytest

from .server import DiscordStandin
from .world import Perm


class ThreadWatcher(discord.Client):
    """Records the thread events discord.py turns THREAD_UPDATE / THREAD_DELETE into."""

    def __init__(self, client_options: dict[str, Any]) -> None:
        super().__init__(intents=discord.Intents.default(), **client_options)
        self.updated: list[tuple[int, bool]] = []
        self.deleted: list[int] = []

    async def on_raw_thread_update(self, payload: discord.RawThreadUpdateEvent) -> None:
        self.updated.append((payload.thread_id, bool(payload.data["thread_metadata"]["archived"])))

    async def on_raw_thread_delete(self, payload: discord.RawThreadDeleteEvent) -> None:
        self.deleted.append(payload.thread_id)


async def test_a_private_thread_is_the_bots_only_when_it_was_added_or_moderates(
    standin: DiscordStandin, client_options: dict[str, Any]
):
    world = standin.world
    mods = world.add_role("Thread mods", int(Perm.MANAGE_THREADS))
    outside = world.add_thread("secret", world.general, private=True, members=[world.owner])
    inside = world.add_thread("with the bot", world.general, private=True, members=[world.bot])
    client = ThreadWatcher(client_options)
    async with asyncio.timeout(15), standin.run_client(client):
        guild = client.get_guild(world.guild.id)
        assert guild is not None
        known = {t.id: t for t in guild.threads}
        with pytest.raises(discord.Forbidden) as hidden:
            await client.get_partial_messageable(outside.id).send("x")
        sent = await client.get_partial_messageable(inside.id).send("in the private thread")
        me = await known[inside.id].fetch_member(world.bot.id)
        with pytest.raises(discord.NotFound) as stranger:
            await known[inside.id].fetch_member(world.user.id)
        world.guild.members[world.bot.id].role_ids.append(mods.id)  # a moderator sees every thread
        moderated = await client.get_partial_messageable(outside.id).send("as a moderator")
    assert set(known) == {inside.id} and known[inside.id].me is not None  # GUILD_CREATE: what it sees
    assert known[inside.id].type is discord.ChannelType.private_thread
    assert (hidden.value.status, hidden.value.code) == (403, 50001)
    assert sent.channel.id == inside.id and me.id == world.bot.id
    assert (stranger.value.status, stranger.value.code) == (404, 10007)
    assert moderated.channel.id == outside.id


async def test_a_locked_thread_refuses_the_bot_and_an_archived_one_is_reopened_by_a_message(
    standin: DiscordStandin, client_options: dict[str, Any]
):
    world = standin.world
    talk = world.add_thread("talk", world.general)
    client = ThreadWatcher(client_options)
    async with asyncio.timeout(15), standin.run_client(client):
        talk.archived = True  # auto-archived after a day without messages
        await standin.update_thread(talk)
        await standin.wait_until(lambda: client.updated, what="THREAD_UPDATE")
        assert client.get_channel(talk.id) is None  # discord.py forgets archived threads
        reopened = await client.get_partial_messageable(talk.id).send("still here")
        await standin.wait_until(lambda: len(client.updated) == 2, what="the unarchiving THREAD_UPDATE")
        talk.archived = talk.locked = True  # a moderator closed and locked it
        await standin.update_thread(talk)
        with pytest.raises(discord.HTTPException) as locked:
            await client.get_partial_messageable(talk.id).send("anyone?")
        talk.archived = False  # locked, open: still only moderators post
        with pytest.raises(discord.HTTPException) as still_locked:
            await client.get_partial_messageable(talk.id).send("anyone?")
    assert reopened.channel.id == talk.id and client.updated[:2] == [(talk.id, True), (talk.id, False)]
    for refused in (locked, still_locked):
        answer = (refused.value.status, refused.value.code, refused.value.text)
        assert answer == (400, 50083, "Thread is archived")


async def test_a_deleted_thread_is_announced_and_a_deleted_channel_takes_its_threads(
    standin: DiscordStandin, client_options: dict[str, Any]
):
    world = standin.world
    desk = world.add_text_channel("desk")
    doomed, orphan = world.add_thread("doomed", world.general), world.add_thread("orphan", desk)
    unseen = world.add_thread("unseen", world.general, private=True, members=[world.owner])
    client = ThreadWatcher(client_options)
    async with asyncio.timeout(15), standin.run_client(client):
        await standin.delete_channel(unseen)  # the bot never saw it: no event
        await standin.delete_channel(doomed)
        await standin.wait_until(lambda: client.deleted, what="THREAD_DELETE")
        await standin.delete_channel(desk)  # CHANNEL_DELETE; discord.py deletes its known threads
        await standin.wait_until(lambda: len(client.deleted) == 2, what="the parent's thread deleted")
        with pytest.raises(discord.NotFound) as gone:
            await client.get_partial_messageable(orphan.id).send("x")
    assert client.deleted == [doomed.id, orphan.id]
    assert (gone.value.status, gone.value.code) == (404, 10003)
