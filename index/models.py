"""The values that flow through the engine: articles in, passages stored, results out.

They are plain frozen dataclasses so readers, the indexer, search and the front ends can
share them without importing each other.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

BlockKind = Literal["paragraph", "heading", "standfirst"]


def published_day(published: str | None, local_day: str | None) -> str | None:
    """The day an article was published as its outlet printed it (``local_day``, else the UTC
    day of ``published``): what citations show, ``--since`` compares and questions prefer,
    while ``published`` orders by instant. Stores made before ``local_day`` existed have none."""
    return local_day or (published[:10] if published else None)


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

    @property
    def address(self) -> str | None:
        """Where a reader finds the article: the link as given, else the URL."""
        return self.link or self.url

    @property
    def key(self) -> str:
        """Stable identity across reindexing: the URL when known, else file and place in it."""
        if self.url:
            return f"url:{self.url}"
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


@dataclass(frozen=True, slots=True)
class Passage:
    """A chunk of an article: what is embedded, stored and shown.

    ``text`` is the article's own words, shown to users. ``paragraphs`` are 1-based numbers
    of the article's body paragraphs that the passage covers.
    """

    text: str
    paragraphs: tuple[int, ...]
    section: str | None = None
    ordinal: int = 0


@dataclass(frozen=True, slots=True)
class ArticleRef:
    """What a result says about its article (the ``article`` object of ``--json``)."""

    id: str
    title: str
    source: str | None
    url: str | None
    published: str | None
    language: str | None
    path: str | None
    author: str | None = None
    local_day: str | None = None

    @property
    def day(self) -> str | None:
        """``published_day``: the outlet's calendar day."""
        return published_day(self.published, self.local_day)


@dataclass(frozen=True, slots=True)
class Result:
    """One cited passage of an answer."""

    rank: int
    score: float
    similarity: float
    text: str
    highlight: str
    paragraphs: tuple[int, ...]
    section: str | None
    article: ArticleRef
    citation: str
    passage_id: int
    also_in: tuple[str, ...] = ()
    own: bool = False
    """The article is the asking server's own (its feeds or pages), not the shared corpus's."""


@dataclass(frozen=True, slots=True)
class Scope:
    """Whose articles a reader may see: the shared corpus, plus the own articles (feeds and
    pages) of the server ``guild_id``. ``Scope()`` (a DM, the CLI, any other server) is the
    shared corpus alone; a server's own articles are never seen in another scope."""

    guild_id: int | None = None

    def sees(self, viewers: Collection[int | None]) -> bool:
        """Whether this scope may see an article seen by ``viewers`` (``Engine.viewers``: server
        ids, None for the shared corpus), as ``store.scopes.scope_sql`` decides in SQL."""
        return None in viewers or (self.guild_id is not None and self.guild_id in viewers)


SHARED = Scope()


@dataclass(frozen=True, slots=True)
class Filters:
    """Restrictions on which articles a search may return."""

    language: str | None = None
    source: str | None = None
    since: str | None = None
    until: str | None = None

    @property
    def empty(self) -> bool:
        return not (self.language or self.source or self.since or self.until)


@dataclass(frozen=True, slots=True)
class Answer:
    """The engine's reply to a question: results, or an honest "nothing relevant"."""

    question: str
    results: tuple[Result, ...]
    took_ms: float
    nothing_relevant: bool = False
    """True only when ``match`` is ``"none"``: nothing is shown."""
    offset: int = 0
    has_more: bool = False
    timings: dict[str, float] = field(default_factory=dict)
    """Milliseconds per stage (embed, dense, bm25, fetch, highlight), for benchmarks and logs."""
    match: str = "strong"
    """How sure: ``"strong"`` (a passage clearly answers), ``"weak"`` (shown with a caveat: no
    passage clearly answers, these are the closest) or ``"none"`` (outside the corpus)."""
    understood: dict[str, Any] = field(default_factory=dict)
    """What the question was read to ask for besides its words: ``{"published": [first, last]}``
    for the days it names (preferred, not a filter)."""


