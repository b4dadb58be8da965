"""Feed items and URLs → new, updated or duplicate articles, indexed in one generation per fetch.

A fetch has two phases. *Collect*, per feed and concurrently: a conditional poll, then triage
of each item against what earlier polls saw (same feed GUID, then same canonical URL, without
fetching the page), then the remaining pages fetched and extracted. *Commit*, once for the
whole fetch and one at a time: the fetched articles are checked again (the page's own
canonical URL, the same text from the same outlet, copies inside the batch), handed to
``Engine.add_articles`` in one call (one new generation), and what became of every item is
written down, with each feed's validators and next poll time.

The same story from two outlets stays two articles: the text-hash check only matches articles
of the same outlet, and syndicated copies are folded at answer time (``index.fusion``).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import hashlib
import logging
import random
import secrets
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Collection, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from foreign_desk.index.article import Article
from foreign_desk.index.clean import clean_article
from foreign_desk.index.config import FeedSettings
from foreign_desk.index.errors import ForeignDeskError
from foreign_desk.index.feeds.harvest import Harvest, Memory, Page, Todo, as_seen, split, stands_for, told
from foreign_desk.index.feeds.models import (
    INDEXING_FAILED,
    Feed,
    FeedRun,
    FetchReport,
    ItemOutcome,
    PollNote,
    Status,
    internal_error,
)
from foreign_desk.index.feeds.schedule import Pace, next_delay, retry_floor
from foreign_desk.index.feeds.state import STORED, FeedState, ItemRecord, Polled, SeenItem, Stood
from foreign_desk.index.feeds.versions import Version, copy_token, retired, seen_by, versions
from foreign_desk.index.fetch import (
    ConnectionFailed,
    FeedItem,
    Fetcher,
    FetchError,
    FetchFailure,
    FetchTimeout,
    HTTPStatusError,
    RetryLater,
    canonical_url,
    fetch_article,
    poll_feed,
)
from foreign_desk.index.models import Scope
from foreign_desk.index.progress import ProgressFn, waiting_notice
from foreign_desk.index.text import tokens

if TYPE_CHECKING:
    from foreign_desk.index.engine import Engine

log = logging.getLogger(__name__)

Say = Callable[[PollNote], None]
"""A progress callback told of each feed as it is collected (``str()``: one English line)."""
GrantListener = Callable[[Mapping[str, Collection[int | None]]], Awaitable[object]]
"""Told, per stored article a fetch granted to more readers, who saw it before (``Engine.viewers``)."""
CopyListener = Callable[[Mapping[str, Sequence[str]], Sequence[int | None]], Awaitable[object]]
"""Told, before a commit indexes them, of servers' new versions of pages (``feeds.versions``):
each one's id → the versions those servers saw, and the servers."""


def item_hash(item: FeedItem) -> str:
    """What a feed says about an item; when it changes, the page is fetched again (an update)."""
    parts = (item.canonical_link or "", item.title, item.summary, item.published or "", item.content or "")
    return hashlib.sha1("\x1f".join(parts).encode("utf-8")).hexdigest()


def text_hash(article: Article) -> str:
    """The article's words after boilerplate removal, ignoring case, accents and punctuation."""
    cleaned = clean_article(article)
    words = [w for block in cleaned.blocks if block.kind != "heading" for w in tokens(block.text)]
    return hashlib.sha1(" ".join(words).encode("utf-8")).hexdigest()


def transient(exc: FetchError) -> bool:
    """Whether trying the same URL again later may work (timeouts, 5xx, 429, dropped connections)."""
    if isinstance(exc, RetryLater | FetchTimeout | ConnectionFailed):
        return True
    return isinstance(exc, HTTPStatusError) and (exc.status >= 500 or exc.status == 408)


class Slots:
    """At most ``size`` feeds collected at once, across every fetch of one desk (the poller's
    polls and ``fetch`` alike). Counts what waits and what runs, for logs and tests."""

    def __init__(self, size: int) -> None:
        self.size = max(1, size)
        self.busy = 0
        """Feeds being collected now."""
        self.queued = 0
        """Feeds waiting for a slot."""
        self.peak = 0
        """The most feeds ever collected at once."""
        self._semaphore = asyncio.Semaphore(self.size)

    @contextlib.asynccontextmanager
    async def hold(self) -> AsyncIterator[None]:
        self.queued += 1
        try:
            await self._semaphore.acquire()
        finally:
            self.queued -= 1
        self.busy += 1
        self.peak = max(self.peak, self.busy)
        try:
            yield
        finally:
            self.busy -= 1
            self._semaphore.release()


def as_known(record: ItemRecord, known: SeenItem) -> ItemRecord:
    """``record`` of an item whose page brought ``known``'s article (stored it, or found it a
    duplicate), still indexed, saying what it brought: that version keeps serving, a copy of its
    text at another address, from the same outlet, must stay a duplicate of a stored one
    (``FeedState.by_text`` reads stored records), and the feed's subscribers to come get it
    (``FeedState.brought``)."""
    return dataclasses.replace(
        record,
        status=known.status,
        article_url=known.article_url,
        text_hash=known.text_hash,
        source=known.source,
        article_uid=known.article_uid,
    )


