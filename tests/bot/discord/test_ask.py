"""/ask end to end through the stand-in: from an interaction payload to the recorded reply."""

from __future__ import annotations

import asyncio
import logging
import re
from pathlib import Path

import pytest
from foreign_desk.bot.discord.i18n import EN
from foreign_desk.bot.discord.limits import problems
from foreign_desk.index.article import Article, Block

from tests.desk_corpus import PATROL_URL
from tests.discord_standin import DiscordStandin

from .conftest import NATO_JAPAN, SAMPLE_TITLE, StartBot, assert_everything_quiet, embed_of


async def test_ask_defers_at_once_then_answers_with_cited_passages(
    standin: DiscordStandin, start_bot: StartBot
):
    async with asyncio.timeout(30), start_bot() as bot:
        ix = await standin.send_slash_command("ask", {"question": NATO_JAPAN})
        assert await ix.wait_for_callback() == 5  # "Foreign Desk is thinking…", public
        reply = await ix.wait_for_reply(timeout=15)

    assert ix.deferred  # acknowledged first: the answer edits the placeholder
    assert not reply.ephemeral and reply.id == ix.original_message_id
    embed = embed_of(reply)
    assert embed["title"] == NATO_JAPAN
    description = embed["description"]
    blocks = description.split("\n\n**[")
    assert description.startswith("**[1]** ") and len(blocks) == 3  # one article fills the page of three
    for n, block in enumerate(description.split("\n— ")[:-1], 1):
        assert f"[{n}]**" in block
    assert re.search(r"\*\*[^*\\]+?\*\*", description.split("**[1]** ", 1)[1])  # the best sentence in bold
    citations = re.findall(r"^— (.*)$", description, re.MULTILINE)
    assert len(citations) == 3
    for line in citations:
        assert line.startswith(f"*{SAMPLE_TITLE}* · IDN Times · 31 Jan 2023 · ¶")
    assert "Stoltenberg" in description
    assert embed["footer"]["text"].startswith("Passages 1–3 · ")
    # no URL in the sample article: no links; its other sections on the next page; 👍 / 👎
    names = [c.get("label") or c.get("emoji", {}).get("name") for c in reply.iter_components()]
    assert names == ["Back", "More", "👍", "👎"]
    assert problems(reply.content, []) == []
    assert ix.timeline[-1].kind == "edit" and bot.desk.peak_in_flight == 1
    assert_everything_quiet(standin)


async def test_more_pages_for_the_asker_only(standin: DiscordStandin, start_bot: StartBot):
    async with asyncio.timeout(30), start_bot(results_per_page=1):
        ix = await standin.send_slash_command("ask", {"question": NATO_JAPAN})
        first = await ix.wait_for_reply(timeout=15)  # the live message: it changes as the bot edits it
        page1 = embed_of(first)["description"]
        assert page1.startswith("**[1]** ")
        assert first.find_component(label="Back")["disabled"] is True
        assert first.find_component(label="More")["disabled"] is False

        stranger = await standin.click_button(first, label="More", user=standin.admin)
        refusal = await stranger.wait_for_reply()
        assert refusal.ephemeral and "Only the person who asked" in refusal.content
        assert embed_of(first)["description"] == page1 and len(first.revisions) == 2  # nothing changed

        click = await standin.click_button(first, label="More", user=standin.user)
        assert await click.wait_for_callback() == 6
        second = await click.wait_for_reply(timeout=15)
        assert second.id == first.id  # paged in place
        page2 = embed_of(second)["description"]
        assert page2.startswith("**[2]** ") and page2 != page1
        assert second.find_component(label="Back")["disabled"] is False
        assert second.find_component(label="More")["disabled"] is False  # the article's other sections

        back = await standin.click_button(second, label="Back", user=standin.user)
        await back.wait_for_reply(lambda m: embed_of(m)["description"].startswith("**[1]** "), timeout=15)
    assert_everything_quiet(standin)


