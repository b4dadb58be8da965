"""Feeds, fetches and topic alerts → Discord texts and embeds. Pure functions, like ``render``.

Article and user text (headlines, ledes, topics, feed names, failure reasons) is escaped and cut
to Discord's limits here, so a headline containing ``@everyone`` or ``**`` renders as written
and a message is never refused for its length. A failure of the host's own is named to the
operators only (``host``; ``failures``). The bot's own words come from the catalogues
(``i18n``), in the ``Texts`` given (English when none is).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import discord
from foreign_desk.index.feeds import Feed, FetchReport, Follow, ItemOutcome, PollNote, Post
from foreign_desk.index.feeds.drops import DroppedFollow
from foreign_desk.index.feeds.undelivered import UndeliveredAlert
from foreign_desk.index.models import ArticleSummary
from foreign_desk.index.progress import IndexProgress
from foreign_desk.index.secrets import hide_secrets

from .failures import shown
from .fetch_words import fetch_words
from .i18n import EN, Texts
from .limits import (
    CONTENT_MAX,
    EMBED_DESCRIPTION_MAX,
    EMBED_TITLE_MAX,
    EMBED_TOTAL_MAX,
    FIELD_VALUE_MAX,
    embed_size,
    escape,
    escape_content,
    fit,
    fit_markdown,
    inert,
    join_within,
    safe_url,
)
from .render import COLOUR, SEP, article_block, latest_embed, progress_line

LIST_MAX = 8
"""Items named per status in a fetch summary; the rest are counted."""


def quoted(topics: Sequence[str], tx: Texts = EN) -> str:
    """``“a”``, ``“a” and “b”``, ``“a”, “b” and “c”`` (unescaped)."""
    names = [f"“{t}”" for t in topics]
    return names[0] if len(names) == 1 else tx("list.and", items=", ".join(names[:-1]), last=names[-1])


def duration(seconds: float, tx: Texts = EN) -> str:
    """600 → ``10 minutes``; 90 → ``90 seconds``; 3600 → ``1 hour``."""
    if seconds >= 3600 and seconds % 3600 == 0:
        return tx.plural("count.hours", int(seconds // 3600))
    if seconds >= 60 and seconds % 60 == 0:
        return tx.plural("count.minutes", int(seconds // 60))
    return tx.plural("count.seconds", round(seconds))


def timestamp(when: float | str | None, style: str = "R") -> str | None:
    """A Discord timestamp (``<t:1709600000:R>`` shows "in 5 minutes" in the reader's zone)."""
    if isinstance(when, str):
        try:
            when = datetime.fromisoformat(when).timestamp()
        except ValueError:
            return None
    return f"<t:{int(when)}:{style}>" if when else None


def utc_minute(when: float) -> str:
    """``2024-03-05 09:15 UTC``: a time inside a message whose Markdown is escaped, where a
    Discord timestamp would show as its code."""
    return datetime.fromtimestamp(when, UTC).strftime("%Y-%m-%d %H:%M UTC")


def footer(text: str) -> str:
    """Footers render no Markdown: only mentions are broken up."""
    return fit(text, 300, inert)


# -- feeds -----------------------------------------------------------------------------------------
def feed_details(feed: Feed, tx: Texts = EN) -> str:
    """``Antara · Indonesian · every 30 min``: the language named in the reader's words, not by its code."""
    every = tx("feeds.every", minutes=feed.every_minutes)
    language = tx.language_name(feed.language) if feed.language else None
    return SEP.join(p for p in (feed.source, language, every) if p)


def feed_added_text(feed: Feed, tx: Texts = EN) -> str:
    name = fit_markdown(feed.name, 100)
    return tx(
        "feeds.added",
        name=name,
        url=fit_markdown(hide_secrets(feed.url), 600),
        details=fit_markdown(feed_details(feed, tx), 200),
    )


def feed_removed_text(feed: Feed, tx: Texts = EN) -> str:
    return fit(tx("feeds.removed", name=feed.name, url=hide_secrets(feed.url)), CONTENT_MAX, escape_content)


def _feed_block(feed: Feed, tx: Texts, host: bool) -> str:
    status = tx("feeds.last_success", when=timestamp(feed.last_success) or tx("feeds.never"))
    status += SEP + tx("feeds.next_poll", when=timestamp(feed.next_poll) or tx("feeds.now"))
    lines = [f"**{fit_markdown(feed.name, 100)}** {fit_markdown(hide_secrets(feed.url), 400)}"]
    lines.append(fit_markdown(feed_details(feed, tx), 200) + SEP + status)
    if feed.failures:
        # What a fetch's failure was, said in the reader's language; the operators read it as recorded.
        words = None if host else fetch_words(feed.last_failure, tx)
        recorded = shown(feed.last_error, tx, host=host) if feed.last_error else tx("feeds.unknown_error")
        lines.append(tx.plural("feeds.failing", feed.failures, why=fit_markdown(words or recorded, 300)))
    if feed.catch_up_failed:
        lines.append(tx("feeds.catch_up_failed"))
    return "\n".join(lines)


def feeds_embed(feeds: Sequence[Feed], tx: Texts = EN, *, host: bool = False) -> discord.Embed:
    """Each feed with its URL, outlet, language, interval, last success, next poll and failures
    (the host's own named only with ``host``)."""
    embed = discord.Embed(title=tx("feeds.title"), colour=COLOUR)
    if not feeds:
        embed.description = tx("feeds.none")
        return embed
    blocks = [_feed_block(feed, tx, host) for feed in feeds]
    embed.description = join_within(blocks, "\n\n", lambda n: tx.plural("feeds.more", n))
    failing = sum(1 for f in feeds if f.failures)
    text = tx.plural("count.feeds", len(feeds))
    if failing:
        text += SEP + tx("feeds.failing_count", n=failing)
    embed.set_footer(text=text)
    return embed


# -- fetching --------------------------------------------------------------------------------------
def fetch_starting_text(what: str, tx: Texts = EN) -> str:
    return fit(tx("fetch.starting", what=what), CONTENT_MAX, escape_content)


def poll_line(note: PollNote, tx: Texts = EN, *, host: bool = False) -> str:
    """``dunia: 2 halaman diambil, 1 gagal``: a feed as soon as a fetch collected it (a failure
    of the host's own named only with ``host``: ``failures``)."""
    if note.error:
        error = fetch_words(note.failure, tx) or shown(note.error, tx, host=host)
        return tx("fetch.poll.error", feed=note.feed, error=error)
    if note.not_modified:
        return tx("fetch.poll.not_modified", feed=note.feed)
    parts = [tx.plural("fetch.poll.pages", note.pages)]
    parts += [tx.plural(f"fetch.poll.{status}", n) for status, n in note.decided]
    if note.problems:
        parts.append(tx("fetch.poll.problems", problems="; ".join(note.problems)))
    return tx("fetch.poll.line", feed=note.feed, parts=", ".join(parts))


def fetch_progress_text(
    what: str, lines: Sequence[str], progress: IndexProgress | None, elapsed_s: float, tx: Texts = EN
) -> str:
    """The status while a fetch runs: one line per feed polled so far, then the indexing progress."""
    head = tx("fetch.running", what=what, seconds=f"{elapsed_s:.0f}")
    body = [f"• {line}" for line in lines[-10:]]
    if len(lines) > 10:
        body.insert(0, "• " + tx.plural("fetch.more_feeds", len(lines) - 10))
    if progress is not None:
        body.append(tx("fetch.indexing", progress=progress_line(progress, tx)))
    return fit("\n".join([head, *body]), CONTENT_MAX, escape_content)


def _report_head(report: FetchReport, tx: Texts, host: bool) -> str:
    c = report.counts
    mark = "⚠️" if any(not run.ok for run in report.runs) else "✅"
    head = tx(
        "fetch.finished",
        mark=mark,
        feeds=tx.plural("count.feeds", len(report.runs)),
        seconds=tx.decimal(report.seconds),
        new=c["new"],
        updated=c["updated"],
        duplicates=tx.plural("count.duplicates", c["duplicates"]),
        unchanged=c["unchanged"],
        failures=tx.plural("count.failures", c["failures"]),
    )
    if (c["new"] or c["updated"]) and host:
        return head + tx("fetch.generation", generation=report.generation)
    return head + "."


def _listed(title: str, lines: list[str], tx: Texts) -> str:
    shown = [title, *(f"• {line}" for line in lines[:LIST_MAX])]
    if len(lines) > LIST_MAX:
        shown.append("• " + tx("list.and_more", n=len(lines) - LIST_MAX))
    return "\n".join(shown)


def _failure_lines(report: FetchReport, tx: Texts, host: bool) -> list[str]:
    """``feed: <URL>: reason`` per failure (in the reader's language where it is a fetch's:
    ``fetch_words``); the URL left out where the reason names it, and an item without a link
    named by its title, not by its key in the store (``title:…``)."""
    linkless = {
        i.url: f"“{fit(i.title or i.url, 150)}”"
        for i in report.items
        if i.status == "failed" and "://" not in i.url
    }
    failed = [(r.url, r.failure) for r in report.runs]
    failed += [(i.url, i.failure) for i in report.items if i.status == "failed"]
    failures = {hide_secrets(url): why for url, why in failed if why is not None}
    lines = []
    for feed, url, reason in report.failures:
        reason = fetch_words(failures.get(url), tx) or shown(reason, tx, host=host)
        where = [feed] if feed else []
        if url not in reason:  # most reasons name the URL already
            where.append(linkless.get(url, f"<{url}>"))
        lines.append(": ".join([*where, fit(reason, 300)]))
    return lines


def fetch_report_text(report: FetchReport, tx: Texts = EN, *, host: bool = True) -> str:
    """The summary: counts, then what was new, updated or a duplicate, and every failure with its
    reason (the host's own named only with ``host``); the generation published only with ``host``
    (operators': it counts every server's)."""
    sections = [_report_head(report, tx, host)]
    for status in ("new", "updated", "duplicate"):
        items = [i for i in report.items if i.status == status]
        if items:
            lines = [  # links' credentials hidden (before a cut): the stored link keeps them
                fit(hide_secrets(i.title or i.url), 150)
                + (f" ({hide_secrets(i.reason)})" if status == "duplicate" and i.reason else "")
                for i in items
            ]
            sections.append(_listed(tx(f"fetch.section.{status}"), lines, tx))
    if report.failures:
        sections.append(_listed(tx("fetch.section.failed"), _failure_lines(report, tx, host), tx))
    problems = [f"• {run.feed}: {p}" for run in report.runs for p in run.problems]
    if problems:
        sections.append("\n".join([tx("fetch.section.problems"), *problems[:LIST_MAX]]))
    if report.waiting:  # the site asked the host to wait, or the feed backs off: not requested
        waits = [tx("fetch.waiting", feed=w.feed, when=utc_minute(w.until)) for w in report.waiting]
        sections.append(_listed(tx("fetch.section.waiting"), waits, tx))
    return fit("\n\n".join(sections), CONTENT_MAX, escape_content)


def fetch_failure_text(message: str, tx: Texts = EN) -> str:
    return fit(tx("fetch.failed", message=message), CONTENT_MAX, escape_content)


def ingest_failed_text(url: str, reason: str, tx: Texts = EN) -> str:
    url, reason = hide_secrets(url), hide_secrets(reason)
    text = tx("ingest.failed", reason=reason if url in reason else f"<{url}>: {reason}")
    return fit(text, CONTENT_MAX, escape_content)


def ingest_text(outcome: ItemOutcome, tx: Texts = EN) -> str:
    """What ``/admin ingest`` did with the URL."""
    url = hide_secrets(outcome.url)  # the stored link, the citation, keeps its credentials
    what = f"“{fit(outcome.title or url, 300)}” (<{url}>)"
    why = f" ({hide_secrets(outcome.reason)})" if outcome.reason else ""
    key = f"ingest.{outcome.status}"
    text = tx(key, what=what, why=why) if tx.get(key, "") else f"{outcome.status}: {what}{why}"
    return fit(text, CONTENT_MAX, escape_content)


# -- follows and alerts ----------------------------------------------------------------------------
def pace_text(gap_s: float, tx: Texts = EN) -> str:
    if gap_s <= 0:
        return tx("follow.pace_burst")
    return tx("follow.pace", gap=duration(gap_s, tx))


def followed_text(topic: str, gap_s: float, recent: bool, tx: Texts = EN) -> str:
    """The public confirmation of /follow."""
    text = tx("follow.followed", topic=topic, pace=pace_text(gap_s, tx))
    if not recent:
        text += "\n" + tx("follow.nothing_recent")
    return fit(text, CONTENT_MAX, escape_content)


def recent_embed(items: Sequence[ArticleSummary], topic: str, tx: Texts = EN) -> discord.Embed:
    """The recent articles about a topic just followed: what its alerts will look like."""
    embed = latest_embed(items, topic=topic, tx=tx)
    embed.title = fit(tx("follow.recent_title", topic=topic), EMBED_TITLE_MAX, escape)
    return embed


def unfollowed_text(follow: Follow, tx: Texts = EN) -> str:
    return fit(tx("follow.unfollowed", topic=follow.topic), CONTENT_MAX, escape_content)


def _follow_lines(follows: Sequence[Follow], server: bool, tx: Texts) -> list[str]:
    if server:
        channels: dict[int, list[str]] = {}
        for f in follows:
            channels.setdefault(f.channel_id, []).append(fit_markdown(f"“{f.topic}”", 120))
        return [f"<#{channel}>: {', '.join(topics)}" for channel, topics in channels.items()]
    lines = []
    for f in follows:
        line = "• " + fit_markdown(f"“{f.topic}”", 120)
        since = timestamp(f.created_at, "d")
        if since:
            line += " — " + tx("follow.since", when=since)
        if f.created_by:
            line += " " + tx("follow.by", who=f"<@{f.created_by}>")
        lines.append(line)
    return lines


def following_embed(
    follows: Sequence[Follow],
    *,
    server: bool,
    gap_s: float,
    tx: Texts = EN,
    dropped: Sequence[DroppedFollow] = (),
    here: int | None = None,
    undelivered: Sequence[UndeliveredAlert] = (),
) -> discord.Embed:
    """The topics followed in a channel (who added each, since when), or in the whole server by
    channel; then those the bot stopped there lately (``dropped``), each with why, and the alerts
    it gave up on (``undelivered``), naming the channel of each unless it is ``here`` (the channel
    listed: its threads' are named). The list of topics takes what the two leave of 6000."""
    embed = discord.Embed(title=tx("following.title_server" if server else "following.title"), colour=COLOUR)
    where = None if server else here
    _add_list(embed, tx("following.dropped_title"), [_dropped_line(d, where, tx) for d in dropped], tx)
    lines = [_undelivered_line(u, where, tx) for u in undelivered]
    _add_list(embed, tx("following.undelivered_title"), lines, tx)
    if not follows:
        embed.description = tx("following.none_server" if server else "following.none")
        return embed
    embed.set_footer(text=footer(f"{tx.plural('count.topics', len(follows))}{SEP}{pace_text(gap_s, tx)}"))
    description = "\n".join(_follow_lines(follows, server, tx))
    room = min(EMBED_DESCRIPTION_MAX, EMBED_TOTAL_MAX - embed_size(dict(embed.to_dict())))
    embed.description = description if len(description) <= room else fit(description, min(4000, room))
    return embed


def _add_list(embed: discord.Embed, name: str, lines: list[str], tx: Texts) -> None:
    """A field of ``lines`` (as many as fit, then "… and N more"); none without lines."""
    if lines:
        value = join_within(lines, "\n", lambda n: tx("list.and_more", n=n), FIELD_VALUE_MAX)
        embed.add_field(name=name, value=value, inline=False)


def _dropped_line(drop: DroppedFollow, here: int | None, tx: Texts) -> str:
    """``• <#thread> “topic” — stopped 2 days ago: the thread was locked`` (its channel named
    unless it is ``here``)."""
    where = "" if drop.channel_id == here else f"<#{drop.channel_id}> "
    why = tx(f"following.dropped.{drop.reason}", when=timestamp(drop.dropped_at) or "")
    return f"• {where}{fit_markdown(f'“{drop.topic}”', 120)} — {why}"


def _undelivered_line(alert: UndeliveredAlert, here: int | None, tx: Texts) -> str:
    """``• <#thread> “topic”: “Headline” and 2 more articles — not delivered 2 days ago: Discord
    refused the message, several times`` (its channel named unless it is ``here``)."""
    where = "" if alert.channel_id == here else f"<#{alert.channel_id}> "
    what = fit_markdown(f"{quoted(alert.topics, tx)}: “{alert.headline}”", 240)
    more = " " + tx.plural("following.undelivered.more", alert.articles - 1) if alert.articles > 1 else ""
    why = tx(f"following.undelivered.{alert.reason}", when=timestamp(alert.dropped_at) or "")
    return f"• {where}{what}{more} — {why}"


def _alert_embed(post: Post, tx: Texts) -> discord.Embed:
    article = post.items[0].article
    also_in = post.also_in[0] if post.also_in else ()
    embed = discord.Embed(title=fit(article.title, EMBED_TITLE_MAX, escape), colour=COLOUR)
    link = safe_url(article.url)
    if link:
        embed.url = link
    meta = SEP.join(p for p in (article.source, tx.date(article.day)) if p)
    if also_in:
        meta = SEP.join(p for p in (meta, tx("answer.also_in", outlets=", ".join(also_in))) if p)
    lines = [fit_markdown(meta, 300)] if meta else []
    if article.lede:
        lines.append(fit_markdown(article.lede, 1500))
    embed.description = "\n".join(lines) or None
    return embed


def alert_message(post: Post, tx: Texts = EN) -> tuple[str, discord.Embed]:
    """One alert (a linked headline with outlet, date and lede) or a numbered digest of several.

    The text line is what a notification shows; the embed carries the articles.
    """
    topics = fit(quoted(post.topics, tx), 300)
    if not post.digest:
        content = fit(tx("alert.new", topics=topics), CONTENT_MAX, escape_content)
        embed = _alert_embed(post, tx)
    else:
        n = len(post.items)
        content = fit(tx("alert.digest", n=n, topics=topics), CONTENT_MAX, escape_content)
        embed = discord.Embed(colour=COLOUR)
        per = (EMBED_DESCRIPTION_MAX - 2 * (n - 1)) // n
        also = list(post.also_in) + [()] * (n - len(post.also_in))
        embed.description = "\n\n".join(
            article_block(m.article, per, number, also_in, tx)
            for number, (m, also_in) in enumerate(zip(post.items, also, strict=True), 1)
        )
    embed.set_footer(text=footer(_follow_line(post, tx)))
    return content, embed


def _follow_line(post: Post, tx: Texts) -> str:
    """``Following “topic” here · /unfollow to stop``, unescaped: a footer renders no Markdown,
    a message does."""
    line = tx("alert.following", topics=fit(quoted(post.topics, tx), 200))
    if post.pending_after:
        line += SEP + tx("alert.pending", n=post.pending_after)
    return line


def alert_text(post: Post, tx: Texts = EN) -> str:
    """The alert as plain text, for a channel where the bot may not embed (no Embed Links)."""
    content, _ = alert_message(post, tx)
    tail = "-# " + fit_markdown(_follow_line(post, tx), 300)
    n = len(post.items)
    per = max(80, (CONTENT_MAX - len(content) - len(tail) - 4 - 2 * (n - 1)) // n)
    also = list(post.also_in) + [()] * (n - len(post.also_in))
    blocks = [
        article_block(m.article, per, number if n > 1 else None, also_in, tx=tx)
        for number, (m, also_in) in enumerate(zip(post.items, also, strict=True), 1)
    ]
    return fit("\n".join(p for p in (content, "\n\n".join(blocks), tail) if p), CONTENT_MAX)
