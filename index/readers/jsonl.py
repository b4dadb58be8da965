"""JSON Lines corpora: one article per line with ``title``, ``text`` and optional metadata.

Keys: ``title``, ``text`` (paragraphs separated by blank lines), ``url``, ``source``,
``published`` (ISO 8601), ``language``, ``author``. A broken line is reported with its line
number and reading goes on, so one bad row never costs the rest of a large corpus.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from foreign_desk.index.errors import ReaderError
from foreign_desk.index.models import Article, ReadProblem
from foreign_desk.index.readers.common import decode, make_article, problem, shape_blocks, split_paragraphs

log = logging.getLogger(__name__)

MAX_LINE_BYTES = 10_000_000


def read(path: Path) -> Iterator[Article | ReadProblem]:
    """Yield each line's article in file order, or a ``ReadProblem`` for that line."""
    try:
        handle = path.open("rb")
    except OSError as exc:
        yield problem(path, f"cannot read file: {exc.strerror or exc}")
        return
    seen_any = False
    with handle:
        for number, raw in enumerate(handle, start=1):
            if not raw.strip():
                continue
            seen_any = True
            if number == 1 and b"\x00" in raw:
                yield problem(path, "binary file (NUL bytes), not JSON Lines")
                return
            try:
                yield _article(path, number, raw)
            except ReaderError as exc:
                yield problem(path, str(exc), line=number)
    if not seen_any:
        yield problem(path, "empty file")


def _article(path: Path, number: int, raw: bytes) -> Article:
    if len(raw) > MAX_LINE_BYTES:
        raise ReaderError(f"line is {len(raw):,} bytes, too large for one article")
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
    text = row.get("text")
    if not isinstance(text, str) or not text.strip():
        raise ReaderError("missing 'text'")
    if not isinstance(row.get("title"), str) or not row["title"].strip():
        raise ReaderError("missing 'title'")
    blocks = shape_blocks(split_paragraphs(text))
    return make_article(path=path, title=row["title"], blocks=blocks, meta=row, locator=f"line {number}")
