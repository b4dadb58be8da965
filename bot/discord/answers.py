"""What the buttons under an answer need after a restart, and the votes on answers: the bot's own
SQLite file (``discord.sqlite3`` beside the index; the engine's store is not touched).

An answer gets a short random id, which its buttons carry in their ``custom_id`` (100 characters
at most: too short for a question). The row holds the question, its filters and a salted hash of
who asked, and lives ``ttl_s`` (the ``[discord] view_timeout_s``): a button of an older answer is
told "expired", and so is one made more than ``AHEAD_S`` ahead of the clock (by a clock since set
back: made while it said 2099, it kept its buttons until then). Each page shown is kept with the
passages on it, so a vote records exactly what its voter saw. A vote copies the question and the
page, and outlives the answer; its voter is a salted hash of the answer and the user, so it allows
one vote per user and answer and links no two answers of one user. The users' cooldowns are kept
here too (``cooldowns``: when each last asked, and the end of the wait each was last told of),
each server's time zone, as an admin set it (``zones``), and when each server's last /admin
fetch began (``server_fetches``), so every process spaces them, and the ids of the messages and
commands a process took to answer (``claims``), so that two processes given the same one answer it
once. Nothing stores a Discord user id.

Concurrency: one store per process, used from its event loop: its writes on one connection, one
at a time (a lock), its reads on another; several processes (shards, a CLI export) may open the
same file (WAL, a busy timeout, and every write one statement or one transaction).
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import hmac
import json
import logging
import secrets
import sqlite3
import time
from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import asdict, dataclass
from pathlib import Path

import aiosqlite
from foreign_desk.index.errors import StoreError
from foreign_desk.index.models import Filters, Result
from foreign_desk.index.sqlite import connect_reader, database_problem, error_code, open_connection

log = logging.getLogger(__name__)

Upgrading = Callable[[], AbstractAsyncContextManager[None]]
"""What holds the data dir alone while an older version's file is migrated (``Engine.upgrading``)."""

FILE_NAME = "discord.sqlite3"
ID_ALPHABET = "abcdefghijkmnpqrstuvwxyz23456789"
ID_LENGTH = 12
AHEAD_S = 60.0
"""An answer made this little ahead of the clock (a clock stepped back a moment) keeps its buttons
until its own time plus ``ttl_s``; one further ahead was made by a clock since set back, and its
age is unknown: it is expired, so no button outlives ``ttl_s`` (and a minute) once the clock is right."""

MIGRATIONS = (
    """
    CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE answers (
        id TEXT PRIMARY KEY,
        created_at REAL NOT NULL,
        question TEXT NOT NULL,
        filters TEXT NOT NULL,
        asker TEXT NOT NULL
    );
    CREATE INDEX answers_by_age ON answers (created_at);
    CREATE TABLE pages (
        answer_id TEXT NOT NULL REFERENCES answers (id) ON DELETE CASCADE,
        offset INTEGER NOT NULL,
        shown TEXT NOT NULL,
        PRIMARY KEY (answer_id, offset)
    );
    CREATE TABLE votes (
        answer_id TEXT NOT NULL,
        voter TEXT NOT NULL,
        vote INTEGER NOT NULL CHECK (vote IN (-1, 1)),
        voted_at REAL NOT NULL,
        question TEXT NOT NULL,
        filters TEXT NOT NULL,
        offset INTEGER NOT NULL,
        shown TEXT NOT NULL,
        PRIMARY KEY (answer_id, voter)
    );
    """,
    """
    CREATE TABLE cooldowns (asker TEXT PRIMARY KEY, asked_at REAL NOT NULL) WITHOUT ROWID;
    CREATE INDEX cooldowns_by_age ON cooldowns (asked_at);
    """,
    """
    CREATE TABLE server_zones (guild_id INTEGER PRIMARY KEY, zone TEXT NOT NULL);
    """,
    """
    CREATE TABLE cooldown_notices (asker TEXT PRIMARY KEY, until REAL NOT NULL) WITHOUT ROWID;
    """,
    """
    CREATE TABLE server_fetches (guild_id INTEGER PRIMARY KEY, fetched_at REAL NOT NULL);
    """,
    """
    CREATE TABLE claims (id INTEGER PRIMARY KEY, claimed_at REAL NOT NULL);
    CREATE INDEX claims_by_age ON claims (claimed_at);
    """,
)
SQL_SPACE_FETCH = (
    "INSERT INTO server_fetches (guild_id, fetched_at) VALUES (?, ?) ON CONFLICT (guild_id) DO UPDATE "
    "SET fetched_at = excluded.fetched_at "
    "WHERE server_fetches.fetched_at <= ? OR server_fetches.fetched_at > ?"
)
"""Start a server's fetch unless its last one began within the spacing; one begun ahead of the clock
(the clock was set back) is no wait."""


