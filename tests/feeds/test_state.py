"""The feeds' bookkeeping connection (``StateDB``): what a read sees while this process writes."""

from __future__ import annotations

import asyncio
import sqlite3
from contextlib import closing

import pytest
from foreign_desk.index.engine import Engine
from foreign_desk.index.feeds import FeedDesk
from foreign_desk.index.feeds.state import NewFeed

A = 111


async def test_a_feed_whose_transaction_is_undone_is_never_listed(desk: FeedDesk) -> None:
    """Another task's transaction registered a feed, then rolled back: a listing read meanwhile
    on the shared connection showed the feed, which never was."""
    written, undo = asyncio.Event(), asyncio.Event()

    async def doomed() -> None:
        async with desk.db.transaction() as conn:
            feed_id = await NewFeed("doomed", "https://example.org/rss", None, None, 30).insert(conn)
            await conn.execute(
                "INSERT INTO feed_scopes(feed_id, guild_id, name, added_at) VALUES (?, ?, 'doomed', '')",
                (feed_id, A),
            )
            written.set()
            await undo.wait()
            raise RuntimeError("undone")

    task = asyncio.create_task(doomed())
    await written.wait()
    assert await desk.feeds(guild_id=A) == [] and await desk.all_feeds() == []
    undo.set()
    with pytest.raises(RuntimeError, match="undone"):
        await task
    assert await desk.feeds(guild_id=A) == []


async def test_a_read_never_waits_for_a_write_waiting_on_another_process(
    desk: FeedDesk, engine: Engine
) -> None:
    """A write of this process waited for another process's write lock (a fetch committing):
    on the shared connection, every read queued behind it (a slash command's look at the
    server's feeds), until the busy timeout failed the write."""
    await desk.add_feed("https://example.org/rss", name="world", check=False, guild_id=A)
    writing, loop = asyncio.Event(), asyncio.get_running_loop()

    def traced(statement: str) -> None:  # in the write connection's thread
        if statement.startswith("BEGIN IMMEDIATE"):
            loop.call_soon_threadsafe(writing.set)

    with closing(sqlite3.connect(engine.db_path, isolation_level=None)) as other:
        other.execute("BEGIN IMMEDIATE")
        await desk.db.conn.set_trace_callback(traced)
        bookkeeping = asyncio.create_task(desk.db.set_flag("bookkeeping"))
        await writing.wait()
        listed = [f.name for f in await desk.feeds(guild_id=A)]
        other.execute("ROLLBACK")
    await bookkeeping  # the write went through once the other process let the lock go

    assert listed == ["world"] and await desk.db.flag("bookkeeping")
