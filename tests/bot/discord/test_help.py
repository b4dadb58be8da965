"""/help through the stand-in: what the desk knows, three questions from the current corpus, the
commands (managers' ones apart), in the reader's language."""

from __future__ import annotations

import asyncio
from pathlib import Path

from foreign_desk.bot.discord.i18n import EN, texts
from foreign_desk.bot.discord.render_help import example_questions
from foreign_desk.index.models import ArticleSummary

from tests.desk_corpus import ARTICLES
from tests.discord_standin import DiscordStandin

from .conftest import StartBot, assert_everything_quiet, embed_of

ID = texts("id")


def fields(embed: dict) -> dict[str, str]:
    return {f["name"]: f["value"] for f in embed.get("fields", [])}


async def test_help_says_what_the_desk_knows_and_how_to_ask(
    standin: DiscordStandin, start_bot: StartBot, desk_copy: Path
):
    async with asyncio.timeout(60), start_bot(desk_copy):
        ix = await standin.send_slash_command("help")
        reply = await ix.wait_for_reply(lambda m: bool(m.embeds), timeout=20)
    assert reply.ephemeral
    embed = embed_of(reply)
    description = embed["description"]
    assert (
        "5 articles from 3 outlets (Antara, Foreign Wire, The Guardian), in Indonesian and English"
        in description
    )
    assert "the newest from 6 Mar 2024" in description
    examples = [line for line in description.splitlines() if line.startswith("• /ask question: ")]
    titles = {a["title"] for a in ARTICLES}
    assert len(examples) == 3 and all(any(t.split(":")[0][:40] in e for t in titles) for e in examples)
    listed = fields(embed)
    everyone, managers = listed[EN("help.commands")], listed[EN("help.managers")]
    for name in ("ask", "latest", "sources", "help", "following"):
        assert f"**/{name}** — {EN(f'command.{name}.description')}" in everyone
    for name in ("admin", "follow", "unfollow"):
        assert f"**/{name}** — " in managers and f"**/{name}** — " not in everyone
    assert "Ask Foreign Desk" in listed[EN("help.more_ways")]
    assert_everything_quiet(standin)


async def test_help_in_indonesian(standin: DiscordStandin, start_bot: StartBot, desk_copy: Path):
    async with asyncio.timeout(60), start_bot(desk_copy):
        ix = await standin.send_slash_command("bantuan", locale="id")
        embed = embed_of(await ix.wait_for_reply(lambda m: bool(m.embeds), timeout=20))
    assert embed["title"] == ID("help.title")
    assert "5 artikel dari 3 media" in embed["description"] and "6 Maret 2024" in embed["description"]
    assert "• /tanya pertanyaan: Apa isi berita tentang “" in embed["description"]
    assert "**/tanya** — " in fields(embed)[ID("help.commands")]


def summary(title: str, source: str, language: str) -> ArticleSummary:
    return ArticleSummary(title, title, source, None, "2024-03-01", language, None, "")


def test_examples_take_turns_between_languages_and_outlets():
    items = [
        summary("Japan and the Philippines sign a deal: what it means", "Wire", "en"),
        summary("Another Wire story", "Wire", "en"),
        summary("Menlu RI pastikan evakuasi WNI dari Sudan", "Antara", "id"),
        summary("A Guardian story", "The Guardian", "en"),
    ]
    assert example_questions(items) == [
        "/ask question: What does the news say about “Japan and the Philippines sign a deal”?",
        "/ask question: What does the news say about “Menlu RI pastikan evakuasi WNI dari Sudan”?",
        "/ask question: What does the news say about “A Guardian story”?",
    ]
    assert example_questions([]) == []