@dataclass(frozen=True)
class Shown:
    """One passage as a page showed it: enough to judge it later without the index."""

    rank: int
    passage_id: int
    article_id: str
    title: str
    url: str | None
    source: str | None
    language: str | None
    highlight: str
    text: str
    match: str = "strong"
    """``Result.match``: ``"none"`` when it was shown under "Less closely related:" (pages stored
    before it existed read as ``"strong"``)."""

    @classmethod
    def of(cls, result: Result) -> Shown:
        art = result.article
        return cls(
            result.rank,
            result.passage_id,
            art.id,
            art.title,
            art.url,
            art.source,
            art.language,
            result.highlight,
            result.text,
            result.match,
        )


@dataclass(frozen=True)
class AnswerState:
    id: str
    created_at: float
    question: str
    filters: Filters
    asker: str


@dataclass(frozen=True)
class Vote:
    answer_id: str
    vote: int
    voted_at: float
    question: str
    filters: Filters
    offset: int
    shown: tuple[Shown, ...]


def _filters_json(filters: Filters) -> str:
    return json.dumps({k: v for k, v in asdict(filters).items() if v}, sort_keys=True)


def _shown_json(shown: Sequence[Shown]) -> str:
    return json.dumps([asdict(s) for s in shown], ensure_ascii=False)


def _shown(text: str) -> tuple[Shown, ...]:
    return tuple(Shown(**item) for item in json.loads(text))


