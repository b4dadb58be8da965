"""`foreign-desk feeds|fetch|ingest|latest --topic`: JSON and text output, exit codes, seeding."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from aiohttp import web
from click.testing import CliRunner
from foreign_desk.bot.cli import cli
from foreign_desk.bot.discord.i18n import texts
from foreign_desk.bot.discord.links import answer_links
from foreign_desk.bot.discord.render import answer_embed
from foreign_desk.index.config import load_settings
from foreign_desk.index.engine import Engine
from foreign_desk.index.feeds.seed import load_seed
from foreign_desk.index.store.db import DB_NAME

from tests.conftest import ROOT
from tests.feeds.news import NOT_AN_ARTICLE_PDF, PATROL, SUDAN, item_xml, page, rss
from tests.fetch.fixture_server import FixtureServer

LOOPBACK_OK = {"FOREIGN_DESK_ALLOW_PRIVATE_URLS": "1", "FOREIGN_DESK_FEEDS_SEED": "0"}


def invoke(data_dir: Path, *args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(
        cli,
        ["--data-dir", str(data_dir), *args],
        env=LOOPBACK_OK if env is None else env,
        catch_exceptions=False,
    )
    return result.exit_code, result.stdout, result.stderr


def test_feeds_add_list_fetch_and_remove(threaded_server: FixtureServer, data_dir: Path) -> None:
    server = threaded_server
    server.serve(PATROL.path, page(PATROL, server.base_url))
    server.serve("/annual-report.pdf", NOT_AN_ARTICLE_PDF, content_type="application/pdf")
    extra = item_xml("Annual report", server.url("/annual-report.pdf"))
    server.serve(
        "/rss", rss("World", server.base_url, [PATROL], raw_items=extra), content_type="application/rss+xml"
    )
    url = server.url("/rss")

    code, stdout, _ = invoke(data_dir, "feeds", "add", url, "--name", "world", "--source", "The Guardian",
                             "--lang", "en", "--every", "20")  # fmt: skip
    assert code == 0 and stdout.startswith("Added feed 'world'")
    assert "The Guardian, English, every 20 min" in stdout  # the language in words, as in Discord
    code, stdout, _ = invoke(data_dir, "feeds", "list", "--json")
    (feed,) = json.loads(stdout)["feeds"]
    assert (feed["name"], feed["url"], feed["source"], feed["language"], feed["every_minutes"]) == (
        "world", url, "The Guardian", "en", 20
    )  # fmt: skip
    assert feed["last_success"] is None and feed["failures"] == 0

    code, stdout, stderr = invoke(data_dir, "fetch", "--json")
    data = json.loads(stdout)
    assert code == 0 and (data["new"], data["failures"], data["generation"]) == (1, 1, 1)
    (failed,) = data["failed"]
    assert failed["feed"] == "world" and "not an HTML page" in failed["reason"]
    assert data["feeds"][0]["items"][0]["status"] in {"new", "failed"}
    assert "world: 1 page(s) fetched, 1 failed" in stderr  # progress goes to stderr

    code, stdout, _ = invoke(data_dir, "ask", "Which navies will patrol the Arafura Sea?", "--json")
    assert json.loads(stdout)["results"][0]["article"]["url"] == server.url(PATROL.path)
    code, stdout, _ = invoke(
        data_dir, "latest", "--topic", "maritime patrols against illegal fishing", "--json"
    )
    assert [a["title"] for a in json.loads(stdout)["articles"]] == [PATROL.title]

    code, stdout, _ = invoke(data_dir, "fetch", "world")
    assert code == 0
    assert stdout.splitlines()[0].startswith("Fetched 1 feed: 0 new, 0 updated, 0 duplicates, 2 unchanged")
    code, stdout, _ = invoke(data_dir, "feeds", "list")
    assert "world" in stdout and "last success 20" in stdout and "(The Guardian, English, every" in stdout

    assert invoke(data_dir, "fetch", "nope")[0] == 1
    code, stdout, _ = invoke(data_dir, "feeds", "remove", "world")
    assert code == 0 and "its articles stay" in stdout
    assert invoke(data_dir, "feeds", "list")[1].startswith("No feeds registered")
    assert json.loads(invoke(data_dir, "stats", "--json")[1])["articles"] == 1


def test_fetch_names_a_failed_page_once_and_an_item_without_a_link_by_its_title(
    threaded_server: FixtureServer, data_dir: Path
) -> None:
    """It printed "world: URL: URL is application/pdf, …" and "world: title:c61db1df373175f1: the
    item has no link"."""
    server = threaded_server
    server.serve("/annual-report.pdf", NOT_AN_ARTICLE_PDF, content_type="application/pdf")
    pdf = server.url("/annual-report.pdf")
    extra = item_xml("Annual report", pdf) + "<item><title>Briefing without a link</title></item>"
    feed = rss("World", server.base_url, [], raw_items=extra)
    server.serve("/rss", feed, content_type="application/rss+xml")
    assert invoke(data_dir, "feeds", "add", server.url("/rss"), "--name", "world")[0] == 0
    code, stdout, _ = invoke(data_dir, "fetch", "world")
    assert code == 0
    assert sorted(line for line in stdout.splitlines() if line.startswith("  ! ")) == [
        f"  ! world: {pdf} is application/pdf, not an HTML page",
        "  ! world: “Briefing without a link”: the item has no link",
    ]


