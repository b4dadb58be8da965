"""Feed, fetch and alert rendering keeps within Discord's limits, whatever the feeds contain."""

from __future__ import annotations

import pytest
from foreign_desk.bot.discord.i18n import EN, texts
from foreign_desk.bot.discord.limits import CONTENT_MAX, problems
from foreign_desk.bot.discord.render_feeds import (
    alert_message,
    alert_text,
    duration,
    feeds_embed,
    fetch_progress_text,
    fetch_report_text,
    following_embed,
    ingest_failed_text,
    ingest_text,
    quoted,
)
from foreign_desk.index.feeds import Feed, FeedRun, FetchReport, Follow, ItemOutcome, Match, Post
from foreign_desk.index.feeds.drops import DroppedFollow
from foreign_desk.index.feeds.undelivered import UndeliveredAlert
from foreign_desk.index.fetch import FetchFailure
from foreign_desk.index.models import ArticleSummary
from foreign_desk.index.progress import IndexProgress

NASTY = "@everyone **bold** <@123456789012345678> _x_ ~~y~~ `z` [link](https://evil.example) \u202eoverride "


def article(n: int, size: int = 1000) -> ArticleSummary:
    return ArticleSummary(
        id=f"a{n}",
        title=(f"Headline {n} " + NASTY * 40)[:size],
        source=f"Outlet {n} " + "x" * 300,
        url=f"https://news.example/{n}/" + "p" * 400,
        published=f"2024-03-0{n % 9 + 1}T10:00:00Z",
        language="en",
        path=None,
        lede=("A sentence with " + NASTY) * 60,
    )


def post(n: int, topics: tuple[str, ...]) -> Post:
    items = tuple(Match(1, 5, topics[0], article(i), 0.9, 1.0) for i in range(n))
    also = tuple(tuple(f"Syndicate {j} " + "y" * 200 for j in range(5)) for _ in range(n))
    return Post(5, items, also, tuple(f"a{i}" for i in range(n)), topics, pending_after=7)


@pytest.mark.parametrize("n", [1, 2, 10])
def test_alerts_and_digests_fit_and_escape_any_article(n: int):
    topics = tuple(f"topic {i} " + NASTY * 5 for i in range(4))
    content, embed = alert_message(post(n, topics))
    assert problems(content, [embed]) == []
    shown = content + (embed.title or "") + (embed.description or "") + (embed.footer.text or "")
    assert "@everyone" not in shown and "\u202e" not in shown  # an override would flip the line
    assert embed.footer.text and embed.footer.text.endswith("7 more in the next digest")
    assert content.startswith("📰 New on “topic 0" if n == 1 else f"📰 {n} new articles on “topic 0")


@pytest.mark.parametrize("n", [1, 2])
def test_a_plain_text_alert_shows_the_followed_topic_as_written(n: int):
    """Without Embed Links the footer becomes the message's last line, where Markdown renders."""
    topic = "||spoiler|| [Official](https://evil.example/x)"
    text = alert_text(post(n, (topic,)))
    first, last = text.splitlines()[0], text.splitlines()[-1]
    shown = "“\\|\\|spoiler\\|\\| \\[Official\\](https://evil.example/x)”"
    assert shown.replace("(https://evil.example/x)", "(<https://evil.example/x>)") in first  # no preview
    assert last == f"-# Following {shown} here · /unfollow to stop · 7 more in the next digest"


def test_a_fetch_summary_of_hundreds_of_items_fits_one_message():
    items = [ItemOutcome(f"https://x.example/{i}", "new", "T " + NASTY * 20, "feed") for i in range(100)]
    items += [
        ItemOutcome(f"https://x.example/f{i}", "failed", "", "feed", reason="HTTP 500 " * 80)
        for i in range(50)
    ]
    run = FeedRun("feed", "https://x.example/rss", items=items, problems=["malformed XML " * 10] * 20)
    text = fetch_report_text(
        FetchReport([run, FeedRun("dead", "https://d.example", error="HTTP 404")], 7, 3.2)
    )
    assert len(text) <= CONTENT_MAX and "@everyone" not in text
    counts = "100 new, 0 updated, 0 duplicates, 0 unchanged, 51 failures; generation 7."
    assert text.startswith(f"⚠️ Fetched 2 feeds in 3.2 s: {counts}")
    assert "• … and 92 more" in text


