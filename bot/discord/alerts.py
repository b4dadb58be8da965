"""The alert loop: posts topic alerts and digests into the channels that follow the topics.

What to post and when is the engine's (``FeedDesk.due_posts``: one message per channel at most
every ``[feeds] digest_gap_s``, a burst let settle ``digest_settle_s`` and sent as one digest);
this loop only looks when something may be due, sends, and records what it sent. It looks
shortly after ingestion matched a topic (``FeedDesk.on_match``) and every ``alert_check_s``
otherwise (matches recorded by another process, a channel whose rate limit has passed).

A channel that no longer exists loses its follows; a channel the bot may no longer post in has
its alerts dropped (logged), so they do not pile up; any other Discord error leaves the alert
waiting for the next look. Concurrency: one task sends; ``stop`` may be awaited from any task.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

import discord
from foreign_desk.index.feeds import FeedDesk, Match, Post

from .i18n import for_guild
from .render_feeds import alert_message
from .replies import NO_PINGS

log = logging.getLogger(__name__)


class Alerts:
    """Sends what ``feeds.due_posts()`` returns through ``client``; ``start`` once, ``await stop()``."""

    def __init__(self, client: discord.Client, feeds: FeedDesk, *, check_s: float, settle_s: float) -> None:
        self.client = client
        self.feeds = feeds
        self.check_s = check_s
        self.settle_s = settle_s
        self.sent = 0
        """Alert messages sent since start (a health figure for logs and tests)."""
        self._wake = asyncio.Event()
        self._soon: float | None = None
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self._unsubscribe = lambda: None

    def start(self) -> None:
        if self._task is not None:
            return
        self._unsubscribe = self.feeds.on_match(self._matched)
        self._task = asyncio.create_task(self._run(), name="topic-alerts")

    async def stop(self, timeout_s: float = 10.0) -> None:
        """Stop looking; an alert being sent gets ``timeout_s`` to be sent and recorded."""
        self._unsubscribe()
        self._stopping = True
        self._wake.set()
        task, self._task = self._task, None
        if task is None:
            return
        done, _ = await asyncio.wait({task}, timeout=timeout_s)
        if not done:
            task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    def _matched(self, matches: list[Match]) -> None:
        """New matches: look again once the burst they may start has settled."""
        at = asyncio.get_running_loop().time() + self.settle_s + 0.1
        self._soon = at if self._soon is None else min(self._soon, at)
        self._wake.set()

    async def _run(self) -> None:
        while not self._stopping:
            try:
                await self.deliver_due()
            except Exception:  # the store is busy or a bug: say so, look again later
                log.exception("topic alerts: looking for due alerts failed")
            await self._pause()

    async def _pause(self) -> None:
        loop = asyncio.get_running_loop()
        wait = self.check_s
        if self._soon is not None:
            wait = min(wait, max(0.0, self._soon - loop.time()))
            if self._soon <= loop.time():
                self._soon = None
        self._wake.clear()
        if self._stopping:
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), wait)

    async def deliver_due(self) -> int:
        """Send every post due now; return how many were sent."""
        sent = 0
        for post in await self.feeds.due_posts():
            if self._stopping:
                break
            sent += await self.deliver(post)
        return sent

    async def deliver(self, post: Post) -> bool:
        """Send one post and record it as posted (or dropped); False when it must wait."""
        channel_id = post.channel_id
        channel = self.client.get_channel(channel_id) or self.client.get_partial_messageable(channel_id)
        content, embed = alert_message(post, for_guild(getattr(channel, "guild", None)))
        try:
            await channel.send(content, embed=embed, allowed_mentions=NO_PINGS)  # type: ignore[union-attr]
        except discord.NotFound:
            follows = await self.feeds.following(channel_id)
            log.warning("channel %s is gone: dropping its %d follow(s)", channel_id, len(follows))
            for follow in follows:
                await self.feeds.unfollow(channel_id, follow.topic)
            return False
        except discord.Forbidden as exc:
            log.warning(
                "may not post alerts in channel %s (%s): dropping %d article(s)",
                channel_id,
                exc.text,
                len(post.article_ids),
            )
            await self.feeds.mark_posted(post)
            return False
        except discord.HTTPException as exc:
            log.warning("could not post an alert in channel %s, will retry: %s", channel_id, exc)
            return False
        await self.feeds.mark_posted(post)
        self.sent += 1
        log.info(
            "posted %s of %d article(s) on %s in channel %s",
            "a digest" if post.digest else "an alert",
            len(post.items),
            ", ".join(post.topics),
            channel_id,
        )
        return True
