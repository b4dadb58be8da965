"""Items no feed remembers (pages ingested, removed feeds' items) are one record per URL: an
ingest of the URL reads and writes that one, so what it says of the stored article holds."""

from __future__ import annotations

from pathlib import Path

from foreign_desk.index.config import FeedSettings
from foreign_desk.index.engine import Engine
from foreign_desk.index.feeds import FeedDesk
from foreign_desk.index.feeds.schema import MIGRATIONS, MIGRATIONS_TABLE
from foreign_desk.index.sqlite import connect, migrate, now_iso
from foreign_desk.index.text import caseless

from tests.fake_embedder import FakeEmbedder
from tests.feeds.conftest import publish, serve_story
from tests.feeds.news import PATROL
from tests.fetch.fixture_server import FixtureServer

A, B = 111, 222
COPY = PATROL.with_(path="/world/2024/mar/05/arafura-sea-joint-patrols-agreed")
SQL_ITEMS = "SELECT ident, status FROM feed_items WHERE feed_id IS NULL ORDER BY id"
SQL_ADD_ITEM = (
    "INSERT INTO feed_items(feed_id, ident, url, status, first_seen, last_seen) "
    "VALUES (NULL, ?, ?, ?, '2024-03-05T10:00:00Z', '2024-03-05T10:00:00Z')"
)


async def test_a_page_also_a_removed_feeds_item_keeps_saying_it_was_stored(
    server: FixtureServer, desk: FeedDesk, engine: Engine
) -> None:
    """A ingested PATROL, also an item of A's feed (a duplicate of it), removed since; B ingests
    the page (A's stored version kept: a duplicate to B). The same text at another address of its
    outlet is then PATROL, not a second article shown twice."""
    serve_story(server, PATROL)
    first = await desk.ingest(server.url(PATROL.path), guild_id=A)
    await desk.add_feed(publish(server, "/a", PATROL), name="a", check=False, guild_id=A)
    assert [i.status for i in (await desk.fetch(guild_id=A)).items] == ["duplicate"]
    await desk.remove_feed("a", guild_id=A)
    assert (await desk.ingest(server.url(PATROL.path), guild_id=B)).status == "duplicate"
    serve_story(server, COPY)

    copy = await desk.ingest(server.url(COPY.path), guild_id=A)

    assert (copy.status, copy.article_id) == ("duplicate", first.article_id)
    assert (await engine.stats()).articles == 1
    assert [tuple(r) for r in await desk.db.rows(SQL_ITEMS)] == [
        (server.url(PATROL.path), "stored"),
        (server.url(COPY.path), "duplicate"),
    ]


async def test_the_feed_migration_10_keeps_the_record_of_a_url_that_says_most(
    make_settings, tmp_path: Path
) -> None:
    settings = make_settings(tmp_path / "data", feeds=FeedSettings(seed=False))
    async with await Engine.open(settings, embedder=FakeEmbedder()) as engine:
        conn = await connect(engine.db_path)
        await migrate(conn, [m for m in MIGRATIONS if m[0] < 10], MIGRATIONS_TABLE)
        rows = [("u1", "stored"), ("u1", "duplicate"), ("u1", "failed"), ("u2", "failed"),
                ("u2", "duplicate"), ("u3", "duplicate"), ("u3", "duplicate"), ("u4", "failed")]  # fmt: skip
        await conn.executemany(SQL_ADD_ITEM, [(ident, ident, status) for ident, status in rows])
        await conn.commit()
        await conn.close()
        async with await FeedDesk.open(engine) as desk:
            kept = await desk.db.rows("SELECT id, ident, status FROM feed_items ORDER BY id")
    assert [tuple(r) for r in kept] == [
        (1, "u1", "stored"),
        (5, "u2", "duplicate"),
        (6, "u3", "duplicate"),  # written in the same second: the lower id, the one ingests wrote
        (8, "u4", "failed"),
    ]


