"""Feed bookkeeping in the store's database file: registered feeds, their polling state, and what
became of every item (the dedupe memory). The tables are the feeds' own (``feeds.schema``).

This is ordinary relational state, not part of an index generation: it is written on its own
connection, without the writer lock, in short transactions. Concurrency: one ``StateDB`` per
process; its methods may be awaited from many tasks (writes are serialised by a lock; reads go
through a connection of their own, so they see committed rows only, and never wait for a write).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Callable, Collection, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import aiosqlite
from foreign_desk.index.config import FeedSettings
from foreign_desk.index.errors import ForeignDeskError, StoreError
from foreign_desk.index.feeds.models import Feed
from foreign_desk.index.feeds.schedule import Pace
from foreign_desk.index.feeds.schema import MIGRATIONS, MIGRATIONS_TABLE
from foreign_desk.index.fetch.errors import FetchFailure
from foreign_desk.index.sqlite import (
    connect,
    connect_reader,
    database_problem,
    in_statements,
    migrate,
    now_iso,
    open_connection,
    read_only_uri,
    refuse_unmigrated,
    rows_in,
)
from foreign_desk.index.text import caseless

log = logging.getLogger(__name__)

STORE_META = "meta(key TEXT PRIMARY KEY, value TEXT)"
"""The store's ``meta`` table, as the feeds' migrations read it."""

EVERY_LOW, EVERY_HIGH = FeedSettings.BOUNDS["poll_minutes"]
SANE = {
    "every_minutes": (
        f"CASE WHEN typeof({{t}}.every_minutes) = 'integer' "
        f"AND {{t}}.every_minutes BETWEEN {EVERY_LOW} AND {EVERY_HIGH} THEN {{t}}.every_minutes END"
    ),
    "failures": "CASE WHEN typeof({t}.failures) = 'integer' AND {t}.failures >= 0 THEN {t}.failures END",
    "next_poll": "CASE WHEN typeof({t}.next_poll) IN ('integer', 'real') THEN {t}.next_poll END",
}
"""A schedule's value in ``feeds`` or ``feed_scopes`` (alias ``{t}``), NULL where damaged: out of
the bounds ``feeds add`` keeps, or no number (a hand edit; a row a version from before migration
16 wrote while a newer one migrated). Read so, it never crashes a poll or the poller, nor polls a
feed in a loop (an interval of 0) or never again (of a century)."""
DEFAULTS = {"every_minutes": str(FeedSettings.poll_minutes), "failures": "0", "next_poll": "0"}


def sane(column: str, *tables: str) -> str:
    """``column`` of the first of ``tables`` (aliases) where it is sane (``SANE``), else its default."""
    return f"coalesce({', '.join(SANE[column].format(t=t) for t in tables)}, {DEFAULTS[column]})"


def scoped(column: str, feed: str = "feeds") -> str:
    """A subscription's (``s``) schedule value as read: its own, or where damaged its feed's
    interval (as migration 16 gave subscriptions from before), no failures, due now."""
    return sane(column, "s", feed) if column == "every_minutes" else sane(column, "s")


FEED_LANGUAGE = (
    "(SELECT CASE WHEN max(s.guild_id = 0) THEN max(CASE WHEN s.guild_id = 0 THEN s.language END) "
    "WHEN count(DISTINCT coalesce(s.language, '')) = 1 THEN max(s.language) END "
    "FROM feed_scopes s WHERE s.feed_id = feeds.id)"
)
"""The language a feed lends its articles that do not say theirs (``Ingester.fetch_page``): the
operators' where they subscribe (none, if they declared none: the shared corpus is theirs),
else the one every server subscribing declared, else none (detection's guess is all there is).
An article is stored once for every subscriber: one server's wrong language (or the one whose
subscription came first) would file the others' articles under it too."""
FEED_COLUMNS = (
    f"id, name, url, source, {FEED_LANGUAGE} AS language, "
    f"{sane('every_minutes', 'feeds')} AS every_minutes, etag, last_modified, added_at, last_polled, "
    f"last_success, last_error, last_failure, {sane('failures', 'feeds')} AS failures, "
    f"{sane('next_poll', 'feeds')} AS next_poll"
)
ITEM_COLUMNS = (
    "id, feed_id, ident, url, article_url, item_hash, text_hash, source, article_uid, status, error, "
    "attempts, stood"
)
SQL_ADD_FEED = (
    "INSERT INTO feeds(id, name, url, source, language, every_minutes, added_at, next_poll) VALUES ("
    "1 + max((SELECT coalesce(max(id), 0) FROM feeds), (SELECT coalesce(max(feed_id), 0) FROM feed_scopes), "
    "(SELECT coalesce(max(feed_id), 0) FROM feed_items)), ?, ?, ?, ?, ?, ?, 0)"
)
"""A new feed's id is one no row names: a feed row deleted by hand (no ``ON DELETE`` then) left
its subscriptions and items naming its id, and a feed given it again was another server's."""
SQL_FEED_OK = (
    "UPDATE feeds SET etag = :etag, last_modified = :modified, last_polled = :now, last_success = :now, "
    "last_error = NULL, last_failure = NULL, failures = 0 WHERE id = :feed"
)
SQL_FEED_FAILED = (
    "UPDATE feeds SET last_polled = :now, last_error = :error, last_failure = :failure, "
    "failures = failures + 1 WHERE id = :feed"
)
SQL_SCOPE_OK = (
    "UPDATE feed_scopes SET last_polled = :now, last_success = :now, last_error = NULL, "
    "last_failure = NULL, failures = 0, next_poll = :next WHERE feed_id = :feed AND guild_id = :scope"
)
SQL_SCOPE_FAILED = (
    "UPDATE feed_scopes SET last_polled = :now, last_error = :error, last_failure = :failure, "
    "failures = failures + 1, next_poll = :next WHERE feed_id = :feed AND guild_id = :scope"
)
SQL_PACES = (
    f"SELECT s.guild_id, {scoped('every_minutes')}, {scoped('failures')}, {scoped('next_poll')}, "
    "s.every_minutes, s.failures, s.next_poll FROM feed_scopes s JOIN feeds ON feeds.id = s.feed_id "
    "WHERE s.feed_id = ?"
)


