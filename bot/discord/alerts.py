"""The alert loop: posts topic alerts and digests into the channels that follow the topics.

What to post and when is the engine's (``FeedDesk.due_posts``: one message per channel at most
every ``[feeds] digest_gap_s``, a burst let settle ``digest_settle_s`` and sent as one digest);
this loop only looks when something may be due, sends, and records what it sent. It looks
shortly after ingestion matched a topic (``FeedDesk.on_match``) and every ``alert_check_s``
otherwise (matches recorded by another process, a channel whose rate limit has passed). Only
the process holding the background lease runs it (``coordination``).

Each post is claimed in the database before it is sent and sent with the claim's nonce
(``feeds.claims``), so no channel gets it twice: not when another sender got there first, not
when this process dies mid-send and the next holder resends it (``recover_claims`` on start).
An alert is in its server's language as the follows keep it (``cogs.servers``), whichever
process posts it. It goes out as an embed where the bot may embed links, else as plain text
(and a message whose embed Discord dropped is edited into the plain text). A channel that is
gone (10003), that the bot may no longer see or post in (50001, 50013: a private thread it was
removed from too), or a thread locked since (50083, 160005) loses its follows at once, with a log
line naming its server and topics (``/following`` says which stopped and why); a thread that
was only archived is not: the alert unarchives it.
Any other Discord error is retried with a backoff (``alert_retry_s``, doubled each time), at
most ``alert_attempts`` times, then the alert is dropped with a log line, and ``/following``
lists it for a while (``feeds.undelivered``): its channel's members see what they missed. A
send that may have posted (a 5xx, or no answer: a timeout, a lost connection) is retried only
while Discord remembers its nonce (``feeds.claims``: sooner, or dropped), so a retry never posts
it twice.
A post sent while the store is too busy to record it is recorded at the next look: its claim
would otherwise hold its channel's alerts back until the next start.
Concurrency: one task sends; ``stop`` may be awaited from any task.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3

import aiohttp
import discord
from foreign_desk.index.feeds import FeedDesk, Match, Post
from foreign_desk.index.feeds.claims import retry_wait
from foreign_desk.index.feeds.drops import DropReason
from foreign_desk.index.feeds.undelivered import UndeliveredReason

from .i18n import Texts, language_of, texts
from .permissions import may_embed
from .render_feeds import alert_message, alert_text
from .replies import NO_PINGS

log = logging.getLogger(__name__)

CHANNEL_GONE = 10003
THREAD_LOCKED = frozenset({50083, 160005})
CHANNEL_CLOSED = frozenset({CHANNEL_GONE, 50001, 50013, *THREAD_LOCKED})
"""Discord's codes for a channel gone (Unknown Channel), closed to the bot (Missing Access,
Missing Permissions) or a thread locked by a moderator (Thread is archived: a message would
unarchive one that is not locked; Thread is locked); another 403 or 404 (Cloudflare's block,
40333) says nothing of the channel."""
UNREACHABLE: dict[DropReason, str] = {
    "closed": "closed to the bot",
    "deleted": "gone",
    "locked": "a locked thread",
}


class Alerts:
    """Sends what ``feeds.due_posts()`` returns through ``client``; ``start`` once, ``await stop()``."""

    def __init__(
        self,
        client: discord.Client,
        feeds: FeedDesk,
        *,
        check_s: float,
        settle_s: float,
        attempts: int = 5,
        retry_s: float = 30.0,
    ) -> None:
        self.client = client
        self.feeds = feeds
        self.check_s = check_s
        self.settle_s = settle_s
        self.attempts = attempts
        self.retry_s = retry_s
        self.sent = 0
        """Alert messages sent since start (a health figure for logs and tests)."""
        self.looks = 0
        """Looks at what is due, finished since start."""
        self.looked_at: float | None = None
        """When (``FeedDesk.clock``) the latest finished look began: everything matched or
        posted before then has been decided on."""
        self._wake = asyncio.Event()
        self._soon: float | None = None
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self._unrecorded: list[Post] = []
        """Posts sent (or dropped) that the store was too busy to record, oldest first."""
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
        try:
            resent, dropped = await self.feeds.recover_claims()
            if resent or dropped:
                log.info(
                    "alerts left mid-send by a process that stopped: %d to resend, %d dropped",
                    resent,
                    dropped,
                )
        except Exception:
            log.exception("topic alerts: recovering the claims of a stopped process failed")
        while not self._stopping:
            try:
                await self.deliver_due()
            except Exception:  # the store is busy or a bug: say so, look again later
                log.exception("topic alerts: looking for due alerts failed")
            await self._pause()
        await self._record_pending()

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
        at = self.feeds.clock()
        sent = 0
        if not await self._record_pending():
            return 0
        for post in await self.feeds.due_posts(at):
            if self._stopping:
                break
            sent += await self.deliver(post)
        self.looks += 1
        self.looked_at = at
        return sent

    async def deliver(self, post: Post) -> bool:
        """Claim one post, send it, record it as posted (or dropped); False when it was not sent."""
        channel_id = post.channel_id
        channel = self.client.get_channel(channel_id) or self.client.get_partial_messageable(channel_id)
        tx = await self._texts(channel_id, getattr(channel, "guild", None))
        claimed = await self.feeds.claim(post)
        if claimed is None:
            return False  # another sender has it
        try:
            await self._send(channel, claimed, tx)  # type: ignore[arg-type]
        except discord.DiscordServerError as exc:  # Discord's side failed: the message may exist
            await self._failed(claimed, exc, maybe_posted=True)
            return False
        except discord.HTTPException as exc:  # refused: nothing was posted
            if exc.code not in CHANNEL_CLOSED:  # say Cloudflare's 403 (40333): refused, not closed
                await self._failed(claimed, exc)
                return False
            await self._record(claimed)  # dropped with the follows
            await self._unreachable(channel_id, exc)
            return False
        except (OSError, aiohttp.ClientError) as exc:  # no answer (timeout, connection lost)
            await self._failed(claimed, exc, maybe_posted=True)
            return False
        await self._record(claimed)
        self.sent += 1
        if isinstance(channel, discord.Thread):  # followed before its parent was kept? (``feeds.parents``)
            await self.feeds.learn_parents({channel_id: channel.parent_id})
        log.info(
            "posted %s of %d article(s) on %s in channel %s",
            "a digest" if claimed.digest else "an alert",
            len(claimed.items),
            ", ".join(claimed.topics),
            channel_id,
        )
        return True

    async def _record(self, post: Post) -> None:
        """Record ``post`` as posted (or dropped), or, when the store is busy (another process
        writing past the busy timeout), keep it for the next look."""
        self._unrecorded.append(post)
        await self._record_pending()

    async def _record_pending(self) -> bool:
        """Record the posts kept for it, oldest first; False when the store is still busy."""
        while self._unrecorded:
            post = self._unrecorded[0]
            try:
                await self.feeds.mark_posted(post)
            except sqlite3.OperationalError as exc:
                log.warning("could not record an alert sent in channel %s yet (%s)", post.channel_id, exc)
                return False
            self._unrecorded.pop(0)
        return True

    async def _texts(self, channel_id: int, guild: discord.Guild | None) -> Texts:
        """The server's language as its follows keep it (this process may not run the server's
        shard, and then knows no ``guild``), else as this process knows it, else English."""
        follows = await self.feeds.following(channel_id)
        locale = next((f.locale for f in reversed(follows) if f.locale), None)
        return texts(language_of((locale, guild.preferred_locale if guild is not None else None)))

    async def _send(self, channel: discord.abc.Messageable, post: Post, tx: Texts) -> discord.Message:
        """An embed where the bot may embed links, else plain text (checked, or seen after sending)."""
        nonce = post.nonce
        assert nonce is not None, "only a claimed post is sent"
        if not may_embed(channel):
            return await channel.send(alert_text(post, tx), allowed_mentions=NO_PINGS, nonce=nonce)
        content, embed = alert_message(post, tx)
        message = await channel.send(content, embed=embed, allowed_mentions=NO_PINGS, nonce=nonce)
        if not message.embeds:  # Discord dropped it: no Embed Links there (a channel of another shard)
            try:
                await message.edit(content=alert_text(post, tx), allowed_mentions=NO_PINGS)
            except discord.HTTPException as exc:  # posted all the same (deleted since?): the channel is fine
                log.info("could not edit alert %s into plain text: %s", message.id, exc)
        return message

    async def _undelivered(self, post: Post, reason: UndeliveredReason) -> None:
        """Remember a dropped post for ``/following``; a store too busy to take it loses only that."""
        try:
            await self.feeds.alert_undelivered(post, reason)
        except sqlite3.OperationalError as exc:
            log.warning(
                "could not note the alert dropped in channel %s for /following (%s)", post.channel_id, exc
            )

    async def _unreachable(self, channel_id: int, exc: discord.HTTPException) -> None:
        """The channel is gone or closed to the bot (``CHANNEL_CLOSED``): its follows stop, once,
        and ``/following`` says why for a while (``FeedDesk.drop_follows``)."""
        reason: DropReason = "closed"
        if exc.code == CHANNEL_GONE:
            reason = "deleted"
        elif exc.code in THREAD_LOCKED:
            reason = "locked"
        follows = await self.feeds.drop_follows(reason, channel_id=channel_id)
        log.warning(
            "channel %s of server %s is %s (%s %s): stopping its %d follow(s): %s",
            channel_id,
            follows[0].guild_id if follows else None,
            UNREACHABLE[reason],
            exc.status,
            exc.code,
            len(follows),
            ", ".join(repr(f.topic) for f in follows),
        )

    async def _failed(self, post: Post, exc: Exception, *, maybe_posted: bool = False) -> None:
        """Back off (the claim and its nonce stay), or after ``attempts`` failures drop the post."""
        tries = await self.feeds.send_failed(post, self.retry_s, maybe_posted=maybe_posted)
        if tries >= self.attempts:
            await self._record(post)
            # noted before the log line says so: whoever reads the log finds it in /following
            await self._undelivered(post, "unanswered" if maybe_posted else "refused")
            log.warning(
                "dropping an alert of %d article(s) for channel %s after %d failed attempts: %s",
                len(post.article_ids),
                post.channel_id,
                tries,
                exc,
            )
            return
        log.warning(
            "could not post an alert in channel %s (attempt %d of %d), retrying within %.0f s: %s",
            post.channel_id,
            tries,
            self.attempts,
            retry_wait(self.retry_s, tries),
            exc,
        )
