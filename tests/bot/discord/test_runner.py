"""``foreign-desk run`` and ``foreign-desk sync`` against the stand-in: the token, registration, signals."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
import signal
import sqlite3
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from foreign_desk.bot.cli import cli
from foreign_desk.bot.discord.answers import FILE_NAME
from foreign_desk.bot.discord.errors import BotError, TokenMissing, TokenRejected
from foreign_desk.bot.discord.i18n import EN
from foreign_desk.bot.discord.runner import run_bot, shard_options, sync_commands
from foreign_desk.index.config import Settings
from foreign_desk.index.engine import Engine
from foreign_desk.index.store.db import OPEN_LOCK, Store
from foreign_desk.index.store.lock import OpenLock, WriterLock

from tests.conftest import ROOT
from tests.discord_standin import DiscordStandin

from .conftest import NATO_JAPAN, embed_of

COMMANDS = {
    "ask",
    "latest",
    "sources",
    "help",
    "admin",
    "follow",
    "unfollow",
    "following",
    "Ask Foreign Desk",
}


async def test_missing_token_is_one_clear_line(make_settings: Callable[..., Settings]):
    with pytest.raises(TokenMissing) as caught:
        await run_bot(make_settings(), environ={})
    message = str(caught.value)
    assert message.startswith("DISCORD_TOKEN is not set") and "\n" not in message
    with pytest.raises(TokenMissing):
        await sync_commands(make_settings(), None, environ={"DISCORD_TOKEN": "  "})


@pytest.mark.parametrize("shape", ['"{}"', "'{}'", "Bot {}", "{} x"])
async def test_a_token_with_quotes_or_a_prefix_is_named_so_before_discord_is_asked(
    standin: DiscordStandin, make_settings: Callable[..., Settings], shape: str
):
    """``docker run --env-file`` keeps the quotes of ``DISCORD_TOKEN="..."``; some guides write
    ``Bot TOKEN``. Discord answered 401 and the operator read only "Discord rejected the token"."""
    token = shape.format(standin.config.bot_token)
    with pytest.raises(TokenMissing) as caught:
        await asyncio.wait_for(run_bot(make_settings(), environ={"DISCORD_TOKEN": token}), 15)
    said = str(caught.value)
    assert said.startswith("DISCORD_TOKEN holds characters no Discord token has (quotes around it")
    assert standin.config.bot_token not in said and standin.requests == []


def test_cli_run_without_a_token_exits_with_one_line(tmp_path: Path):
    result = CliRunner().invoke(cli, ["--data-dir", str(tmp_path), "run"], env={"DISCORD_TOKEN": None})
    assert result.exit_code == 1
    assert result.stderr.strip().startswith("error: DISCORD_TOKEN is not set")
    assert len(result.stderr.strip().splitlines()) == 1 and result.stdout == ""


def test_cli_run_on_a_data_folder_it_cannot_write_is_one_line_naming_it(read_only: Path):
    """It must write its own state there: refused before logging in (the token is not even tried),
    not SQLite's "unable to open database file" after connecting to Discord."""
    result = CliRunner().invoke(cli, ["--data-dir", str(read_only), "run"], env={"DISCORD_TOKEN": "x"})
    assert result.exit_code == 1 and result.stdout == ""
    assert result.stderr == (
        f"error: the data folder {read_only} cannot be written, and the bot keeps its state there: "
        "run it on a writable folder (`foreign-desk ask` and `doctor` can read this one)\n"
    )


async def test_a_rejected_token_is_reported_without_the_token(
    standin: DiscordStandin, make_settings: Callable[..., Settings], caplog: pytest.LogCaptureFixture
):
    caplog.set_level(logging.DEBUG)
    secret = "MTIzNDU2Nzg5MDEy.wrong.token-value"
    for attempt in (run_bot, lambda s, environ: sync_commands(s, None, environ=environ)):
        with pytest.raises(TokenRejected) as caught:
            await asyncio.wait_for(attempt(make_settings(), environ={"DISCORD_TOKEN": secret}), 15)
        assert str(caught.value).startswith("Discord rejected the token in DISCORD_TOKEN")
        assert secret not in str(caught.value)
    assert [r.status for r in standin.requests] == [401, 401]
    assert secret not in caplog.text and "wrong.token" not in caplog.text


