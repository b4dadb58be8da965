"""Follows the bot stopped itself, not a member (``/unfollow``): their channel or thread was
deleted, closed to the bot or locked, or the bot was removed from the server. Each is
remembered for ``DROPS_KEPT_S`` with its reason, so ``/following`` can say what stopped and why
(a log line alone told the operators, and the follow just vanished from the list), in whichever
process answers. Following the topic there again forgets its drop. A deleted channel's follows
go with its threads' (``parent_id``, recorded by ``/follow``): the archived ones are in no
event Discord sends, and would otherwise stay until their first alert met 10003 (a thread
followed before ``parent_id`` was kept learns it when the bot meets it: ``parents``).
Concurrency: methods may be awaited from many tasks; writes go through ``StateDB``'s lock.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, cast, get_args

from foreign_desk.index.feeds.damaged import a_time, an_id, an_id_or_none, one_of, rows_read, some_text
from foreign_desk.index.feeds.models import Follow
from foreign_desk.index.feeds.state import StateDB

DropReason = Literal["deleted", "closed", "locked", "removed"]
"""The channel (or thread) was deleted; the bot may no longer see or post in it; the thread was
locked by a moderator; the bot was removed from the server."""
DROPS_KEPT_S = 7 * 86400.0
"""How long a drop is shown (and kept): long enough for a weekly reader to notice."""
DROPS_SHOWN = 10
"""The most drops one listing reads (newest first)."""

SQL_FOLLOWS_OF = (
    "SELECT id, channel_id, topic, guild_id, created_by, created_at, locale FROM follows "
    "WHERE {where} ORDER BY id"
)
SQL_REMEMBER = (
    "INSERT INTO dropped_follows(channel_id, guild_id, parent_id, topic, topic_key, reason, dropped_at) "
    "SELECT channel_id, guild_id, parent_id, topic, topic_key, ?, ? FROM follows WHERE id = ?"
)
SQL_RECENT = (
    "SELECT channel_id, guild_id, topic, reason, dropped_at, parent_id, id FROM dropped_follows "
    "WHERE {where} AND dropped_at >= ? ORDER BY dropped_at DESC, id DESC LIMIT ?"
)
SQL_FORGET_FOLLOWED = "DELETE FROM dropped_follows WHERE channel_id = ? AND topic_key = ?"
"""A topic followed again in the channel: its drop is news no more (``Follows.add``)."""


@dataclass(frozen=True, slots=True)
class DroppedFollow:
    """A follow the bot stopped, when (Unix seconds) and why."""

    channel_id: int
    guild_id: int | None
    topic: str
    reason: DropReason
    dropped_at: float
    parent_id: int | None = None
    """The channel of the thread it was in (None: not a thread, or followed before this was kept)."""


class Drops:
    """Stopping follows for Discord's reasons, and remembering them for a while."""

    def __init__(self, db: StateDB, *, clock: Callable[[], float] = time.time) -> None:
        self.db = db
        self.clock = clock

    async def drop(
        self, reason: DropReason, *, channel_id: int | None = None, guild_id: int | None = None
    ) -> list[Follow]:
        """Stop the follows of a channel (a deleted one's threads' too: not those of a channel
        merely closed, whose threads may let the bot post), or of a whole server, remembering
        each (one transaction); returns those stopped."""
        where, keys = where_of(channel_id, guild_id, threads=reason == "deleted")
        sql, now = SQL_FOLLOWS_OF.format(where=where), self.clock()
        if not await self.db.rows(sql, keys):
            return []  # no write (no wait for the write lock): a channel without follows is deleted
        async with self.db.transaction() as conn:
            async with conn.execute(sql, keys) as cur:
                rows = list(await cur.fetchall())
            for row in rows:
                await conn.execute(SQL_REMEMBER, (reason, now, row[0]))
                await conn.execute("DELETE FROM follows WHERE id = ?", (row[0],))
        return [Follow(int(r[0]), int(r[1]), r[2], r[3], r[4], r[5], r[6]) for r in rows]

    async def recent(
        self, *, channel_id: int | None = None, guild_id: int | None = None
    ) -> list[DroppedFollow]:
        """The drops of a channel (and its threads) or of a server in the last ``DROPS_KEPT_S``,
        newest first (``DROPS_SHOWN`` at most)."""
        where, keys = where_of(channel_id, guild_id, threads=True)
        since = self.clock() - DROPS_KEPT_S
        rows = await self.db.rows(SQL_RECENT.format(where=where), (*keys, since, DROPS_SHOWN))
        return rows_read("dropped_follows", rows, _drop)

    async def forget_old(self) -> int:
        """Forget the drops past ``DROPS_KEPT_S``: housekeeping's, so the table stays small.
        Returns how many went."""
        return await forget_past(self.db, "dropped_follows", self.clock())


async def forget_past(db: StateDB, table: str, now: float) -> int:
    """Delete the rows of ``table`` (``dropped_follows``, ``undelivered_alerts``) dropped more
    than ``DROPS_KEPT_S`` before ``now`` (or, by a clock since set back, as far ahead)."""
    sql = f"FROM {table} WHERE dropped_at NOT BETWEEN ? AND ?"
    span = (now - DROPS_KEPT_S, now + DROPS_KEPT_S)
    if not await db.rows(f"SELECT 1 {sql} LIMIT 1", span):
        return 0  # no write (no wait for the write lock) where there is nothing to forget
    async with db.transaction() as conn:
        cur = await conn.execute(f"DELETE {sql}", span)
        return max(cur.rowcount, 0)


def where_of(
    channel_id: int | None, guild_id: int | None, *, threads: bool
) -> tuple[str, tuple[int | None, ...]]:
    """The rows of a channel (and of its threads), else of a server: a condition and its values."""
    if channel_id is None:
        return "guild_id = ?", (guild_id,)
    if threads:
        return "(channel_id = ? OR parent_id = ?)", (channel_id, channel_id)
    return "channel_id = ?", (channel_id,)


def _drop(channel: Any, guild: Any, topic: Any, reason: Any, at: Any, parent: Any) -> DroppedFollow:
    """A row of ``SQL_RECENT``, checked (``damaged``)."""
    return DroppedFollow(
        an_id(channel, "channel"),
        an_id_or_none(guild, "server"),
        some_text(topic, "topic"),
        cast(DropReason, one_of(reason, get_args(DropReason), "reason")),
        a_time(at, "time"),
        an_id_or_none(parent, "parent"),
    )
