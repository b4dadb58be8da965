"""/admin and /operator: refused (privately) to those who may not use them, /admin stats without
the host's paths or what moves with other servers' articles, /operator reindex editing one status
message with its progress while the bot keeps answering, /operator registered only on the
operators' servers."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest
from foreign_desk.bot.discord.i18n import catalogue, texts
from foreign_desk.index.article import Article, Block

from tests.discord_standin import DiscordStandin, Perm, StandinUsageError

from .conftest import NATO_JAPAN, StartBot, assert_everything_quiet, embed_of, write_jsonl

WIRES = [
    {
        "title": "EU agrees new sanctions package against Russia",
        "text": "European Union countries agreed on Friday to a new package of sanctions against Russia, "
        "targeting oil tankers that help Moscow avoid a price cap.\n\nThe measures still need formal "
        "approval by ministers next week, diplomats said.",
        "url": "https://example.org/eu-russia-sanctions",
        "source": "Wire Service",
        "published": "2024-02-23",
        "language": "en",
    },
    {
        "title": "Japan and Indonesia sign maritime security pact",
        "text": "Japan and Indonesia signed a maritime security agreement in Jakarta on Wednesday, "
        "including patrol boats for the Indonesian coast guard.\n\nBoth leaders said the deal would keep "
        "sea lanes open.",
        "url": "https://example.org/japan-indonesia-maritime",
        "source": "Wire Service",
        "published": "2024-01-10",
        "language": "en",
    },
]


def wires(tmp_path: Path) -> Path:
    return write_jsonl(tmp_path / "wires" / "wires.jsonl", WIRES)


async def test_non_admins_and_non_operators_are_refused_privately(
    standin: DiscordStandin, start_bot: StartBot
):
    elsewhere = standin.world.add_guild("Elsewhere", owner=standin.owner)
    async with asyncio.timeout(30), start_bot(operator_guild_ids=[standin.guild.id]) as bot:
        generation = await bot.engine.generation()
        # Discord hides /admin from members without Manage Server; an owner can change that per server,
        # so the bot checks again. force=True sends it the way Discord would after such a change.
        stats = await standin.send_slash_command("admin stats", user=standin.user, force=True)
        stats_reply = await stats.wait_for_reply()
        # A server manager is not an operator: the shared corpus is not theirs to reindex.
        ix = await standin.send_slash_command("operator reindex", {"full": True}, user=standin.admin)
        reply = await ix.wait_for_reply()
        # The check refused before the command ran: no reindex task was ever started.
        assert bot.get_cog("OperatorCog").running is None and not bot.engine.indexing
        assert await bot.engine.generation() == generation
        with pytest.raises(StandinUsageError, match="registered only as another guild's command"):
            await standin.send_slash_command("operator stats", channel=elsewhere.general, user=standin.owner)
    assert stats.callback_type == 4 and stats_reply.ephemeral
    assert stats_reply.content == "Only members who can manage this server can use /admin."
    assert ix.callback_type == 4 and reply.ephemeral
    assert reply.content == "Only the bot's operators can use /operator."
    registered = standin.commands.find("admin", None)
    assert registered is not None and int(registered["default_member_permissions"]) == Perm.MANAGE_GUILD
    assert registered["dm_permission"] is False
    assert standin.commands.find("operator", None) is None  # never global
    assert [c["name"] for c in standin.commands.guild_commands[standin.guild.id]] == ["operator"]


async def test_configured_admin_roles_and_users_may_use_admin(standin: DiscordStandin, start_bot: StartBot):
    editors = standin.world.add_role("Desk editors", 0)
    editor = standin.world.add_user("eddie.editor", roles=[editors])
    async with (
        asyncio.timeout(30),
        start_bot(admin_role_ids=[editors.id], admin_user_ids=[standin.owner.id]) as bot,
    ):
        expected = await bot.engine.stats()
        by_role = await standin.send_slash_command("admin stats", user=editor, force=True)
        by_id = await standin.send_slash_command("admin stats", user=standin.owner)
        by_perm = await standin.send_slash_command("admin stats", user=standin.admin)
        replies = [await r.wait_for_reply(timeout=10) for r in (by_role, by_id, by_perm)]
    for reply in replies:
        assert reply.ephemeral
        fields = {f["name"]: f["value"] for f in embed_of(reply)["fields"]}
        assert "data dir" not in fields and str(bot.settings.data_path) not in reply.text
        assert fields["articles"] == str(expected.articles) == "1"
        assert fields["passages"] == str(expected.passages)
        assert fields["languages"] == "Indonesian 1" and fields["sources"] == "IDN Times 1"
        assert fields["index type"] == "exact search (every passage compared)"
        assert fields["embedder"] == expected.embedder


async def stats_fields(standin: DiscordStandin, command: str) -> dict[str, str]:
    """The fields of the stats embed ``command`` (run by the owner, here) replies with."""
    reply = await (await standin.send_slash_command(command, user=standin.owner)).wait_for_reply(timeout=10)
    return {f["name"]: f["value"] for f in embed_of(reply)["fields"]}


async def test_admin_stats_stay_as_they_were_when_another_server_adds_articles(
    standin: DiscordStandin, start_bot: StartBot
):
    """A server's /admin stats show nothing of the data folder as a whole: another server adding
    articles of its own leaves them as they were (before, its generation and size on disk moved),
    while /operator stats still show them moving."""
    other = standin.world.add_guild("Other")
    theirs = [
        Article(f"Council notice {n}", (Block("The council meets on Tuesday. " * 50),)) for n in range(2)
    ]
    async with asyncio.timeout(60), start_bot(operator_guild_ids=[standin.guild.id]) as bot:
        before = [await stats_fields(standin, c) for c in ("admin stats", "operator stats")]
        await bot.engine.add_articles(theirs, scopes={a.id: [other.id] for a in theirs})
        after = [await stats_fields(standin, c) for c in ("admin stats", "operator stats")]
    assert after[0] == before[0] and "generation" not in after[0] and "size on disk" not in after[0]
    assert int(after[1]["generation"]) == int(before[1]["generation"]) + 1


async def test_reindex_edits_one_status_message_until_the_result(
    standin: DiscordStandin, start_bot: StartBot, tmp_path: Path
):
    corpus = wires(tmp_path)
    options = {"reindex_paths": [str(corpus)], "operator_guild_ids": [standin.guild.id]}
    async with asyncio.timeout(60), start_bot(**options, status_edit_interval_s=0.2) as bot:
        ix = await standin.send_slash_command("operator reindex", {"full": True}, user=standin.owner)
        assert await ix.wait_for_callback() == 5
        second = await standin.send_slash_command("operator reindex", user=standin.owner)
        busy = await second.wait_for_reply()
        # Questions are answered while the reindex runs.
        asked = await standin.send_slash_command("ask", {"question": NATO_JAPAN})
        answer = await asked.wait_for_reply(timeout=15)
        done = await ix.wait_for_reply(lambda m: m.content.startswith("✅"), timeout=45)
        after = await standin.send_slash_command("sources")
        sources = await after.wait_for_reply(timeout=10)
        assert not bot.engine.indexing

    assert busy.ephemeral and busy.content.startswith("A reindex is already running")
    assert embed_of(answer)["title"] == NATO_JAPAN
    assert done.ephemeral and done.id == ix.original_message_id
    texts = [e.body["content"] for e in ix.timeline if e.kind == "edit"]
    assert all(e.message_id == done.id for e in ix.timeline)  # one message, edited
    assert texts[0] == "⏳ Full reindex starting…"
    progress = [t for t in texts if t.startswith("⏳ Full reindex running:")]
    assert progress, texts
    # Which phases an edit catches depends on the machine's speed; every edit has the full shape.
    shape = r"⏳ Full reindex running: [a-z]+( \d+/\d+ [a-z]+)? · \d+ passages? embedded · \d+ s elapsed"
    assert all(re.fullmatch(shape, t) for t in progress), progress
    assert re.fullmatch(
        r"✅ Reindex finished in [\d.]+ s: 2 articles \(2 new, 0 updated, 0 removed, 0 unchanged\); "
        r"[1-9]\d* passages embedded; generation 2\.",
        texts[-1],
    )
    assert "Wire Service" in embed_of(sources)["description"]  # the new generation is live
    assert_everything_quiet(standin)


async def test_an_indonesian_reader_of_stats_and_a_reindex_meets_no_codes_or_jargon(
    standin: DiscordStandin, start_bot: StartBot, tmp_path: Path
):
    """/admin and /operator stats said "id 1" and "flat" to an Indonesian reader, and a reindex
    "meng-embed" and "bagian di-embed": the languages are named, the index type and embedding
    said in plain Indonesian."""
    options = {"reindex_paths": [str(wires(tmp_path))], "operator_guild_ids": [standin.guild.id]}
    ID = texts("id")
    async with asyncio.timeout(60), start_bot(**options, status_edit_interval_s=0.2):
        shown = []
        for command, user in (("admin stats", standin.admin), ("operator stats", standin.owner)):
            ix = await standin.send_slash_command(command, user=user, locale="id")
            shown.append(
                {f["name"]: f["value"] for f in embed_of(await ix.wait_for_reply(timeout=10))["fields"]}
            )
        ix = await standin.send_slash_command("operator reindex", user=standin.owner, locale="id")
        done = await ix.wait_for_reply(lambda m: m.content.startswith("✅"), timeout=45)
    for fields in shown:
        assert fields["bahasa"] == "Indonesia 1", fields
        assert (
            fields["jenis indeks"]
            == ID("stats.index.flat")
            == "pencarian persis (setiap bagian dibandingkan)"
        )
        assert "model pemetaan makna" in fields
    edits = [e.body["content"] for e in ix.timeline if e.kind == "edit"]
    assert done.content.startswith("✅ Indeks ulang selesai") and "bagian dipetakan maknanya" in done.content
    assert not [t for t in edits if "embed" in t], edits
    assert_everything_quiet(standin)


def test_the_indonesian_texts_say_embedding_in_plain_words():
    """ "meng-embed", "di-embed", "model embedding": jargon to an Indonesian admin. Discord's
    permission "Embed Links" is its name, not the jargon."""
    said = {key: re.sub(r"\{\w+\}|Embed Links", "", text) for key, text in catalogue("id").items()}
    assert {key: text for key, text in said.items() if "embed" in text.lower()} == {}


async def test_reindex_keeps_articles_whose_files_are_gone_unless_told_to_prune(
    standin: DiscordStandin, start_bot: StartBot, tmp_path: Path
):
    corpus = wires(tmp_path)
    unmounted = tmp_path / "unmounted"
    options = {
        "reindex_paths": [str(corpus.parent), str(unmounted)],
        "operator_guild_ids": [standin.guild.id],
    }

    async def reindex(**choices: bool) -> str:
        ix = await standin.send_slash_command("operator reindex", choices, user=standin.owner)
        return (await ix.wait_for_reply(lambda m: m.content.startswith("✅"), timeout=45)).content

    async with asyncio.timeout(120), start_bot(**options):
        first = await reindex()
        corpus.unlink()
        kept = await reindex()
        pruned = await reindex(prune=True)

    assert "2 new" in first and "unmounted: no such file or folder" in first
    assert "0 removed" in kept and "Kept 2 articles whose files are gone: reindex with prune:True" in kept
    assert "2 removed" in pruned and "Kept" not in pruned
    assert_everything_quiet(standin)
