"""Why a page or feed could not be fetched, in an Indonesian admin's language: every kind of
``FetchError`` a server meets through /admin feeds add, fetch, ingest and feeds list."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Callable
from dataclasses import replace

import pytest
from foreign_desk.bot.discord.fetch_words import KEYS, NEEDS, fetch_words
from foreign_desk.bot.discord.i18n import EN, texts
from foreign_desk.index.config import Settings
from foreign_desk.index.errors import FetchError
from foreign_desk.index.fetch import FetchFailure
from foreign_desk.index.fetch import errors as fetch_errors

from tests.discord_standin import DiscordStandin, StoredMessage
from tests.fetch.fixture_server import FixtureServer

from .conftest import BOT_FEEDS, StartBot, assert_everything_quiet, embed_of
from .newsroom import DRILLS, publish

ID = texts("id")
KINDS = sorted(
    name
    for name, cls in inspect.getmembers(fetch_errors, inspect.isclass)
    if issubclass(cls, FetchError) and cls is not FetchError
)


async def run(
    standin: DiscordStandin, command: str, options: dict[str, str] | None = None, locale: str = "id"
) -> StoredMessage:
    """``command`` by the server's manager, and its reply once final (a status message's last edit)."""
    ix = await standin.send_slash_command(command, options, user=standin.admin, locale=locale)
    return await ix.wait_for_reply(lambda m: not m.loading and not m.content.startswith("⏳"), timeout=150)


@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_of_fetch_failure_has_indonesian_words(kind: str):
    """A refused private address, "not a feed", a response too large, too many redirects and an
    invalid address fell back to the engine's English."""
    failure = FetchFailure(kind, 503, "application/pdf")
    said = fetch_words(failure, ID)
    assert said is not None and said == ID(KEYS[kind], status=503, content_type="application/pdf")
    assert "None" not in said and "allow_private" not in said
    assert fetch_words(failure, EN) is None  # English readers read the engine's own words


@pytest.mark.parametrize("kind", sorted(NEEDS))
def test_a_failure_lacking_the_value_its_words_name_keeps_the_english(kind: str):
    assert fetch_words(FetchFailure(kind), ID) is None


async def test_an_indonesian_admin_is_told_in_indonesian_that_a_private_address_is_refused(
    standin: DiscordStandin, start_bot: StartBot, news: FixtureServer, make_settings: Callable[..., Settings]
):
    """ "refused to fetch 127.0.0.1: loopback address" was the engine's English in /admin feeds
    add, fetch, feeds list and ingest; the Indonesian names no setting of the host's either."""
    url = publish(news, [DRILLS])
    refused = ID("fetch.error.address_refused")
    async with (
        asyncio.timeout(120),
        start_bot(settings=make_settings(allow_private_urls=False), poll_feeds=False) as bot,
    ):
        added = await run(standin, "admin feeds add", {"url": url})
        await bot.feeds.add_feed(url, name="lokal", guild_id=standin.guild.id, check=False)
        fetched = await run(standin, "admin fetch")
        listed = embed_of(await run(standin, "admin feeds list"))["description"].replace("\\", "")
        ingested = await run(standin, "admin ingest", {"url": news.url(DRILLS.path)})
    assert added.content == refused
    assert f"• lokal: <{url}>: {refused}" in fetched.content.replace("\\", ""), fetched.content
    assert listed.endswith(ID.plural("feeds.failing", 1, why=refused)), listed
    assert ingested.content == ID("ingest.failed", reason=f"<{news.url(DRILLS.path)}>: {refused}")
    for text in (added.content, fetched.content, listed, ingested.content):
        assert "refused to fetch" not in text and "allow_private_urls" not in text, text
    assert news.requests == []
    assert_everything_quiet(standin)


async def test_an_indonesian_admin_reads_why_feeds_and_pages_failed_in_indonesian(
    standin: DiscordStandin, start_bot: StartBot, news: FixtureServer, make_settings: Callable[..., Settings]
):
    """A feed that redirects in a loop, one too large, one that is a web page and one redirected to
    an ftp: address were listed in the engine's English ("redirect loop: …", "… is over the 1,000
    byte limit", "… is not a feed", "only http and https URLs can be fetched") by /admin fetch and
    /admin feeds list, and so was a page ingested that redirects in a loop."""
    news.redirect("/putar/rss", "/putar/rss")
    news.serve("/besar/rss", "<rss>" + "x" * 5000 + "</rss>", content_type="application/rss+xml")
    news.serve("/halaman", "<html><body><p>Selamat datang</p></body></html>")
    news.redirect("/pindah/rss", "ftp://files.example/rss")
    feeds = {"putar": "/putar/rss", "besar": "/besar/rss", "halaman": "/halaman", "pindah": "/pindah/rss"}
    words = {
        "putar": ID("fetch.error.redirects"),
        "besar": ID("fetch.error.too_large"),
        "halaman": ID("fetch.error.not_a_feed"),
        "pindah": ID("fetch.error.invalid_url"),
    }
    settings = make_settings(feeds=replace(BOT_FEEDS, max_feed_bytes=1000))
    guild = standin.guild.id
    async with asyncio.timeout(120), start_bot(settings=settings, poll_feeds=False) as bot:
        for name, path in feeds.items():
            await bot.feeds.add_feed(news.url(path), name=name, guild_id=guild, check=False)
        fetched = await run(standin, "admin fetch")
        listed = embed_of(await run(standin, "admin feeds list"))["description"].replace("\\", "")
        ingested = await run(standin, "admin ingest", {"url": news.url("/putar/rss")})
    failed = fetched.content.replace("\\", "").split("\n\n")[-1].splitlines()
    assert sorted(failed) == [
        ID("fetch.section.failed"),
        *sorted(f"• {name}: <{news.url(feeds[name])}>: {said}" for name, said in words.items()),
    ], fetched.content
    blocks = {block.split("**")[1]: block for block in listed.split("\n\n")}
    for name, said in words.items():
        assert blocks[name].endswith(ID.plural("feeds.failing", 1, why=said)), blocks[name]
    assert ingested.content == ID(
        "ingest.failed", reason=f"<{news.url('/putar/rss')}>: " + ID("fetch.error.redirects")
    )
    assert_everything_quiet(standin)
