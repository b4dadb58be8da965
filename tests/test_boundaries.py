"""The layers' boundaries, checked on the source: what the engine's import pulls in, and that
only the engine's core reaches its store (see docs/architecture.md)."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

CORE = ("index/engine.py", "index/search/", "index/indexing/", "index/store/")
"""The engine's core: the only modules that may use the store."""


def sources(*folders: str) -> list[Path]:
    return sorted(p for folder in folders for p in (ROOT / folder).rglob("*.py"))


def relative(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def test_importing_the_engine_loads_no_feed_or_discord_library() -> None:
    code = (
        "import sys, foreign_desk.index.engine\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'aiohttp', 'feedparser', 'discord'}))"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_importing_the_engine_loads_neither_indexing_nor_the_article_date_parser() -> None:
    """A process that only answers (the CLI's ``ask``) pays no import it does not use: compiling
    the article-date parser's patterns was ~10 ms of each cold start, the store's writer ~3 ms."""
    code = (
        "import sys, foreign_desk.index.engine\n"
        "print(sorted(m for m in sys.modules if m.startswith(('foreign_desk.index.indexing', "
        "'foreign_desk.index.dates', 'foreign_desk.index.store.writer'))))"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


ASK_THEN_LIST_MODULES = """
import sys
from foreign_desk.bot.entry import main

data_dir, question, prefixes = sys.argv[1], sys.argv[2], tuple(sys.argv[3:])
sys.argv = ["foreign-desk", "--data-dir", data_dir, "ask", "--json", question]
try:
    main()
finally:
    print(sorted(m for m in sys.modules if m.startswith(prefixes)), file=sys.stderr)
"""
ONLY_OTHER_COMMANDS_USE = (
    "foreign_desk.index.indexing",
    "foreign_desk.index.progress",
    "foreign_desk.index.article",
    "foreign_desk.index.readers",
    "foreign_desk.index.dates",
    "foreign_desk.index.store.writer",
    "foreign_desk.index.feeds",
    "foreign_desk.index.fetch",
    "foreign_desk.bot.discord",
    "discord",
    "aiohttp",
    "feedparser",
    "rich.table",
    "tempfile",
    "tomllib",
    "calendar",
)
"""What indexing, the feeds, the Discord bot, ``feedback export`` and a config file need (and
``calendar``: what no answer needs since ``asked_dates`` computes month ends)."""


def test_answering_from_the_command_line_loads_only_what_answering_uses(sample_copy: Path) -> None:
    """``foreign-desk ask`` starts cold every time: each module only another command uses was
    import time before its answer (the bot's answer store and rich's tables were ~10 ms)."""
    env = {k: v for k, v in os.environ.items() if k != "FOREIGN_DESK_CONFIG"}
    command = [sys.executable, "-c", ASK_THEN_LIST_MODULES, str(sample_copy), "who visited Japan?"]
    done = subprocess.run(
        [*command, *ONLY_OTHER_COMMANDS_USE], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["results"]
    assert done.stderr.strip().splitlines()[-1] == "[]"


def test_checking_a_discord_table_loads_no_discord_library(sample_copy: Path, tmp_path: Path) -> None:
    """Every command checks ``[discord]`` (as every other table) when the file has one: that
    costs an ``ask`` the bot's settings module, never discord.py (~0.3 s of a cold start)."""
    config = tmp_path / "fd.toml"
    config.write_text("[discord]\ncooldown_s = 5\n")
    env = {**os.environ, "FOREIGN_DESK_CONFIG": str(config)}
    command = [sys.executable, "-c", ASK_THEN_LIST_MODULES, str(sample_copy), "who visited Japan?"]
    done = subprocess.run(
        [*command, "discord", "aiohttp"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr.strip().splitlines()[-1] == "[]"


def store_uses(tree: ast.AST) -> list[str]:
    """Imports of the store package and ``.store`` attribute reads (``engine.store``), with lines."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and ".store" in f".{node.module}":
            if node.module.split(".")[-1] == "store" or ".store." in f".{node.module}.":
                found.append(f"{node.lineno}: from {node.module} import ...")
        elif isinstance(node, ast.Import):
            found += [f"{node.lineno}: import {a.name}" for a in node.names if ".store" in a.name]
        elif isinstance(node, ast.Attribute) and node.attr == "store":
            found.append(f"{node.lineno}: .store")
    return found


@pytest.mark.parametrize("path", sources("index", "bot"), ids=relative)
def test_only_the_engine_core_touches_the_store(path: Path) -> None:
    if relative(path).startswith(CORE):
        return
    assert store_uses(ast.parse(path.read_text(encoding="utf-8"))) == [], (
        "ask the Engine (index/engine.py) instead of reaching into its store"
    )


def private_imports(tree: ast.AST) -> list[str]:
    """``from module import _name``: a module's private names are its own business."""
    return [
        f"{node.lineno}: from {node.module} import {alias.name}"
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom)
        for alias in node.names
        if alias.name.startswith("_") and not alias.name.startswith("__")
    ]


@pytest.mark.parametrize("path", sources("index", "bot"), ids=relative)
def test_no_module_imports_another_modules_private_names(path: Path) -> None:
    assert private_imports(ast.parse(path.read_text(encoding="utf-8"))) == []


def test_the_cli_is_assembled_without_an_import_cycle() -> None:
    """The feed commands import the shared helpers, not the group: loading them alone loads no cli."""
    code = (
        "import sys, foreign_desk.bot.cli_feeds\n"
        "assert 'foreign_desk.bot.cli' not in sys.modules\n"
        "from foreign_desk.bot.cli import cli\n"
        "print(sorted(cli.commands))"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert {"feeds", "fetch", "ingest", "ask", "index"} <= set(ast.literal_eval(out.stdout))


FORBIDDEN = {
    # importer (path prefix): imported foreign_desk modules it may not use (docs/architecture.md)
    "index/": ("foreign_desk.bot",),
    "index/store/": ("foreign_desk.index.search", "foreign_desk.index.indexing", "foreign_desk.index.engine"),
    "index/search/": ("foreign_desk.index.feeds", "foreign_desk.index.fetch", "foreign_desk.index.engine"),
    "index/indexing/": ("foreign_desk.index.feeds", "foreign_desk.index.engine"),
    "index/engine.py": ("foreign_desk.index.feeds",),
    "bot/": ("foreign_desk.index.search", "foreign_desk.index.indexing"),
}


def imported(tree: ast.AST) -> list[str]:
    names = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
        elif isinstance(node, ast.Import):
            names += [a.name for a in node.names]
    return names


@pytest.mark.parametrize("path", sources("index", "bot"), ids=relative)
def test_layers_import_only_the_layers_below(path: Path) -> None:
    where = relative(path)
    banned = [m for prefix, mods in FORBIDDEN.items() if where.startswith(prefix) for m in mods]
    wrong = [
        name
        for name in imported(ast.parse(path.read_text(encoding="utf-8")))
        if name.startswith(tuple(banned))
    ]
    assert wrong == []
