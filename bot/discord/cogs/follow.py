"""/follow, /unfollow and /following: a channel follows topics, and new articles about them are
posted there (by the alert loop, ``alerts``) as they are indexed.

Following and unfollowing need Manage Channels in the channel (or a configured admin): Discord
hides the two commands from other members (``default_permissions``), and the check is made again
at run time because server owners can change who sees a command. /follow also checks that the
bot itself may post (with embeds) in the channel, so that a follow never fails silently: in a
thread, that it is not locked and, if private, that the bot was added to it. A server follows at
most ``max_follows_per_server`` topics across its channels, each channel ``max_follows_per_channel``.
/following also lists, for a week, the follows the bot stopped itself (a channel deleted or
closed to it, a thread locked: ``alerts``; the bot removed: ``servers``), each with why.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands
from foreign_desk.index.feeds.follows import (
    MAX_TOPIC_CHARS,
    AlreadyFollowed,
    NotFollowed,
    TooManyFollows,
    TooManyServerFollows,
)
from foreign_desk.index.models import ArticleSummary
from foreign_desk.index.text import caseless

from ..errors import Refusal
from ..i18n import for_interaction
from ..limits import CHOICE_MAX, CHOICES_MAX, escape, has_words, plain_words
from ..permissions import (
    bot_can_post,
    bot_in_thread,
    bot_is_member,
    can_manage_follows,
    can_manage_server_follows,
    thread_locked,
)
from ..reach import in_servers
from ..render_feeds import followed_text, following_embed, recent_embed, unfollowed_text
from ..replies import NO_PINGS, defer_private, defer_public
from ..scopes import scope_of
from ..translator import L

if TYPE_CHECKING:
    from ..client import ForeignDeskBot

log = logging.getLogger(__name__)

TOPIC_MAX = 100
"""Longest topic: short phrases match best, and an autocomplete choice's value holds 100 characters."""
RECENT_SHOWN = 3


