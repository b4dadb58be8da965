"""The feeds' tables are the feeds' own (``index.feeds.schema``), and stores made before that,
whose feed tables came from the store's migration 3, keep their feeds, follows and memory."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

import aiosqlite
import pytest
from foreign_desk.index.config import FeedSettings
from foreign_desk.index.engine import Engine
from foreign_desk.index.feeds import FeedDesk
from foreign_desk.index.feeds.follows import AlreadyFollowed
from foreign_desk.index.feeds.schema import MIGRATIONS as FEED_MIGRATIONS
from foreign_desk.index.sqlite import connect, migrate
from foreign_desk.index.store.db import DB_NAME
from foreign_desk.index.store.schema import MIGRATIONS as STORE_MIGRATIONS
from foreign_desk.index.text import caseless

from tests.fake_embedder import FakeEmbedder
from tests.faults.damage import open_killed_at

# The feed tables exactly as the store's migration 3 created them before the split.
OLD_MIGRATION_3 = FEED_MIGRATIONS[0][1].replace(" IF NOT EXISTS", "")
NOW = "2024-03-05T10:00:00Z"


async def versions(db: Path, table: str) -> list[int]:
    conn = await connect(db)
    try:
        async with conn.execute(f"SELECT version FROM {table} ORDER BY version") as cur:
            return [int(r[0]) for r in await cur.fetchall()]
    finally:
        await conn.close()


async def make_old_store(data: Path, fake: FakeEmbedder) -> None:
    """A store as the schema before the split left it: seeded, one feed, its memory, a follow."""
    data.mkdir(parents=True)
    conn = await connect(data / DB_NAME)
    await migrate(conn, [*STORE_MIGRATIONS, (3, OLD_MIGRATION_3)])
    statements = [
        ("INSERT INTO meta(key, value) VALUES ('feeds_seeded', ?)", (NOW,)),
        ("INSERT INTO feeds(name, url, every_minutes, added_at) "
         "VALUES ('antara', 'https://a.example/rss', 30, ?)", (NOW,)),
        ("INSERT INTO feed_items(feed_id, ident, url, status, article_uid, first_seen, last_seen) "
         "VALUES (1, 'guid-1', 'https://a.example/1', 'stored', 'abc', ?, ?)", (NOW, NOW)),
        ("INSERT INTO follows(channel_id, topic, vector, fingerprint, created_at) "
         "VALUES (5, 'Gaza', ?, ?, ?)", (fake.vector("Gaza").tobytes(), fake.fingerprint.to_json(), NOW)),
    ]  # fmt: skip
    for sql, params in statements:
        await conn.execute(sql, params)
    await conn.close()


async def feeds_before(version: int, data: Path) -> aiosqlite.Connection:
    """A new store in ``data`` whose feeds' tables are as the migrations before ``version`` left
    them: what an older version made."""
    data.mkdir()
    conn = await connect(data / DB_NAME)
    await conn.create_function("caseless", 1, caseless, deterministic=True)  # feed migration 12
    await migrate(conn, STORE_MIGRATIONS)
    await migrate(conn, [m for m in FEED_MIGRATIONS if m[0] < version], "feed_schema_migrations")
    return conn


async def test_a_store_from_before_the_split_keeps_its_feeds(make_settings, tmp_path: Path) -> None:
    fake, data = FakeEmbedder(), tmp_path / "data"
    await make_old_store(data, fake)
    settings = make_settings(data, feeds=FeedSettings(seed=True))  # seeded once already: not again
    async with await Engine.open(settings, embedder=fake) as engine, await FeedDesk.open(engine) as desk:
        assert [f.name for f in await desk.feeds()] == ["antara"]
        assert [(f.topic, f.locale) for f in await desk.following(5)] == [("Gaza", None)]
        # The memory keeps the item, now known by its canonical link (feed migration 6).
        remembered = await desk.state.items(1, ["https://a.example/1"])
        assert [i.article_uid for i in remembered.values()] == ["abc"]
        await desk.add_feed("https://b.example/rss", name="other", check=False)
    assert await versions(data / DB_NAME, "schema_migrations") == sorted(
        {3, *(v for v, _ in STORE_MIGRATIONS)}
    )
    assert await versions(data / DB_NAME, "feed_schema_migrations") == [v for v, _ in FEED_MIGRATIONS]


async def test_a_new_store_gets_the_feed_tables_from_the_feeds_alone(make_settings, tmp_path: Path) -> None:
    settings = make_settings(feeds=FeedSettings(seed=True))
    async with await Engine.open(settings, embedder=FakeEmbedder()) as engine:
        async with await FeedDesk.open(engine) as desk:
            seeded = [f.name for f in await desk.feeds()]
            await desk.remove_feed(seeded[0])
        async with await FeedDesk.open(engine) as desk:  # the seed list is registered once only
            assert [f.name for f in await desk.feeds()] == seeded[1:]
    assert seeded and await versions(engine.db_path, "schema_migrations") == [v for v, _ in STORE_MIGRATIONS]
    assert await versions(engine.db_path, "feed_schema_migrations") == [v for v, _ in FEED_MIGRATIONS]


async def test_topics_followed_twice_in_two_cases_before_keep_their_rows_and_are_followed_once_after(
    make_settings, tmp_path: Path
) -> None:
    """A channel followed "Türkiye" and "TÜRKIYE" before the topic key (NOCASE folded ASCII
    only): the migration keeps both rows and their matches, and from then on the database refuses
    a third case of the topic, from this connection or another process's."""
    fake, data = FakeEmbedder(), tmp_path / "data"
    data.mkdir()
    conn = await connect(data / DB_NAME)
    await migrate(conn, STORE_MIGRATIONS)
    await migrate(conn, [m for m in FEED_MIGRATIONS if m[0] < 12], "feed_schema_migrations")
    vector, fingerprint = fake.vector("Türkiye").tobytes(), fake.fingerprint.to_json()
    for channel, topic in ((5, "Türkiye"), (5, "TÜRKIYE"), (6, "TÜRKİYE"), (6, "ﬁnance")):
        await conn.execute(
            "INSERT INTO follows(channel_id, topic, vector, fingerprint, created_at) VALUES (?, ?, ?, ?, ?)",
            (channel, topic, vector, fingerprint, NOW),
        )
    await conn.execute("INSERT INTO follow_matches VALUES (2, 'abc', 0.5, 1.0, NULL, NULL)")
    await conn.close()
    settings = make_settings(data, feeds=FeedSettings(seed=False))
    async with await Engine.open(settings, embedder=fake) as engine, await FeedDesk.open(engine) as desk:
        assert [f.topic for f in await desk.following(5)] == ["Türkiye", "TÜRKIYE"]
        assert [m.follow_id for m in await desk.follows.pending()] == []  # 'abc' is not indexed
        assert [tuple(r) for r in await desk.db.rows("SELECT follow_id FROM follow_matches")] == [(2,)]
        with pytest.raises(AlreadyFollowed, match="Türkiye"):
            await desk.follow(5, "türkiye")
        with pytest.raises(AlreadyFollowed):
            await desk.follow(6, "Finance")
        with closing(sqlite3.connect(engine.db_path)) as other, pytest.raises(sqlite3.IntegrityError):
            other.execute(
                "INSERT INTO follows(channel_id, topic, topic_key, vector, fingerprint, created_at) "
                "VALUES (5, 'TüRKIYE', ?, x'', '{}', ?)",
                (caseless("TüRKIYE"), NOW),
            )
        await desk.unfollow(5, "TÜRKIYE")
        await desk.unfollow(5, "türkiye")
        assert await desk.following(5) == []
        assert [f.topic for f in await desk.following(6)] == ["TÜRKİYE", "ﬁnance"]


