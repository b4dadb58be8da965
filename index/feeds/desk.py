"""``FeedDesk``: everything about the latest news in one object a front end awaits: feeds,
fetching now, ingesting one URL, the background poller, and topic follows with their alerts.

    async with await FeedDesk.open(engine) as desk:
        poller = desk.poller(); poller.start()          # while the bot runs
        report = await desk.fetch("antara-dunia")         # /admin fetch, `foreign-desk fetch`
        outcome = await desk.ingest(url)                  # /admin ingest
        await desk.follow(channel_id, "Laut China Selatan")
        for post in await desk.due_posts():               # the alert loop, every few seconds
            post = await desk.claim(post)                 # None: someone else sends it
            ...send with post.nonce...; await desk.mark_posted(post)
        await poller.stop()

Concurrency: all methods may be awaited from many tasks of one event loop. A feed is fetched
by one task at a time, in any process (a per-feed lock shared by the poller and ``fetch``:
``locks``); indexing goes
through ``Engine.add_articles`` (the writer lock), one generation per fetch. A subscription's
catch-up runs in a task of the process that subscribed, one per feed and scope at a time;
``close()`` cancels it. It is owed in the database until done, claimed by the desk running it,
which renews the claim every ``CATCH_UP_RENEW_S`` while it runs: a poller (of any process)
resumes one whose claim was not renewed for ``CATCH_UP_STALE_S`` (its process died), and one
that failed for now (a page's 503) or raised (a bug, the database) once its backoff has passed
(``CATCH_UP_RETRY_S``); one failing for ``CATCH_UP_GIVE_UP_S`` is given up, as one whose pages are gone.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import random
import re
import time
import weakref
from collections import Counter
from collections.abc import Awaitable, Callable, Collection, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlsplit

from foreign_desk.index.errors import StoreError
from foreign_desk.index.feeds.claims import Claims, claimed_post
from foreign_desk.index.feeds.digest import by_turns, plan_posts, post_of
from foreign_desk.index.feeds.drops import DroppedFollow, DropReason, Drops
from foreign_desk.index.feeds.follows import POSTED_KEPT_S, Follows, MatchListener, SettledMatch
from foreign_desk.index.feeds.ingest import Ingester, Say
from foreign_desk.index.feeds.locks import FOLDER as FEED_LOCKS
from foreign_desk.index.feeds.locks import FeedLocks
from foreign_desk.index.feeds.models import (
    Feed,
    FetchReport,
    Follow,
    ItemOutcome,
    Post,
    Waiting,
    host_failure_at,
    internal_error,
)
from foreign_desk.index.feeds.parents import learn_parents
from foreign_desk.index.feeds.poller import Poller
from foreign_desk.index.feeds.race import first_of
from foreign_desk.index.feeds.schedule import failing_for, longest_delay, next_delay
from foreign_desk.index.feeds.scopes import FeedScopes
from foreign_desk.index.feeds.seed import load_seed
from foreign_desk.index.feeds.servers import QuotaExceeded, Servers
from foreign_desk.index.feeds.state import (
    FORGET_BATCH,
    FeedError,
    FeedState,
    FeedTaken,
    Forgettable,
    NewFeed,
    SeenItem,
    StateDB,
    Subscription,
    UnknownFeed,
)
from foreign_desk.index.feeds.undelivered import Undelivered, UndeliveredAlert, UndeliveredReason
from foreign_desk.index.fetch import Fetcher, feed_key, poll_feed
from foreign_desk.index.outlets import canonical_outlet
from foreign_desk.index.progress import ProgressFn
from foreign_desk.index.text import fold

if TYPE_CHECKING:
    from foreign_desk.index.engine import Engine

log = logging.getLogger(__name__)

SEEDED_FLAG = "feeds_seeded"
CATCH_UP_STALE_S = 900.0
"""A catch-up whose claim was not renewed for this long is taken on again: its process died
(or was stopped that long; it then finds the catch-up gone from it at its next renewal and stops)."""
CATCH_UP_RENEW_S = CATCH_UP_STALE_S / 6
"""How often a running catch-up renews its claim, however long it waits (a reindex holding the
writer, a slow page): a few renewals may fail (the database busy) before it looks dead."""
CATCH_UP_RETRY_S = 150.0
"""A catch-up that failed for now (a page's 503, indexing refused) is tried again after this,
doubled after each failure (5 minutes, 10, ...), up to ``backoff_cap_minutes`` (``next_delay``)."""
CATCH_UP_GIVE_UP_S = 2 * 86400.0
"""A catch-up failing this long (its waits so far: ``failing_for``, 15 tries at the default cap)
is given up, as one whose pages are gone (a 404): what a subscriber lacks two days on is no
longer news, and a site down that long is not coming back for it."""
MAX_NAME = 40
PRUNE_EVERY_S = 3600.0
"""How often the fetches and ingests of all the processes on one data folder ``prune``: the
tables it trims grow by a few rows per article, and each turn reads them whole, in batches."""
PRUNE_TURN = "pruned_at"
"""The ``feed_flags`` key holding when a process last took its turn to ``prune`` (Unix seconds)."""
F = TypeVar("F", bound=Forgettable)


def slug(text: str) -> str:
    """A feed name from a title: ``ANTARA News - Dunia`` → ``antara-news-dunia``."""
    return re.sub(r"[^a-z0-9]+", "-", fold(text)).strip("-")[:MAX_NAME].strip("-")


class FeedDesk:
    """Feeds, fetching and follows for one open ``Engine``."""

    def __init__(
        self,
        engine: Engine,
        db: StateDB,
        *,
        fetcher_factory: Callable[[], Fetcher] | None = None,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
        rng: random.Random | None = None,
    ) -> None:
        self.engine = engine
        self.settings = engine.settings.feeds
        self.db = db
        self.clock = clock
        self.sleep = sleep
        """Waits between a catch-up's claim renewals (injectable, as ``clock``)."""
        self.rng = rng
        self.state = FeedState(db)
        self.follows = Follows(engine, db, clock=clock)
        self.drops = Drops(db, clock=clock)
        self.undelivered = Undelivered(db, clock=clock)
        self.claims = Claims(db, clock=clock)
        self.scopes = FeedScopes(db)
        self.servers = Servers(engine, self.scopes, self.settings, clock)
        self.ingester = Ingester(
            engine,
            self.state,
            self.settings,
            self._fetcher,
            clock=clock,
            rng=rng,
            on_grant=self._granted,
            on_copy=self.follows.carry,
        )
        self._fetcher_factory = fetcher_factory or (lambda: Fetcher.from_settings(engine.settings))
        self._open_fetcher: Fetcher | None = None
        self._fetcher_lock = asyncio.Lock()
        self._locks = FeedLocks(engine.settings.data_path / FEED_LOCKS)
        self._adding: weakref.WeakValueDictionary[int, asyncio.Lock] = weakref.WeakValueDictionary()
        """Per scope (0: the shared corpus): its feed adds, one at a time; unheld locks go."""
        self.queued: Counter[int] = Counter()
        """Per feed id: fetches waiting for the one in progress (its lock)."""
        self._pollers: list[Poller] = []
        self._catching_up: dict[tuple[int, int | None], asyncio.Task[None]] = {}
        """Per (feed id, scope): the catch-up of a subscription to a feed others poll already."""
        self._pruning: asyncio.Task[None] | None = None
        """The hourly prune a fetch or an ingest started (``_prune_after``), while it runs."""
        self._unsubscribe = engine.on_ingest(self._ingested)

    @classmethod
    async def open(
        cls,
        engine: Engine,
        *,
        fetcher_factory: Callable[[], Fetcher] | None = None,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
        rng: random.Random | None = None,
        to_read: bool = False,
    ) -> FeedDesk:
        """Open the feed state in ``engine``'s database; the first time, register the seed feeds.
        A data dir that cannot be written (a read-only mount or copy) is refused in one line,
        before anything is fetched, unless the desk is only ``to_read`` (``feeds list``): it is
        then read as it is, not migrated or seeded."""
        if engine.read_only and not to_read:
            raise StoreError(
                f"the data folder {engine.settings.data_path} cannot be written, and the feeds keep "
                "their state there: fetch, ingest and change feeds in a writable one"
            )
        db = await StateDB.open(engine.db_path, read_only=engine.read_only)
        desk = cls(engine, db, fetcher_factory=fetcher_factory, clock=clock, sleep=sleep, rng=rng)
        try:
            if not engine.read_only:
                await desk._seed()
        except BaseException:
            await desk.close()
            raise
        return desk

    async def close(self) -> None:
        for poller in self._pollers:
            await poller.stop()
        await self.settled()  # a prune started is finished, not cut short: it is owed until done
        for task in self._catching_up.values():
            task.cancel()
        await asyncio.gather(*self._catching_up.values(), return_exceptions=True)
        self._unsubscribe()
        if self._open_fetcher is not None:
            await self._open_fetcher.close()
            self._open_fetcher = None
        await self.db.close()

    async def __aenter__(self) -> FeedDesk:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def _fetcher(self) -> Fetcher:
        async with self._fetcher_lock:
            if self._open_fetcher is None:
                fetcher = self._fetcher_factory()
                await fetcher.open()
                self._open_fetcher = fetcher
            return self._open_fetcher

    async def _seed(self) -> None:
        """Register the seed feeds at the data dir's first open; one with ``seed = false`` counts
        as that first open too, so a later command without the setting adds none."""
        if await self.db.flag(SEEDED_FLAG):
            return
        specs = load_seed(self.settings.seed_file or None) if self.settings.seed else []
        for spec in specs:
            try:
                await self.add_feed(spec.url, name=spec.name, source=spec.source, language=spec.language,
                                    every=spec.every, check=False)  # fmt: skip
            except FeedError as exc:
                log.info("seed feed %s skipped: %s", spec.url, exc)
        await self.db.set_flag(SEEDED_FLAG)
        log.info("registered %d seed feed(s)", len(specs))

    # -- feeds -----------------------------------------------------------------------------
    async def all_feeds(self) -> list[Feed]:
        """Every feed polled, whoever subscribes to it (the poller's list)."""
        return await self.state.feeds()

    async def feeds(self, *, guild_id: int | None = None) -> list[Feed]:
        """The feeds of one scope: the shared corpus's (None) or a server's own, by name."""
        return await self.scopes.feeds(guild_id)

    async def feed(self, name: str, *, guild_id: int | None = None) -> Feed:
        feed = await self.scopes.feed(name, guild_id)
        if feed is None:
            raise UnknownFeed(name)
        return feed

    async def add_feed(
        self,
        url: str,
        *,
        name: str | None = None,
        source: str | None = None,
        language: str | None = None,
        every: int | None = None,
        check: bool = True,
        guild_id: int | None = None,
    ) -> Feed:
        """Register a feed, for the shared corpus or (``guild_id``) as a server's own. With
        ``check`` it is fetched once first: a URL that is not a feed is refused, and the feed's
        title and language fill in ``name`` and ``language``; a server's fetch counts towards its
        ``server_ingests_per_hour`` (refused or not: adding a page that is no feed over and over
        had the host request a site as fast as the commands came). A feed another scope polls
        already (the same URL: ``feed_key``) is subscribed to, not registered twice, and added
        as if it were new (checked alike, then due for a poll: ``scopes.SQL_SUBSCRIBE``): the
        scope keeps its own name, URL, language and interval, and cannot tell that others poll
        it; its articles so far come with it, in the background (``caught_up``).
        A scope's adds run one at a time in a process, so none fetches past a
        server's quota; the quota itself holds across processes (``Servers.subscribe``)."""
        url = url.strip()
        if not url.startswith(("http://", "https://")):
            raise FeedError(f"not an http(s) URL: {url!r}")
        if guild_id is not None and source:
            raise FeedError("only the bot's operators may set the outlet a feed's articles are credited to")
        every = every or self.settings.poll_minutes
        if every < 1:
            raise FeedError("a feed is polled every 1 minute at the most")
        async with self._adding.setdefault(guild_id or 0, asyncio.Lock()):
            if guild_id is not None:
                await self.servers.check_feed_room(guild_id)
            polled = await self._polled(url)
            mine = await self.scopes.feed(polled.url, guild_id) if polled is not None else None
            if mine is not None:
                raise FeedTaken(
                    f"that feed is already registered as {mine.name!r}", name=mine.name, which="feed"
                )
            title = ""
            if check:  # whoever polls it already: the scope is told what it would be told alone
                title, language = await self._feed_says(url, guild_id, language)
            name = " ".join((name or "").split())[:MAX_NAME] or await self._free_name(
                slug(title) or slug(_host(url)) or "feed", guild_id
            )
            if await self.scopes.name_taken(name, guild_id):
                raise FeedTaken(f"a feed called {name!r} is already registered", name=name, which="name")
            sub = Subscription(name, url, _language(language), every)
            feed = polled or _new_feed(name, url, source, language, every, guild_id)
            polled = await self._subscribe(feed, guild_id, sub)
        if polled is not None:
            if guild_id is None:  # the operators set the outlet the articles are credited to
                await self.state.lend(polled.id, _outlet(source))
            self._start_catch_up(await self._polled(url) or polled, guild_id)  # its language as of now
        self._wake()
        return await self.feed(name, guild_id=guild_id)

    async def _feed_says(
        self, url: str, guild_id: int | None, language: str | None
    ) -> tuple[str, str | None]:
        """The feed's title and language (``language`` where given), fetched once; a URL that is
        not a feed raises. A fetch of a page a server chose counts as an ingest's."""
        if guild_id is not None:
            await self.servers.charge_ingest(guild_id)
        poll = await poll_feed(await self._fetcher(), url)
        if poll.feed is None:
            return "", language
        return poll.feed.title, language or poll.feed.language

    async def _subscribe(self, feed: Feed | NewFeed, guild_id: int | None, sub: Subscription) -> Feed | None:
        """Subscribe the scope to a feed others poll, or register a new one; returns the feed
        others poll that it subscribed to (None: it registered one). Another scope (a task, a
        process) may register the same new feed first: the scope then subscribes to that one."""
        try:
            await self.servers.subscribe(feed.id if isinstance(feed, Feed) else feed, guild_id, sub)
        except QuotaExceeded:
            raise
        except FeedError:
            if isinstance(feed, Feed) or (polled := await self._polled(feed.url)) is None:
                raise
            await self.servers.subscribe(polled.id, guild_id, sub)
            return polled
        return feed if isinstance(feed, Feed) else None

    async def _polled(self, url: str) -> Feed | None:
        """The feed registered at ``url`` (the same up to ``feed_key``), if any."""
        return next((f for f in await self.all_feeds() if feed_key(f.url) == feed_key(url)), None)

    def _start_catch_up(self, feed: Feed, guild_id: int | None) -> None:
        """Run ``_catch_up`` in a task (one per feed and scope) that keeps its claim; its failure
        is logged (and the catch-up, still owed, is resumed once its claim is stale)."""
        key = (feed.id, guild_id)
        if key in self._catching_up:
            return
        task = asyncio.create_task(
            self._claimed(self._catch_up(feed, guild_id), key), name=f"catch-up-{feed.name}"
        )
        self._catching_up[key] = task
        task.add_done_callback(lambda done: self._caught_up(key, done))

    def _caught_up(self, key: tuple[int, int | None], task: asyncio.Task[None]) -> None:
        self._catching_up.pop(key, None)
        if not task.cancelled() and task.exception() is not None:
            log.error("catching feed %s up for scope %s failed", *key, exc_info=task.exception())

    async def _claimed(self, work: Awaitable[None], key: tuple[int, int | None]) -> None:
        """Run ``work`` while renewing the claim on catch-up ``key``; stop it when the claim is
        no longer ours (another process took it on, or the subscription ended)."""
        running, _ = await first_of(work, self._keep_claim(key))
        if not running.cancelled():
            running.result()  # its error, if any, for ``_caught_up`` to log

    async def _keep_claim(self, key: tuple[int, int | None]) -> None:
        """Renew the claim every ``CATCH_UP_RENEW_S``; return when it is no longer ours."""
        while True:
            await self.sleep(CATCH_UP_RENEW_S)
            try:
                if not await self.scopes.renew_catch_up(*key, self.clock()):
                    log.warning("the catch-up of feed %s for scope %s is no longer ours: stopped", *key)
                    return
            except Exception:  # the database busy: the next renewal may pass (stale only after several)
                log.exception("renewing the claim on the catch-up of feed %s for scope %s failed", *key)

    async def caught_up(self) -> None:
        """Wait for the catch-ups in progress (a one-shot command's, before it closes the desk)."""
        await asyncio.gather(*self._catching_up.values(), return_exceptions=True)

    async def _catch_up(self, feed: Feed, guild_id: int | None) -> None:
        """Bring a subscribing scope what the feed brought so far (``_bring``): done, or owed
        again after a backoff when a page failed for now or it raised (a bug, the database:
        logged with its traceback), given up after ``CATCH_UP_GIVE_UP_S`` of that."""
        try:
            retry_after = await self._bring(feed, guild_id)
            if retry_after is None:
                await self.scopes.caught_up(feed.id, guild_id)
                return
        except Exception:
            log.exception("catching feed %s up for scope %s failed", feed.id, guild_id)
            retry_after = 0.0
        await self._retry_catch_up(feed.id, guild_id, retry_after)

    async def _bring(self, feed: Feed, guild_id: int | None) -> float | None:
        """Give a scope subscribing to a feed others poll what the feed brought so far: the
        articles still stored are granted, as stored (the version every other subscriber sees:
        a page changed since without its item is not fetched again, for them either, and the
        poll that finds its item changed updates it for them all); those gone (forgotten by the
        servers that had them, to stay within their quotas) or another server's own version
        (``_theirs``) are fetched again for this scope alone, the newest
        ``max_items_per_poll``; then its own quota holds. "So far" is what the feed's memory
        holds: at most ``item_memory`` items besides those its latest poll listed. Returns
        None when done, else the least wait before another try (``Ingester.refill``)."""
        brought = await self.state.brought(feed.id, self.settings.item_memory + self.settings.max_feed_items)
        live = await self.engine.live([r.article_uid for r in brought if r.article_uid])
        live -= await self._theirs(feed, live, guild_id)
        await self.engine.grant([(uid, guild_id) for uid in live])
        gone: dict[str | None, SeenItem] = {}
        for record in brought:  # newest first: an article's newest item is fetched
            if record.article_uid not in live:
                gone.setdefault(record.article_uid, record)
        newest = list(gone.values())[: self.settings.max_items_per_poll]
        retry_after = None
        if newest:
            async with self._locks.hold(feed.id):
                retry_after = await self.ingester.refill(feed, newest, guild_id)
        if guild_id is not None:
            await self.servers.trim(guild_id)
        return retry_after

    async def _theirs(self, feed: Feed, live: set[str], guild_id: int | None) -> set[str]:
        """The articles of ``live`` some of the feed's other servers see and others do not: a
        page they split over (``harvest.split``), whose item's record names the version of the
        last part written (a copy of some servers' own, or one a server took itself, maybe
        before the page changed). A server following the feed alone is shown a version of its
        own, never another's: the page is fetched for it (``Ingester.refill``)."""
        if guild_id is None:  # the shared corpus may take a servers' version (``Ingester._versions``)
            return set()
        others = set((await self.scopes.subscribers([feed.id])).get(feed.id, ())) - {guild_id}
        viewers = await self.engine.viewers(list(live))
        return {uid for uid, who in viewers.items() if None not in who and not others <= who}

    async def _retry_catch_up(self, feed_id: int, guild_id: int | None, retry_after: float) -> None:
        """Leave the catch-up owed, to be tried again once its backoff (and the site's
        ``retry_after``) has passed: deleted as done, its articles never came. Failing for
        ``CATCH_UP_GIVE_UP_S``, it is given up, with a warning, and the scope's feed listing
        says so (``Feed.catch_up_failed``): its admins read that, not the log."""

        def wait(attempts: int) -> float:
            return next_delay(
                CATCH_UP_RETRY_S, attempts, self.settings, retry_after=retry_after, rng=self.rng
            )

        attempts = await self.scopes.retry_catch_up(feed_id, guild_id, self.clock(), wait)
        if attempts is None:
            return
        span = failing_for(CATCH_UP_RETRY_S, attempts, self.settings)
        if span >= CATCH_UP_GIVE_UP_S:
            await self.scopes.caught_up(feed_id, guild_id, failed=True)
            log.warning(
                "the catch-up of feed %s for scope %s failed %d times over %.0f hours: given up "
                "(the articles it lacked stay missing for that scope)",
                feed_id,
                guild_id,
                attempts,
                span / 3600,
            )
            return
        log.warning(
            "the catch-up of feed %s for scope %s failed for now (attempt %d): tried again later",
            feed_id,
            guild_id,
            attempts,
        )

    async def resume_catch_ups(self) -> list[tuple[int, int | None]]:
        """Resume the catch-ups a process took on and left unfinished (their claims not renewed
        for ``CATCH_UP_STALE_S``); returns those taken on (feed id, scope). The feeds are read
        before the claim, so an error leaves the catch-ups owed as they were."""
        feeds = {f.id: f for f in await self.all_feeds()}
        now = self.clock()
        horizon = now + longest_delay(CATCH_UP_RETRY_S, self.settings)
        owed = await self.scopes.claim_catch_ups(now - CATCH_UP_STALE_S, now, horizon)
        for feed_id, guild_id in owed:
            if feed_id in feeds:  # else it was removed meanwhile
                log.info("resuming the catch-up of feed %s for scope %s", feed_id, guild_id)
                self._start_catch_up(feeds[feed_id], guild_id)
        return owed

    async def remove_feed(self, name: str, *, guild_id: int | None = None) -> Feed:
        """Unsubscribe a scope from a feed (unregistered when nobody else polls it); its articles
        stay in the index for those who saw them (and its items in the dedupe memory, while
        their articles do: ``forget_feedless_items``)."""
        feed = await self.feed(name, guild_id=guild_id)
        if await self.scopes.unsubscribe(feed.id, guild_id):
            self._locks.forget(feed.id)
        return feed

    async def _free_name(self, base: str, guild_id: int | None) -> str:
        taken = {f.name.casefold() for f in await self.feeds(guild_id=guild_id)}
        name, n = base, 2
        while name.casefold() in taken:
            name, n = f"{base}-{n}", n + 1
        return name

    def _wake(self) -> None:
        for poller in self._pollers:
            poller.wake()

    # -- fetching --------------------------------------------------------------------------
    async def fetch(
        self,
        name: str | None = None,
        *,
        say: Say | None = None,
        index_progress: ProgressFn | None = None,
        guild_id: int | None = None,
        as_seen_by: int | None = None,
        ignore_wait: bool = False,
    ) -> FetchReport:
        """Poll one feed, or every feed, of a scope now; new articles are answerable when this
        returns (to the feeds' subscribers). ``as_seen_by``: a server the report is for, which
        is told as new what is new to it (``harvest.as_seen``); None: as the store sees it. The
        scope's own schedules start again from this poll (the others' are as they were).
        A feed whose site asked the host to wait (``Retry-After``), or backing off after failures,
        is not requested before its next poll (``report.waiting``), unless ``ignore_wait`` (the
        operators' explicit choice): a command is no way round what the poller keeps to."""
        feeds = [await self.feed(name, guild_id=guild_id)] if name else await self.feeds(guild_id=guild_id)
        views = {f.id: f for f in feeds}
        waits = {} if ignore_wait else await self._waits(views)
        report = await self.fetch_feeds(
            [i for i in views if i not in waits],
            say=say,
            index_progress=index_progress,
            views=views,
            as_seen_by=as_seen_by,
        )
        report.waiting = [Waiting(views[i].name, views[i].url, until) for i, until in waits.items()]
        return report

    async def _waits(self, feeds: Collection[int]) -> dict[int, float]:
        """Feed id → its next poll, for those of ``feeds`` the poller holds back: failed last
        (a 429/503's ``Retry-After`` is a failure) and due later, not beyond their longest wait
        (further, a clock set back put it there: the poller polls it, ``Poller._tick``). Not a
        feed whose last failure was the host's (a bug, a store that could not take it): its site
        asked for no wait, and the one fetching now may have mended the host."""
        now = self.clock()
        return {
            f.id: f.next_poll
            for f in await self.all_feeds()
            if f.id in feeds
            and f.failures > 0
            and host_failure_at(f.last_error or "") < 0
            and now < f.next_poll <= now + longest_delay(f.every_minutes * 60.0, self.settings)
        }

    async def fetch_feeds(
        self,
        ids: Sequence[int],
        *,
        say: Say | None = None,
        index_progress: ProgressFn | None = None,
        views: Mapping[int, Feed] | None = None,
        as_seen_by: int | None = None,
    ) -> FetchReport:
        """Poll the feeds with these ids (one generation for all), each under its feed lock;
        ``views``: the feeds as the scope that asks lists them (``fetch``): polled at the URL it
        gave, reported by its name, its schedule moved on; ``as_seen_by``: ``fetch``."""
        async with contextlib.AsyncExitStack() as stack:
            order = sorted(set(ids))
            self.queued.update(order)
            try:
                for feed_id in order:
                    await stack.enter_async_context(self._locks.hold(feed_id))
            finally:
                self.queued.subtract(order)
            # Read the feeds under their locks: a poll that just finished changed their validators.
            wanted = set(ids)
            views = views or {}
            feeds = [
                dataclasses.replace(f, name=views[f.id].name, url=views[f.id].url) if f.id in views else f
                for f in await self.all_feeds()
                if f.id in wanted
            ]
            if not feeds:
                return FetchReport()
            subscribers = await self.scopes.subscribers([f.id for f in feeds])
            asked = tuple({v.guild_id for v in views.values()})
            report = await self.ingester.run(
                feeds, subscribers, say=say, index_progress=index_progress, as_seen_by=as_seen_by, asked=asked
            )
        for guild_id in {g for subs in subscribers.values() for g in subs if g is not None}:
            await self.servers.trim(guild_id)
        self._prune_after()
        return report

    async def ingest(
        self,
        url: str,
        *,
        index_progress: ProgressFn | None = None,
        guild_id: int | None = None,
        as_seen_by: int | None = None,
    ) -> ItemOutcome:
        """Fetch one article page and index it (``new``, ``updated``, or ``duplicate`` of an
        article already stored; ``as_seen_by`` a server, ``new`` unless it saw it: ``fetch``),
        for the shared corpus or as a server's own (within its quotas); raises ``FetchError``
        with the reason when it cannot."""
        if guild_id is not None:
            await self.servers.charge_ingest(guild_id)
        outcome = await self.ingester.ingest(
            url, index_progress=index_progress, guild_id=guild_id, as_seen_by=as_seen_by
        )
        if guild_id is not None:
            await self.servers.trim(guild_id)
        self._prune_after()
        return outcome

    # -- servers ---------------------------------------------------------------------------
    async def server_left(self, guild_id: int) -> None:
        """The bot was removed from a server: its feeds and own articles are forgotten later."""
        await self.servers.left(guild_id)

    async def server_back(self, guild_id: int) -> bool:
        """The bot is in a server (again): nothing of it is forgotten; True when it had left."""
        return await self.servers.back(guild_id)

    async def known_servers(self) -> set[int]:
        """Every server with something of its own here: feeds, follows or articles."""
        return await self.scopes.servers() | await self.engine.servers()

    async def forget_departed(
        self, after_s: float, also: Callable[[int], Awaitable[object]] | None = None
    ) -> list[int]:
        """Forget the servers left more than ``after_s`` ago, and through ``also`` what the front
        end keeps of each (``servers``); returns their ids."""
        return await self.servers.forget_departed(after_s, also)

    async def prune(self) -> int:
        """Forget the feed-less items and the topic matches that guard nothing any more
        (``forget_feedless_items``, ``forget_spent_matches``), and old drops of follows and
        alerts (``Drops.forget_old``, ``Undelivered.forget_old``); a failure of one is logged, and the
        others still run. Safe in several processes at once: a row is deleted only as it was
        read. Returns how many rows went."""
        forgotten = 0
        chores = (
            self.forget_feedless_items,
            self.forget_spent_matches,
            self.drops.forget_old,
            self.undelivered.forget_old,
        )
        for chore in chores:
            try:
                forgotten += await chore()
            except Exception:  # the store is busy or a bug: say so, the next turn tries again
                log.exception("forgetting spent feed records failed (%s)", chore.__name__)
        return forgotten

    def _prune_after(self) -> None:
        """After a fetch or an ingest, ``prune`` in a task of its own (``_prune_when_due``), so the
        fetch or ingest returns without waiting for it; one at a time (another would not get
        the turn). ``close`` waits for it, so a one-shot command prunes before it exits."""
        if self._pruning is None or self._pruning.done():
            self._pruning = asyncio.create_task(self._prune_when_due(), name="prune")

    async def settled(self) -> None:
        """Wait for the prune a fetch or an ingest started, if one runs (``close`` does)."""
        if self._pruning is not None:
            await asyncio.gather(self._pruning, return_exceptions=True)

    async def _prune_when_due(self) -> None:
        """``prune``, unless a process did in the last ``PRUNE_EVERY_S``: the tables stay bounded
        wherever feeds are polled or pages ingested (from the command line alone too, with no
        bot's housekeeping). Its failure is logged: what was fetched stays."""
        try:
            if await self.db.take_turn(PRUNE_TURN, self.clock(), PRUNE_EVERY_S):
                await self.prune()
        except Exception:
            log.exception("taking a turn to forget spent feed records failed")

    async def forget_feedless_items(self) -> int:
        """Forget the items no feed remembers (pages ingested one at a time, the items of feeds
        since removed: nothing else ever forgets them) that guard nothing any more: those whose
        article left the index (or that brought none: failures). Those of articles still indexed
        stay, one per URL (``state.orphan_items``): they keep such an article from being stored
        twice (the same text from the same outlet at another address, a link that redirects to
        it), so they are as many as the index holds articles' addresses. In batches of
        ``FORGET_BATCH``, each a short transaction; returns how many went."""
        forgotten = await self._forget_spent(self.state.feedless, self.state.drop_feedless, 0)
        if forgotten:
            log.info(
                "forgot %d item(s) of pages ingested and feeds removed: their articles left the index",
                forgotten,
            )
        return forgotten

    async def forget_spent_matches(self) -> int:
        """Forget the topic matches that guard nothing any more: those nobody is sending whose
        article left the index, unposted (nothing to post) or posted more than ``POSTED_KEPT_S``
        ago (an article ingested again after that is alerted again, as new), and any left by a
        removed follow. A posted match of an indexed article stays: an update of the article
        would otherwise alert it again. So do claimed ones (``claims``: being sent) and the
        channel's last post while its ``digest_gap_s`` runs. One posted further ahead of the
        clock than that was posted by a clock since set back, at a time unknown: it is spent
        too (as ``plan_posts`` counts it). In batches of ``FORGET_BATCH``, each a short
        transaction; returns how many went."""
        now, gap = self.clock(), self.settings.digest_gap_s
        cutoff, ahead = now - max(POSTED_KEPT_S, gap), now + gap

        async def settled(after: tuple[int, str], limit: int) -> list[SettledMatch]:
            return await self.follows.settled(after, limit, posted_before=cutoff, posted_after=ahead)

        forgotten = await self._forget_spent(settled, self.follows.forget, (0, ""))
        if forgotten:
            log.info("forgot %d topic match(es): their articles left the index", forgotten)
        return forgotten

    async def _forget_spent(
        self,
        read: Callable[[Any, int], Awaitable[Sequence[F]]],
        drop: Callable[[list[F]], Awaitable[int]],
        start: object,
    ) -> int:
        """Read records past ``start`` in batches of ``FORGET_BATCH`` (key order), look up which
        of their articles are indexed, and ``drop`` the spent ones (one short transaction per
        batch); returns how many went."""
        forgotten, after = 0, start
        while batch := await read(after, FORGET_BATCH):
            live = await self.engine.live([r.article_uid for r in batch if r.article_uid])
            forgotten += await drop([r for r in batch if r.spent(live)])
            after = batch[-1].key
        return forgotten

    def poller(self, **kwargs: object) -> Poller:
        """The background poller (not started); ``close()`` stops it."""
        poller = Poller(self, **kwargs)  # type: ignore[arg-type]
        self._pollers.append(poller)
        return poller

    async def record_crash(self, feed_id: int, exc: BaseException) -> None:
        """Record an unexpected error of a poll on its feed (so it backs off like a failure)."""
        feed = next((f for f in await self.all_feeds() if f.id == feed_id), None)
        if feed is None:
            return
        await self.ingester.polled(feed, error=internal_error(exc))

    # -- follows ---------------------------------------------------------------------------
    async def _ingested(self, generation: int, article_ids: list[str]) -> None:
        await self.follows.match(article_ids)

    async def _granted(self, seen_before: Mapping[str, Collection[int | None]]) -> None:
        """Stored articles (duplicates) were granted to more readers: new to them, so their
        follows (only theirs) are matched, as if the articles had just been ingested."""
        await self.follows.match(list(seen_before), seen_before=seen_before)

    async def follow(
        self,
        channel_id: int,
        topic: str,
        *,
        guild_id: int | None = None,
        created_by: int | None = None,
        locale: str | None = None,
        limit: int | None = None,
        server_limit: int | None = None,
        parent_id: int | None = None,
    ) -> Follow:
        """Post articles about ``topic`` in a channel (a thread of ``parent_id``) as they are
        ingested (in the language of the server's ``locale``); a channel follows at most
        ``limit`` topics, a server at most ``server_limit`` across its channels (``Follows.add``)."""
        return await self.follows.add(
            channel_id,
            topic,
            guild_id=guild_id,
            created_by=created_by,
            locale=locale,
            limit=limit,
            server_limit=server_limit,
            parent_id=parent_id,
        )

    async def server_locale(self, guild_id: int, locale: str) -> int:
        """The server's locale changed (or may have): its follows' alerts are in its language now."""
        return await self.follows.server_locale(guild_id, locale)

    async def unfollow(self, channel_id: int, topic: str) -> Follow:
        return await self.follows.remove(channel_id, topic)

    async def drop_follows(
        self, reason: DropReason, *, channel_id: int | None = None, guild_id: int | None = None
    ) -> list[Follow]:
        """Discord says a channel (or a server) can take no more alerts: its follows stop (a
        deleted channel's threads' too), and ``dropped_follows`` tells its members why for a
        while (``drops``)."""
        return await self.drops.drop(reason, channel_id=channel_id, guild_id=guild_id)

    async def dropped_follows(
        self, channel_id: int | None = None, *, guild_id: int | None = None
    ) -> list[DroppedFollow]:
        """The follows of a channel (and its threads) or server the bot stopped lately, newest first."""
        return await self.drops.recent(channel_id=channel_id, guild_id=guild_id)

    async def learn_parents(self, parents: Mapping[int, int | None]) -> int:
        """Threads (id → their channel's id) the bot sees: those followed before their parent was
        kept learn it, so a deleted channel takes their follows along (``parents``)."""
        return await learn_parents(self.db, parents)

    async def alert_undelivered(self, post: Post, reason: UndeliveredReason) -> None:
        """``post`` was given up on after its attempts: ``undelivered_alerts`` tells the members of
        its channel for a while (``undelivered``)."""
        await self.undelivered.remember(post, reason)

    async def undelivered_alerts(
        self, channel_id: int | None = None, *, guild_id: int | None = None
    ) -> list[UndeliveredAlert]:
        """The alerts of a channel (and its threads) or server given up on lately, newest first."""
        return await self.undelivered.recent(channel_id=channel_id, guild_id=guild_id)

    async def following(self, channel_id: int | None = None, *, guild_id: int | None = None) -> list[Follow]:
        return await self.follows.following(channel_id, guild_id=guild_id)

    def on_match(self, listener: MatchListener) -> Callable[[], None]:
        """Call ``listener(matches)`` when ingestion matched followed topics (wake the alert loop)."""
        return self.follows.on_match(listener)

    async def due_posts(self, now: float | None = None) -> list[Post]:
        """What to post now: claims due for a (re)send, then at most one new post per channel
        without a claim outstanding (see ``digest.plan_posts``), in turns across servers
        (``digest.by_turns``)."""
        now = self.clock() if now is None else now
        retries = []
        for nonce, _ in await self.claims.due(now):
            matches = await self.follows.pending(claim=nonce)
            await self.claims.let_go(nonce, [m.article.id for m in matches])
            if matches:
                retries.append(claimed_post(nonce, matches, lambda c, ms: post_of(c, ms, len(ms))))
            else:  # its articles left the index, or its server's sight: nothing to send
                await self.claims.sent(
                    Post(channel_id=0, items=(), also_in=(), article_ids=(), topics=(), nonce=nonce)
                )
        held = await self.claims.held_channels()
        s = self.settings
        fresh = plan_posts(
            [m for m in await self.follows.pending() if m.channel_id not in held],
            await self.follows.last_posts(before=now + s.digest_gap_s),
            now,
            gap_s=s.digest_gap_s,
            settle_s=s.digest_settle_s,
            max_items=s.digest_max_items,
        )
        return by_turns(retries + fresh)

    async def claim(self, post: Post) -> Post | None:
        """Claim ``post`` as it is sent (it gets its ``nonce``; if this process dies before
        ``mark_posted``, the next sender's ``recover_claims`` resends it); None: someone has it."""
        return await self.claims.claim(post)

    async def send_failed(self, post: Post, backoff_s: float, *, maybe_posted: bool = False) -> int:
        """Discord refused a claimed post, or (``maybe_posted``) its send got no answer or a server
        error: retry it after a backoff (``Claims.failed``); returns its attempts so far."""
        return await self.claims.failed(post, backoff_s, maybe_posted=maybe_posted)

    async def recover_claims(self) -> tuple[int, int]:
        """On taking the background work over: (resent, dropped) claims of a sender that stopped."""
        return await self.claims.recover()

    async def mark_posted(self, post: Post, at: float | None = None) -> None:
        """Record that ``post`` was sent (or dropped): its articles are never posted in its channel again."""
        if post.nonce is not None:
            await self.claims.sent(post, at)
        else:
            await self.follows.mark_posted(post.channel_id, post.article_ids, at)


def _new_feed(
    name: str, url: str, source: str | None, language: str | None, every: int, guild_id: int | None
) -> NewFeed:
    """A feed to register under a name unique among all scopes' (``name@guild`` for a server's)."""
    internal = name if guild_id is None else f"{name}@{guild_id}"
    return NewFeed(internal, url, _outlet(source), _language(language), every)


def _outlet(source: str | None) -> str | None:
    return canonical_outlet(source) if source else None


def _language(language: str | None) -> str | None:
    return (language or "").strip().lower().split("-")[0].split("_")[0] or None


def _host(url: str) -> str:
    try:
        return (urlsplit(url).hostname or "").removeprefix("www.")
    except ValueError:
        return ""