@pytest.mark.parametrize(("typed", "stored"), [("english", None), ("EN-gb", "en")])
def test_feeds_add_reads_its_language_as_ask_does(
    threaded_server: FixtureServer, data_dir: Path, typed: str, stored: str | None
) -> None:
    """``--lang english`` was stored as the feed's language, and its articles filed under
    "english", which no ``--lang`` filter could name; ``ask --lang`` refused it already."""
    server = threaded_server
    server.serve("/rss", rss("World", server.base_url, [PATROL]), content_type="application/rss+xml")
    code, _, stderr = invoke(data_dir, "feeds", "add", server.url("/rss"), "--lang", typed)
    feeds = json.loads(invoke(data_dir, "feeds", "list", "--json")[1])["feeds"]
    if stored is None:
        message = "error: not a language code: 'english' (use two letters such as en or id)\n"
        assert (code, stderr) == (1, message)
        assert invoke(data_dir, "ask", "who patrols?", "--lang", typed)[1:] == ("", message)
        assert feeds == [] and server.requests == []  # refused before the feed is fetched
    else:
        assert code == 0 and [f["language"] for f in feeds] == [stored]


def test_fetch_hides_a_feeds_credentials_and_leaves_a_feed_asked_to_wait_unless_told(
    threaded_server: FixtureServer, data_dir: Path
) -> None:
    """`fetch --json` printed a feed's URL with its password and token (feeds[].url), and
    `fetch` requested a feed whose site had asked the host to wait (a 429's Retry-After)."""
    server = threaded_server
    server.serve("/rss", rss("Paid", server.base_url, []), content_type="application/rss+xml")
    url = server.url("/rss").replace("://", "://ana:s3kr1t@") + "?token=abc123"
    code, added, _ = invoke(data_dir, "feeds", "add", url, "--name", "paid")
    server.serve("/rss", "slow down", status=429, headers={"Retry-After": "3600"})
    code, failed, _ = invoke(data_dir, "fetch", "--json")
    assert code == 1 and json.loads(failed)["feeds"][0]["url"].startswith("http://***@")
    asked = len(server.requests_to("/rss"))

    code, stdout, _ = invoke(data_dir, "fetch", "--json")
    data = json.loads(stdout)
    assert code == 0 and data["feeds"] == [] and len(server.requests_to("/rss")) == asked
    (waiting,) = data["waiting"]
    assert waiting["feed"] == "paid" and waiting["url"].endswith("/rss?token=***") and waiting["until"]
    code, text, _ = invoke(data_dir, "fetch")
    assert f"paid: not fetched, asked to wait until {waiting['until']}" in text
    assert all("s3kr1t" not in said and "abc123" not in said for said in (added, failed, stdout, text))

    code, stdout, _ = invoke(data_dir, "fetch", "--ignore-wait")  # the operators' explicit choice
    assert code == 1 and len(server.requests_to("/rss")) == asked + 1
    assert invoke(data_dir, "feeds", "list", "--json")[1].count(url) == 1  # shown as added (the README)


def test_fetch_json_with_no_feeds_is_json(data_dir: Path) -> None:
    code, stdout, _ = invoke(data_dir, "fetch", "--json")
    data = json.loads(stdout)
    assert code == 0 and (data["new"], data["failures"], data["feeds"], data["failed"]) == (0, 0, [], [])
    assert invoke(data_dir, "fetch")[1].startswith("No feeds registered")


