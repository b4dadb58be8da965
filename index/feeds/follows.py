"""Topic follows: a channel follows a topic; each newly ingested article on the topic is matched
to it once, and posted once (see ``digest``). On the topic means what ``/latest`` means
(``Engine.on_topics``, ``search/topics.py``): the article names the topic in its headline or
lede, or the topic stands out ``[feeds] topic_z`` at its best passage.

The topic is embedded once, as a query (e5 ``query:`` prompt), when it is followed; matching
an article reads its passage vectors, headline and lede from the store, so it costs no model
call. A match records the z-score of the article's best passage.
Concurrency: methods may be awaited from many tasks; writes go through ``StateDB``'s lock.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import time
from collections.abc import Awaitable, Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

import numpy as np
from foreign_desk.index.feeds.drops import SQL_FORGET_FOLLOWED
from foreign_desk.index.feeds.models import Follow, Match
from foreign_desk.index.feeds.state import FeedError, StateDB
from foreign_desk.index.models import ArticleSummary, Scope
from foreign_desk.index.sqlite import now_iso
from foreign_desk.index.text import caseless

if TYPE_CHECKING:
    from foreign_desk.index.engine import Engine

log = logging.getLogger(__name__)

MAX_TOPIC_CHARS = 200
MatchListener = Callable[[list[Match]], Awaitable[None] | None]

SQL_FOLLOWS = "SELECT id, channel_id, topic, guild_id, created_by, created_at, locale FROM follows"
SQL_ADD_FOLLOW = (  # unless the channel or its server has its cap: checked by the statement that adds
    "INSERT INTO follows(channel_id, guild_id, topic, topic_key, vector, fingerprint, created_by, "
    "created_at, locale, parent_id) SELECT ?,?,?,?,?,?,?,?,?,? "
    "WHERE (SELECT count(*) FROM follows WHERE channel_id = ?) < ? "
    "AND (SELECT count(*) FROM follows WHERE guild_id = ?) < ?"
)
NO_CAP = 1 << 62
SQL_ADD_MATCH = (
    "INSERT OR IGNORE INTO follow_matches(follow_id, article_uid, similarity, matched_at) "
    "SELECT ?, ?, ?, ? WHERE NOT EXISTS (SELECT 1 FROM follow_matches m JOIN follows f ON f.id = m.follow_id "
    "WHERE f.channel_id = ? AND m.article_uid = ?)"
)
SQL_PENDING = (
    "SELECT m.follow_id, f.channel_id, f.topic, m.article_uid, m.similarity, m.matched_at, f.guild_id "
    "FROM follow_matches m JOIN follows f ON f.id = m.follow_id WHERE m.posted_at IS NULL"
)
"""Matches not posted yet; ``AND m.claim IS NULL`` for those nobody is sending either."""
SQL_LAST_POSTS = (
    "SELECT f.channel_id, max(m.posted_at) FROM follow_matches m JOIN follows f ON f.id = m.follow_id "
    "WHERE m.posted_at <= ? GROUP BY f.channel_id"
)
SQL_SETTLED = (
    "SELECT m.follow_id, m.article_uid, m.similarity, m.matched_at, m.posted_at, f.id IS NULL "
    "FROM follow_matches m LEFT JOIN follows f ON f.id = m.follow_id WHERE m.claim IS NULL "
    "AND (m.posted_at IS NULL OR m.posted_at NOT BETWEEN ? AND ?) AND (m.follow_id, m.article_uid) > (?, ?) "
    "ORDER BY m.follow_id, m.article_uid LIMIT ?"
)
SQL_DROP_SETTLED = (
    "DELETE FROM follow_matches WHERE follow_id = ? AND article_uid = ? AND claim IS NULL AND posted_at IS ?"
)
SQL_RESTORE = (  # a posted match, unless its channel has a match of the article (again)
    "INSERT OR IGNORE INTO follow_matches(follow_id, article_uid, similarity, matched_at, posted_at) "
    "SELECT f.id, ?, ?, ?, ? FROM follows f WHERE f.id = ? AND NOT EXISTS (SELECT 1 FROM follow_matches m "
    "JOIN follows g ON g.id = m.follow_id WHERE g.channel_id = f.channel_id AND m.article_uid = ?)"
)
SQL_CARRY = (  # the matches of a server's channels with one version of a page, made another's:
    # posted as they were (one being sent, claimed, as posted: its send goes out), waiting still
    "INSERT OR IGNORE INTO follow_matches(follow_id, article_uid, similarity, matched_at, posted_at) "
    "SELECT m.follow_id, ?, m.similarity, m.matched_at, "
    "CASE WHEN m.claim IS NULL THEN m.posted_at ELSE coalesce(m.posted_at, m.matched_at) END "
    "FROM follow_matches m JOIN follows f ON f.id = m.follow_id WHERE m.article_uid = ? AND f.guild_id = ?"
)
POSTED_KEPT_S = 30 * 86400.0
"""How long a posted match outlives its article in the index: an article ingested again from
its URL (the same id) within that time is not alerted again where it was."""


class AlreadyFollowed(FeedError):
    """The channel follows ``topic`` already (``topic`` as it was followed then)."""

    def __init__(self, topic: str) -> None:
        super().__init__(f"this channel already follows {topic!r}")
        self.topic = topic


class TooManyFollows(FeedError):
    """The channel follows ``limit`` topics already."""

    where = "channel"

    def __init__(self, limit: int) -> None:
        super().__init__(f"this {self.where} already follows {limit} topics")
        self.limit = limit


class TooManyServerFollows(TooManyFollows):
    """The channel's server follows ``limit`` topics already, across its channels."""

    where = "server"


