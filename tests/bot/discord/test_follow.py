"""/follow, /unfollow, /following and the alerts they bring: one alert per new matching article,
never reposted; a burst as one digest; the rate limit; who may follow; the background poller."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import Callable, Sequence
from contextlib import closing
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from foreign_desk.bot.discord.i18n import EN, texts
from foreign_desk.bot.discord.limits import escape
from foreign_desk.index.config import SearchSettings, Settings
from foreign_desk.index.text import caseless

from tests.discord_standin import DiscordStandin, Overwrite, Perm, User
from tests.feeds.news import PATROL, SUDAN
from tests.fetch.fixture_server import FixtureServer
from tests.gated import GatedEmbedder

from .conftest import BOT_FEEDS, StartBot, assert_everything_quiet, embed_of, feeds_write_waiting
from .newsroom import CYBER, DESTROYER, DRILLS, HACKERS, HACKERS_UPDATED, KINMEN, SELAT, TAIWAN, publish

TIMEOUT = 240  # embedding is slow on a shared 2-core machine


async def alerts_looked(standin: DiscordStandin, bot: Any, since: float) -> None:
    """Wait for the alert loop to finish a look begun at ``since`` (the desk's clock) or later:
    whatever was due by then has been sent, or decided against."""
    await standin.wait_until(
        lambda: bot.alerts is not None and (bot.alerts.looked_at or 0.0) >= since,
        timeout=30,
        what="a look of the alert loop",
    )


@pytest.fixture
def moderator(standin: DiscordStandin) -> User:
    """A member who may manage channels (and not the server)."""
    mods = standin.world.add_role("Moderators", int(Perm.MANAGE_CHANNELS))
    return standin.world.add_user("mo.moderator", roles=[mods])


def follow_options(**overrides: Any) -> dict[str, Any]:
    return {"poll_feeds": False, "alert_check_s": 0.2, **overrides}


async def test_a_new_matching_article_is_posted_once_escaped_and_pinging_nobody(
    standin: DiscordStandin,
    start_bot: StartBot,
    news: FixtureServer,
    moderator: User,
    make_settings,
    sample_copy,
):
    # No rate limit at all: what keeps the article from being posted twice is that it was posted.
    settings = make_settings(sample_copy, feeds=replace(BOT_FEEDS, digest_gap_s=0))
    url = publish(news, [HACKERS, SUDAN])
    async with asyncio.timeout(TIMEOUT), start_bot(settings=settings, **follow_options()) as bot:
        follow = await standin.send_slash_command("follow", {"topic": CYBER}, user=moderator)
        followed = await follow.wait_for_reply(timeout=60)
        await bot.feeds.add_feed(url, name="world", check=False)
        assert (await bot.feeds.fetch()).counts["new"] == 2
        alert = await standin.wait_for_bot_message(channel=standin.general, timeout=60)

        publish(news, [HACKERS_UPDATED, SUDAN])
        assert (await bot.feeds.fetch()).counts["updated"] == 1
        assert await bot.feeds.follows.pending() == []
        await alerts_looked(standin, bot, bot.feeds.clock())
        assert standin.bot_messages(standin.general) == [alert]

    assert follow.callback_type == 5 and not followed.ephemeral and followed.embeds == []
    assert followed.content == (
        f"📌 This channel now follows “{CYBER}”: new articles about it, in any language, are posted here as "
        "they are indexed (each burst of articles comes as one message). /unfollow stops it.\n"
        "Nothing among the recent articles is about it yet."
    )
    assert alert.content == f"📰 New on “{CYBER}”"
    embed = embed_of(alert)
    assert (
        embed["title"]
        == escape(HACKERS.title)
        == "@\u200beveryone: Japan \\*\\*warns\\*\\* of <@\u200b123456789012345678> cyber attacks "
        "on embassies"
    )
    assert embed["url"] == news.url(HACKERS.path)
    assert embed["description"] == (
        "The Guardian · 7 Mar 2024\n"
        "Japan's foreign ministry warned on Thursday that hackers had targeted its embassies in Southeast "
        "Asia, posting @\u200beveryone alerts and fake <@\u200b&987654321098765432> notices in staff chat "
        "groups."
    )
    assert embed["footer"]["text"] == f"Following “{CYBER}” here · /unfollow to stop"
    assert_everything_quiet(standin)


async def test_a_burst_becomes_one_digest_and_later_articles_wait_for_the_gap(
    standin: DiscordStandin, start_bot: StartBot, news: FixtureServer, moderator: User
):
    desk = standin.world.add_text_channel("asia-desk")
    url = publish(news, [DRILLS, PATROL, KINMEN, DESTROYER])
    async with asyncio.timeout(TIMEOUT), start_bot(**follow_options()) as bot:
        follow = await standin.send_slash_command("follow", {"topic": TAIWAN}, user=moderator, channel=desk)
        await follow.wait_for_reply(timeout=60)
        await bot.feeds.add_feed(url, name="world", check=False)
        assert (await bot.feeds.fetch()).counts["new"] == 4
        digest = await standin.wait_for_bot_message(channel=desk, timeout=60)

        # Another article on the topic: matched, but the channel had its message for the next 10 minutes.
        publish(news, [DRILLS, PATROL, KINMEN, DESTROYER, SELAT])
        assert (await bot.feeds.fetch()).counts["new"] == 1
        (waiting,) = await bot.feeds.follows.pending()
        assert waiting.article.title == SELAT.title
        # A look after the match has settled: due but for the channel's gap, so not sent.
        await alerts_looked(standin, bot, waiting.matched_at + BOT_FEEDS.digest_settle_s)
        assert standin.bot_messages(desk) == [digest]

        typed = await standin.send_autocomplete("unfollow", {"topic": "taiw"}, focused="topic", channel=desk)
        choices = await typed.wait_for_choices()
        listing = await standin.send_slash_command("following", channel=desk)
        listed = embed_of(await listing.wait_for_reply())
        everywhere = await standin.send_slash_command("following", {"server": True}, user=moderator)
        server_wide = embed_of(await everywhere.wait_for_reply())
        stop = await standin.send_slash_command(
            "unfollow", {"topic": "taiwan  STRAIT"}, user=moderator, channel=desk
        )
        stopped = await stop.wait_for_reply()
        after = await standin.send_slash_command("following", channel=desk)
        nothing = embed_of(await after.wait_for_reply())
        assert await bot.feeds.following(desk.id) == [] and await bot.feeds.follows.pending() == []

    assert digest.content == f"📰 3 new articles on “{TAIWAN}”"
    blocks = embed_of(digest)["description"].split("\n\n")
    assert blocks == [
        f"**1.** [{DESTROYER.title}]({news.url(DESTROYER.path)})\nThe Guardian · 13 Mar 2024\n"
        "A US Navy destroyer sailed through the Taiwan Strait on Wednesday, a transit Beijing condemned as a "
        "provocation that threatens peace across the strait.",
        f"**2.** [{KINMEN.title}]({news.url(KINMEN.path)})\nThe Guardian · 12 Mar 2024\n"
        "Taiwan's coast guard shadowed four Chinese coast guard ships that entered restricted waters around "
        "the Kinmen islands, close to the Chinese coast, on Tuesday.",
        f"**3.** [{DRILLS.title}]({news.url(DRILLS.path)})\nThe Guardian · 11 Mar 2024\n"
        "China's military held live-fire exercises in the Taiwan Strait on Monday, the latest show of force "
        "near the island since Taipei's new president took office.",
    ]
    assert embed_of(digest)["footer"]["text"] == f"Following “{TAIWAN}” here · /unfollow to stop"

    assert [c["value"] for c in choices] == [TAIWAN]
    assert listed["title"] == "Topics followed in this channel"
    assert listed["description"].startswith(f"• “{TAIWAN}” — since <t:") and listed["description"].endswith(
        f":d> by <@{moderator.id}>"
    )
    assert listed["footer"]["text"] == (
        "1 topic · at most one message every 10 minutes; a burst of articles comes as one digest"
    )
    assert server_wide["title"] == "Topics followed in this server"
    assert server_wide["description"] == f"<#{desk.id}>: “{TAIWAN}”"
    assert not stopped.ephemeral and stopped.content == f"This channel no longer follows “{TAIWAN}”."
    assert nothing["description"] == "This channel follows no topics yet: /follow topic:… adds one."
    assert_everything_quiet(standin)


async def test_only_members_who_manage_the_channel_may_follow_and_only_where_the_bot_can_post(
    standin: DiscordStandin, start_bot: StartBot, moderator: User
):
    async with asyncio.timeout(60), start_bot(**follow_options()) as bot:
        await bot.feeds.follow(standin.general.id, TAIWAN, guild_id=standin.guild.id)
        tries = [
            ("follow", {"topic": "South China Sea"}),
            ("unfollow", {"topic": TAIWAN}),
            ("following", {"server": True}),
        ]
        records = [await standin.send_slash_command(c, o, user=standin.user, force=True) for c, o in tries]
        refusals = [await r.wait_for_reply(timeout=10) for r in records]
        mute = await standin.send_slash_command(
            "follow", {"topic": TAIWAN}, user=standin.owner, channel=standin.announcements
        )
        cannot_post = await mute.wait_for_reply(timeout=10)
        twice = await standin.send_slash_command("follow", {"topic": "taiwan strait"}, user=moderator)
        already = await twice.wait_for_reply(timeout=10)
        unknown = await standin.send_slash_command(
            "unfollow", {"topic": " Laut  China Selatan"}, user=moderator, locale="id"
        )
        not_followed = await unknown.wait_for_reply(timeout=10)
        spaces = await standin.send_slash_command("follow", {"topic": "   "}, user=moderator, locale="id")
        blank = await spaces.wait_for_reply(timeout=10)
        anyone = await standin.send_slash_command("following", user=standin.user)
        listed = await anyone.wait_for_reply(timeout=10)
        assert [f.topic for f in await bot.feeds.following(guild_id=standin.guild.id)] == [TAIWAN]

    for record, reply in zip([*records, mute, spaces], [*refusals, cannot_post, blank], strict=True):
        assert record.callback_type == 4 and reply.ephemeral, reply
    for record, reply in ((twice, already), (unknown, not_followed)):  # known once acknowledged
        assert record.callback_type == 5 and record.original is not None and record.original.deleted
        assert reply.ephemeral, reply
    assert (
        refusals[0].content
        == refusals[1].content
        == ("Only members who can manage this channel can change the topics it follows.")
    )
    assert (
        refusals[2].content
        == "Only members who can manage channels can list the follows of the whole server."
    )
    assert cannot_post.content.startswith("I can't post alerts in this channel")
    assert already.content == f"This channel already follows “{TAIWAN}”."
    assert not_followed.content.startswith("Kanal ini tidak mengikuti “Laut China Selatan”")
    assert blank.content == texts("id")("follow.empty")
    assert listed.ephemeral and embed_of(listed)["description"].startswith(f"• “{TAIWAN}”")
    for name in ("follow", "unfollow"):
        registered = standin.commands.find(name, None)
        assert (
            registered is not None and int(registered["default_member_permissions"]) == Perm.MANAGE_CHANNELS
        )
        assert registered["dm_permission"] is False
    assert standin.commands.find("following", None)["default_member_permissions"] is None  # type: ignore[index]
    assert_everything_quiet(standin)


async def test_follow_on_too_long_a_topic_names_its_limit_and_follows_nothing(
    standin: DiscordStandin,
    start_bot: StartBot,
    moderator: User,
    sample_copy: Path,
    make_settings: Callable[..., Settings],
):
    """Past the engine's ``search.max_question_chars`` (an operator may set it below the option's
    100) the topic cannot be embedded: the reply was the engine's English line in every language."""
    settings = make_settings(sample_copy, search=SearchSettings(max_question_chars=20))
    async with asyncio.timeout(60), start_bot(settings=settings, **follow_options()) as bot:
        replies = []
        for locale in ("en-US", "id"):
            ix = await standin.send_slash_command(
                "follow", {"topic": "NATO and Japan airbase"}, user=moderator, locale=locale
            )
            replies.append(await ix.wait_for_reply(timeout=10))
        assert await bot.feeds.following(guild_id=standin.guild.id) == []
    assert all(reply.ephemeral for reply in replies)
    assert [reply.content for reply in replies] == [
        tx("latest.topic_too_long", length=22, limit=20) for tx in (EN, texts("id"))
    ]


