"""Whose feeds: the shared corpus's (the operators') and each server's own, with the servers'
quotas and departures.

A feed (one URL) is polled once, however many subscribe to it: ``feed_scopes`` lists who does
(``guild_id`` 0 for the shared corpus, else a server) with what each chose (its name, URL,
language and interval) and its own polls' state, and the articles its items bring are granted to
every subscriber (``Engine.grant``): stored once, seen by those who subscribed. A server sees
and changes only its own subscriptions, as if it followed each feed alone (``SQL_SCOPED``).
``server_ingests`` counts the pages a server ingested (a rate quota); ``server_departures``
when the bot left a server, whose feeds and articles are forgotten ``forget_after`` later unless
it comes back.
Concurrency: as ``StateDB``: any number of tasks; writes serialised by its lock.
"""

from __future__ import annotations

import secrets
import sqlite3
from collections.abc import Callable, Sequence

import aiosqlite
from foreign_desk.index.feeds.models import Feed
from foreign_desk.index.feeds.state import (
    SQL_REPACE,
    FeedTaken,
    NewFeed,
    StateDB,
    Subscription,
    feed_of,
    orphan_items,
    sane,
    scoped,
)
from foreign_desk.index.sqlite import now_iso, rows_in

SHARED_ID = 0
SQL_SCOPED = (
    "SELECT f.id, s.name, coalesce(s.url, f.url) AS url, "
    "CASE WHEN s.guild_id = 0 THEN f.source END AS source, s.language, "
    f"{scoped('every_minutes', 'f')} AS every_minutes, "
    "CASE WHEN s.last_polled IS NOT NULL THEN f.etag END AS etag, "
    "CASE WHEN s.last_polled IS NOT NULL THEN f.last_modified END AS last_modified, s.added_at, "
    f"s.last_polled, s.last_success, s.last_error, s.last_failure, {scoped('failures')} AS failures, "
    f"max({scoped('next_poll')}, {sane('next_poll', 'f')}) AS next_poll, "
    "s.catch_up_failed AS catch_up_failed, s.guild_id AS scope "
    "FROM feeds f JOIN feed_scopes s ON s.feed_id = f.id"
)
"""A scope's feeds as it would see them following each alone: its own name, URL, language and
interval, its polls' state since it subscribed (``FeedState.polled``), and its next poll (later,
where the operators' pace holds the feed back: ``state.driver``). A server is not shown the
outlet the operators credit the feed's articles to, nor anyone's choices or history. A damaged
schedule reads as ``state.scoped`` says; a row written by a version from before migration 16
(while a newer one migrated) as the feed's URL and interval."""
SQL_SUBSCRIBE = (
    "INSERT INTO feed_scopes(feed_id, guild_id, name, added_at, url, language, every_minutes, next_poll) "
    "SELECT id, ?, ?, ?, ?, ?, ?, CASE WHEN failures > 0 THEN next_poll ELSE 0 END FROM feeds WHERE id = ?"
)
"""A new subscription is due at once, as a feed registered now; on a failing feed, at the feed's
next poll (its backoff or ``Retry-After`` holds)."""


def scope_id(guild_id: int | None) -> int:
    return guild_id or SHARED_ID


