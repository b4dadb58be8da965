"""The per-user cooldown between two questions, shared by every process on the data folder.

When each user last had a question admitted is kept in the bot's own ``discord.sqlite3`` (the
``cooldowns`` table of ``answers``' migrations), keyed by a salted hash of the user id
(``AnswerStore.hash_user``): a user refused in one server is refused in a server of another
process's shards and in DMs alike. One upsert both decides and starts the wait, so two processes
never both admit; a refused attempt does not restart it. Rows go once their wait is over (pruned
at most once per ``seconds``), so the table holds only the users who asked within the last wait.

The table has its own connection with a short busy timeout (``BUSY_MS``): Discord wants an answer
to a command within 3 seconds. When the file stays locked longer (a long write of another process,
a backup), this process decides alone from the admissions it made itself, with a log line when
that begins and one when it ends (not one per question): a busy table never refuses nor fails a
question, and only one question at a time waits for it (those behind a try that found it busy
decide at once). Those own admissions also refuse without a round trip:
the table would say the same, since the time only moves when a question is admitted, and none can
be admitted elsewhere while this process's wait runs.

A user refused is told so once per wait (``first_notice``), not once per try: a member who keeps
mentioning the bot would have it keep replying in the channel, on the rate limit that every server
shares. Whom a process told of which wait is in the file too (``cooldown_notices``: the end of the
wait told of), so two processes never both tell; while the file is busy, a process tells once per
wait of what it knows.

A question is answered by one process, even when two get it (``claim``): two gateway sessions on
one shard (a rolling restart, two processes started with the same shard ids) each get every
message of its servers. The first process to insert the message's id in ``claims`` answers it,
before any cooldown is looked at (the other would tell the asker they ask too fast); the ids are
kept ``CLAIM_KEEP_S``, far longer than Discord replays a resumed session's events. While the file
is busy a process answers anyway: a reply twice is better than none.
Concurrency: one per bot, used from its event loop.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

import aiosqlite
from foreign_desk.index.sqlite import open_connection

from .answers import FILE_NAME

log = logging.getLogger(__name__)
T = TypeVar("T")

BUSY_MS = 250
LOCAL_LIMIT = 1000
"""This process's own admissions kept past this many are pruned of expired ones."""
SQL_TAKE = (
    "INSERT INTO cooldowns (asker, asked_at) VALUES (?, ?) ON CONFLICT (asker) DO UPDATE "
    "SET asked_at = excluded.asked_at WHERE cooldowns.asked_at <= ? OR cooldowns.asked_at > ?"
)
"""Admit (and start the wait) unless the user's wait runs; a time ahead of the clock (the clock was
set back) is no wait."""
SQL_NOTICE = (
    "INSERT INTO cooldown_notices (asker, until) VALUES (?, ?) ON CONFLICT (asker) DO UPDATE "
    "SET until = excluded.until WHERE cooldown_notices.until <= ? OR cooldown_notices.until > ?"
)
"""Note that the user is told of the wait ending ``until``, unless they were told of it already: a
notice of a wait that is over is none, and so is one further ahead than a wait (the clock was set
back)."""
CLAIM_KEEP_S = 3600.0
"""How long a claimed message id is kept: a session resumed replays only what it missed meanwhile."""
CLAIM_PRUNE_S = 60.0
"""Claims older than ``CLAIM_KEEP_S`` are deleted at most this often."""