async def test_nothing_relevant_is_a_plain_honest_reply(standin: DiscordStandin, start_bot: StartBot):
    """With filters, it is nothing within them: the corpus may well hold the answer."""
    async with asyncio.timeout(30), start_bot():
        ix = await standin.send_slash_command("ask", {"question": "How long should I bake sourdough bread?"})
        reply = await ix.wait_for_reply(timeout=15)
        filtered = await standin.send_slash_command("ask", {"question": NATO_JAPAN, "language": "en"})
        narrowed = await filtered.wait_for_reply(timeout=15)
    assert reply.content == EN("answer.nothing") and reply.embeds == [] and reply.components == []
    assert narrowed.content == "Nothing within the filters (in English) answers that; try fewer filters."


async def test_cooldown_gets_a_friendly_private_reply(standin: DiscordStandin, start_bot: StartBot):
    async with asyncio.timeout(30), start_bot(cooldown_s=60) as bot:
        first = await standin.send_slash_command("ask", {"question": NATO_JAPAN})
        await first.wait_for_reply(timeout=15)
        again = await standin.send_slash_command("ask", {"question": "who visited Japan?"})
        refusal = await again.wait_for_reply()
        other = await standin.send_slash_command("ask", {"question": NATO_JAPAN}, user=standin.admin)
        await other.wait_for_reply(lambda m: bool(m.embeds), timeout=15)  # cooldowns are per user
    assert again.callback_type == 4 and refusal.ephemeral
    waited = re.fullmatch(
        r"You're asking faster than I can read: please wait (\d+) s before the next question\.",
        refusal.content,
    )
    assert waited and 0 < int(waited[1]) <= 60  # however long the first answer took on a busy machine
    assert bot.desk.peak_in_flight == 1


async def test_the_cooldown_holds_in_every_process_and_in_dms(standin: DiscordStandin, start_bot: StartBot):
    # Two processes on one data folder, each running one of two shards; DMs come to shard 0.
    world = standin.world
    here = standin.guild.shard_id(2)
    there = world.add_guild("Other", shard=(1 - here, 2))
    world.add_member(standin.user, there)
    options = {"identify_spacing_s": 0.0, "cooldown_s": 60.0}
    async with (
        asyncio.timeout(60),
        start_bot(shards=([0], 2), **options),
        start_bot(shards=([1], 2), **options),
    ):
        first = await standin.send_slash_command("ask", {"question": NATO_JAPAN})
        answered = await first.wait_for_reply(timeout=20)
        refusals = []
        for where in ({"channel": there.general}, {"dm": True}, {}):
            again = await standin.send_slash_command("ask", {"question": "Japan NATO"}, **where)
            refusals.append(await again.wait_for_reply(timeout=20))
    assert answered.embeds
    assert [r.content.startswith("You're asking faster than I can read") for r in refusals] == [True] * 3


@pytest.mark.parametrize("cooldown_s", [0.0, 60.0])
async def test_a_command_two_processes_get_is_answered_once(
    standin: DiscordStandin, start_bot: StartBot, caplog: pytest.LogCaptureFixture, cooldown_s: float
):
    """Two sessions on one shard both get the /ask: one process answers; the other neither responds
    (Discord would refuse it: 40060) nor, with a cooldown, races the answer with a refusal."""
    caplog.set_level(logging.INFO, logger="foreign_desk.bot.discord")
    standin.config.every_session_of_shard = True
    options = {"identify_spacing_s": 0.0, "cooldown_s": cooldown_s}
    async with asyncio.timeout(60), start_bot(**options), start_bot(**options):
        ix = await standin.send_slash_command("ask", {"question": NATO_JAPAN})
        answer = await ix.wait_for_reply(timeout=20)
        await standin.wait_until(
            lambda: ix.rejected or "is answered by another process" in caplog.text, what="the other process"
        )
    assert [r.error_code for r in ix.rejected] == []
    assert embed_of(answer)["title"] == NATO_JAPAN and ix.replies == [answer]
    assert_everything_quiet(standin)


