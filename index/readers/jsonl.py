"""JSON Lines corpora: one article per line with ``title``, ``text`` and optional metadata.

Keys: ``title``, ``text`` (paragraphs separated by blank lines), ``url``, ``source``,
``published`` (ISO 8601), ``language``, ``author``. A broken line is reported with its line
number and reading goes on, so one bad row never costs the rest of a large corpus; past
``MAX_PROBLEMS_LISTED`` bad lines in a file the rest are only counted.
"""

from __future__ import annotations

import codecs
import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

from foreign_desk.index.article import Article, ReadProblem
from foreign_desk.index.errors import ReaderError
from foreign_desk.index.readers.common import decode, make_article, problem, shape_blocks, split_paragraphs

log = logging.getLogger(__name__)

MAX_LINE_BYTES = 10_000_000
"""A line longer than this is not an article: reported, and read past in bounded chunks."""
MAX_PROBLEMS_LISTED = 20
"""Bad lines reported one by one per file; the rest are counted in one last problem (a log
saved as ``.jsonl`` would otherwise report, log and carry every one of its lines)."""
_SKIP_BYTES = 1 << 20
NOT_JSON_LINES = (
    "not JSON Lines (an array, or objects over several lines): "
    "write each article as one JSON object on a line"
)


def read(path: Path) -> Iterator[Article | ReadProblem]:
    """Yield each line's article in file order, or a ``ReadProblem`` for that line."""
    try:
        handle = path.open("rb")
    except OSError as exc:
        yield problem(path, f"cannot read file: {exc.strerror or exc}")
        return
    with handle:
        yield from _rows(path, handle)


def _rows(path: Path, handle: BinaryIO) -> Iterator[Article | ReadProblem]:
    seen_any = False
    unlisted = 0
    listed = 0
    for number, raw, size in _lines(handle):
        if not raw.strip():
            continue
        if not seen_any and (why := _not_json_lines(raw)):
            yield problem(path, why)
            return
        seen_any = True
        try:
            yield _article(path, number, raw, size)
        except ReaderError as exc:
            if listed < MAX_PROBLEMS_LISTED:
                listed += 1
                yield problem(path, str(exc), line=number)
            else:
                unlisted += 1
    if unlisted:
        yield problem(path, f"… and {unlisted:,} more bad lines (not listed)")
    if not seen_any:
        yield problem(path, "empty file")


def _not_json_lines(first: bytes) -> str | None:
    """Why a file whose first line is ``first`` holds no JSON Lines at all, or None: binary, or
    JSON written otherwise (an array of articles, objects over several lines: a line that is
    ``[...`` or a lone ``{`` is no article), which would be reported a line at a time, cryptically."""
    if b"\x00" in first:
        return "binary file (NUL bytes), not JSON Lines"
    line = first.strip().removeprefix(codecs.BOM_UTF8)
    if line == b"{" or line.startswith(b"["):
        return NOT_JSON_LINES
    return None


def _lines(handle: BinaryIO) -> Iterator[tuple[int, bytes, int]]:
    """(number, line, its length in bytes); a line over ``MAX_LINE_BYTES`` comes cut there and
    the rest of it is skipped, so no line is ever held whole past the limit."""
    number = 0
    while raw := handle.readline(MAX_LINE_BYTES + 1):
        number += 1
        size = len(raw)
        if size > MAX_LINE_BYTES and not raw.endswith(b"\n"):
            size += _skip_rest_of_line(handle)
        yield number, raw, size


def _skip_rest_of_line(handle: BinaryIO) -> int:
    """Reads past the end of the current line a chunk at a time; the bytes skipped."""
    skipped = 0
    while chunk := handle.readline(_SKIP_BYTES):
        skipped += len(chunk)
        if chunk.endswith(b"\n"):
            break
    return skipped


def _article(path: Path, number: int, raw: bytes, size: int) -> Article:
    if size > MAX_LINE_BYTES:
        raise ReaderError(f"line is {size:,} bytes, too large for one article")
    line = decode(raw, what="line")
    try:
        row: Any = json.loads(line)
    except json.JSONDecodeError as exc:
        raise ReaderError(f"broken JSON: {exc.msg} (column {exc.colno})") from None
    except RecursionError:
        raise ReaderError("JSON nested too deeply") from None
    except ValueError:  # an integer of thousands of digits (int_max_str_digits)
        raise ReaderError("a number in the JSON is too long") from None
    if not isinstance(row, dict):
        raise ReaderError(f"expected a JSON object, got {type(row).__name__}")
    for key in ("text", "title"):
        value = row.get(key)
        if value is not None and not isinstance(value, str):
            raise ReaderError(f"{key!r} must be a string, not {type(value).__name__}")
        if not value or not value.strip():
            raise ReaderError(f"missing {key!r}")
    text = row["text"]
    blocks = shape_blocks(split_paragraphs(text))
    return make_article(path=path, title=row["title"], blocks=blocks, meta=row, locator=f"line {number}")