def driver(column: str) -> str:
    """The feed's pace or next poll as its subscriptions' make it: the shared corpus's where the
    operators subscribe (their pace holds), else the most eager server's. With none (a damaged
    database), its own pace, and a poll's floor alone (``Ingester.polled``)."""
    of_feed = "FROM feed_scopes s WHERE s.feed_id = feeds.id"
    alone = sane(column, "feeds") if column == "every_minutes" else DEFAULTS[column]
    return (
        f"coalesce((SELECT {scoped(column)} {of_feed} AND s.guild_id = 0), "
        f"(SELECT min({scoped(column)}) {of_feed}), {alone})"
    )


SQL_NEXT_POLL = f"UPDATE feeds SET next_poll = max(:floor, {driver('next_poll')}) WHERE id = :feed"
SQL_REPACE = (
    f"UPDATE feeds SET every_minutes = {driver('every_minutes')}, next_poll = max(CASE WHEN "
    f"{sane('failures', 'feeds')} > 0 THEN {sane('next_poll', 'feeds')} ELSE 0 END, {driver('next_poll')}) "
    "WHERE id = ?"
)
"""After a subscription came or went: the feed's pace and next poll follow those left (a failing
feed's backoff kept: a new subscriber never brings a poll before a ``Retry-After``)."""
SQL_DANGLING = "SELECT feed_id, guild_id FROM feed_scopes WHERE feed_id NOT IN (SELECT id FROM feeds)"
SQL_ITEM_UPDATE = (
    "UPDATE feed_items SET url = ?, article_url = ?, item_hash = ?, text_hash = ?, source = ?, "
    "article_uid = ?, status = ?, error = ?, attempts = ?, stood = ?, last_seen = ? WHERE id = ?"
)
SQL_ITEM_INSERT = (
    "INSERT INTO feed_items(feed_id, ident, url, article_url, item_hash, text_hash, source, article_uid, "
    "status, error, attempts, stood, first_seen, last_seen) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)"
)
SQL_FEEDLESS = (
    "SELECT id, article_uid, last_seen FROM feed_items INDEXED BY feed_items_feedless "
    "WHERE feed_id IS NULL AND id > ? ORDER BY id LIMIT ?"
)
RANK = (
    "(CASE {t}.status WHEN 'stored' THEN 2 WHEN 'duplicate' THEN 1 ELSE 0 END, "
    "CASE WHEN {t}.last_seen <= :now THEN {t}.last_seen ELSE '' END, -{t}.id)"
)
"""What an item's record says, to keep the one that says most of two: stored, then duplicate,
then failed; then the one written last (``last_seen``: the higher id may be the older record;
one after ``:now`` was written by a clock since set back, at a time unknown: before the others);
then the lower id."""
SQL_ORPHANS_OUTRANKED = (
    "DELETE FROM feed_items AS o WHERE o.feed_id IS NULL AND EXISTS (SELECT 1 FROM feed_items i "
    f"WHERE i.feed_id = :feed AND i.ident = o.ident AND {RANK.format(t='i')} > {RANK.format(t='o')})"
)
SQL_ORPHANS_OUTRANKING = (
    "DELETE FROM feed_items WHERE feed_id = :feed "
    "AND ident IN (SELECT ident FROM feed_items WHERE feed_id IS NULL)"
)
SQL_DROP_FEEDLESS = (
    "DELETE FROM feed_items WHERE id = ? AND feed_id IS NULL AND article_uid IS ? AND last_seen = ?"
)
SQL_TAKE_TURN = (
    "INSERT INTO feed_flags(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value "
    "WHERE CAST(feed_flags.value AS REAL) NOT BETWEEN ? AND ?"
)
STORED = ("stored", "duplicate")
FORGET_BATCH = 1_000
"""Items of one feed forgotten after one poll at most: a store from before ``item_memory``
sheds its backlog over a few polls, each in a short transaction."""