def test_a_server_without_feeds_is_told_how_to_add_one_of_its_own(data_dir: Path) -> None:
    """The hint named `feeds add URL`, which adds a shared feed, not one of the server's."""
    for command in (["feeds", "list"], ["fetch"]):
        code, stdout, _ = invoke(data_dir, *command, "--guild", "42")
        assert code == 0 and "`foreign-desk feeds add URL --guild 42`" in stdout, stdout


def test_sigterm_during_a_fetch_says_interrupted(threaded_server: FixtureServer, data_dir: Path) -> None:
    server = threaded_server
    server.serve("/rss", rss("World", server.base_url, [PATROL]), content_type="application/rss+xml")
    assert invoke(data_dir, "feeds", "add", server.url("/rss"), "--name", "world")[0] == 0
    polled = threading.Event()

    async def never_answer(request: web.Request) -> web.StreamResponse:
        polled.set()
        await asyncio.Event().wait()
        raise AssertionError("unreachable")

    server.handle("/rss", never_answer)
    command = [sys.executable, "-m", "foreign_desk", "--data-dir", str(data_dir), "fetch"]
    env = {**os.environ, **LOOPBACK_OK}
    with subprocess.Popen(command, cwd=ROOT, env=env, stderr=subprocess.PIPE, text=True) as fetching:
        try:
            assert polled.wait(timeout=120)
            fetching.send_signal(signal.SIGTERM)
            _, stderr = fetching.communicate(timeout=60)
        finally:
            fetching.kill()
    assert fetching.returncode == 143 and "interrupted" in stderr.splitlines() and "Traceback" not in stderr


def test_a_failing_feed_exits_1_and_private_addresses_need_permission(
    threaded_server: FixtureServer, data_dir: Path
) -> None:
    server = threaded_server
    server.serve("/rss", rss("Local", server.base_url, []), content_type="application/rss+xml")
    code, _, stderr = invoke(
        data_dir, "feeds", "add", server.url("/rss"), env={"FOREIGN_DESK_FEEDS_SEED": "0"}
    )
    assert code == 1 and "refused to fetch" in stderr
    assert "set allow_private_urls = true (or FOREIGN_DESK_ALLOW_PRIVATE_URLS=1) to allow" in stderr
    assert server.requests == []

    assert invoke(data_dir, "feeds", "add", server.url("/rss"), "--name", "local")[0] == 0
    server.serve("/rss", "oops", status=500)
    code, stdout, _ = invoke(data_dir, "fetch")
    assert code == 1 and "! local: " in stdout and "HTTP 500" in stdout
    code, stdout, _ = invoke(data_dir, "feeds", "list", "--json")
    (feed,) = json.loads(stdout)["feeds"]
    assert feed["failures"] == 1 and "HTTP 500" in feed["last_error"] and feed["next_poll"]


def test_fetch_tells_a_failing_feed_once_and_in_its_summary(
    threaded_server: FixtureServer, data_dir: Path
) -> None:
    """It was told three times: a progress line, a ``WARNING foreign_desk.index.feeds.ingest``
    log line (the poller's, which nobody is told otherwise), and the summary. In a process of its
    own: the console's log handler is set up once per process."""
    server = threaded_server
    server.serve("/rss", rss("Local", server.base_url, []), content_type="application/rss+xml")
    assert invoke(data_dir, "feeds", "add", server.url("/rss"), "--name", "local")[0] == 0
    server.serve("/rss", "oops", status=500)
    command = [sys.executable, "-m", "foreign_desk", "--data-dir", str(data_dir), "fetch"]
    env = {**os.environ, **LOOPBACK_OK}
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 1
    assert [line for line in done.stderr.splitlines() if "HTTP 500" in line] == [
        f"local: failed: HTTP 500 Internal Server Error fetching {server.url('/rss')}"
    ]
    assert "WARNING" not in done.stderr
    assert [line for line in done.stdout.splitlines() if "HTTP 500" in line] == [
        f"  ! local: HTTP 500 Internal Server Error fetching {server.url('/rss')}"
    ]


