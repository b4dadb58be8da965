"""English and Indonesian: complete catalogues, the language each reader gets, and localized commands
as the stand-in records them from ``tree.sync``."""

from __future__ import annotations

import ast
import asyncio
import re
from pathlib import Path

import pytest
from foreign_desk.bot.discord import i18n
from foreign_desk.bot.discord.i18n import EN, catalogue, language_of, placeholders, texts

from tests.discord_standin import DiscordStandin

from .conftest import NATO_JAPAN, StartBot, assert_everything_quiet, embed_of

BOT_DISCORD = Path(i18n.__file__).resolve().parent
KEY = re.compile(r"^[a-z_]+(\.[a-z_]+)+$")
ID = texts("id")


def catalogue_problems(english: dict[str, str], other: dict[str, str], language: str) -> list[str]:
    """Keys missing on either side, and texts whose placeholders differ from the English ones."""
    problems = [f"{key}: missing in {language}" for key in english.keys() - other.keys()]
    problems += [f"{key}: missing in en" for key in other.keys() - english.keys()]
    for key in english.keys() & other.keys():
        if placeholders(english[key]) != placeholders(other[key]):
            problems.append(
                f"{key}: {language} has {placeholders(other[key])}, en {placeholders(english[key])}"
            )
    return sorted(problems)


def keys_in_code() -> set[str]:
    """Every string literal in bot/discord that looks like a catalogue key of a known namespace."""
    namespaces = {key.split(".")[0] for key in catalogue("en")}
    found = set()
    for path in BOT_DISCORD.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            value = node.value if isinstance(node, ast.Constant) else None
            if isinstance(value, str) and KEY.match(value) and value.split(".")[0] in namespaces:
                found.add(value)
    return found


@pytest.mark.parametrize("language", [lang for lang in i18n.LANGUAGES if lang != "en"])
def test_every_language_has_every_key_with_the_same_placeholders(language: str):
    assert catalogue_problems(catalogue("en"), catalogue(language), language) == []


def test_a_missing_or_mistyped_translation_is_caught():
    english = {"ask.busy": "Busy.", "ask.cooldown": "Wait {seconds} s."}
    assert catalogue_problems(english, {"ask.busy": "Sibuk."}, "id") == ["ask.cooldown: missing in id"]
    assert catalogue_problems(
        english, {"ask.busy": "Sibuk.", "ask.cooldown": "Tunggu {detik} detik."}, "id"
    ) == ["ask.cooldown: id has {'detik'}, en {'seconds'}"]


def test_every_key_the_code_names_is_in_the_catalogue():
    english = catalogue("en")
    used = keys_in_code()
    assert len(used) > 100
    missing = [k for k in used if k not in english and not {f"{k}.one", f"{k}.other"} <= english.keys()]
    assert missing == []


def test_plural_keys_come_in_pairs():
    english = catalogue("en")
    for key in english:
        if key.endswith((".one", ".other")):
            stem = key.rsplit(".", 1)[0]
            assert {f"{stem}.one", f"{stem}.other"} <= english.keys(), stem


def test_the_weak_match_caveat_is_ready_for_the_ranking():
    assert EN.plural("answer.weak", 2) == "No passage clearly answers this; the closest are:"
    assert ID.plural("answer.weak", 2).startswith("Tidak ada bagian yang jelas menjawab ini")


@pytest.mark.parametrize(
    ("published", "english", "indonesian"),
    [
        ("2023-01-31", "31 Jan 2023", "31 Januari 2023"),
        ("2024-08-17T10:00:00Z", "17 Aug 2024", "17 Agustus 2024"),
        ("2023", "2023", "2023"),
        (None, None, None),
    ],
)
def test_dates_read_naturally_in_each_language(published, english, indonesian):
    assert EN.date(published) == english
    assert ID.date(published) == indonesian


@pytest.mark.parametrize(
    ("locales", "language"),
    [
        (("id", "en-US"), "id"),
        (("en-GB", "id"), "en"),
        (("fr", "id"), "id"),  # the user's locale is not spoken: the server's
        (("fr", "de"), "en"),
        ((None, None), "en"),
    ],
)
def test_the_user_locale_then_the_server_locale_then_english(locales, language):
    assert language_of(locales) == language


