"""/admin feeds add|list|remove, /admin fetch (a status message edited with progress, then a
summary) and /admin ingest (the same), against a loopback news server; /latest on a topic."""

from __future__ import annotations

import asyncio
import html
import re
from dataclasses import replace
from datetime import UTC, datetime

from foreign_desk.bot.discord.i18n import EN, texts
from foreign_desk.index.models import Scope

from tests.discord_standin import DiscordStandin, StoredMessage
from tests.feeds.news import GAZA, PATROL, SUDAN, page, rss
from tests.fetch.fixture_server import FixtureServer
from tests.gated import GatedEmbedder

from .conftest import BOT_FEEDS, StartBot, assert_everything_quiet, embed_of, feeds_write_waiting
from .newsroom import DESTROYER, DRILLS, KINMEN, PDF_PATH, SELAT, TAIWAN, publish

TIMEOUT = 240  # embedding is slow on a shared 2-core machine


def finished(message: StoredMessage) -> bool:
    """A status message's last edit: no longer loading or in progress."""
    return not message.loading and not message.content.startswith("⏳")


async def test_admins_add_fetch_list_ingest_and_remove_feeds(
    standin: DiscordStandin, start_bot: StartBot, news: FixtureServer
):
    url = publish(news, [PATROL, SUDAN], with_pdf=True)
    news.serve(GAZA.path, page(GAZA, news.base_url))
    admin = standin.admin
    async with asyncio.timeout(TIMEOUT), start_bot(poll_feeds=False, status_edit_interval_s=0.1) as bot:
        add = await standin.send_slash_command(
            "admin feeds add", {"url": url, "name": "world", "every": 20}, user=admin
        )
        added = await add.wait_for_reply(timeout=30)
        twice = await standin.send_slash_command("admin feeds add", {"url": url}, user=admin)
        already = await twice.wait_for_reply(timeout=30)
        not_a_feed = await standin.send_slash_command(
            "admin feeds add", {"url": news.url(PDF_PATH)}, user=admin
        )
        not_added = await not_a_feed.wait_for_reply(timeout=30)
        choices = await (
            await standin.send_autocomplete("admin fetch", {"feed": "wo"}, focused="feed", user=admin)
        ).wait_for_choices()
        fetch = await standin.send_slash_command("admin fetch", {"feed": "world"}, user=admin)
        done = await fetch.wait_for_reply(lambda m: m.content.startswith(("✅", "⚠️")), timeout=150)
        again = await standin.send_slash_command("admin fetch", user=admin)
        unchanged = await again.wait_for_reply(lambda m: m.content.startswith(("✅", "⚠️")), timeout=60)
        listed = await (await standin.send_slash_command("admin feeds list", user=admin)).wait_for_reply()
        ingest = await standin.send_slash_command("admin ingest", {"url": news.url(GAZA.path)}, user=admin)
        ingested = await ingest.wait_for_reply(finished, timeout=90)
        repeat = await standin.send_slash_command("admin ingest", {"url": news.url(GAZA.path)}, user=admin)
        repeated = await repeat.wait_for_reply(finished, timeout=60)
        pdf = await standin.send_slash_command("admin ingest", {"url": news.url(PDF_PATH)}, user=admin)
        refused = await pdf.wait_for_reply(finished, timeout=30)
        remove = await standin.send_slash_command("admin feeds remove", {"feed": "world"}, user=admin)
        removed = await remove.wait_for_reply()
        unknown = await standin.send_slash_command("admin fetch", {"feed": "world"}, user=admin)
        no_such_feed = await unknown.wait_for_reply()
        empty = await (await standin.send_slash_command("admin feeds list", user=admin)).wait_for_reply()
        latest = await (await standin.send_slash_command("latest", {"count": 3})).wait_for_reply(timeout=30)
        assert await bot.feeds.feeds(guild_id=standin.guild.id) == []

    assert added.ephemeral and added.content == (
        f"✅ Added feed **world** ({url}): English · every 20 min. It is polled in the background; "
        "/admin fetch feed:world fetches it now."
    )
    assert already.ephemeral and already.content == EN("feeds.taken.feed", name="world")
    assert not_added.ephemeral and "not a feed" in not_added.content, not_added.content
    assert [c["value"] for c in choices] == ["world"]

    # One private status message, edited: starting, the feed's line, then the summary.
    assert done.ephemeral and all(e.message_id == done.id for e in fetch.timeline)
    texts = [e.body["content"] for e in fetch.timeline if e.kind == "edit"]
    assert texts[0] == "⏳ Fetching feed world…"
    assert any(
        re.fullmatch(r"⏳ Fetching feed world: \d+ s elapsed\n• world: 2 pages fetched, 1 failed(\n.*)?", t)
        for t in texts[1:-1]
    ), texts
    head, *sections = texts[-1].split("\n\n")
    counts = "2 new, 0 updated, 0 duplicates, 0 unchanged, 1 failure"  # no generation: every server's
    assert re.fullmatch(rf"✅ Fetched 1 feed in [\d.]+ s: {counts}\.", head)
    new, failed = sections
    assert sorted(new.splitlines()) == sorted(["New:", f"• {PATROL.title}", f"• {SUDAN.title}"])
    assert failed == f"Failed:\n• world: <{news.url(PDF_PATH)}> is application/pdf, not an HTML page"
    assert re.fullmatch(
        r"✅ Fetched 1 feed in [\d.]+ s: 0 new, 0 updated, 0 duplicates, 3 unchanged, 0 failures\.",
        unchanged.content,
    )

    feeds = embed_of(listed)
    assert feeds["title"] == "Feeds" and feeds["footer"]["text"] == "1 feed"
    assert re.fullmatch(
        rf"\*\*world\*\* {re.escape(url)}\nEnglish · every 20 min"
        r" · last success <t:\d+:R> · next poll <t:\d+:R>",
        feeds["description"],
    )

    # An ingest has a status message too, ending in what became of the page.
    assert next(e.body["content"] for e in ingest.timeline if e.kind == "edit") == (
        f"⏳ Fetching the page <{news.url(GAZA.path)}>…"
    )
    assert ingested.ephemeral and ingested.content == (
        f"✅ Added “{GAZA.title}” (<{news.url(GAZA.path)}>): it is answerable now."
    )
    assert repeated.content.startswith(f"Already up to date: “{GAZA.title}”")
    assert refused.ephemeral
    assert refused.content == f"❌ Not indexed: <{news.url(PDF_PATH)}> is application/pdf, not an HTML page"
    assert removed.content == f"🗑️ Removed feed world (<{url}>); its articles stay in the index."
    assert no_such_feed.ephemeral and no_such_feed.content == EN("feeds.unknown", name="world")
    assert embed_of(empty)["description"] == "No feeds registered: add one with /admin feeds add."
    titles = re.findall(r"\*\*\d\.\*\* \[([^\]]+)\]", embed_of(latest)["description"])
    assert titles == [GAZA.title, PATROL.title, SUDAN.title]  # newest first, all answerable now
    assert_everything_quiet(standin)