class FeedError(ForeignDeskError):
    """A feed cannot be added, found or removed as asked."""


class FeedTaken(FeedError):
    """The scope has that feed already, or another feed by that ``name``: ``which`` says which
    ("feed", "name", or "either" where a concurrent add took one of them), so a front end can say
    it in its reader's language."""

    def __init__(self, message: str, *, name: str, which: str) -> None:
        super().__init__(message)
        self.name = name
        self.which = which


class UnknownFeed(FeedError):
    """No feed of the scope asked about has the ``name`` given."""

    def __init__(self, name: str) -> None:
        super().__init__(f"no feed called {name!r} (see `foreign-desk feeds list`)")
        self.name = name


Stood = tuple[tuple[int, str], ...]
"""The servers a stored article stood for while a failed item's page was fetched for the feed's
other subscribers (``harvest.Todo.stands``): following the feed alone, each would hold a record
naming that article (settled), and each is told what that record would say (``Ingester._triage``).
Per server, the item's hash when it was told so; "" once the item changed and its page was
fetched for that server too, failing as for the others. Written with failed records only."""


def stood_text(stood: Stood) -> str | None:
    return json.dumps({str(guild): item_hash for guild, item_hash in stood}) if stood else None


def stood_of(text: str | None, item: int = 0) -> Stood:
    """``stood_text`` read back; a damaged value (not JSON, not server ids to hashes) as none, said
    in a warning: the item's servers are then told 'duplicate' once more, as those of items from
    before (migration 15), and its feed is polled on, never failing on it for ever."""
    if not text:
        return ()
    try:
        found = json.loads(text)
        stood = tuple((int(guild), told) for guild, told in found.items())
        if all(isinstance(told, str) for _, told in stood):
            return stood
    except (ValueError, TypeError, AttributeError):
        pass
    log.warning("feed item %d: its stand-ins are damaged (%.80r): read as none", item, text)
    return ()


