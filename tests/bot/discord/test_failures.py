"""What a server's managers read of a failure (``failures``): the host's own trouble as one line,
with none of the operator's paths, what the server supplied by name, the detail in the log."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest
from foreign_desk.bot.discord.failures import error_shown, shown
from foreign_desk.bot.discord.i18n import EN, texts
from foreign_desk.bot.discord.render_feeds import feeds_embed, fetch_report_text
from foreign_desk.bot.discord.tree import user_message
from foreign_desk.index.config import Settings
from foreign_desk.index.errors import FetchError, StoreError
from foreign_desk.index.feeds import Feed, FeedRun, FetchReport
from foreign_desk.index.feeds.models import INDEXING_FAILED, internal_error
from foreign_desk.index.store.lock import WriterLock

from tests.discord_standin import DiscordStandin, StoredMessage
from tests.feeds.news import page
from tests.fetch.fixture_server import FixtureServer

from .conftest import StartBot, assert_everything_quiet, embed_of
from .newsroom import DESTROYER, DRILLS, KINMEN, publish

TIMEOUT = 240  # embedding is slow on a shared 2-core machine


def vector_files_cannot_be_written(data_dir: Path) -> None:
    """Every new vector file fails to be written, as on a full disk: the ``vectors`` folder is
    moved aside (the live index is already mapped) and a file takes its name, so writing a new
    generation meets the OSError a full disk gives (here ``File exists``), on a path in the data
    folder. A root process ignores permissions; a full disk cannot be made in a test."""
    folder = data_dir / "vectors"
    folder.rename(data_dir / "vectors-aside")
    folder.write_text("not a folder\n")


async def run(standin: DiscordStandin, command: str, options: dict[str, str] | None = None) -> StoredMessage:
    """``command`` by the server's manager, and its reply once final (a status message's last edit)."""
    ix = await standin.send_slash_command(command, options, user=standin.admin)
    return await ix.wait_for_reply(lambda m: not m.loading and not m.content.startswith("⏳"), timeout=150)


async def test_a_store_that_cannot_be_written_is_one_line_to_server_managers_without_the_hosts_paths(
    standin: DiscordStandin, start_bot: StartBot, news: FixtureServer, caplog: pytest.LogCaptureFixture
):
    """``cannot write the vector file <path>: ...`` reached a server's managers in /admin fetch's
    report, in /admin feeds list's last error and in /admin ingest's reply."""
    caplog.set_level(logging.INFO)
    world, gone = publish(news, [DRILLS], path="/world/rss"), publish(news, [KINMEN], path="/gone/rss")
    news.serve(DESTROYER.path, page(DESTROYER, news.base_url))
    async with asyncio.timeout(TIMEOUT), start_bot(poll_feeds=False) as bot:
        for name, url in (("world", world), ("gone", gone)):
            await bot.feeds.add_feed(url, name=name, guild_id=standin.guild.id)
        news.serve("/gone/rss", "moved away", status=404)  # the server's own feed's fault
        data_dir = bot.settings.data_path
        vector_files_cannot_be_written(data_dir)
        fetched = await run(standin, "admin fetch")
        listed = await run(standin, "admin feeds list")
        ingested = await run(standin, "admin ingest", {"url": news.url(DESTROYER.path)})

    replies = [fetched.content, embed_of(listed)["description"], ingested.content]
    for text in replies:
        assert str(data_dir) not in text.replace("\\", "") and "vector file" not in text, text
    host = EN("error.host")
    assert f"• world: <{world}>: {host}" in fetched.content
    assert "• gone: " in fetched.content and "404" in fetched.content
    assert f"last: {host}" in replies[1] and "404" in replies[1]
    assert ingested.content == EN("ingest.failed", reason=f"<{news.url(DESTROYER.path)}>: {host}")
    assert f"cannot write the vector file {data_dir}/vectors/" in caplog.text  # the operator's log
    assert_everything_quiet(standin)


async def test_a_private_address_refused_gives_a_server_no_advice_on_the_hosts_settings(
    standin: DiscordStandin, start_bot: StartBot, news: FixtureServer, make_settings: Callable[..., Settings]
):
    """A server's managers read "set allow_private_urls = true to allow" (/admin feeds add, fetch,
    feeds list): a setting of the host's, which they cannot change."""
    url = publish(news, [DRILLS])
    async with (
        asyncio.timeout(TIMEOUT),
        start_bot(settings=make_settings(allow_private_urls=False), poll_feeds=False) as bot,
    ):
        added = await run(standin, "admin feeds add", {"url": url})
        await bot.feeds.add_feed(url, name="local", guild_id=standin.guild.id, check=False)
        fetched = await run(standin, "admin fetch")
        listed = embed_of(await run(standin, "admin feeds list"))["description"]
    refused = "refused to fetch 127.0.0.1: loopback address"
    assert added.content == refused
    assert f"• local: <{url}>: {refused}" in fetched.content.replace("\\", "") and refused in listed
    for text in (added.content, fetched.content, listed):
        assert "allow_private_urls" not in text and "FOREIGN_DESK" not in text, text
    assert news.requests == []


