"""Plain-text articles: the headline on the first line, then paragraphs separated by blank lines.

The first line is the headline whatever follows it: a blank line, or the text at once (a
headline of 40-100 characters over hard-wrapped lines would otherwise be unwrapped into them).

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
from foreign_desk.index.text import normalise

log = logging.getLogger(__name__)

ONE_LINE = "no body text: the first line is the headline, the article's text goes below it"


def read(path: Path) -> Iterator[Article | ReadProblem]:
    """Yield the one article in ``path``, or a ``ReadProblem`` saying why it can't be read."""
    try:
        title, _, body = normalise(load_text(path)).strip().partition("\n")  # \u2028 is a line end
        if not body:  # the whole article on one line, or only a headline
            raise ReaderError(ONE_LINE)
        yield make_article(path=path, title=title, blocks=shape_blocks(split_paragraphs(body)))
    except ReaderError as exc:
        yield problem(path, str(exc))