def test_a_servers_feed_list_says_its_catch_up_was_given_up_and_no_other_does(
    threaded_server: FixtureServer, data_dir: Path
) -> None:
    """Server 333 added a feed the shared corpus polls; its catch-up (the feed's earlier articles)
    failed for two days and was given up (``FeedDesk._retry_catch_up``, as set here): only the
    log said so. Its feed listing says so now; the shared corpus's listing of the feed does not."""
    server = threaded_server
    server.serve("/rss", rss("World", server.base_url, []), content_type="application/rss+xml")
    assert invoke(data_dir, "feeds", "add", server.url("/rss"), "--name", "world")[0] == 0
    assert invoke(data_dir, "feeds", "add", server.url("/rss"), "--name", "w", "--guild", "333")[0] == 0
    with sqlite3.connect(data_dir / DB_NAME) as db:
        db.execute("UPDATE feed_scopes SET catch_up_failed = 1 WHERE guild_id = 333")
    db.close()

    listed = {}
    for scope in ([], ["--guild", "333"]):
        stdout = invoke(data_dir, "feeds", "list", *scope)[1]
        text = invoke(data_dir, "feeds", "list", "--json", *scope)[1]
        listed[bool(scope)] = (stdout, [f["catch_up_failed"] for f in json.loads(text)["feeds"]])
    said = "some articles it brought before it was added here could not be fetched (given up)"
    assert said in listed[True][0] and listed[True][1] == [True]
    assert said not in listed[False][0] and listed[False][1] == [False]


def test_a_server_lists_a_feed_another_follows_as_it_added_it(
    threaded_server: FixtureServer, data_dir: Path
) -> None:
    """Server 111 follows a feed every 10 minutes as `x`, in Indonesian, and it failed; server 222
    then adds it every 60 minutes as `y`. Before, `feeds list --guild 222` showed 111's URL,
    language, interval and failure (every 10 min, HTTP 500): that someone else followed it, and
    what they chose. Each lists what it chose and what its own polls saw."""
    server = threaded_server
    body = rss("Wire", server.base_url, [])
    server.serve("/rss", body, content_type="application/rss+xml")
    url = server.url("/rss")
    guild_a, guild_b = ["--guild", "111"], ["--guild", "222"]
    assert (
        invoke(data_dir, "feeds", "add", url, "--name", "x", "--lang", "id", "--every", "10", *guild_a)[0]
        == 0
    )
    server.serve("/rss", "oops", status=500)
    assert invoke(data_dir, "fetch", *guild_a)[0] == 1
    server.serve("/rss", body, content_type="application/rss+xml")
    added = invoke(data_dir, "feeds", "add", url + "#b", "--name", "y", "--every", "60", *guild_b)[1]
    assert added.startswith(f"Added feed 'y' ({url}#b): English, every 60 min.")

    lists = {g[1]: invoke(data_dir, "feeds", "list", *g)[1] for g in (guild_a, guild_b)}
    (a,), (b,) = (
        json.loads(invoke(data_dir, "feeds", "list", "--json", *g)[1])["feeds"] for g in (guild_a, guild_b)
    )
    assert lists["111"].startswith(f"x {url} (Indonesian, every 10 min)")  # the language in words
    assert "1 failure in a row" in lists["111"]
    assert lists["222"].startswith(f"y {url}#b (English, every 60 min)\n   last success never; next poll")
    assert "failure" not in lists["222"] and "HTTP 500" not in lists["222"]
    assert (a["name"], a["language"], a["every_minutes"], a["failures"]) == ("x", "id", 10, 1)
    assert (b["name"], b["language"], b["every_minutes"], b["failures"], b["last_error"]) == (
        "y",
        "en",
        60,
        0,
        None,
    )
    assert b["added_at"] >= a["added_at"] and b["last_polled"] is None


def test_latest_on_too_long_a_topic_names_the_topic_and_its_limit(sample_copy: Path) -> None:
    """It said "the text is 1,499 characters long" (``Engine.embed_query``'s words)."""
    code, stdout, stderr = invoke(sample_copy, "latest", "--topic", "nato " * 300, "--json")
    assert (code, stdout) == (1, "")
    assert stderr == "error: the topic is 1,499 characters long; at most 1,000\n"


