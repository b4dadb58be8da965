"""Three servers and a DM: a server's managers run their own feeds and pages, which nobody else
ever sees; they cannot touch the shared corpus, reindex, or see the host's paths, nor hold up
another server's fetch; the operators (on their own server) can; quotas refuse with a clear
message."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from foreign_desk.index.models import Scope

from tests.discord_standin import DiscordStandin, StandinUsageError, StoredMessage, User
from tests.feeds.news import GAZA, PATROL, PATROL_UPDATED, SUDAN, page, rss
from tests.fetch.fixture_server import FixtureServer

from .conftest import BOT_FEEDS, StartBot, assert_everything_quiet, embed_of
from .test_admin import wires

TIMEOUT = 300  # embedding is slow on a shared 2-core machine
PATROL_QUESTION = "Indonesia and Australia joint maritime patrols in the Arafura Sea"
OWN = "from this server's feeds"


def publish(news: FixtureServer, path: str, *stories: Any) -> str:
    for story in stories:
        news.serve(story.path, page(story, news.base_url))
    news.serve(path, rss("News", news.base_url, list(stories)), content_type="application/rss+xml")
    return news.url(path)


async def run(
    standin: DiscordStandin,
    command: str,
    options: dict[str, Any] | None = None,
    *,
    user: User,
    channel: Any = None,
    force: bool = False,
    timeout: float = 120,
) -> StoredMessage:
    """Send a command and wait for its final reply (a status message's last edit, for fetches)."""
    ix = await standin.send_slash_command(command, options, user=user, channel=channel, force=force)
    return await ix.wait_for_reply(
        lambda m: not m.loading and not m.content.startswith("⏳"), timeout=timeout
    )


class World:
    """Server A (the standin's guild, managed by ``standin.admin``), server B (managed by ``bo``),
    and the operators' server C (owned by the application's owner), with a plain reader in each."""

    def __init__(self, standin: DiscordStandin) -> None:
        world = standin.world
        self.a, self.b, self.c = (
            world.guild,
            world.add_guild("Beta"),
            world.add_guild("Ops", owner=standin.owner),
        )
        self.manager_a = standin.admin
        self.manager_b = world.add_user("bo.manager", guild=self.b, roles=[self.b.manager_role])  # type: ignore[list-item]
        self.reader = standin.user
        world.add_member(self.reader, self.b)
        world.add_member(self.manager_a, self.c)  # a manager elsewhere is a plain member here


async def ask(standin: DiscordStandin, user: User, channel: Any = None, *, dm: bool = False) -> str:
    ix = await standin.send_slash_command(
        "ask", {"question": PATROL_QUESTION}, user=user, channel=channel, dm=dm
    )
    return (await ix.wait_for_reply(timeout=60)).text


async def test_a_servers_own_feeds_stay_there_and_its_managers_cannot_touch_the_shared_corpus(
    standin: DiscordStandin,
    start_bot: StartBot,
    news: FixtureServer,
    make_settings,
    sample_copy: Path,
    tmp_path: Path,
):
    w = World(standin)
    feeds = replace(BOT_FEEDS, server_max_feeds=1, server_ingests_per_hour=2)  # the feed's check, a page
    settings = make_settings(sample_copy, feeds=feeds)
    options = {"poll_feeds": False, "operator_guild_ids": [w.c.id], "reindex_paths": [str(wires(tmp_path))]}
    a = {"user": w.manager_a}
    async with asyncio.timeout(TIMEOUT), start_bot(settings=settings, **options) as bot:
        await bot.feeds.add_feed(publish(news, "/shared", SUDAN), name="news", check=False)
        await bot.feeds.fetch()
        await bot.feeds.follow(w.b.general.id, "maritime patrols against illegal fishing", guild_id=w.b.id)
        # Server A's manager: a feed and a page of A's own.
        added = await run(
            standin, "admin feeds add", {"url": publish(news, "/mine", PATROL), "name": "mine"}, **a
        )
        fetched = await run(standin, "admin fetch", **a)
        news.serve(GAZA.path, page(GAZA, news.base_url))
        ingested = await run(standin, "admin ingest", {"url": news.url(GAZA.path)}, **a)
        # ... which A sees, marked as its own, and B, DMs and the operators' server do not.
        in_a = await ask(standin, w.reader, w.a.general)
        elsewhere = [
            await ask(standin, w.reader, w.b.general),
            await ask(standin, w.reader, dm=True),
            await ask(standin, standin.owner, w.c.general),
        ]
        mention = await standin.send_message(f"{standin.bot.mention} {PATROL_QUESTION}", channel=w.b.general)
        answered = await standin.wait_for_bot_message(
            lambda m: (m.message_reference or {}).get("message_id") == str(mention.id),
            channel=w.b.general,
            timeout=60,
        )
        elsewhere.append(answered.text)
        latest = {}
        for guild, user in ((w.a, w.reader), (w.b, w.reader), (w.c, standin.owner)):
            shown = await run(standin, "latest", {"count": 10}, user=user, channel=guild.general)
            latest[guild.name] = embed_of(shown)["description"]
        sources_b = embed_of(await run(standin, "sources", user=w.reader, channel=w.b.general))
        outlets = {}  # what /ask source: offers as the reader types "guard" in each server
        for guild in (w.a, w.b):
            typed = await standin.send_autocomplete(
                "ask", {"source": "guard"}, focused="source", user=w.reader, channel=guild.general
            )
            outlets[guild.name] = [c["value"] for c in await typed.wait_for_choices()]
        help_a, help_b = [
            embed_of(await run(standin, "help", user=w.reader, channel=g.general))["description"]
            for g in (w.a, w.b)
        ]
        assert [m.channel_id for m in await bot.feeds.follows.pending()] == []  # B's follow: nothing of A's
        # What A's manager may not do.
        quota = await run(standin, "admin feeds add", {"url": news.url("/second")}, **a)
        rate = await run(standin, "admin ingest", {"url": news.url(PATROL.path)}, **a)
        shared_feed = await run(standin, "admin feeds remove", {"feed": "news"}, **a)
        credited = await run(standin, "admin feeds add", {"url": news.url("/bbc"), "source": "BBC"}, **a)
        stats_a = await run(standin, "admin stats", **a)
        reindex = await run(standin, "operator reindex", user=w.manager_a, channel=w.c.general, force=True)
        with pytest.raises(StandinUsageError, match="another guild's command"):
            await standin.send_slash_command("operator stats", user=w.manager_a, channel=w.a.general)
        list_a = embed_of(await run(standin, "admin feeds list", **a))
        list_b = embed_of(await run(standin, "admin feeds list", user=w.manager_b, channel=w.b.general))

    assert added.content.startswith("✅ Added feed **mine**") and "new" in fetched.content
    assert ingested.content.startswith("✅") and GAZA.title in ingested.content
    assert PATROL.title in in_a and OWN in in_a
    for text in elsewhere:
        assert PATROL.title not in text and GAZA.title not in text
    assert PATROL.title in latest["Stand-in Guild"] and OWN in latest["Stand-in Guild"]
    assert (
        PATROL.title not in latest["Beta"]
        and PATROL.title not in latest["Ops"]
        and SUDAN.title in latest["Beta"]
    )
    assert "The Guardian" not in sources_b["description"]
    assert outlets == {"Stand-in Guild": ["The Guardian"], "Beta": []}
    assert "The Guardian" in help_a and "The Guardian" not in help_b  # outlets, counts, examples
    assert quota.content == (
        "This server has reached its limit of 1 feed(s) of its own: "
        "remove one with /admin feeds remove first."
    )
    assert rate.content.startswith(
        "This server has reached its limit of 2 ingested page(s) an hour: try again"
    )
    assert shared_feed.content.startswith("There is no feed called “news”: type a few letters")
    assert credited.content.startswith("Only the bot's operators can set the outlet")
    assert reindex.content == "Only the bot's operators can use /operator."
    fields = {f["name"]: f["value"] for f in embed_of(stats_a)["fields"]}
    assert "data dir" not in fields and "pytest" not in stats_a.text and fields["articles"] == "4"
    assert "mine" in list_a["description"] and "news" not in list_a["description"]
    assert "mine" not in list_b["description"]
    assert_everything_quiet(standin)


async def test_operators_run_the_shared_corpus_from_their_server(
    standin: DiscordStandin, start_bot: StartBot, news: FixtureServer, tmp_path: Path
):
    w = World(standin)
    options = {"poll_feeds": False, "operator_guild_ids": [w.c.id], "reindex_paths": [str(wires(tmp_path))]}
    op = {"user": standin.owner, "channel": w.c.general}
    async with asyncio.timeout(TIMEOUT), start_bot(**options):
        world = {"url": publish(news, "/world", PATROL), "name": "world", "source": "The Guardian"}
        added = await run(standin, "operator feeds add", world, **op)
        fetched = await run(standin, "operator fetch", **op)
        news.serve(GAZA.path, page(GAZA, news.base_url))
        ingested = await run(standin, "operator ingest", {"url": news.url(GAZA.path)}, **op)
        reindexed = await run(standin, "operator reindex", **op, timeout=200)
        stats = await run(standin, "operator stats", **op)
        everywhere = [
            await ask(standin, w.reader, w.a.general),
            await ask(standin, w.reader, w.b.general),
            await ask(standin, w.reader, dm=True),
        ]
    assert added.content.startswith("✅ Added feed **world**") and "new" in fetched.content
    assert ingested.content.startswith("✅") and reindexed.content.startswith("✅ Reindex finished")
    assert "data dir" in {f["name"] for f in embed_of(stats)["fields"]}  # operators see the data folder
    for text in everywhere:
        assert PATROL.title in text and OWN not in text


async def test_a_fetch_running_in_one_server_does_not_hold_up_another_servers_fetch(
    standin: DiscordStandin, start_bot: StartBot, news: FixtureServer
):
    w = World(standin)
    asked, release = asyncio.Event(), asyncio.Event()

    async def slow_page(request: web.Request) -> web.Response:  # server A's page, held until released
        asked.set()
        await release.wait()
        return web.Response(text=page(PATROL, news.base_url), content_type="text/html")

    news.handle(PATROL.path, slow_page)
    news.serve("/a", rss("A", news.base_url, [PATROL]), content_type="application/rss+xml")
    a, b = {"user": w.manager_a}, {"user": w.manager_b, "channel": w.b.general}
    async with asyncio.timeout(TIMEOUT), start_bot(poll_feeds=False):
        await run(standin, "admin feeds add", {"url": news.url("/a")}, **a)
        await run(standin, "admin feeds add", {"url": publish(news, "/b", SUDAN)}, **b)
        fetch_a = await standin.send_slash_command("admin fetch", **a)
        await asyncio.wait_for(asked.wait(), 60)
        again_a = await run(standin, "admin fetch", **a)
        fetched_b = await run(standin, "admin fetch", **b)
        a_meanwhile = standin.message(fetch_a.original_message_id).content
        release.set()
        fetched_a = await fetch_a.wait_for_reply(lambda m: m.content.startswith("✅"), timeout=120)
    assert again_a.content == "A fetch is already running; its status message shows when it is done."
    assert fetched_b.content.startswith("✅ Fetched 1 feed") and SUDAN.title in fetched_b.content
    assert a_meanwhile.startswith("⏳ Fetching every feed")
    assert PATROL.title in fetched_a.content and SUDAN.title not in fetched_a.content


async def test_each_server_is_shown_its_own_name_interval_and_history_of_a_feed_both_follow(
    standin: DiscordStandin, start_bot: StartBot, news: FixtureServer
):
    """Server A follows a feed every 10 minutes as "X", and its polls failed; server B then adds
    the same feed every 60 minutes as "Y". Before, B's add answered "every 10 min" without
    fetching the feed, and B's /admin feeds list showed A's URL, interval and failure (that
    someone else followed it, and what they chose). Each is shown its own, as if it followed the
    feed alone; the feed itself is polled once."""
    w = World(standin)
    body = rss("Wire", news.base_url, [])
    news.serve("/wire", body, content_type="application/rss+xml")
    url = news.url("/wire")
    a, b = {"user": w.manager_a}, {"user": w.manager_b, "channel": w.b.general}
    async with asyncio.timeout(TIMEOUT), start_bot(poll_feeds=False) as bot:
        await run(standin, "admin feeds add", {"url": url, "name": "X", "every": 10}, **a)
        news.serve("/wire", "oops", status=500)
        failed = await run(standin, "admin fetch", **a)
        news.serve("/wire", body, content_type="application/rss+xml")
        asked = len(news.requests_to("/wire"))
        added_b = await run(standin, "admin feeds add", {"url": url + "#b", "name": "Y", "every": 60}, **b)
        fetched_to_check = len(news.requests_to("/wire")) - asked
        list_a = embed_of(await run(standin, "admin feeds list", **a))["description"]
        list_b = embed_of(await run(standin, "admin feeds list", **b))["description"]
        polled = await bot.feeds.all_feeds()
    assert failed.content.startswith("⚠️") and len(polled) == 1
    assert (
        list_a.startswith(f"**X** {url}\nEnglish · every 10 min · last success never")
        and "HTTP 500" in list_a
    )
    assert list_b.startswith(f"**Y** {url}#b\nEnglish · every 60 min · last success never")
    assert "10 min" not in list_b and "failure" not in list_b
    assert added_b.content.startswith(f"✅ Added feed **Y** ({url}#b): English · every 60 min.")
    assert fetched_to_check == 1  # as a feed nobody follows yet is checked


async def test_a_page_another_server_brought_is_new_to_the_server_that_ingests_it(
    standin: DiscordStandin, start_bot: StartBot, news: FixtureServer
):
    """Server B stored the page first: A's /admin ingest of it said "Already indexed", telling A
    that another server has it. To A the page is new (it is A's to see from then on); only once
    A has it is it up to date (as when A alone had it; "Already indexed" had said that B has it)."""
    w = World(standin)
    news.serve(PATROL.path, page(PATROL, news.base_url))
    url = news.url(PATROL.path)
    a = {"user": w.manager_a}
    async with asyncio.timeout(TIMEOUT), start_bot(poll_feeds=False) as bot:
        first = await bot.feeds.ingest(url, guild_id=w.b.id)
        ingested = await run(standin, "admin ingest", {"url": url}, **a)
        again = await run(standin, "admin ingest", {"url": url}, **a)
        in_a = await ask(standin, w.reader, w.a.general)

    assert first.status == "new"
    assert ingested.content == f"✅ Added “{PATROL.title}” (<{url}>): it is answerable now."
    assert again.content == f"Already up to date: “{PATROL.title}” (<{url}>)."
    assert PATROL.title in in_a and OWN in in_a
    assert_everything_quiet(standin)


async def test_a_server_that_ingests_a_changed_page_others_hold_is_told_updated_and_alone_sees_it(
    standin: DiscordStandin, start_bot: StartBot, news: FixtureServer
):
    """A and B both took a page; it changed, and A's /admin ingest of it said "the stored version
    is kept" (alone, A would have been told "Updated"), telling A that another server has it. Now
    A is told it is updated and is answered from the new text; B, told nothing, still from the
    version it took."""
    w = World(standin)
    news.serve(PATROL.path, page(PATROL, news.base_url))
    url = news.url(PATROL.path)
    a = {"user": w.manager_a}
    async with asyncio.timeout(TIMEOUT), start_bot(poll_feeds=False) as bot:
        await bot.feeds.ingest(url, guild_id=w.b.id)
        await run(standin, "admin ingest", {"url": url}, **a)
        news.serve(PATROL.path, page(PATROL_UPDATED.with_(path=PATROL.path), news.base_url))
        updated = await run(standin, "admin ingest", {"url": url}, **a)
        in_a = await ask(standin, w.reader, w.a.general)
        in_b = await ask(standin, w.reader, w.b.general)

    assert updated.content == (
        f"✅ Updated “{PATROL_UPDATED.title}” (<{url}>): the new version replaces the old one."
    )
    assert PATROL_UPDATED.title in in_a and OWN in in_a
    assert PATROL.title in in_b and PATROL_UPDATED.title not in in_b
    assert_everything_quiet(standin)


async def test_a_fetch_tells_a_server_as_new_what_another_server_brought_before(
    standin: DiscordStandin, start_bot: StartBot, news: FixtureServer
):
    """A's own feed lists a page server B stored first: A's /admin fetch counted it a duplicate
    ("same article as an earlier item"), in its progress and its summary. To A it is new."""
    w = World(standin)
    url = publish(news, "/mine", PATROL, SUDAN)
    a = {"user": w.manager_a}
    async with asyncio.timeout(TIMEOUT), start_bot(poll_feeds=False, status_edit_interval_s=0.1) as bot:
        await bot.feeds.ingest(news.url(PATROL.path), guild_id=w.b.id)
        await bot.feeds.add_feed(url, name="mine", check=False, guild_id=w.a.id)
        ix = await standin.send_slash_command("admin fetch", **a)
        fetched = await ix.wait_for_reply(lambda m: m.content.startswith(("✅", "⚠️")), timeout=120)
        in_a = await ask(standin, w.reader, w.a.general)

    assert fetched.content.startswith("✅ Fetched 1 feed in ")
    assert "2 new, 0 updated, 0 duplicates, 0 unchanged, 0 failures." in fetched.content
    edits = [e.body.get("content") or "" for e in ix.timeline if e.kind == "edit"]
    assert not any("duplicate" in text.replace("0 duplicates", "") for text in edits), edits
    assert PATROL.title in in_a and OWN in in_a
    assert_everything_quiet(standin)


async def test_a_fetch_of_a_feed_two_servers_follow_tells_the_fetching_server_only_its_own_view(
    standin: DiscordStandin, start_bot: StartBot, news: FixtureServer
):
    """A's /admin fetch of a feed B follows too polls it once for both (what B would get at its
    next poll, no more) and charges B nothing; A's summary names the feed as A does and counts
    as new what is new to A, though B had one of its pages already (it said "1 duplicate", and
    why)."""
    w = World(standin)
    url = publish(news, "/wire", PATROL, SUDAN)
    async with asyncio.timeout(TIMEOUT), start_bot(poll_feeds=False) as bot:
        await bot.feeds.ingest(news.url(PATROL.path), guild_id=w.b.id)
        await bot.feeds.add_feed(url, name="wire", check=False, guild_id=w.a.id)
        await bot.feeds.add_feed(url, name="berita", check=False, guild_id=w.b.id)
        await bot.feeds.caught_up()
        fetched = await run(standin, "admin fetch", user=w.manager_a)
        charged = await bot.feeds.db.rows("SELECT guild_id FROM server_ingests ORDER BY guild_id")
        seen_by_b = {a.title for a in await bot.engine.latest(10, scope=Scope(w.b.id))}
        fetched_b = await run(standin, "admin fetch", user=w.manager_b, channel=w.b.general)

    assert "2 new, 0 updated, 0 duplicates, 0 unchanged, 0 failures." in fetched.content
    assert "berita" not in fetched.content and "duplicate (" not in fetched.content
    assert [r[0] for r in charged] == [w.b.id]  # B's own ingest, nothing for A's fetch
    assert {PATROL.title, SUDAN.title} <= seen_by_b
    assert "0 new" in fetched_b.content and "wire" not in fetched_b.content
    assert_everything_quiet(standin)