class Ingester:
    """Collects and commits fetches for one engine. Safe to use from many tasks: commits are
    serialised here, at most ``feeds_at_once`` feeds are collected at once (``slots``), and
    callers hold a feed's lock while its fetch runs."""

    def __init__(
        self,
        engine: Engine,
        state: FeedState,
        settings: FeedSettings,
        fetcher: Callable[[], Awaitable[Fetcher]],
        *,
        clock: Callable[[], float] = time.time,
        rng: random.Random | None = None,
        on_grant: GrantListener | None = None,
        on_copy: CopyListener | None = None,
    ) -> None:
        self.engine = engine
        self.on_grant = on_grant
        self.on_copy = on_copy
        """Awaited before a commit indexes servers' own versions of pages: what was done for the
        versions they saw holds for them (the desk's follows were matched: not alerted again)."""
        """Awaited after a commit granted stored articles (duplicates) to readers who may not
        have seen them: to them the article is new (the desk matches their follows)."""
        self.state = state
        self.settings = settings
        self.fetcher = fetcher
        self.clock = clock
        self.rng = rng
        self.slots = Slots(settings.feeds_at_once)
        self._commit = asyncio.Lock()

    # -- feeds -----------------------------------------------------------------------------
    async def run(
        self,
        feeds: Sequence[Feed],
        subscribers: Mapping[int, Sequence[int | None]],
        *,
        say: Say | None = None,
        index_progress: ProgressFn | None = None,
        as_seen_by: int | None = None,
        asked: Sequence[int | None] = (),
    ) -> FetchReport:
        """Poll ``feeds`` (the caller holds their locks) and index what is new, in one generation;
        what a feed brings is seen by its ``subscribers`` (by feed id). ``as_seen_by``: the
        server the report is for (``Harvest.seen_by``); ``asked``: the scopes that asked for
        the polls (``polled``), none for the poller."""
        started = time.monotonic()
        say = say or (lambda _line: None)
        fetcher = await self.fetcher()

        async def one(feed: Feed) -> Harvest:
            scopes = tuple(subscribers.get(feed.id, ()))
            async with self.slots.hold():
                try:
                    harvest = await self.collect(feed, fetcher, scopes, as_seen_by)
                except Exception as exc:  # a bug met in one feed: record it there, go on with the others
                    log.exception("collecting feed %s failed", feed.name)
                    run = FeedRun(feed.name, feed.url, polled_at=self.clock(), error=internal_error(exc))
                    harvest = Harvest(feed, run, scopes=scopes, seen_by=as_seen_by)
            harvest.asked = tuple(asked)
            say(describe(harvest))
            return harvest

        harvests = list(await asyncio.gather(*(one(f) for f in feeds)))
        generation = await self.commit(harvests, index_progress)
        return FetchReport([h.run for h in harvests], generation, round(time.monotonic() - started, 3))

    async def collect(
        self, feed: Feed, fetcher: Fetcher, scopes: Sequence[int | None] = (), seen_by: int | None = None
    ) -> Harvest:
        """Poll ``feed`` for its subscribers ``scopes``, told to ``seen_by`` (``Harvest``): its
        new items' pages fetched, the rest decided from what is stored."""
        run = FeedRun(feed.name, feed.url, polled_at=self.clock())
        harvest = Harvest(feed, run, etag=feed.etag, last_modified=feed.last_modified)
        harvest.scopes, harvest.seen_by = tuple(scopes), seen_by
        try:
            poll = await poll_feed(
                fetcher,
                feed.url,
                etag=feed.etag,
                last_modified=feed.last_modified,
                max_items=self.settings.max_feed_items,
            )
        except FetchError as exc:
            run.error, run.failure = str(exc), FetchFailure.of(exc)
            run.retry_after = exc.retry_after if isinstance(exc, RetryLater) else None
            return harvest
        harvest.etag, harvest.last_modified = poll.etag, poll.last_modified
        if poll.not_modified or poll.feed is None:
            run.not_modified = True
            return harvest
        run.problems.extend(poll.feed.problems)
        fallback_source = feed.source or poll.feed.title or None
        # Newest first, so a capped poll takes the latest news; undated items go last.
        items = sorted(poll.feed.items, key=lambda i: i.published or "", reverse=True)
        harvest.listed = frozenset(i.key for i in items)
        memory = await self._memory(feed, items, scopes, seen_by)
        todos = [t for t in (self._triage(feed, i, harvest, memory, scopes) for i in items) if t is not None]
        cap = max(0, self.settings.max_items_per_poll)
        harvest.leftover = len(todos) > cap
        await self._fetch_pages(todos[:cap], fetcher, harvest, fallback_source)
        return harvest

    async def _memory(
        self, feed: Feed, items: Sequence[FeedItem], scopes: Sequence[int | None], seen_by: int | None
    ) -> Memory:
        """What is known of ``items`` for the feed's subscribers ``scopes``, told to ``seen_by``
        (``Memory.stand_in``, ``Memory.named``)."""
        seen = await self.state.items(feed.id, [i.key for i in items])
        hidden = await self._hidden(seen, scopes, seen_by)
        urls = [
            i.canonical_link
            for i in items
            if i.canonical_link and (_unsettled(seen.get(i.key)) or i.key in hidden)
        ]
        indexed = await self.engine.indexed([f"url:{u}" for u in urls])
        records = await self._live(await self.state.by_url(urls))
        found = await versions(self.engine, [f"url:{u}" for u in urls]) if None not in scopes and urls else {}
        viewers = await self.engine.viewers(
            [r.article_uid for r in records if r.article_uid] + [*indexed.values()]
        )
        return Memory(feed.id, seen, records, indexed, found, viewers, hidden)

    async def _hidden(
        self, seen: Mapping[str, SeenItem], scopes: Sequence[int | None], seen_by: int | None
    ) -> frozenset[str]:
        """The idents of ``seen`` whose record names no article the report is for
        (``Memory.hidden``): told to a server, none it sees (it is never told another server's
        article's id); told to none (the poller, ``fetch``: as the store sees it), none every
        subscriber of the feed sees. A page they split over names the last part's version,
        no more the feed's article than the others' versions (``Memory.named``)."""
        uids = [s.article_uid for s in seen.values() if s.article_uid]
        if seen_by is not None and seen_by in scopes:
            visible = await self.engine.visible(uids, Scope(seen_by)) if uids else set()
            return frozenset(s.ident for s in seen.values() if s.article_uid not in visible)
        viewers = await self.engine.viewers(uids) if uids else {}
        return frozenset(
            s.ident
            for s in seen.values()
            if s.article_uid and not stands_for(viewers.get(s.article_uid, ()), scopes)
        )

    async def _live(self, records: Sequence[SeenItem]) -> list[SeenItem]:
        """Those of ``records`` whose article is still indexed: an article a server forgot (and
        nobody else saw) is gone, and its page may come again from anyone."""
        live = await self.engine.live([r.article_uid for r in records if r.article_uid])
        return [r for r in records if r.article_uid in live]

    def _triage(
        self, feed: Feed, item: FeedItem, harvest: Harvest, memory: Memory, scopes: Sequence[int | None]
    ) -> Todo | None:
        """Decide an item without its page where possible; return it when its page is needed.
        An item is known by ``FeedItem.key`` (its canonical link), as the feed parser dedupes
        them: a GUID some feeds give several items would make them overwrite one record."""
        ident = item.key
        todo = Todo(
            feed, ident, item.link or "", item.canonical_link or ident, item_hash(item), item.title, item
        )
        seen = memory.seen.get(ident)
        if seen is not None:
            # A failed page (a stored item's too: it has an ``error``) is tried again, up to a point.
            failed = seen.status == "failed" or seen.error is not None
            retry = failed and seen.attempts < self.settings.item_attempts
            if seen.item_hash == todo.item_hash and not retry:
                uid = memory.named(seen, todo.canonical, harvest.seen_by)
                harvest.run.items.append(ItemOutcome(todo.canonical, "unchanged", item.title, feed.name, uid))
                return None
            todo.known = seen
            if not _unsettled(seen):
                return todo
        record = ItemRecord(feed.id, ident, todo.canonical, "duplicate", todo.item_hash)
        if not item.link:
            harvest.decide(
                todo,
                "failed",
                dataclasses.replace(
                    record, status="failed", error="no link", attempts=self.settings.item_attempts
                ),
                article=None,
                reason="the item has no link",
            )
            return None
        # Each server's own stand-in: the item is decided without its page where it is one for all.
        whole = None in scopes or not scopes
        each = (
            [(None, memory.stand_in(todo.canonical, scopes))]
            if whole
            else [(guild, self._stand(todo, seen, memory, guild)) for guild in scopes]
        )
        stands = {guild: stand for guild, stand in each if stand is not None}
        todo.again = frozenset(g for g, h in seen.stood if h == todo.item_hash) if seen else frozenset()
        if each and len(stands) == len(each) and len(set(stands.values())) == 1:
            uid, reason = next(iter(stands.values()))
            again = harvest.seen_by in todo.again
            harvest.decide(
                todo,
                "unchanged" if again else "duplicate",
                dataclasses.replace(record, article_uid=uid),
                article=uid,
                reason=None if again else reason,
            )
            return None
        todo.stands = {} if whole else stands
        return todo

    @staticmethod
    def _stand(
        todo: Todo, seen: SeenItem | None, memory: Memory, guild: int | None
    ) -> tuple[str, str] | None:
        """The stored article standing for a failed (or new) item to ``guild`` (``Memory.stand_in``),
        none where one stood for it before (``SeenItem.stood``) and the item changed since: following
        the feed alone, its record names that one (settled), and its page is fetched for it too."""
        told = next((h for g, h in seen.stood if g == guild), None) if seen else None
        if told is not None and told != todo.item_hash:
            return None
        return memory.stand_in(todo.canonical, (guild,))

    async def _fetch_pages(
        self, todos: list[Todo], fetcher: Fetcher, harvest: Harvest, fallback: str | None
    ) -> None:
        limit = asyncio.Semaphore(max(1, self.settings.pages_at_once))
        stop = asyncio.Event()  # a 429/503 from the site: leave the rest for the next poll

        async def one(todo: Todo) -> None:
            async with limit:
                if stop.is_set():
                    harvest.leftover = True
                    return
                try:
                    page = await self.fetch_page(todo, fetcher, fallback)
                except FetchError as exc:
                    if isinstance(exc, RetryLater):
                        stop.set()
                        wait = exc.retry_after
                        harvest.run.retry_after = max(harvest.run.retry_after or 0.0, wait or 0.0) or None
                    await self._failed(todo, exc, harvest)
                    return
                except Exception as exc:  # a bug met on one page (extraction): the item fails, not the feed
                    log.exception("extracting %s failed", todo.link)
                    await self._failed(todo, FetchError(internal_error(exc)), harvest)
                    return
                harvest.pages.append(page)

        await asyncio.gather(*(one(t) for t in todos))

    async def fetch_page(self, todo: Todo, fetcher: Fetcher, fallback_source: str | None) -> Page:
        article = await fetch_article(fetcher, todo.link, item=todo.item, fallback_source=fallback_source)
        feed = todo.feed
        changes: dict[str, Any] = {}
        if feed is not None and feed.source:
            changes["source"] = feed.source
        if feed is not None and feed.language and not article.language:
            changes["language"] = feed.language
        if not article.url:
            changes["url"] = todo.canonical
        article = dataclasses.replace(article, **changes) if changes else article
        return Page(todo, article, await asyncio.to_thread(text_hash, article))

    async def _failed(self, todo: Todo, exc: FetchError, harvest: Harvest) -> None:
        known = todo.known
        # Failures since the page last worked (it writes 0), of this version of the item: a
        # changed item is a new chance.
        before = known.attempts if known and known.item_hash == todo.item_hash else 0
        attempts = before + 1 if transient(exc) else self.settings.item_attempts
        feed_id = todo.feed.id if todo.feed else None
        record = ItemRecord(
            feed_id, todo.ident, todo.canonical, "failed", todo.item_hash, error=str(exc), attempts=attempts
        )
        if known and known.status in STORED and await self._live([known]):
            # Its ``error`` and ``attempts`` say the page is to be tried again (``_triage``); the
            # poll reports it failed.
            record = as_known(record, known)
        harvest.leftover = harvest.leftover or attempts < self.settings.item_attempts
        harvest.passing = harvest.passing or transient(exc)
        if record.status == "failed" and todo.feed is not None:
            record = dataclasses.replace(record, stood=_stood(todo, harvest.scopes))
        # Fetched for other servers: to one a stored article stands for, the item is that one,
        # a duplicate when first met, then unchanged (``Todo.again``): its record would name it.
        uid, reason = todo.stands.get(harvest.seen_by, (None, str(exc)))
        again = harvest.seen_by in todo.again
        status: Status = "failed" if uid is None else "unchanged" if again else "duplicate"
        failure = FetchFailure.of(exc) if status == "failed" else None
        harvest.decide(
            todo,
            status,
            record,
            article=uid,
            reason=None if status == "unchanged" else reason,
            failure=failure,
        )

    async def refill(self, feed: Feed, records: Sequence[SeenItem], guild_id: int | None) -> float | None:
        """Fetch again the pages of ``feed``'s items whose articles are gone (or are another
        server's own version), for a scope that subscribes now: what they bring is granted to
        that scope alone (the servers that forgot them keep what they see and their quotas). A
        page that fails leaves its item as it was, for the next subscriber to try; so does one
        whose article is still stored. Returns None when all came that can, else the least
        wait before another try (the site's ``Retry-After``, or 0): a page failed for a reason
        that may pass, or indexing failed."""
        harvest = Harvest(None, FeedRun(feed.name, feed.url, polled_at=self.clock()), scopes=(guild_id,))
        todos = [
            Todo(feed, r.ident, r.url or r.ident, r.url or r.ident, r.item_hash, r.url or r.ident, known=r)
            for r in records
        ]
        async with self.slots.hold():
            await self._fetch_pages(todos, await self.fetcher(), harvest, feed.source)
        harvest.records.clear()  # failures only, so far: the items keep their records
        # So do those whose articles stay (servers' own versions): the feed's polls tell them theirs.
        harvest.settled = frozenset(r.ident for r in await self._live(records))
        await self.commit([harvest])
        if harvest.passing or harvest.run.error is not None:
            return harvest.run.retry_after or 0.0
        return None

    # -- commit ----------------------------------------------------------------------------
    async def commit(self, harvests: Sequence[Harvest], index_progress: ProgressFn | None = None) -> int:
        """Index the harvests' pages in one ``add_articles`` call and write down every outcome."""
        notice = waiting_notice(index_progress)
        if notice is not None and self._commit.locked():  # another fetch of this process indexes
            notice()
        async with self._commit:
            gen = await self.engine.generation()
            whole = harvests
            harvests = [*whole, *[part for h in whole for part in await self._split(h)]]
            batch, owners = await self._batch(harvests)
            # Who sees what this commit may grant, before it does: to others, a duplicate is new.
            stored = {r.article_uid for h in harvests for r in h.records if r.article_uid}
            stored |= {i.article_id for h in harvests for i in h.run.items if i.article_id}
            before = await self.engine.viewers(sorted(stored | {p.article.id for p in batch}))
            changed: set[str] = set()
            if batch:
                try:
                    gen, changed = await self._index(batch, owners, index_progress)
                except ForeignDeskError as exc:  # the writer is busy, the store is broken: retry later
                    log.warning("indexing fetched articles failed: %s", exc)
                    for harvest in harvests:
                        harvest.run.error = harvest.run.error or f"{INDEXING_FAILED}{exc}"
                        harvest.records = [r for r in harvest.records if r.status != "stored"]
            for part in harvests[len(whole) :]:
                assert part.whole is not None
                part.whole.leftover = part.whole.leftover or part.leftover
                part.whole.passing = part.whole.passing or part.passing
            for harvest in harvests:
                await self.state.record([r for r in harvest.records if r.ident not in harvest.settled])
                if harvest.feed is not None and harvest.listed is not None:
                    await self.state.forget(harvest.feed.id, harvest.listed, self.settings.item_memory)
                await self._schedule(harvest)
            # Articles already stored (duplicates): the harvest's subscribers see them too (not
            # those of a page that failed, its stored version kept: nothing was brought).
            grants = [
                (r.article_uid, guild)
                for h in harvests
                for others in (h.others(),)
                for r in h.records
                if r.status in STORED and r.article_uid and r.error is None and r.article_uid not in others
                for guild in h.scopes
            ]
            await self.engine.grant(grants)
            await self._retire(harvests)
            await self._granted(grants, before, changed)
            as_seen(harvests, before)
            told(harvests[len(whole) :])
            return gen

    async def _batch(self, harvests: Sequence[Harvest]) -> tuple[list[Page], list[Harvest]]:
        """The harvests' pages to index, each with its harvest; a twin of a stored article or of
        another page of the batch is recorded as its duplicate instead."""
        batch: list[Page] = []
        owners: list[Harvest] = []
        keys: dict[str, str] = {}  # article key → its id, inside this batch
        texts: dict[tuple[str, str], tuple[str, Sequence[int | None]]] = {}  # → (id, who brought it)
        stamp = secrets.token_hex(8)  # names a copy whose usual key is taken (``_copy``)
        for harvest in harvests:
            kept = await self._versions(harvest, stamp)
            for page in harvest.pages:
                twin = await self._twin(page, keys, texts, kept, harvest.scopes)
                if twin is not None:
                    uid, reason = twin
                    self._record(harvest, page, "duplicate", uid, reason)
                    continue
                keys[page.article.key] = page.article.id
                outlet = (page.article.source or "").casefold()
                texts[(page.text_hash, outlet)] = (page.article.id, harvest.scopes)
                batch.append(page)
                owners.append(harvest)
        return batch, owners

    async def _granted(
        self,
        grants: Sequence[tuple[str, int | None]],
        before: Mapping[str, set[int | None]],
        changed: Collection[str],
    ) -> None:
        """Tell ``on_grant`` who saw the stored articles before this commit granted them to
        someone who did not (those it indexed anew the engine's ingest listeners were told of)."""
        new = {
            uid for uid, guild in grants if uid not in changed and not Scope(guild).sees(before.get(uid, ()))
        }
        if self.on_grant is None or not new:
            return
        try:
            await self.on_grant({uid: before.get(uid, set()) for uid in new})
        except Exception:  # the articles are stored and granted: a listener's bug must not undo that
            log.exception("a grant listener failed")

    async def _kept(self, harvest: Harvest) -> set[str]:
        """The stored articles this harvest's pages may not replace: those someone besides its
        servers sees (the shared corpus, another server: a server must not change what another
        is shown; ``_versions`` gives the servers a version of their own of another server's,
        when the page changed, and the shared corpus's as stored). Only the operators' feeds and
        pages change the shared corpus's; a version only servers see, only a harvest all of
        them bring (each server's part of a feed they all follow: ``split``)."""
        if None in harvest.scopes or not harvest.pages:
            return set()
        viewers = await self.engine.viewers([p.article.id for p in harvest.pages])
        return {uid for uid, who in viewers.items() if who - set(harvest.scopes)}

    async def _versions(self, harvest: Harvest, stamp: str) -> set[str]:
        """Point each of a servers' harvest's pages at the version of it those servers see (or,
        seeing none, the page's first), then at a copy of their own (``copy_token``) where others
        see that version and the page changed (``feeds.versions``); returns the stored articles
        the pages may not replace: the shared corpus's (``_kept``). The shared corpus's version
        of a page stands for it to every server: their own versions are retired (``_retire``)."""
        if not harvest.pages:
            return set()
        found = await versions(self.engine, [p.article.key for p in harvest.pages])
        stored: dict[str, Version] = {}
        for page in harvest.pages:
            every = found.get(page.article.key, [])
            if None in harvest.scopes or seen_by(every, (None,)):
                # The shared corpus's: the operators' to change, else kept as stored. It may be a
                # servers' version a catch-up granted the shared corpus: not the page's first.
                page.article = dataclasses.replace(page.article, copy=_shared(every))
                mine = every if None in harvest.scopes else seen_by(every, harvest.scopes)
                page.seen = tuple(v.uid for v in mine if v.uid != page.article.id)
            elif (target := _point(page, every, harvest)) is not None:
                stored[target.uid] = target
        kept = await self._kept(harvest)
        for page in harvest.pages:
            target = stored.get(page.article.id)
            if target is None or page.article.id not in kept:
                continue
            kept.discard(page.article.id)  # others see it: unchanged, it is granted as stored
            if await self.engine.content_hash(page.article) != target.content_hash:
                token = _copy(page, target, found, harvest, stamp)
                page.article = dataclasses.replace(page.article, copy=token)
        return kept

    async def _split(self, harvest: Harvest) -> list[Harvest]:
        """The parts of a servers' harvest whose pages its servers do not all see alike (``split``)."""
        if None in harvest.scopes or len(harvest.scopes) < 2 or not harvest.pages:
            return []
        return split(harvest, await versions(self.engine, [p.article.key for p in harvest.pages]))

    async def _retire(self, harvests: Sequence[Harvest]) -> None:
        """Revoke from each harvest's servers (every server, for the shared corpus's) the
        versions of its pages they saw and see no more: another (a copy of their own, one they
        saw too, the shared corpus's) stands for the page now."""
        for harvest in harvests:
            turns = {p.article.id: p.seen for p in harvest.pages if p.seen}
            live = await self.engine.live(list(turns))  # published (a grant may outlive a failed run)
            for guild in harvest.scopes if live else ():
                old = retired(turns, await self.engine.visible(list(live), Scope(guild)))
                viewers = await self.engine.viewers(old)
                for server in {g for uid in old for g in viewers.get(uid, ())} if guild is None else {guild}:
                    if server is not None:
                        await self.engine.forget(server, old)

    async def _twin(
        self,
        page: Page,
        keys: dict[str, str],
        texts: dict[tuple[str, str], tuple[str, Sequence[int | None]]],
        kept: set[str],
        scopes: Sequence[int | None],
    ) -> tuple[str, str] | None:
        """The article this page repeats (id, why), or None when it must be indexed. A copy at
        another address (the same text, or canonical URL) is that article only where all who
        bring the page (``scopes``) see it already: a server's copy never stands for what the
        shared corpus or another server brings (its headline, date and address would)."""
        article = page.article
        if article.id in kept:
            return article.id, "the stored version is kept"
        if article.key in keys:
            return keys[article.key], "same article as another item of this fetch"
        source = (article.source or "").casefold()
        uid, brought = texts.get((page.text_hash, source), ("", ()))
        if uid and stands_for(brought, scopes):
            return uid, "same text as another item of this fetch"
        if page.todo.known is None and article.url and article.url != page.todo.canonical:
            same = await self._stored_twin(await self.state.by_url([article.url]), scopes)
            if same is not None and same != article.id and same not in page.versions:
                return same, "same canonical URL as an article already stored"
        same = await self._stored_twin(await self.state.by_text(page.text_hash, article.source), scopes)
        if same is not None and same != article.id and same not in page.versions:
            return same, "same text as an article of the same outlet"
        return None

    async def _stored_twin(self, records: Sequence[SeenItem], scopes: Sequence[int | None]) -> str | None:
        """The first of ``records``' articles still indexed that ``scopes`` all see already."""
        live = [r.article_uid for r in await self._live(records) if r.article_uid]
        viewers = await self.engine.viewers(live)
        return next((uid for uid in live if stands_for(viewers.get(uid, ()), scopes)), None)

    async def _index(
        self, batch: list[Page], owners: list[Harvest], index_progress: ProgressFn | None
    ) -> tuple[int, set[str]]:
        """Index the pages in one generation and record what became of each; returns the
        generation and the articles it added or changed."""
        articles = [p.article for p in batch]
        scopes = {p.article.id: h.scopes for p, h in zip(batch, owners, strict=True)}
        for page, harvest in zip(batch, owners, strict=True):
            if self.on_copy is not None and page.seen and page.article.id not in page.seen:
                await self.on_copy({page.article.id: page.seen}, harvest.scopes)
        report = await self.engine.add_articles(articles, progress=index_progress, scopes=scopes)
        added, updated = set(report.added_ids), set(report.updated_ids)
        problems = {p.path: p.reason for p in report.problems}
        for page, harvest in zip(batch, owners, strict=True):
            article = page.article
            where = article.path or article.url or article.title
            if article.id in added or article.id in updated:
                # A copy of its own is an update to servers that saw another version (``_versions``).
                # To a server that saw none, it is new.
                renewed = article.id in updated or (bool(page.seen) and article.id not in page.seen)
                renewed = renewed and not page.fresh
                self._record(harvest, page, "updated" if renewed else "new", article.id)
            elif where in problems:
                exc = FetchError(f"no article text in {article.url}: {problems[where]}")
                await self._failed(page.todo, exc, harvest)
            elif page.fresh or (page.todo.known is None and not page.versions):
                # Servers that saw it are told it is unchanged: whoever else ingested it (``known``).
                self._record(harvest, page, "duplicate", article.id, "same page")
            else:
                self._record(harvest, page, "unchanged", article.id)
        return report.generation, set(report.changed_ids)

    def _record(
        self, harvest: Harvest, page: Page, status: Status, uid: str, reason: str | None = None
    ) -> None:
        todo = page.todo
        record = ItemRecord(
            todo.feed.id if todo.feed else None,
            todo.ident,
            todo.canonical,
            "duplicate" if status == "duplicate" else "stored",
            todo.item_hash,
            article_url=page.article.url,
            text_hash=page.text_hash,
            source=page.article.source,
            article_uid=uid,
        )
        known = todo.known
        if known and known.status == "stored" and known.article_uid is not None:
            # The item's page was stored as this very article (another scope brought the page
            # again, or it now leads elsewhere); or, an ingest's record (every scope's), as
            # another version of the page, which the scopes that see it keep (``_versions``).
            same = status == "duplicate" and known.article_uid == uid
            other = todo.feed is None and known.article_uid != uid and known.article_uid in page.versions
            if other:  # this version's own record: the same text at another address repeats it
                harvest.records.append(dataclasses.replace(record, ident=f"{todo.canonical}#version:{uid}"))
            record = as_known(record, known) if same or other else record
        outcome = ItemOutcome(
            page.article.address or todo.canonical,  # where a redirect led, not the link that was given
            status,
            page.article.title or todo.title,
            harvest.run.feed if harvest.feed else None,
            uid,
            reason,
        )
        harvest.run.items.append(outcome)
        harvest.records.append(record)

    async def _schedule(self, harvest: Harvest) -> None:
        feed, run = harvest.feed, harvest.run
        if feed is None or harvest.whole is not None:
            return
        kept = harvest.leftover  # the next poll reads the whole feed again
        validators = (feed.etag, feed.last_modified) if kept else (harvest.etag, harvest.last_modified)
        run.next_poll = await self.polled(
            feed,
            error=run.error,
            failure=run.failure,
            retry_after=run.retry_after,
            validators=validators,
            asked=harvest.asked,
        )
        if run.error is not None:  # a warning where only the log tells it: the poller's polls
            level = logging.INFO if harvest.asked else logging.WARNING  # else its report does
            log.log(level, "feed %s failed (%d in a row): %s", feed.name, feed.failures + 1, run.error)

    async def polled(
        self,
        feed: Feed,
        *,
        error: str | None = None,
        failure: FetchFailure | None = None,
        retry_after: float | None = None,
        validators: tuple[str | None, str | None] = (None, None),
        asked: Sequence[int | None] = (),
    ) -> float:
        """Write down a poll of ``feed`` (failed with ``error``; ``failure``: what failed it, when
        a fetch did). Each subscription it was due for, or whose scope ``asked`` for it, is
        scheduled on from now as if it followed the feed alone (its interval, its failures in a
        row, the ``Retry-After``); the others keep theirs, and the feed is next polled when the
        first is due (``FeedState.polled``); a feed nobody subscribes to (a damaged database) at
        its own pace. Returns the next poll as the scope that asked sees it (the feed's, for the
        poller)."""
        now = self.clock()
        asking = {g or 0 for g in asked}

        def after(every_minutes: int, failures: int) -> float:
            failures = 0 if error is None else failures + 1
            delay = next_delay(
                every_minutes * 60.0, failures, self.settings, retry_after=retry_after, rng=self.rng
            )
            return now + delay

        def plan(paces: Sequence[Pace]) -> tuple[dict[int, float], float]:
            if not paces:
                return {}, after(feed.every_minutes, feed.failures)
            due = {
                p.scope: after(p.every_minutes, p.failures)
                for p in paces
                if p.scope in asking or p.due(now, self.settings)
            }
            return due, now + retry_floor(retry_after)

        feed_next, due = await self.state.polled(feed.id, Polled(error, plan, *validators, failure=failure))
        return max([feed_next, *(due[s] for s in asking if s in due)])

    # -- one URL ---------------------------------------------------------------------------
    async def ingest(
        self,
        url: str,
        *,
        index_progress: ProgressFn | None = None,
        guild_id: int | None = None,
        as_seen_by: int | None = None,
    ) -> ItemOutcome:
        """Fetch one article page and index it, for the shared corpus or as the server
        ``guild_id``'s own; re-fetching a known URL updates it when it changed (a server's page
        that other servers see too, as a version of its own: ``feeds.versions``; one the shared
        corpus has is granted to it as stored: a ``duplicate``; told ``as_seen_by`` that
        server, ``new`` unless it saw it before: ``Harvest.seen_by``).

        Raises the ``FetchError`` that stopped it (not a page, refused address, no article).
        """
        canonical = canonical_url(url)
        known = await self.state.item(None, canonical)
        todo = Todo(None, canonical, url.strip(), canonical, "", canonical, known=known)
        page = await self.fetch_page(todo, await self.fetcher(), None)
        harvest = Harvest(None, FeedRun("ingest", url), scopes=(guild_id,), seen_by=as_seen_by)
        harvest.pages.append(page)
        await self.commit([harvest], index_progress)
        if harvest.run.error:
            raise FetchError(harvest.run.error)
        (outcome,) = harvest.run.items
        if outcome.status == "failed":
            raise FetchError(outcome.reason or f"nothing could be indexed from {url}")
        if outcome.status == "unchanged" and known is None and guild_id is None:
            return dataclasses.replace(outcome, status="duplicate", reason=None)
        return outcome