class FollowCog(commands.Cog):
    def __init__(self, bot: ForeignDeskBot) -> None:
        self.bot = bot

    def _check_manager(self, interaction: discord.Interaction) -> None:
        if interaction.guild_id is None:
            raise Refusal("follow.server_only")
        if not can_manage_follows(interaction, self.bot.bot_settings):
            raise Refusal("follow.not_manager")

    @property
    def gap_s(self) -> float:
        return float(self.bot.settings.feeds.digest_gap_s)

    @app_commands.command(name=L("command.follow.name"), description=L("command.follow.description"))
    @app_commands.default_permissions(manage_channels=True)
    @in_servers
    @app_commands.rename(topic=L("command.follow.topic.name"))
    @app_commands.describe(topic=L("command.follow.topic.description"))
    async def follow(
        self, interaction: discord.Interaction, topic: app_commands.Range[str, 2, TOPIC_MAX]
    ) -> None:
        """Post new articles about a topic in this channel as they are indexed."""
        self._check_manager(interaction)
        topic = plain_words(topic)  # "\u200b\u200b" would follow nothing visible, forever
        if not has_words(topic):
            raise Refusal("follow.empty")
        self.bot.desk.check_topic(topic)
        wanted = caseless(topic)
        if not bot_is_member(interaction):
            raise Refusal("error.bot_absent")
        if thread_locked(interaction):
            raise Refusal("follow.thread_locked")
        if not bot_can_post(interaction):
            raise Refusal("follow.cannot_post")
        channel_id = interaction.channel_id
        assert channel_id is not None
        thread = interaction.channel if isinstance(interaction.channel, discord.Thread) else None
        parent_id = thread.parent_id if thread is not None else None  # its follows go with it
        # Acknowledged before the store: its connection may be waiting for the write lock (this
        # process's alerts or polling while a fetch commits), past Discord's 3 seconds.
        await defer_public(interaction)
        if not await bot_in_thread(interaction):
            raise Refusal("follow.private_thread")
        feeds = self.bot.feeds
        followed = await feeds.following(channel_id)
        same = next((f for f in followed if caseless(f.topic) == wanted), None)
        if same is not None:
            raise Refusal("follow.already", topic=escape(same.topic))
        limit = self.bot.bot_settings.max_follows_per_channel
        if len(followed) >= limit:
            raise Refusal("follow.too_many", n=limit)
        try:
            follow = await feeds.follow(
                channel_id,
                topic,
                guild_id=interaction.guild_id,
                created_by=interaction.user.id,
                locale=str(interaction.guild_locale) if interaction.guild_locale else None,
                limit=limit,
                server_limit=self.bot.bot_settings.max_follows_per_server,
                parent_id=parent_id,
            )
        except AlreadyFollowed as exc:  # followed meanwhile (another task or process)
            raise Refusal("follow.already", topic=escape(exc.topic)) from None
        except TooManyServerFollows as exc:
            raise Refusal("follow.too_many_server", n=exc.limit) from None
        except TooManyFollows:
            raise Refusal("follow.too_many", n=limit) from None
        log.info("channel %s follows %r (user %s)", channel_id, follow.topic, interaction.user.id)
        recent, busy = await self._recent(follow.topic, interaction)
        tx = for_interaction(interaction)
        embed = recent_embed(recent, follow.topic, tx) if recent else None
        await interaction.edit_original_response(
            content=followed_text(follow.topic, self.gap_s, bool(recent) or busy, tx),
            embed=embed,
            allowed_mentions=NO_PINGS,
        )

    async def _recent(
        self, topic: str, interaction: discord.Interaction
    ) -> tuple[list[ArticleSummary], bool]:
        """The recent articles about a topic just followed, and whether the search slots stayed
        busy past the timeout: a search like a question's, in a slot (``Desk.latest``), so that
        following and unfollowing in a loop runs no more searches than the bound. The follow is
        made either way; only its listing is left out."""
        try:
            return await self.bot.desk.latest(RECENT_SHOWN, topic=topic, scope=scope_of(interaction)), False
        except Refusal as refusal:
            if refusal.key != "ask.busy":
                raise
            return [], True

    @app_commands.command(name=L("command.unfollow.name"), description=L("command.unfollow.description"))
    @app_commands.default_permissions(manage_channels=True)
    @in_servers
    @app_commands.rename(topic=L("command.unfollow.topic.name"))
    @app_commands.describe(topic=L("command.unfollow.topic.description"))
    async def unfollow(
        self, interaction: discord.Interaction, topic: app_commands.Range[str, 1, MAX_TOPIC_CHARS]
    ) -> None:
        """Stop posting articles about a topic in this channel."""
        self._check_manager(interaction)
        assert interaction.channel_id is not None
        await defer_public(interaction)  # the delete waits for the write lock another process may hold
        try:
            follow = await self.bot.feeds.unfollow(interaction.channel_id, topic)
        except NotFollowed as exc:
            raise Refusal("follow.not_followed", topic=escape(exc.topic)) from None
        log.info("channel %s unfollows %r (user %s)", follow.channel_id, follow.topic, interaction.user.id)
        text = unfollowed_text(follow, for_interaction(interaction))
        await interaction.edit_original_response(content=text, allowed_mentions=NO_PINGS)

    @unfollow.autocomplete("topic")
    async def _topics(self, interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
        if interaction.channel_id is None:
            return []
        typed = current.strip().casefold()
        topics = [f.topic for f in await self.bot.feeds.following(interaction.channel_id)]
        found = [t for t in topics if typed in t.casefold() and len(t) <= CHOICE_MAX]
        found.sort(key=lambda t: not t.casefold().startswith(typed))
        return [app_commands.Choice(name=t, value=t) for t in found][:CHOICES_MAX]

    @app_commands.command(name=L("command.following.name"), description=L("command.following.description"))
    @in_servers
    @app_commands.rename(server=L("command.following.server.name"))
    @app_commands.describe(server=L("command.following.server.description"))
    async def following(self, interaction: discord.Interaction, server: bool = False) -> None:
        """The topics this channel follows (who added each, since when). The follows the bot
        stopped in its threads, and the alerts it gave up on there, only to members who may manage
        threads: they alone see every private thread (the thread is often gone, Discord no longer
        says whether it was one)."""
        if server and not can_manage_server_follows(interaction, self.bot.bot_settings):
            raise Refusal("following.not_manager")
        await defer_private(interaction)
        feeds = self.bot.feeds
        where = {"guild_id": interaction.guild_id} if server else {"channel_id": interaction.channel_id}
        follows = await feeds.following(**where)
        dropped = await feeds.dropped_follows(**where)
        undelivered = await feeds.undelivered_alerts(**where)
        if not server and not interaction.permissions.manage_threads:
            # Its threads' may be private ones': those who see every thread (Manage Threads) are told.
            dropped = [d for d in dropped if d.channel_id == interaction.channel_id]
            undelivered = [u for u in undelivered if u.channel_id == interaction.channel_id]
        embed = following_embed(
            follows,
            server=server,
            gap_s=self.gap_s,
            tx=for_interaction(interaction),
            dropped=dropped,
            here=interaction.channel_id,
            undelivered=undelivered,
        )
        await interaction.edit_original_response(embed=embed, allowed_mentions=NO_PINGS)
        if isinstance(interaction.channel, discord.Thread):
            await self._learn([interaction.channel])

    @commands.Cog.listener()
    async def on_guild_available(self, guild: discord.Guild) -> None:
        """The active threads a server's READY lists: those followed before ``parent_id`` was
        kept learn their channel, so that deleting it stops their follows even once archived."""
        await self._learn(guild.threads)

    @commands.Cog.listener()
    async def on_thread_join(self, thread: discord.Thread) -> None:
        """A thread discord.py did not know (an archived one an alert just reopened): as above."""
        await self._learn([thread])

    async def _learn(self, threads: Sequence[discord.Thread]) -> None:
        if threads:
            await self.bot.feeds.learn_parents({t.id: t.parent_id for t in threads})

    @commands.Cog.listener()
    async def on_guild_channel_delete(self, channel: discord.abc.GuildChannel) -> None:
        """A deleted channel follows nothing any more, nor do its threads: archived ones too, which
        discord.py does not know (those it knows come as ``on_raw_thread_delete`` as well; a
        thread's follow made before ``parent_id`` was kept stops at its next alert, 10003, unless
        the bot has met the thread since: ``_learn``)."""
        await self._deleted(channel.id, "channel")

    @commands.Cog.listener()
    async def on_raw_thread_delete(self, payload: discord.RawThreadDeleteEvent) -> None:
        """A deleted thread follows nothing any more: raw, for threads not in the cache too (an
        archived one is not)."""
        await self._deleted(payload.thread_id, "thread")

    async def _deleted(self, channel_id: int, kind: str) -> None:
        for follow in await self.bot.feeds.drop_follows("deleted", channel_id=channel_id):
            where = kind if follow.channel_id == channel_id else "thread"  # a thread of the channel
            log.info("%s %s was deleted: unfollowed %r", where, follow.channel_id, follow.topic)