def test_ingest_one_url(threaded_server: FixtureServer, data_dir: Path) -> None:
    server = threaded_server
    server.serve(SUDAN.path, page(SUDAN, server.base_url))
    server.serve("/laporan.pdf", NOT_AN_ARTICLE_PDF, content_type="application/pdf")

    code, stdout, _ = invoke(data_dir, "ingest", server.url(SUDAN.path) + "?utm_source=wa", "--json")
    outcome = json.loads(stdout)
    assert code == 0 and (outcome["status"], outcome["url"]) == ("new", server.url(SUDAN.path))
    code, stdout, _ = invoke(data_dir, "ingest", server.url(SUDAN.path))
    assert code == 0 and stdout.startswith("Unchanged: “Menlu RI pastikan evakuasi WNI")
    code, _, stderr = invoke(data_dir, "ingest", server.url("/laporan.pdf"))
    assert code == 1 and stderr.startswith("error:") and "not an HTML page" in stderr


@pytest.mark.parametrize("as_url", [False, True])
def test_ingest_of_a_file_on_disk_names_the_command_that_indexes_it(
    data_dir: Path, tmp_path: Path, as_url: bool
) -> None:
    """It said "only http and https URLs can be fetched, not '/…/story.html'"."""
    story = tmp_path / "story.html"
    story.write_text("<html><body><p>A page saved to disk.</p></body></html>", encoding="utf-8")
    code, stdout, stderr = invoke(data_dir, "ingest", story.as_uri() if as_url else str(story))
    assert (code, stdout) == (1, "")
    hint = f"to index a file on disk: foreign-desk index {story}"
    assert stderr == f"error: ingest fetches web pages (http, https); {hint}\n"


def test_ingest_of_a_page_a_feed_brought_says_already_indexed_once(
    threaded_server: FixtureServer, data_dir: Path
) -> None:
    """It read "Already indexed: “…” URL (already indexed (same page))"."""
    server = threaded_server
    server.serve(SUDAN.path, page(SUDAN, server.base_url))
    server.serve("/rss", rss("World", server.base_url, [SUDAN]), content_type="application/rss+xml")
    assert invoke(data_dir, "feeds", "add", server.url("/rss"), "--name", "world")[0] == 0
    assert invoke(data_dir, "fetch")[0] == 0
    code, stdout, _ = invoke(data_dir, "ingest", server.url(SUDAN.path))
    assert code == 0 and stdout.startswith("Already indexed: “Menlu RI pastikan evakuasi WNI")
    assert stdout.casefold().count("already indexed") == 1, stdout