async def test_members_who_cannot_manage_the_server_cannot_touch_feeds(
    standin: DiscordStandin, start_bot: StartBot, news: FixtureServer
):
    url = publish(news, [PATROL])
    async with asyncio.timeout(60), start_bot(poll_feeds=False) as bot:
        await bot.feeds.add_feed(url, name="world", check=False)
        tries = [
            ("admin feeds add", {"url": news.url("/other/rss")}),
            ("admin feeds remove", {"feed": "world"}),
            ("admin feeds list", {}),
            ("admin fetch", {}),
            ("admin ingest", {"url": news.url(PATROL.path)}),
        ]
        records = [await standin.send_slash_command(c, o, user=standin.user, force=True) for c, o in tries]
        replies = [await r.wait_for_reply(timeout=10) for r in records]
        hidden = await standin.send_autocomplete(
            "admin fetch", {"feed": ""}, focused="feed", user=standin.user
        )
        hidden_choices = await hidden.wait_for_choices()
        assert [f.name for f in await bot.feeds.feeds()] == ["world"]
        assert (await bot.engine.stats()).articles == 1
    for record, reply in zip(records, replies, strict=True):
        assert record.callback_type == 4 and reply.ephemeral
        assert reply.content.startswith("Only members who can manage this server")
    assert hidden_choices == []
    assert news.requests == []  # nothing was fetched for them