async def test_follow_refuses_a_thread_the_bot_cannot_post_in_and_says_why(
    standin: DiscordStandin, start_bot: StartBot, moderator: User
):
    """/follow in a locked thread, or in a private thread the bot was not added to, was accepted:
    every alert there then failed (a locked thread's retried at each alert, the private thread's
    follow dropped at the first with nothing said in Discord). It refuses them in one line; a
    private thread the bot is in, and a locked one where it may manage threads, are followed."""
    world = standin.world
    locked = world.add_thread("closed", world.general, locked=True)
    secret = world.add_thread("secret", world.general, private=True, members=[moderator])
    ours = world.add_thread("ours", world.general, private=True, members=[moderator, world.bot])
    threads = (locked, secret, ours)
    async with asyncio.timeout(60), start_bot(**follow_options()) as bot:
        replies = []
        for thread in threads:
            ix = await standin.send_slash_command("follow", {"topic": TAIWAN}, user=moderator, channel=thread)
            replies.append(await ix.wait_for_reply(timeout=30))
        mods = world.add_role("Thread mods", int(Perm.MANAGE_THREADS))
        world.guild.members[world.bot.id].role_ids.append(mods.id)
        ix = await standin.send_slash_command("follow", {"topic": CYBER}, user=moderator, channel=locked)
        moderated = await ix.wait_for_reply(timeout=30)
        followed = [[f.topic for f in await bot.feeds.following(t.id)] for t in threads]

    assert not moderated.ephemeral and followed == [[CYBER], [], [TAIWAN]]
    followed_text = replies[2].content
    assert not replies[2].ephemeral and followed_text.startswith(f"📌 This channel now follows “{TAIWAN}”")
    assert [(r.ephemeral, r.content) for r in replies[:2]] == [
        (True, EN("follow.thread_locked")),
        (True, EN("follow.private_thread")),
    ]
    assert EN("follow.private_thread") == (
        "I can't post alerts in this private thread: I'm not in it. Add Foreign Desk to the thread "
        "(@mention it here), then /follow again."
    )
    asked = [(r.path, r.status, r.error_code) for r in standin.error_responses()]
    assert asked == [(f"/channels/{secret.id}/thread-members/{world.bot.id}", 403, 50001)]  # not let see it
    standin.assert_no_pings()