async def test_a_command_acknowledged_elsewhere_is_no_error(
    standin: DiscordStandin,
    start_bot: StartBot,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
):
    """Both processes run the command when the claims could not be read (the file busy): the one
    whose response Discord refuses (40060) logs it quietly and tries no apology, which Discord
    would refuse too."""
    caplog.set_level(logging.INFO, logger="foreign_desk.bot.discord")
    standin.config.every_session_of_shard = True
    async with (
        asyncio.timeout(60),
        start_bot(identify_spacing_s=0.0) as one,
        start_bot(identify_spacing_s=0.0) as other,
    ):
        for bot in (one, other):
            monkeypatch.setattr(bot.desk, "claim", _claimed)
        ix = await standin.send_slash_command("ask", {"question": NATO_JAPAN})
        answer = await ix.wait_for_reply(timeout=20)
        done = ("takes no response", "could not tell user")  # quietly, or after an apology refused
        await standin.wait_until(lambda: any(d in caplog.text for d in done), what="the refused one")
    assert [r.error_code for r in ix.rejected] == [40060]
    assert embed_of(answer)["title"] == NATO_JAPAN and ix.replies == [answer]
    assert [
        r for r in caplog.records if r.levelno >= logging.WARNING and r.name.startswith("foreign_desk")
    ] == []


async def _claimed(event_id: int) -> bool:
    return True


async def test_too_long_a_question_gets_a_friendly_private_reply(
    standin: DiscordStandin, start_bot: StartBot
):
    async with asyncio.timeout(30), start_bot(max_question_chars=40, cooldown_s=60):
        ix = await standin.send_slash_command("ask", {"question": "why " * 20})
        reply = await ix.wait_for_reply()
        ok = await standin.send_slash_command("ask", {"question": NATO_JAPAN})
        answered = await ok.wait_for_reply(timeout=15)  # the refused question did not start the cooldown
    assert ix.callback_type == 4 and reply.ephemeral
    assert reply.content.startswith("That question is 79 characters long; please keep it under 41")
    assert answered.embeds


async def test_searches_in_flight_are_bounded(standin: DiscordStandin, start_bot: StartBot):
    async with asyncio.timeout(30), start_bot(max_concurrent_searches=1) as bot:
        real_ask = bot.engine.ask
        gate = asyncio.Event()

        async def held_ask(*args: object, **kwargs: object) -> object:
            await gate.wait()
            return await real_ask(*args, **kwargs)  # type: ignore[arg-type]

        bot.engine.ask = held_ask  # type: ignore[method-assign]
        users = [standin.user, standin.admin, standin.owner]
        asks = [await standin.send_slash_command("ask", {"question": NATO_JAPAN}, user=u) for u in users]
        # Every question is acknowledged while no search can finish: waiting for the one search
        # slot never holds up the acknowledgement Discord needs within 3 s.
        for ix in asks:
            await ix.wait_for_callback(timeout=10)
        gate.set()
        replies = [await ix.wait_for_reply(timeout=15) for ix in asks]
    assert all(ix.deferred for ix in asks)
    assert all(embed_of(r)["title"] == NATO_JAPAN for r in replies)
    assert bot.desk.peak_in_flight == 1


async def test_a_bad_date_is_explained_privately(standin: DiscordStandin, start_bot: StartBot):
    async with asyncio.timeout(30), start_bot():
        ix = await standin.send_slash_command("ask", {"question": NATO_JAPAN, "since": "yesterday"})
        reply = await ix.wait_for_reply()
    assert reply.ephemeral and reply.content.startswith("not a date: 'yesterday'")


async def test_source_autocompletes_from_the_corpus(standin: DiscordStandin, start_bot: StartBot):
    async with asyncio.timeout(30), start_bot():
        ix = await standin.send_autocomplete("ask", {"question": "x", "source": "idn"}, focused="source")
        choices = await ix.wait_for_choices()
        none = await standin.send_autocomplete("ask", {"source": "reuters"}, focused="source")
        nothing = await none.wait_for_choices()
        lang = await standin.send_autocomplete("ask", {"language": ""}, focused="language")
        languages = await lang.wait_for_choices()
        latest = await standin.send_autocomplete("latest", {"source": "Times"}, focused="source")
        latest_choices = await latest.wait_for_choices()
    assert choices == [{"name": "IDN Times (1)", "value": "IDN Times"}]
    assert nothing == []
    assert languages == [{"name": "Indonesian (id)", "value": "id"}]
    assert latest_choices == choices