async def test_a_feed_name_the_server_lacks_is_refused_in_the_admins_language(
    standin: DiscordStandin, start_bot: StartBot, news: FixtureServer
):
    """The shared corpus's feed "world" is not this server's to fetch or remove: the admin is told
    so in their language, and not sent to a command line they do not have."""
    url = publish(news, [PATROL])
    async with asyncio.timeout(60), start_bot(poll_feeds=False) as bot:
        await bot.feeds.add_feed(url, name="world", check=False)
        records = [
            await standin.send_slash_command(c, {"feed": "world"}, user=standin.admin, locale="id")
            for c in ("admin fetch", "admin feeds remove")
        ]
        replies = [await r.wait_for_reply(timeout=10) for r in records]
        assert [f.name for f in await bot.feeds.feeds()] == ["world"]
    for reply in replies:
        assert reply.ephemeral and reply.content.startswith("Tidak ada feed bernama “world”")
        assert "foreign-desk" not in reply.content
    assert news.requests == []


async def test_a_feed_language_that_is_no_code_is_refused_as_ask_refuses_it(
    standin: DiscordStandin, start_bot: StartBot, news: FixtureServer
):
    """language:english was stored as the feed's language (its articles filed under "english",
    which no /ask language: can name); /ask refused it already, in the asker's language."""
    url = publish(news, [PATROL])
    async with asyncio.timeout(60), start_bot(poll_feeds=False) as bot:
        replies = [
            await (
                await standin.send_slash_command(
                    command, {key: "english", **extra}, user=standin.admin, locale="id"
                )
            ).wait_for_reply(timeout=10)
            for command, key, extra in (("admin feeds add", "language", {"url": url}),
                                        ("ask", "language", {"question": "siapa yang berpatroli?"}))
        ]  # fmt: skip
        assert await bot.feeds.feeds(guild_id=standin.guild.id) == []
    refusal = texts("id")("error.bad_language", value="'english'")
    assert [(r.ephemeral, r.content) for r in replies] == [(True, refusal)] * 2
    assert news.requests == []


async def test_latest_on_a_topic_lists_recent_articles_about_it_newest_first(
    standin: DiscordStandin, start_bot: StartBot, news: FixtureServer
):
    url = publish(news, [DRILLS, KINMEN, PATROL, DESTROYER, SELAT])
    async with asyncio.timeout(TIMEOUT), start_bot(poll_feeds=False) as bot:
        await bot.feeds.add_feed(url, name="world", check=False)
        assert (await bot.feeds.fetch()).counts["new"] == 5
        on_topic = await standin.send_slash_command("latest", {"topic": TAIWAN, "count": 3})
        taiwan = embed_of(await on_topic.wait_for_reply(timeout=30))
        off_topic = await standin.send_slash_command("latest", {"topic": "football transfer news"})
        football = embed_of(await off_topic.wait_for_reply(timeout=30))
        by_source = await standin.send_slash_command("latest", {"topic": TAIWAN, "source": "IDN Times"})
        none_there = embed_of(await by_source.wait_for_reply(timeout=30))
    assert taiwan["title"] == "Latest on “Taiwan Strait”"
    blocks = taiwan["description"].split("\n\n")
    assert [re.match(r"\*\*\d\.\*\* \[([^\]]+)\]", b).group(1) for b in blocks] == [  # type: ignore[union-attr]
        SELAT.title,
        DESTROYER.title,
        KINMEN.title,
    ]
    assert blocks[1] == (
        f"**2.** [{DESTROYER.title}]({news.url(DESTROYER.path)})\nThe Guardian · 13 Mar 2024\n"
        "A US Navy destroyer sailed through the Taiwan Strait on Wednesday, a transit Beijing condemned as a "
        "provocation that threatens peace across the strait."
    )
    assert taiwan["footer"]["text"] == (
        "Named in the headline or first sentence, or matched by meaning in any language, "
        "among the newest articles"
    )
    assert football["description"] == "No recent articles about “football transfer news”."
    assert none_there["title"] == "Latest on “Taiwan Strait” from IDN Times"
    assert none_there["description"] == "No recent articles about “Taiwan Strait” from IDN Times."
    assert_everything_quiet(standin)