def columns(db: Path, table: str) -> list[str]:
    with closing(sqlite3.connect(db)) as conn:
        return [r[1] for r in conn.execute(f"PRAGMA table_info({table})")]


@pytest.mark.parametrize("killed", [False, True])
async def test_subscriptions_from_before_keep_their_feeds_with_what_came_after_they_subscribed(
    killed: bool, make_settings, tmp_path: Path
) -> None:
    """Feed migration 16 gives each subscription its own URL, language, interval and polls' state:
    those from before take the feed's, but a server that subscribed after the feed's last poll is
    not shown its failures (another's history), and one that subscribed after its last success
    not that success; the shared corpus, there from the start, keeps them all. ``killed``: a
    process migrating was killed once it had run every statement of it, before its commit: the
    tables are as they were, and the next open migrates them as if nothing had happened."""
    data = tmp_path / "data"
    conn = await feeds_before(16, data)
    await conn.execute(
        "INSERT INTO feeds(id, name, url, language, every_minutes, added_at, last_polled, last_success, "
        "last_error, failures, next_poll) VALUES (1, 'wire', 'https://a.example/rss', 'id', 10, ?, "
        "'2024-03-05T12:00:00Z', '2024-03-05T11:00:00Z', 'HTTP 500', 2, 1709650000)",
        (NOW,),
    )
    for guild, added in ((0, NOW), (5, "2024-03-05T11:30:00Z"), (6, "2024-03-05T13:00:00Z")):
        await conn.execute(
            "INSERT INTO feed_scopes(feed_id, guild_id, name, added_at) VALUES (1, ?, ?, ?)",
            (guild, f"wire-{guild}", added),
        )
    await conn.close()
    if killed:
        before = columns(data / DB_NAME, "feed_scopes")
        open_killed_at("foreign_desk.index.feeds.state:StateDB", data / DB_NAME, "feed_schema_migrations-16")
        assert columns(data / DB_NAME, "feed_scopes") == before and "every_minutes" not in before
        assert (await versions(data / DB_NAME, "feed_schema_migrations"))[-1] == 15
    settings = make_settings(data, feeds=FeedSettings(seed=False))
    async with (
        await Engine.open(settings, embedder=FakeEmbedder()) as engine,
        await FeedDesk.open(engine) as desk,
    ):
        shown = {g: (await desk.feeds(guild_id=g))[0] for g in (None, 5, 6)}
        [polled] = await desk.all_feeds()
    for feed in shown.values():
        assert (feed.url, feed.language, feed.every_minutes, feed.next_poll) == (
            "https://a.example/rss",
            "id",
            10,
            1709650000,
        )
    assert [(f.last_success, f.failures, f.last_error) for f in shown.values()] == [
        ("2024-03-05T11:00:00Z", 2, "HTTP 500"),
        (None, 2, "HTTP 500"),
        (None, 0, None),
    ]
    assert (shown[None].added_at, shown[6].added_at) == (NOW, "2024-03-05T13:00:00Z")
    assert (polled.every_minutes, polled.failures) == (10, 2)


