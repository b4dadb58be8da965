"""Shared helpers for reader tests: the fixture corpus and a way to read a file fully."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from foreign_desk.index.article import Article, ReadProblem
from foreign_desk.index.readers import read_path

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "corpus"


@pytest.fixture
def fixtures() -> Path:
    return FIXTURES


ReadAll = Callable[[Path], tuple[list[Article], list[ReadProblem]]]


def _read_all(path: Path) -> tuple[list[Article], list[ReadProblem]]:
    articles: list[Article] = []
    problems: list[ReadProblem] = []
    for item in read_path(path):
        if isinstance(item, Article):
            articles.append(item)
        else:
            problems.append(item)
    return articles, problems


@pytest.fixture
def read_all() -> ReadAll:
    """Everything ``read_path`` yields for a path, split into articles and problems."""
    return _read_all