async def test_fetch_is_acknowledged_while_a_write_of_this_process_waits_for_the_index(
    standin: DiscordStandin, start_bot: StartBot, news: FixtureServer
):
    """The feeds' bookkeeping shares one connection: a write waiting there for the write lock (a
    fetch of another process committing) held /admin fetch's look at the server's feeds, so it
    was acknowledged after Discord's 3 seconds, and dropped."""
    url = publish(news, [PATROL])
    async with asyncio.timeout(TIMEOUT), start_bot(poll_feeds=False) as bot:
        await bot.feeds.add_feed(url, name="world", guild_id=standin.guild.id, check=False)
        async with feeds_write_waiting(bot):
            fetch = await standin.send_slash_command("admin fetch", {"feed": "world"}, user=standin.admin)
            acknowledged = await fetch.wait_for_callback(timeout=10)
        done = await fetch.wait_for_reply(lambda m: m.content.startswith(("✅", "⚠️")), timeout=150)

    assert acknowledged == 5 and done.ephemeral and "1 new" in done.content
    assert_everything_quiet(standin)


async def test_autocomplete_answers_while_a_write_waits_for_another_processs_lock(
    standin: DiscordStandin, start_bot: StartBot, news: FixtureServer
):
    """Autocomplete read the server's feeds (/admin fetch feed:) and the channel's topics
    (/unfollow topic:) on the feeds' one connection, queued behind a write waiting there for
    another process's write lock: no choices within Discord's 3 seconds. They read on a
    connection that never waits behind a writer."""
    url = publish(news, [PATROL])
    async with asyncio.timeout(TIMEOUT), start_bot(poll_feeds=False) as bot:
        await bot.feeds.add_feed(url, name="world", guild_id=standin.guild.id, check=False)
        await bot.feeds.follow(standin.general.id, TAIWAN, guild_id=standin.guild.id)
        async with feeds_write_waiting(bot):
            feeds = await standin.send_autocomplete(
                "admin fetch", {"feed": "wo"}, focused="feed", user=standin.admin
            )
            topics = await standin.send_autocomplete(
                "unfollow", {"topic": "tai"}, focused="topic", user=standin.admin
            )
            offered = [[c["value"] for c in await ix.wait_for_choices(timeout=10)] for ix in (feeds, topics)]

    assert offered == [["world"], [TAIWAN]]
    assert not standin.error_responses()


LURE = "[Free Nitro](https://evil.example/claim) @everyone"
"""What a feed's author may write in its ``<language>``: no language code."""


def figures_page(title: str) -> str:
    """An article page whose text opens with figures (a price table): too few letters to tell its
    language, and no ``lang`` declared, so the article takes its feed's language."""
    figures = " ".join(f"{i:04d} {i * 37 % 1000:03d}.{i % 10} +{i % 7}.{i % 3}% |" for i in range(60))
    return f"""<!DOCTYPE html><html><head><meta charset="utf-8"><title>{title}</title>
<meta property="og:type" content="article"><meta property="og:title" content="{title}">
<meta property="article:published_time" content="2024-03-05T09:15:00+00:00"></head>
<body><main><article><h1>{title}</h1><p>{figures}</p>
<p>Fuel prices in Jakarta and Manila rose again this week as the rupiah and the peso weakened
against the dollar, traders said on Tuesday.</p></article></main></body></html>"""


async def test_a_language_a_feed_declares_that_is_no_code_reaches_no_article(
    standin: DiscordStandin, start_bot: StartBot, news: FixtureServer
):
    """A feed's ``<language>`` is its author's text: it became the feed's language, then the
    language of its articles whose own could not be told, and /help listed it as written, a
    working link in the server's help ("in English and Free Nitro")."""
    story = PATROL.with_(path="/markets/2024/mar/05/fuel-prices", title="03/05 1200 GMT")
    news.serve(story.path, figures_page(story.title))
    body = rss("Prices", news.base_url, [story], language=html.escape(LURE))
    news.serve("/prices/rss", body, content_type="application/rss+xml")
    feed = news.url("/prices/rss")
    guild = standin.guild.id
    async with asyncio.timeout(TIMEOUT), start_bot(poll_feeds=False) as bot:
        add = await standin.send_slash_command("admin feeds add", {"url": feed}, user=standin.admin)
        added = await add.wait_for_reply(timeout=30)
        assert (await bot.feeds.fetch(guild_id=guild)).counts["new"] == 1
        languages = await bot.engine.languages(scope=Scope(guild))
        ix = await standin.send_slash_command("help")
        help_text = embed_of(await ix.wait_for_reply(lambda m: bool(m.embeds), timeout=20))["description"]

    assert added.ephemeral
    assert "nitro" not in added.content.lower()
    assert "nitro" not in " ".join(languages).lower()
    assert "evil.example" not in help_text
    assert_everything_quiet(standin)