async def test_language_autocompletes_what_the_server_sees_its_own_articles_included(
    standin: DiscordStandin, start_bot: StartBot
):
    """It listed the shared corpus's languages only: a server whose own feeds brought English to
    an Indonesian corpus could not pick English. Another server's own languages stay unlisted."""
    beta = standin.world.add_guild("Beta")
    standin.world.add_member(standin.user, beta)
    own = {
        standin.guild.id: Article(
            "Council notice",
            (Block("The city council meets on Tuesday to vote on the budget. " * 20),),
            url="https://council.example/notice",
            language="en",
        ),
        beta.id: Article(
            "Notis majlis",
            (Block("Majlis bandar raya bermesyuarat pada hari Selasa mengenai belanjawan. " * 20),),
            url="https://majlis.example/notis",
            language="ms",
        ),
    }
    async with asyncio.timeout(60), start_bot() as bot:
        await bot.engine.add_articles(list(own.values()), scopes={a.id: [g] for g, a in own.items()})
        offered = {}
        for where in (standin.general, beta.general, None):
            ix = await standin.send_autocomplete(
                "ask", {"language": ""}, focused="language", channel=where, dm=where is None
            )
            offered[where.guild_id if where else None] = sorted(
                c["value"] for c in await ix.wait_for_choices()
            )
    assert offered == {standin.guild.id: ["en", "id"], beta.id: ["id", "ms"], None: ["id"]}


async def test_a_failing_command_apologises_privately_and_logs_one_traceback(
    standin: DiscordStandin, start_bot: StartBot, caplog: pytest.LogCaptureFixture
):
    caplog.set_level(logging.INFO)
    async with asyncio.timeout(30), start_bot() as bot:

        async def broken(*args: object, **kwargs: object) -> None:
            raise RuntimeError("search index exploded")

        bot.engine.ask = broken  # type: ignore[method-assign]
        ix = await standin.send_slash_command("ask", {"question": NATO_JAPAN})
        reply = await ix.wait_for_reply(lambda m: m.ephemeral, timeout=15)
        # The traceback is logged and the placeholder deleted before the apology is sent.
    assert reply.content == EN("error.apology")
    assert ix.original is not None and ix.original.deleted  # the public "thinking…" is gone
    assert [m for m in ix.replies if not m.ephemeral] == []
    tracebacks = [r for r in caplog.records if r.exc_info]
    assert len(tracebacks) == 1 and "search index exploded" in str(tracebacks[0].exc_info[1])
    assert tracebacks[0].levelno == logging.ERROR


async def test_a_link_in_ask_or_a_mention_asks_about_its_article(
    standin: DiscordStandin, start_bot: StartBot, desk_copy: Path
):
    """As the "Ask Foreign Desk" menu does: the link's address alone matched nothing."""
    question = f"what will the navies share? {PATROL_URL}"
    async with asyncio.timeout(60), start_bot(desk_copy):
        ix = await standin.send_slash_command("ask", {"question": question})
        slash = await ix.wait_for_reply(lambda m: bool(m.embeds), timeout=20)
        await standin.send_message(f"{standin.bot.mention} {PATROL_URL}")
        mention = await standin.wait_for_bot_message(timeout=20)
    title = "Indonesia and Australia agree joint maritime patrols in the Arafura Sea"
    note = EN("menu.in_corpus", title=title, meta="The Guardian, 5 Mar 2024")
    assert (slash.content, embed_of(slash)["title"]) == (note, f"what will the navies share? {title}")
    assert (mention.content, embed_of(mention)["title"]) == (note, title)
    assert embed_of(mention)["description"].startswith("**[1]** ")
    assert_everything_quiet(standin)


async def test_mentions_and_custom_emoji_are_no_words_of_a_question(
    standin: DiscordStandin, start_bot: StartBot
):
    """A mention is an id, not a name the model can read: it made a strong answer weak."""
    noisy = f"<@123456789012345678> <#223456789012345678> {NATO_JAPAN} <:jp:323456789012345678> @everyone"
    async with asyncio.timeout(30), start_bot():
        ix = await standin.send_slash_command("ask", {"question": noisy})
        reply = await ix.wait_for_reply(timeout=15)
    assert embed_of(reply)["title"] == NATO_JAPAN  # the question asked, as the engine read it
    assert_everything_quiet(standin)
