"""The stand-in's little universe: one application, its bot user, guilds, channels, roles, users.

Everything here is plain data plus the JSON shapes Discord sends for it (user, member, role,
channel, guild objects) and Discord's permission algorithm, so the stand-in can answer
`app_permissions`, `member.permissions`, 50001 Missing Access and 50013 Missing Permissions the
way Discord does. Several guilds: `World.guild` is the first, `add_guild` makes more; a guild
whose members no longer include the bot is one it was removed from (its channels answer 50001).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any

from .snowflakes import SnowflakeFactory, iso_now


class Perm(enum.IntFlag):
    """The permission bits the stand-in reasons about (values from Discord's docs)."""

    CREATE_INSTANT_INVITE = 1 << 0
    KICK_MEMBERS = 1 << 1
    BAN_MEMBERS = 1 << 2
    ADMINISTRATOR = 1 << 3
    MANAGE_CHANNELS = 1 << 4
    MANAGE_GUILD = 1 << 5
    ADD_REACTIONS = 1 << 6
    VIEW_CHANNEL = 1 << 10
    SEND_MESSAGES = 1 << 11
    MANAGE_MESSAGES = 1 << 13
    EMBED_LINKS = 1 << 14
    ATTACH_FILES = 1 << 15
    READ_MESSAGE_HISTORY = 1 << 16
    MENTION_EVERYONE = 1 << 17
    USE_EXTERNAL_EMOJIS = 1 << 18
    MANAGE_ROLES = 1 << 28
    USE_APPLICATION_COMMANDS = 1 << 31
    MANAGE_THREADS = 1 << 34
    SEND_MESSAGES_IN_THREADS = 1 << 38


ALL_PERMISSIONS = (1 << 51) - 1
EVERYONE_DEFAULT = (
    Perm.VIEW_CHANNEL
    | Perm.SEND_MESSAGES
    | Perm.READ_MESSAGE_HISTORY
    | Perm.ADD_REACTIONS
    | Perm.EMBED_LINKS
    | Perm.ATTACH_FILES
    | Perm.USE_EXTERNAL_EMOJIS
    | Perm.USE_APPLICATION_COMMANDS
    | Perm.SEND_MESSAGES_IN_THREADS
    | Perm.CREATE_INSTANT_INVITE
)
# Discord's note on `app_permissions` for a DM with the app's bot user.
BOT_DM_APP_PERMISSIONS = (
    Perm.VIEW_CHANNEL
    | Perm.SEND_MESSAGES
    | Perm.READ_MESSAGE_HISTORY
    | Perm.ATTACH_FILES
    | Perm.EMBED_LINKS
    | Perm.MENTION_EVERYONE
    | Perm.USE_EXTERNAL_EMOJIS
)


def shard_of(guild_id: int, shard_count: int) -> int:
    """`(guild_id >> 22) % shard_count`: which shard gets a guild's events (DMs go to shard 0)."""
    return (guild_id >> 22) % max(1, shard_count)


# What Discord grants a user-installed app where its bot is not present (a group DM of users).
USER_APP_PERMISSIONS = Perm.EMBED_LINKS | Perm.ATTACH_FILES | Perm.MENTION_EVERYONE | Perm.USE_EXTERNAL_EMOJIS


class ChannelType(enum.IntEnum):
    GUILD_TEXT = 0
    DM = 1
    GROUP_DM = 3
    GUILD_VOICE = 2
    GUILD_CATEGORY = 4
    PUBLIC_THREAD = 11
    PRIVATE_THREAD = 12


@dataclass
class User:
    id: int
    username: str
    global_name: str | None = None
    bot: bool = False

    @property
    def mention(self) -> str:
        return f"<@{self.id}>"

    def payload(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": str(self.id),
            "username": self.username,
            "discriminator": "0",
            "global_name": self.global_name,
            "avatar": None,
            "public_flags": 0,
            "flags": 0,
            "banner": None,
            "accent_color": None,
            "avatar_decoration_data": None,
            "collectibles": None,
            "primary_guild": None,
        }
        if self.bot:
            data["bot"] = True
        return data


@dataclass
class Role:
    id: int
    name: str
    permissions: int
    position: int = 0
    mentionable: bool = False
    managed: bool = False
    bot_id: int | None = None

    @property
    def mention(self) -> str:
        return f"<@&{self.id}>"

    def payload(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": str(self.id),
            "name": self.name,
            "color": 0,
            "colors": {"primary_color": 0, "secondary_color": None, "tertiary_color": None},
            "hoist": False,
            "icon": None,
            "unicode_emoji": None,
            "position": self.position,
            "permissions": str(self.permissions),
            "managed": self.managed,
            "mentionable": self.mentionable,
            "flags": 0,
        }
        if self.bot_id is not None:
            data["tags"] = {"bot_id": str(self.bot_id)}
        return data


@dataclass
class Overwrite:
    """A channel permission overwrite; `type` 0 is a role, 1 a member."""

    id: int
    type: int
    allow: int = 0
    deny: int = 0

    def payload(self) -> dict[str, Any]:
        return {"id": str(self.id), "type": self.type, "allow": str(self.allow), "deny": str(self.deny)}


@dataclass
class Channel:
    id: int
    name: str
    type: ChannelType = ChannelType.GUILD_TEXT
    guild_id: int | None = None
    position: int = 0
    topic: str | None = None
    overwrites: list[Overwrite] = field(default_factory=list)
    recipient_ids: list[int] = field(default_factory=list)
    parent_id: int | None = None
    """A thread's channel."""
    archived: bool = False
    """A thread's `thread_metadata.archived`: a message sent there unarchives it, unless locked."""
    locked: bool = False
    """A thread's `thread_metadata.locked`: only Manage Threads may post or unarchive it."""
    member_ids: list[int] = field(default_factory=list)
    """A thread's members (a private thread is seen only by them and by Manage Threads)."""

    @property
    def mention(self) -> str:
        return f"<#{self.id}>"

    @property
    def is_thread(self) -> bool:
        return self.type in (ChannelType.PUBLIC_THREAD, ChannelType.PRIVATE_THREAD)

    @property
    def is_private_thread(self) -> bool:
        return self.type is ChannelType.PRIVATE_THREAD

    @property
    def send_permission(self) -> Perm:
        """What posting here takes: Send Messages, or in a thread Send Messages in Threads."""
        return Perm.SEND_MESSAGES_IN_THREADS if self.is_thread else Perm.SEND_MESSAGES

    @property
    def is_dm(self) -> bool:
        """A channel outside any guild: a DM with the bot, or a group DM of users."""
        return self.type in (ChannelType.DM, ChannelType.GROUP_DM)

    @property
    def is_private(self) -> bool:
        """A group DM the bot is not in: only a user-installed app is used there."""
        return self.type is ChannelType.GROUP_DM


@dataclass
class Member:
    user: User
    role_ids: list[int] = field(default_factory=list)
    nick: str | None = None
    joined_at: str = field(default_factory=iso_now)

    def payload(self, *, with_user: bool = True) -> dict[str, Any]:
        data: dict[str, Any] = {
            "roles": [str(r) for r in self.role_ids],
            "nick": self.nick,
            "avatar": None,
            "banner": None,
            "joined_at": self.joined_at,
            "premium_since": None,
            "deaf": False,
            "mute": False,
            "pending": False,
            "flags": 0,
            "communication_disabled_until": None,
        }
        if with_user:
            data["user"] = self.user.payload()
        return data


GUILD_CREATE_ONLY = (
    "joined_at",
    "large",
    "unavailable",
    "member_count",
    "voice_states",
    "members",
    "channels",
    "threads",
    "presences",
    "stage_instances",
    "guild_scheduled_events",
    "soundboard_sounds",
)
"""Fields of a GUILD_CREATE `d` that a GUILD_UPDATE leaves out."""


@dataclass
class Guild:
    id: int
    name: str
    owner_id: int
    roles: dict[int, Role] = field(default_factory=dict)
    channels: dict[int, Channel] = field(default_factory=dict)
    members: dict[int, Member] = field(default_factory=dict)
    preferred_locale: str = "en-US"

    @property
    def everyone_role(self) -> Role:
        return self.roles[self.id]

    @property
    def general(self) -> Channel:
        """The guild's first text channel (`general` in the guilds the stand-in builds)."""
        texts = [c for c in self.channels.values() if c.type is ChannelType.GUILD_TEXT]
        return min(texts, key=lambda c: c.position)

    @property
    def manager_role(self) -> Role | None:
        """The first unmanaged role granting Manage Server (`Admin` in the guilds the stand-in builds)."""
        return next(
            (r for r in self.roles.values() if r.permissions & Perm.MANAGE_GUILD and not r.managed), None
        )

    def shard_id(self, shard_count: int) -> int:
        """The shard whose session receives this guild's events (Discord's formula)."""
        return shard_of(self.id, shard_count)

    def base_permissions(self, user_id: int) -> int:
        """Guild-wide permissions of a member: owner, then @everyone | roles, then ADMINISTRATOR.

        0 for someone who is not a member (a bot removed from the guild, for instance)."""
        if user_id == self.owner_id:
            return ALL_PERMISSIONS
        member = self.members.get(user_id)
        if member is None:
            return 0
        perms = self.everyone_role.permissions
        for role_id in member.role_ids:
            perms |= self.roles[role_id].permissions
        if perms & Perm.ADMINISTRATOR:
            return ALL_PERMISSIONS
        return perms

    def can_view(self, user_id: int, channel: Channel) -> bool:
        """View Channel there; a private thread also takes being its member, or Manage Threads
        (Discord: "you must be invited to the thread ... or be a moderator")."""
        perms = self.channel_permissions(user_id, channel)
        if not perms & Perm.VIEW_CHANNEL:
            return False
        if not channel.is_private_thread or user_id in channel.member_ids:
            return True
        return bool(perms & Perm.MANAGE_THREADS)

    def channel_permissions(self, user_id: int, channel: Channel) -> int:
        """Discord's overwrite algorithm: @everyone overwrite, role overwrites, member overwrite;
        a thread has its parent channel's permissions (a private thread's membership is not in
        them: ``can_view``)."""
        if channel.parent_id is not None:
            return self.channel_permissions(user_id, self.channels[channel.parent_id])
        perms = self.base_permissions(user_id)
        if perms == ALL_PERMISSIONS:
            return perms
        by_id = {ow.id: ow for ow in channel.overwrites}
        everyone = by_id.get(self.id)
        if everyone is not None:
            perms = (perms & ~everyone.deny) | everyone.allow
        allow = deny = 0
        for role_id in self.members[user_id].role_ids if user_id in self.members else ():
            ow = by_id.get(role_id)
            if ow is not None and ow.type == 0:
                allow |= ow.allow
                deny |= ow.deny
        perms = (perms & ~deny) | allow
        member_ow = by_id.get(user_id)
        if member_ow is not None and member_ow.type == 1:
            perms = (perms & ~member_ow.deny) | member_ow.allow
        if not perms & Perm.VIEW_CHANNEL:
            return 0
        return perms

    def channel_payload(self, channel: Channel, *, viewer: int | None = None) -> dict[str, Any]:
        """The channel object; a thread's carries ``member`` when ``viewer`` is one of its members."""
        if channel.is_thread:
            return self._thread_payload(channel, viewer)
        return {
            "id": str(channel.id),
            "type": int(channel.type),
            "guild_id": str(self.id),
            "name": channel.name,
            "position": channel.position,
            "permission_overwrites": [ow.payload() for ow in channel.overwrites],
            "parent_id": None,
            "nsfw": False,
            "topic": channel.topic,
            "last_message_id": None,
            "rate_limit_per_user": 0,
            "flags": 0,
        }

    def _thread_payload(self, thread: Channel, viewer: int | None) -> dict[str, Any]:
        """A thread started by the guild's owner, with its archived and locked state."""
        metadata: dict[str, Any] = {
            "archived": thread.archived,
            "auto_archive_duration": 1440,
            "archive_timestamp": iso_now(),
            "locked": thread.locked,
        }
        if thread.is_private_thread:
            metadata["invitable"] = True
        data = {
            "id": str(thread.id),
            "type": int(thread.type),
            "guild_id": str(self.id),
            "parent_id": str(thread.parent_id),
            "owner_id": str(self.owner_id),
            "name": thread.name,
            "last_message_id": None,
            "rate_limit_per_user": 0,
            "message_count": 0,
            "member_count": max(1, len(thread.member_ids)),
            "flags": 0,
            "thread_metadata": metadata,
        }
        if viewer is not None and viewer in thread.member_ids:
            data["member"] = thread_member_payload(thread, viewer)
        return data

    def channels_and_threads(self, viewer: int | None = None) -> tuple[list[Channel], list[Channel]]:
        """The guild's channels, and apart from them its threads: with ``viewer``, as GUILD_CREATE
        lists them to that user (the active threads it can view)."""
        channels = list(self.channels.values())
        threads = [c for c in channels if c.is_thread]
        if viewer is not None:
            threads = [t for t in threads if not t.archived and self.can_view(viewer, t)]
        return [c for c in channels if not c.is_thread], threads

    def payload(
        self, *, members: list[Member], large_threshold: int = 250, viewer: int | None = None
    ) -> dict[str, Any]:
        """A GUILD_CREATE `d`: the guild object plus channels, roles, the given members, and the
        active threads ``viewer`` (the bot) can view."""
        channels, threads = self.channels_and_threads(viewer)
        return {
            "id": str(self.id),
            "name": self.name,
            "icon": None,
            "splash": None,
            "discovery_splash": None,
            "owner_id": str(self.owner_id),
            "afk_channel_id": None,
            "afk_timeout": 300,
            "verification_level": 0,
            "default_message_notifications": 1,
            "explicit_content_filter": 0,
            "roles": [r.payload() for r in self.roles.values()],
            "emojis": [],
            "stickers": [],
            "features": [],
            "mfa_level": 0,
            "application_id": None,
            "system_channel_id": None,
            "system_channel_flags": 0,
            "rules_channel_id": None,
            "vanity_url_code": None,
            "description": None,
            "banner": None,
            "premium_tier": 0,
            "premium_subscription_count": 0,
            "preferred_locale": self.preferred_locale,
            "public_updates_channel_id": None,
            "nsfw_level": 0,
            "premium_progress_bar_enabled": False,
            "joined_at": iso_now(),
            "large": len(self.members) > large_threshold,
            "unavailable": False,
            "member_count": len(self.members),
            "voice_states": [],
            "members": [m.payload() for m in members],
            "channels": [self.channel_payload(c) for c in channels],
            "threads": [self.channel_payload(c, viewer=viewer) for c in threads],
            "presences": [],
            "stage_instances": [],
            "guild_scheduled_events": [],
            "soundboard_sounds": [],
        }


@dataclass
class TeamMember:
    """A member of the team that owns the application; `role` is admin, developer or read_only."""

    user: User
    role: str = "developer"
    accepted: bool = True


@dataclass
class World:
    """All entities the stand-in knows; build one with `World.default()` and extend it freely.

    Attributes used by tests: `application_id`, `bot`, `guild` (the first guild), `guilds` (all,
    by id), `general` (a text channel), `announcements` (a text channel where the bot may not
    send), `admin` (has Manage Guild through the Admin role), `user` (a plain member), `owner`
    (owner of the first guild and of the application unless `team` is set). Changes made after
    the bot received READY are not announced to it over the gateway: use the stand-in's
    `add_guild`, `remove_bot_from_guild`, `delete_channel` (which dispatch the events) for those.
    """

    ids: SnowflakeFactory
    application_id: int
    application_name: str
    bot: User
    owner: User
    admin: User
    user: User
    guild: Guild
    general: Channel
    announcements: Channel
    admin_role: Role
    bot_role: Role
    users: dict[int, User] = field(default_factory=dict)
    dm_channels: dict[int, Channel] = field(default_factory=dict)
    guilds: dict[int, Guild] = field(default_factory=dict)
    team: list[TeamMember] | None = None
    """The team owning the application (GET /oauth2/applications/@me); None: owned by `owner`."""
    private_channels: dict[int, Channel] = field(default_factory=dict)

    @classmethod
    def default(cls, ids: SnowflakeFactory | None = None, *, bot_name: str = "Foreign Desk") -> World:
        ids = ids or SnowflakeFactory()
        app_id = ids()
        bot = User(app_id, bot_name.lower().replace(" ", "-"), bot_name, bot=True)
        owner = User(ids(), "olga.owner", "Olga Owner")
        admin = User(ids(), "ada.admin", "Ada Admin")
        user = User(ids(), "nora.normal", "Nora Normal")
        guild, admin_role, bot_role = _new_guild(ids, "Stand-in Guild", owner, bot)
        general = Channel(ids(), "general", guild_id=guild.id, position=0, topic="General chat")
        announcements = Channel(
            ids(),
            "announcements",
            guild_id=guild.id,
            position=1,
            overwrites=[Overwrite(guild.id, 0, deny=int(Perm.SEND_MESSAGES))],
        )
        guild.channels = {general.id: general, announcements.id: announcements}
        for u, roles in ((admin, [admin_role.id]), (user, [])):
            guild.members[u.id] = Member(u, roles)
        world = cls(
            ids=ids,
            application_id=app_id,
            application_name=bot_name,
            bot=bot,
            owner=owner,
            admin=admin,
            user=user,
            guild=guild,
            general=general,
            announcements=announcements,
            admin_role=admin_role,
            bot_role=bot_role,
        )
        world.users = {u.id: u for u in (bot, owner, admin, user)}
        world.guilds = {guild.id: guild}
        return world

    # -- lookups and mutation ------------------------------------------------------------

    def add_guild(
        self,
        name: str,
        *,
        owner: User | None = None,
        with_bot: bool = True,
        shard: tuple[int, int] | None = None,
    ) -> Guild:
        """A new guild with @everyone, an `Admin` role (Manage Server), the bot's managed role,
        a `general` channel, and `owner` (a new user unless given) as its owner. `shard=(id,
        count)` picks a guild id that shard `id` of `count` receives.

        Made after READY, tell the bot with `DiscordStandin.add_guild` instead (GUILD_CREATE)."""
        if owner is None:
            slug = "".join(ch for ch in name.lower() if ch.isalnum())[:20] or "guild"
            owner = self._new_user(f"{slug}.owner")
        guild_id = self.ids.on_shard(*shard) if shard is not None else self.ids()
        guild, _, _ = _new_guild(self.ids, name, owner, self.bot, with_bot=with_bot, guild_id=guild_id)
        general = Channel(self.ids(), "general", guild_id=guild.id, position=0)
        guild.channels[general.id] = general
        self.guilds[guild.id] = guild
        return guild

    def _new_user(self, username: str) -> User:
        new = User(self.ids(), username, username.replace(".", " ").title())
        self.users[new.id] = new
        return new

    def add_user(
        self,
        username: str,
        *,
        roles: list[Role] | None = None,
        in_guild: bool = True,
        guild: Guild | None = None,
    ) -> User:
        """Create a user (a member of `guild`, default the first, with `roles` unless `in_guild=False`)."""
        new = self._new_user(username)
        if in_guild:
            self.add_member(new, guild or self.guild, roles=roles)
        return new

    def add_member(self, user: User, guild: Guild, *, roles: list[Role] | None = None) -> None:
        """Make an existing user a member of `guild` (an admin of server B, a user in two servers)."""
        guild.members[user.id] = Member(user, [r.id for r in roles or []])

    def add_role(
        self, name: str, permissions: int, *, mentionable: bool = False, guild: Guild | None = None
    ) -> Role:
        guild = guild or self.guild
        role = Role(self.ids(), name, int(permissions), position=len(guild.roles), mentionable=mentionable)
        guild.roles[role.id] = role
        return role

    def add_text_channel(
        self, name: str, *, overwrites: list[Overwrite] | None = None, guild: Guild | None = None
    ) -> Channel:
        guild = guild or self.guild
        channel = Channel(
            self.ids(),
            name,
            guild_id=guild.id,
            position=len(guild.channels),
            overwrites=overwrites or [],
        )
        guild.channels[channel.id] = channel
        return channel

    def add_thread(
        self,
        name: str,
        parent: Channel,
        *,
        private: bool = False,
        members: list[User] | None = None,
        archived: bool = False,
        locked: bool = False,
    ) -> Channel:
        """A thread in ``parent`` (a guild text channel): public, or ``private`` (seen only by
        its ``members`` and by Manage Threads); made after READY, the bot does not know it (no
        THREAD_CREATE is sent). Change ``archived`` / ``locked`` later with
        ``DiscordStandin.update_thread``."""
        kind = ChannelType.PRIVATE_THREAD if private else ChannelType.PUBLIC_THREAD
        thread = Channel(
            self.ids(),
            name,
            kind,
            guild_id=parent.guild_id,
            parent_id=parent.id,
            archived=archived,
            locked=locked,
            member_ids=[u.id for u in members or []],
        )
        guild = self.guild_of(parent)
        assert guild is not None, "threads are in guild channels"
        guild.channels[thread.id] = thread
        return thread

    def dm_channel(self, user: User) -> Channel:
        """The DM channel between the bot and `user`, created on first use (like Discord)."""
        channel = self.dm_channels.get(user.id)
        if channel is None:
            channel = Channel(self.ids(), "", ChannelType.DM, recipient_ids=[user.id])
            self.dm_channels[user.id] = channel
        return channel

    def private_channel(self, *users: User) -> Channel:
        """A group DM of ``users`` without the bot: it gets interactions from there (as a
        user-installed app) but cannot read or post in it (REST answers Missing Access)."""
        channel = Channel(self.ids(), "", ChannelType.GROUP_DM, recipient_ids=[u.id for u in users])
        self.private_channels[channel.id] = channel
        return channel

    def find_channel(self, channel_id: int) -> Channel | None:
        for guild in self.guilds.values():
            found = guild.channels.get(channel_id)
            if found is not None:
                return found
        found = self.private_channels.get(channel_id)
        if found is not None:
            return found
        return next((c for c in self.dm_channels.values() if c.id == channel_id), None)

    def guild_of(self, channel: Channel) -> Guild | None:
        """The guild a channel belongs to (None for a DM)."""
        return self.guilds.get(channel.guild_id) if channel.guild_id is not None else None

    def bot_guilds(self) -> list[Guild]:
        """Guilds the bot is a member of, in creation order."""
        return [g for g in self.guilds.values() if self.bot.id in g.members]

    def channel_payload(self, channel: Channel) -> dict[str, Any]:
        if channel.is_dm:
            return {
                "id": str(channel.id),
                "type": int(channel.type),
                "last_message_id": None,
                "flags": 0,
                "recipients": [self.users[uid].payload() for uid in channel.recipient_ids],
            }
        guild = self.guild_of(channel)
        assert guild is not None
        return guild.channel_payload(channel)

    def application_payload(self, flags: int) -> dict[str, Any]:
        """`GET /oauth2/applications/@me`: owned by `owner`, or by `team` when one is set."""
        owner = self.owner.payload()
        team = None
        if self.team is not None:
            team_id = self.application_id + 1
            owner = {**User(team_id, f"team{team_id}").payload(), "flags": 1024}
            team = {
                "id": str(team_id),
                "name": f"{self.application_name} team",
                "icon": None,
                "owner_user_id": str(self.team[0].user.id if self.team else self.owner.id),
                "members": [
                    {
                        "membership_state": 2 if m.accepted else 1,
                        "team_id": str(team_id),
                        "user": m.user.payload(),
                        "role": m.role,
                        "permissions": ["*"],
                    }
                    for m in self.team
                ],
            }
        return {
            "id": str(self.application_id),
            "name": self.application_name,
            "icon": None,
            "description": "A stand-in application",
            "summary": "",
            "type": None,
            "bot_public": True,
            "bot_require_code_grant": False,
            "verify_key": "0" * 64,
            "flags": flags,
            "owner": owner,
            "team": team,
            "bot": self.bot.payload(),
            "redirect_uris": [],
            "interactions_endpoint_url": None,
            "approximate_guild_count": len(self.bot_guilds()),
            "integration_types_config": {"0": {}, "1": {}},
        }


def thread_member_payload(thread: Channel, user_id: int) -> dict[str, Any]:
    """A thread member object (GET /channels/{id}/thread-members/{user_id}, a thread's `member`)."""
    return {"id": str(thread.id), "user_id": str(user_id), "join_timestamp": iso_now(), "flags": 0}


def _new_guild(
    ids: SnowflakeFactory,
    name: str,
    owner: User,
    bot: User,
    *,
    with_bot: bool = True,
    guild_id: int | None = None,
) -> tuple[Guild, Role, Role]:
    """A guild with @everyone, `Admin` (Manage Server) and the bot's managed role; no channels."""
    guild = Guild(guild_id or ids(), name, owner.id)
    guild.roles[guild.id] = Role(guild.id, "@everyone", int(EVERYONE_DEFAULT), position=0)
    admin_role = Role(ids(), "Admin", int(Perm.MANAGE_GUILD | Perm.MANAGE_MESSAGES), position=2)
    bot_role = Role(
        ids(),
        bot.global_name or bot.username,
        int(EVERYONE_DEFAULT | Perm.EMBED_LINKS | Perm.ATTACH_FILES),
        position=1,
        managed=True,
        bot_id=bot.id,
    )
    guild.roles[admin_role.id] = admin_role
    guild.roles[bot_role.id] = bot_role
    guild.members[owner.id] = Member(owner, [])
    if with_bot:
        guild.members[bot.id] = Member(bot, [bot_role.id])
    return guild, admin_role, bot_role