async def test_why_an_address_is_no_feed_shows_what_its_page_says_as_text(
    standin: DiscordStandin, start_bot: StartBot, news: FixtureServer
):
    """ "Not a feed: an HTML page; the feed it links to is …" names what the page's author wrote:
    the admin was shown it as Markdown, a live link the bot seemed to recommend."""
    href = f"?x {LURE}"
    news.serve("/home", f'<html><head><link rel="alternate" type="application/rss+xml" href="{href}">'
               "</head><body><p>Home</p></body></html>")  # fmt: skip
    async with asyncio.timeout(60), start_bot(poll_feeds=False):
        add = await standin.send_slash_command(
            "admin feeds add", {"url": news.url("/home")}, user=standin.admin
        )
        refused = await add.wait_for_reply(timeout=30)

    assert refused.ephemeral and "the feed it links to is <http://" in refused.content
    assert "[" not in refused.content and "Free%20Nitro" in refused.content
    assert_everything_quiet(standin)


async def test_an_indonesian_admin_is_told_in_indonesian_why_a_feed_is_not_added(
    standin: DiscordStandin, start_bot: StartBot, news: FixtureServer
):
    """The engine's "that feed is already registered as 'dunia'", "not a feed at …: an HTML
    page; the feed it links to is …", "HTTP 404 Not Found fetching …" and "not an http(s) URL"
    reached an Indonesian admin in English."""
    url = publish(news, [PATROL])
    other = publish(news, [SUDAN], path="/sudan/rss")
    news.serve("/home", '<html><head><link rel="alternate" type="application/rss+xml" href="/world/rss">'
               "</head><body><p>Beranda</p></body></html>")  # fmt: skip
    news.serve("/hilang", "tidak ada", status=404)
    tries = [
        ("admin feeds add", {"url": url, "name": "dunia"}),
        ("admin feeds add", {"url": url}),
        ("admin feeds add", {"url": other, "name": "dunia"}),
        ("admin feeds add", {"url": news.url("/home")}),
        ("admin feeds add", {"url": news.url("/hilang")}),
        ("admin feeds add", {"url": "antaranews.com/rss/dunia.xml"}),
        ("admin ingest", {"url": "antaranews.com/berita/4012345"}),
    ]
    async with asyncio.timeout(60), start_bot(poll_feeds=False) as bot:
        replies = [
            await (
                await standin.send_slash_command(command, options, user=standin.admin, locale="id")
            ).wait_for_reply(timeout=30)
            for command, options in tries
        ]
        assert [f.name for f in await bot.feeds.feeds(guild_id=standin.guild.id)] == ["dunia"]
    ID = texts("id")
    assert all(r.ephemeral for r in replies)
    assert replies[0].content.startswith("✅ Feed **dunia** ditambahkan")
    assert [r.content for r in replies[1:]] == [
        ID("feeds.taken.feed", name="dunia"),
        ID("feeds.taken.name", name="dunia"),
        ID("feeds.not_a_feed.linked", link=url),
        ID("feeds.http_status", status=404),
        ID("error.not_web_address"),
        ID("error.not_web_address"),
    ]
    assert replies[3].content.startswith(
        "Alamat itu halaman web, bukan feed; feed yang ditautkannya ada di <http"
    )
    assert_everything_quiet(standin)


