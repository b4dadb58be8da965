"""Alert claims: every alert is claimed in the database before it is sent, so that no channel
ever gets it twice, whichever process sends it and however that process ends.

A claim freezes one post (a channel and its articles) under a ``nonce``. The sender claims a
post (which marks it ``sending``), sends it with that nonce, and marks it posted. Discord's
``enforce_nonce`` makes a second message with the same nonce within a few minutes return the
first instead of posting again, so resending a claim whose outcome is unknown is safe within
``resend_within_s``. A send Discord refused keeps its claim (and nonce) for a retry at
``retry_at``; after the last attempt the claim is dropped (its matches count as posted). A send
that may have posted (no answer, or a server error: ``maybe_posted``) is retried only within
``resend_within_s`` of when it began (``maybe_since``): its backoff is cut short to fit, and a
retry too late for that is dropped instead (logged: it may have been posted), as a resend after
Discord forgot the nonce could post it twice. A retry leaves out the matches whose follow's
server may no longer see the article: they are let go (``let_go``) to wait, unposted, until it
may again, unless a send of the claim may have posted them (``maybe_posted``).

Only the process holding the background lease sends alerts (``bot.discord.coordination``), so
when a process takes the work over, a claim still ``sending`` was being sent by a process that
died: ``recover`` puts it up for a resend with its nonce while Discord remembers the nonce, and
drops it (logged: it may have been posted) after that.
Concurrency: methods may be awaited from many tasks; writes go through ``StateDB``'s lock.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

from foreign_desk.index.feeds.models import Match, Post
from foreign_desk.index.feeds.state import StateDB

log = logging.getLogger(__name__)

RESEND_WITHIN_S = 120.0
"""How long after a send started its nonce is trusted to stop a duplicate (Discord: "a few minutes")."""
AHEAD_S = 60.0
"""A send begun this little ahead of the clock (a clock stepped back a moment) is timed from then.
One further ahead began while a clock since set back said so (2099), at a time nobody knows: too
late to resend safely, as one older than ``resend_within_s`` (resent, it could post twice)."""

MAX_RETRY_WAIT_S = 86_400.0
"""The longest a refused alert waits for its next try, whatever the backoff settings say (30 s
doubled 99 times is 10^22 years). A retry due further ahead was scheduled by a clock since set
back: it is due now, or its channel, held while the claim is outstanding, would get no alert again."""


def retry_wait(backoff_s: float, attempts: int) -> float:
    """Seconds a refused alert waits after ``attempts`` failures: doubling, at most ``MAX_RETRY_WAIT_S``."""
    return min(backoff_s * 2.0 ** min(attempts - 1, 64), MAX_RETRY_WAIT_S)


SQL_CLAIM_MATCHES = (
    "UPDATE follow_matches SET claim = ? WHERE posted_at IS NULL AND claim IS NULL "
    "AND article_uid IN ({marks}) AND follow_id IN (SELECT id FROM follows WHERE channel_id = ?)"
)
SQL_CLAIMS = "SELECT nonce, channel_id, sending_since, maybe_since FROM alert_claims"
SQL_LET_GO = (
    "UPDATE follow_matches SET claim = NULL WHERE claim = ? AND article_uid NOT IN ({marks}) "
    "AND NOT (SELECT maybe_posted FROM alert_claims WHERE nonce = ?)"
)


class Claims:
    """The ``alert_claims`` table and the ``claim`` column of ``follow_matches``."""

    def __init__(
        self, db: StateDB, *, clock: Callable[[], float], resend_within_s: float = RESEND_WITHIN_S
    ) -> None:
        self.db = db
        self.clock = clock
        self.resend_within_s = resend_within_s

    async def claim(self, post: Post) -> Post | None:
        """Claim ``post`` to send it now (``post.nonce`` set, the claim ``sending``); None when
        its matches are claimed or posted already (another sender got there first)."""
        now = self.clock()
        if post.nonce is not None:  # a retry: take the claim back from the schedule, in time
            async with self.db.transaction() as conn:
                cur = await conn.execute(
                    "UPDATE alert_claims SET sending_since = ? WHERE nonce = ? AND sending_since IS NULL "
                    "AND (maybe_since IS NULL OR maybe_since BETWEEN ? AND ?)",
                    (now, post.nonce, now - self.resend_within_s, now + AHEAD_S),
                )
            return post if cur.rowcount else None  # too late: ``due`` drops it
        nonce = "fd" + secrets.token_hex(10)  # Discord's nonce: at most 25 characters
        marks = ",".join("?" * len(post.article_ids))
        async with self.db.transaction() as conn:
            await conn.execute(
                "INSERT INTO alert_claims(nonce, channel_id, claimed_at, sending_since) VALUES (?, ?, ?, ?)",
                (nonce, post.channel_id, now, now),
            )
            cur = await conn.execute(
                SQL_CLAIM_MATCHES.format(marks=marks), (nonce, *post.article_ids, post.channel_id)
            )
            if not cur.rowcount:
                await conn.execute("DELETE FROM alert_claims WHERE nonce = ?", (nonce,))
                return None
        return replace(post, nonce=nonce)

    async def sent(self, post: Post, at: float | None = None) -> None:
        """Discord has the message: its matches are posted, the claim is done."""
        at = self.clock() if at is None else at
        async with self.db.transaction() as conn:
            await conn.execute(
                "UPDATE follow_matches SET posted_at = ?, claim = NULL WHERE claim = ?", (at, post.nonce)
            )
            await conn.execute("DELETE FROM alert_claims WHERE nonce = ?", (post.nonce,))

    async def failed(self, post: Post, backoff_s: float, *, maybe_posted: bool = False) -> int:
        """The send failed: Discord refused it (nothing was posted), or (``maybe_posted``) no
        answer or a server error left it unknown. Retry after ``backoff_s``, doubled after each
        failure; while a send may have posted it, by half the time left before Discord may forget
        its nonce at the latest (the alert loop looks a few seconds late). Returns the attempts
        so far."""
        sql = "SELECT attempts, sending_since, maybe_since FROM alert_claims WHERE nonce = ?"
        rows = await self.db.rows(sql, (post.nonce,))
        attempts, sending, since = rows[0] if rows else (0, None, None)
        attempts, now = int(attempts) + 1, self.clock()
        if since is None and maybe_posted:  # this send's message, if made, came after it began
            since = now if sending is None else float(sending)
        retry_at = now + retry_wait(backoff_s, attempts)
        if since is not None:
            retry_at = min(retry_at, now + (float(since) + self.resend_within_s - now) / 2)
        assignments = "attempts = ?, retry_at = ?, maybe_posted = maybe_posted OR ?, maybe_since = ?"
        await self._update(
            f"sending_since = NULL, {assignments}", (attempts, retry_at, maybe_posted, since), post
        )
        return attempts

    async def let_go(self, nonce: str, kept: Sequence[str]) -> int:
        """Unclaim the claim's matches of articles other than ``kept`` (those its retry sends):
        their follow's server may no longer see the article, or it left the index. An alert must
        never reach a server that may not see its article, nor be lost if the server sees it
        again, nor be posted twice: so they wait, unposted, to be alerted once their server sees
        the article again (or are forgotten with it). Unless a send of the claim may have posted
        them (``maybe_posted``): they stay, and count as posted with it. Returns how many went."""
        sql = SQL_LET_GO.format(marks=",".join("?" * len(kept)))
        async with self.db.transaction() as conn:
            cur = await conn.execute(sql, (nonce, *kept, nonce))
            return int(cur.rowcount)

    async def _update(self, assignments: str, values: tuple[Any, ...], post: Post) -> None:
        async with self.db.transaction() as conn:
            await conn.execute(
                f"UPDATE alert_claims SET {assignments} WHERE nonce = ?", (*values, post.nonce)
            )

    async def recover(self) -> tuple[int, int]:
        """Claims left ``sending`` by a sender that stopped: resend (now, same nonce) those Discord
        still remembers (``maybe_posted``: the first send may have arrived), drop the older ones;
        returns (resent, dropped). Call once on taking over."""
        now = self.clock()
        resend = drop = 0
        for nonce, channel, sending, since in await self.db.rows(
            f"{SQL_CLAIMS} WHERE sending_since IS NOT NULL"
        ):
            since = float(sending) if since is None else float(since)
            if self._resendable(since, now):
                await self._update(
                    "sending_since = NULL, retry_at = 0, maybe_posted = 1, maybe_since = ?",
                    (since,),
                    _keyed(nonce, channel),
                )
                resend += 1
            else:
                await self._drop(
                    nonce, channel, now, f"was being sent {_ago(since, now)} by a process that stopped"
                )
                drop += 1
        return resend, drop

    async def due(self, now: float) -> list[tuple[str, int]]:
        """(nonce, channel) of the claims waiting to be sent (again) now (or scheduled by a clock
        since set back: ``MAX_RETRY_WAIT_S``); one that may have been posted longer than
        ``resend_within_s`` ago (or by a clock since set back: ``AHEAD_S``) is dropped instead
        (``failed``)."""
        due = []
        for nonce, channel, _, since in await self.db.rows(
            f"{SQL_CLAIMS} WHERE sending_since IS NULL AND (retry_at <= ? OR retry_at > ?)",
            (now, now + MAX_RETRY_WAIT_S),
        ):
            if since is not None and not self._resendable(float(since), now):
                await self._drop(nonce, channel, now, f"may have been posted {_ago(float(since), now)}")
            else:
                due.append((str(nonce), int(channel)))
        return due

    def _resendable(self, since: float, now: float) -> bool:
        """Whether Discord still remembers the nonce of a send begun at ``since`` (``AHEAD_S``)."""
        return -AHEAD_S <= now - since <= self.resend_within_s

    async def _drop(self, nonce: str, channel: int, now: float, what: str) -> None:
        """Give up a claim Discord may have posted and may no longer remember: its matches count
        as posted (a resend could post it twice), with a warning."""
        await self.sent(_keyed(nonce, channel), at=now)
        log.warning(
            "an alert for channel %s %s: it may or may not have been posted, and it is too late to "
            "resend it safely; dropping it",
            channel,
            what,
        )

    async def held_channels(self) -> set[int]:
        """Channels with a claim outstanding: nothing new is planned for them until it is done."""
        return {int(r[0]) for r in await self.db.rows("SELECT DISTINCT channel_id FROM alert_claims")}


def _ago(since: float, now: float) -> str:
    return (
        f"{now - since:.0f} s ago"
        if since <= now + AHEAD_S
        else "at an unknown time (by a clock since set back)"
    )


def _keyed(nonce: str, channel_id: int) -> Post:
    """A post that stands for its claim (for the calls that need only the nonce)."""
    return Post(channel_id=channel_id, items=(), also_in=(), article_ids=(), topics=(), nonce=nonce)


def claimed_post(nonce: str, matches: Sequence[Match], plan: Callable[[int, list[Match]], Post]) -> Post:
    """The post a claim froze, rebuilt from its matches (all of them, in one message)."""
    return replace(plan(matches[0].channel_id, list(matches)), nonce=nonce, pending_after=0)