def test_plurals_and_language_names():
    assert EN.plural("count.articles", 1) == "1 article" and EN.plural("count.articles", 3) == "3 articles"
    assert ID.plural("count.articles", 3) == "3 artikel"
    assert EN.language_name("id") == "Indonesian" and ID.language_name("en") == "Inggris"


async def test_commands_are_synced_with_indonesian_names_and_descriptions(
    standin: DiscordStandin, start_bot: StartBot
):
    async with asyncio.timeout(60), start_bot():
        pass
    registered = standin.commands.global_commands
    assert registered, "nothing was synced"

    def walk(node: dict, path: str) -> list[str]:
        missing = []
        if node.get("type", 1) in (1, 2) and not (node.get("name_localizations") or {}).get("id"):
            missing.append(f"{path} name")
        if node.get("description") and not (node.get("description_localizations") or {}).get("id"):
            missing.append(f"{path} description")
        for option in node.get("options") or []:
            missing += walk(option, f"{path} {option['name']}")
        return missing

    assert [m for cmd in registered for m in walk(cmd, cmd["name"])] == []
    ask = next(c for c in registered if c["name"] == "ask")
    assert ask["name_localizations"] == {"id": "tanya"}
    assert ask["description"] == EN("command.ask.description")
    assert ask["description_localizations"] == {"id": ID("command.ask.description")}

    seen_in_id = {c["name"]: c for c in standin.commands.seen_by("id")}
    seen_in_en = {c["name"]: c for c in standin.commands.seen_by("en-US")}
    assert {"tanya", "terbaru", "sumber", "admin"} <= seen_in_id.keys()
    assert {"ask", "latest", "sources", "admin"} <= seen_in_en.keys()
    assert [o["name"] for o in seen_in_id["tanya"]["options"]][:2] == ["pertanyaan", "bahasa"]
    assert seen_in_id["tanya"]["options"][0]["description"] == ID("command.ask.question.description")
    admin = seen_in_id["admin"]
    assert {o["name"] for o in admin["options"]} >= {"statistik", "feed", "ambil"}


async def test_an_indonesian_user_reads_indonesian_an_english_user_english(
    standin: DiscordStandin, start_bot: StartBot
):
    async with asyncio.timeout(60), start_bot():
        asked_id = await standin.send_slash_command("tanya", {"pertanyaan": NATO_JAPAN}, locale="id")
        in_id = embed_of(await asked_id.wait_for_reply(lambda m: bool(m.embeds), timeout=20))
        asked_en = await standin.send_slash_command("ask", {"question": NATO_JAPAN}, user=standin.admin)
        in_en = embed_of(await asked_en.wait_for_reply(lambda m: bool(m.embeds), timeout=20))
    assert asked_id.payload["data"]["name"] == "ask"  # Discord sends the default names
    assert asked_id.payload["data"]["options"][0]["name"] == "question"
    footer = in_id["footer"]["text"]
    assert footer.startswith("Bagian 1–3 · ") and footer.endswith(" · Lainnya ▸ untuk berikutnya")
    assert "· 31 Januari 2023 · ¶" in in_id["description"]
    assert in_en["footer"]["text"].startswith("Passages 1–3 · ")
    assert "· 31 Jan 2023 · ¶" in in_en["description"]
    assert_everything_quiet(standin)


async def test_refusals_follow_the_user_then_the_server_locale(standin: DiscordStandin, start_bot: StartBot):
    standin.world.guild.preferred_locale = "id"
    async with asyncio.timeout(60), start_bot(max_question_chars=20):
        long = "kenapa " * 5
        french = await standin.send_slash_command("ask", {"question": long}, locale="fr")
        english = await standin.send_slash_command("ask", {"question": long}, locale="en-GB")
        in_server_language = await french.wait_for_reply()
        in_user_language = await english.wait_for_reply()
    assert in_server_language.ephemeral
    assert in_server_language.content == ID("ask.too_long", length=34, limit=21)
    assert in_user_language.content == EN("ask.too_long", length=34, limit=21)