async def test_an_indonesian_admin_reads_a_fetchs_progress_and_seconds_in_indonesian(
    standin: DiscordStandin, start_bot: StartBot, news: FixtureServer
):
    """Each feed's line while a fetch ran was the engine's English ("dunia: 1 page(s) fetched,
    1 failed", "hilang: failed: HTTP 404 Not Found fetching …"), and so was why a page failed
    in the summary ("is application/pdf, not an HTML page"); and "Mengambil 2 feed dalam 0.3
    detik": a point groups thousands in Indonesian."""
    url = publish(news, [PATROL], with_pdf=True)
    news.serve("/hilang/rss", "tidak ada", status=404)
    guild = standin.guild.id
    async with asyncio.timeout(TIMEOUT), start_bot(poll_feeds=False, status_edit_interval_s=0.1) as bot:
        await bot.feeds.add_feed(url, name="dunia", guild_id=guild, check=False)
        await bot.feeds.add_feed(news.url("/hilang/rss"), name="hilang", guild_id=guild, check=False)
        gated = bot.engine.embedder = GatedEmbedder(bot.engine.embedder)
        fetch = await standin.send_slash_command("admin fetch", user=standin.admin, locale="id")
        try:  # both feeds collected, the article held at the embedder: the status names them
            running = (await fetch.wait_for_reply(lambda m: m.content.count("\n• ") == 2, timeout=60)).content
        finally:
            gated.gate.set()
        done = await fetch.wait_for_reply(finished, timeout=120)
    ID = texts("id")
    assert sorted(running.splitlines()[1:3]) == [
        "• dunia: 1 halaman diambil, 1 gagal",
        "• hilang: gagal: " + ID("fetch.error.http_status", status=404),
    ], running
    assert done.ephemeral
    head, *sections = done.content.split("\n\n")
    assert re.fullmatch(r"⚠️ Mengambil 2 feed dalam \d+,\d detik: 1 baru, .*", head), head
    pdf = ID("fetch.error.content_type", content_type="application/pdf")
    gone = ID("fetch.error.http_status", status=404)
    assert sorted(sections[-1].splitlines()) == [
        "Gagal:",
        f"• dunia: <{news.url(PDF_PATH)}>: {pdf}",
        f"• hilang: <{news.url('/hilang/rss')}>: {gone}",
    ]


async def test_an_indonesian_admin_is_told_in_indonesian_why_a_page_is_not_indexed(
    standin: DiscordStandin, start_bot: StartBot, news: FixtureServer
):
    """ "❌ Tidak diindeks: <…pdf> is application/pdf, not an HTML page": the engine's reason was
    passed through in English; an English admin still reads it as the engine says it."""
    publish(news, [], with_pdf=True)
    news.serve("/hilang", "tidak ada", status=404)
    pages = [news.url(PDF_PATH), news.url("/hilang"), news.url(PDF_PATH)]
    async with asyncio.timeout(60), start_bot(poll_feeds=False):
        replies = [
            await (
                await standin.send_slash_command(
                    "admin ingest", {"url": url}, user=standin.admin, locale=locale
                )
            ).wait_for_reply(finished, timeout=30)
            for url, locale in zip(pages, ["id", "id", "en-GB"], strict=True)
        ]
    ID = texts("id")
    assert [r.content for r in replies] == [
        ID(
            "ingest.failed",
            reason=f"<{pages[0]}>: " + ID("fetch.error.content_type", content_type="application/pdf"),
        ),
        ID("ingest.failed", reason=f"<{pages[1]}>: " + ID("fetch.error.http_status", status=404)),
        f"❌ Not indexed: <{pages[2]}> is application/pdf, not an HTML page",
    ]
    assert all(r.ephemeral for r in replies)


async def test_a_server_fetches_its_feeds_at_most_once_a_spacing(
    standin: DiscordStandin, start_bot: StartBot, news: FixtureServer
):
    """/admin fetch polls a server's feeds at once, past their schedule and a site's Retry-After;
    a manager repeating it had the host request the site as fast as Discord delivered the
    commands, until the site shut the host out: every server's feeds there, the shared corpus's
    too. A name mistyped costs no wait."""
    url = publish(news, [PATROL])
    admin, guild = standin.admin, standin.guild
    async with asyncio.timeout(TIMEOUT), start_bot(poll_feeds=False, server_fetch_spacing_s=600) as bot:
        await bot.feeds.add_feed(url, name="world", guild_id=guild.id)
        typo = await standin.send_slash_command("admin fetch", {"feed": "wrold"}, user=admin)
        unknown = await typo.wait_for_reply(timeout=30)
        first = await standin.send_slash_command("admin fetch", {"feed": "world"}, user=admin)
        done = await first.wait_for_reply(lambda m: m.content.startswith(("✅", "⚠️")), timeout=150)
        polls = len(news.requests)
        again = await standin.send_slash_command("admin fetch", user=admin, locale="id")
        refused = await again.wait_for_reply(timeout=30)
    assert unknown.content == EN("feeds.unknown", name="wrold")
    assert done.content.startswith("✅"), done.content
    waits = {texts("id")("fetch.too_soon", seconds=s) for s in range(1, 601)}
    assert refused.ephemeral and refused.content in waits
    assert len(news.requests) == polls  # the site was not asked again
    assert_everything_quiet(standin)


