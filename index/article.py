"""What readers make: an article (its blocks of text, where it came from) and the problems met
reading files. Shared by the readers, cleaning, chunking, fetching and the indexer; a process
that only answers questions never imports it."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

BlockKind = Literal["paragraph", "heading", "standfirst"]


@dataclass(frozen=True, slots=True)
class Block:
    """One piece of an article body in reading order: a paragraph or a section heading."""

    text: str
    kind: BlockKind = "paragraph"


MAX_URL_CHARS = 2_048
"""The longest article or feed address kept or fetched: a longer one is dropped (an article from
a file is kept without a link) or refused (a fetch), never cut, since a cut URL is a wrong link.
2,048 is the sitemaps protocol's ceiling (Discord links only 512)."""


@dataclass(frozen=True, slots=True)
class Article:
    """An article as a reader found it, before cleaning and chunking.

    ``published`` is an ISO 8601 string in UTC: ``YYYY-MM-DD`` when only the day is known,
    ``YYYY-MM-DDTHH:MM:SSZ`` otherwise, so that string order is time order. ``local_day`` is
    the calendar day the outlet printed (``YYYY-MM-DD`` in its own time zone) when that is not
    ``published``'s UTC day, else None: citations and date filters use ``published_day``.
    ``path`` is the file it came from (``None`` for fetched pages) and ``locator`` tells
    where inside that file (``line 3`` of a JSON Lines file), so errors and citations
    can point at it. ``url`` is the article's identity (a page's canonical form,
    ``index.fetch.urls``: "www." and trailing slashes dropped, query sorted), ``link`` the
    address as the page gave it when that differs: what a citation links (``address``).
    ``copy`` marks a servers' own version of a page others hold another version of (a token
    that makes its key unique: ``index.feeds.versions``); None for the page's first version.
    """

    title: str
    blocks: tuple[Block, ...]
    source: str | None = None
    url: str | None = None
    published: str | None = None
    language: str | None = None
    author: str | None = None
    path: str | None = None
    locator: str | None = None
    local_day: str | None = None
    link: str | None = None
    copy: str | None = None

    @property
    def address(self) -> str | None:
        """Where a reader finds the article: the link as given, else the URL."""
        return self.link or self.url

    @property
    def key(self) -> str:
        """Stable identity across reindexing: the URL when known, else file and place in it."""
        if self.url:
            return f"url:{self.url}#copy:{self.copy}" if self.copy else f"url:{self.url}"
        where = self.path or ""
        return f"file:{where}#{self.locator}" if self.locator else f"file:{where}"

    @property
    def id(self) -> str:
        """Short public id derived from ``key`` (what ``--json`` calls ``article.id``)."""
        import hashlib  # here: a process that only answers never needs it (~1.5 ms of a cold start)

        return hashlib.sha1(self.key.encode("utf-8")).hexdigest()[:16]

    @property
    def paragraphs(self) -> list[str]:
        """The body text blocks, headings left out."""
        return [b.text for b in self.blocks if b.kind != "heading"]


@dataclass(frozen=True, slots=True)
class ReadProblem:
    """A file or part of a file that could not be read; reported and skipped."""

    path: str
    reason: str
    line: int | None = None

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line is not None else self.path
        return f"{where}: {self.reason}"


MAX_PROBLEMS = 1_000
"""Problems an indexing run keeps to report; past them it only counts (a corpus of a million
broken files must not fill memory or a screen)."""


class Problems(list[ReadProblem]):
    """A run's problems: the first ``limit`` kept in order, the rest only counted (``more``)."""

    def __init__(self, problems: Iterable[ReadProblem] = (), *, limit: int = MAX_PROBLEMS) -> None:
        super().__init__()
        self.limit, self.more = limit, 0
        self.extend(problems)

    def append(self, problem: ReadProblem) -> None:
        if len(self) < self.limit:
            super().append(problem)
        else:
            self.more += 1

    def extend(self, problems: Iterable[ReadProblem]) -> None:
        for problem in problems:
            self.append(problem)

    @property
    def total(self) -> int:
        """Kept and counted."""
        return len(self) + self.more