def test_a_citation_links_the_address_the_page_gave(
    threaded_server: FixtureServer, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The canonical form ("www." and the trailing slash dropped, the query sorted) only tells
    two spellings of one article apart: the reader is sent where the page said it lives."""
    real = socket.getaddrinfo
    monkeypatch.setattr(  # a name for the loopback server that has a "www."
        socket,
        "getaddrinfo",
        lambda host, *a, **k: real("127.0.0.1" if host == "www.desk.test" else host, *a, **k),
    )
    server, story = threaded_server, PATROL.with_(path="/world/2024/mar/05/patrols/?b=2&a=1")
    address = f"http://www.desk.test:{server.port}{story.path}"
    server.serve("/world/2024/mar/05/patrols/", page(story, f"http://www.desk.test:{server.port}"))
    assert invoke(data_dir, "ingest", address)[0] == 0

    question = "Which navies will patrol the Arafura Sea?"
    stdout = invoke(data_dir, "ask", question, "--json")[1]
    assert json.loads(stdout)["results"][0]["article"]["url"] == address
    assert f", {address}\n" in invoke(data_dir, "ask", question)[1]  # the citation line

    async def discord_render() -> tuple[str, list[str]]:
        async with await Engine.open(load_settings(None, environ={}, data_dir=str(data_dir))) as engine:
            answer = await engine.ask(question)
        links = answer_links(answer.results, texts("en"), "en")
        return answer_embed(answer).description or "", [link.url for link in links]

    description, links = asyncio.run(discord_render())
    assert f"]({address})" in description and links[0] == address


def test_feeds_toml_seeds_the_first_start_only(tmp_path: Path) -> None:
    seed = tmp_path / "feeds.toml"
    seed.write_text(
        """
[[feed]]
name = "antara-dunia"
url = "https://www.antaranews.com/rss/dunia.xml"
source = "Antara"
language = "id"

[[feed]]
url = "https://www.theguardian.com/world/rss"
name = "guardian"
every = 60
"""
    )
    env = {"FOREIGN_DESK_FEEDS_SEED_FILE": str(seed)}
    code, stdout, _ = invoke(tmp_path / "data", "feeds", "list", "--json", env=env)
    feeds = json.loads(stdout)["feeds"]
    assert code == 0 and [(f["name"], f["source"], f["every_minutes"]) for f in feeds] == [
        ("antara-dunia", "Antara", 30),
        ("guardian", None, 60),
    ]
    assert invoke(tmp_path / "data", "feeds", "remove", "guardian", env=env)[0] == 0
    code, stdout, _ = invoke(tmp_path / "data", "feeds", "list", "--json", env=env)
    assert [f["name"] for f in json.loads(stdout)["feeds"]] == ["antara-dunia"]  # not seeded again


def test_a_data_dir_started_without_seed_feeds_stays_without_them(tmp_path: Path) -> None:
    """`[feeds] seed = false` at the first start is that start: a later command without the
    setting (the bot's environment had it, a shell has not) registers no seed feed either."""
    code, stdout, _ = invoke(tmp_path / "data", "feeds", "list", env={"FOREIGN_DESK_FEEDS_SEED": "0"})
    assert code == 0 and stdout.startswith("No feeds registered")
    code, stdout, _ = invoke(tmp_path / "data", "feeds", "list", "--json", env={})
    assert code == 0 and json.loads(stdout)["feeds"] == []


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[[feed]]\nurl = "https://example.org/rss"\nname = 5\n', "feed 1: name must be text"),
        ("feed = [1, 2]\n", "feeds are [[feed]] tables"),
        ("[[feed]]\nevery = " + "9" * 5000 + "\n", "not valid TOML"),
        ('[[feed]]\nurl = "https://example.org/rss"\nevery = 99999999999999999999\n', "from 1 to 10,080"),
        ('[[feed]]\nurl = "https://example.org/rss"\nlanguage = "english"\n', "feed 1: not a language code"),
    ],
)
def test_a_bad_feeds_toml_is_one_line(tmp_path: Path, text: str, message: str) -> None:
    """These were tracebacks at every start (AttributeError, TypeError, ValueError)."""
    seed = tmp_path / "feeds.toml"
    seed.write_text(text)
    result = CliRunner().invoke(
        cli,
        ["--data-dir", str(tmp_path / "data"), "feeds", "list"],
        env={"FOREIGN_DESK_FEEDS_SEED_FILE": str(seed)},
    )
    assert result.exit_code == 2 and message in result.stderr, result.output


def test_shipped_feeds_toml_is_valid() -> None:
    specs = load_seed()
    assert len(specs) >= 3 and len({s.name for s in specs}) == len(specs)
    assert all(s.url.startswith("https://") and s.language in {"en", "id"} for s in specs)


@pytest.mark.parametrize("command", [["feeds"], ["feeds", "add"], ["feeds", "list"], ["feeds", "remove"],
                                     ["fetch"], ["ingest"], ["latest"]])  # fmt: skip
def test_feed_commands_have_help_with_an_example(command: list[str]) -> None:
    result = CliRunner().invoke(cli, [*command, "--help"])
    assert result.exit_code == 0
    assert "Example:" in result.stdout and f"foreign-desk {command[0]}" in result.stdout


def test_guild_acts_as_one_discord_server(threaded_server: FixtureServer, data_dir: Path) -> None:
    server = threaded_server
    server.serve(PATROL.path, page(PATROL, server.base_url))
    server.serve("/rss", rss("World", server.base_url, [PATROL]), content_type="application/rss+xml")
    guild = ["--guild", "123456789012345678"]

    code, stdout, _ = invoke(data_dir, "feeds", "add", server.url("/rss"), "--name", "mine", *guild)
    assert code == 0  # its hint fetched a shared feed of that name, or none: "no feed called 'mine'"
    assert "`foreign-desk fetch mine --guild 123456789012345678` fetches it now." in stdout
    assert json.loads(invoke(data_dir, "fetch", "--json", *guild)[1])["new"] == 1
    question = "Which navies will patrol the Arafura Sea?"
    own = json.loads(invoke(data_dir, "ask", question, "--json", *guild)[1])["results"]
    shared = json.loads(invoke(data_dir, "ask", question, "--json")[1])["results"]
    listed = json.loads(invoke(data_dir, "latest", "--json", *guild)[1])["articles"]
    assert own[0]["article"]["title"] == PATROL.title and own[0]["own"] is True
    assert PATROL.title not in [r["article"]["title"] for r in shared]
    assert [(a["title"], a["own"]) for a in listed] == [(PATROL.title, True)]
    assert json.loads(invoke(data_dir, "latest", "--json")[1])["articles"] == []
    assert invoke(data_dir, "feeds", "list")[1].startswith("No feeds registered")  # the shared list
    code, _, stderr = invoke(data_dir, "feeds", "add", server.url("/other"), "--source", "BBC", *guild)
    assert code == 1 and "only the bot's operators may set the outlet" in stderr