def test_a_fetch_summary_names_an_item_without_a_link_by_its_title():
    """It showed the item's key in the store: "world: <title:c61db1df373175f1>: the item has no link"."""
    items = [
        ItemOutcome("title:c61db1df373175f1", "failed", "Briefing without a link", "world",
                    reason="the item has no link"),
        ItemOutcome("title:0123456789abcdef", "failed", NASTY * 20, "world", reason="the item has no link"),
    ]  # fmt: skip
    text = fetch_report_text(FetchReport([FeedRun("world", "https://x.example/rss", items=items)], 7, 1.0))
    lines = text.splitlines()
    assert "• world: “Briefing without a link”: the item has no link" in lines
    (nasty,) = [line for line in lines if "0123456789abcdef" in line or "bold" in line]
    assert nasty.startswith("• world: “") and nasty.endswith("”: the item has no link")
    assert "title:" not in text and "@everyone" not in text and problems(text, []) == []


def test_an_articles_password_and_key_are_hidden_in_fetch_and_ingest_messages():
    """An item linking to ``https://user:pass@host/...?token=...`` (its page without a title, or
    a duplicate of one): /operator fetch and /admin ingest showed the link whole in the channel."""
    keyed = "https://ana:s3kr1t@x.example/a?token=abc123"
    items = [
        ItemOutcome(keyed, "new", "", "world"),
        ItemOutcome(keyed + "&b", "duplicate", "Dup", "world", reason=f"same page as {keyed}"),
    ]
    said = [
        fetch_report_text(FetchReport([FeedRun("world", "https://x.example/rss", items=items)], 7, 1.0)),
        ingest_text(ItemOutcome(keyed, "new", "", None)),
        ingest_failed_text(keyed, "HTTP 404"),
    ]
    for text in said:
        assert "https://***@x.example/a?token=***" in text
        assert "s3kr1t" not in text and "abc123" not in text, text


def test_progress_of_a_fetch_of_many_feeds_fits():
    lines = [f"feed-{i}: 3 page(s) fetched, " + "1 failed " * 50 for i in range(40)]
    text = fetch_progress_text(
        "every feed", lines, IndexProgress("embedding", 3, 9, "articles", 12, 4.0), 12.3
    )
    assert len(text) <= CONTENT_MAX and text.startswith(
        "⏳ Fetching every feed: 12 s elapsed\n• … 30 more feeds"
    )


def test_a_feed_whose_catch_up_was_given_up_says_so_in_the_servers_language():
    """Given up after two days, a server's catch-up was only logged: its admins list their feeds."""
    failed = Feed(1, "world", "https://x.example/rss", "Outlet", "en", 30, catch_up_failed=True)
    fine = Feed(2, "local", "https://y.example/rss", "Outlet", "en", 30)
    for tx, said in ((texts("en"), "could not be fetched"), (texts("id"), "tidak dapat diambil")):
        first, second = (feeds_embed([failed, fine], tx).description or "").split("\n\n")
        assert said in first and said not in second


@pytest.mark.parametrize(
    "failure",
    [
        FetchFailure("HTTPStatusError", 404),
        FetchFailure("HTTPStatusError"),  # a damaged row: its text would say "HTTP None"
        FetchFailure("UnsupportedContentType"),
        FetchFailure("NoSuchError", 404),
    ],
)
def test_a_feeds_stored_failure_is_said_in_indonesian_only_where_its_kind_says_all(failure: FetchFailure):
    """An Indonesian admin reads a stored 404 in Indonesian; the operators, English readers and a
    kind that does not say all its text needs read the English recorded."""
    recorded = "HTTP 404 Not Found fetching https://x.example/rss"
    feed = Feed(1, "w", "https://x.example/rss", None, "en", 30, last_error=recorded, failures=1,
                last_failure=failure)  # fmt: skip
    ID = texts("id")
    whole = failure == FetchFailure("HTTPStatusError", 404)
    said = ID("fetch.error.http_status", status=404) if whole else recorded
    for tx, host, why in ((ID, False, said), (ID, True, recorded), (EN, False, recorded)):
        listed = (feeds_embed([feed], tx, host=host).description or "").replace("\\", "")
        assert listed.endswith(tx.plural("feeds.failing", 1, why=why)), listed


