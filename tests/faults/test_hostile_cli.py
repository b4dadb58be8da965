"""What a user types or the network does not give: one line on stderr and a non-zero exit,
never a traceback."""

from __future__ import annotations

import asyncio
import logging
import socket
from pathlib import Path

import pytest
from click.testing import CliRunner
from foreign_desk.bot.cli import cli
from foreign_desk.index.errors import ReaderError
from foreign_desk.index.readers.html import article_from_html

from tests.discord_standin.patching import point_discord_py_at


def one_line_error(result) -> str:
    assert result.exit_code == 1, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    return lines[0]


@pytest.mark.parametrize("since", ["99999999d", "9" * 5000 + "d", "201y"])
def test_a_date_too_far_back_is_one_line(tmp_path: Path, since: str) -> None:
    result = CliRunner().invoke(cli, ["--data-dir", str(tmp_path), "ask", "NATO", "--since", since])
    assert "reaches too far back" in one_line_error(result)


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize("command", ["sync", "run"])
async def test_no_network_is_one_line(tmp_path: Path, command: str) -> None:
    port = _closed_port()  # nothing listens: what discord.py meets without a network
    with point_discord_py_at(f"http://127.0.0.1:{port}", f"ws://127.0.0.1:{port}"):
        result = await asyncio.to_thread(
            CliRunner().invoke, cli, ["--data-dir", str(tmp_path), command], env={"DISCORD_TOKEN": "a.b.c"}
        )
    assert one_line_error(result).startswith(f"error: cannot reach Discord at 127.0.0.1:{port}")


def test_a_page_without_a_body_is_reported_once(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    with pytest.raises(ReaderError, match="no article body found"):
        article_from_html(b"<html><head><title>T</title></head><body></body></html>")
    assert [r.getMessage() for r in caplog.records if "discarding" in r.getMessage()] == []