async def test_the_spacing_of_a_servers_fetches_holds_across_processes(
    standin: DiscordStandin, start_bot: StartBot, news: FixtureServer
):
    """The spacing was kept in the process: restarting the bot, or the new process of a rolling
    restart taking the server's shard over, let a manager fetch again at once, and repeating the
    restart, as often as they liked. The process that fetched is gone when the next one is asked."""
    url = publish(news, [PATROL])
    admin, guild = standin.admin, standin.guild
    async with asyncio.timeout(TIMEOUT):
        async with start_bot(poll_feeds=False, server_fetch_spacing_s=600) as old:
            await old.feeds.add_feed(url, name="world", guild_id=guild.id)
            first = await standin.send_slash_command("admin fetch", user=admin)
            done = await first.wait_for_reply(lambda m: m.content.startswith(("✅", "⚠️")), timeout=150)
        polls = len(news.requests)
        async with start_bot(poll_feeds=False, server_fetch_spacing_s=600):
            again = await standin.send_slash_command("admin fetch", user=admin)
            refused = await again.wait_for_reply(timeout=30)
    assert done.content.startswith("✅"), done.content
    assert refused.ephemeral and refused.content in {EN("fetch.too_soon", seconds=s) for s in range(1, 601)}
    assert len(news.requests) == polls  # the site was not asked again


async def test_adding_a_page_that_is_no_feed_over_and_over_is_held_to_the_hourly_quota(
    standin: DiscordStandin, start_bot: StartBot, news: FixtureServer, make_settings, sample_copy
):
    """/admin feeds add fetches the address once to check it is a feed, and counted nowhere: a
    manager adding a page that is none, over and over, had the host request the site as fast as
    the commands came (each refused, none kept). The check counts as a page asked for, as an
    /admin ingest does, within ``server_ingests_per_hour``."""
    news.serve(GAZA.path, page(GAZA, news.base_url))
    settings = make_settings(sample_copy, feeds=replace(BOT_FEEDS, server_ingests_per_hour=2))
    async with asyncio.timeout(TIMEOUT), start_bot(settings=settings, poll_feeds=False):
        replies = []
        for _ in range(3):
            add = await standin.send_slash_command(
                "admin feeds add", {"url": news.url(GAZA.path)}, user=standin.admin
            )
            replies.append(await add.wait_for_reply(timeout=30))
    assert all("not a feed" in r.content for r in replies[:2]), replies
    assert replies[2].ephemeral and replies[2].content.startswith(
        "This server has reached its limit of 2 ingested page(s) an hour: try again in"
    )
    assert len(news.requests_to(GAZA.path)) == 2
    assert_everything_quiet(standin)


async def test_an_indonesian_admin_reads_why_a_feed_failed_in_earlier_polls_in_indonesian(
    standin: DiscordStandin, start_bot: StartBot, news: FixtureServer
):
    """/admin feeds list's "terakhir: HTTP 404 Not Found fetching …" was the English the poll
    stored; what failed it is stored beside it now. A failure recorded before that (no kind), or
    whose kind is damaged, is still listed, in its English."""
    news.serve("/hilang/rss", "tidak ada", status=404)
    guild, ID = standin.guild.id, texts("id")

    async def last_line(locale: str) -> str:
        listed = await (
            await standin.send_slash_command("admin feeds list", user=standin.admin, locale=locale)
        ).wait_for_reply()
        return embed_of(listed)["description"].splitlines()[-1].replace("\\", "")

    async with asyncio.timeout(60), start_bot(poll_feeds=False) as bot:
        await bot.feeds.add_feed(news.url("/hilang/rss"), name="hilang", guild_id=guild, check=False)
        await bot.feeds.fetch("hilang", guild_id=guild)
        english = f"HTTP 404 Not Found fetching {news.url('/hilang/rss')}"
        assert [await last_line("id"), await last_line("en-GB")] == [
            ID.plural("feeds.failing", 1, why=ID("fetch.error.http_status", status=404)),
            EN.plural("feeds.failing", 1, why=english),
        ]
        said = []
        for stored in (None, "{not json", '{"kind": "HTTPStatusError", "status": "404"}', '{"kind": 7}'):
            async with bot.feeds.db.transaction() as conn:
                await conn.execute("UPDATE feed_scopes SET last_failure = ?", (stored,))
            said.append(await last_line("id"))
    assert said == [ID.plural("feeds.failing", 1, why=english)] * 4