async def test_feeds_failing_before_what_failed_them_was_stored_keep_their_english(
    make_settings, tmp_path: Path
) -> None:
    """Feed migration 20 stores what failed a feed's last poll beside its English text: feeds that
    failed before have none, and keep their English text and failures in a row."""
    data = tmp_path / "data"
    conn = await feeds_before(20, data)
    await conn.execute(
        "INSERT INTO feeds(id, name, url, every_minutes, added_at, last_polled, last_error, failures) "
        "VALUES (1, 'wire', 'https://a.example/rss', 10, ?, ?, 'HTTP 500 fetching x', 2)",
        (NOW, NOW),
    )
    await conn.execute(
        "INSERT INTO feed_scopes(feed_id, guild_id, name, added_at, url, every_minutes, last_polled, "
        "last_error, failures) VALUES (1, 5, 'wire', ?, 'https://a.example/rss', 10, ?, ?, 2)",
        (NOW, NOW, "HTTP 500 fetching x"),
    )
    await conn.close()
    settings = make_settings(data, feeds=FeedSettings(seed=False))
    async with (
        await Engine.open(settings, embedder=FakeEmbedder()) as engine,
        await FeedDesk.open(engine) as desk,
    ):
        listed = [*await desk.feeds(guild_id=5), *await desk.all_feeds()]
    kept = ("HTTP 500 fetching x", 2, None)
    assert [(f.last_error, f.failures, f.last_failure) for f in listed] == [kept] * 2
    assert await versions(data / DB_NAME, "feed_schema_migrations") == [v for v, _ in FEED_MIGRATIONS]
