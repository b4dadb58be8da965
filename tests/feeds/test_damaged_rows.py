"""Damaged feed rows (a hand edit, a version that wrote a row without the columns a newer one
added): read as something sane and said in a warning, never served, never a crash of the poller
or a feed's polls, never a feed polled in a loop or never again."""

from __future__ import annotations

import itertools
import logging
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest
from foreign_desk.index.engine import Engine
from foreign_desk.index.feeds import FeedDesk, FetchReport, Match, Post
from foreign_desk.index.models import ArticleSummary

from tests.feeds.conftest import FakeClock, publish, wait_until
from tests.feeds.news import GAZA, SUDAN
from tests.feeds.test_poller import between_polls
from tests.fetch.fixture_server import FixtureServer

A, B = 111, 222


def edit(db: Path, sql: str, params: tuple[object, ...] = ()) -> None:
    """Change the database as a hand edit does: another connection, foreign keys off (the
    ``sqlite3`` shell's default)."""
    with closing(sqlite3.connect(db)) as conn:
        conn.execute("PRAGMA foreign_keys=OFF")
        conn.execute(sql, params)
        conn.commit()


async def poll_times(
    desk: FeedDesk, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> dict[str, list[float]]:
    """Run the poller until feeds "w" and "z" were polled three times each: when each poll was."""
    polled: dict[str, list[float]] = {"w": [], "z": []}

    def on_run(report: FetchReport) -> None:
        for run in report.runs:
            polled.setdefault(run.feed, []).append(run.polled_at)

    poller = desk.poller(sleep=between_polls(desk, clock, monkeypatch), on_run=on_run)
    poller.start()
    try:
        await wait_until(lambda: len(polled["w"]) >= 3 and len(polled["z"]) >= 3)
    finally:
        await poller.stop()
    return polled


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("every_minutes", None),  # a row a version from before migration 16 wrote
        ("every_minutes", -5),
        ("every_minutes", 0),
        ("every_minutes", 10**12),
        ("every_minutes", "weekly"),
        ("failures", "many"),
        ("next_poll", "soon"),
    ],
)
async def test_a_damaged_subscription_schedule_polls_its_feed_at_its_pace_and_every_other_feed(
    column: str,
    value: object,
    server: FixtureServer,
    desk: FeedDesk,
    engine: Engine,
    clock: FakeClock,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The operators' subscription to feed "w" (every 30 minutes) has a damaged value; then a
    server subscribes too, which sets the feed's pace from its subscriptions. Before, an interval
    of NULL, 0, a negative one or a century's, or failures that were no number, polled "w" again
    at every look of the poller (its schedule never moved on, or moved into the past); a next
    poll that was no number became the feed's, and the poller's every look failed on it: feed
    "z" (after "w" by name) was never polled again."""
    caplog.set_level(logging.WARNING)
    world = publish(server, "/world", SUDAN)
    await desk.add_feed(world, name="w", every=30, check=False)
    await desk.add_feed(publish(server, "/zone", GAZA), name="z", every=30, check=False)
    edit(engine.db_path, f"UPDATE feed_scopes SET {column} = ? WHERE name = 'w'", (value,))
    await desk.add_feed(world, name="mine", every=60, check=False, guild_id=A)
    await desk.caught_up()

    polled = await poll_times(desk, clock, monkeypatch)

    for times in polled.values():
        assert [b - a for a, b in itertools.pairwise(times)][:2] == [30 * 60] * 2
    assert (await desk.feed("w")).every_minutes == 30  # as the feed's: never the damaged value
    if column != "next_poll":  # a next poll that was no number is written anew by the first poll
        assert "is damaged" in caplog.text


@pytest.mark.parametrize("next_poll", [0, 10**12])
async def test_a_feed_left_without_subscriptions_is_polled_at_its_own_pace(
    next_poll: float,
    server: FixtureServer,
    desk: FeedDesk,
    engine: Engine,
    clock: FakeClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Its subscriptions deleted by hand: before, a poll moved no schedule on, and the poller
    polled it again at its every look; so too where its next poll was far ahead (a clock since
    set back)."""
    await desk.add_feed(publish(server, "/world", SUDAN), name="w", every=30, check=False)
    await desk.add_feed(publish(server, "/zone", GAZA), name="z", every=30, check=False)
    edit(engine.db_path, "DELETE FROM feed_scopes WHERE name = 'w'")
    edit(engine.db_path, "UPDATE feeds SET next_poll = ? WHERE name = 'w'", (next_poll,))

    polled = await poll_times(desk, clock, monkeypatch)

    assert [b - a for a, b in itertools.pairwise(polled["w"])][:2] == [30 * 60] * 2


@pytest.mark.parametrize("stood", ["not json", "[1, 2]", '{"server": "hash"}'])
async def test_a_damaged_record_of_stand_ins_is_read_as_none_and_its_feed_polled_on(
    stood: str, server: FixtureServer, desk: FeedDesk, engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    """Before, every poll of the feed failed on reading the item ("internal error:
    JSONDecodeError"), for ever: nothing it listed came any more."""
    caplog.set_level(logging.WARNING)
    await desk.add_feed(publish(server, "/world", SUDAN), name="w", check=False)
    await desk.fetch()
    edit(engine.db_path, "UPDATE feed_items SET stood = ?", (stood,))

    [run] = (await desk.fetch()).runs

    assert run.error is None and [i.status for i in run.items] == ["unchanged"]
    assert "stand-ins are damaged" in caplog.text


@pytest.mark.parametrize(
    "stored",
    [
        "not json",
        "[404]",
        '{"status": 404}',
        '{"kind": 7}',
        '{"kind": "HTTPStatusError", "status": "404"}',
        '{"kind": "HTTPStatusError", "status": true}',
        '{"kind": "HTTPStatusError", "status": 40400}',
        '{"kind": "UnsupportedContentType", "content_type": ["application/pdf"]}',
    ],
)
async def test_a_damaged_kind_of_a_feeds_last_failure_lists_the_feed_with_its_english(
    stored: str, server: FixtureServer, desk: FeedDesk, engine: Engine
) -> None:
    """What failed a feed is stored beside its English text (feeds migration 20); one that is no
    failure the engine wrote is read as none: the feed is listed, as failing, with its English."""
    server.serve("/rss", "gone", status=404)
    await desk.add_feed(server.url("/rss"), name="w", check=False)
    await desk.fetch()
    for table in ("feeds", "feed_scopes"):
        edit(engine.db_path, f"UPDATE {table} SET last_failure = ?", (stored,))

    listed = [*await desk.feeds(), *await desk.all_feeds()]

    assert [(f.failures, f.last_failure) for f in listed] == [(1, None)] * 2
    assert all("HTTP 404" in (f.last_error or "") for f in listed)


async def test_a_subscription_whose_feed_was_deleted_never_takes_another_servers_feed(
    server: FixtureServer, desk: FeedDesk, engine: Engine, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    """Server A's feed row was deleted by hand, leaving its subscription and items. Before, the
    next feed registered (server B's) took the freed id, and with it A's subscription: A was
    shown B's feed and granted its articles. The next open ends the subscription (it held A's
    name and a place in its quota), with a warning."""
    caplog.set_level(logging.WARNING)
    await desk.add_feed(publish(server, "/world", SUDAN), name="w", check=False, guild_id=A)
    await desk.fetch(guild_id=A)
    edit(engine.db_path, "DELETE FROM feeds")

    mine = await desk.add_feed(publish(server, "/zone", GAZA), name="mine", check=False, guild_id=B)
    await desk.fetch(guild_id=B)

    assert await desk.feeds(guild_id=A) == []
    assert await desk.scopes.subscribers([mine.id]) == {mine.id: [B]}
    assert await desk.state.items(mine.id, [server.url(SUDAN.path)]) == {}
    async with await FeedDesk.open(engine, clock=clock) as later:  # another process, or a restart
        assert await later.scopes.count(A) == 0
        assert not await later.scopes.name_taken("w", A)
    assert "to feeds no longer in the database" in caplog.text


async def test_a_subscription_an_older_version_wrote_is_listed_and_polled_as_its_feed(
    server: FixtureServer, desk: FeedDesk, engine: Engine
) -> None:
    """A process of the version before feed migration 16 still running when a newer one migrated
    subscribes as it knew how: no URL, language or interval of its own. Before, the server's
    `fetch` of it failed ("internal error: TypeError"), and its listing showed no URL and no
    interval."""
    url = publish(server, "/world", SUDAN)
    feed = await desk.add_feed(url, name="w", every=20, check=False)
    edit(
        engine.db_path,
        "INSERT INTO feed_scopes(feed_id, guild_id, name, added_at) VALUES (?, ?, 'old', ?)",
        (feed.id, A, feed.added_at),
    )

    [mine] = await desk.feeds(guild_id=A)
    [run] = (await desk.fetch("old", guild_id=A)).runs

    assert (mine.url, mine.every_minutes) == (url, 20)
    assert run.error is None and [i.status for i in run.items] == ["new"]


def loosen(db: Path, table: str) -> None:
    """``table`` as a hand-made copy holds it: no NOT NULL (SQLite keeps a NULL out of a column
    declared so, whatever the edit)."""
    edit(db, f"CREATE TABLE loose AS SELECT * FROM {table}")
    edit(db, f"DROP TABLE {table}")
    edit(db, f"ALTER TABLE loose RENAME TO {table}")


DROP_ROW = (
    "INSERT INTO dropped_follows(channel_id, guild_id, topic, reason, dropped_at) VALUES (?, 1, ?, ?, ?)"
)


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("reason", "vanished"),  # no version wrote it: /following failed on its missing text
        ("dropped_at", "yesterday"),
        ("channel_id", "general"),
        ("topic", b"\x00\x01"),
        ("topic", None),
    ],
)
async def test_a_damaged_drop_is_left_out_of_following_and_said(
    column: str,
    value: object,
    desk: FeedDesk,
    engine: Engine,
    clock: FakeClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """One damaged row of ``dropped_follows`` made the channel's and the server's /following fail."""
    caplog.set_level(logging.WARNING)
    for topic in ("first", "second"):
        edit(engine.db_path, DROP_ROW, (A, topic, "closed", clock()))
    if value is None:
        loosen(engine.db_path, "dropped_follows")
    edit(engine.db_path, f"UPDATE dropped_follows SET {column} = ? WHERE topic = 'second'", (value,))

    shown = [(d.channel_id, d.topic, d.reason) for d in await desk.dropped_follows(guild_id=1)]

    assert shown == [(A, "first", "closed")]
    if column != "channel_id":  # a channel that is no id is no channel's: that listing omits it anyway
        assert [d.topic for d in await desk.dropped_follows(A)] == ["first"]
    assert "dropped_follows row 2 is damaged" in caplog.text


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("topics", "not json"),
        ("topics", '"Gaza"'),  # a JSON string: was listed as the topics "G", "a", "z", "a"
        ("topics", "5"),
        ("topics", "[]"),
        ("topics", "[1, 2]"),
        ("topics", "[" * 100_000),
        ("articles", "many"),
        ("reason", "lost"),
        ("dropped_at", "soon"),
        ("headline", None),
        ("topics", None),
    ],
)
async def test_a_damaged_undelivered_alert_is_left_out_of_following_and_said(
    column: str, value: object, desk: FeedDesk, engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    """``undelivered_alerts`` keeps topics as JSON; one damaged row made /following fail."""
    caplog.set_level(logging.WARNING)
    for headline in ("First", "Second"):
        await desk.alert_undelivered(_post(A, headline), "refused")
    if value is None:
        loosen(engine.db_path, "undelivered_alerts")
    edit(engine.db_path, f"UPDATE undelivered_alerts SET {column} = ? WHERE headline = 'Second'", (value,))

    shown = [(u.channel_id, u.topics, u.headline) for u in await desk.undelivered_alerts(A)]

    assert shown == [(A, ("Gaza",), "First")]
    assert [u.headline for u in await desk.undelivered_alerts(guild_id=1)] == ["First"]
    assert "undelivered_alerts row 2 is damaged" in caplog.text


def _post(channel_id: int, headline: str) -> Post:
    summary = ArticleSummary("a1", headline, "Outlet", None, None, "en", None, "")
    return Post(channel_id, (Match(1, channel_id, "Gaza", summary, 0.9, 1.0, 1),), ((),), ("a1",), ("Gaza",))