async def test_a_server_follows_at_most_its_ceiling_of_topics_across_its_channels(
    standin: DiscordStandin, start_bot: StartBot, moderator: User
):
    """Nothing bounded how many channels of one server followed topics: every follow is an alert
    to send, and one server's thousands crowded out the others'. ``max_follows_per_server`` caps a
    server's follows across its channels; another server's do not count."""
    desk = standin.world.add_text_channel("desk")
    other = standin.world.add_guild("Other")
    async with asyncio.timeout(60), start_bot(max_follows_per_server=2, **follow_options()) as bot:
        await bot.feeds.follow(standin.general.id, TAIWAN, guild_id=standin.guild.id)
        await bot.feeds.follow(other.general.id, TAIWAN, guild_id=other.id)
        ix = await standin.send_slash_command("follow", {"topic": CYBER}, user=moderator, channel=desk)
        accepted = await ix.wait_for_reply(timeout=30)
        ix = await standin.send_slash_command("follow", {"topic": "layoffs"}, user=moderator, channel=desk)
        refused = await ix.wait_for_reply(timeout=30)
        topics = [f.topic for f in await bot.feeds.following(guild_id=standin.guild.id)]
    assert not accepted.ephemeral and topics == [TAIWAN, CYBER]
    assert refused.ephemeral and refused.content == (
        "This server already follows 2 topics across its channels: /unfollow one first "
        "(/following server:true lists them)."
    )
    assert_everything_quiet(standin)