COMMAND_IN_TEXT = re.compile(r"(?<![\w/<])/([a-z][\w-]*(?: [a-z][\w-]*:?)*)")
"""``/admin feed tambah``, ``/ikuti topik:…``: a command a text tells its reader to type."""


def named_commands(text: str) -> list[list[str]]:
    """The words after each ``/`` of ``text`` that could name a command, its subcommands and an
    option (``topik:``); links (``https://…``) and Markdown links (``<…>``) left out."""
    return [m.group(1).split() for m in COMMAND_IN_TEXT.finditer(text)]


def wrong_commands(text: str, tree: list[dict], known: set[str]) -> list[str]:
    """Each command ``text`` names that ``tree`` (commands as one language's reader sees them)
    lacks: a word after the command that is some command's or option's name (in any language:
    ``known``) but not a subcommand or option of the command named so far."""
    wrong = []
    for words in named_commands(text):
        nodes = {c["name"]: c for c in tree}
        path = []
        for word in words:
            name = word.rstrip(":")
            if name not in nodes:
                if name in known:
                    wrong.append(" ".join(["/" + " ".join(path), word]).replace("/ ", "/"))
                break
            path.append(name)
            nodes = {o["name"]: o for o in nodes[name].get("options") or []}
            if word.endswith(":"):
                break
    return wrong


def names_in(tree: list[dict]) -> set[str]:
    found = set()
    for node in tree:
        found.add(node["name"])
        found |= names_in(node.get("options") or [])
    return found


def test_a_text_naming_a_command_the_reader_lacks_is_caught():
    tree = [{"name": "admin", "options": [{"name": "feed", "options": [{"name": "hapus"}]}]}]
    known = {"admin", "feed", "feeds", "hapus", "remove", "indeks-ulang"}
    assert wrong_commands("hapus dengan /admin feed hapus, lalu /admin hanya", tree, known) == []
    assert wrong_commands("hapus dengan /admin feeds remove", tree, known) == ["/admin feeds"]
    assert wrong_commands("lihat /admin indeks-ulang", tree, known) == ["/admin indeks-ulang"]
    assert wrong_commands("https://x.id/admin/feeds <https://x.id/admin feeds>", tree, known) == []


async def test_every_command_a_text_names_is_one_its_reader_can_type(
    standin: DiscordStandin, start_bot: StartBot
):
    """A refusal that says to run ``/admin feeds remove`` sends an Indonesian admin, whose client
    lists ``/admin feed hapus``, looking for a command that is not there; ``source`` in backticks
    names an option they see as ``sumber``."""
    async with asyncio.timeout(60), start_bot(operator_guild_ids=[standin.guild.id]):
        pass
    guild = standin.guild.id
    trees = {"en": standin.commands.seen_by("en-US", guild), "id": standin.commands.seen_by("id", guild)}
    known = names_in(trees["en"]) | names_in(trees["id"])
    wrong = [
        f"{language} {key}: {bad}"
        for language, tree in trees.items()
        for key, text in catalogue(language).items()
        if not key.startswith("command.")
        for bad in wrong_commands(text, tree, known)
        + [f"`{o}`" for o in re.findall(r"`([a-z-]+)`", text) if o in known - names_in(tree)]
    ]
    assert wrong == []


async def test_an_answers_filters_name_the_language_in_the_readers_words(
    standin: DiscordStandin, start_bot: StartBot
):
    """The footer said "bahasa id" and "56 md" (no Indonesian reads milliseconds so); a filter
    that matched nothing said "(bahasa en)"."""
    async with asyncio.timeout(60), start_bot():
        asked = await standin.send_slash_command(
            "tanya", {"pertanyaan": NATO_JAPAN, "bahasa": "id"}, locale="id"
        )
        answered = embed_of(await asked.wait_for_reply(lambda m: bool(m.embeds), timeout=20))
        narrowed = await standin.send_slash_command(
            "tanya", {"pertanyaan": NATO_JAPAN, "bahasa": "en"}, locale="id"
        )
        nothing = await narrowed.wait_for_reply(timeout=20)
    assert re.fullmatch(r"Bagian 1–\d · \d+ ms · bahasa Indonesia( · .*)?", answered["footer"]["text"])
    assert nothing.content == ID("answer.nothing_filtered", filters="bahasa Inggris")