async def test_sync_registers_the_commands_on_a_guild_or_globally(
    standin: DiscordStandin, make_settings: Callable[..., Settings], tmp_path: Path
):
    token = {"DISCORD_TOKEN": standin.config.bot_token}
    settings = make_settings(tmp_path / "never-opened")
    assert await sync_commands(settings, standin.guild.id, environ=token) == len(COMMANDS)
    assert {c["name"] for c in standin.commands.guild_commands[standin.guild.id]} == COMMANDS
    assert standin.commands.global_commands == []
    assert await sync_commands(settings, None, environ=token) == len(COMMANDS)
    assert {c["name"] for c in standin.commands.global_commands} == COMMANDS
    assert not (tmp_path / "never-opened").exists()  # syncing needs no model and no index

    ask = standin.commands.find("ask", None)
    assert (
        ask is not None
        and ask["description"] == "Ask the news desk a foreign-affairs question; get cited passages."
    )
    options = {o["name"]: o for o in ask["options"]}
    assert options["question"]["required"] is True and options["question"]["max_length"] == 1000
    assert options["source"]["autocomplete"] is True and all(o["description"] for o in options.values())
    admin = standin.commands.find("admin", None)
    assert admin is not None
    assert {o["name"] for o in admin["options"]} == {"stats", "timezone", "feeds", "fetch", "ingest"}


async def test_sync_registers_operator_commands_only_on_the_operators_servers(
    standin: DiscordStandin, make_settings: Callable[..., Settings], tmp_path: Path
):
    ops, other = standin.world.add_guild("Ops room"), standin.world.add_guild("Readers")
    environ = {
        "DISCORD_TOKEN": standin.config.bot_token,
        "FOREIGN_DESK_DISCORD_OPERATOR_GUILD_IDS": str(ops.id),
    }
    assert await sync_commands(make_settings(tmp_path / "never-opened"), None, environ=environ) == len(
        COMMANDS
    )
    assert {c["name"] for c in standin.commands.global_commands} == COMMANDS
    operator = standin.commands.find("operator", ops.id)
    assert operator is not None and [c["name"] for c in standin.commands.guild_commands[ops.id]] == [
        "operator"
    ]
    assert {o["name"] for o in operator["options"]} == {"reindex", "stats", "feeds", "fetch", "ingest"}
    assert standin.commands.guild_commands.get(other.id, []) == []


async def test_an_operator_server_the_bot_is_not_in_is_named_and_the_others_are_registered(
    standin: DiscordStandin, make_settings: Callable[..., Settings], tmp_path: Path
):
    """A typo in discord.operator_guild_ids, or a server that removed the bot: the error names it
    and the setting, and the operator servers after it still get /operator."""
    ops, gone = standin.world.add_guild("Ops room"), 1234567890123456789
    environ = {
        "DISCORD_TOKEN": standin.config.bot_token,
        "FOREIGN_DESK_DISCORD_OPERATOR_GUILD_IDS": f"{gone},{ops.id}",
    }
    with pytest.raises(BotError) as info:
        await sync_commands(make_settings(tmp_path / "never-opened"), None, environ=environ)
    assert str(info.value) == (
        f"registered {len(COMMANDS)} commands globally, but not /operator on server {gone} "
        "(Discord 404 10004: Unknown Guild): is the bot in it? check discord.operator_guild_ids"
    )
    assert {c["name"] for c in standin.commands.global_commands} == COMMANDS
    assert [c["name"] for c in standin.commands.guild_commands[ops.id]] == ["operator"]