def _point(page: Page, every: Sequence[Version], harvest: Harvest) -> Version | None:
    """Point a servers' page at the stored version of it they see (the newest, if a kill left
    them two), else at the page's first version; returns it (None: the page is new). Fresh: the
    server it is told to (``Harvest.seen_by``; else all of them) saw no version of it."""
    mine = seen_by(every, harvest.scopes)
    target = next(reversed(mine), None) or next((v for v in every if v.copy() is None), None)
    if target is not None:
        told = (harvest.seen_by,) if harvest.seen_by in harvest.scopes else harvest.scopes
        page.article = dataclasses.replace(page.article, copy=target.copy())
        page.versions = frozenset(v.uid for v in every)
        page.seen, page.fresh = tuple(v.uid for v in mine), not seen_by(every, told)
    return target


def _copy(
    page: Page, target: Version, found: Mapping[str, Sequence[Version]], harvest: Harvest, stamp: str
) -> str:
    """The token of the servers' copy of ``target`` (``copy_token``): the same in every process,
    so two commits making it at once (two shards) make one, not two the servers would both see.
    Should a version of the page hold that key already (theirs once, others' since), the commit's
    own (``stamp``): an update of it would change what others see."""
    token = copy_token(target.uid, harvest.scopes)
    taken = {v.key for v in found.get(dataclasses.replace(page.article, copy=None).key, ())}
    if dataclasses.replace(page.article, copy=token).key in taken:
        token = copy_token(f"{target.uid}:{stamp}", harvest.scopes)
    return token