def test_a_feeds_password_and_key_never_reach_the_log_or_its_errors(
    threaded_server: FixtureServer, data_dir: Path
) -> None:
    """A feed behind a password or a key (``https://user:pass@host/rss?token=...``): it failed,
    and ``-v fetch`` logged the URL whole (``feed NAME failed ... fetching URL``), as the summary,
    the feed's stored last error (``feeds list``, Discord's) did. The request still carries them."""
    server = threaded_server
    server.serve("/rss", rss("Local", server.base_url, []), content_type="application/rss+xml")
    url = f"http://reader:hunter2@127.0.0.1:{server.port}/rss?token=SEKRIT&lang=en"
    assert invoke(data_dir, "feeds", "add", url, "--name", "locked")[0] == 0
    server.serve("/rss", "oops", status=500)
    command = [sys.executable, "-m", "foreign_desk", "-v", "--data-dir", str(data_dir), "fetch"]
    env = {**os.environ, **LOOPBACK_OK}
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    listed = invoke(data_dir, "feeds", "list", "--json")[1]
    (last_error,) = [f["last_error"] for f in json.loads(listed)["feeds"]]
    hidden = f"http://***@127.0.0.1:{server.port}/rss?token=***&lang=en"
    assert done.returncode == 1 and "INFO foreign_desk.index.feeds.ingest: feed locked failed" in done.stderr
    assert f"  ! locked: HTTP 500 Internal Server Error fetching {hidden}" in done.stdout.splitlines()
    for said in (done.stdout, done.stderr, last_error):
        assert "hunter2" not in said and "SEKRIT" not in said and hidden in said
    polled = server.requests_to("/rss")[-1]
    assert polled.query == "token=SEKRIT&lang=en" and polled.headers["Authorization"].startswith("Basic ")


def test_an_articles_password_and_key_never_reach_the_fetch_or_ingest_output(
    threaded_server: FixtureServer, data_dir: Path
) -> None:
    """A feed whose items link to ``http://user:pass@host/...?token=...``: ``fetch`` listed each
    item's link whole (text and ``--json``), as ``ingest`` did its URL. The stored link, the
    citation, stays as the page gave it."""
    server = threaded_server
    canonical = f'href="{server.base_url}{PATROL.path}"'
    keyed = page(PATROL, server.base_url).replace(canonical, canonical[:-1] + '?token=abc123"')
    server.serve(PATROL.path, keyed)  # its canonical link keeps the key
    server.serve("/annual-report.pdf", NOT_AN_ARTICLE_PDF, content_type="application/pdf")
    secret = f"http://ana:s3kr1t@127.0.0.1:{server.port}"
    items = item_xml(PATROL.title, f"{secret}{PATROL.path}?token=abc123") + item_xml(
        "Annual report", f"{secret}/annual-report.pdf?api_key=abc123"
    )
    server.serve(
        "/rss", rss("World", server.base_url, [], raw_items=items), content_type="application/rss+xml"
    )
    assert invoke(data_dir, "feeds", "add", server.url("/rss"), "--name", "world")[0] == 0
    command = [sys.executable, "-m", "foreign_desk", "-v", "--data-dir", str(data_dir), "fetch"]
    env = {**os.environ, **LOOPBACK_OK}
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert f"  + {PATROL.title} {server.base_url}{PATROL.path}?token=***" in done.stdout.splitlines()
    stdout = invoke(data_dir, "fetch", "--json")[1]
    urls = sorted(item["url"] for item in json.loads(stdout)["feeds"][0]["items"])
    assert [url.rsplit("?", 1)[-1] for url in urls] == ["api_key=***", "token=***"]
    said = [done.stdout, done.stderr, stdout]
    said += invoke(data_dir, "ingest", f"{secret}{PATROL.path}?token=abc123")[1:]
    said += invoke(data_dir, "ingest", f"{secret}{PATROL.path}?token=abc123", "--json")[1:]
    assert all("s3kr1t" not in text and "abc123" not in text for text in said), said
