"""A server's own feeds and pages: quotas, what it keeps, and forgetting a server the bot left.

Quotas (``[feeds]``): ``server_max_feeds`` feeds of its own, ``server_ingests_per_hour`` pages
asked to be ingested, or checked as a feed being added, in any hour (counted before the fetch,
whatever comes of it), and
``server_max_articles`` articles of its own kept: beyond that the oldest are forgotten (removed
from the index unless someone else sees them). A refusal is a ``QuotaExceeded`` that says which
quota and, for the rate, when the next page may come. The feed and ingest quotas are counted in
the transaction that writes, so concurrent requests, in any process, never pass them.

When the bot leaves a server, its follows stop at once (the front end's business) and the
server is marked departed; ``forget_departed`` later (``forget_after``) drops its feeds and its
own articles, and what the front end keeps of it (``also``: the Discord bot's time zone), unless
the bot came back meanwhile (``back``).
Concurrency: methods may be awaited from many tasks (writes go through ``StateDB``).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from foreign_desk.index.config import FeedSettings
from foreign_desk.index.feeds.scopes import FeedScopes
from foreign_desk.index.feeds.state import FeedError, NewFeed, Subscription

if TYPE_CHECKING:
    from foreign_desk.index.engine import Engine

log = logging.getLogger(__name__)

HOUR_S = 3600.0


class QuotaExceeded(FeedError):
    """A server asked for more than its quota: ``kind`` is feeds or ingests; ``limit`` the quota;
    ``wait_s`` (ingests) how long until the next one is allowed."""

    def __init__(self, message: str, *, kind: str, limit: int, wait_s: float = 0.0) -> None:
        super().__init__(message)
        self.kind = kind
        self.limit = limit
        self.wait_s = wait_s


class Servers:
    """Per-server quotas, retention and departures for one ``FeedDesk``."""

    def __init__(
        self, engine: Engine, scopes: FeedScopes, settings: FeedSettings, clock: Callable[[], float]
    ) -> None:
        self.engine = engine
        self.scopes = scopes
        self.settings = settings
        self.clock = clock

    async def check_feed_room(self, guild_id: int) -> None:
        """Refuse early (before a feed is fetched to check it); ``subscribe`` decides."""
        if await self.scopes.count(guild_id) >= self.settings.server_max_feeds:
            raise self.feeds_full()

    async def subscribe(self, feed: int | NewFeed, guild_id: int | None, sub: Subscription) -> int:
        """Subscribe a server to a feed (``FeedScopes.subscribe``) within its quota, or the
        shared corpus (no quota); returns the feed's id."""
        limit = None if guild_id is None else self.settings.server_max_feeds
        feed_id = await self.scopes.subscribe(feed, guild_id, sub, now=self.clock(), limit=limit)
        if feed_id is None:
            raise self.feeds_full()
        return feed_id

    def feeds_full(self) -> QuotaExceeded:
        limit = self.settings.server_max_feeds
        return QuotaExceeded(
            f"this server already has {limit} feed(s) of its own, the most it may have: remove one first",
            kind="feeds",
            limit=limit,
        )

    async def charge_ingest(self, guild_id: int) -> None:
        """Count a page the server asks to ingest, before it is fetched and whatever comes of
        it (a page that fails cost a fetch too), or refuse it when the hour's quota is spent."""
        limit = self.settings.server_ingests_per_hour
        now = self.clock()
        recent = await self.scopes.charge_ingest(guild_id, now, since=now - HOUR_S, limit=limit)
        if len(recent) >= limit:
            wait = recent[-limit] + HOUR_S - now if limit else HOUR_S
            raise QuotaExceeded(
                f"this server ingested {limit} page(s) in the last hour, the most it may; "
                f"the next one can come in {math.ceil(wait / 60)} minute(s)",
                kind="ingests",
                limit=limit,
                wait_s=wait,
            )

    async def trim(self, guild_id: int) -> int:
        """Forget the server's oldest own articles beyond ``server_max_articles``; how many went."""
        own = await self.engine.own_articles(guild_id)
        excess = len(own) - self.settings.server_max_articles
        if excess <= 0:
            return 0
        removed = await self.engine.forget(guild_id, own[:excess])
        log.info(
            "server %s keeps %d articles of its own: forgot the %d oldest (%d left the index)",
            guild_id,
            self.settings.server_max_articles,
            excess,
            removed,
        )
        return excess

    async def left(self, guild_id: int) -> None:
        await self.scopes.left(guild_id, self.clock())

    async def back(self, guild_id: int) -> bool:
        return await self.scopes.back(guild_id)

    async def forget_departed(
        self, after_s: float, also: Callable[[int], Awaitable[object]] | None = None
    ) -> list[int]:
        """Forget the servers the bot left more than ``after_s`` ago: ``also(guild_id)`` first (what
        the caller keeps of it; a failure leaves the departure to the next look), then their feeds
        (feeds nobody else polls are unregistered) and their own articles; a server the bot is back in
        by the time its turn comes keeps everything. Returns their ids."""
        now = self.clock()
        gone = []
        for guild_id in await self.scopes.departed(now - after_s, now):
            if not await self.scopes.still_departed(guild_id):
                continue  # back since the list was read (while an earlier server was forgotten)
            gone.append(guild_id)
            if also is not None:
                await also(guild_id)
            feeds = await self.scopes.forget(guild_id)
            removed = await self.engine.forget(guild_id)
            log.info(
                "forgot server %s, left %.0f+ days ago: %d feed subscription(s), %d article(s) removed",
                guild_id,
                after_s / 86400,
                len(feeds),
                removed,
            )
        return gone
