"""One message kept up to date with a long job's progress (/operator reindex, fetch, ingest).

The message starts as the interaction's (private) response. Discord lets a bot edit that for 15
minutes only (the interaction token's lifetime); a ``Handoff`` moves the status, a minute
before, to a DM (or, where the user takes no DMs from the bot, a message in the channel), leaves
a link to it in the response, and sends every later edit, the final report included, there. A
DM Discord fails for a while (a 5xx, no answer) is tried again for minutes, and the final report
too once the token is gone: the admin gets it when the failure passes.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import threading
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

import aiohttp
import discord
from discord import app_commands
from foreign_desk.index.errors import ForeignDeskError
from foreign_desk.index.progress import IndexProgress

from .failures import error_shown, host_trouble, store_busy
from .i18n import EN, Texts
from .limits import CONTENT_MAX, fit
from .render import progress_text, starting_text
from .replies import NO_PINGS

log = logging.getLogger(__name__)

MOVED = {
    "reindex": ("status.moved_here.reindex", "status.moved_away.reindex"),
    "fetch": ("status.moved_here.fetch", "status.moved_away.fetch"),
    "ingest": ("status.moved_here.ingest", "status.moved_away.ingest"),
}
"""Per kind of job: what the moved message says first, what the interaction response says after."""

RETRYABLE = (discord.DiscordServerError, aiohttp.ClientError, OSError)
"""Failures that may pass: Discord's 5xx, or no answer (a timeout, a lost connection)."""
ATTEMPTS = 8
"""Tries of the move, and of the final report; the waits between them add up to 63 ``retry_s``."""
TRY_S = 60.0
"""Longest one try may take (a request that gets no answer)."""


CANNOT_DM = 50007
"""Discord's "Cannot send messages to this user": a 403 on sending a DM, a 400 on opening one."""


def takes_no_dms(exc: discord.HTTPException) -> bool:
    """Whether Discord refused a DM for good: a 403 (the user takes none from the bot, 50007 and
    the like), or 50007 on opening the DM, which Discord answers with a 400 (discord-api-docs#1905)."""
    return isinstance(exc, discord.Forbidden) or exc.code == CANNOT_DM


