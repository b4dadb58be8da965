"""Feeds, fetches and topic alerts → Discord texts and embeds. Pure functions, like ``render``.

Article and user text (headlines, ledes, topics, feed names, failure reasons) is escaped and cut
to Discord's limits here, so a headline containing ``@everyone`` or ``**`` renders as written
and a message is never refused for its length.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import discord
from foreign_desk.index.citation import format_date
from foreign_desk.index.feeds import Feed, FetchReport, Follow, ItemOutcome, Post
from foreign_desk.index.models import ArticleSummary, IndexProgress

from .limits import (
    CONTENT_MAX,
    EMBED_DESCRIPTION_MAX,
    EMBED_TITLE_MAX,
    escape,
    fit,
    fit_markdown,
    join_within,
    safe_url,
)
from .render import COLOUR, SEP, article_block, latest_embed, plural

LIST_MAX = 8
"""Items named per status in a fetch summary; the rest are counted."""


def quoted(topics: Sequence[str]) -> str:
    """``“a”``, ``“a” and “b”``, ``“a”, “b” and “c”`` (unescaped)."""
    names = [f"“{t}”" for t in topics]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def duration(seconds: float) -> str:
    """600 → ``10 minutes``; 90 → ``90 seconds``; 3600 → ``1 hour``."""
    if seconds >= 3600 and seconds % 3600 == 0:
        return plural(int(seconds // 3600), "hour")
    if seconds >= 60 and seconds % 60 == 0:
        return plural(int(seconds // 60), "minute")
    return plural(round(seconds), "second")


def timestamp(when: float | str | None, style: str = "R") -> str | None:
    """A Discord timestamp (``<t:1709600000:R>`` shows "in 5 minutes" in the reader's zone)."""
    if isinstance(when, str):
        try:
            when = datetime.fromisoformat(when).timestamp()
        except ValueError:
            return None
    return f"<t:{int(when)}:{style}>" if when else None


def footer(text: str) -> str:
    """Footers render no Markdown: only mentions are broken up."""
    return fit(text, 300, discord.utils.escape_mentions)


# -- feeds -----------------------------------------------------------------------------------------
def feed_details(feed: Feed) -> str:
    return SEP.join(p for p in (feed.source, feed.language, f"every {feed.every_minutes} min") if p)


def feed_added_text(feed: Feed) -> str:
    name = fit_markdown(feed.name, 100)
    return (
        f"✅ Added feed **{name}** ({fit_markdown(feed.url, 600)}): {fit_markdown(feed_details(feed), 200)}. "
        f"It is polled in the background; /admin fetch feed:{name} fetches it now."
    )


def feed_removed_text(feed: Feed) -> str:
    return fit(
        f"🗑️ Removed feed {feed.name} ({feed.url}); its articles stay in the index.", CONTENT_MAX, escape
    )


def _feed_block(feed: Feed) -> str:
    status = f"last success {timestamp(feed.last_success) or 'never'}"
    status += f"{SEP}next poll {timestamp(feed.next_poll) or 'now'}"
    lines = [f"**{fit_markdown(feed.name, 100)}** {fit_markdown(feed.url, 400)}"]
    lines.append(fit_markdown(feed_details(feed), 200) + SEP + status)
    if feed.failures:
        why = fit_markdown(feed.last_error or "unknown error", 300)
        lines.append(f"⚠️ {plural(feed.failures, 'failure')} in a row, last: {why}")
    return "\n".join(lines)


def feeds_embed(feeds: Sequence[Feed]) -> discord.Embed:
    """Each feed with its URL, outlet, language, interval, last success, next poll and failures."""
    embed = discord.Embed(title="Feeds", colour=COLOUR)
    if not feeds:
        embed.description = "No feeds registered: add one with /admin feeds add."
        return embed
    blocks = [_feed_block(feed) for feed in feeds]
    embed.description = join_within(blocks, "\n\n", lambda n: f"… and {n} more feeds")
    failing = sum(1 for f in feeds if f.failures)
    embed.set_footer(text=plural(len(feeds), "feed") + (f"{SEP}{failing} failing" if failing else ""))
    return embed


# -- fetching --------------------------------------------------------------------------------------
def fetch_starting_text(what: str) -> str:
    return fit(f"⏳ Fetching {what}…", CONTENT_MAX, escape)


def fetch_progress_text(
    what: str, lines: Sequence[str], progress: IndexProgress | None, elapsed_s: float
) -> str:
    """The status while a fetch runs: one line per feed polled so far, then the indexing progress."""
    head = f"⏳ Fetching {what}: {elapsed_s:.0f} s elapsed"
    body = [f"• {line}" for line in lines[-10:]]
    if len(lines) > 10:
        body.insert(0, f"• … {len(lines) - 10} more feeds")
    if progress is not None:
        count = f" {progress.done}/{progress.total} {progress.unit}" if progress.total else ""
        body.append(f"Indexing: {progress.phase}{count}{SEP}{progress.passages} passages embedded")
    return fit("\n".join([head, *body]), CONTENT_MAX, escape)


def fetch_report_text(report: FetchReport) -> str:
    """The summary: counts, then what was new, updated or a duplicate, and every failure with its reason."""
    c = report.counts
    mark = "⚠️" if any(not run.ok for run in report.runs) else "✅"
    head = (
        f"{mark} Fetched {plural(len(report.runs), 'feed')} in {report.seconds:.1f} s: "
        f"{c['new']} new, {c['updated']} updated, {plural(c['duplicates'], 'duplicate')}, "
        f"{c['unchanged']} unchanged, {plural(c['failures'], 'failure')}"
    )
    head += f"; generation {report.generation}." if c["new"] or c["updated"] else "."
    sections = [head]
    for status, label in (("new", "New"), ("updated", "Updated"), ("duplicate", "Duplicates")):
        items = [i for i in report.items if i.status == status]
        if not items:
            continue
        lines = [f"{label}:"]
        for item in items[:LIST_MAX]:
            why = f" ({item.reason})" if status == "duplicate" and item.reason else ""
            lines.append(f"• {fit(item.title or item.url, 150)}{why}")
        if len(items) > LIST_MAX:
            lines.append(f"• … and {len(items) - LIST_MAX} more")
        sections.append("\n".join(lines))
    failures = report.failures
    if failures:
        lines = ["Failed:"]
        for feed, url, reason in failures[:LIST_MAX]:
            where = [feed] if feed else []
            if url not in reason:  # most reasons name the URL already
                where.append(f"<{url}>")
            lines.append(f"• {': '.join([*where, fit(reason, 300)])}")
        if len(failures) > LIST_MAX:
            lines.append(f"• … and {len(failures) - LIST_MAX} more")
        sections.append("\n".join(lines))
    problems = [f"• {run.feed}: {p}" for run in report.runs for p in run.problems]
    if problems:
        sections.append("\n".join(["Feed problems:", *problems[:LIST_MAX]]))
    return fit("\n\n".join(sections), CONTENT_MAX, escape)


def fetch_failure_text(message: str) -> str:
    return fit(f"❌ Fetch failed: {message}", CONTENT_MAX, escape)


def ingest_failed_text(url: str, reason: str) -> str:
    text = f"❌ Not indexed: {reason}" if url in reason else f"❌ Not indexed: <{url}>: {reason}"
    return fit(text, CONTENT_MAX, escape)


def ingest_text(outcome: ItemOutcome) -> str:
    """What ``/admin ingest`` did with the URL."""
    what = f"“{fit(outcome.title or outcome.url, 300)}” (<{outcome.url}>)"
    why = f" ({outcome.reason})" if outcome.reason else ""
    text = {
        "new": f"✅ Added {what}: it is answerable now.",
        "updated": f"✅ Updated {what}: the new version replaces the old one.",
        "unchanged": f"Already up to date: {what}.",
        "duplicate": f"Already indexed: {what}{why}.",
    }.get(outcome.status, f"{outcome.status}: {what}{why}")
    return fit(text, CONTENT_MAX, escape)


# -- follows and alerts ----------------------------------------------------------------------------
def pace_text(gap_s: float) -> str:
    if gap_s <= 0:
        return "each burst of articles comes as one message"
    return f"at most one message every {duration(gap_s)}; a burst of articles comes as one digest"


def followed_text(topic: str, gap_s: float, recent: bool) -> str:
    """The public confirmation of /follow."""
    text = (
        f"📌 This channel now follows “{topic}”: new articles about it, in any language, are posted here "
        f"as they are indexed ({pace_text(gap_s)}). /unfollow stops it."
    )
    if not recent:
        text += "\nNothing among the recent articles is about it yet."
    return fit(text, CONTENT_MAX, escape)


def recent_embed(items: Sequence[ArticleSummary], topic: str) -> discord.Embed:
    """The recent articles about a topic just followed: what its alerts will look like."""
    embed = latest_embed(items, topic=topic)
    embed.title = fit(f"Recently on “{topic}”", EMBED_TITLE_MAX, escape)
    return embed


def unfollowed_text(follow: Follow) -> str:
    return fit(f"This channel no longer follows “{follow.topic}”.", CONTENT_MAX, escape)


def following_embed(follows: Sequence[Follow], *, server: bool, gap_s: float) -> discord.Embed:
    """The topics followed in a channel (who added each, since when), or in the whole server by channel."""
    embed = discord.Embed(
        title="Topics followed in this server" if server else "Topics followed in this channel", colour=COLOUR
    )
    if not follows:
        where = "No channel of this server follows" if server else "This channel follows"
        embed.description = f"{where} no topics yet: /follow topic:… adds one."
        return embed
    lines: list[str] = []
    if server:
        channels: dict[int, list[str]] = {}
        for f in follows:
            channels.setdefault(f.channel_id, []).append(fit_markdown(f"“{f.topic}”", 120))
        lines = [f"<#{channel}>: {', '.join(topics)}" for channel, topics in channels.items()]
    else:
        for f in follows:
            line = "• " + fit_markdown(f"“{f.topic}”", 120)
            since = timestamp(f.created_at, "d")
            if since:
                line += f" — since {since}"
            if f.created_by:
                line += f" by <@{f.created_by}>"
            lines.append(line)
    description = "\n".join(lines)
    embed.description = description if len(description) <= EMBED_DESCRIPTION_MAX else fit(description, 4000)
    embed.set_footer(text=footer(f"{plural(len(follows), 'topic')}{SEP}{pace_text(gap_s)}"))
    return embed


def alert_message(post: Post) -> tuple[str, discord.Embed]:
    """One alert (a linked headline with outlet, date and lede) or a numbered digest of several.

    The text line is what a notification shows; the embed carries the articles.
    """
    topics = fit(quoted(post.topics), 300)
    follow_line = f"Following {fit(topics, 200)} here{SEP}/unfollow to stop"
    if post.pending_after:
        follow_line += f"{SEP}{post.pending_after} more in the next digest"
    if not post.digest:
        article = post.items[0].article
        also_in = post.also_in[0] if post.also_in else ()
        content = fit(f"📰 New on {topics}", CONTENT_MAX, escape)
        embed = discord.Embed(title=fit(article.title, EMBED_TITLE_MAX, escape), colour=COLOUR)
        link = safe_url(article.url)
        if link:
            embed.url = link
        meta = SEP.join(p for p in (article.source, format_date(article.published)) if p)
        if also_in:
            meta = SEP.join(p for p in (meta, "also in " + ", ".join(also_in)) if p)
        lines = [fit_markdown(meta, 300)] if meta else []
        if article.lede:
            lines.append(fit_markdown(article.lede, 1500))
        embed.description = "\n".join(lines) or None
    else:
        n = len(post.items)
        content = fit(f"📰 {n} new articles on {topics}", CONTENT_MAX, escape)
        embed = discord.Embed(colour=COLOUR)
        per = (EMBED_DESCRIPTION_MAX - 2 * (n - 1)) // n
        also = list(post.also_in) + [()] * (n - len(post.also_in))
        embed.description = "\n\n".join(
            article_block(m.article, per, number, also_in)
            for number, (m, also_in) in enumerate(zip(post.items, also, strict=True), 1)
        )
    embed.set_footer(text=footer(follow_line))
    return content, embed
