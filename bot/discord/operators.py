"""Who runs the bot: the operators, who alone may change the shared corpus.

Operators are the application's owner, or the admins and developers of the team that owns it
(accepted members), as Discord's application info says, plus ``discord.admin_user_ids``. The
application info is asked again every ``ttl_s`` (a team member added or removed counts within
minutes, without a restart); when Discord cannot be asked, the last answer stands.
Server managers (Manage Server, or a role in ``discord.admin_role_ids``) manage only their own
server's feeds and pages (``permissions.is_admin``).
Concurrency: any number of tasks may ask at once; one request is in flight at a time.
"""

from __future__ import annotations

import asyncio
import logging
import time

import discord

from .settings import BotSettings

log = logging.getLogger(__name__)

OPERATOR_ROLES = (discord.TeamMemberRole.admin, discord.TeamMemberRole.developer)


def owners_of(app: discord.AppInfo) -> frozenset[int]:
    """The owner of an application, or the accepted admins and developers of its team."""
    if app.team is None:
        return frozenset({app.owner.id})
    return frozenset(
        m.id
        for m in app.team.members
        if m.role in OPERATOR_ROLES and m.membership_state is discord.TeamMembershipState.accepted
    )


class Operators:
    """``await operators.check(user_id)``: True for an operator of this bot."""

    def __init__(self, client: discord.Client, settings: BotSettings, *, ttl_s: float = 600.0) -> None:
        self.client = client
        self.configured = frozenset(settings.admin_user_ids)
        self.ttl_s = ttl_s
        self._owners: frozenset[int] = frozenset()
        self._asked_at: float | None = None
        self._lock = asyncio.Lock()

    async def ids(self) -> frozenset[int]:
        """Every operator's user id (the application's owners and the configured users)."""
        return self.configured | await self._application_owners()

    async def check(self, user_id: int) -> bool:
        return user_id in self.configured or user_id in await self._application_owners()

    async def _application_owners(self) -> frozenset[int]:
        async with self._lock:
            fresh = self._asked_at is not None and time.monotonic() - self._asked_at < self.ttl_s
            if not fresh:
                try:
                    self._owners = owners_of(await self.client.application_info())
                except discord.HTTPException as exc:
                    log.warning("could not read the application's owners, keeping the last known: %s", exc)
                self._asked_at = time.monotonic()
            return self._owners
