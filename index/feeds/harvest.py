"""What collecting one feed produces (``Harvest``: decided outcomes, pages for the commit), and
how a feed several servers follow is decided for each of them: per page, each set of servers
that see it alike gets a part of the harvest of its own (``split``), decided as if they alone
followed the feed, and each server is told what it sees (``told``, ``as_seen``). What a server
sees and is told never depends on what the feed's other subscribers hold."""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field

from foreign_desk.index.article import Article
from foreign_desk.index.feeds.models import Feed, FeedRun, ItemOutcome, Status
from foreign_desk.index.feeds.state import ItemRecord, SeenItem
from foreign_desk.index.feeds.versions import Version, seen_by
from foreign_desk.index.fetch import FeedItem, FetchFailure
from foreign_desk.index.models import Scope


@dataclass(slots=True)
class Todo:
    """An item (or URL) whose page must be fetched."""

    feed: Feed | None
    ident: str
    link: str
    canonical: str
    item_hash: str
    title: str
    item: FeedItem | None = None
    known: SeenItem | None = None
    stands: dict[int | None, tuple[str, str]] = field(default_factory=dict)
    """Servers whose item a stored article stands for (id, why: ``Memory.stand_in``), fetched
    for the others: to those servers the item is that article, as if they followed it alone."""
    again: frozenset[int | None] = frozenset()
    """Those of ``stands`` told so at this version of the item before (``SeenItem.stood``):
    following the feed alone their record names it, and the item is 'unchanged' to them."""


@dataclass(frozen=True, slots=True)
class Memory:
    """What earlier polls and the index know of one poll's items, read in a few queries."""

    feed_id: int
    seen: dict[str, SeenItem]
    """The feed's own records, by item ident."""
    records: list[SeenItem]
    """Records of live articles at the items' canonical URLs (an item's link, or where its page led)."""
    indexed: dict[str, str]
    """Live article keys (``url:…``) → the page's first version."""
    found: dict[str, list[Version]]
    """Servers' feeds: every live version of those pages (``feeds.versions``)."""
    viewers: dict[str, set[int | None]]
    """Who sees the records' and first versions' articles."""
    hidden: frozenset[str] = frozenset()
    """Idents of the feed's items whose record names no article the server the poll is told to
    sees (told to none: no article every subscriber sees): a page its servers split over names
    the last part's version (``split``); one that failed for other servers (its stand-in told
    to this one: ``Ingester._failed``), none."""

    def stand_in(self, canonical: str, scopes: Sequence[int | None]) -> tuple[str, str] | None:
        """The stored article (id, why) that stands for an item at ``canonical`` without its
        page, for ``scopes``: only one they all see already (the shared corpus's, for the
        operators' feeds). Another's was made of what its feed said (a date, an outlet), or of
        the page before it changed: a server would be shown that only because another server
        holds the page. Their own version of a page (``feeds.versions``) is the one they see."""

        def own(url: str | None) -> Version | None:
            """The version of the page at ``url`` they see (the newest), if any."""
            mine = seen_by(self.found.get(f"url:{url}", ()), scopes) if url else ()
            return mine[-1] if mine else None

        for record in self.records:
            if canonical not in (record.url, record.article_url) or not record.article_uid:
                continue
            if own(record.url) or own(record.article_url):
                continue
            if stands_for(self.viewers.get(record.article_uid, ()), scopes):
                how = " of this feed" if record.feed_id == self.feed_id else ""
                return record.article_uid, f"same article as an earlier item{how}, by its canonical URL"
        theirs = own(canonical)
        if theirs is not None:
            return (theirs.uid, "same canonical URL") if stands_for(theirs.viewers, scopes) else None
        uid = self.indexed.get(f"url:{canonical}")
        if uid is not None and stands_for(self.viewers.get(uid, ()), scopes):
            return uid, "same canonical URL"
        return None

    def named(self, seen: SeenItem, canonical: str, guild: int | None) -> str | None:
        """The article an unchanged item is told to ``guild`` as: its record's, unless that is
        none ``guild`` sees (``hidden``): then the one standing for it to ``guild`` (following
        the feed alone, its record would name that), else none. Told to none (``guild`` None),
        the article all the feed's subscribers see, else the shared corpus's version of the
        page (what a reader without a server's scope is shown), else none: of a page the
        servers split over, each one's report names its own version (the split poll, each)."""
        if seen.ident not in self.hidden:
            return seen.article_uid
        stand = self.stand_in(canonical, (guild,))
        return stand[0] if stand else None


@dataclass(slots=True)
class Page:
    todo: Todo
    article: Article
    text_hash: str
    versions: frozenset[str] = frozenset()
    """The ids of the page's stored versions (``feeds.versions``): none is a twin of it."""
    seen: tuple[str, ...] = ()
    """Those its harvest's servers saw before: they see the one it makes or updates instead."""
    fresh: bool = False
    """The server its harvest is told to (else none of its servers) saw no version of it
    before: to that server it is new."""