async def test_cli_sync_on_a_guild(standin: DiscordStandin, tmp_path: Path):
    args = ["--data-dir", str(tmp_path), "sync", "--guild", str(standin.guild.id)]
    # The CLI runs its own event loop, so it runs in a thread while the stand-in serves on this one.
    result = await asyncio.to_thread(
        CliRunner().invoke, cli, args, env={"DISCORD_TOKEN": standin.config.bot_token}, catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == f"Registered {len(COMMANDS)} commands on guild {standin.guild.id}."
    assert {c["name"] for c in standin.commands.guild_commands[standin.guild.id]} == COMMANDS


async def test_run_answers_until_sigterm_then_closes_cleanly(
    standin: DiscordStandin, sample_copy: Path, make_settings: Callable[..., Settings]
):
    environ = {"DISCORD_TOKEN": standin.config.bot_token}
    before = signal.getsignal(signal.SIGTERM)
    task = asyncio.create_task(run_bot(make_settings(sample_copy), environ=environ, guild_ready_timeout=0.05))
    async with asyncio.timeout(30):
        await standin.wait_until(lambda: standin.gateway.current is not None or task.done(), timeout=20)
        assert not task.done()
        ix = await standin.send_slash_command("ask", {"question": NATO_JAPAN})
        assert embed_of(await ix.wait_for_reply(timeout=15))["title"] == NATO_JAPAN
        assert [r for r in standin.requests if r.method == "PUT"] == []  # no command sync on start
        handler = signal.getsignal(signal.SIGTERM)
        assert handler not in (signal.SIG_DFL, signal.SIG_IGN, None, before)  # else SIGTERM would kill pytest
        os.kill(os.getpid(), signal.SIGTERM)
        await task  # returns: a clean stop, not an exception
    connection = standin.gateway.connections[-1]
    assert connection.closed_by == "client" and not connection.open
    assert signal.getsignal(signal.SIGTERM) == before


async def test_sigterm_during_a_reindex_says_so_in_its_status_and_stops(
    standin: DiscordStandin, sample_copy: Path, make_settings: Callable[..., Settings]
):
    """``systemctl stop`` during /operator reindex: the reindex was cancelled (nothing of it
    published) but its status stayed at its last progress, as if it still ran. It says that the
    stop cut it short and that the last good index keeps answering; then the bot stops."""
    environ = {
        "DISCORD_TOKEN": standin.config.bot_token,
        "FOREIGN_DESK_DISCORD_OPERATOR_GUILD_IDS": str(standin.guild.id),
    }
    settings = make_settings(sample_copy)
    await sync_commands(settings, None, environ=environ)
    async with asyncio.timeout(60), WriterLock(sample_copy / "writer.lock").hold():  # the reindex waits
        task = asyncio.create_task(run_bot(settings, environ=environ, guild_ready_timeout=0.05))
        await standin.wait_until(lambda: standin.gateway.current is not None or task.done(), timeout=30)
        ix = await standin.send_slash_command("operator reindex", user=standin.owner)
        await ix.wait_for_reply(lambda m: EN("phase.waiting") in m.content, timeout=30)
        os.kill(os.getpid(), signal.SIGTERM)
        await task
    assert standin.message(ix.original_message_id).content == EN("reindex.interrupted")


async def test_sigterm_while_the_index_loads_leaves_nothing_open(
    standin: DiscordStandin,
    sample_copy: Path,
    make_settings: Callable[..., Settings],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
):
    """``systemctl stop`` (or Ctrl-C) while the bot starts, the model and index loading: the bot
    closed at once, then ``setup_hook`` went on to open the index and the feeds and start polling,
    which nothing closed any more. The data folder stayed held open (a restore refused), and their
    connections' threads kept the process from exiting."""
    caplog.set_level(logging.INFO)
    opening, go = asyncio.Event(), asyncio.Event()
    real_open = Engine.open.__func__  # type: ignore[attr-defined]

    async def held_open(cls: type[Engine], *args: Any, **kwargs: Any) -> Engine:
        opening.set()
        await go.wait()
        return await real_open(cls, *args, **kwargs)

    monkeypatch.setattr(Engine, "open", classmethod(held_open))
    environ = {"DISCORD_TOKEN": standin.config.bot_token}
    task = asyncio.create_task(run_bot(make_settings(sample_copy), environ=environ, guild_ready_timeout=0.05))
    async with asyncio.timeout(60):
        await opening.wait()
        os.kill(os.getpid(), signal.SIGTERM)
        await standin.wait_until(lambda: "stopping: closing" in caplog.text, timeout=30)
        go.set()
        await task
    alone = OpenLock(sample_copy / OPEN_LOCK)
    await alone.alone()  # what `foreign-desk restore` takes: no process holds the data folder open
    alone.release()
    assert caplog.text.count("feed poller started") == caplog.text.count("feed poller stopped")


async def test_sigterm_as_the_bot_logs_in_stops_it_with_status_0_and_no_error(
    standin: DiscordStandin, sample_copy: Path
):
    """A real ``foreign-desk -v run``, SIGTERM as soon as it logs in (``systemctl stop`` right
    after a start): closing during the login closed its HTTP session under it, and it exited 1
    with ``error: the connection to Discord failed: ClientConnectionError: Connector is closed``."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "DISCORD_TOKEN": standin.config.bot_token}
    env.update(FOREIGN_DESK_FEEDS_SEED="0")  # no feed of the outside world to poll
    env.pop("FOREIGN_DESK_DATA_DIR", None)
    launch = ["-m", "tests.discord_standin.launch", standin.http_url, standin.gateway_url]
    args = ["-m", "foreign_desk", "--data-dir", str(sample_copy), "-v", "run"]
    proc = await asyncio.create_subprocess_exec(
        sys.executable, *launch, *args, cwd=ROOT, env=env, stderr=asyncio.subprocess.PIPE
    )
    assert proc.stderr is not None
    try:
        async with asyncio.timeout(120):
            while b"logging in using static token" not in await proc.stderr.readline():
                assert not proc.stderr.at_eof()
            proc.send_signal(signal.SIGTERM)
            said = (await proc.stderr.read()).decode()
            assert await proc.wait() == 0, said
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    assert "error:" not in said and said.rstrip().endswith("INFO foreign_desk.bot.discord.runner: stopped")


SLOW_STOP = """
import asyncio, sys
from foreign_desk.bot.discord.client import ForeignDeskBot
from tests.discord_standin.launch import main

async def slow_close(self):  # Discord slow to answer as the bot stops: it never does
    print("closing slowly", file=sys.stderr, flush=True)
    await asyncio.Event().wait()

ForeignDeskBot.close = slow_close
main(sys.argv[1:])
"""


async def test_a_second_ctrl_c_during_a_slow_stop_exits_at_once_with_130(
    standin: DiscordStandin, sample_copy: Path
):
    """Ctrl-C, then Ctrl-C again while the stop waits (on Discord, on a reindex's cleanup): the
    second one did nothing, and the bot could only be killed. It exits 130 now, and the data
    folder opens as before (what was not committed rolled back, nothing holds it)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "DISCORD_TOKEN": standin.config.bot_token}
    env.update(FOREIGN_DESK_FEEDS_SEED="0")
    env.pop("FOREIGN_DESK_DATA_DIR", None)
    launch = [standin.http_url, standin.gateway_url, "-m", "foreign_desk"]
    args = ["--data-dir", str(sample_copy), "-v", "run"]
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", SLOW_STOP, *launch, *args, cwd=ROOT, env=env, stderr=asyncio.subprocess.PIPE
    )
    assert proc.stderr is not None
    try:
        async with asyncio.timeout(120):  # a hang guard: before the fix it never exited
            for awaited in ("logging in using static token", "closing slowly"):
                while awaited.encode() not in await proc.stderr.readline():
                    assert not proc.stderr.at_eof()
                proc.send_signal(signal.SIGINT)
            said = (await proc.stderr.read()).decode()
            assert await proc.wait() == 130, said
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    assert said.endswith("interrupted\n") and "Traceback" not in said
    alone = OpenLock(sample_copy / OPEN_LOCK)
    await alone.alone()  # no process holds the data folder open
    alone.release()
    store = await Store.open(sample_copy)
    try:
        assert await store.generation() > 0
    finally:
        await store.close()
    with contextlib.closing(sqlite3.connect(sample_copy / FILE_NAME)) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