def failure_text(failure: FetchFailure | None) -> str | None:
    """``failure`` as stored beside its English text: ``{"kind": "HTTPStatusError", "status": 404}``."""
    if failure is None:
        return None
    values = {"kind": failure.kind, "status": failure.status, "content_type": failure.content_type}
    return json.dumps({k: v for k, v in values.items() if v is not None})


def failure_of(text: str | None) -> FetchFailure | None:
    """``failure_text`` read back; a damaged value (not JSON, no kind, a status that is no HTTP
    status, a content type that is no text) as none, so its feed is listed with its English text."""
    try:
        found = json.loads(text) if text else None
    except ValueError:
        return None
    if not isinstance(found, dict):
        return None
    kind, status, content_type = found.get("kind"), found.get("status"), found.get("content_type")
    if not isinstance(kind, str) or not isinstance(content_type, str | None):
        return None
    if status is not None and (type(status) is not int or not 100 <= status <= 599):
        return None
    return FetchFailure(kind, status, content_type)


@dataclass(frozen=True, slots=True)
class SeenItem:
    """What an earlier poll (or ``ingest``) did with an item.

    ``status`` is ``stored`` (its article is in the index), ``duplicate`` (``article_uid`` is
    the article it repeats) or ``failed`` (``error`` says why; ``attempts`` so far). A stored
    item that later repeats its own article (another scope brought its page, the stored version
    kept) stays ``stored``, with the stored text's hash: ``by_text`` reads stored items only.
    A stored or duplicate item whose page, fetched again, failed while its article is still
    indexed stays as it was too: its ``error`` and ``attempts`` (failures of the item's current
    version since the page last worked) say when to try again.
    """

    id: int
    feed_id: int | None
    ident: str
    url: str | None
    article_url: str | None
    item_hash: str
    text_hash: str | None
    source: str | None
    article_uid: str | None
    status: str
    error: str | None
    attempts: int
    stood: Stood = ()


@dataclass(frozen=True, slots=True)
class ItemRecord:
    """An item's new state, written after a fetch."""

    feed_id: int | None
    ident: str
    url: str | None
    status: str
    item_hash: str = ""
    article_url: str | None = None
    text_hash: str | None = None
    source: str | None = None
    article_uid: str | None = None
    error: str | None = None
    attempts: int = 0
    stood: Stood = ()


class Forgettable(Protocol):
    """A record housekeeping reads in batches (``key`` order) and forgets once it guards nothing
    (``spent``), given which articles are still indexed (``FeedDesk._forget_spent``)."""

    @property
    def key(self) -> Any: ...

    @property
    def article_uid(self) -> str | None: ...

    def spent(self, live: Collection[str]) -> bool: ...


@dataclass(frozen=True, slots=True)
class FeedlessItem:
    """An item no feed remembers, as housekeeping weighs it (``FeedDesk.forget_feedless_items``)."""

    id: int
    article_uid: str | None
    last_seen: str

    @property
    def key(self) -> int:
        return self.id

    def spent(self, live: Collection[str]) -> bool:
        return self.article_uid not in live


Plan = Callable[[Sequence[Pace]], tuple[Mapping[int, float], float]]
"""Given the polled feed's subscriptions' schedules, read in the transaction that writes the poll:
those it moves on (0: the shared corpus) → their next poll, and the feed's least next poll."""


@dataclass(frozen=True, slots=True)
class Polled:
    """A poll to write down (``FeedState.polled``): failed with ``error``, or read with these
    validators; ``plan`` says whose schedules it moves on, and how (``Plan``)."""

    error: str | None
    plan: Plan
    etag: str | None = None
    last_modified: str | None = None
    failure: FetchFailure | None = None
    """What failed it, when a fetch did: ``error`` apart from its words (``failure_text``)."""


@dataclass(frozen=True, slots=True)
class Subscription:
    """What a scope chose subscribing to a feed, its own whoever else follows it: its name for
    it, the URL as it gave it, its language (None: none known) and its interval in minutes."""

    name: str
    url: str
    language: str | None
    every: int