async def test_the_feed_migration_10_keeps_the_record_an_ingest_wrote_last(
    server: FixtureServer, desk: FeedDesk, engine: Engine
) -> None:
    """Before migration 10 an ingest of a URL with two feed-less records read the higher id's
    and wrote the lower's: the higher one said what the page held before (here, a removed feed's
    record of an older version). The one written last stays, so the same text at another address
    of the outlet is still the stored article, not a second one."""
    serve_story(server, PATROL)
    first = await desk.ingest(server.url(PATROL.path), guild_id=A)
    conn = await connect(engine.db_path)
    try:  # as the database stood at migration 9, the older record added after the ingest's
        await conn.execute("DROP INDEX feed_items_feedless_ident")
        await conn.execute("ALTER TABLE alert_claims DROP COLUMN maybe_since")
        await conn.execute("DROP INDEX follows_channel_topic_key")
        await conn.execute("ALTER TABLE follows DROP COLUMN topic_key")
        for column in ("attempts", "retry_at"):  # migration 13's
            await conn.execute(f"ALTER TABLE feed_catch_ups DROP COLUMN {column}")
        await conn.execute("ALTER TABLE feed_scopes DROP COLUMN catch_up_failed")  # migration 14's
        await conn.execute("ALTER TABLE feed_items DROP COLUMN stood")  # migration 15's
        for column in ("url", "language", "every_minutes", "last_polled", "last_success", "last_error",
                       "failures", "next_poll"):  # fmt: skip  # migration 16's
            await conn.execute(f"ALTER TABLE feed_scopes DROP COLUMN {column}")
        await conn.execute("DROP TABLE dropped_follows")  # migration 17's (18's columns with it)
        await conn.execute("DROP INDEX follows_parent")
        await conn.execute("ALTER TABLE follows DROP COLUMN parent_id")  # migration 18's
        await conn.execute("DROP TABLE undelivered_alerts")  # migration 19's
        for table in ("feeds", "feed_scopes"):  # migration 20's
            await conn.execute(f"ALTER TABLE {table} DROP COLUMN last_failure")
        await conn.execute(f"DELETE FROM {MIGRATIONS_TABLE} WHERE version >= 10")
        await conn.execute(
            "INSERT INTO feed_items(feed_id, ident, url, article_url, text_hash, source, article_uid, "
            "status, first_seen, last_seen) SELECT NULL, ident, url, article_url, 'an older version', "
            "source, article_uid, status, '2024-03-01T10:00:00Z', '2024-03-01T10:00:00Z' FROM feed_items"
        )
        await conn.create_function("caseless", 1, caseless, deterministic=True)  # as StateDB.open
        await migrate(conn, MIGRATIONS, MIGRATIONS_TABLE)
    finally:
        await conn.close()
    assert [tuple(r) for r in await desk.db.rows(SQL_ITEMS)] == [(server.url(PATROL.path), "stored")]
    serve_story(server, COPY)

    copy = await desk.ingest(server.url(COPY.path), guild_id=A)

    assert (copy.status, copy.article_id) == ("duplicate", first.article_id)
    assert (await engine.stats()).articles == 1


async def test_a_removed_feeds_item_outranks_a_record_written_while_the_clock_said_2099(
    server: FixtureServer, desk: FeedDesk
) -> None:
    """Of two records of a URL that say as much, the one written last stays when a feed goes. One
    written "in 2099" by a clock since set right was written at a time unknown: it was kept over
    every record written since, until 2099, and ingests of the URL read what it said."""
    serve_story(server, PATROL)
    feed = await desk.add_feed(publish(server, "/a", PATROL), name="a", check=False, guild_id=A)
    url = server.url(PATROL.path)
    async with desk.db.transaction() as conn:
        for feed_id, text_hash, seen in (
            (None, "from 2099", "2099-01-01T00:00:00Z"),
            (feed.id, "now", now_iso()),
        ):
            await conn.execute(
                "INSERT INTO feed_items(feed_id, ident, url, text_hash, status, first_seen, last_seen) "
                "VALUES (?, ?, ?, ?, 'duplicate', ?, ?)",
                (feed_id, url, url, text_hash, seen, seen),
            )

    await desk.remove_feed("a", guild_id=A)

    kept = await desk.db.rows("SELECT feed_id, text_hash FROM feed_items WHERE ident = ?", (url,))
    assert [tuple(r) for r in kept] == [(None, "now")]
