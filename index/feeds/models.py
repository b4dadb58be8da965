"""The values of feed ingestion and topic alerts, shared by the engine, the CLI and Discord."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Literal

from foreign_desk.index.errors import WRITER_BUSY
from foreign_desk.index.fetch.errors import FetchFailure
from foreign_desk.index.models import ArticleSummary
from foreign_desk.index.secrets import hide_secrets

INTERNAL_ERROR = "internal error: "
INDEXING_FAILED = "indexing failed: "
HOST_FAILURES = (INTERNAL_ERROR, INDEXING_FAILED)
"""How a recorded failure begins that is the host's own, not the feed's or the page's: a bug met,
or a store that could not take what was fetched (a full disk). The rest of its text may name the
host's files; front ends show it to the operators only (``host_failure_at``), the log has it."""


def internal_error(exc: BaseException) -> str:
    """The failure recorded for a bug met on a feed or a page (its traceback goes to the log)."""
    return f"{INTERNAL_ERROR}{type(exc).__name__}: {exc}"


def host_failure_at(text: str) -> int:
    """Where in ``text`` (a recorded failure, or a line quoting one) a host failure begins; -1: none."""
    return min((at for at in (text.find(marker) for marker in HOST_FAILURES) if at >= 0), default=-1)


BUSY_FAILURES = (WRITER_BUSY, "database is locked")
"""What a host failure quotes of a store another process held past the wait: the writer's lock
(``indexing failed: another process is writing to the index (<lock file>); try later``), or
SQLite's busy timeout (``internal error: OperationalError: database is locked``)."""


def busy_failure(text: str) -> bool:
    """Whether ``text``'s host failure (``host_failure_at``) is a busy store: nothing is wrong,
    and a moment later it may pass."""
    at = host_failure_at(text)
    return at >= 0 and any(marker in text[at:] for marker in BUSY_FAILURES)


Status = Literal["new", "updated", "duplicate", "unchanged", "failed"]
"""What became of one feed item or URL: stored as a new article, replaced an older version of
its article, recognised as an article already stored (same GUID, canonical URL or text),
nothing changed since the last poll, or it could not be fetched or extracted."""


@dataclass(frozen=True, slots=True)
class Feed:
    """A registered feed and its polling state (``next_poll`` in Unix seconds)."""

    id: int
    name: str
    url: str
    source: str | None
    language: str | None
    every_minutes: int
    etag: str | None = None
    last_modified: str | None = None
    added_at: str = ""
    last_polled: str | None = None
    last_success: str | None = None
    last_error: str | None = None
    failures: int = 0
    next_poll: float = 0.0
    guild_id: int | None = None
    """The scope this feed was listed in: a server, or None for the shared corpus. Its name, URL,
    language, interval and polling state are then that scope's own, as if it followed the feed
    alone (``scopes.SQL_SCOPED``); the feed itself is polled once for all its subscribers, at
    the pace and with the state of ``FeedDesk.all_feeds``."""
    last_failure: FetchFailure | None = None
    """What failed the last poll, when a fetch did: ``last_error`` apart from its words (none for
    failures recorded before it was kept, and where the stored value is damaged)."""
    catch_up_failed: bool = False
    """That scope's catch-up (what the feed brought before it subscribed) failed for days and was
    given up: some of those articles never came to it."""


@dataclass(frozen=True, slots=True)
class ItemOutcome:
    """One feed item (or ingested URL) and what became of it."""

    url: str
    status: Status
    title: str = ""
    feed: str | None = None
    article_id: str | None = None
    """The stored article: this one, or for a duplicate the article it duplicates."""
    reason: str | None = None
    """Why it failed, or what it duplicates (``same canonical URL``, ``same text``)."""
    failure: FetchFailure | None = None
    """What failed it, when its page could not be fetched: ``reason`` apart from its words."""