class Cooldowns:
    """Open with ``await Cooldowns.open(data_dir, seconds, hash_user)``; ``clock`` is wall time,
    the same in every process. ``seconds`` 0 turns the cooldown off."""

    def __init__(
        self,
        conn: aiosqlite.Connection,
        seconds: float,
        hash_user: Callable[[int], str],
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.conn = conn
        self.seconds = seconds
        self.hash_user = hash_user
        self.clock = clock
        self._last: dict[int, float] = {}
        """When each user's wait began, as this process knows."""
        self._told: dict[int, float] = {}
        """When the wait each user was last told of began, as this process knows."""
        self._pruned_at = 0.0
        self._busy = False
        """Whether the table was busy at the last try (so a busy period is logged once)."""
        self._trying = asyncio.Lock()
        self._failures = 0
        """Tries that found the table busy, so far."""
        self._claims_pruned_at = 0.0

    @classmethod
    async def open(
        cls,
        data_dir: Path,
        seconds: float,
        hash_user: Callable[[int], str],
        clock: Callable[[], float] = time.time,
    ) -> Cooldowns:
        """Open the file ``AnswerStore.open`` made (and migrated)."""
        conn = await open_connection(data_dir / FILE_NAME)
        await conn.execute(f"PRAGMA busy_timeout={BUSY_MS}")
        return cls(conn, seconds, hash_user, clock)

    async def close(self) -> None:
        await self.conn.close()

    async def admit(self, user_id: int) -> float:
        """0 when ``user_id`` may ask now (their wait starts), else the seconds left to wait."""
        if self.seconds <= 0:
            return 0.0
        now = self.clock()
        left = self._left(self._last.get(user_id), now)
        if left > 0:
            return left
        left = await self._shared(
            lambda: self._take(user_id, now), lambda: self._left(self._last.get(user_id), now)
        )
        if left > 0:
            self._last[user_id] = now - self.seconds + left
            return left
        self._remember(self._last, user_id, now, now)
        return 0.0

    async def first_notice(self, user_id: int) -> bool:
        """Whether to tell ``user_id`` of the wait ``admit`` just refused them for: at the first
        refusal of each wait, in whichever process it comes (see the module)."""
        if self.seconds <= 0:
            return True
        now = self.clock()
        begun = self._last.get(user_id, now)
        if self._told_of(user_id, now):
            return False
        told = await self._shared(
            lambda: self._notice(user_id, begun + self.seconds, now), lambda: not self._told_of(user_id, now)
        )
        self._remember(self._told, user_id, begun, now)
        return told

    async def claim(self, event_id: int) -> bool:
        """Whether this process answers the message (or interaction) ``event_id``: False when
        another process claimed it first (see the module). Yes while the file is busy, logged."""
        now = self.clock()
        claimed = await self._shared(lambda: self._claim(event_id, now), lambda: None)
        if claimed is None:
            log.warning("answering %s unclaimed (the shared file is busy): another process may too", event_id)
            return True
        return claimed

    async def _claim(self, event_id: int, now: float) -> bool:
        """Insert ``event_id`` in ``claims``: True when no process had; prune old claims now and then
        (and those ahead of the clock by more than they are kept: it was set back)."""
        cur = await self.conn.execute(
            "INSERT OR IGNORE INTO claims (id, claimed_at) VALUES (?, ?)", (event_id, now)
        )
        claimed = bool(cur.rowcount)
        if not 0 <= now - self._claims_pruned_at < CLAIM_PRUNE_S:
            self._claims_pruned_at = now
            await self.conn.execute(
                "DELETE FROM claims WHERE claimed_at NOT BETWEEN ? AND ?",
                (now - CLAIM_KEEP_S, now + CLAIM_KEEP_S),
            )
        return claimed

    def _told_of(self, user_id: int, now: float) -> bool:
        """Whether this process knows the user was told of the wait that runs now."""
        return self._left(self._told.get(user_id), now) > 0

    async def _shared(self, attempt: Callable[[], Awaitable[T]], alone: Callable[[], T]) -> T:
        """``attempt()`` on the table, one at a time, else (the table busy) ``alone()``, what this
        process knows: callers that waited for a try that found the table busy decide alone at
        once, instead of each waiting ``BUSY_MS`` in turn on the one connection (a burst of 16
        left the last ones past Discord's 3 seconds); the next call tries again."""
        failures = self._failures
        async with self._trying:
            if self._failures != failures:
                return alone()
            try:
                result = await attempt()
            except sqlite3.OperationalError as exc:  # locked past BUSY_MS: this process decides alone
                self._failures += 1
                self._busy_now(exc)
                return alone()
            self._busy_over()
            return result

    def _busy_now(self, exc: sqlite3.OperationalError) -> None:
        """Log the start of a busy period only: under load, a line per question would flood the log."""
        if not self._busy:
            log.warning("the shared cooldowns are busy (%s): user cooldown checked in this process only", exc)
        self._busy = True

    def _busy_over(self) -> None:
        """Log the end of a busy period, so its length shows in the log."""
        if self._busy:
            log.info("the shared cooldowns are usable again")
        self._busy = False

    def _left(self, last: float | None, now: float) -> float:
        """Seconds left of a wait begun at ``last``; none when the clock is behind it."""
        if last is None or last > now:
            return 0.0
        return max(0.0, last + self.seconds - now)

    async def _take(self, user_id: int, now: float) -> float:
        """Admit in the shared table (0), or the seconds left of the wait another process began."""
        asker = self.hash_user(user_id)
        cur = await self.conn.execute(SQL_TAKE, (asker, now, now - self.seconds, now))
        if cur.rowcount:
            await self._prune(now)
            return 0.0
        async with self.conn.execute("SELECT asked_at FROM cooldowns WHERE asker = ?", (asker,)) as found:
            row = await found.fetchone()
        return self._left(float(row[0]), now) if row is not None else 0.0

    async def _notice(self, user_id: int, until: float, now: float) -> bool:
        """Note in the shared table that the user is told of the wait ending ``until``: False
        when a process told them of it already."""
        cur = await self.conn.execute(SQL_NOTICE, (self.hash_user(user_id), until, now, now + self.seconds))
        return bool(cur.rowcount)

    async def _prune(self, now: float) -> None:
        """Forget waits long over, at most once per ``seconds``, and those begun more than
        ``seconds`` ahead (by a clock since set back: they are no wait, ``SQL_TAKE``). A prune
        ahead of ``now`` was too: waiting for its time, the table grew with every user who asked."""
        if 0 <= now - self._pruned_at < self.seconds:
            return
        self._pruned_at = now
        await self.conn.execute(
            "DELETE FROM cooldowns WHERE asked_at NOT BETWEEN ? AND ?",
            (now - self.seconds, now + self.seconds),
        )
        await self.conn.execute(
            "DELETE FROM cooldown_notices WHERE until NOT BETWEEN ? AND ?", (now, now + self.seconds)
        )

    def _remember(self, begun: dict[int, float], user_id: int, when: float, now: float) -> None:
        """``begun[user_id] = when`` (a wait's start); past ``LOCAL_LIMIT`` users, those whose wait
        is over are forgotten first."""
        if len(begun) > LOCAL_LIMIT:
            for user in [u for u, t in begun.items() if self._left(t, now) <= 0]:
                del begun[user]
        begun[user_id] = when