@pytest.mark.parametrize(
    "advice",
    [
        "; set allow_private_urls = true to allow",  # recorded before the variable was named
        "; set allow_private_urls = true (or FOREIGN_DESK_ALLOW_PRIVATE_URLS=1) to allow",
    ],
)
def test_the_advice_to_change_a_host_setting_is_for_the_operators_only(advice: str):
    refused = "refused to fetch 10.0.0.7: private address"
    line = f"world: failed: {refused}{advice}"
    assert shown(line) == f"world: failed: {refused}" and shown(line, host=True) == line


FULL_DISK = "indexing failed: cannot write the vector file /srv/fd/vectors/gen-000002.faiss: No space left"
BUG = "internal error: OSError: [Errno 5] Input/output error: '/srv/fd/feeds.sqlite3'"


def test_the_hosts_failures_are_named_to_the_operators_only():
    """Operators see the data folder in /operator stats: their feed list and fetch report keep the
    detail, a server's lose it."""
    feed = Feed(1, "world", "https://news.example/rss", None, "en", 30, last_error=FULL_DISK, failures=2)
    report = FetchReport([FeedRun("world", feed.url, error=FULL_DISK)], 3, 1.0)
    for host in (True, False):
        listed = feeds_embed([feed], host=host).description or ""
        reported = fetch_report_text(report, host=host)
        assert [("/srv/fd" in text.replace("\\", "")) for text in (listed, reported)] == [host, host]
        assert (EN("error.host") in reported) is not host


@pytest.mark.parametrize(
    ("text", "seen"),
    [
        (FULL_DISK, EN("error.host")),
        (f"world: failed: {BUG}", f"world: failed: {EN('error.host')}"),  # a fetch's progress line
        (f"a: failed: b: failed: {BUG}", f"a: failed: b: failed: {EN('error.host')}"),  # a name like a line
        (
            "HTTP 404 Not Found fetching https://news.example/rss",
            "HTTP 404 Not Found fetching https://news.example/rss",
        ),
    ],
)
def test_a_line_is_cut_where_a_host_failure_begins(text: str, seen: str):
    assert shown(text) == seen and shown(text, host=True) == text


async def test_a_store_another_process_writes_to_says_to_try_again_without_its_path(tmp_path: Path):
    """The writer's lock held elsewhere past the wait (``StoreBusy``, naming the lock file) read as
    the host's own trouble ("try again later", the operators' log); a SQLite write past its busy
    timeout read as a bug's apology. Both say the store is busy, in the reader's language."""
    lock, busy = await _held_elsewhere(tmp_path)
    locked = sqlite3.OperationalError("database is locked")
    locked.sqlite_errorcode = sqlite3.SQLITE_BUSY  # type: ignore[attr-defined]
    for tx in (EN, texts("id")):
        for error in (busy, locked):
            assert user_message(error, tx) == tx("error.busy")
        assert error_shown(busy, tx, host=False) == tx("error.busy")
    assert str(lock) in str(busy) and str(tmp_path) not in EN("error.busy")


async def test_a_recorded_failure_quoting_a_busy_store_says_to_try_again_without_its_path(tmp_path: Path):
    """A poll or ingest whose indexing waited past another process's writer records ``indexing
    failed: another process is writing to the index (<lock file>); try later`` (a poll that met
    SQLite's busy timeout: ``internal error: OperationalError: database is locked``). It read as
    the host's own trouble in /admin fetch's report, /admin feeds list and /admin ingest's reply;
    it says the store is busy, in the reader's language, and the operators keep the whole text."""
    _, busy = await _held_elsewhere(tmp_path)
    locked = sqlite3.OperationalError("database is locked")
    for recorded in (f"{INDEXING_FAILED}{busy}", internal_error(locked)):
        feed = Feed(1, "world", "https://news.example/rss", None, "en", 30, last_error=recorded, failures=1)
        report = FetchReport([FeedRun("world", feed.url, error=recorded)], 3, 1.0)
        for tx in (EN, texts("id")):
            listed = feeds_embed([feed], tx).description or ""
            reported = fetch_report_text(report, tx, host=False)
            ingested = FetchError(recorded)
            assert tx("error.busy") in listed and f"• world: <{feed.url}>: {tx('error.busy')}" in reported
            assert error_shown(ingested, tx) == user_message(ingested, tx) == tx("error.busy")
            assert all(str(tmp_path) not in text.replace("\\", "") for text in (listed, reported))
        operators = fetch_report_text(report, host=True).replace("\\", "")
        assert recorded in operators and error_shown(ingested, host=True) == recorded


async def _held_elsewhere(tmp_path: Path) -> tuple[Path, StoreError]:
    """The writer's lock file, and the ``StoreBusy`` of a wait for it while another holder has it."""
    lock = tmp_path / "data" / "writer.lock"
    lock.parent.mkdir()
    with pytest.raises(StoreError) as held_elsewhere:  # StoreBusy
        async with WriterLock(lock).hold(), WriterLock(lock).hold(wait_s=0):
            pass
    return lock, held_elsewhere.value
