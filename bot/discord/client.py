"""``ForeignDeskBot``: the engine opened in ``setup_hook``, one cog per feature, a clean close.

Lifecycle: ``login`` → ``setup_hook`` opens the engine (the model loads in a thread, the index
from disk off the loop), the feed desk on it, the answer store (``answers``: what the buttons of
answers need, and votes) and the users' cooldowns beside it (``cooldowns``), adds the cogs and
the answers' buttons, and starts waiting for the background lease → connect every shard of this
process (``shard_count`` / ``shard_ids``; by default the count Discord recommends, all in this
process) → answer. Once the lease is held (at once, or when the process holding it dies:
``coordination``), the feed poller and the topic-alert loop start here. ``close`` cancels a
running reindex or fetch, stops the alert loop and the poller, gives the lease up, disconnects,
then closes the cooldowns, the answer store, the feed desk and the engine it opened.
Commands are registered with ``foreign-desk sync``, never on start.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from datetime import UTC, datetime
from functools import partial
from typing import Any, TypeVar

import discord
from discord.ext import commands
from foreign_desk.index.config import Settings
from foreign_desk.index.embed import Embedder
from foreign_desk.index.engine import Engine
from foreign_desk.index.feeds import FeedDesk, FetchReport, Poller

from .alerts import Alerts
from .answers import AnswerStore
from .catalog import Catalog
from .cooldowns import Cooldowns
from .coordination import BackgroundLease, IdentifyGate
from .desk import Desk
from .housekeeping import Housekeeping
from .operators import Operators
from .replies import NO_PINGS
from .settings import BotSettings, load_bot_settings
from .tree import DeskTree

log = logging.getLogger(__name__)
T = TypeVar("T")


def intents_for(settings: BotSettings) -> discord.Intents:
    """Only what the enabled features need: guilds, plus guild / DM messages for mention / DM answers.

    Message Content is not requested: Discord sends the text of DMs and of messages that mention
    the bot without it.
    """
    intents = discord.Intents.none()
    intents.guilds = True
    intents.guild_messages = settings.answer_mentions
    intents.dm_messages = settings.answer_dms
    return intents


STOP_NOTICE_S = 5.0
"""How long a stop waits for the messages saying a job was cut short (``stopped_jobs``)."""


class ForeignDeskBot(commands.AutoShardedBot):
    """The Discord bot. Pass ``embedder`` (or an open ``engine``) to reuse a loaded model;
    ``shard_count`` and ``shard_ids`` (discord.py's options) run a slice of the shards."""

    def __init__(
        self,
        settings: Settings,
        bot_settings: BotSettings | None = None,
        *,
        embedder: Embedder | None = None,
        engine: Engine | None = None,
        open_engine: bool = True,
        **options: Any,
    ) -> None:
        self.settings = settings
        self.bot_settings = bot_settings or load_bot_settings(settings)
        options.setdefault("intents", intents_for(self.bot_settings))
        super().__init__(
            command_prefix=commands.when_mentioned,
            help_command=None,
            tree_cls=DeskTree,
            allowed_mentions=NO_PINGS,
            **options,
        )
        self._engine = engine
        self._owns_engine = engine is None
        self._embedder = embedder
        self._open_engine = open_engine
        self._desk: Desk | None = None
        self._feeds: FeedDesk | None = None
        self._answers: AnswerStore | None = None
        self.poller: Poller | None = None
        self.alerts: Alerts | None = None
        self.housekeeping: Housekeeping | None = None
        self.catalog = Catalog(lambda: self.engine)
        self.clock: Callable[[], datetime] = partial(datetime.now, UTC)
        """Now, for the day questions count from in each server's time zone (``zones``)."""
        self.operators = Operators(self, self.bot_settings)
        self._tasks: set[asyncio.Task[Any]] = set()
        self._on_stop: dict[asyncio.Task[Any], Callable[[], Awaitable[None]]] = {}
        self.stop_notice_s = STOP_NOTICE_S
        self.set_up = asyncio.Event()
        """Set once ``setup_hook`` has ended: until then ``close`` would miss what it still opens."""
        data_dir = settings.data_path
        self.lease = BackgroundLease(data_dir, check_s=self.bot_settings.takeover_check_s)
        self._identify_gate = IdentifyGate(data_dir, spacing_s=self.bot_settings.identify_spacing_s)

    # -- what the cogs use ------------------------------------------------------------------------
    @property
    def engine(self) -> Engine:
        if self._engine is None:
            raise RuntimeError("the engine is not open (setup_hook has not run)")
        return self._engine

    @property
    def desk(self) -> Desk:
        if self._desk is None:
            raise RuntimeError("the engine is not open (setup_hook has not run)")
        return self._desk

    @property
    def feeds(self) -> FeedDesk:
        """The registered feeds, fetching, and topic follows (open while the engine is)."""
        if self._feeds is None:
            raise RuntimeError("the feed desk is not open (setup_hook has not run)")
        return self._feeds

    @property
    def answers(self) -> AnswerStore:
        """Answers' button state and votes (open while the engine is)."""
        if self._answers is None:
            raise RuntimeError("the answer store is not open (setup_hook has not run)")
        return self._answers

    def spawn(
        self, coro: Coroutine[Any, Any, T], name: str, *, on_stop: Callable[[], Awaitable[None]] | None = None
    ) -> asyncio.Task[T]:
        """Run ``coro`` as a task the bot cancels and awaits when it closes; ``on_stop``: what
        to say then, where its user watches it (``stopped_jobs``)."""
        task = asyncio.create_task(coro, name=name)
        self._tasks.add(task)
        if on_stop is not None:
            self._on_stop[task] = on_stop

        def done(t: asyncio.Task[Any]) -> None:
            self._tasks.discard(t)
            self._on_stop.pop(t, None)
            if not t.cancelled():
                t.exception()  # whoever awaited it reports it; don't warn "never retrieved"

        task.add_done_callback(done)
        return task

    # -- lifecycle ----------------------------------------------------------------------------------
    async def setup_hook(self) -> None:
        try:
            await self._set_up()
        finally:
            self.set_up.set()

    async def _set_up(self) -> None:
        """The engine, the feeds, the cogs and the background work (run by ``login``)."""
        from .cogs.admin import AdminCog
        from .cogs.ask import AskCog
        from .cogs.ask_message import AskMessageCog
        from .cogs.follow import FollowCog
        from .cogs.help import HelpCog
        from .cogs.latest import LatestCog
        from .cogs.mentions import MentionsCog
        from .cogs.operator import OperatorCog
        from .cogs.servers import ServersCog
        from .translator import DeskTranslator
        from .views import PageButton, VoteButton

        await self.tree.set_translator(DeskTranslator())
        self.add_dynamic_items(PageButton, VoteButton)
        if self._engine is None and self._open_engine:
            self._engine = await Engine.open(self.settings, embedder=self._embedder)
            if await self._engine.is_empty():
                log.warning("nothing is indexed yet: run `foreign-desk index` or /operator reindex")
        if self._engine is not None:
            self._feeds = await FeedDesk.open(self._engine)
            data_dir, ttl_s = self.settings.data_path, self.bot_settings.view_timeout_s
            upgrading = self._engine.upgrading
            self._answers = await AnswerStore.open(data_dir, ttl_s=ttl_s, upgrading=upgrading)
            hash_user = partial(self._answers.hash_user, "cooldown", "")
            cooldowns = await Cooldowns.open(data_dir, self.bot_settings.cooldown_s, hash_user)
            self._desk = Desk(self._engine, self.bot_settings, cooldowns)
        await self.add_cog(AskCog(self))
        await self.add_cog(AskMessageCog(self))
        await self.add_cog(LatestCog(self))
        await self.add_cog(HelpCog(self))
        await self.add_cog(AdminCog(self))
        if self.bot_settings.operator_guild_ids:
            guilds = [discord.Object(g) for g in self.bot_settings.operator_guild_ids]
            await self.add_cog(OperatorCog(self), guilds=guilds)
        await self.add_cog(FollowCog(self))
        await self.add_cog(ServersCog(self))
        if self.bot_settings.answer_mentions or self.bot_settings.answer_dms:
            await self.add_cog(MentionsCog(self))
        if self._feeds is not None:
            if await self.lease.try_acquire():  # the usual case: no other process on this data folder
                log.info("this process does the background work: feed polling, indexing, alerts")
                self._start_feeds(self._feeds)
            else:
                self.spawn(self._background(self._feeds), "background-work")

    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        """Take turns with every process on this data folder (discord.py only spaces its own)."""
        await self._identify_gate.wait_turn()

    async def _background(self, feeds: FeedDesk) -> None:
        """Wait for the background lease, then poll and post alerts until closed."""
        await self.lease.acquire()
        self._start_feeds(feeds)

    def _start_feeds(self, feeds: FeedDesk) -> None:
        """The background poller (unless ``poll_feeds`` is off) and the topic-alert loop."""
        if self.bot_settings.poll_feeds:
            self.poller = feeds.poller(on_run=self._polled)
            self.poller.start()
        self.alerts = Alerts(
            self,
            feeds,
            check_s=self.bot_settings.alert_check_s,
            settle_s=self.settings.feeds.digest_settle_s,
            attempts=self.bot_settings.alert_attempts,
            retry_s=self.bot_settings.alert_retry_s,
        )
        self.alerts.start()
        self.housekeeping = Housekeeping(
            feeds,
            self.answers,
            forget_after_days=self.bot_settings.forget_after_days,
            every_s=self.bot_settings.housekeeping_s,
        )
        self.housekeeping.start()

    def _polled(self, report: FetchReport) -> None:
        counts = report.counts
        if counts["new"] or counts["updated"] or counts["failures"]:
            self.catalog.forget()
            log.info(
                "polled %s: %d new, %d updated, %d failures",
                ", ".join(run.feed for run in report.runs),
                counts["new"],
                counts["updated"],
                counts["failures"],
            )

    async def stopped_jobs(self, notices: Sequence[Callable[[], Awaitable[None]]]) -> None:
        """Say, where their users watch them, that these jobs were cut short by the stop (a
        reindex's status would stay frozen at its last progress): best effort, all at once, for
        ``stop_notice_s`` at most, so that a Discord slow or gone holds no stop up for long."""
        if not notices:
            return
        try:
            async with asyncio.timeout(self.stop_notice_s):
                said = await asyncio.gather(*(notice() for notice in notices), return_exceptions=True)
        except TimeoutError:
            log.warning("stopping: not every job cut short was said so in %g s", self.stop_notice_s)
            return
        for failed in [r for r in said if isinstance(r, Exception)]:
            log.warning("stopping: could not say that a job was cut short: %s", failed)

    async def on_ready(self) -> None:
        log.info("connected as %s to %d servers", self.user, len(self.guilds))

    async def on_message(self, message: discord.Message) -> None:
        """No prefix commands: questions in messages are the mentions cog's."""

    async def close(self) -> None:
        tasks = list(self._tasks)
        said = [(task, self._on_stop[task]) for task in tasks if task in self._on_stop]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await self.stopped_jobs([on_stop for task, on_stop in said if task.cancelled()])
        alerts, self.alerts = self.alerts, None
        if alerts is not None:
            await alerts.stop()
        poller, self.poller = self.poller, None
        if poller is not None:
            await poller.stop()
        housekeeping, self.housekeeping = self.housekeeping, None
        if housekeeping is not None:
            await housekeeping.stop()
        self.lease.release()
        await super().close()
        if self._desk is not None:  # kept: its figures outlive the bot
            await self._desk.cooldowns.close()
        answers, self._answers = self._answers, None
        if answers is not None:
            await answers.close()
        feeds, self._feeds = self._feeds, None
        if feeds is not None:
            await feeds.close()
        engine, self._engine = self._engine, None
        if engine is not None and self._owns_engine:
            await engine.close()