@pytest.mark.parametrize(
    ("count", "ids", "expected"),
    [
        (None, None, {}),
        (2, None, {"shard_count": 2, "shard_ids": [0, 1]}),
        (4, [3, 1, 1], {"shard_count": 4, "shard_ids": [1, 3]}),
        (None, [0], "--shard-ids needs --shard-count"),
        (2, [2], "shard ids [2] are not below --shard-count 2"),
    ],
)
def test_shard_options_are_checked(count: int | None, ids: list[int] | None, expected: object):
    if isinstance(expected, str):
        with pytest.raises(BotError, match=re.escape(expected)):
            shard_options(count, ids)
    else:
        assert shard_options(count, ids) == expected


def test_cli_run_refuses_unreadable_shard_ids(tmp_path: Path):
    args = ["--data-dir", str(tmp_path), "run", "--shard-count", "2", "--shard-ids", "0,one"]
    result = CliRunner().invoke(cli, args, env={"DISCORD_TOKEN": "x"})
    assert result.exit_code == 2 and "comma-separated list of shard numbers" in result.stderr


async def test_too_few_shards_is_one_clear_line(
    standin: DiscordStandin, sample_copy: Path, make_settings: Callable[..., Settings]
):
    standin.world.add_guild("Second")
    standin.config.max_guilds_per_shard = 1
    environ = {"DISCORD_TOKEN": standin.config.bot_token}
    with pytest.raises(BotError) as caught:
        await asyncio.wait_for(run_bot(make_settings(sample_copy), shard_count=1, environ=environ), 60)
    assert str(caught.value).startswith("Discord requires more shards") and "--shard-count" in str(
        caught.value
    )
    assert standin.gateway.connections[-1].close_code == 4011


async def test_debug_logs_never_hold_an_interaction_token(
    standin: DiscordStandin,
    sample_copy: Path,
    make_settings: Callable[..., Settings],
    caplog: pytest.LogCaptureFixture,
):
    """``foreign-desk -vv run`` logs discord.py's debug lines: each event received, each request
    made. An interaction's token lets whoever reads it post and edit as the bot for 15 minutes."""
    caplog.set_level(logging.DEBUG)
    environ = {"DISCORD_TOKEN": standin.config.bot_token}
    task = asyncio.create_task(run_bot(make_settings(sample_copy), environ=environ, guild_ready_timeout=0.05))
    try:
        async with asyncio.timeout(30):
            await standin.wait_until(lambda: standin.gateway.current is not None or task.done(), timeout=20)
            ix = await standin.send_slash_command("ask", {"question": NATO_JAPAN})
            assert embed_of(await ix.wait_for_reply(timeout=15))["title"] == NATO_JAPAN
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    assert "WebSocket Event" in caplog.text and "has returned" in caplog.text  # the debug lines stay
    assert ix.token not in caplog.text and standin.config.bot_token not in caplog.text