@dataclass(frozen=True, slots=True)
class ArticleSummary:
    """A line of ``latest``: an article with its lede sentence."""

    id: str
    title: str
    source: str | None
    url: str | None
    published: str | None
    language: str | None
    path: str | None
    lede: str
    own: bool = False
    """The asking server's own article (set by listings made for a server's scope)."""
    local_day: str | None = None

    @property
    def day(self) -> str | None:
        """``published_day``: the outlet's calendar day."""
        return published_day(self.published, self.local_day)


@dataclass(frozen=True, slots=True)
class SourceCount:
    """An outlet in the corpus with how many articles it has, the UTC ``published`` of its newest
    article (``latest``, which orders) and its newest day as the outlet printed it (``latest_day``,
    ``YYYY-MM-DD``: the day citations, ``/sources`` and ``/help`` show). ``stats --json`` keys:
    ``latest_day`` extends the contract, ``latest`` keeps its meaning."""

    source: str
    articles: int
    latest: str | None
    latest_day: str | None


@dataclass(frozen=True, slots=True)
class EngineStats:
    """What ``foreign-desk stats`` shows (its ``--json`` keys are these fields, in this order)."""

    data_dir: str
    generation: int
    articles: int
    passages: int
    languages: dict[str, int]
    """Articles per language code (``?``: unknown), most first."""
    sources: list[SourceCount]
    index_type: str
    vectors: int
    embedder: str | None
    """The embedder the live generation was built with (None before the first run)."""
    configured_embedder: str
    published_at: str | None
    size_bytes: int


@dataclass(slots=True)
class IndexProgress:
    """Progress of an indexing run, passed to a callback after each step.

    ``phase`` is waiting (another writer has the index), reading (``unit`` files), embedding
    (articles), writing, or done.
    """

    phase: str
    done: int = 0
    total: int = 0
    unit: str = "articles"
    passages: int = 0
    elapsed_s: float = 0.0

    def __str__(self) -> str:
        count = f" {self.done}/{self.total} {self.unit}" if self.total else ""
        return f"{self.phase}{count}, {self.passages} passages embedded, {self.elapsed_s:.0f} s"


ProgressFn = Callable[[IndexProgress], None]
"""Called after each step of an indexing run (on the event loop)."""


def waiting_notice(progress: ProgressFn | None) -> Callable[[], None] | None:
    """What tells ``progress`` that the run waits for another writer, so that a status shows
    why nothing moves (``WriterLock.hold``'s ``waiting``)."""
    if progress is None:
        return None
    return lambda: progress(IndexProgress("waiting"))


@dataclass(slots=True)
class IndexReport:
    """Summary of an indexing run."""

    articles_seen: int = 0
    articles_added: int = 0
    articles_updated: int = 0
    articles_removed: int = 0
    articles_unchanged: int = 0
    passages_added: int = 0
    passages_removed: int = 0
    passages_embedded: int = 0
    generation: int = 0
    seconds: float = 0.0
    """Until the new generation was live (answerable)."""
    problems: Problems = field(default_factory=Problems)
    articles_gone_kept: int = 0
    """Articles whose files under the run's paths are gone, kept because it did not ``prune``."""
    missing_roots: dict[str, str] = field(default_factory=dict)
    """Paths the run was given that it cannot read, with why (``no such file or folder``, ``not
    a regular file or folder``: a FIFO or device): nothing under them was read or removed."""
    # Which articles (``Article.id``) the run changed, decided under the writer lock against the
    # live generation; left out of repr (a full run lists every article).
    added_ids: list[str] = field(default_factory=list, repr=False)
    updated_ids: list[str] = field(default_factory=list, repr=False)
    """Replaced by a new version (every article in a ``--full`` run)."""
    removed_ids: list[str] = field(default_factory=list, repr=False)

    @property
    def changed_ids(self) -> list[str]:
        """The articles whose current version this run's generation added (new or updated)."""
        return self.added_ids + self.updated_ids