class HeldQueries(GatedEmbedder):
    """Holds the embedding of a question or topic (not of passages) at the gate."""

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        self.entered.set()
        self.gate.wait(timeout=self.hold_s)
        return self.real.embed_queries(texts)


@pytest.mark.parametrize(
    ("other", "elsewhere", "limits", "expected"),
    [
        ("TAIWAN STRAIT", False, {}, "This channel already follows “TAIWAN STRAIT”."),
        (
            "layoffs",
            False,
            {"max_follows_per_channel": 1},
            "This channel already follows 1 topics: /unfollow one first.",
        ),
        (
            "layoffs",
            True,
            {"max_follows_per_server": 1},
            "This server already follows 1 topics across its channels: /unfollow one first "
            "(/following server:true lists them).",
        ),
    ],
    ids=["same topic", "channel cap", "server cap"],
)
async def test_a_follow_made_while_the_topic_embeds_gets_the_usual_refusal(
    standin: DiscordStandin,
    start_bot: StartBot,
    moderator: User,
    other: str,
    elsewhere: bool,
    limits: dict[str, int],
    expected: str,
):
    """Another /follow (another task or process) commits while this one embeds its topic: the same
    topic got the generic apology (the unique index refused it), and a topic past
    ``max_follows_per_channel`` was kept (the cap was read before the embedding, not with the
    insert); ``max_follows_per_server`` is checked by the insert too (``elsewhere``: the other
    follow is in another channel of the server)."""
    channel = standin.world.add_text_channel("desk") if elsewhere else standin.general
    async with asyncio.timeout(60), start_bot(**limits, **follow_options()) as bot:
        held = HeldQueries(bot.engine.embedder)
        bot.engine.embedder = held
        ix = await standin.send_slash_command("follow", {"topic": TAIWAN}, user=moderator)
        assert await asyncio.to_thread(held.entered.wait, 30)
        with closing(sqlite3.connect(bot.engine.db_path)) as conn, conn:  # the other follow, committed
            conn.execute(
                "INSERT INTO follows(channel_id, guild_id, topic, topic_key, vector, fingerprint, "
                "created_at) VALUES (?, ?, ?, ?, x'', '{}', '2026-01-01T00:00:00Z')",
                (channel.id, standin.guild.id, other, caseless(other)),
            )
        held.gate.set()
        reply = await ix.wait_for_reply(timeout=30)
        topics = [f.topic for f in await bot.feeds.following(guild_id=standin.guild.id)]
    assert reply.ephemeral and reply.content == expected
    assert topics == [other]


