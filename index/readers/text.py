"""Plain-text articles: the headline on the first line, then paragraphs separated by blank lines.

This is the shape of the project's sample corpus (``corpus/000_*.txt``): an optional short
standfirst, a first paragraph opening with an outlet dateline, numbered section headings.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

from foreign_desk.index.article import Article, ReadProblem
from foreign_desk.index.errors import ReaderError
from foreign_desk.index.readers.common import load_text, make_article, problem, shape_blocks, split_paragraphs

log = logging.getLogger(__name__)


def read(path: Path) -> Iterator[Article | ReadProblem]:
    """Yield the one article in ``path``, or a ``ReadProblem`` saying why it can't be read."""
    try:
        text = load_text(path)
        paragraphs = split_paragraphs(text)
        title, body = paragraphs[0], paragraphs[1:]
        yield make_article(path=path, title=title, blocks=shape_blocks(body))
    except ReaderError as exc:
        yield problem(path, str(exc))