@dataclass(slots=True)
class Harvest:
    """What collecting one feed produced: decided outcomes, and pages waiting for the commit."""

    feed: Feed | None
    run: FeedRun
    pages: list[Page] = field(default_factory=list)
    records: list[ItemRecord] = field(default_factory=list)
    etag: str | None = None
    last_modified: str | None = None
    leftover: bool = False
    """Items were left for a later poll (a cap, a 429, a passing failure): the feed's new
    validators are then not kept, so that the next poll reads the whole feed again."""
    passing: bool = False
    """A page failed for a reason that may pass (``transient``): another try may bring it."""
    listed: frozenset[str] | None = None
    """The idents of the items the feed listed (None: no feed document was read): what the
    feed's memory keeps however old (``FeedState.forget``)."""
    scopes: tuple[int | None, ...] = ()
    """Who sees what this harvest brings: the feed's subscribers (server ids; None for the
    shared corpus); none, and nobody does."""
    seen_by: int | None = None
    """The server its outcomes are told to (one of ``scopes``), as it sees them (``as_seen``);
    None: as the store sees them (the operators)."""
    settled: frozenset[str] = frozenset()
    """Idents of items whose records this harvest leaves as they are (``Ingester.refill``)."""
    whole: Harvest | None = None
    """The harvest whose servers' share of some pages this is (``split``): told and scheduled there."""
    asked: tuple[int | None, ...] = ()
    """The scopes that asked for this poll (None: the shared corpus; none: the poller): their
    schedules start again from it, due or not (``Ingester.polled``)."""

    def others(self) -> set[str]:
        """Versions of its pages that stand for them no more to its servers (an ingest's record
        may still name one: ``Ingester._record``): never granted to them."""
        return {v for p in self.pages for v in p.versions if v != p.article.id}

    def decide(
        self,
        todo: Todo,
        status: Status,
        record: ItemRecord,
        *,
        article: str | None,
        reason: str | None = None,
        failure: FetchFailure | None = None,
    ) -> None:
        feed = self.run.feed if self.feed else None
        self.run.items.append(ItemOutcome(todo.canonical, status, todo.title, feed, article, reason, failure))
        self.records.append(record)


def as_seen(harvests: Sequence[Harvest], before: Mapping[str, Collection[int | None]]) -> None:
    """Told to a server (``seen_by``), a duplicate of an article it did not see before this
    commit (``before``: who did) is new to it, as if nobody had brought it: a server learns
    nothing of what others see. Once: another item of the commit repeating that article (or one
    the commit reports under its own status) stays a duplicate, as it would if nobody had."""
    told = {
        i.article_id
        for h in harvests
        if h.seen_by in h.scopes
        for i in h.run.items
        if i.status in ("new", "updated", "unchanged")
    }
    for harvest in harvests:
        guild = harvest.seen_by
        if guild is None or guild not in harvest.scopes:
            continue
        items = harvest.run.items
        for n, item in enumerate(items):
            uid = item.article_id
            if item.status != "duplicate" or not uid or uid in told or Scope(guild).sees(before.get(uid, ())):
                continue
            told.add(uid)
            items[n] = dataclasses.replace(item, status="new", reason=None)


def split(harvest: Harvest, found: Mapping[str, Sequence[Version]]) -> list[Harvest]:
    """Per-page server sets: a page the harvest's servers do not all see alike (one sees a version
    of it, another another, or none; a stored article stands for the item to some: ``Todo.stands``)
    is decided for each set of servers that see it alike, in a part of the harvest of its own, as
    it would be were they the feed's only subscribers: what a server sees and is told never
    depends on what the feed's other subscribers hold. Moves those pages out of ``harvest``;
    returns the parts, those a stored article stands for first (the item's record is the page's)."""
    parts: dict[tuple[tuple[str, str] | None, bool, tuple[int | None, ...]], Harvest] = {}
    alike: list[Page] = []
    for page in harvest.pages:
        every = found.get(page.article.key, [])
        sets: dict[tuple[tuple[str, str] | None, bool, str], list[int | None]] = {}
        for guild in harvest.scopes:
            mine = seen_by(every, (guild,))
            stand = page.todo.stands.get(guild)
            again = stand is not None and guild in page.todo.again
            sets.setdefault((stand, again, "" if stand or not mine else mine[-1].uid), []).append(guild)
        if len(sets) == 1 and not page.todo.stands:
            alike.append(page)
            continue
        for (stand, again, _), guilds in sets.items():
            key = (stand, again, tuple(guilds))
            run = FeedRun(harvest.run.feed, harvest.run.url, polled_at=harvest.run.polled_at)
            part = parts.setdefault(key, Harvest(harvest.feed, run, scopes=key[2], whole=harvest))
            part.seen_by = harvest.seen_by
            if stand is None:
                part.pages.append(dataclasses.replace(page))
                continue
            (uid, reason), todo = stand, page.todo
            feed_id = todo.feed.id if todo.feed else None
            record = ItemRecord(
                feed_id, todo.ident, todo.canonical, "duplicate", todo.item_hash, article_uid=uid
            )
            status: Status = "unchanged" if again else "duplicate"
            part.decide(todo, status, record, article=uid, reason=None if again else reason)
    harvest.pages = alike
    return sorted(parts.values(), key=lambda part: bool(part.pages))


def told(parts: Sequence[Harvest]) -> None:
    """Add to each split harvest what its parts decided for the server it is told to: one
    outcome per item, as that server sees it; told to none (the operators, the poller), each
    part's, as the store sees them: one per set of servers that see the page alike."""
    for part in parts:
        whole = part.whole
        assert whole is not None
        if whole.seen_by in part.scopes or whole.seen_by not in whole.scopes:
            whole.run.items.extend(part.run.items)
        whole.run.error = whole.run.error or part.run.error


def stands_for(viewers: Collection[int | None], scopes: Sequence[int | None]) -> bool:
    """Whether an article seen by ``viewers`` may stand for a page ``scopes`` brought: every
    one of them sees it already (the shared corpus's article is everyone's)."""
    return None in viewers or set(scopes) <= set(viewers)
