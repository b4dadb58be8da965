"""Who may use what, checked at run time: Discord's ``default_permissions`` only hide a command,
and server owners can change that per server in their integration settings."""

from __future__ import annotations

import discord

from .settings import BotSettings


def _configured(interaction: discord.Interaction, settings: BotSettings) -> bool:
    """A configured admin user, or (in a server) a member with a configured admin role."""
    if interaction.user.id in settings.admin_user_ids:
        return True
    if interaction.guild_id is None:
        return False
    return any(role.id in settings.admin_role_ids for role in getattr(interaction.user, "roles", ()))


def is_admin(interaction: discord.Interaction, settings: BotSettings) -> bool:
    """Manage Server in this channel, or a configured admin user or role."""
    if interaction.guild_id is not None and interaction.permissions.manage_guild:
        return True
    return _configured(interaction, settings)


def can_manage_follows(interaction: discord.Interaction, settings: BotSettings) -> bool:
    """Manage Channels in this channel (what /follow and /unfollow need), or a configured admin."""
    if interaction.guild_id is not None and interaction.permissions.manage_channels:
        return True
    return _configured(interaction, settings)


def can_manage_server_follows(interaction: discord.Interaction, settings: BotSettings) -> bool:
    """Manage Channels across the server (a role's, not one channel's overwrite: the server's list
    names the topics of private channels too), or a configured admin. Where this process has not
    loaded the server's roles, the channel's permission is all there is to go by."""
    guild, member = interaction.guild, interaction.user
    if guild is None or guild.unavailable or not isinstance(member, discord.Member):
        return can_manage_follows(interaction, settings)
    return member.guild_permissions.manage_channels or _configured(interaction, settings)


def bot_is_member(interaction: discord.Interaction) -> bool:
    """Whether the bot user is in the interaction's server (or it comes from no server). A server
    that installed only the commands (``applications.commands``) sends them, but the bot cannot
    post there, and a server it is not in counts as one it left (``cogs.servers``): follows kept
    for it would stop and its settings be forgotten. Interactions reach the process holding the
    server's shard, whose cache lists every server the bot is in (unavailable ones too)."""
    return interaction.guild_id is None or interaction.client.get_guild(interaction.guild_id) is not None


def bot_can_post(interaction: discord.Interaction) -> bool:
    """Whether the bot may post alerts (with embeds) in the interaction's channel."""
    perms = interaction.app_permissions
    in_thread = isinstance(interaction.channel, discord.Thread)
    send = perms.send_messages_in_threads if in_thread else perms.send_messages
    return perms.view_channel and send and perms.embed_links


def thread_locked(interaction: discord.Interaction) -> bool:
    """Whether the interaction comes from a locked thread (archived or not) where the bot may not
    manage threads: Discord refuses its messages there (50083). An archived thread that is not
    locked is fine: a message sent there unarchives it."""
    channel = interaction.channel
    return (
        isinstance(channel, discord.Thread)
        and channel.locked
        and not interaction.app_permissions.manage_threads
    )


async def bot_in_thread(interaction: discord.Interaction) -> bool:
    """Whether the bot may post in the interaction's private thread (True elsewhere): it was added
    to it, or it may manage threads. Asked of Discord, one request: an interaction from a private
    thread comes whether or not the bot is in it, its permissions there are the parent channel's,
    and the cache knows only threads it was told of (``Thread.me`` stays set after a removal)."""
    channel = interaction.channel
    if not isinstance(channel, discord.Thread) or channel.type is not discord.ChannelType.private_thread:
        return True
    if interaction.app_permissions.manage_threads:
        return True
    me = interaction.client.user
    assert me is not None, "interactions reach a logged-in client"
    try:
        await channel.fetch_member(me.id)
    except (discord.NotFound, discord.Forbidden):  # not a member (10007), or not let see it (50001)
        return False
    return True


def may_embed(channel: object) -> bool:
    """False where the bot is known to lack Embed Links; True otherwise (DMs, unknown channels).
    A thread has its parent channel's permissions (``Thread.permissions_for`` reads them)."""
    if isinstance(channel, discord.abc.GuildChannel | discord.Thread):
        try:
            return channel.permissions_for(channel.guild.me).embed_links
        except discord.ClientException:  # a thread whose parent channel is not cached: unknown
            return True
    return True