async def test_an_indonesian_admin_reads_a_feeds_language_named_not_its_code(
    standin: DiscordStandin, start_bot: StartBot, news: FixtureServer
):
    """ "en · setiap 20 menit" in /admin feeds add and list, and in /operator feeds list: a code,
    where the answer's footer names the language ("Inggris")."""
    url = publish(news, [PATROL])
    async with asyncio.timeout(60), start_bot(poll_feeds=False, operator_guild_ids=[standin.guild.id]) as bot:
        await bot.feeds.add_feed(news.url("/lain/rss"), name="antara", language="id", check=False)
        add = await standin.send_slash_command(
            "admin feeds add", {"url": url, "name": "dunia", "every": 20}, user=standin.admin, locale="id"
        )
        added = await add.wait_for_reply(timeout=30)
        listed = await (
            await standin.send_slash_command("admin feeds list", user=standin.admin, locale="id")
        ).wait_for_reply()
        shared = await (
            await standin.send_slash_command("operator feeds list", user=standin.owner, locale="id")
        ).wait_for_reply()
    assert added.content.startswith(f"✅ Feed **dunia** ditambahkan ({url}): Inggris · setiap 20 menit.")
    assert f"{url}\nInggris · setiap 20 menit · " in embed_of(listed)["description"]
    assert "\nIndonesia · setiap 30 menit · " in embed_of(shared)["description"]


async def test_admin_fetch_leaves_a_feed_whose_site_asked_to_wait_and_says_until_when(
    standin: DiscordStandin, start_bot: StartBot, news: FixtureServer
):
    """/admin fetch polled every feed of the server at once, one whose site had answered 503
    with a Retry-After an hour ago too: a manager's command went round the wait the poller
    keeps to. It is left alone now, said to wait (in the admin's language); the others are fetched."""
    news.serve("/sibuk/rss", "sibuk", status=503, headers={"Retry-After": "3600"})
    news.serve("/dunia/rss", rss("Dunia", news.base_url, []), content_type="application/rss+xml")
    guild, ID = standin.guild.id, texts("id")
    async with asyncio.timeout(TIMEOUT), start_bot(poll_feeds=False) as bot:
        await bot.feeds.add_feed(news.url("/sibuk/rss"), name="sibuk", guild_id=guild, check=False)
        await bot.feeds.add_feed(news.url("/dunia/rss"), name="dunia", guild_id=guild, check=False)
        await bot.feeds.fetch("sibuk", guild_id=guild)
        (busy,) = [f for f in await bot.feeds.all_feeds() if f.url == news.url("/sibuk/rss")]
        until = datetime.fromtimestamp(busy.next_poll, UTC)
        fetch = await standin.send_slash_command("admin fetch", user=standin.admin, locale="id")
        done = await fetch.wait_for_reply(finished, timeout=120)
    assert len(news.requests_to("/sibuk/rss")) == 1 and len(news.requests_to("/dunia/rss")) == 1
    head, *sections = done.content.split("\n\n")
    assert head.startswith("✅ Mengambil 1 feed"), head
    assert sections[-1].splitlines() == [
        ID("fetch.section.waiting"),
        "• " + ID("fetch.waiting", feed="sibuk", when=f"{until:%Y-%m-%d %H:%M} UTC"),
    ]


async def test_a_feeds_credentials_are_hidden_where_discord_shows_its_url(
    standin: DiscordStandin, start_bot: StartBot, news: FixtureServer
):
    """/admin feeds add, list and remove showed a feed's URL with its password and token in
    full, to every manager of the server (and in Discord's copy of the messages)."""
    news.serve("/rahasia/rss", rss("Rahasia", news.base_url, []), content_type="application/rss+xml")
    secret = news.url("/rahasia/rss").replace("://", "://ana:s3kr1t@") + "?token=abc123"
    async with asyncio.timeout(60), start_bot(poll_feeds=False):
        said = []
        for command, options in (
            ("admin feeds add", {"url": secret, "name": "rahasia"}),
            ("admin feeds list", {}),
            ("admin feeds remove", {"feed": "rahasia"}),
        ):
            sent = await standin.send_slash_command(command, options, user=standin.admin)
            reply = await sent.wait_for_reply(timeout=30)
            said.append(reply.content + str(reply.embeds))
    assert all("s3kr1t" not in s and "abc123" not in s for s in said), said
    assert all("***" in s for s in said), said