def _stood(todo: Todo, scopes: Sequence[int | None]) -> Stood:
    """A failed item's ``Stood``: the servers a stored article stands for now, told so at this
    version of the item; and those it stood for before, fetched now (the item changed), whose
    records, were they following the feed alone, still name it."""
    before = todo.known.stood if todo.known else ()
    fetched = [(g, "") for g, _ in before if g in scopes and g not in todo.stands]
    return (*((g, todo.item_hash) for g in todo.stands if g is not None), *fetched)


def _shared(every: Sequence[Version]) -> str | None:
    """The ``Article.copy`` of the version of a page the shared corpus sees (the newest), else
    of its first version (None): what the operators change and every server is shown."""
    shared = seen_by(every, (None,))
    return shared[-1].copy() if shared else None


def _unsettled(seen: SeenItem | None) -> bool:
    """Whether an item is decided as if new (a stored article may stand for it): never seen,
    or its page never came (a failed record; the servers may hold their own version since)."""
    return seen is None or seen.status == "failed"


def describe(harvest: Harvest) -> PollNote:
    """What to say of a collected feed, for progress output."""
    run = harvest.run
    if run.error or run.not_modified:
        return PollNote(run.feed, error=run.error, not_modified=run.not_modified, failure=run.failure)
    # Told to a server, a duplicate may be new to it: that is known once committed (``as_seen``).
    shown = ("unchanged", "failed") if harvest.seen_by is not None else ("duplicate", "unchanged", "failed")
    decided = {s: sum(1 for i in run.items if i.status == s) for s in shown}
    counted = tuple((s, n) for s, n in decided.items() if n)
    return PollNote(run.feed, pages=len(harvest.pages), decided=counted, problems=tuple(run.problems))