class NotFollowed(FeedError):
    """The channel does not follow the ``topic`` given (already whitespace-normalized)."""

    def __init__(self, topic: str) -> None:
        super().__init__(f"this channel does not follow {topic!r}")
        self.topic = topic


@dataclass(frozen=True, slots=True)
class SettledMatch:
    """A match nobody is sending (unposted, or posted before a cutoff), as housekeeping weighs it
    (``FeedDesk.forget_spent_matches``)."""

    follow_id: int
    article_uid: str
    similarity: float
    matched_at: float
    posted_at: float | None
    unfollowed: bool
    """Its follow is gone (its rows normally went with it: ``ON DELETE CASCADE``)."""

    @property
    def key(self) -> tuple[int, str]:
        return (self.follow_id, self.article_uid)

    def spent(self, live: Collection[str]) -> bool:
        """Nothing to post (its article left the index) nor to guard (posted before the cutoff)."""
        return self.unfollowed or self.article_uid not in live


@dataclass(frozen=True, slots=True)
class _Caps:
    """How many topics a channel, and its server (``guild_id``), may follow; None: no cap."""

    channel: int | None
    server: int | None
    guild_id: int | None

    def params(self, channel_id: int) -> tuple[int | None, ...]:
        """The last four parameters of ``SQL_ADD_FOLLOW`` (a follow of no server has no server cap)."""
        server = NO_CAP if self.server is None or self.guild_id is None else self.server
        return (channel_id, NO_CAP if self.channel is None else self.channel, self.guild_id, server)


def _follow(row: Sequence) -> Follow:
    return Follow(int(row[0]), int(row[1]), row[2], row[3], row[4], row[5], row[6])


