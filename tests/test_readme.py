"""The README stays true: its two commands exist and CI runs the same one; every setting is documented;
the error messages it quotes read as the code writes them."""

from __future__ import annotations

import asyncio
import dataclasses
import re
import sqlite3
from pathlib import Path

import pytest
from foreign_desk.bot.discord.settings import BotSettings
from foreign_desk.index.config import Settings
from foreign_desk.index.errors import ForeignDeskError

from tests.conftest import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_ci_runs_the_readme_test_command() -> None:
    assert "scripts/test\n" in README
    assert "scripts/setup && .venv/bin/foreign-desk ask" in README
    assert "scripts/test" in (ROOT / ".ci" / "run").read_text()
    for script in ("scripts/setup", "scripts/test", ".ci/run"):
        assert (ROOT / script).stat().st_mode & 0o111, f"{script} is not executable"


def sections() -> list[tuple[str | None, object]]:
    defaults = Settings()
    out: list[tuple[str | None, object]] = [(None, defaults), ("discord", BotSettings())]
    for field in dataclasses.fields(defaults):
        value = getattr(defaults, field.name)
        if dataclasses.is_dataclass(value):
            out.append((field.name, value))
    return out


def test_every_setting_is_in_the_configuration_reference() -> None:
    missing = []
    for section, defaults in sections():
        if section is not None and f"[{section}]" not in README:
            missing.append(f"[{section}]")
        for field in dataclasses.fields(defaults):  # type: ignore[arg-type]
            if field.name == "extra" or dataclasses.is_dataclass(getattr(defaults, field.name)):
                continue
            if not re.search(rf"^{field.name} = ", README, re.MULTILINE):
                missing.append(f"{section or 'top level'}.{field.name}")
    assert not missing, f"settings missing from README: {missing}"


def error_table_patterns() -> list[re.Pattern[str]]:
    """The first quoted message of each row of "What the error lines mean", as a pattern: ``N``,
    ``M``, ``PATH``, ``URL`` and ``...`` stand for any text."""
    table = README.split("What the error lines mean:\n\n", 1)[1].split("\n\n", 1)[0]
    patterns = []
    for row in table.splitlines()[2:]:
        quoted = re.match(r"\| `(.+?)`", row)
        assert quoted, f"a row without a quoted message: {row}"
        pattern = re.sub(r"\\\.\\\.\\\.|\b(?:N|M|PATH|URL)\b", ".+", re.escape(quoted.group(1)))
        patterns.append(re.compile(pattern))
    return patterns


def real_error_messages(tmp_path: Path) -> list[str]:
    """What the code says for some of the table's errors, made by the code that says it."""
    from foreign_desk.bot.discord.answers import AnswerStore
    from foreign_desk.bot.options import require_utf8
    from foreign_desk.index.config import SearchSettings
    from foreign_desk.index.fetch.feed import parse_feed
    from foreign_desk.index.search.request import SearchRequest
    from foreign_desk.index.sqlite import database_problem, refuse_newer
    from foreign_desk.index.store.schema import MIGRATIONS

    page = b'<html><head><link rel="alternate" type="application/rss+xml" href="/rss"></head></html>'
    garbage = tmp_path / "foreign-desk.sqlite3"
    garbage.write_bytes(b"not a database, " * 512)
    newer = tmp_path / "bot"
    newer.mkdir()
    sqlite3.connect(newer / "discord.sqlite3").execute("PRAGMA user_version = 999").connection.close()
    calls = [
        lambda: SearchRequest.of("a" * 1001, SearchSettings()),
        lambda: refuse_newer(MIGRATIONS[-1][0] + 1, MIGRATIONS, "schema_migrations"),
        lambda: asyncio.run(AnswerStore.open(newer, ttl_s=60.0)),
        lambda: require_utf8(["ask", "caf\udce9"]),
        lambda: parse_feed(page, url="https://news.example/world"),
        lambda: sqlite3.connect(garbage).execute("SELECT * FROM sqlite_master"),
    ]
    messages = []
    for call in calls:
        with pytest.raises(Exception) as caught:
            call()
        error = caught.value
        messages.append(database_problem(error) if isinstance(error, sqlite3.Error) else str(error))
    return messages


def test_the_error_table_quotes_the_real_messages(tmp_path: Path) -> None:
    patterns = error_table_patterns()
    unquoted = [m for m in real_error_messages(tmp_path) if not any(p.match(m) for p in patterns)]
    assert not unquoted, f"messages the README's error table misquotes: {unquoted}"


def test_the_json_example_shows_the_id_of_the_path_it_shows() -> None:
    """An article's id is made from its path: the example showed the id of a clone elsewhere."""
    from foreign_desk.index.article import Article

    example = README.split("`ask --json` prints exactly one object:\n\n```json\n", 1)[1].split("```", 1)[0]
    (shown,) = re.findall(r'"id": "([0-9a-f]{16})"', example)
    (path,) = set(re.findall(r'"path": "([^"]+)"', example))
    assert shown == Article("headline", (), path=path).id
    assert path in example.split('"citation": ', 1)[1]  # the citation names the same file


def test_the_configuration_and_token_errors_are_quoted_as_they_read() -> None:
    from foreign_desk.bot.discord.runner import REJECTED
    from foreign_desk.bot.discord.settings import read_token
    from foreign_desk.index.config import load_settings

    with pytest.raises(ForeignDeskError) as bound:
        load_settings(environ={"FOREIGN_DESK_SEARCH_K": "0"})
    assert f"`{bound.value}`" in README
    with pytest.raises(ForeignDeskError) as token:
        read_token({})
    assert f"error: {token.value}\n" in README and f"error: {REJECTED}\n" in README