class FeedScopes:
    """``feed_scopes``, ``feed_catch_ups``, ``server_ingests`` and ``server_departures``;
    ``owner``: this desk's token on the catch-ups it runs."""

    def __init__(self, db: StateDB, owner: str | None = None) -> None:
        self.db = db
        self.owner = owner or secrets.token_hex(8)

    # -- subscriptions ------------------------------------------------------------------------
    async def feeds(self, guild_id: int | None) -> list[Feed]:
        """The feeds of one scope, by the names that scope gave them (read as last committed,
        never behind a write: what autocomplete offers must come within Discord's 3 seconds)."""
        rows = await self.db.rows(f"{SQL_SCOPED} WHERE s.guild_id = ? ORDER BY s.name", (scope_id(guild_id),))
        return [feed_of(r, guild_id) for r in rows]

    async def feed(self, name_or_url: str, guild_id: int | None) -> Feed | None:
        """The scope's feed called ``name_or_url`` (case-insensitive), or polling that URL (as the
        scope gave it, or as the feed is polled)."""
        sql = (
            f"{SQL_SCOPED} WHERE s.guild_id = :scope "
            "AND (s.name = :name COLLATE NOCASE OR :name IN (s.url, f.url)) "
            "ORDER BY s.name = :name COLLATE NOCASE DESC LIMIT 1"
        )
        rows = await self.db.rows(sql, {"scope": scope_id(guild_id), "name": name_or_url})
        return feed_of(rows[0], guild_id) if rows else None

    async def name_taken(self, name: str, guild_id: int | None) -> bool:
        sql = "SELECT 1 FROM feed_scopes WHERE guild_id = ? AND name = ? COLLATE NOCASE"
        return bool(await self.db.rows(sql, (scope_id(guild_id), name)))

    async def subscribe(
        self,
        feed: int | NewFeed,
        guild_id: int | None,
        sub: Subscription,
        *,
        now: float,
        limit: int | None = None,
    ) -> int | None:
        """Subscribe the scope to a feed (by id, or registered now) as ``sub`` says: returns its
        id, or None and writes nothing when the scope has ``limit`` feeds already. The count and
        the writes are one transaction, so adds racing in any process never pass the limit
        together; the feed's pace follows its subscriptions (``SQL_REPACE``). A feed registered
        already is owed its catch-up (claimed ``now``), whatever becomes of this process."""
        scope = scope_id(guild_id)
        try:
            async with self.db.transaction() as conn:
                if limit is not None and await _count(conn, scope) >= limit:
                    return None
                feed_id = feed if isinstance(feed, int) else await feed.insert(conn)
                values = (scope, sub.name, now_iso(), sub.url, sub.language, sub.every, feed_id)
                if not (await conn.execute(SQL_SUBSCRIBE, values)).rowcount:
                    raise sqlite3.IntegrityError("the feed was removed meanwhile")
                await conn.execute(SQL_REPACE, (feed_id,))
                if isinstance(feed, int):
                    await conn.execute(
                        "INSERT INTO feed_catch_ups(feed_id, guild_id, claimed_at, owner) "
                        "VALUES (?, ?, ?, ?)",
                        (feed_id, scope, now, self.owner),
                    )
        except sqlite3.IntegrityError:  # the same feed or name, added meanwhile
            raise FeedTaken(
                f"that feed, or a feed called {sub.name!r}, is already registered",
                name=sub.name,
                which="either",
            ) from None
        return feed_id

    async def unsubscribe(self, feed_id: int, guild_id: int | None) -> bool:
        """End one subscription; True when the feed has no subscriber left (and is deleted)."""
        async with self.db.transaction() as conn:
            await conn.execute(
                "DELETE FROM feed_scopes WHERE feed_id = ? AND guild_id = ?", (feed_id, scope_id(guild_id))
            )
            async with conn.execute("SELECT 1 FROM feed_scopes WHERE feed_id = ? LIMIT 1", (feed_id,)) as cur:
                orphan = await cur.fetchone() is None
            if orphan:
                await orphan_items(conn, feed_id)
                await conn.execute("DELETE FROM feeds WHERE id = ?", (feed_id,))
            else:  # polled as those left ask
                await conn.execute(SQL_REPACE, (feed_id,))
        return orphan

    async def caught_up(self, feed_id: int, guild_id: int | None, *, failed: bool = False) -> None:
        """The scope's catch-up on the feed is done (or, ``failed``, given up: its feed listing
        says so): nobody resumes it."""
        key = (feed_id, scope_id(guild_id))
        async with self.db.transaction() as conn:
            await conn.execute("DELETE FROM feed_catch_ups WHERE feed_id = ? AND guild_id = ?", key)
            if failed:
                await conn.execute(
                    "UPDATE feed_scopes SET catch_up_failed = 1 WHERE feed_id = ? AND guild_id = ?", key
                )

    async def claim_catch_ups(
        self, before: float, now: float, horizon: float
    ) -> list[tuple[int, int | None]]:
        """Take on the catch-ups last claimed (or renewed) before ``before``: their process died,
        or is stuck; or as far after ``now``: claimed by a clock since set back (a live process's
        next renewal brings its claim back; a dead one's looked alive until then). Those that
        failed for now once their retry is due (or due after ``horizon``: set by a clock since
        set back). Claimed ``now`` as ours, so no other process takes them too; (feed id, scope)."""
        where = "WHERE claimed_at NOT BETWEEN ? AND ? AND (retry_at <= ? OR retry_at > ?)"
        params = (before, now + (now - before), now, horizon)
        async with self.db.transaction() as conn:
            async with conn.execute(f"SELECT feed_id, guild_id FROM feed_catch_ups {where}", params) as cur:
                owed = [(int(f), int(g) or None) for f, g in await cur.fetchall()]
            await conn.execute(
                f"UPDATE feed_catch_ups SET claimed_at = ?, owner = ? {where}", (now, self.owner, *params)
            )
        return owed

    async def retry_catch_up(
        self, feed_id: int, guild_id: int | None, now: float, wait: Callable[[int], float]
    ) -> int | None:
        """Our catch-up failed for now: it stays owed, for any process to take on ``wait(attempts)``
        after ``now`` (``attempts``: its failures so far, this one counted, returned). None, and
        nothing written, when it is no longer ours."""
        key = (feed_id, scope_id(guild_id))
        async with self.db.transaction() as conn:
            sql = "SELECT attempts FROM feed_catch_ups WHERE feed_id = ? AND guild_id = ? AND owner = ?"
            async with conn.execute(sql, (*key, self.owner)) as cur:
                row = await cur.fetchone()
            if row is None:
                return None
            attempts = int(row[0]) + 1
            await conn.execute(
                "UPDATE feed_catch_ups SET attempts = ?, retry_at = ?, claimed_at = 0, owner = NULL "
                "WHERE feed_id = ? AND guild_id = ?",
                (attempts, now + wait(attempts), *key),
            )
        return attempts

    async def renew_catch_up(self, feed_id: int, guild_id: int | None, now: float) -> bool:
        """Our catch-up is alive: claimed ``now`` again. False when it is no longer ours (another
        process took it on, or the subscription ended): it must stop."""
        async with self.db.transaction() as conn:
            cur = await conn.execute(
                "UPDATE feed_catch_ups SET claimed_at = ? WHERE feed_id = ? AND guild_id = ? AND owner = ?",
                (now, feed_id, scope_id(guild_id), self.owner),
            )
            return bool(cur.rowcount)

    async def subscribers(self, feed_ids: Sequence[int]) -> dict[int, list[int | None]]:
        """Per feed id: who subscribes (server ids; None for the shared corpus)."""
        out: dict[int, list[int | None]] = {}
        sql = "SELECT feed_id, guild_id FROM feed_scopes WHERE feed_id IN (:keys)"
        for feed_id, guild in await rows_in(self.db.reader, sql, list(feed_ids)):
            out.setdefault(int(feed_id), []).append(int(guild) or None)
        return out

    async def count(self, guild_id: int) -> int:
        return await _count(self.db.reader, guild_id)

    async def servers(self) -> set[int]:
        """Servers with feeds or follows of their own."""
        sql = (
            "SELECT guild_id FROM feed_scopes WHERE guild_id > 0 "
            "UNION SELECT guild_id FROM follows WHERE guild_id IS NOT NULL AND guild_id > 0"
        )
        return {int(r[0]) for r in await self.db.rows(sql)}

    # -- quotas and departures ------------------------------------------------------------
    async def charge_ingest(self, guild_id: int, at: float, *, since: float, limit: int) -> list[float]:
        """Count an ingest by the server at ``at`` unless it made ``limit`` since ``since``;
        returns when it made those (oldest first): it was counted when there are fewer. The
        count and the write are one transaction, so ingests racing in any process never pass
        the limit together. One counted after ``at`` was counted by a clock since set back (or,
        a moment ahead, by another process). Further ahead than ``at - since`` it counts for no
        hour and goes: kept, a server that ingested while the clock said 2099 could ingest
        nothing more until then. Nearer, it counts as made at ``at``: kept where it was, it
        spent the quota for up to two hours. Both at every call, refused or not: a refusal left
        one further ahead, which came into the hour past the wait that refusal gave."""
        ahead = at + (at - since)
        async with self.db.transaction() as conn:
            await conn.execute("DELETE FROM server_ingests WHERE at NOT BETWEEN ? AND ?", (at - 86400, ahead))
            await conn.execute("UPDATE server_ingests SET at = ? WHERE at > ?", (at, at))
            sql = "SELECT at FROM server_ingests WHERE guild_id = ? AND at >= ? ORDER BY at"
            async with conn.execute(sql, (guild_id, since)) as cur:
                recent = [float(r[0]) for r in await cur.fetchall()]
            if len(recent) < limit:
                await conn.execute("INSERT INTO server_ingests(guild_id, at) VALUES (?, ?)", (guild_id, at))
        return recent

    async def left(self, guild_id: int, at: float) -> None:
        async with self.db.transaction() as conn:
            await conn.execute(
                "INSERT OR IGNORE INTO server_departures(guild_id, left_at) VALUES (?, ?)", (guild_id, at)
            )

    async def back(self, guild_id: int) -> bool:
        """The bot is in the server again; True when it had left it. Read first: every server
        becomes available at every start of every process, and nearly none had left."""
        sql = "SELECT 1 FROM server_departures WHERE guild_id = ?"
        if not await self.db.rows(sql, (guild_id,)):
            return False
        async with self.db.transaction() as conn:
            cur = await conn.execute("DELETE FROM server_departures WHERE guild_id = ?", (guild_id,))
            return bool(cur.rowcount)

    async def departed(self, before: float, now: float) -> list[int]:
        """Servers the bot left before ``before``. A departure recorded after ``now`` (by a clock
        since set back: one that said 2099 kept the server until 2099) is counted from ``now``."""
        sql = "SELECT 1 FROM server_departures WHERE left_at > ?"
        if await self.db.rows(sql, (now,)):
            async with self.db.transaction() as conn:
                await conn.execute("UPDATE server_departures SET left_at = ? WHERE left_at > ?", (now, now))
        rows = await self.db.rows("SELECT guild_id FROM server_departures WHERE left_at < ?", (before,))
        return [int(r[0]) for r in rows]

    async def still_departed(self, guild_id: int) -> bool:
        """Whether the bot has not come back to the server (``back``) since it left."""
        return bool(await self.db.rows("SELECT 1 FROM server_departures WHERE guild_id = ?", (guild_id,)))

    async def forget(self, guild_id: int) -> list[int]:
        """Drop the server's subscriptions (feeds nobody else polls go) and its records; returns
        the ids of the feeds it subscribed to."""
        rows = await self.db.rows("SELECT feed_id FROM feed_scopes WHERE guild_id = ?", (guild_id,))
        feed_ids = [int(r[0]) for r in rows]
        for feed_id in feed_ids:
            await self.unsubscribe(feed_id, guild_id)
        async with self.db.transaction() as conn:
            await conn.execute("DELETE FROM server_ingests WHERE guild_id = ?", (guild_id,))
            await conn.execute("DELETE FROM server_departures WHERE guild_id = ?", (guild_id,))
        return feed_ids


async def _count(conn: aiosqlite.Connection, guild_id: int) -> int:
    """How many feeds the scope ``guild_id`` (0: the shared corpus) subscribes to."""
    async with conn.execute("SELECT count(*) FROM feed_scopes WHERE guild_id = ?", (guild_id,)) as cur:
        row = await cur.fetchone()
    assert row is not None
    return int(row[0])
