"""/admin reindex and /admin stats, for members who can manage the server (or configured admins).

Discord hides /admin from members without Manage Server (``default_permissions``), but server
owners can change that in their integration settings, so the check is made again at run time;
the configured admin roles and users pass it too. Refusals are ephemeral.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from index.errors import ForeignDeskError
from index.models import IndexProgress

from ..errors import Refusal
from ..render import failure_text, progress_text, report_text, starting_text, stats_embed
from ..replies import NO_PINGS, defer_private
from ..settings import BotSettings

if TYPE_CHECKING:
    from ..client import ForeignDeskBot

log = logging.getLogger(__name__)


def is_admin(interaction: discord.Interaction, settings: BotSettings) -> bool:
    """Manage Server in this channel, or a configured admin user or role."""
    user = interaction.user
    if user.id in settings.admin_user_ids:
        return True
    if interaction.guild_id is None:
        return False
    if interaction.permissions.manage_guild:
        return True
    return any(role.id in settings.admin_role_ids for role in getattr(user, "roles", ()))


class StatusMessage:
    """One message kept up to date with indexing progress, edited at most once per interval.

    The instance is the engine's progress callback: calling it only records the progress and
    wakes the editing task, so the indexer never waits for Discord.
    """

    def __init__(self, edit: Callable[..., Awaitable[Any]], *, interval_s: float, full: bool) -> None:
        self._edit = edit
        self.interval_s = interval_s
        self.full = full
        self._latest: IndexProgress | None = None
        self._wake = asyncio.Event()
        self._loop = asyncio.get_running_loop()
        self._thread = threading.get_ident()
        self._pump: asyncio.Task[None] | None = None

    def __call__(self, progress: IndexProgress) -> None:
        self._latest = progress
        if threading.get_ident() == self._thread:
            self._wake.set()
        else:
            self._loop.call_soon_threadsafe(self._wake.set)

    async def start(self) -> None:
        await self.show(starting_text(self.full))
        self._pump = asyncio.create_task(self._run(), name="reindex-status")

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            if self._latest is not None:
                await self.show(progress_text(self._latest, self.full))
            await asyncio.sleep(self.interval_s)

    async def stop(self) -> None:
        if self._pump is not None:
            self._pump.cancel()
            await asyncio.gather(self._pump, return_exceptions=True)
            self._pump = None

    async def finish(self, text: str) -> None:
        await self.stop()
        await self.show(text)

    async def show(self, text: str) -> None:
        try:
            await self._edit(content=text, allowed_mentions=NO_PINGS)
        except discord.HTTPException as exc:  # e.g. the 15-minute interaction token expired
            log.warning("could not update the reindex status message: %s", exc)


@app_commands.default_permissions(manage_guild=True)
@app_commands.guild_only()
class AdminCog(commands.GroupCog, group_name="admin", group_description="Reindex and inspect the corpus"):
    def __init__(self, bot: ForeignDeskBot) -> None:
        self.bot = bot
        self.running: asyncio.Task[Any] | None = None
        super().__init__()

    async def interaction_check(self, interaction: discord.Interaction) -> bool:  # type: ignore[override]
        if interaction.guild_id is None:
            raise Refusal("The /admin commands work only in a server.")
        if not is_admin(interaction, self.bot.bot_settings):
            raise Refusal(
                "Only members who can manage this server (or the bot's configured admins) can use /admin."
            )
        return True

    @app_commands.command(name="reindex")
    @app_commands.describe(full="Rebuild everything instead of only what changed (default: no)")
    async def reindex(self, interaction: discord.Interaction, full: bool = False) -> None:
        """Reindex the corpus while the bot keeps answering; progress is shown here."""
        if (self.running is not None and not self.running.done()) or self.bot.engine.indexing:
            raise Refusal("A reindex is already running; its status message shows when it is done.")
        await defer_private(interaction)
        status = StatusMessage(
            interaction.edit_original_response,
            interval_s=self.bot.bot_settings.status_edit_interval_s,
            full=full,
        )
        paths = self.bot.bot_settings.reindex_paths or None
        self.running = self.bot.spawn(self.bot.engine.index(paths, full=full, progress=status), "reindex")
        await status.start()
        try:
            report = await asyncio.shield(self.running)
        except ForeignDeskError as exc:
            await status.finish(failure_text(str(exc)))
            return
        except BaseException:
            await status.stop()
            raise
        finally:
            self.bot.catalog.forget()
        log.info("reindex by user %s finished: generation %d", interaction.user.id, report.generation)
        await status.finish(report_text(report))

    @app_commands.command(name="stats")
    async def stats(self, interaction: discord.Interaction) -> None:
        """What is indexed: articles, passages, languages, sources, index type, embedder, size."""
        await defer_private(interaction)
        data = await self.bot.engine.stats()
        await interaction.edit_original_response(embed=stats_embed(data), allowed_mentions=NO_PINGS)
