"""Corpus readers: find article files and turn each into ``Article`` values.

``discover`` expands the paths a user names into the files to read; ``read_path`` picks the
reader for a file by its suffix. Neither raises for bad input: what cannot be read comes
back as a ``ReadProblem`` so that indexing reports it and goes on with the rest.
"""

from __future__ import annotations

import importlib
import logging
import os
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from foreign_desk.index.models import Article, ReadProblem
from foreign_desk.index.readers.common import problem

log = logging.getLogger(__name__)

Reader = Callable[[Path], Iterator[Article | ReadProblem]]

# suffix → module under index.readers exposing ``read(path)``; imported when first needed
READERS: dict[str, str] = {
    ".txt": "text",
    ".md": "markdown",
    ".markdown": "markdown",
    ".jsonl": "jsonl",
    ".html": "html",
    ".htm": "html",
}
SUPPORTED_SUFFIXES = frozenset(READERS)

NOT_ARTICLES = frozenset({"readme", "license", "licence", "changelog", "contributing", "notice", "authors"})
"""File stems that sit beside a corpus but are not articles (``README.md``, ``LICENSE.txt``)."""

__all__ = ["READERS", "SUPPORTED_SUFFIXES", "discover", "read_path"]


def _is_article_file(path: Path) -> bool:
    return (
        path.suffix.lower() in SUPPORTED_SUFFIXES
        and not path.name.startswith(".")
        and path.stem.lower() not in NOT_ARTICLES
    )


def discover(paths: Iterable[str | Path]) -> tuple[list[Path], list[ReadProblem]]:
    """The article files under ``paths``, resolved, in a stable order, and what was missing.

    Folders are walked recursively in sorted order, skipping hidden files and folders and
    files that are not articles (``feeds.toml``, ``README.md``). A file named explicitly
    must still have a supported suffix. A path that does not exist is a ``ReadProblem``.
    Each file is listed once even when named twice.
    """
    files: list[Path] = []
    problems: list[ReadProblem] = []
    seen: set[Path] = set()

    def add(path: Path) -> None:
        resolved = path.resolve()
        if resolved not in seen:
            seen.add(resolved)
            files.append(resolved)

    for given in paths:
        path = Path(given).expanduser()
        if path.is_dir():
            for found in _walk(path):
                add(found)
        elif path.is_file():
            if path.suffix.lower() in SUPPORTED_SUFFIXES:
                add(path)
            else:
                kinds = ", ".join(sorted(SUPPORTED_SUFFIXES))
                problems.append(problem(path.absolute(), f"unsupported file type (expected {kinds})"))
        elif path.exists():
            problems.append(problem(path.absolute(), "not a regular file or folder"))
        else:
            problems.append(problem(path.absolute(), "no such file or folder"))
    return files, problems


def _walk(root: Path) -> list[Path]:
    """Article files under ``root`` sorted by their path inside it (``a.md`` < ``sub/b.md``)."""
    found: list[Path] = []
    for folder, dirs, names in os.walk(root):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        found.extend(p for p in (Path(folder, n) for n in names) if _is_article_file(p) and p.is_file())
    return sorted(found, key=lambda p: p.relative_to(root).parts)


def read_path(path: Path) -> Iterator[Article | ReadProblem]:
    """Articles in ``path`` (or ``ReadProblem`` values for what can't be read), by suffix."""
    path = Path(path).resolve()
    module_name = READERS.get(path.suffix.lower())
    if module_name is None:
        yield problem(path, f"unsupported file type {path.suffix or '(none)'}")
        return
    reader = _reader(module_name)
    if reader is None:
        yield problem(path, f"no reader for {path.suffix} files is installed")
        return
    yield from reader(path)


def _reader(module_name: str) -> Reader | None:
    qualified = f"foreign_desk.index.readers.{module_name}"
    try:
        module = importlib.import_module(qualified)
    except ModuleNotFoundError as exc:
        if exc.name != qualified:
            raise
        return None
    read: Reader = module.read
    return read