async def test_two_follows_of_one_topic_in_two_cases_at_the_same_moment_follow_it_once(
    standin: DiscordStandin, start_bot: StartBot, moderator: User
):
    """/follow Türkiye and /follow TÜRKIYE at once: both passed every check before either was
    stored, and the database's unique index folded ASCII case only, so the channel followed the
    topic twice (two alerts of each article). Only one is stored; the other is told."""
    async with asyncio.timeout(60), start_bot(**follow_options()) as bot:
        real, asked, both = bot.engine.embed_query, [], asyncio.Event()

        async def paired(text: str) -> np.ndarray:  # each topic embeds once the other asked too
            asked.append(text)
            if len(asked) == 2:
                both.set()
            await both.wait()
            return await real(text)

        bot.engine.embed_query = paired  # type: ignore[method-assign]
        sent = [
            await standin.send_slash_command("follow", {"topic": topic}, user=moderator)
            for topic in ("Türkiye", "TÜRKIYE")
        ]
        replies = [await ix.wait_for_reply(timeout=30) for ix in sent]
        topics = [f.topic for f in await bot.feeds.following(standin.general.id)]

    assert len(topics) == 1, topics
    refused = next(r for r in replies if r.ephemeral)
    assert refused.content == f"This channel already follows “{topics[0]}”."
    assert_everything_quiet(standin)


async def test_managing_one_channel_lists_its_follows_not_the_whole_servers(
    standin: DiscordStandin, start_bot: StartBot
):
    """Manage Channels granted in one channel (an overwrite) lets a member change what that channel
    follows; the whole server's list names the topics of channels they may not even see."""
    keeper = standin.world.add_user("kai.keeper")
    standin.general.overwrites.append(Overwrite(keeper.id, 1, allow=int(Perm.MANAGE_CHANNELS)))
    staff = standin.world.add_text_channel(
        "staff", overwrites=[Overwrite(standin.guild.id, 0, deny=int(Perm.VIEW_CHANNEL))]
    )
    async with asyncio.timeout(60), start_bot(**follow_options()) as bot:
        await bot.feeds.follow(staff.id, "layoffs", guild_id=standin.guild.id)
        ix = await standin.send_slash_command("follow", {"topic": TAIWAN}, user=keeper)
        followed = await ix.wait_for_reply(timeout=30)
        ix = await standin.send_slash_command("following", {"server": True}, user=keeper)
        refused = await ix.wait_for_reply(timeout=10)
        ix = await standin.send_slash_command("following", {"server": True}, user=standin.owner)
        listed = await ix.wait_for_reply(timeout=10)

    assert not followed.ephemeral and f"“{TAIWAN}”" in followed.content
    assert refused.ephemeral and refused.content == EN("following.not_manager")
    assert "layoffs" in embed_of(listed)["description"] and TAIWAN in embed_of(listed)["description"]
    assert_everything_quiet(standin)