def test_a_long_feed_list_and_follow_list_fit_one_embed():
    feeds = [
        Feed(i, f"feed-{i}", "https://x.example/" + "r" * 400, "Outlet", "en", 30, failures=i % 3,
             last_error="HTTP 500 " * 60, last_success="2024-03-05T10:00:00Z", next_poll=1_709_600_000.0)
        for i in range(200)
    ]  # fmt: skip
    embed = feeds_embed(feeds)
    assert problems(None, [embed]) == [] and embed.description and embed.description.endswith("more feeds")
    follows = [Follow(i, 5, f"topic {i} " + NASTY * 4, 1, 42, "2024-03-05T10:00:00Z") for i in range(25)]
    dropped = [
        DroppedFollow(5 + i % 2, 1, f"gone {i} " + NASTY * 4, "closed", 1_709_600_000.0) for i in range(10)
    ]
    undelivered = [
        UndeliveredAlert(5 + i % 2, (f"topic {i} " + NASTY * 4,) * 3, NASTY * 9, 1 + i, "refused", 1.7e9)
        for i in range(10)
    ]
    for server in (False, True):
        assert problems(None, [following_embed(follows, server=server, gap_s=600)]) == []
        embed = following_embed(follows, server=server, gap_s=600, tx=texts("id"), dropped=dropped, here=5)
        assert problems(None, [embed]) == []
        [field] = embed.fields
        assert field.value.endswith("lainnya") and "@everyone" not in field.value.replace("\\@", "")
        assert ("<#5> " in field.value) is server and "<#6> " in field.value
        embed = following_embed(
            follows, server=server, gap_s=600, dropped=dropped, here=5, undelivered=undelivered
        )
        assert problems(None, [embed]) == [] and embed.description
        assert [f.name for f in embed.fields] == [
            EN("following.dropped_title"),
            EN("following.undelivered_title"),
        ]
        value = embed.fields[1].value or ""
        assert value.endswith("more") and "@everyone" not in value.replace("\\@", "")
        assert ("<#5> " in value) is server and "<#6> " in value


@pytest.mark.parametrize("language", ["en", "id"])
def test_an_alert_given_up_on_says_what_when_and_why(language: str):
    tx = texts(language)
    alerts = [
        UndeliveredAlert(
            6, ("fishing", "**patrols**"), "Navies [meet](https://evil.example)", 3, "unanswered", 1.7e9
        ),
        UndeliveredAlert(5, ("fishing",), "Sanctions", 1, "refused", 1.6e9),
    ]
    embed = following_embed([], server=False, gap_s=600, tx=tx, here=5, undelivered=alerts)
    [field] = embed.fields
    more = tx.plural("following.undelivered.more", 2)
    assert field.name == tx("following.undelivered_title") and embed.description == tx("following.none")
    topics = tx("list.and", items="“fishing”", last=r"“\*\*patrols\*\*”")
    assert (field.value or "").split("\n") == [
        f"• <#6> {topics}: “Navies \\[meet\\](https://evil.example)” {more} — "
        + tx("following.undelivered.unanswered", when="<t:1700000000:R>"),
        "• “fishing”: “Sanctions” — " + tx("following.undelivered.refused", when="<t:1600000000:R>"),
    ]


@pytest.mark.parametrize(
    ("seconds", "text"), [(600, "10 minutes"), (60, "1 minute"), (90, "90 seconds"), (7200, "2 hours")]
)
def test_durations(seconds: float, text: str):
    assert duration(seconds) == text


def test_topics_are_quoted_and_listed():
    assert quoted(["a"]) == "“a”"
    assert quoted(["a", "b"]) == "“a” and “b”"
    assert quoted(["a", "b", "c"]) == "“a”, “b” and “c”"
