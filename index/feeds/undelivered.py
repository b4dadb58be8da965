"""Alerts given up on: a post Discord refused, or failed to answer, on every one of its attempts
(``bot.discord.alerts``) is dropped (its matches count as posted). Only a log line said so; each
is now remembered for ``DROPS_KEPT_S`` (when, the channel, its topics, its first headline and how
many articles it held, why), so ``/following`` shows the members of its channel and server what
they did not get, in whichever process answers. Follows stay: the next alert may well arrive.
Concurrency: methods may be awaited from many tasks; writes go through ``StateDB``'s lock.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, cast, get_args

from foreign_desk.index.feeds.damaged import a_time, an_id, one_of, rows_read, some_text
from foreign_desk.index.feeds.drops import DROPS_KEPT_S, forget_past, where_of
from foreign_desk.index.feeds.models import Post
from foreign_desk.index.feeds.state import StateDB

UndeliveredReason = Literal["refused", "unanswered"]
"""Discord refused the message (nothing was posted); Discord failed or did not answer (it may
have been posted, unseen)."""
UNDELIVERED_SHOWN = 5
"""The most undelivered alerts one listing reads (newest first)."""

SQL_REMEMBER = (
    "INSERT INTO undelivered_alerts(channel_id, guild_id, parent_id, topics, headline, articles, "
    "reason, dropped_at) VALUES (?, ?, (SELECT parent_id FROM follows WHERE channel_id = ? "
    "AND parent_id IS NOT NULL LIMIT 1), ?, ?, ?, ?, ?)"
)
SQL_RECENT = (
    "SELECT channel_id, topics, headline, articles, reason, dropped_at, id FROM undelivered_alerts "
    "WHERE {where} AND dropped_at >= ? ORDER BY dropped_at DESC, id DESC LIMIT ?"
)


@dataclass(frozen=True, slots=True)
class UndeliveredAlert:
    """An alert (or digest) given up on, when (Unix seconds) and why."""

    channel_id: int
    topics: tuple[str, ...]
    headline: str
    """The first article's headline (a digest's newest)."""
    articles: int
    reason: UndeliveredReason
    dropped_at: float


class Undelivered:
    """Remembering the alerts given up on for a while, and listing them."""

    def __init__(self, db: StateDB, *, clock: Callable[[], float] = time.time) -> None:
        self.db = db
        self.clock = clock

    async def remember(self, post: Post, reason: UndeliveredReason) -> None:
        """Remember ``post`` as given up on."""
        headline = post.items[0].article.title if post.items else ""
        values = (
            post.channel_id,
            post.guild_id,
            post.channel_id,
            json.dumps(list(post.topics), ensure_ascii=False),
            headline,
            len(post.items),
            reason,
            self.clock(),
        )
        async with self.db.transaction() as conn:
            await conn.execute(SQL_REMEMBER, values)

    async def recent(
        self, *, channel_id: int | None = None, guild_id: int | None = None
    ) -> list[UndeliveredAlert]:
        """Those of a channel (and its threads) or of a server in the last ``DROPS_KEPT_S``,
        newest first (``UNDELIVERED_SHOWN`` at most)."""
        where, keys = where_of(channel_id, guild_id, threads=True)
        since = self.clock() - DROPS_KEPT_S
        rows = await self.db.rows(SQL_RECENT.format(where=where), (*keys, since, UNDELIVERED_SHOWN))
        return rows_read("undelivered_alerts", rows, _alert)

    async def forget_old(self) -> int:
        """Forget those past ``DROPS_KEPT_S``: housekeeping's. Returns how many went."""
        return await forget_past(self.db, "undelivered_alerts", self.clock())


def _alert(channel: Any, topics: Any, headline: Any, articles: Any, reason: Any, at: Any) -> UndeliveredAlert:
    """A row of ``SQL_RECENT``, checked (``damaged``): ``topics`` a JSON list of topics."""
    if not isinstance(articles, int) or isinstance(articles, bool) or articles < 0:
        raise TypeError(f"articles {articles!r:.40} is no count")
    if not isinstance(headline, str):
        raise TypeError(f"headline {headline!r:.40} is no text")
    listed = json.loads(some_text(topics, "topics"))
    if not isinstance(listed, list) or not listed:
        raise TypeError(f"topics {topics!r:.40} is no list of topics")
    return UndeliveredAlert(
        an_id(channel, "channel"),
        tuple(some_text(topic, "topic") for topic in listed),
        headline,
        articles,
        cast(UndeliveredReason, one_of(reason, get_args(UndeliveredReason), "reason")),
        a_time(at, "time"),
    )
