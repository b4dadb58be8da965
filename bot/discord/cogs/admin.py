"""/admin: a server's managers run their own server's feeds and pages (``cogs.feeds``), see its
statistics and set its time zone (``zones``), for members who can manage the server (or hold a
configured admin role) and the bot's operators.

Discord hides /admin from members without Manage Server (``default_permissions``), but server
owners can change that in their integration settings, so the check is made again at run time.
Nothing here changes what other servers see, and nothing shows the host's paths: the shared
corpus is the operators' (``cogs.operator``). Refusals are ephemeral.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from ..errors import Refusal
from ..i18n import for_interaction
from ..permissions import bot_is_member, is_admin
from ..reach import in_servers
from ..render import stats_embed
from ..replies import NO_PINGS, defer_private
from ..scopes import scope_of
from ..translator import L
from ..views import stored
from ..zones import CHOICES_MAX, ServerZone, is_default, server_zone, zone_choices, zone_named, zone_of
from .feeds import FeedCommands

if TYPE_CHECKING:
    from ..client import ForeignDeskBot

log = logging.getLogger(__name__)


@app_commands.default_permissions(manage_guild=True)
@in_servers
class AdminCog(
    FeedCommands,
    commands.GroupCog,
    group_name=L("command.admin.name"),
    group_description=L("command.admin.description"),
):
    def __init__(self, bot: ForeignDeskBot) -> None:
        self.bot = bot
        self.fetching = {}
        super().__init__()

    def scope(self, interaction: discord.Interaction) -> int | None:
        return interaction.guild_id

    async def allowed(self, interaction: discord.Interaction) -> bool:
        if interaction.guild_id is None:
            return False
        if is_admin(interaction, self.bot.bot_settings):
            return True
        return await self.bot.operators.check(interaction.user.id)

    async def interaction_check(self, interaction: discord.Interaction) -> bool:  # type: ignore[override]
        if interaction.guild_id is None:
            raise Refusal("admin.server_only")
        if not bot_is_member(interaction):
            raise Refusal("error.bot_absent")
        if not await self.allowed(interaction):
            raise Refusal("admin.not_admin")
        return True

    @app_commands.command(
        name=L("command.admin.stats.name"), description=L("command.admin.stats.description")
    )
    async def stats(self, interaction: discord.Interaction) -> None:
        """What this server sees: articles, passages, languages, sources, index type, embedder."""
        await defer_private(interaction)
        data = await self.bot.engine.stats(scope=scope_of(interaction))  # what this server sees
        # The host's paths and the whole data folder's generation and size are the operators' business.
        embed = stats_embed(data, for_interaction(interaction), host=False)
        await interaction.edit_original_response(embed=embed, allowed_mentions=NO_PINGS)

    @app_commands.command(
        name=L("command.admin.timezone.name"), description=L("command.admin.timezone.description")
    )
    @app_commands.rename(zone=L("command.admin.timezone.zone.name"))
    @app_commands.describe(zone=L("command.admin.timezone.zone.description"))
    async def timezone(
        self, interaction: discord.Interaction, zone: app_commands.Range[str, 1, 64] | None = None
    ) -> None:
        """The time zone "yesterday" and since:7d count in here; without a zone, the one in use."""
        assert interaction.guild_id is not None  # interaction_check
        await defer_private(interaction)  # another process may hold the file's write lock for seconds
        guild_id, locale = interaction.guild_id, interaction.guild_locale
        if zone is None:
            found = await server_zone(self.bot.answers, guild_id, locale)
        else:
            chosen = None if is_default(zone) else await zone_named(zone)
            await stored(self.bot.answers.set_server_zone(guild_id, chosen), busy="zone.busy")
            # Told what this command wrote: another process (a shard) may write the zone meanwhile.
            found = await zone_of(chosen, locale)
        tx = for_interaction(interaction)
        today = tx.date(found.today(self.bot.clock()).isoformat())
        await interaction.edit_original_response(
            content=tx(_zone_key(zone, found), zone=found.name, stored=found.stored, today=today),
            allowed_mentions=NO_PINGS,
        )

    @timezone.autocomplete("zone")
    async def _zone(self, interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
        """The word for the default first (when it holds what is typed), then the matching zones."""
        tx = for_interaction(interaction)
        word = tx("zone.default_word")
        offered = current.strip().lower() in word.lower()
        choices = [app_commands.Choice(name=tx("zone.default_choice"), value=word)] if offered else []
        choices += [app_commands.Choice(name=z, value=z) for z in await zone_choices(current)]
        return choices[:CHOICES_MAX]


def _zone_key(typed: str | None, found: ServerZone) -> str:
    """What /admin timezone says: what was just done, else the zone in use and why."""
    if typed is not None:
        return "zone.cleared" if found.stored is None else "zone.set"
    if found.stored is None:
        return "zone.default"
    return "zone.chosen" if found.stored == found.name else "zone.stored_unknown"