class AnswerStore:
    """Open with ``await AnswerStore.open(data_dir, ttl_s=...)``; ``clock`` is wall time (seconds)."""

    def __init__(
        self,
        conn: aiosqlite.Connection,
        reader: aiosqlite.Connection,
        salt: bytes,
        ttl_s: float,
        clock: Callable[[], float],
    ) -> None:
        self.conn = conn
        self.reader = reader
        """Reads: the last commit, never queued behind a write of ``conn`` waiting for another
        process's lock (a click's answer looked up there waited up to the busy timeout), nor
        shown another task's transaction before it commits or rolls back."""
        self._salt = salt
        self.ttl_s = ttl_s
        self.clock = clock
        self._transaction = asyncio.Lock()
        """One transaction at a time on the shared connection: two /asks answered at once (a
        cached answer comes back within a millisecond) would otherwise both BEGIN."""

    @classmethod
    async def open(
        cls,
        data_dir: Path,
        *,
        ttl_s: float,
        clock: Callable[[], float] = time.time,
        upgrading: Upgrading | None = None,
    ) -> AnswerStore:
        """Open (or create) the file; a damaged one is moved aside, kept, and started afresh: old
        buttons then say "expired", and the bot keeps answering. Any other failure (a full disk,
        a file it may not write, another process's lock) is one line, the file left as it is:
        set aside, its votes and buttons were lost to a problem that passes. A file an older
        version made is migrated inside ``upgrading`` (the open engine's ``Engine.upgrading``;
        without one, ``Engine.upgrading_alone``): refused while another process has the data dir
        open, which would go on writing it as it knows it (``index.store.upgrade``)."""
        data_dir.mkdir(parents=True, exist_ok=True)
        if upgrading is None:
            from foreign_desk.index.engine import Engine

            upgrading = functools.partial(Engine.upgrading_alone, data_dir)
        try:
            return await cls._open(data_dir, ttl_s, clock, upgrading)
        except sqlite3.DatabaseError as exc:
            if error_code(exc) not in (sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB):
                raise StoreError(f"{data_dir / FILE_NAME}: {database_problem(exc)}") from None
            kept = _set_aside(data_dir / FILE_NAME)
            log.error("%s is damaged (%s): kept as %s, starting a new one", FILE_NAME, exc, kept.name)
            return await cls._open(data_dir, ttl_s, clock, upgrading)

    @classmethod
    async def _open(
        cls, data_dir: Path, ttl_s: float, clock: Callable[[], float], upgrading: Upgrading
    ) -> AnswerStore:
        conn = await open_connection(data_dir / FILE_NAME)
        try:
            for pragma in ("journal_mode=WAL", "foreign_keys=ON", "busy_timeout=10000"):
                await conn.execute(f"PRAGMA {pragma}")
            await _migrate(conn, upgrading)
            await conn.execute(
                "INSERT OR IGNORE INTO meta (key, value) VALUES ('salt', ?)", (secrets.token_hex(32),)
            )
            async with conn.execute("SELECT value FROM meta WHERE key = 'salt'") as cur:
                row = await cur.fetchone()
            reader = await connect_reader(data_dir / FILE_NAME)
        except BaseException:
            await conn.close()
            raise
        assert row is not None
        return cls(conn, reader, bytes.fromhex(row[0]), ttl_s, clock)

    async def close(self) -> None:
        await self.reader.close()
        await self.conn.close()

    def hash_user(self, purpose: str, answer_id: str, user_id: int) -> str:
        """A salted hash of ``user_id`` for one answer: the same user gets another one elsewhere."""
        message = f"{purpose}:{answer_id}:{user_id}".encode()
        return hmac.new(self._salt, message, hashlib.sha256).hexdigest()[:32]

    # -- answers ------------------------------------------------------------------------------------
    async def remember(self, question: str, filters: Filters, asker_id: int) -> AnswerState:
        """A new answer's state (and forget those past their time)."""
        now = self.clock()
        answer_id = "".join(secrets.choice(ID_ALPHABET) for _ in range(ID_LENGTH))
        state = AnswerState(answer_id, now, question, filters, self.hash_user("asker", answer_id, asker_id))
        async with self._transaction:
            await self.conn.execute("BEGIN IMMEDIATE")
            try:
                await self.conn.execute(
                    "DELETE FROM answers WHERE created_at NOT BETWEEN ? AND ?",
                    (now - self.ttl_s, now + AHEAD_S),
                )
                await self.conn.execute(
                    "INSERT INTO answers (id, created_at, question, filters, asker) VALUES (?, ?, ?, ?, ?)",
                    (answer_id, now, question, _filters_json(filters), state.asker),
                )
                await self.conn.execute("COMMIT")
            except BaseException:
                await self.conn.execute("ROLLBACK")
                raise
        return state

    async def recall(self, answer_id: str) -> AnswerState | None:
        """The answer's state, or None when it is unknown, older than ``ttl_s``, or made more
        than ``AHEAD_S`` ahead of the clock."""
        sql = "SELECT id, created_at, question, filters, asker FROM answers WHERE id = ?"
        async with self.reader.execute(sql, (answer_id,)) as cur:
            row = await cur.fetchone()
        now = self.clock()
        if row is None or not now - self.ttl_s <= row[1] <= now + AHEAD_S:
            return None
        return AnswerState(row[0], row[1], row[2], Filters(**json.loads(row[3])), row[4])

    def is_asker(self, state: AnswerState, user_id: int) -> bool:
        return hmac.compare_digest(state.asker, self.hash_user("asker", state.id, user_id))

    async def page_shown(self, answer_id: str, offset: int, results: Sequence[Result]) -> None:
        """Keep the page shown. Not inside another task's open transaction: its rollback undid
        the page, and a vote on it failed as 'never shown'."""
        shown = _shown_json([Shown.of(r) for r in results])
        async with self._transaction:
            await self.conn.execute(
                "INSERT OR REPLACE INTO pages (answer_id, offset, shown) VALUES (?, ?, ?)",
                (answer_id, offset, shown),
            )

    async def page(self, answer_id: str, offset: int) -> tuple[Shown, ...] | None:
        sql = "SELECT shown FROM pages WHERE answer_id = ? AND offset = ?"
        async with self.reader.execute(sql, (answer_id, offset)) as cur:
            row = await cur.fetchone()
        return _shown(row[0]) if row is not None else None

    # -- votes --------------------------------------------------------------------------------------
    async def vote(self, state: AnswerState, offset: int, user_id: int, vote: int) -> int | None:
        """Record ``user_id``'s vote (+1 / -1) on the page at ``offset``; return their vote before
        (None for a first vote). A second vote replaces the first: one vote per user and answer."""
        shown = await self.page(state.id, offset)
        if shown is None:
            raise LookupError(f"page {offset} of answer {state.id} was never shown")
        voter = self.hash_user("voter", state.id, user_id)
        async with self._transaction:
            await self.conn.execute("BEGIN IMMEDIATE")
            try:
                sql = "SELECT vote FROM votes WHERE answer_id = ? AND voter = ?"
                async with self.conn.execute(sql, (state.id, voter)) as cur:
                    before = await cur.fetchone()
                await self.conn.execute(
                    "INSERT OR REPLACE INTO votes (answer_id, voter, vote, voted_at, question, filters, "
                    "offset, shown) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        state.id,
                        voter,
                        vote,
                        self.clock(),
                        state.question,
                        _filters_json(state.filters),
                        offset,
                        _shown_json(shown),
                    ),
                )
                await self.conn.execute("COMMIT")
            except BaseException:
                await self.conn.execute("ROLLBACK")
                raise
        return int(before[0]) if before is not None else None

    async def votes(self) -> list[Vote]:
        """Every vote, oldest first."""
        sql = (
            "SELECT answer_id, vote, voted_at, question, filters, offset, shown FROM votes ORDER BY voted_at"
        )
        async with self.reader.execute(sql) as cur:
            rows = await cur.fetchall()
        return [
            Vote(r[0], int(r[1]), r[2], r[3], Filters(**json.loads(r[4])), int(r[5]), _shown(r[6]))
            for r in rows
        ]

    # -- servers' time zones ------------------------------------------------------------------------
    async def server_zone(self, guild_id: int) -> str | None:
        """The IANA time zone an admin set for the server, or None. Read on every question:
        another process may have set it."""
        sql = "SELECT zone FROM server_zones WHERE guild_id = ?"
        async with self.reader.execute(sql, (guild_id,)) as cur:
            row = await cur.fetchone()
        return str(row[0]) if row is not None else None

    async def set_server_zone(self, guild_id: int, zone: str | None) -> None:
        """Keep the server's zone; None forgets it (its language's default applies again)."""
        async with self._transaction:  # not inside another task's open transaction
            if zone is None:
                await self.conn.execute("DELETE FROM server_zones WHERE guild_id = ?", (guild_id,))
            else:
                await self.conn.execute(
                    "INSERT OR REPLACE INTO server_zones (guild_id, zone) VALUES (?, ?)", (guild_id, zone)
                )

    # -- servers' fetches ---------------------------------------------------------------------------
    async def space_fetch(self, guild_id: int, spacing_s: float) -> float:
        """0 when the server may fetch now (its wait starts), else the seconds left of the wait its
        last fetch began, in whichever process: one statement decides and starts it, so two
        processes (a rolling restart, a restart) never both admit. Waits over are forgotten."""
        if spacing_s <= 0:
            return 0.0
        now = self.clock()
        async with self._transaction:  # not inside another task's open transaction
            cur = await self.conn.execute(SQL_SPACE_FETCH, (guild_id, now, now - spacing_s, now))
            if cur.rowcount:
                await self.conn.execute(
                    "DELETE FROM server_fetches WHERE fetched_at NOT BETWEEN ? AND ?", (now - spacing_s, now)
                )
                return 0.0
            sql = "SELECT fetched_at FROM server_fetches WHERE guild_id = ?"
            async with self.conn.execute(sql, (guild_id,)) as found:
                row = await found.fetchone()
        return max(0.0, float(row[0]) + spacing_s - now) if row is not None else 0.0

    async def servers(self) -> set[int]:
        """The servers something is kept of here (a time zone), for noticing the ones that left."""
        async with self.reader.execute("SELECT guild_id FROM server_zones") as cur:
            return {int(row[0]) for row in await cur.fetchall()}

    async def forget_server(self, guild_id: int) -> None:
        """Forget what is kept of a server the bot left long ago (``housekeeping``): its zone."""
        await self.set_server_zone(guild_id, None)

    async def columns(self, table: str) -> list[str]:
        """The column names of ``table`` (for tests that check what is stored)."""
        async with self.conn.execute(f"PRAGMA table_info({table})") as cur:
            return [str(r[1]) for r in await cur.fetchall()]


