"""feeds add|list|remove, fetch and ingest: the feed commands of /admin and /operator.

``FeedCommands`` is mixed into ``AdminCog`` (a server's own feeds and pages) and ``OperatorCog``
(the shared corpus's), so these commands live in their groups and pass their permission
checks before they run; ``scope`` says whose feeds a command acts on. Each handler defers
privately, awaits one ``FeedDesk`` call and renders the result (``render_feeds``); errors such
as a URL that is not a feed (``FeedError``, ``FetchError``) reach the tree's error handler and
are shown privately as one line. Fetch and ingest can wait long for another writer, so they
run as tasks followed by a status message (``status``) that outlives the interaction token,
and end it with their result or error.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections.abc import Awaitable, Callable, Iterator
from typing import TYPE_CHECKING, Any, TypeVar

import discord
from discord import app_commands
from discord.ext import commands
from foreign_desk.bot.options import language_option
from foreign_desk.index.feeds import FeedTaken, ItemOutcome, PollNote, QuotaExceeded, UnknownFeed
from foreign_desk.index.fetch import HTTPStatusError, NotAFeed, RetryLater

from ..errors import Refusal
from ..i18n import EN, Texts, for_interaction
from ..limits import CHOICE_MAX, CHOICES_MAX, escape, safe_url
from ..render_feeds import (
    feed_added_text,
    feed_removed_text,
    feeds_embed,
    fetch_failure_text,
    fetch_progress_text,
    fetch_report_text,
    fetch_starting_text,
    ingest_failed_text,
    ingest_text,
    poll_line,
)
from ..replies import NO_PINGS, defer_private
from ..status import Handoff, StatusMessage
from ..translator import L

if TYPE_CHECKING:
    from ..client import ForeignDeskBot

log = logging.getLogger(__name__)

T = TypeVar("T")


def web_address(url: str) -> None:
    """Refuse, in the reader's language, what the engine would refuse as no http(s) URL
    (``antaranews.com/rss``): its words are English."""
    if not url.strip().startswith(("http://", "https://")):
        raise Refusal("error.not_web_address")


@contextlib.contextmanager
def feed_refusals(*, adding: bool = False) -> Iterator[None]:
    """A server's quota (``feeds.servers``), a feed name that none of the scope's feeds has, a
    feed or name the scope has already, or (``adding`` a feed) an address that is no feed,
    turned into a refusal in the reader's language (the engine's text sends to the CLI)."""
    try:
        yield
    except UnknownFeed as exc:
        raise Refusal("feeds.unknown", name=escape(exc.name)) from None
    except FeedTaken as exc:
        raise Refusal(f"feeds.taken.{exc.which}", name=escape(exc.name)) from None
    except HTTPStatusError as exc:
        if not adding or isinstance(exc, RetryLater):  # a page's; a site asking to come back later
            raise
        raise Refusal("feeds.http_status", status=exc.status) from None
    except NotAFeed as exc:
        link = safe_url(exc.feed_link)  # the page author's text: no Markdown link made of it
        if link is not None:
            link = link.replace("[", "%5B").replace("]", "%5D")
            raise Refusal("feeds.not_a_feed.linked", link=link) from None
        raise Refusal(f"feeds.not_a_feed.{exc.kind}") from None
    except QuotaExceeded as exc:
        if exc.kind == "feeds":
            raise Refusal("quota.feeds", limit=exc.limit) from None
        raise Refusal("quota.ingests", limit=exc.limit, minutes=max(1, math.ceil(exc.wait_s / 60))) from None


class FetchStatus(StatusMessage):
    """The /admin fetch and ingest status message: a line per feed polled, then the indexing
    progress."""

    def __init__(
        self,
        edit: Callable[..., Awaitable[Any]],
        *,
        interval_s: float,
        what: str,
        tx: Texts = EN,
        handoff: Handoff | None = None,
        host: bool = False,
    ) -> None:
        super().__init__(edit, interval_s=interval_s, full=False, tx=tx, handoff=handoff, host=host)
        self.what = what
        self.lines: list[str] = []
        self.started = time.monotonic()

    def say(self, note: PollNote) -> None:
        self.lines.append(poll_line(note, self.tx, host=self.host))
        self.changed()

    def starting(self) -> str:
        return fetch_starting_text(self.what, self.tx)

    def text(self) -> str | None:
        elapsed = time.monotonic() - self.started
        return fetch_progress_text(self.what, self.lines, self._latest, elapsed, self.tx)


class FeedCommands(commands.Cog):
    """The feed commands of ``AdminCog`` and ``OperatorCog``, which provide ``bot``, ``scope``
    and the permission check (a cog class only so that discord.py and type checkers accept its
    commands; never added alone)."""

    bot: ForeignDeskBot
    fetching: dict[int | None, asyncio.Task[Any]]
    """The fetch running, per scope: one at a time per scope, and no scope refuses another's
    (their writes queue on the engine's writer lock, across processes too)."""

    def scope(self, interaction: discord.Interaction) -> int | None:
        """Whose feeds and pages: a server's id, or None for the shared corpus."""
        raise NotImplementedError

    async def allowed(self, interaction: discord.Interaction) -> bool:
        """The group's permission check, for autocomplete (which skips ``interaction_check``)."""
        raise NotImplementedError

    feeds = app_commands.Group(
        name=L("command.admin.feeds.name"), description=L("command.admin.feeds.description")
    )

    @feeds.command(
        name=L("command.admin.feeds.add.name"), description=L("command.admin.feeds.add.description")
    )
    @app_commands.rename(
        url=L("command.admin.feeds.add.url.name"),
        name=L("command.admin.feeds.add.name.name"),
        source=L("command.admin.feeds.add.source.name"),
        language=L("command.admin.feeds.add.language.name"),
        every=L("command.admin.feeds.add.every.name"),
    )
    @app_commands.describe(
        url=L("command.admin.feeds.add.url.description"),
        name=L("command.admin.feeds.add.name.description"),
        source=L("command.admin.feeds.add.source.description"),
        language=L("command.admin.feeds.add.language.description"),
        every=L("command.admin.feeds.add.every.description"),
    )
    async def feeds_add(
        self,
        interaction: discord.Interaction,
        url: app_commands.Range[str, 8, 1000],
        name: app_commands.Range[str, 1, 40] | None = None,
        source: app_commands.Range[str, 1, 100] | None = None,
        language: app_commands.Range[str, 2, 10] | None = None,
        every: app_commands.Range[int, 1, 10080] | None = None,
    ) -> None:
        """Register a feed (fetched once to check that it is one); the bot polls it from then on."""
        guild_id = self.scope(interaction)
        if source and guild_id is not None:
            raise Refusal("feeds.source_operators")
        code = language_option(language)  # "english" is refused as /ask refuses it, before a fetch
        web_address(url)
        await defer_private(interaction)
        with feed_refusals(adding=True):
            feed = await self.bot.feeds.add_feed(
                url, name=name, source=source, language=code, every=every, guild_id=guild_id
            )
        log.info("feed %s (%s) added by user %s", feed.name, feed.url, interaction.user.id)
        text = feed_added_text(feed, for_interaction(interaction))
        await interaction.edit_original_response(content=text, allowed_mentions=NO_PINGS)

    @feeds.command(
        name=L("command.admin.feeds.list.name"), description=L("command.admin.feeds.list.description")
    )
    async def feeds_list(self, interaction: discord.Interaction) -> None:
        """The registered feeds: address, outlet, interval, last success, next poll, failures."""
        await defer_private(interaction)
        found = await self.bot.feeds.feeds(guild_id=self.scope(interaction))
        embed = feeds_embed(found, for_interaction(interaction), host=self.scope(interaction) is None)
        await interaction.edit_original_response(embed=embed, allowed_mentions=NO_PINGS)

    @feeds.command(
        name=L("command.admin.feeds.remove.name"), description=L("command.admin.feeds.remove.description")
    )
    @app_commands.rename(feed=L("command.admin.feeds.remove.feed.name"))
    @app_commands.describe(feed=L("command.admin.feeds.remove.feed.description"))
    async def feeds_remove(
        self, interaction: discord.Interaction, feed: app_commands.Range[str, 1, 100]
    ) -> None:
        """Stop polling a feed; the articles it brought stay in the index."""
        await defer_private(interaction)
        with feed_refusals():
            removed = await self.bot.feeds.remove_feed(feed, guild_id=self.scope(interaction))
        log.info("feed %s removed by user %s", removed.name, interaction.user.id)
        await interaction.edit_original_response(
            content=feed_removed_text(removed, for_interaction(interaction)), allowed_mentions=NO_PINGS
        )

    @app_commands.command(
        name=L("command.admin.fetch.name"), description=L("command.admin.fetch.description")
    )
    @app_commands.rename(feed=L("command.admin.fetch.feed.name"))
    @app_commands.describe(feed=L("command.admin.fetch.feed.description"))
    async def fetch(
        self, interaction: discord.Interaction, feed: app_commands.Range[str, 1, 100] | None = None
    ) -> None:
        """Poll the feeds now and index what is new; progress and a summary are shown here."""
        desk, guild_id = self.bot.feeds, self.scope(interaction)
        running = self.fetching.get(guild_id)
        if running is not None and not running.done():
            raise Refusal("fetch.already")
        # Acknowledged before the store: its connection may be waiting for the write lock.
        await defer_private(interaction)
        if feed is None and not await desk.feeds(guild_id=guild_id):
            raise Refusal("feeds.none")
        if feed is not None:  # an unknown name is a one-line error
            with feed_refusals():
                feed = (await desk.feed(feed, guild_id=guild_id)).name
        await self._space(guild_id)  # a name mistyped costs no wait
        tx = for_interaction(interaction)
        what = tx("fetch.what_one", feed=feed) if feed else tx("fetch.what_all")
        status = self._status(interaction, what, "fetch")
        # A server is told what is new to it, never what others brought before (``as_seen_by``).
        job = desk.fetch(feed, say=status.say, index_progress=status, guild_id=guild_id, as_seen_by=guild_id)
        stopped = lambda: status.interrupted(tx("fetch.interrupted"))  # noqa: E731
        task = self.fetching[guild_id] = self.bot.spawn(job, "fetch", on_stop=stopped)
        task.add_done_callback(lambda done: self._fetched(guild_id, done))
        report = await self._follow(status, task, lambda message: fetch_failure_text(message, tx))
        if report is None:
            return
        log.info("fetch of %s by user %s: %s", what, interaction.user.id, report.counts)
        await status.finish(fetch_report_text(report, tx, host=guild_id is None))

    @app_commands.command(
        name=L("command.admin.ingest.name"), description=L("command.admin.ingest.description")
    )
    @app_commands.rename(url=L("command.admin.ingest.url.name"))
    @app_commands.describe(url=L("command.admin.ingest.url.description"))
    async def ingest(self, interaction: discord.Interaction, url: app_commands.Range[str, 8, 1000]) -> None:
        """Fetch one article page and index it now (again, if it changed since)."""
        web_address(url)
        await defer_private(interaction)
        tx = for_interaction(interaction)
        status = self._status(interaction, tx("ingest.what", url=f"<{url}>"), "ingest")
        job = self._ingest(url, status, self.scope(interaction))
        # Not a page, an address refused, no article text, the writer busy: say why.
        stopped = lambda: status.interrupted(tx("ingest.interrupted"))  # noqa: E731
        outcome = await self._follow(
            status,
            self.bot.spawn(job, "ingest", on_stop=stopped),
            lambda reason: ingest_failed_text(url, reason, tx),
        )
        if outcome is None:
            return
        log.info("ingest of %s by user %s: %s", outcome.url, interaction.user.id, outcome.status)
        await status.finish(ingest_text(outcome, tx))

    async def _space(self, guild_id: int | None) -> None:
        """A server's fetches at most one per ``server_fetch_spacing_s``, else a ``Refusal``: each
        polls its feeds now, past their schedule and a site's Retry-After, so a manager repeating
        it would have the host hammer a site until it shuts out the host, and with it every
        server's (and the shared corpus's) feeds there. Kept in the bot's file: a restart, or a
        second process on the server's shard while a rolling restart overlaps them, had forgotten
        it. The operators' fetches are not spaced."""
        if guild_id is None:
            return
        left = await self.bot.answers.space_fetch(guild_id, self.bot.bot_settings.server_fetch_spacing_s)
        if left > 0:
            raise Refusal("fetch.too_soon", seconds=max(1, math.ceil(left)))

    def _fetched(self, scope: int | None, task: asyncio.Task[Any]) -> None:
        if self.fetching.get(scope) is task:
            del self.fetching[scope]

    async def _ingest(self, url: str, status: FetchStatus, guild_id: int | None) -> ItemOutcome:
        with feed_refusals():
            return await self.bot.feeds.ingest(
                url, index_progress=status, guild_id=guild_id, as_seen_by=guild_id
            )

    def _status(self, interaction: discord.Interaction, what: str, kind: str) -> FetchStatus:
        """The status message of a fetch or an ingest, moved out of the interaction before its
        token expires (waiting for another writer can take that long); the host's own failures
        named in it to the operators only."""
        tx, settings = for_interaction(interaction), self.bot.bot_settings
        return FetchStatus(
            interaction.edit_original_response,
            interval_s=settings.status_edit_interval_s,
            what=what,
            tx=tx,
            host=self.scope(interaction) is None,
            handoff=Handoff(
                interaction,
                after_s=settings.handoff_after_s,
                retry_s=settings.handoff_retry_s,
                what=kind,
                tx=tx,
            ),
        )

    async def _follow(
        self, status: FetchStatus, job: asyncio.Task[T], failure: Callable[[str], str]
    ) -> T | None:
        """``status.follow(job, failure)``; what the bot answers from may have changed after."""
        try:
            return await status.follow(job, failure)
        finally:
            self.bot.catalog.forget()

    @feeds_remove.autocomplete("feed")
    @fetch.autocomplete("feed")
    async def _feed_names(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        if not await self.allowed(interaction):
            return []  # autocomplete skips the cog's check: don't list feeds to just anyone
        typed = current.strip().casefold()
        found = await self.bot.feeds.feeds(guild_id=self.scope(interaction))
        names = [f.name for f in found if typed in f.name.casefold()]
        names.sort(key=lambda n: not n.casefold().startswith(typed))
        return [app_commands.Choice(name=n, value=n) for n in names if len(n) <= CHOICE_MAX][:CHOICES_MAX]
