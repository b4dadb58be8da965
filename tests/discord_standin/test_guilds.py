"""Several guilds: joining and leaving, per-guild members and permissions, and Discord's answers
for channels that are gone (10003) or out of reach (50001, 50013)."""

from __future__ import annotations

import asyncio
from typing import Any

import discord
import pytest
from discord.ext import commands

from .server import DiscordStandin
from .world import Overwrite, Perm, TeamMember


class GuildWatcher(discord.Client):
    """Records the guild events discord.py turns GUILD_CREATE / GUILD_DELETE into."""

    def __init__(self, client_options: dict[str, Any]) -> None:
        super().__init__(intents=discord.Intents.default(), **client_options)
        self.joined: list[int] = []
        self.removed: list[int] = []
        self.channels_deleted: list[int] = []
        self.interactions: list[discord.Interaction] = []

    async def on_guild_join(self, guild: discord.Guild) -> None:
        self.joined.append(guild.id)

    async def on_guild_remove(self, guild: discord.Guild) -> None:
        self.removed.append(guild.id)

    async def on_guild_channel_delete(self, channel: discord.abc.GuildChannel) -> None:
        self.channels_deleted.append(channel.id)

    async def on_interaction(self, interaction: discord.Interaction) -> None:
        self.interactions.append(interaction)
        await interaction.response.send_message("seen", ephemeral=True)


async def test_the_bot_sees_every_guild_and_each_has_its_own_members(
    standin: DiscordStandin, client_options: dict[str, Any]
):
    world = standin.world
    second, third = world.add_guild("Second"), world.add_guild("Third")
    manager = world.add_user("bo.manager", guild=second, roles=[second.manager_role])  # type: ignore[list-item]
    world.add_member(standin.user, second)
    client = GuildWatcher(client_options)
    async with asyncio.timeout(15), standin.run_client(client):
        assert {g.id for g in client.guilds} == {standin.guild.id, second.id, third.id}
        assert client.get_guild(third.id).get_channel(third.general.id) is not None  # type: ignore[union-attr]
        ix = await standin.send_slash_command("ping", user=manager, channel=second.general)
        await ix.wait_for_callback()
        ix2 = await standin.send_slash_command("ping", user=standin.user, channel=second.general)
        await ix2.wait_for_callback()
        with pytest.raises(Exception, match="not a member of Third"):
            await standin.send_slash_command("ping", user=manager, channel=third.general)
    got = {i.user.id: i for i in client.interactions}
    assert {i.guild_id for i in client.interactions} == {second.id}
    assert got[manager.id].permissions.manage_guild and not got[standin.user.id].permissions.manage_guild
    assert ix.payload["guild_id"] == str(second.id) and ix.payload["member"]["user"]["id"] == str(manager.id)


async def test_joining_and_leaving_a_guild(standin: DiscordStandin, client_options: dict[str, Any]):
    client = GuildWatcher(client_options)
    async with asyncio.timeout(15), standin.run_client(client):
        joined = await standin.add_guild("Newcomer")
        await standin.wait_until(lambda: client.joined, what="on_guild_join")
        assert client.joined == [joined.id] and client.get_guild(joined.id) is not None
        channel = client.get_channel(joined.general.id)
        assert isinstance(channel, discord.TextChannel)
        await channel.send("hello")

        await standin.remove_bot_from_guild(joined)
        await standin.wait_until(lambda: client.removed, what="on_guild_remove")
        assert client.removed == [joined.id] and client.get_guild(joined.id) is None
        with pytest.raises(discord.Forbidden) as lost:
            await channel.send("still there?")
        with pytest.raises(discord.Forbidden):
            await client.fetch_guild(joined.id)
    assert lost.value.code == 50001 and lost.value.status == 403
    assert [m.content for m in standin.bot_messages(joined.general)] == ["hello"]