async def test_the_background_poller_fetches_new_feeds_and_their_alerts_follow(
    standin: DiscordStandin, start_bot: StartBot, news: FixtureServer
):
    url = publish(news, [PATROL])
    async with asyncio.timeout(TIMEOUT), start_bot(**follow_options(poll_feeds=True)) as bot:
        poller = bot.poller
        assert poller is not None and poller.running
        follow = await standin.send_slash_command(
            "follow", {"topic": "maritime patrols against illegal fishing"}, user=standin.owner
        )
        await follow.wait_for_reply(timeout=60)
        add = await standin.send_slash_command("admin feeds add", {"url": url}, user=standin.admin)
        added = await add.wait_for_reply(timeout=30)
        # Nobody runs /admin fetch: the poller polls the new feed at once, and the alert follows.
        alert = await standin.wait_for_bot_message(channel=standin.general, timeout=120)
        (feed,) = await bot.feeds.feeds(guild_id=standin.guild.id)
        alerts = bot.alerts
    assert added.content.startswith("✅ Added feed **world-news-test-wire**")
    assert embed_of(alert)["title"] == PATROL.title and feed.last_success is not None
    assert poller.polls >= 1 and not poller.running  # stopped when the bot closed
    assert alerts is not None and alerts.sent == 1 and bot.alerts is None and bot.poller is None
    assert_everything_quiet(standin)


async def test_alerts_are_in_the_servers_language_whichever_process_posts_them(
    standin: DiscordStandin, start_bot: StartBot, news: FixtureServer, make_settings, sample_copy
):
    # Two processes on one data folder: the first holds the background lease and posts every
    # alert; the Indonesian server's shard runs in the second, so the first knows nothing of it.
    world = standin.world
    posting_shard = standin.guild.shard_id(2)
    far = world.add_guild("Jauh", shard=(1 - posting_shard, 2))
    far.preferred_locale = "id"
    settings = make_settings(sample_copy, feeds=replace(BOT_FEEDS, digest_gap_s=0))
    url = publish(news, [DRILLS])
    options = follow_options(identify_spacing_s=0.0)
    async with (
        asyncio.timeout(TIMEOUT),
        start_bot(settings=settings, shards=([posting_shard], 2), **options) as poster,
        start_bot(settings=settings, shards=([1 - posting_shard], 2), **options) as other,
    ):
        assert poster.alerts is not None and other.alerts is None
        owner = world.users[far.owner_id]
        follow = await standin.send_slash_command(
            "follow", {"topic": TAIWAN}, user=owner, channel=far.general
        )
        await follow.wait_for_reply(timeout=60)
        await poster.feeds.add_feed(url, name="world", check=False)
        await poster.feeds.fetch()
        first = await standin.wait_for_bot_message(channel=far.general, timeout=60)
        assert first.content == f"📰 Baru tentang “{TAIWAN}”"
        await alerts_looked(standin, poster, poster.feeds.clock())  # and recorded as posted

        # The server switches to English: the process running its shard is told, and so the next
        # alert, posted by the first process, is in English.
        far.preferred_locale = "en-US"
        await standin.update_guild(far)
        async with asyncio.timeout(30):
            while (await poster.feeds.following(far.general.id))[0].locale != "en-US":
                await asyncio.sleep(0.05)
        publish(news, [DRILLS, DESTROYER])
        await poster.feeds.fetch()
        await standin.wait_until(
            lambda: len(standin.bot_messages(far.general)) == 2, timeout=60, what="alert"
        )

    assert standin.bot_messages(far.general)[1].content == f"📰 New on “{TAIWAN}”"


