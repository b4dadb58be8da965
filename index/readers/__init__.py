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
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from foreign_desk.index.article import Article, ReadProblem
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
SIDECARS = NOT_ARTICLES | {"feeds"}
"""File stems beside a corpus of any type (``LICENSE``, the shipped ``feeds.toml``): not
counted among the files of unsupported types a run passed over."""

__all__ = ["READERS", "SUPPORTED_SUFFIXES", "discover", "read_path", "shown", "unusable"]


def file_kind(path: Path) -> str:
    """The suffix that picks a reader, lower case: ``.html.gz`` whole, otherwise the last one."""
    name = path.name.lower()
    return next((s for s in SUPPORTED_SUFFIXES if "." in s[1:] and name.endswith(s)), path.suffix.lower())


def _is_article_file(path: Path) -> bool:
    kind = file_kind(path)
    hidden = path.name.startswith(".")
    return kind in SUPPORTED_SUFFIXES and not hidden and _stem(path, kind) not in NOT_ARTICLES


def _stem(path: Path, kind: str) -> str:
    return path.name[: len(path.name) - len(kind)].lower()


def _unsupported(path: Path) -> str | None:
    """The type of a file no reader takes (``.csv``, ``(none)``), to count it: None for an
    article's, a hidden file's or a sidecar's (``feeds.toml``), which are no mistake."""
    kind = file_kind(path)
    if kind in SUPPORTED_SUFFIXES or path.name.startswith(".") or _stem(path, kind) in SIDECARS:
        return None
    return kind or "(none)"


def discover(
    paths: Iterable[str | Path], links: dict[str, Path] | None = None, others: Counter[str] | None = None
) -> tuple[list[Path], list[ReadProblem]]:
    """The article files under ``paths``, resolved, in a stable order, and what was missing.

    Folders are walked recursively in sorted order, skipping hidden files and folders and
    files that are not articles (``feeds.toml``, ``README.md``). Linked folders are walked
    too, each real folder once. Each link walked or read inside the folders goes into ``links``
    (where it is, its folder resolved → its real path): files are listed by real path, so that
    is where a run's ``--prune`` must look, and must still look once the link is gone. A file named
    explicitly must still have a supported suffix. A path that does not exist, a folder that
    cannot be listed, a symlink loop and a name that is not UTF-8 (which no citation could
    show) are each one ``ReadProblem``. Each file is listed once even when named twice. The
    folders' files of types no reader takes are counted in ``others`` by type (``.csv``).
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
            found, trouble = _walk(path, links, others if others is not None else Counter())
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


def _walk(
    root: Path, links: dict[str, Path] | None, others: Counter[str]
) -> tuple[list[Path], list[ReadProblem]]:
    """Article files under ``root`` sorted by their path inside it (``a.md`` < ``sub/b.md``),
    and a problem for each that cannot be read (a name that is not UTF-8, a broken link) and
    for each folder that cannot be listed (permissions, a failing mount): its files are not
    gone, so ``--prune`` must keep their articles. Files of other types are counted in ``others``."""
    found: list[Path] = []
    problems: list[ReadProblem] = []
    walked: set[tuple[int, int]] = set()

    def unlistable(exc: OSError) -> None:
        why = f"cannot read this folder: {exc.strerror or exc}; nothing under it was read or removed"
        problems.append(problem(shown(os.path.realpath(exc.filename)), why))  # a linked one too

    for folder, dirs, names in os.walk(root, onerror=unlistable, followlinks=True):
        if (denied := _cannot_enter(folder, dirs + names)) is not None:
            unlistable(denied)
            dirs.clear()
            continue
        here = Path(folder)
        dirs[:] = [d for d in sorted(dirs) if _enter(here / d, walked, links, problems)]
        for candidate in (here / n for n in names):
            article = _is_article_file(candidate)
            if not (article or _dead_link(candidate)):
                if (kind := _unsupported(candidate)) is not None:
                    others[kind] += 1
                continue
            why = unusable(candidate)
            if why is not None:
                problems.append(problem(shown(candidate), why))
            elif article:
                found.append(candidate)
                if links is not None and os.path.islink(candidate):
                    links[_where_link(candidate)] = Path(os.path.realpath(candidate))
    return sorted(found, key=lambda p: p.relative_to(root).parts), problems


def _cannot_enter(folder: str, entries: list[str]) -> OSError | None:
    """Why the entries of a folder that could be listed cannot be looked at (it may be read but
    not entered: no ``x`` permission), or None: then it is one problem, as if it could not be
    listed, not a link passed over in silence or a line for each file."""
    if not entries:
        return None
    try:
        os.lstat(os.path.join(folder, entries[0]))
    except PermissionError as exc:
        return PermissionError(exc.errno, exc.strerror, folder)
    except OSError:  # gone since it was listed: the walk reports what it meets
        pass
    return None


def _enter(
    folder: Path, walked: set[tuple[int, int]], links: dict[str, Path] | None, problems: list[ReadProblem]
) -> bool:
    """Whether the walk goes into ``folder``: not hidden, not a real folder walked already (a
    second link to it), not a link to a folder that holds it (that loop would walk itself, or
    all of ``/``). A linked folder is walked like any other; it goes into ``links``."""
    if folder.name.startswith("."):
        return False
    real = Path(os.path.realpath(folder)) if os.path.islink(folder) else None
    if real is not None and Path(os.path.realpath(folder.parent)).is_relative_to(real):
        problems.append(problem(shown(folder), "symlink loop: a link to a folder that holds it"))
        return False
    identity = _identity(folder)
    if identity is not None:
        if identity in walked:
            return False
        walked.add(identity)
    if real is not None and links is not None:
        links[_where_link(folder)] = real
    return True


def _where_link(link: Path) -> str:
    """Where ``link`` is, however the walk reached it: its folder's real path and its name."""
    return shown(os.path.join(os.path.realpath(link.parent), link.name))


def _identity(folder: Path) -> tuple[int, int] | None:
    """The real folder behind ``folder`` (device, inode), the same through any link or mount;
    None when it cannot be looked at (listing it fails too, and the walk reports that)."""
    try:
        st = folder.stat()
    except OSError:
        return None
    return st.st_dev, st.st_ino


def _dead_link(path: Path) -> bool:
    """A link without a suffix that leads nowhere: a linked folder whose drive is gone is
    reported, not passed over (its articles are kept)."""
    hidden_or_file = path.suffix or path.name.startswith(".")
    return not hidden_or_file and os.path.islink(path) and not os.path.exists(path)


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