def _set_aside(path: Path) -> Path:
    """Rename a damaged database (and its WAL files) to ``<name>.damaged-<unix time>``."""
    kept = path.with_name(f"{path.name}.damaged-{int(time.time())}")
    for suffix in ("", "-wal", "-shm"):
        part = path.with_name(path.name + suffix)
        if part.exists():
            part.replace(kept.with_name(kept.name + suffix))
    return kept


async def _migrate(conn: aiosqlite.Connection, upgrading: Upgrading) -> None:
    """Apply the migrations not yet recorded (``user_version``): inside ``upgrading`` where an
    older version made the file (a new one, nothing migrated yet, two processes may make at once)."""
    async with conn.execute("PRAGMA user_version") as cur:
        row = await cur.fetchone()
    if 0 < (int(row[0]) if row is not None else 0) < len(MIGRATIONS):
        async with upgrading():
            await _apply_migrations(conn)
    else:
        await _apply_migrations(conn)


async def _apply_migrations(conn: aiosqlite.Connection) -> None:
    """Apply the migrations not yet recorded (``user_version``) in one transaction."""
    await conn.execute("BEGIN IMMEDIATE")
    try:
        async with conn.execute("PRAGMA user_version") as cur:
            row = await cur.fetchone()
        version = int(row[0]) if row is not None else 0
        if version > len(MIGRATIONS):  # a newer version's file: never written by code that does not know it
            raise StoreError(
                f"{FILE_NAME} was made by a newer version of Foreign Desk (version {version}, this "
                f"version knows up to {len(MIGRATIONS)}): upgrade Foreign Desk to open it"
            )
        for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
            for statement in (s.strip() for s in script.split(";")):
                if statement:
                    await conn.execute(statement)
            await conn.execute(f"PRAGMA user_version = {number}")
        await conn.execute("COMMIT")
    except BaseException:
        await conn.execute("ROLLBACK")
        raise