async def test_channels_gone_or_out_of_reach_answer_like_discord(
    standin: DiscordStandin, client_options: dict[str, Any]
):
    world = standin.world
    hidden = world.add_text_channel(
        "staff", overwrites=[Overwrite(world.guild.id, 0, deny=int(Perm.VIEW_CHANNEL))]
    )
    no_embeds = world.add_text_channel(
        "plain", overwrites=[Overwrite(world.bot_role.id, 0, deny=int(Perm.EMBED_LINKS))]
    )
    doomed = world.add_text_channel("doomed")
    client = GuildWatcher(client_options)
    card = discord.Embed(title="A card")
    async with asyncio.timeout(15), standin.run_client(client):
        codes = {}
        for channel, kwargs in (
            (hidden, {"content": "x"}),
            (standin.announcements, {"content": "x"}),
            (no_embeds, {"embed": card}),
        ):
            with pytest.raises(discord.HTTPException) as caught:
                await client.get_partial_messageable(channel.id).send(**kwargs)
            codes[channel.name] = (caught.value.status, caught.value.code)
        sent = await client.get_partial_messageable(no_embeds.id).send("text survives", embed=card)
        await standin.delete_channel(doomed)
        await standin.wait_until(lambda: client.channels_deleted, what="on_guild_channel_delete")
        with pytest.raises(discord.NotFound) as gone:
            await client.get_partial_messageable(doomed.id).send("anyone?")
    assert codes == {"staff": (403, 50001), "announcements": (403, 50013), "plain": (403, 50013)}
    assert sent.content == "text survives" and sent.embeds == []  # Discord drops embeds without Embed Links
    assert (gone.value.status, gone.value.code) == (404, 10003)
    assert client.channels_deleted == [doomed.id]


async def test_a_thread_has_its_parents_permissions_and_posting_takes_send_in_threads(
    standin: DiscordStandin, client_options: dict[str, Any]
):
    world = standin.world
    parent = world.add_text_channel(
        "no-threads", overwrites=[Overwrite(world.guild.id, 0, deny=int(Perm.SEND_MESSAGES_IN_THREADS))]
    )
    closed, talk = world.add_thread("closed", parent), world.add_thread("talk", world.general)
    client = GuildWatcher(client_options)
    async with asyncio.timeout(15), standin.run_client(client):
        seen = client.get_channel(talk.id)
        with pytest.raises(discord.Forbidden) as refused:
            await client.get_partial_messageable(closed.id).send("x")
        sent = await client.get_partial_messageable(talk.id).send("in the thread")
    assert isinstance(seen, discord.Thread) and seen.parent == client.get_channel(world.general.id)
    assert refused.value.code == 50013 and sent.channel.id == talk.id


@pytest.mark.parametrize("team", [False, True], ids=["owner", "team"])
async def test_application_info_names_the_owner_or_the_team(
    standin: DiscordStandin, client_options: dict[str, Any], team: bool
):
    world = standin.world
    dev, viewer, invited = (world.add_user(n, in_guild=False) for n in ("dev.one", "view.er", "in.vited"))
    if team:
        world.team = [
            TeamMember(standin.owner, "admin"),
            TeamMember(dev, "developer"),
            TeamMember(viewer, "read_only"),
            TeamMember(invited, "developer", accepted=False),
        ]
    client = commands.Bot(command_prefix="!", intents=discord.Intents.none(), **client_options)
    async with asyncio.timeout(15), standin.run_client(client):
        info = await client.application_info()
        owners = {u.id for u in (standin.owner, dev, viewer) if await client.is_owner(u)}  # type: ignore[arg-type]
    if team:
        assert info.team is not None and {m.id for m in info.team.members} == {
            standin.owner.id,
            dev.id,
            viewer.id,
            invited.id,
        }
        assert owners == {standin.owner.id, dev.id}  # discord.py counts admins and developers
    else:
        assert info.team is None and info.owner.id == standin.owner.id and owners == {standin.owner.id}
