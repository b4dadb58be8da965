"""The distribution installs one top-level package, ``foreign_desk``, and no ``index`` or ``bot``."""

from __future__ import annotations

import ast
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BARE = {"index", "bot"}


def _python_files() -> list[Path]:
    folders = ("index", "bot", "foreign_desk", "tests", "bench")
    return [p for f in folders for p in (ROOT / f).rglob("*.py") if not (ROOT / f).is_symlink()]


def _bare_imports(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        else:
            continue
        found += [f"{path.relative_to(ROOT)}:{node.lineno} {n}" for n in names if n.split(".")[0] in BARE]
    return found


def test_no_module_imports_the_bare_index_or_bot_names() -> None:
    found = [hit for path in _python_files() for hit in _bare_imports(path)]
    assert not found, "import foreign_desk.index / foreign_desk.bot instead:\n" + "\n".join(found)


def test_every_package_folder_is_listed_in_pyproject() -> None:
    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    on_disk = {
        "foreign_desk." + ".".join(init.parent.relative_to(ROOT).parts)
        for top in ("index", "bot")
        for init in (ROOT / top).rglob("__init__.py")
    }
    assert on_disk - listed == set(), "add these to [tool.setuptools] packages"


def test_python_dash_m_foreign_desk_runs_the_cli() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "foreign_desk", "--help"], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert "Usage: foreign-desk" in done.stdout


@pytest.mark.slow
def test_the_installed_package_lives_beside_another_bot_package(tmp_path: Path) -> None:
    """A wheel holds only ``foreign_desk`` (code and shipped corpus); installed next to a
    distribution that has its own ``bot`` package, both import."""
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]
    wheels = tmp_path / "wheels"
    subprocess.run(
        [*pip, "wheel", "--no-deps", "--no-build-isolation", "-w", str(wheels), str(ROOT)],
        check=True,
        timeout=300,
        cwd=tmp_path,
    )
    (wheel,) = wheels.glob("foreign_desk-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert {n.split("/")[0] for n in names if ".dist-info/" not in n} == {"foreign_desk"}
    assert "foreign_desk/corpus/feeds.toml" in names
    assert {"foreign_desk/bot/discord/locales/en.po", "foreign_desk/bot/discord/locales/id.po"} <= set(names)

    other = tmp_path / "other"
    (other / "bot").mkdir(parents=True)
    (other / "bot" / "__init__.py").write_text("WHO = 'another bot'\n")
    (other / "pyproject.toml").write_text(
        '[build-system]\nrequires = ["setuptools"]\nbuild-backend = "setuptools.build_meta"\n'
        '[project]\nname = "another-bot"\nversion = "1.0"\n[tool.setuptools]\npackages = ["bot"]\n'
    )
    site = tmp_path / "site"
    for target in (str(wheel), str(other)):
        subprocess.run(
            [*pip, "install", "--no-deps", "--no-build-isolation", "--target", str(site), target],
            check=True,
            timeout=300,
            cwd=tmp_path,
        )
    code = (
        "import bot, foreign_desk.index.engine as e, foreign_desk.bot.cli;"
        "print(bot.WHO); print(e.__file__); print(e.SHIPPED_CORPUS.is_dir())"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
        env={"PYTHONPATH": str(site), "PATH": "/usr/bin:/bin"},
    )
    assert done.returncode == 0, done.stderr
    who, engine_file, corpus_ok = done.stdout.split("\n")[:3]
    assert who == "another bot"
    assert engine_file.startswith(str(site))
    assert corpus_ok == "True"
