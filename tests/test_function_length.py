"""Functions in index/ and bot/ fit on a screen: at most 60 lines from ``def`` to their last line
(docstring included, decorators not). Split a longer one into named steps."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.conftest import ROOT

MAX_LINES = 60


def long_functions(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [
        f"{node.name} (line {node.lineno}): {node.end_lineno - node.lineno + 1} lines"
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and node.end_lineno is not None
        and node.end_lineno - node.lineno + 1 > MAX_LINES
    ]


@pytest.mark.parametrize(
    "path",
    sorted(p for folder in ("index", "bot") for p in (ROOT / folder).rglob("*.py")),
    ids=lambda p: p.relative_to(ROOT).as_posix(),
)
def test_no_function_is_longer_than_a_screen(path: Path) -> None:
    assert long_functions(path) == []


def test_the_check_sees_a_long_function(tmp_path: Path) -> None:
    body = "\n".join(f"    x{i} = {i}" for i in range(MAX_LINES))
    (tmp_path / "long.py").write_text(f"def long():\n{body}\n", encoding="utf-8")
    assert long_functions(tmp_path / "long.py") == [f"long (line 1): {MAX_LINES + 1} lines"]