class Follows:
    """Follows, their matches, and what was posted."""

    def __init__(self, engine: Engine, db: StateDB, *, clock: Callable[[], float] = time.time) -> None:
        self.engine = engine
        self.db = db
        self.clock = clock
        self._listeners: list[MatchListener] = []

    # -- follows ---------------------------------------------------------------------------
    async def add(
        self,
        channel_id: int,
        topic: str,
        *,
        guild_id: int | None = None,
        created_by: int | None = None,
        locale: str | None = None,
        limit: int | None = None,
        server_limit: int | None = None,
        parent_id: int | None = None,
    ) -> Follow:
        """Follow ``topic`` in a channel (a thread of ``parent_id``: ``drops``), embedding it now;
        ``AlreadyFollowed`` if it does, ``TooManyFollows`` if it follows ``limit`` topics already
        and ``TooManyServerFollows`` if its server follows ``server_limit`` (in all its channels),
        each checked again by the insert (other tasks and processes may follow meanwhile).
        ``locale`` is the server's (``Follow.locale``)."""
        topic = " ".join(topic.split())
        if not topic:
            raise FeedError("the topic is empty")
        if len(topic) > MAX_TOPIC_CHARS:
            raise FeedError(f"the topic is longer than {MAX_TOPIC_CHARS} characters")
        caps = _Caps(limit, server_limit, guild_id)
        await self._refuse(channel_id, topic, caps)
        vector = await self.engine.embed_query(topic)
        fingerprint = self.engine.fingerprint.to_json()
        key = caseless(topic)
        row = (
            channel_id,
            guild_id,
            topic,
            key,
            _blob(vector),
            fingerprint,
            created_by,
            now_iso(),
            locale,
            parent_id,
        )
        try:
            async with self.db.transaction() as conn:
                cur = await conn.execute(SQL_ADD_FOLLOW, (*row, *caps.params(channel_id)))
                if cur.rowcount:
                    await conn.execute(SQL_FORGET_FOLLOWED, (channel_id, key))
        except sqlite3.IntegrityError:  # the unique (channel, topic_key): followed meanwhile
            await self._refuse(channel_id, topic, _Caps(None, None, None))
            raise AlreadyFollowed(topic) from None
        if not cur.rowcount:
            await self._refuse(channel_id, topic, caps)
            raise TooManyFollows(NO_CAP if limit is None else limit)  # capped then, no more now
        follow_id = int(cur.lastrowid)  # type: ignore[arg-type]
        rows = await self.db.rows(f"{SQL_FOLLOWS} WHERE id = ?", (follow_id,))
        return _follow(rows[0])

    async def _refuse(self, channel_id: int, topic: str, caps: _Caps) -> None:
        """``AlreadyFollowed`` (with the topic as followed), ``TooManyFollows`` or
        ``TooManyServerFollows``, as things are now."""
        followed = await self.following(channel_id)
        same = next((f for f in followed if caseless(f.topic) == caseless(topic)), None)
        if same is not None:
            raise AlreadyFollowed(same.topic)
        if caps.channel is not None and len(followed) >= caps.channel:
            raise TooManyFollows(caps.channel)
        if caps.server is not None and caps.guild_id is not None:
            rows = await self.db.rows("SELECT count(*) FROM follows WHERE guild_id = ?", (caps.guild_id,))
            if rows[0][0] >= caps.server:
                raise TooManyServerFollows(caps.server)

    async def remove(self, channel_id: int, topic: str) -> Follow:
        """Stop following ``topic`` (in any case: ``caseless``) in a channel; its unposted matches go too."""
        topic = " ".join(topic.split())
        found = [f for f in await self.following(channel_id) if caseless(f.topic) == caseless(topic)]
        if not found:
            raise NotFollowed(topic)
        async with self.db.transaction() as conn:
            await conn.execute("DELETE FROM follows WHERE id = ?", (found[0].id,))
        return found[0]

    async def following(self, channel_id: int | None = None, *, guild_id: int | None = None) -> list[Follow]:
        """Follows of a channel, of a guild, or all of them; oldest first (read as last committed,
        never behind a write: for autocomplete too, which must answer within Discord's 3 seconds)."""
        where: list[str] = []
        params: list[Any] = []
        if channel_id is not None:
            where.append("channel_id = ?")
            params.append(channel_id)
        if guild_id is not None:
            where.append("guild_id = ?")
            params.append(guild_id)
        sql = SQL_FOLLOWS + (" WHERE " + " AND ".join(where) if where else "") + " ORDER BY id"
        return [_follow(r) for r in await self.db.rows(sql, params)]

    async def server_locale(self, guild_id: int, locale: str) -> int:
        """The server's locale is now ``locale``: its follows say so; returns how many changed.
        Called for every server a process connects to: a write only where something changes."""
        where, params = "WHERE guild_id = ? AND locale IS NOT ?", (guild_id, locale)
        if not await self.db.rows(f"SELECT 1 FROM follows {where} LIMIT 1", params):
            return 0
        async with self.db.transaction() as conn:
            cur = await conn.execute(f"UPDATE follows SET locale = ? {where}", (locale, *params))
            return int(cur.rowcount)

    def on_match(self, listener: MatchListener) -> Callable[[], None]:
        """Call ``listener(new_matches)`` after ingestion matched articles; returns an unsubscribe."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener) if listener in self._listeners else None

    # -- matching --------------------------------------------------------------------------
    async def match(
        self, article_ids: Sequence[str], *, seen_before: Mapping[str, Collection[int | None]] | None = None
    ) -> list[Match]:
        """Match newly ingested articles against every follow; record and return the new matches.

        An article is matched to a channel at most once, whatever follows or updates follow,
        and only where the channel's server may see it (a server's own articles stay there).
        ``seen_before``: who saw each article already (``Engine.viewers``, read before a
        duplicate was granted to more servers); only follows whose server did not are matched:
        the article is new to them alone.
        """
        if not article_ids:
            return []
        follows = await self._vectors()
        if not follows:
            return []
        topics, vectors = [f[2] for f in follows], np.stack([f[3] for f in follows])
        verdicts = await self.engine.on_topics(list(article_ids), topics, vectors)
        now = self.clock()
        found: list[tuple[int, int, str, str, float]] = []
        for uid, per_follow in verdicts.items():
            for (fid, channel, topic, _, _), score in zip(follows, per_follow, strict=True):
                if score is not None:
                    found.append((fid, channel, topic, uid, score))
        guild_of = {f[0]: f[4] for f in follows}
        if seen_before is not None:
            found = [f for f in found if not Scope(guild_of[f[0]]).sees(seen_before.get(f[3], ()))]
        seen = await self._visible([(f[3], guild_of[f[0]]) for f in found])
        found = [f for f in found if (f[3], guild_of[f[0]]) in seen]
        if not found:
            return []
        new = []
        async with self.db.transaction() as conn:
            for fid, channel, topic, uid, sim in found:
                cur = await conn.execute(SQL_ADD_MATCH, (fid, uid, round(sim, 4), now, channel, uid))
                if cur.rowcount:
                    new.append((fid, channel, topic, uid, sim))
        summaries = await self._summaries([n[3] for n in new])
        matches = [
            Match(fid, channel, topic, summaries[uid], round(sim, 4), now, guild_of[fid])
            for fid, channel, topic, uid, sim in new
            if uid in summaries
        ]
        if matches:
            log.info("%d new topic match(es): %s", len(matches), ", ".join(m.article.title for m in matches))
            for listener in list(self._listeners):
                try:
                    result = listener(matches)
                    if asyncio.iscoroutine(result):
                        await result
                except Exception:
                    log.exception("a topic-match listener failed")
        return matches

    async def _visible(self, wanted: Sequence[tuple[str, int | None]]) -> set[tuple[str, int | None]]:
        """Those (article id, server) pairs whose server may see the live article now, read at
        once for every server (a follow's server, None outside one: the shared corpus alone)."""
        if not wanted:
            return set()
        viewers = await self.engine.viewers([uid for uid, _ in wanted])
        return {(uid, g) for uid, g in wanted if Scope(g).sees(viewers.get(uid, ()))}

    async def _vectors(self) -> list[tuple[int, int, str, np.ndarray, int | None]]:
        """(id, channel, topic, vector, server) of every follow, re-embedding topics of another model."""
        fingerprint = self.engine.fingerprint.to_json()
        rows = await self.db.rows(
            "SELECT id, channel_id, topic, vector, fingerprint, guild_id FROM follows ORDER BY id"
        )
        out = []
        for fid, channel, topic, blob, fp, guild in rows:
            vector = np.frombuffer(blob, dtype=np.float32)
            if fp != fingerprint or len(vector) != self.engine.fingerprint.dim:
                vector = await self.engine.embed_query(topic)
                async with self.db.transaction() as conn:
                    await conn.execute(
                        "UPDATE follows SET vector = ?, fingerprint = ? WHERE id = ?",
                        (_blob(vector), fingerprint, fid),
                    )
            out.append((int(fid), int(channel), topic, vector, int(guild) if guild else None))
        return out

    async def _summaries(self, uids: Sequence[str]) -> dict[str, ArticleSummary]:
        return await self.engine.summaries(uids)

    # -- posting ---------------------------------------------------------------------------
    async def pending(self, channel_id: int | None = None, *, claim: str | None = None) -> list[Match]:
        """Matches not yet posted nor claimed, or those of one ``claim``. Left out: those whose
        article left the index, and those whose follow's server may no longer see it (it became
        another server's own since it matched): they stay unposted, and housekeeping forgets
        them once their article leaves the index."""
        sql, params = f"{SQL_PENDING} AND m.claim IS ?", cast(tuple[Any, ...], (claim,))
        if channel_id is not None:
            sql, params = f"{sql} AND f.channel_id = ?", (*params, channel_id)
        rows = [(*r[:6], int(r[6]) if r[6] else None) for r in await self.db.rows(sql, params)]
        seen = await self._visible([(r[3], r[6]) for r in rows])
        rows = [r for r in rows if (r[3], r[6]) in seen]
        summaries = await self._summaries([r[3] for r in rows])
        return [
            Match(int(r[0]), int(r[1]), r[2], summaries[r[3]], float(r[4]), float(r[5]), r[6])
            for r in rows
            if r[3] in summaries
        ]

    async def last_posts(self, before: float) -> dict[int, float]:
        """When each channel last got an alert (Unix seconds), up to ``before``: a later one was
        recorded by a clock since set back, and would hide the posts made since."""
        return {int(ch): float(at) for ch, at in await self.db.rows(SQL_LAST_POSTS, (before,))}

    # -- housekeeping ----------------------------------------------------------------------
    async def settled(
        self, after: tuple[int, str], limit: int, *, posted_before: float, posted_after: float
    ) -> list[SettledMatch]:
        """Up to ``limit`` matches past ``after`` (in key order) nobody is sending: unposted, or
        posted before ``posted_before``, or after ``posted_after`` (by a clock since set back: a
        post in 2099 kept its match until 30 days after then)."""
        rows = await self.db.rows(SQL_SETTLED, (posted_before, posted_after, *after, limit))
        return [SettledMatch(int(r[0]), r[1], r[2], r[3], r[4], bool(r[5])) for r in rows]

    async def forget(self, matches: Sequence[SettledMatch]) -> int:
        """Delete these matches, each unless it was claimed or posted since it was read. One whose
        article is indexed again (ingested anew meanwhile: its new match found the row and added
        none) is made again: posted, it is put back; unposted, the article is matched anew (to
        follows whose server may see it now). Returns how many were deleted and not put back."""
        if not matches:
            return 0
        async with self.db.transaction() as conn:
            cur = await conn.executemany(SQL_DROP_SETTLED, [(*m.key, m.posted_at) for m in matches])
            gone = max(cur.rowcount, 0)
        back = await self.engine.live([m.article_uid for m in matches])
        if posted := [m for m in matches if m.article_uid in back and m.posted_at is not None]:
            async with self.db.transaction() as conn:
                cur = await conn.executemany(
                    SQL_RESTORE,
                    [
                        (m.article_uid, m.similarity, m.matched_at, m.posted_at, m.follow_id, m.article_uid)
                        for m in posted
                    ],
                )
                gone -= max(cur.rowcount, 0)
        if unposted := {m.article_uid for m in matches if m.article_uid in back and m.posted_at is None}:
            await self.match(sorted(unposted))
        return gone

    async def carry(self, versions: Mapping[str, Sequence[str]], guilds: Collection[int | None]) -> None:
        """The servers ``guilds`` see a version of their own of a page (an id of ``versions``)
        instead of those they saw (its ids there): where one was matched, so is it, posted or
        waiting as it was (an update of an article they alone see keeps its id and its match:
        not alerted again, nor dropped before it went out)."""
        rows = [
            (new, old, g) for new, olds in versions.items() for old in olds for g in guilds if g is not None
        ]
        if rows:
            async with self.db.transaction() as conn:
                await conn.executemany(SQL_CARRY, rows)

    async def mark_posted(self, channel_id: int, article_ids: Sequence[str], at: float | None = None) -> int:
        """Record that these articles were posted in the channel; returns how many matches that closed."""
        if not article_ids:
            return 0
        at = self.clock() if at is None else at
        marks = ",".join("?" * len(article_ids))
        sql = (
            f"UPDATE follow_matches SET posted_at = ? WHERE posted_at IS NULL AND article_uid IN ({marks}) "
            "AND follow_id IN (SELECT id FROM follows WHERE channel_id = ?)"
        )
        async with self.db.transaction() as conn:
            cur = await conn.execute(sql, (at, *article_ids, channel_id))
            return int(cur.rowcount)


def _blob(vector: np.ndarray) -> bytes:
    return np.asarray(vector, dtype=np.float32).tobytes()