async def test_follow_is_acknowledged_while_a_write_of_this_process_waits_for_the_index(
    standin: DiscordStandin, start_bot: StartBot, moderator: User
):
    """A fetch committing holds the database's write lock; a write of the feeds' bookkeeping
    (an alert claimed, a poll recorded) waits for it on the feeds' one connection, and /follow
    read the channel's topics there first: it was acknowledged after Discord's 3 seconds, and
    dropped."""
    async with asyncio.timeout(60), start_bot(**follow_options()) as bot:
        async with feeds_write_waiting(bot):  # the fetch, mid-commit
            ix = await standin.send_slash_command("follow", {"topic": TAIWAN}, user=moderator)
            acknowledged = await ix.wait_for_callback(timeout=10)
        reply = await ix.wait_for_reply(timeout=30)
        topics = [f.topic for f in await bot.feeds.following(standin.general.id)]

    assert acknowledged == 5 and not reply.ephemeral and topics == [TAIWAN]
    assert reply.content.startswith(f"📌 This channel now follows “{TAIWAN}”")
    assert_everything_quiet(standin)


async def test_unfollow_is_acknowledged_while_another_process_writes_the_index(
    standin: DiscordStandin, start_bot: StartBot, moderator: User
):
    """The background process committing a fetch holds the database's write lock for seconds:
    /unfollow answers Discord within its 3 seconds and unfollows once the lock is free (it wrote
    first, then answered: Discord had dropped the interaction by then, and the user saw "The
    application did not respond")."""
    async with asyncio.timeout(60), start_bot(**follow_options()) as bot:
        await bot.feeds.follow(standin.general.id, TAIWAN, guild_id=standin.guild.id)
        with closing(sqlite3.connect(bot.engine.db_path, isolation_level=None)) as other:
            other.execute("BEGIN IMMEDIATE")  # another process, mid-commit
            ix = await standin.send_slash_command("unfollow", {"topic": TAIWAN}, user=moderator)
            acknowledged = await ix.wait_for_callback(timeout=10)
            other.execute("ROLLBACK")
        reply = await ix.wait_for_reply(timeout=15)
        left = await bot.feeds.following(standin.general.id)

    assert acknowledged == 5 and not reply.ephemeral
    assert reply.content == EN("follow.unfollowed", topic=TAIWAN) and left == []
    assert_everything_quiet(standin)


async def test_unfollow_while_another_process_keeps_the_store_busy_says_to_try_again(
    standin: DiscordStandin, start_bot: StartBot, moderator: User, caplog: pytest.LogCaptureFixture
):
    """Another process holding the database's write lock past the busy timeout (shortened here
    from 10 s): the moderator read the generic apology, and the log a bug's traceback. They read
    that the store is busy and to try again in a moment, in their language; the topic stays."""
    async with asyncio.timeout(60), start_bot(**follow_options()) as bot:
        await bot.feeds.follow(standin.general.id, TAIWAN, guild_id=standin.guild.id)
        await bot.feeds.db.conn.execute("PRAGMA busy_timeout=100")
        with closing(sqlite3.connect(bot.engine.db_path, isolation_level=None)) as other:
            other.execute("BEGIN IMMEDIATE")  # another process, mid-commit
            ix = await standin.send_slash_command("unfollow", {"topic": TAIWAN}, user=moderator, locale="id")
            reply = await ix.wait_for_reply(lambda m: m.ephemeral, timeout=15)
            other.execute("ROLLBACK")
        left = [f.topic for f in await bot.feeds.following(standin.general.id)]
    assert reply.content == texts("id")("error.busy") and left == [TAIWAN]
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], caplog.text
    assert_everything_quiet(standin)


