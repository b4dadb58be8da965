"""Who may see which article: the shared corpus (``guild_id`` 0) and each server's own articles.

An article is stored once, whoever brought it (a page that changed since, once per version of it
servers see: ``feeds.versions``); ``article_scopes`` lists who may see it. A reader
in a scope (``models.Scope``) sees the shared articles plus those of its own server; an article
without a row is seen by nobody (the safe side: a crash between two writes can only hide an
article, never show one to the wrong server). Rows are not generational: granting a server an
article already stored (a duplicate) or forgetting a server changes no generation.

Every read query that lists, searches or counts articles for a reader adds ``scope_sql``; the
dense search leaves out ``UNSHARED_PASSAGES`` but the reader's ``OWN_PASSAGES``.
Concurrency: any number of tasks may call; writes are serialised by a lock and each runs in one
transaction on the store's connection (``StoreWriter`` grants inside its own transactions).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable, Sequence
from typing import Any

import aiosqlite
from foreign_desk.index.models import Scope
from foreign_desk.index.sqlite import chunks, rows_in
from foreign_desk.index.store.schema import visible

SHARED_ID = 0
AHEAD_S = 60.0
"""A grant this little ahead of the clock (a clock stepped back a moment) keeps its place."""
GRANT = "INSERT OR IGNORE INTO article_scopes(uid, guild_id, added_at) VALUES (?, ?, ?)"
OWN_UIDS = (
    "SELECT uid FROM article_scopes x WHERE x.guild_id = :g AND x.uid IN (:keys) AND NOT EXISTS "
    "(SELECT 1 FROM article_scopes y WHERE y.uid = x.uid AND y.guild_id = 0)"
)
"""Those of the ``:keys`` uids that server ``:g`` sees as its own, not as part of the shared corpus."""
UNSHARED_PASSAGES = (
    f"SELECT p.id FROM passages p INDEXED BY passages_unshared WHERE p.unshared = 1 AND {visible('p')}"
)
"""Passage ids at ``:gen`` of the articles the shared corpus lacks (servers' own, or nobody's):
left out of every dense search but their own servers' (schema 7 keeps ``unshared`` for this)."""
OWN_PASSAGES = (
    "SELECT p.id FROM article_scopes s INDEXED BY article_scopes_guild JOIN articles a ON a.uid = s.uid "
    "JOIN passages p ON p.article_id = a.id "
    f"WHERE s.guild_id = :scope_guild AND p.unshared = 1 AND {visible('p')}"
)
"""Those of them server ``:scope_guild`` owns (it sees them)."""


def scope_sql(scope: Scope | None, alias: str = "a") -> tuple[str, dict[str, Any]]:
    """A condition (with its leading AND) keeping the articles ``scope`` may see; none for
    ``None``, which the engine's own bookkeeping uses (matching, dedupe, removal)."""
    if scope is None:
        return "", {}
    sql = (
        f" AND EXISTS (SELECT 1 FROM article_scopes sc WHERE sc.uid = {alias}.uid "
        "AND sc.guild_id IN (0, :scope_guild))"
    )
    return sql, {"scope_guild": scope.guild_id or SHARED_ID}


def scope_id(guild_id: int | None) -> int:
    return guild_id or SHARED_ID


class Scopes:
    """The ``article_scopes`` table, read and written on the store's connection."""

    def __init__(self, conn: aiosqlite.Connection) -> None:
        self.conn = conn
        self._lock = asyncio.Lock()

    async def grant(self, grants: Iterable[tuple[str, int | None]]) -> None:
        """Let each (article id, server id; None: everyone) pair's server see the article."""
        now = time.time()
        rows = list(dict.fromkeys((uid, scope_id(guild), now) for uid, guild in grants))
        if rows:
            async with self._lock, transaction(self.conn):
                await self.conn.executemany(GRANT, rows)

    async def revoke(self, guild_id: int, uids: Sequence[str] | None = None) -> list[str]:
        """Take away what the server sees of its own (``uids``, or everything); returns those uids."""
        async with self._lock, transaction(self.conn):
            if uids is None:
                async with self.conn.execute(
                    "SELECT uid FROM article_scopes WHERE guild_id = ?", (guild_id,)
                ) as cur:
                    uids = [r[0] for r in await cur.fetchall()]
            for part in chunks(list(uids)):
                marks = ",".join("?" * len(part))
                await self.conn.execute(
                    f"DELETE FROM article_scopes WHERE guild_id = ? AND uid IN ({marks})", (guild_id, *part)
                )
        return list(uids)

    async def unseen(self, uids: Sequence[str]) -> list[str]:
        """Those of ``uids`` nobody may see any more (to be removed from the index)."""
        sql = "SELECT DISTINCT uid FROM article_scopes WHERE uid IN (:keys)"
        seen = {r[0] for r in await rows_in(self.conn, sql, list(uids))}
        return [u for u in dict.fromkeys(uids) if u not in seen]

    async def visible(self, uids: Sequence[str], scope: Scope) -> set[str]:
        """Those of ``uids`` that ``scope`` may see."""
        sql = "SELECT DISTINCT uid FROM article_scopes WHERE uid IN (:keys) AND guild_id IN (0, :g)"
        found = await rows_in(self.conn, sql, list(uids), {"g": scope.guild_id or SHARED_ID})
        return {r[0] for r in found}

    async def viewers(self, uids: Sequence[str]) -> dict[str, set[int | None]]:
        """Who may see each of ``uids`` (server ids; None: every reader); ids nobody sees left out."""
        out: dict[str, set[int | None]] = {}
        sql = "SELECT uid, guild_id FROM article_scopes WHERE uid IN (:keys)"
        for uid, guild in await rows_in(self.conn, sql, list(uids)):
            out.setdefault(uid, set()).add(int(guild) or None)
        return out

    async def own(self, guild_id: int, uids: Sequence[str]) -> set[str]:
        """Those of ``uids`` the server sees as its own, not as part of the shared corpus."""
        return {r[0] for r in await rows_in(self.conn, OWN_UIDS, list(uids), {"g": guild_id})}

    async def owned(self, guild_id: int) -> list[str]:
        """The server's own articles (not shared ones), oldest grant first. A grant more than
        ``AHEAD_S`` ahead of the clock was made by a clock since set back: it counts as the
        oldest (trimmed first), not as newer than every grant until 2099, which made a server
        at its quota forget each page it ingested as soon as it came."""
        sql = (
            "SELECT uid FROM article_scopes x WHERE x.guild_id = ? AND NOT EXISTS "
            "(SELECT 1 FROM article_scopes y WHERE y.uid = x.uid AND y.guild_id = 0) "
            "ORDER BY added_at > ? DESC, added_at, uid"
        )
        async with self.conn.execute(sql, (guild_id, time.time() + AHEAD_S)) as cur:
            return [r[0] for r in await cur.fetchall()]

    async def servers(self) -> set[int]:
        """Servers that own articles."""
        async with self.conn.execute(
            "SELECT DISTINCT guild_id FROM article_scopes WHERE guild_id > 0"
        ) as cur:
            return {int(r[0]) for r in await cur.fetchall()}


class transaction:
    """BEGIN IMMEDIATE … COMMIT (ROLLBACK on error) on a connection in autocommit mode."""

    def __init__(self, conn: aiosqlite.Connection) -> None:
        self.conn = conn

    async def __aenter__(self) -> None:
        await self.conn.execute("BEGIN IMMEDIATE")

    async def __aexit__(self, kind: object, *rest: object) -> None:
        await self.conn.execute("ROLLBACK" if kind is not None else "COMMIT")
