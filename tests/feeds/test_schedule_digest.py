"""The pure rules: when a feed is polled next, and what topic alerts a channel gets now."""

from __future__ import annotations

import random

import pytest
from foreign_desk.index.config import FeedSettings
from foreign_desk.index.feeds import Match, plan_posts
from foreign_desk.index.feeds.digest import by_turns
from foreign_desk.index.feeds.schedule import next_delay
from foreign_desk.index.models import ArticleSummary

FLAT = FeedSettings(jitter=0.0, backoff_cap_minutes=360)


@pytest.mark.parametrize(
    ("every", "failures", "retry_after", "expected"),
    [
        (600, 0, None, 600),  # on schedule
        (600, 1, None, 1200),  # doubled after each failure
        (600, 3, None, 4800),
        (600, 10, None, 6 * 3600),  # capped
        (86400, 2, None, 86400),  # never more often than the feed's own interval
        (600, 1, 7200, 7200),  # the server asked for longer
        (600, 3, 60, 4800),  # ... or for less than our backoff: keep the backoff
        (600, 0, 900, 900),  # a 429 on an article page delays the next poll too
    ],
)
def test_next_poll_delay(every: int, failures: int, retry_after: float | None, expected: float) -> None:
    assert next_delay(every, failures, FLAT, retry_after=retry_after) == expected


def test_jitter_spreads_polls_within_bounds() -> None:
    rng = random.Random(1)
    delays = [next_delay(600, 0, FeedSettings(jitter=0.1), rng=rng) for _ in range(200)]
    assert all(540 <= d <= 660 for d in delays) and len({round(d) for d in delays}) > 50


def summary(
    uid: str, *, title: str = "", lede: str = "", source: str = "Antara", published: str | None = None
):
    return ArticleSummary(
        uid, title or f"Story {uid}", source, f"https://x.test/{uid}", published, "en", None, lede
    )


def match(
    uid: str,
    at: float,
    *,
    channel: int = 1,
    topic: str = "Gaza",
    follow: int = 1,
    guild: int | None = None,
    **kw: object,
) -> Match:
    return Match(follow, channel, topic, summary(uid, **kw), 0.85, at, guild)  # type: ignore[arg-type]


RULES = {"gap_s": 600, "settle_s": 30, "max_items": 10}


def test_one_settled_match_is_one_alert() -> None:
    (post,) = plan_posts([match("a", 1000)], {}, 1030, **RULES)
    assert (post.channel_id, [m.article.id for m in post.items], post.digest) == (1, ["a"], False)
    assert post.article_ids == ("a",) and post.topics == ("Gaza",)


def test_a_burst_waits_to_settle_then_becomes_one_digest_newest_first() -> None:
    burst = [match(u, 1000 + i, published=f"2024-03-0{i + 1}") for i, u in enumerate("abc")]
    assert plan_posts(burst, {}, 1010, **RULES) == []  # still arriving
    (post,) = plan_posts(burst, {}, 1040, **RULES)
    assert post.digest and [m.article.id for m in post.items] == ["c", "b", "a"]


def test_a_channel_gets_at_most_one_message_per_gap() -> None:
    pending = [match("a", 1000)]
    assert plan_posts(pending, {1: 900}, 1100, **RULES) == []
    assert len(plan_posts(pending, {1: 900}, 1500, **RULES)) == 1
    assert len(plan_posts(pending, {2: 1000}, 1100, **RULES)) == 1  # another channel's post does not count


def test_times_from_a_clock_since_set_back_hold_no_alert() -> None:
    """A channel alerted (or a match made) while the clock said 2099 got no alert again until
    2099: 'now - last' was far below the gap for 73 years."""
    later = 4_070_908_800.0  # 2099-01-01
    (post,) = plan_posts([match("a", 1000)], {1: later}, 1100, **RULES)
    assert [m.article.id for m in post.items] == ["a"]
    (post,) = plan_posts([match("a", later), match("b", 1000)], {}, 1100, **RULES)
    assert sorted(m.article.id for m in post.items) == ["a", "b"]
    assert plan_posts([match("a", 1000)], {1: 1100}, 1099, **RULES) == []  # a moment ahead: another process's


def test_a_steady_trickle_cannot_postpone_alerts_for_ever() -> None:
    trickle = [match(str(i), 1000 + 20 * i) for i in range(31)]  # one every 20 s for 10 minutes
    (post,) = plan_posts(trickle, {}, 1600, **RULES)
    assert len(post.items) == 10 and post.pending_after == 21


def test_an_article_matched_by_two_follows_is_posted_once_naming_both_topics() -> None:
    pending = [
        match("a", 1000, topic="Gaza", follow=1),
        match("a", 1000, topic="bantuan kemanusiaan", follow=2),
    ]
    (post,) = plan_posts(pending, {}, 1100, **RULES)
    assert [m.article.id for m in post.items] == ["a"] and post.topics == ("Gaza", "bantuan kemanusiaan")


def test_syndicated_copies_are_one_item_naming_the_other_outlets() -> None:
    lede = "Japan and the Philippines signed a reciprocal access agreement on Monday that allows their forces"
    pending = [
        match("a", 1000, title="Japan, Philippines sign deal", lede=lede, source="Reuters"),
        match("b", 1001, title="Japan, Philippines sign deal", lede=lede, source="Jakarta Globe"),
        match("c", 1002, title="Other news", lede="Something else entirely happened in Jakarta today"),
    ]
    (post,) = plan_posts(pending, {}, 1100, **RULES)
    assert len(post.items) == 2 and set(post.article_ids) == {"a", "b", "c"}
    folded = next(i for i, m in enumerate(post.items) if m.article.id in "ab")
    assert post.also_in[folded] and post.also_in[folded][0] in {"Reuters", "Jakarta Globe"}


def test_due_posts_go_in_turns_across_servers() -> None:
    """Server 7 follows in four channels, server 8 in one, a follow of no server in one: the
    first turn reaches each of them, then server 7's others follow in their own order."""
    channels = [(1, 7), (2, 7), (3, 7), (4, 8), (5, 7), (6, None)]
    pending = [match(f"a{c}", 1000, channel=c, guild=g) for c, g in channels]
    posts = plan_posts(pending, {}, 1030, **RULES)
    assert [p.channel_id for p in posts] == [1, 2, 3, 4, 5, 6]  # channel order
    assert [(p.channel_id, p.guild_id) for p in by_turns(posts)] == [
        (1, 7),
        (4, 8),
        (6, None),
        (2, 7),
        (3, 7),
        (5, 7),
    ]