@dataclass(frozen=True, slots=True)
class NewFeed:
    """A feed to register, written with its first subscription (``FeedScopes.subscribe``)."""

    name: str
    url: str
    source: str | None
    language: str | None
    every: int

    async def insert(self, conn: aiosqlite.Connection) -> int:
        values = (self.name, self.url, self.source, self.language, self.every, now_iso())
        cur = await conn.execute(SQL_ADD_FEED, values)
        assert cur.lastrowid is not None
        return cur.lastrowid


class StateDB:
    """Two connections to the database file: ``conn`` for bookkeeping writes, in ``transaction``,
    and ``reader`` for reads outside one. A read on ``conn`` saw the rows of another task's open
    transaction (undone if it rolled back), and waited behind its ``BEGIN IMMEDIATE`` while
    another process held the write lock (up to the busy timeout: a slash command read its
    server's feeds there). ``reader`` reads the last commit (WAL) and never waits for writers."""

    def __init__(self, conn: aiosqlite.Connection, reader: aiosqlite.Connection) -> None:
        self.conn = conn
        self.reader = reader
        self.lock = asyncio.Lock()

    @classmethod
    async def open(cls, db_path: Path, *, read_only: bool = False) -> StateDB:
        """Connect to the database at ``db_path`` (the engine's, already open) and bring the
        feed tables up to date; ``read_only``: one that cannot be written (``open_read_only``)."""
        if read_only:
            return await cls.open_read_only(db_path)
        conn = await connect(db_path)
        reader: aiosqlite.Connection | None = None
        try:
            await conn.create_function("caseless", 1, caseless, deterministic=True)  # migration 12
            await migrate(conn, MIGRATIONS, MIGRATIONS_TABLE)
            await _drop_dangling(conn)
            reader = await connect_reader(db_path)
        except BaseException:
            if reader is not None:
                await reader.close()
            await conn.close()
            raise
        return cls(conn, reader)

    @classmethod
    async def open_read_only(cls, db_path: Path) -> StateDB:
        """The feed tables of a database in a data dir that cannot be written, only to read (a
        write fails): not migrated, so refused unless up to date. Tables never made there (a data
        dir only indexed so far) read as no feeds: empty ones, made in memory."""
        try:
            conn = await open_connection(read_only_uri(db_path), uri=True)
        except aiosqlite.Error as exc:
            raise StoreError(f"{db_path}: {database_problem(exc)}") from exc
        try:
            conn.row_factory = aiosqlite.Row
            async with conn.execute("SELECT 1 FROM sqlite_master WHERE name = ?", (MIGRATIONS_TABLE,)) as cur:
                made = await cur.fetchone() is not None
            if made:
                await refuse_unmigrated(conn, MIGRATIONS, MIGRATIONS_TABLE)
            else:
                await conn.close()
                conn = await open_connection(":memory:")
                conn.row_factory = aiosqlite.Row
                await conn.create_function("caseless", 1, caseless, deterministic=True)
                await conn.execute(f"CREATE TABLE {STORE_META}")  # migration 3 copies a flag from it
                await migrate(conn, MIGRATIONS, MIGRATIONS_TABLE)
            await conn.execute("PRAGMA query_only=ON")
        except BaseException as exc:
            await conn.close()
            if isinstance(exc, aiosqlite.Error):
                raise StoreError(f"{db_path}: {database_problem(exc)}") from exc
            raise
        return cls(conn, conn)

    async def close(self) -> None:
        await self.reader.close()
        await self.conn.close()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        async with self.lock:
            await self.conn.execute("BEGIN IMMEDIATE")
            try:
                yield self.conn
            except BaseException:
                await self.conn.execute("ROLLBACK")
                raise
            await self.conn.execute("COMMIT")

    async def rows(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> list[aiosqlite.Row]:
        """The rows of a read, as last committed."""
        async with self.reader.execute(sql, params) as cur:
            return list(await cur.fetchall())

    async def flag(self, key: str) -> bool:
        return bool(await self.rows("SELECT 1 FROM feed_flags WHERE key = ?", (key,)))

    async def set_flag(self, key: str) -> None:
        async with self.transaction() as conn:
            await conn.execute("INSERT OR IGNORE INTO feed_flags(key, value) VALUES (?, ?)", (key, now_iso()))

    async def take_turn(self, key: str, now: float, every_s: float) -> bool:
        """Whether this process does the chore ``key`` now: True when no process on this database
        did it in the ``every_s`` before ``now`` (a time after ``now``, a clock set back, counts
        as none). The turn is recorded by the statement that checks it: one process gets it."""
        async with self.transaction() as conn:
            cur = await conn.execute(SQL_TAKE_TURN, (key, repr(now), now - every_s, now))
            return cur.rowcount > 0


async def _drop_dangling(conn: aiosqlite.Connection) -> None:
    """End the subscriptions to feeds no longer in the database (a feed row deleted by hand, with
    no ``ON DELETE``), said in a warning: no listing shows them (``scopes.SQL_SCOPED``), and they
    held their server's name and quota. Read first: nearly every open finds none."""
    async with conn.execute(SQL_DANGLING) as cur:
        dangling = [tuple(r) for r in await cur.fetchall()]
    if not dangling:
        return
    log.warning("ending %d subscription(s) (feed, scope) to feeds no longer in the database: %.200s",
                len(dangling), dangling)  # fmt: skip
    await conn.execute("BEGIN IMMEDIATE")
    try:
        await conn.execute("DELETE FROM feed_scopes WHERE feed_id NOT IN (SELECT id FROM feeds)")
    except BaseException:
        await conn.execute("ROLLBACK")
        raise
    await conn.execute("COMMIT")


async def orphan_items(conn: aiosqlite.Connection, feed_id: int) -> None:
    """Before feed ``feed_id`` is deleted (its items then become feed-less: ``ON DELETE SET
    NULL``), keep one item per URL among its items and the feed-less ones: the one that says
    most (``RANK``). One record per URL, so that an ingest of it reads and writes that one."""
    for sql in (SQL_ORPHANS_OUTRANKED, SQL_ORPHANS_OUTRANKING):
        await conn.execute(sql, {"feed": feed_id, "now": now_iso()})


async def _paces(conn: aiosqlite.Connection, feed_id: int) -> list[Pace]:
    """Each subscription's schedule of the feed (``schedule.Pace``), its damaged values as
    ``scoped`` reads them, said in a warning."""
    paces = []
    async with conn.execute(SQL_PACES, (feed_id,)) as cur:
        for scope, every, failures, next_poll, *stored in await cur.fetchall():
            if tuple(stored) != (every, failures, next_poll):
                log.warning(
                    "feed %d: the schedule of scope %d's subscription is damaged (every_minutes, failures, "
                    "next_poll = %.80r): read as every %d minutes",
                    feed_id, scope, tuple(stored), every,
                )  # fmt: skip
            paces.append(Pace(int(scope), int(every), int(failures), float(next_poll)))
    return paces


def feed_of(row: aiosqlite.Row, guild_id: int | None = None) -> Feed:
    """A feed row (as listed in ``guild_id``'s scope: None for the shared corpus)."""
    fields = {k: row[k] for k in row.keys() if k != "scope"}  # noqa: SIM118 - aiosqlite.Row is not a Mapping
    if "catch_up_failed" in fields:
        fields["catch_up_failed"] = bool(fields["catch_up_failed"])
    fields["last_failure"] = failure_of(fields.get("last_failure"))
    return Feed(**fields, guild_id=guild_id)


def _item(row: aiosqlite.Row) -> SeenItem:
    fields = {k: row[k] for k in row.keys()}  # noqa: SIM118
    return SeenItem(**{**fields, "stood": stood_of(fields["stood"], fields["id"])})


class FeedState:
    """The feeds table and the item memory (``feed_items``)."""

    def __init__(self, db: StateDB) -> None:
        self.db = db

    # -- feeds ----------------------------------------------------------------------------
    async def feeds(self) -> list[Feed]:
        return [feed_of(r) for r in await self.db.rows(f"SELECT {FEED_COLUMNS} FROM feeds ORDER BY name")]

    async def feed(self, name_or_url: str) -> Feed | None:
        """The feed called ``name_or_url`` (case-insensitive), or registered with that URL."""
        sql = f"SELECT {FEED_COLUMNS} FROM feeds WHERE name = ? OR url = ? ORDER BY name = ? DESC LIMIT 1"
        rows = await self.db.rows(sql, (name_or_url, name_or_url, name_or_url))
        return feed_of(rows[0]) if rows else None

    async def polled(self, feed_id: int, poll: Polled) -> tuple[float, Mapping[int, float]]:
        """Write down a poll of the feed: its own state, and that of each subscription ``poll.plan``
        moves on, in the transaction that reads their schedules (a subscription that came, went
        or changed meanwhile, in any process, is planned as it is now); the feed's next poll is
        then its subscriptions' (``driver``), not before the plan's floor. Returns it, and the plan."""
        failure = failure_text(poll.failure)
        common = {"now": now_iso(), "error": poll.error, "failure": failure, "feed": feed_id}
        async with self.db.transaction() as conn:
            due, floor = poll.plan(await _paces(conn, feed_id))
            if poll.error is None:
                await conn.execute(SQL_FEED_OK, {**common, "etag": poll.etag, "modified": poll.last_modified})
            else:
                await conn.execute(SQL_FEED_FAILED, common)
            sql = SQL_SCOPE_OK if poll.error is None else SQL_SCOPE_FAILED
            for scope, next_poll in due.items():
                await conn.execute(sql, {**common, "scope": scope, "next": next_poll})
            await conn.execute(SQL_NEXT_POLL, {"floor": floor, "feed": feed_id})
            async with conn.execute("SELECT next_poll FROM feeds WHERE id = ?", (feed_id,)) as cur:
                row = await cur.fetchone()
        return (float(row[0]) if row is not None else floor), due

    async def lend(self, feed_id: int, source: str | None) -> None:
        """The operators subscribed: their outlet is what the feed's articles are credited to
        (their language, the one they get: ``FEED_LANGUAGE``)."""
        async with self.db.transaction() as conn:
            await conn.execute("UPDATE feeds SET source = ? WHERE id = ?", (source, feed_id))

    # -- items ----------------------------------------------------------------------------
    async def item(self, feed_id: int | None, ident: str) -> SeenItem | None:
        found = await self.items(feed_id, [ident])
        return found.get(ident)

    async def items(self, feed_id: int | None, idents: Sequence[str]) -> dict[str, SeenItem]:
        """What earlier polls of a feed (None: ``ingest``) did with these items, by ident."""
        sql = f"SELECT {ITEM_COLUMNS} FROM feed_items WHERE feed_id IS :feed AND ident IN (:keys)"
        return {r["ident"]: _item(r) for r in await rows_in(self.db.reader, sql, idents, {"feed": feed_id})}

    async def by_url(self, urls: Sequence[str | None]) -> list[SeenItem]:
        """Items stored (or recognised as duplicates) under these canonical URLs, stored ones
        first; their articles may since have been forgotten (the caller asks the engine)."""
        sql = (
            f"SELECT {ITEM_COLUMNS} FROM feed_items WHERE (url IN (:keys) OR article_url IN (:keys)) "
            "AND status IN ('stored', 'duplicate') AND article_uid IS NOT NULL"
        )
        found = [_item(r) for r in await rows_in(self.db.reader, sql, [u for u in urls if u])]
        return sorted(found, key=lambda i: (i.status != "stored", i.id))

    async def by_text(self, text_hash: str, source: str | None) -> list[SeenItem]:
        """Stored articles of the same outlet with the same text, oldest first."""
        sql = (
            f"SELECT {ITEM_COLUMNS} FROM feed_items WHERE text_hash = ? AND status = 'stored' "
            "AND (source = ? COLLATE NOCASE OR (source IS NULL AND ? IS NULL)) ORDER BY id"
        )
        return [_item(r) for r in await self.db.rows(sql, (text_hash, source, source))]

    async def record(self, records: Sequence[ItemRecord]) -> None:
        """Write what became of these items, in one transaction."""
        now = now_iso()
        async with self.db.transaction() as conn:
            for r in records:
                async with conn.execute(
                    "SELECT id FROM feed_items WHERE feed_id IS ? AND ident = ?", (r.feed_id, r.ident)
                ) as cur:
                    row = await cur.fetchone()
                values: tuple[Any, ...] = (r.url, r.article_url, r.item_hash, r.text_hash, r.source)
                values += (r.article_uid, r.status, r.error, r.attempts, stood_text(r.stood))
                if row is not None:
                    await conn.execute(SQL_ITEM_UPDATE, (*values, now, row[0]))
                else:
                    await conn.execute(SQL_ITEM_INSERT, (r.feed_id, r.ident, *values, now, now))

    async def forget(self, feed_id: int, listed: Collection[str], keep: int) -> int:
        """Forget the feed's items older than its ``keep`` newest, except those its latest poll
        ``listed`` (a feed lists only recent items: one listed again is known as ever), at most
        ``FORGET_BATCH`` a call; returns how many were forgotten."""
        cutoff = "SELECT id FROM feed_items WHERE feed_id = ? ORDER BY id DESC LIMIT 1 OFFSET ?"
        older = "SELECT id, ident FROM feed_items WHERE feed_id = ? AND id <= ? ORDER BY id LIMIT ?"
        async with self.db.transaction() as conn:
            async with conn.execute(cutoff, (feed_id, keep)) as cur:
                row = await cur.fetchone()
            if row is None:
                return 0
            async with conn.execute(older, (feed_id, row[0], FORGET_BATCH + len(listed))) as cur:
                doomed = [i for i, ident in await cur.fetchall() if ident not in listed]
            for sql, bound in in_statements("DELETE FROM feed_items WHERE id IN (:keys)", doomed):
                await conn.execute(sql, bound)
        return len(doomed)

    async def feedless(self, after: int, limit: int) -> list[FeedlessItem]:
        """Up to ``limit`` items no feed remembers (pages ingested one at a time, the items of
        feeds since removed) past row ``after``, oldest first."""
        rows = await self.db.rows(SQL_FEEDLESS, (after, limit))
        return [FeedlessItem(int(r[0]), r[1], r[2]) for r in rows]

    async def drop_feedless(self, items: Sequence[FeedlessItem]) -> int:
        """Delete these feed-less items, each unless it was written again since it was read (an
        ingest of its URL now); returns how many went."""
        async with self.db.transaction() as conn:
            cur = await conn.executemany(
                SQL_DROP_FEEDLESS, [(i.id, i.article_uid, i.last_seen) for i in items]
            )
            return max(cur.rowcount, 0)

    async def brought(self, feed_id: int, limit: int) -> list[SeenItem]:
        """The feed's newest ``limit`` items that brought an article (stored, or recognised as
        duplicates), newest first; their articles may since have been forgotten (the caller
        asks the engine)."""
        sql = (
            f"SELECT {ITEM_COLUMNS} FROM feed_items WHERE feed_id = ? "
            "AND status IN ('stored', 'duplicate') AND article_uid IS NOT NULL ORDER BY id DESC LIMIT ?"
        )
        return [_item(r) for r in await self.db.rows(sql, (feed_id, limit))]

    async def item_counts(self) -> dict[int, dict[str, int]]:
        """Per feed id: how many items it brought, by status."""
        out: dict[int, dict[str, int]] = {}
        sql = "SELECT feed_id, status, count(*) FROM feed_items WHERE feed_id IS NOT NULL GROUP BY 1, 2"
        for feed_id, status, n in await self.db.rows(sql):
            out.setdefault(int(feed_id), {})[status] = int(n)
        return out
