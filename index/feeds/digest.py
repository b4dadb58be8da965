"""Planning topic alerts: pending matches per channel + when each channel last got a post → what
to post now. Pure, so the rate limit and the digest rules are tested without Discord or a clock.

Rules, per channel:

* at most one message every ``gap_s`` seconds;
* a burst is let settle: nothing is posted until the newest match is ``settle_s`` old (or the
  oldest has waited ``gap_s``, so a steady trickle cannot postpone alerts for ever);
* one waiting article → a single alert; several → one digest of up to ``max_items``, newest
  first; the rest wait for the next digest;
* an article matched by two follows of the channel is posted once, naming both topics;
  syndicated copies (near-identical ledes from different outlets) are one item that names the
  other outlets.

Across servers, what is due is sent in turns (``by_turns``): one post of each server, then a
second of each, so a server with many followed channels does not hold the others' alerts back.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from itertools import chain, zip_longest

from foreign_desk.index.feeds.models import Match, Post
from foreign_desk.index.fusion import near_duplicate, shingles


def plan_posts(
    pending: Sequence[Match],
    last_post: Mapping[int, float],
    now: float,
    *,
    gap_s: float = 600.0,
    settle_s: float = 30.0,
    max_items: int = 10,
) -> list[Post]:
    """The posts to send now (at most one per channel), given every unposted match. A time more
    than ``gap_s`` ahead of ``now`` was written by a clock since set back: it holds nothing (a
    channel alerted while the clock said 2099 would get no alert again until 2099)."""
    channels: dict[int, list[Match]] = {}
    for match in pending:
        channels.setdefault(match.channel_id, []).append(match)
    posts = []
    for channel, matches in sorted(channels.items()):
        last = last_post.get(channel)
        if last is not None and -gap_s <= now - last < gap_s:
            continue
        newest = max(m.matched_at for m in matches)
        oldest = min(m.matched_at for m in matches)
        if -gap_s <= now - newest < settle_s and -gap_s <= now - oldest < gap_s:
            continue
        posts.append(post_of(channel, matches, max(1, max_items)))
    return posts


def by_turns(posts: Sequence[Post]) -> list[Post]:
    """``posts`` in turns of one post per server (servers in the order they first come, each
    server's posts in their own order): the first turn reaches every server with something due."""
    queues: dict[int | None, list[Post]] = {}
    for post in posts:
        queues.setdefault(post.guild_id, []).append(post)
    return [p for p in chain.from_iterable(zip_longest(*queues.values())) if p is not None]


def post_of(channel: int, matches: list[Match], max_items: int) -> Post:
    """One post of up to ``max_items`` articles from a channel's matches (the rest wait)."""
    # One entry per article: the best match, with every topic that matched it.
    best: dict[str, Match] = {}
    topics: dict[str, list[str]] = {}
    for m in matches:
        uid = m.article.id
        if uid not in best or m.similarity > best[uid].similarity:
            best[uid] = m
        if m.topic not in topics.setdefault(uid, []):
            topics[uid].append(m.topic)
    # Newest first, undated last (an empty date sorts last when reversed); ties: latest match first.
    ordered = sorted(best.values(), key=lambda m: m.matched_at, reverse=True)
    ordered.sort(key=lambda m: m.article.published or "", reverse=True)
    # Fold syndicated copies onto the first (newest) of them.
    kept: list[tuple[Match, frozenset[tuple[str, ...]], list[str], list[str]]] = []
    for m in ordered:
        grams = shingles(f"{m.article.title}\n{m.article.lede}")
        twin = next(
            (k for k in kept if k[0].article.source != m.article.source and near_duplicate(k[1], grams)), None
        )
        if twin is None:
            kept.append((m, grams, [], [m.article.id]))
        else:
            if m.article.source and m.article.source not in twin[2]:
                twin[2].append(m.article.source)
            twin[3].append(m.article.id)
    shown = kept[:max_items]
    waiting = sum(len(k[3]) for k in kept[max_items:])
    covered = tuple(uid for k in shown for uid in k[3])
    names = tuple(dict.fromkeys(t for k in shown for uid in k[3] for t in topics[uid]))
    return Post(
        channel_id=channel,
        items=tuple(k[0] for k in shown),
        also_in=tuple(tuple(k[2]) for k in shown),
        article_ids=covered,
        topics=names,
        pending_after=waiting,
    )
