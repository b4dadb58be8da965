"""The values that flow through search: passages stored, results and answers out.

They are plain frozen dataclasses so search, the store and the front ends can share them
without importing each other. What readers make (``index.article``) and what an indexing run
reports (``index.progress``) live apart: a process that only answers never builds
those classes (each dataclass costs ~0.5 ms of a cold start to make).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from typing import Any


def less_related_from(matches: Sequence[str]) -> int:
    """How many of a page's passages, of these levels (``Result.match``) in the order shown, come
    before "Less closely related:": all but its last run of ``"none"`` (``Answer.related``; the
    votes' export reads the pages kept with them the same way)."""
    at = len(matches)
    while at and matches[at - 1] == "none":
        at -= 1
    return at


def published_day(published: str | None, local_day: str | None) -> str | None:
    """The day an article was published as its outlet printed it (``local_day``, else the UTC
    day of ``published``): what citations show, ``--since`` compares and questions prefer,
    while ``published`` orders by instant. Stores made before ``local_day`` existed have none."""
    return local_day or (published[:10] if published else None)


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
    match: str = "strong"
    """How closely it relates, by the rule that labels the answer (``Answer.match``) applied to
    this passage alone: ``"strong"``, ``"weak"``, or ``"none"`` (below the noise level: shown
    to fill the page, not as an answer; pages mark where these begin). A listing of a period's
    articles (``Answer.period_articles``) is ``"weak"`` throughout."""


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
    linked: ArticleSummary | None = None
    """The article in the corpus a link in the question names: what was asked about
    (``asked_links``)."""
    period_articles: bool = False
    """The question named only a time ("what happened in March 2025?"): the results are the
    first passages of the articles published then, newest first, not passages that answer it
    (``match`` is ``"weak"``; ``search.period``). Also when it asked only for the newest news
    ("what's new?"): the newest articles, and ``understood`` names no days."""

    @property
    def related(self) -> int:
        """How many of ``results`` come before the passages that relate less: the page's last run
        of passages below the noise level (``Result.match`` ``"none"``), where front ends put
        "Less closely related:". All of them when the page ends on a passage above it, and for a
        listing of a period's articles. A run, not the first such passage: nothing above the
        noise level is ever shown under the divider (measured: README, "Quality")."""
        if self.period_articles or self.match == "none":
            return len(self.results)
        return less_related_from([r.match for r in self.results])


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