async def test_following_shows_the_rest_when_a_remembered_row_is_damaged(
    standin: DiscordStandin, start_bot: StartBot, caplog: pytest.LogCaptureFixture
):
    """A hand-edited row of ``dropped_follows`` (a reason no version wrote) or of
    ``undelivered_alerts`` (topics that are no JSON) made /following fail for the whole channel."""
    caplog.set_level(logging.WARNING)
    here, guild = standin.general.id, standin.guild.id
    drop = "INSERT INTO dropped_follows(channel_id, guild_id, topic, reason, dropped_at) VALUES (?, ?, {})"
    alert = (
        "INSERT INTO undelivered_alerts(channel_id, guild_id, topics, headline, articles, reason, "
        "dropped_at) VALUES (?, ?, {}, 1, 'refused', ?)"
    )
    rows = [
        drop.format("'kept', 'closed', ?"),
        drop.format("'odd', 'gone', ?"),
        alert.format("'[\"shown\"]', 'A shown headline'"),
        alert.format("'shown, damaged', 'A damaged headline'"),
    ]
    async with asyncio.timeout(60), start_bot(**follow_options()) as bot:
        with closing(sqlite3.connect(bot.engine.db_path)) as conn, conn:
            for sql in rows:
                conn.execute(sql, (here, guild, bot.feeds.clock()))
        ix = await standin.send_slash_command("following", {}, user=standin.owner)
        listed = await ix.wait_for_reply(timeout=10)

    shown = str(embed_of(listed))
    assert "“kept”" in shown and "A shown headline" in shown
    assert "odd" not in shown and "damaged headline" not in shown
    assert "dropped_follows row 2 is damaged" in caplog.text
    assert "undelivered_alerts row 2 is damaged" in caplog.text
    assert_everything_quiet(standin)


async def test_the_recent_articles_shown_on_follow_take_a_search_slot_and_end_within_the_timeout(
    standin: DiscordStandin, start_bot: StartBot, moderator: User
):
    """/follow lists the recent articles about its topic: a search (the topic embedded, the recent
    passages scored) that took no search slot and had no time limit, so a manager following and
    unfollowing in a loop ran searches past the bound every server's questions share. Past the
    timeout the follow is made and said, without its listing."""
    options = follow_options(max_concurrent_searches=1, search_timeout_s=2)
    async with asyncio.timeout(60), start_bot(**options) as bot:
        real_latest, gate = bot.engine.latest, asyncio.Event()

        async def held_latest(*args: Any, **kwargs: Any) -> Any:
            await gate.wait()
            return await real_latest(*args, **kwargs)

        bot.engine.latest = held_latest  # type: ignore[method-assign]
        ix = await standin.send_slash_command("follow", {"topic": TAIWAN}, user=moderator)
        reply = await ix.wait_for_reply(timeout=30)
        gate.set()
        topics = [f.topic for f in await bot.feeds.following(standin.general.id)]
    assert topics == [TAIWAN] and not reply.ephemeral and reply.embeds == []
    assert reply.content.startswith(f"📌 This channel now follows “{TAIWAN}”")
    assert EN("follow.nothing_recent") not in reply.content  # not looked at: not said to be none
    assert bot.desk.peak_in_flight == 1
    assert_everything_quiet(standin)


async def test_a_channels_list_names_its_threads_stopped_follows_only_to_those_who_see_every_thread(
    standin: DiscordStandin, start_bot: StartBot
):
    """/following in a channel listed the follows the bot stopped in its threads (and the alerts
    it gave up on there): topics and headlines of private threads, to every member of the
    channel, in a thread's name or not. A member who may manage threads sees every private
    thread, and them; the others, the channel's own."""
    thread_id = standin.new_id()  # a private thread of #general, deleted since: Discord forgets it
    mods = standin.world.add_role("Thread mods", int(Perm.MANAGE_THREADS))
    mod = standin.world.add_user("tia.threads", roles=[mods])
    guild_id, general = standin.guild.id, standin.general.id
    async with asyncio.timeout(60), start_bot(**follow_options()) as bot:
        await bot.feeds.follow(thread_id, "merger talks", guild_id=guild_id, parent_id=general)
        await bot.feeds.follow(general, "channel closures", guild_id=guild_id)
        await bot.feeds.drop_follows("deleted", channel_id=thread_id)
        await bot.feeds.drop_follows("closed", channel_id=general)
        shown = {}
        for user in (standin.user, mod):
            ix = await standin.send_slash_command("following", user=user)
            shown[user.username] = embed_of(await ix.wait_for_reply(timeout=10))["fields"][0]["value"]
    assert "channel closures" in shown[standin.user.username] and "merger" not in shown[standin.user.username]
    assert "channel closures" in shown[mod.username] and "merger talks" in shown[mod.username]
    assert_everything_quiet(standin)