class Handoff:
    """Where a long job's status is shown: the interaction's response until ``after_s`` seconds
    after the interaction was created, then a DM (or a channel message).

    The move waits until ``after_s`` after the interaction was made (Discord's clock) as the bot's
    clock tells, and never longer than ``after_s``: a clock behind Discord's (a year, until NTP
    set it right) waited a year, and the status stayed in the interaction past its token, its
    updates lost until the job ended. ``clock`` and ``sleep`` are injectable, as ``FeedDesk``'s.

    A failure that may pass (Discord's 5xx, no answer) is tried again, ``ATTEMPTS`` times at most,
    waiting ``retry_s`` and twice as long after each: the move (while the job runs), then the
    final report (where the move did not happen and the token is gone, a move again). Either can
    wait minutes; neither holds the job up. A report that still finds no way to its admin is
    logged, never posted in the channel (everyone there would read it).

    Concurrency: edits and the move are serialised by a lock; call ``edit`` from the loop only.
    """

    def __init__(
        self,
        interaction: discord.Interaction,
        *,
        after_s: float,
        what: str,
        tx: Texts = EN,
        retry_s: float = 5.0,
        clock: Callable[[], datetime] = discord.utils.utcnow,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
    ) -> None:
        self.interaction = interaction
        self.what = what
        self.tx = tx
        self.after_s = after_s
        self.deadline = interaction.created_at + timedelta(seconds=after_s)
        self.retry_s = retry_s
        self.clock = clock
        self.sleep = sleep
        self.message: discord.Message | None = None
        self._last = ""
        self._token_gone = False
        """The interaction answered 401 (its token's 15 minutes are over): edits only wait for the move."""
        self._nonce = "fd" + secrets.token_hex(10)
        """The same for every try of the move: a try Discord failed after posting posts no second DM."""
        self._lock = asyncio.Lock()
        self._timer: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._timer is None:
            self._timer = asyncio.create_task(self._move_in_time(), name="status-handoff")

    async def stop(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            await asyncio.gather(self._timer, return_exceptions=True)
            self._timer = None

    async def edit(self, text: str) -> None:
        async with self._lock:
            self._last = text
            if self.message is not None:
                await self.message.edit(content=self._moved(text), allowed_mentions=NO_PINGS)
            elif not self._token_gone:
                await self._edit_interaction(text)

    async def finish(self, text: str) -> None:
        """Show the final report where the status is, trying again what may pass (see the class)."""
        await self.stop()
        async with self._lock:
            self._last = text
        failed = await self._retrying(self._show_last)
        if failed is not None:
            log.error(
                "could not show user %s the final report of their %s (%s); it said:\n%s",
                self.interaction.user.id,
                self.what,
                failed,
                text,
            )

    async def _show_last(self) -> None:
        """One try at showing the latest status: the moved message, or the interaction while its
        token lasts, or (once it is gone) a move."""
        async with self._lock:
            if self.message is not None:
                await self.message.edit(content=self._moved(self._last), allowed_mentions=NO_PINGS)
                return
            if not self._token_gone:
                try:
                    await self._edit_interaction(self._last)
                    return
                except discord.HTTPException:
                    if not self._token_gone:
                        raise
            await self._move()

    async def _edit_interaction(self, text: str) -> None:
        try:
            await self.interaction.edit_original_response(content=text, allowed_mentions=NO_PINGS)
        except discord.HTTPException as exc:
            if exc.status == 401:  # Discord's 50027, Invalid Webhook Token
                self._token_gone = True
            raise

    async def _retrying(self, attempt: Callable[[], Awaitable[None]]) -> Exception | None:
        """``attempt()`` until it succeeds, at most ``ATTEMPTS`` tries of ``TRY_S`` each, tried
        again only after a failure that may pass; None, or the failure that ended it."""
        for tries in range(1, ATTEMPTS + 1):
            try:
                async with asyncio.timeout(TRY_S):
                    await attempt()
                return None
            except RETRYABLE as exc:
                if tries == ATTEMPTS:
                    return exc
                wait = self.retry_s * 2 ** min(tries - 1, 4)
                log.warning(
                    "could not show user %s the %s status (try %d of %d: %s), trying again in %.3g s",
                    self.interaction.user.id,
                    self.what,
                    tries,
                    ATTEMPTS,
                    str(exc) or type(exc).__name__,
                    wait,
                )
                await self.sleep(wait)
            except discord.HTTPException as exc:  # a refusal: trying again would change nothing
                return exc
        return None  # unreachable: the last try returns

    def _moved(self, text: str) -> str:
        """The status as the moved message shows it: who started what, then the status."""
        header = self.tx(MOVED[self.what][0], user=self.interaction.user.mention)
        return fit(f"{header}\n{text}", CONTENT_MAX)

    async def _move_in_time(self) -> None:
        wait = min((self.deadline - self.clock()).total_seconds(), self.after_s)
        if wait > 0:
            await self.sleep(wait)
        failed = await self._retrying(self._move_now)
        if failed is not None:
            log.warning("could not move the %s status out of the interaction: %s", self.what, failed)

    async def _move_now(self) -> None:
        async with self._lock:
            if self.message is None:
                await self._move()

    async def _move(self) -> None:
        """To a DM first: the status was a private reply, and in the channel everyone there would
        read an admin's report (feeds, pages, failures). Where the user takes no DMs from the bot
        (``takes_no_dms``), to the channel when the bot may post there."""
        ix = self.interaction
        text = self._moved(self._last)
        try:
            message = await ix.user.send(text, allowed_mentions=NO_PINGS, nonce=self._nonce)
        except discord.HTTPException as exc:
            perms = ix.app_permissions
            postable = ix.guild_id is not None and ix.channel is not None and perms.send_messages
            if not takes_no_dms(exc) or not (postable and perms.view_channel):
                raise  # one that may pass (a 503) is no reason to show everyone the report
            log.info(
                "could not send the %s status to user %s (%s): posting it in the channel",
                self.what,
                ix.user.id,
                exc,
            )
            message = await ix.channel.send(text, allowed_mentions=NO_PINGS, nonce=self._nonce)  # type: ignore[union-attr]
        if message.content != text:  # the DM an earlier try posted, Discord returned by its nonce
            message = await message.edit(content=text, allowed_mentions=NO_PINGS)
        self.message = message
        log.info("moved the %s status of user %s to message %s", self.what, ix.user.id, message.id)
        if self._token_gone:
            return
        try:
            link = self.tx(MOVED[self.what][1], link=message.jump_url)
            await ix.edit_original_response(content=link, allowed_mentions=NO_PINGS)
        except discord.HTTPException as exc:
            log.info("could not point the interaction response at the moved status: %s", exc)


class StatusMessage:
    """One message kept up to date with a long job's progress, edited at most once per interval.

    The instance is the engine's progress callback: calling it only records the progress and
    wakes the editing task, so the indexer never waits for Discord. ``host``: shown to the
    operators, who may read the host's own failures in full (``failures``).
    """

    def __init__(
        self,
        edit: Callable[..., Awaitable[Any]],
        *,
        interval_s: float,
        full: bool,
        tx: Texts = EN,
        handoff: Handoff | None = None,
        host: bool = False,
    ) -> None:
        self._edit = edit
        self.handoff = handoff
        self.host = host
        self.interval_s = interval_s
        self.full = full
        self.tx = tx
        self._latest: IndexProgress | None = None
        self._wake = asyncio.Event()
        self._loop = asyncio.get_running_loop()
        self._thread = threading.get_ident()
        self._pump: asyncio.Task[None] | None = None

    def __call__(self, progress: IndexProgress) -> None:
        self._latest = progress
        self.changed()

    def changed(self) -> None:
        """Wake the editing task (from any thread)."""
        if threading.get_ident() == self._thread:
            self._wake.set()
        else:
            self._loop.call_soon_threadsafe(self._wake.set)

    def starting(self) -> str:
        return starting_text(self.full, self.tx)

    def text(self) -> str | None:
        """The status to show now, or None when there is nothing new to say."""
        return progress_text(self._latest, self.full, self.tx) if self._latest is not None else None

    async def start(self) -> None:
        await self.show(self.starting())
        self._pump = asyncio.create_task(self._run(), name="status-message")
        if self.handoff is not None:
            self.handoff.start()

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            text = self.text()
            if text is not None:
                await self.show(text)
            await asyncio.sleep(self.interval_s)

    async def stop(self) -> None:
        if self._pump is not None:
            self._pump.cancel()
            await asyncio.gather(self._pump, return_exceptions=True)
            self._pump = None
        if self.handoff is not None:
            await self.handoff.stop()

    async def finish(self, text: str) -> None:
        await self.stop()
        if self.handoff is not None:
            await self.handoff.finish(text)
        else:
            await self.show(text)

    async def follow(self, job: asyncio.Task[Any], failure: Callable[[str], str]) -> Any | None:
        """Show progress until ``job`` ends; returns its result, or None after showing ``failure``
        of a user-facing error (or of an apology for a bug, whose traceback is logged here: once
        the status has moved, the tree's error handler could only reach the expired interaction).
        The job is shielded: a cancelled command does not stop it."""
        await self.start()
        try:
            return await asyncio.shield(job)
        except ForeignDeskError as exc:
            if host_trouble(exc):  # told that it happened, not what it was (the host's paths)
                log.warning("a long job failed: %s", exc)
            await self.finish(failure(error_shown(exc, self.tx, host=self.host)))
            return None
        except app_commands.AppCommandError:  # a refusal (a quota): the tree's error handler says it
            await self.stop()
            raise
        except Exception as exc:
            if not store_busy(exc):  # else SQLite's busy timeout: said as a busy store is
                log.exception("a long job failed")
                await self.finish(failure(self.tx("error.apology")))
                return None
            log.warning("a long job found the store busy: %s", exc)
            await self.finish(failure(error_shown(exc, self.tx)))
            return None
        except BaseException:
            await self.stop()
            raise

    async def interrupted(self, text: str) -> None:
        """Show ``text`` once in place of the progress: the job was cut short (the bot stopping).
        Not tried again: the caller bounds how long it may take (``ForeignDeskBot.stopped_jobs``)."""
        await self.stop()
        if self.handoff is not None:
            await self.handoff.edit(text)
        else:
            await self._edit(content=text, allowed_mentions=NO_PINGS)

    async def show(self, text: str) -> None:
        try:
            if self.handoff is not None:
                await self.handoff.edit(text)
            else:
                await self._edit(content=text, allowed_mentions=NO_PINGS)
        except discord.HTTPException as exc:  # e.g. the status could not be moved before the token expired
            log.warning("could not update a status message: %s", exc)
