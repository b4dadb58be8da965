"""Run a discord.py client against a stand-in for the length of an `async with` block."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    import discord

    from .server import DiscordStandin

ClientT = TypeVar("ClientT", bound="discord.Client")


@contextlib.asynccontextmanager
async def run_client(
    standin: DiscordStandin,
    client: ClientT,
    *,
    ready_timeout: float = 10.0,
    close_timeout: float = 10.0,
) -> AsyncIterator[ClientT]:
    """Start `client` (login, setup_hook, connect), yield once `on_ready` fired, close it on exit.

    A failure of `client.start` (LoginFailure, PrivilegedIntentsRequired, …) is raised here
    rather than lost in a background task. The client must already be pointed at the stand-in
    (the `standin` fixture does that). discord.py waits `guild_ready_timeout` (2 s by default)
    after the last GUILD_CREATE before READY; construct test clients with
    `guild_ready_timeout=0.05` to skip that wait.
    """
    task = asyncio.create_task(client.start(standin.config.bot_token), name="standin-client")
    try:
        await standin.wait_until(
            lambda: client.is_ready() or task.done(), timeout=ready_timeout, what="on_ready"
        )
        if task.done():
            raise RuntimeError("the client stopped before it became ready")
    except BaseException:
        await _stop(client, task, close_timeout)  # re-raises the client's own error, if it had one
        raise
    try:
        yield client
    finally:
        await _stop(client, task, close_timeout)


async def _stop(client: discord.Client, task: asyncio.Task[None], timeout: float) -> None:
    """Close the client, then wait for `start()` to return; its exception, if any, propagates."""
    try:
        await asyncio.wait_for(client.close(), timeout)
        await asyncio.wait_for(asyncio.shield(task), timeout)
    except TimeoutError:
        task.cancel()
        raise
