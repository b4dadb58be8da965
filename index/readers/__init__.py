"""Corpus readers: find article files and turn each into ``Article`` values.

``discover`` expands the paths a user names into the files to read; ``read_path`` picks the
reader for a file by its suffix. Neither raises for bad input: what cannot be read comes
back as a ``ReadProblem`` so that indexing reports it and goes on with the rest.
"""

from __future__ import annotations

import errno
import importlib
import logging
import os
import stat
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
    ".html.gz": "html",
    ".htm.gz": "html",
}
SUPPORTED_SUFFIXES = frozenset(READERS)

NOT_ARTICLES = frozenset({"readme", "license", "licence", "changelog", "contributing", "notice", "authors"})
"""File stems that sit beside a corpus but are not articles (``README.md``, ``LICENSE.txt``)."""

__all__ = ["READERS", "SUPPORTED_SUFFIXES", "discover", "read_path", "shown", "unusable"]


def file_kind(path: Path) -> str:
    """The suffix that picks a reader, lower case: ``.html.gz`` whole, otherwise the last one."""
    name = path.name.lower()
    return next((s for s in SUPPORTED_SUFFIXES if "." in s[1:] and name.endswith(s)), path.suffix.lower())


def _is_article_file(path: Path) -> bool:
    kind = file_kind(path)
    return (
        kind in SUPPORTED_SUFFIXES
        and not path.name.startswith(".")
        and path.name[: -len(kind)].lower() not in NOT_ARTICLES
    )


def discover(paths: Iterable[str | Path]) -> tuple[list[Path], list[ReadProblem]]:
    """The article files under ``paths``, resolved, in a stable order, and what was missing.

    Folders are walked recursively in sorted order, skipping hidden files and folders and
    files that are not articles (``feeds.toml``, ``README.md``). A file named explicitly
    must still have a supported suffix. A path that does not exist, a symlink loop and a
    name that is not UTF-8 (which no citation could show) are each one ``ReadProblem``.
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
        if (why := unusable(path)) is not None:
            problems.append(problem(shown(path.absolute()), why))
        elif path.is_dir():
            found, trouble = _walk(path)
            problems.extend(trouble)
            for file in found:
                add(file)
        elif file_kind(path) in SUPPORTED_SUFFIXES:
            add(path)
        else:
            kinds = ", ".join(sorted(SUPPORTED_SUFFIXES))
            problems.append(problem(path.absolute(), f"unsupported file type (expected {kinds})"))
    return files, problems


def shown(path: Path | str) -> str:
    """``path`` as text that can be printed and stored: bytes that are not UTF-8 as ``\\xff``."""
    return os.fsencode(path).decode("utf-8", "backslashreplace")


def unusable(path: Path) -> str | None:
    """Why ``path`` cannot be read as an article file or folder, or ``None``."""
    if shown(path) != str(path):
        return "the name is not UTF-8: rename it"
    try:
        mode = path.stat().st_mode
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return "symlink loop"
        if exc.errno == errno.ENOENT:
            return "broken symlink" if path.is_symlink() else "no such file or folder"
        return f"cannot read: {exc.strerror or exc}"
    if not (stat.S_ISDIR(mode) or stat.S_ISREG(mode)):
        return "not a regular file or folder"
    return None


def _walk(root: Path) -> tuple[list[Path], list[ReadProblem]]:
    """Article files under ``root`` sorted by their path inside it (``a.md`` < ``sub/b.md``),
    and a problem for each that cannot be read (a name that is not UTF-8, a broken link)."""
    found: list[Path] = []
    problems: list[ReadProblem] = []
    for folder, dirs, names in os.walk(root):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        for candidate in (Path(folder, n) for n in names):
            if not _is_article_file(candidate):
                continue
            why = unusable(candidate)
            if why is None:
                found.append(candidate)
            else:
                problems.append(problem(shown(candidate), why))
    return sorted(found, key=lambda p: p.relative_to(root).parts), problems


def read_path(path: Path) -> Iterator[Article | ReadProblem]:
    """Articles in ``path`` (or ``ReadProblem`` values for what can't be read), by suffix."""
    path = Path(path).resolve()
    kind = file_kind(path)
    module_name = READERS.get(kind)
    if module_name is None:
        yield problem(path, f"unsupported file type {kind or '(none)'}")
        return
    reader = _reader(module_name)
    if reader is None:
        yield problem(path, f"no reader for {kind} files is installed")
        return
    try:
        yield from reader(path)
    except Exception as exc:  # a reader's bug costs this file, not the whole run; the log has it
        log.error("reading %s failed", shown(path), exc_info=True)
        yield problem(shown(path), f"reader failed ({type(exc).__name__}: a bug, the log has the details)")


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