@dataclass(slots=True)
class FeedRun:
    """One poll of one feed: the feed-level error (if the feed itself failed) and its items."""

    feed: str
    url: str
    polled_at: float = 0.0
    not_modified: bool = False
    error: str | None = None
    retry_after: float | None = None
    next_poll: float = 0.0
    items: list[ItemOutcome] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    """What was wrong with the feed document itself, though it was read (malformed XML)."""
    failure: FetchFailure | None = None
    """What failed the feed, when it could not be fetched: ``error`` apart from its words."""

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass(frozen=True, slots=True)
class PollNote:
    """What a fetch says of a feed as soon as it is collected (``Say``): ``str()`` is the English
    line the CLI prints; the fields let a front end say it in its reader's language."""

    feed: str
    error: str | None = None
    not_modified: bool = False
    pages: int = 0
    """Article pages fetched for it."""
    decided: tuple[tuple[str, int], ...] = ()
    """(status, count) of its items decided without a page, none of them zero: duplicate,
    unchanged, failed."""
    problems: tuple[str, ...] = ()
    failure: FetchFailure | None = None
    """``error`` apart from its words, when the feed could not be fetched."""

    def __str__(self) -> str:
        if self.error:
            return f"{self.feed}: failed: {self.error}"
        if self.not_modified:
            return f"{self.feed}: not modified since the last poll"
        parts = [f"{self.pages} page(s) fetched", *(f"{n} {status}" for status, n in self.decided)]
        if self.problems:
            parts.append(f"feed problems: {'; '.join(self.problems)}")
        return f"{self.feed}: " + ", ".join(parts)


@dataclass(frozen=True, slots=True)
class Waiting:
    """A feed a fetch left alone until ``until`` (Unix seconds): the poller's next poll of it."""

    feed: str
    url: str
    until: float


@dataclass(slots=True)
class FetchReport:
    """The result of ``fetch`` (every feed or one) or ``ingest``: counts, then the details."""

    runs: list[FeedRun] = field(default_factory=list)
    generation: int = 0
    seconds: float = 0.0
    waiting: list[Waiting] = field(default_factory=list)
    """Feeds not requested: their site asked the host to wait, or they are backing off after
    failures (``FeedDesk.fetch``); the poller polls them when the wait is over."""

    @property
    def items(self) -> list[ItemOutcome]:
        return [item for run in self.runs for item in run.items]

    @property
    def counts(self) -> dict[str, int]:
        """new / updated / duplicates / unchanged / failures (items that failed plus feeds that did)."""
        c = Counter(item.status for item in self.items)
        return {
            "new": c["new"],
            "updated": c["updated"],
            "duplicates": c["duplicate"],
            "unchanged": c["unchanged"],
            "failures": c["failed"] + sum(1 for run in self.runs if not run.ok),
        }

    @property
    def failures(self) -> list[tuple[str, str, str]]:
        """(feed, URL, reason) of every failed feed and item, credentials in URLs hidden (as in
        the reasons: a report is shown in Discord and pasted into questions for help)."""
        out = [(run.feed, hide_secrets(run.url), run.error or "") for run in self.runs if not run.ok]
        failed = [i for i in self.items if i.status == "failed"]
        out += [(i.feed or "", hide_secrets(i.url), i.reason or "") for i in failed]
        return out


@dataclass(frozen=True, slots=True)
class Follow:
    """A channel following a topic."""

    id: int
    channel_id: int
    topic: str
    guild_id: int | None = None
    created_by: int | None = None
    created_at: str = ""
    locale: str | None = None
    """The server's locale ("id", "en-US"), kept up to date by ``FeedDesk.server_locale``."""


@dataclass(frozen=True, slots=True)
class Match:
    """An article that matched a follow and is not yet posted (``matched_at``: Unix seconds)."""

    follow_id: int
    channel_id: int
    topic: str
    article: ArticleSummary
    similarity: float
    matched_at: float
    guild_id: int | None = None
    """The follow's server (None: a follow of no server)."""


@dataclass(frozen=True, slots=True)
class Post:
    """One message to send to a channel: a single alert, or a digest of several.

    ``items`` are newest first; syndicated copies are folded into one item whose
    ``also_in`` names the other outlets. After sending, pass the post to ``mark_posted``:
    ``article_ids`` are every article it covers (folded copies included).
    """

    channel_id: int
    items: tuple[Match, ...]
    also_in: tuple[tuple[str, ...], ...]
    article_ids: tuple[str, ...]
    topics: tuple[str, ...]
    pending_after: int = 0
    """Matches still waiting in this channel after this post (for the next digest)."""
    nonce: str | None = None
    """Set once the post is claimed for sending (``FeedDesk.claim``): the message's nonce."""

    @property
    def digest(self) -> bool:
        return len(self.items) > 1

    @property
    def guild_id(self) -> int | None:
        """The server of the channel it goes to (its matches'), for taking turns (``digest.by_turns``)."""
        return self.items[0].guild_id if self.items else None
