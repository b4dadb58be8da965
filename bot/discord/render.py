"""Engine values → Discord embeds and texts. Pure functions: no I/O, no discord.py state.

Every function takes the reader's ``Texts`` (English when not given): the bot's own words come
from the catalogues (``i18n``), article text is shown as written.

Every result respects ``limits``: article and user text is escaped and cut on a sentence
boundary with "…", and budgets are shared out so that a message never breaks a limit, whatever
the corpus holds.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import discord
from foreign_desk.bot.render_text import stats_rows
from foreign_desk.index.citation import format_paragraphs
from foreign_desk.index.models import Answer, ArticleSummary, EngineStats, Filters, Result, SourceCount
from foreign_desk.index.progress import IndexProgress, IndexReport

from .i18n import EN, Texts
from .limits import (
    CONTENT_MAX,
    ELLIPSIS,
    EMBED_DESCRIPTION_MAX,
    EMBED_TITLE_MAX,
    EMBED_TOTAL_MAX,
    FIELD_VALUE_MAX,
    escape,
    escape_content,
    fit,
    fit_markdown,
    fit_start,
    inert,
    join_within,
    safe_url,
)

COLOUR = discord.Colour.from_rgb(32, 86, 140)
LINKED_MAX = CONTENT_MAX // 4
SEP = " · "
NO_FILTERS = Filters()
_PARAGRAPHS = re.compile(r"\n\s*\n+")
PROBLEMS_LISTED = 5
"""Skipped files a reindex message names, each cut to ``PROBLEM_CHARS``; the rest are counted,
so the count fits in the message with them."""
PROBLEM_CHARS = 150


# -- answers -------------------------------------------------------------------------------------
def passage_markdown(text: str, highlight: str, limit: int) -> str:
    """The passage with its best sentence in bold, escaped, cut to ``limit`` around the highlight:
    the whole sentences just before it that fit (the sentence leading to the best one often holds
    the answer), then the words after it, with "…" wherever text is left out."""
    # Mentions are broken up before splitting, so a highlight edge cannot split one; paragraph
    # breaks become line breaks, so blank lines separate results only.
    text, highlight = (_PARAGRAPHS.sub("\n", discord.utils.escape_mentions(t)) for t in (text, highlight))
    at = text.find(highlight) if highlight and highlight.strip() else -1
    if at < 0 or limit < 12:
        return fit_markdown(text, limit)
    before, after = text[:at], text[at + len(highlight) :]
    core = highlight.strip()
    lead, trail = highlight[: len(highlight) - len(highlight.lstrip())], highlight[len(highlight.rstrip()) :]
    bold = f"**{escape(core)}**"
    following = escape(trail + after)
    head = _preceding(before + lead, limit - len(bold), len(following)) + bold
    if len(head) + len(following) <= limit:
        return head + following
    rest = (trail + after).strip()
    if len(head) + 2 <= limit:
        tail = fit_markdown(rest, limit - len(head) - 1, whole_words=True) if rest else ""
        return f"{head} {tail}" if tail else head
    return ELLIPSIS + " **" + fit_markdown(core, limit - 6) + "**"


def _preceding(text: str, room: int, following: int) -> str:
    """What to show of ``text`` (before the best sentence) in ``room`` characters: all of it when
    it fits with an ellipsis after the best sentence, else the whole sentences ending it that
    fit beside the ``following`` characters after the best sentence (a quarter of the room at
    most), else the sentence just before alone; "… " where text is left out."""
    whole = escape(text)
    if len(whole) <= room - min(following, 2):
        return whole
    beside = room - min(following, room // 4)
    return fit_start(text, beside, escape) or fit_start(text, room - 2, escape) or ELLIPSIS + " "


def citation_line(result: Result, limit: int, tx: Texts = EN) -> str:
    """``— [Headline](url) · Outlet · 31 Jan 2023 · ¶4-6`` (the headline unlinked without a URL)."""
    art = result.article
    meta = [p for p in (art.source, tx.date(art.day), format_paragraphs(result.paragraphs)) if p]
    if result.also_in:
        meta.append(tx("answer.also_in", outlets=", ".join(result.also_in)))
    if result.own:  # one of this server's own articles, not the shared corpus's
        meta.append(tx("answer.own"))
    tail = SEP + fit(SEP.join(meta), max(1, limit // 2 - len(SEP)), escape) if meta else ""
    url = safe_url(art.url)
    room = limit - len(tail) - 2
    if url and room - len(url) - 4 >= 20:
        title = fit_markdown(art.title, room - len(url) - 4)
        head = f"[{title}]({url})"
    else:
        head = f"*{fit_markdown(art.title, max(1, room - 2))}*"
    line = f"— {head}{tail}"
    return line if len(line) <= limit else fit_markdown(art.title, limit)


def _share(budget: int, needs: Sequence[int]) -> list[int]:
    """Split ``budget`` among items needing ``needs``: small ones get what they need, the rest share."""
    alloc = [0] * len(needs)
    left, pending = budget, sorted(range(len(needs)), key=lambda i: needs[i])
    while pending:
        share = left // len(pending)
        i = pending[0]
        if needs[i] <= share:
            alloc[i] = needs[i]
            left -= needs[i]
            pending.pop(0)
            continue
        for i in pending:
            alloc[i] = share
        break
    return alloc


def filters_text(filters: Filters, tx: Texts = EN) -> str:
    """``in English, since 31 Jan 2024`` in the reader's language ("bahasa Inggris", not "bahasa en")."""
    parts = []
    if filters.language:
        parts.append(tx("filter.language", value=tx.language_name(filters.language)))
    if filters.source:
        parts.append(tx("filter.source", value=filters.source))
    if filters.since:
        parts.append(tx("filter.since", value=tx.date(filters.since)))
    if filters.until:
        parts.append(tx("filter.until", value=tx.date(filters.until)))
    return ", ".join(parts)


def answer_embed(
    answer: Answer, filters: Filters = NO_FILTERS, tx: Texts = EN, *, total: int = EMBED_TOTAL_MAX
) -> discord.Embed:
    """Numbered passages with the best sentence in bold and a citation line each, in one embed of at
    most ``total`` characters (less when it shares a message with other embeds); a weak answer
    says first that no passage clearly answers (issue 8)."""
    title, description, footer = _answer_parts(answer, filters, tx, total)
    embed = discord.Embed(title=title, description=description, colour=COLOUR)
    embed.set_footer(text=footer)
    return embed


def answer_text(
    answer: Answer, filters: Filters = NO_FILTERS, tx: Texts = EN, note: str | None = None
) -> str:
    """The answer as a message's text, for a channel where the bot may not embed (no Embed Links):
    Discord would drop the embed and leave only the buttons. The ``note`` (``linked_text``), the
    question in bold, the passages, the footer as a small line: the passages make room for the
    note, so the end of the answer is not cut off."""
    head = f"{note}\n" if note else ""
    title, description, footer = _answer_parts(answer, filters, tx, CONTENT_MAX - 20 - len(head))
    return fit(f"{head}**{title}**\n{description}\n-# {escape(footer)}", CONTENT_MAX)


def _answer_parts(answer: Answer, filters: Filters, tx: Texts, total: int) -> tuple[str, str, str]:
    """The title, description and footer of an answer, within ``total`` characters together."""
    title = fit(answer.question, EMBED_TITLE_MAX, escape) or "?"  # a question of bidi controls alone
    results = answer.results
    if results:
        first, last = results[0].rank, results[-1].rank
        shown = (
            tx("answer.passage", n=first) if first == last else tx("answer.passages", first=first, last=last)
        )
    else:
        shown = tx("answer.no_more")
    footer_parts = [shown, tx("answer.took", ms=f"{answer.took_ms:.0f}")]
    if not filters.empty:
        footer_parts.append(filters_text(filters, tx))
    if answer.understood.get("recent") and results:
        footer_parts.append(_recent_text(answer, tx))
    if answer.has_more:
        footer_parts.append(tx("answer.more_hint"))
    footer = fit(SEP.join(footer_parts), 300, inert)  # footers render no Markdown
    budget = min(EMBED_DESCRIPTION_MAX, total - len(title) - len(footer))
    caveat = f"*{escape(_caveat(answer, tx))}*\n\n" if answer.match == "weak" and results else ""
    description = caveat + (
        _answer_description(results, budget - len(caveat), tx, answer.related)
        if results
        else tx("answer.no_more")
    )
    return title, description, footer


def _caveat(answer: Answer, tx: Texts) -> str:
    """Above a weak answer: that no passage clearly answers, or, for a question naming only a time,
    that these are the articles published then, or the newest (``Answer.period_articles``)."""
    if not answer.period_articles:
        return tx.plural("answer.weak", len(answer.results))
    if "published" not in answer.understood:
        return tx("answer.newest")
    first, last = (tx.date(d) for d in answer.understood["published"])
    if first == last:
        return tx("answer.period_day", day=first)
    return tx("answer.period", first=first, last=last)


def _recent_text(answer: Answer, tx: Texts) -> str:
    """For a question asking for the latest ("berita terbaru tentang Gaza"): the days preferred,
    up to the newest article it could find (``search.recent``)."""
    first, last = (tx.date(d) for d in answer.understood["published"])
    return tx("answer.recent", first=first, last=last)


def _answer_description(results: Sequence[Result], budget: int, tx: Texts, related: int) -> str:
    """The numbered passages within ``budget``; "Less closely related:" above the ``related``-th
    (0-based; none when it is past the end: ``Answer.related``)."""
    n = len(results)
    divider = f"*{escape(tx('answer.less_related'))}*\n\n"
    headers = [(divider if i == related else "") + f"**[{r.rank}]** " for i, r in enumerate(results)]
    cite_limit = min(700, budget // (2 * n))
    cites = [citation_line(r, cite_limit, tx) for r in results]
    fixed = sum(len(h) + 1 + len(c) for h, c in zip(headers, cites, strict=True)) + 2 * (n - 1)
    needs = [len(passage_markdown(r.text, r.highlight, 10**9)) for r in results]
    limits = _share(max(0, budget - fixed), needs)
    blocks = [
        f"{h}{passage_markdown(r.text, r.highlight, lim)}\n{c}"
        for h, r, lim, c in zip(headers, results, limits, cites, strict=True)
    ]
    description = "\n\n".join(blocks)
    while len(description) > budget and len(blocks) > 1:  # cannot happen with sane budgets; stay safe
        blocks.pop()
        description = "\n\n".join(blocks)
    return description[:budget]


def nothing_relevant_text(filters: Filters = NO_FILTERS, tx: Texts = EN) -> str:
    """The honest reply when no passage answers the question: with filters, within them (the
    corpus may well hold the answer outside them)."""
    if filters.empty:
        return tx("answer.nothing")
    text = tx("answer.nothing_filtered", filters=filters_text(filters, tx))
    return fit(text, CONTENT_MAX, escape_content)


def linked_text(article: ArticleSummary, tx: Texts = EN) -> str:
    """The line above an answer to a question that linked to ``article``: the story it is about,
    in at most ``LINKED_MAX`` characters (an answer as text shares the message with it)."""
    meta = ", ".join(p for p in (article.source, tx.date(article.day)) if p)
    return fit(tx("menu.in_corpus", title=article.title, meta=meta), LINKED_MAX, escape_content)


# -- listings ------------------------------------------------------------------------------------
def _headline(title: str, url: str | None, limit: int) -> str:
    link = safe_url(url)
    if link and limit - len(link) - 4 >= 20:
        return f"[{fit_markdown(title, limit - len(link) - 4)}]({link})"
    return fit_markdown(title, limit)


def article_block(
    item: ArticleSummary,
    limit: int,
    number: int | None = None,
    also_in: Sequence[str] = (),
    tx: Texts = EN,
) -> str:
    """One article of a listing in at most ``limit`` characters: the headline (linked), outlet and
    date (and the other outlets that ran it), then as much of the lede sentence as fits."""
    head = _headline(item.title, item.url, min(limit // 2, 700))
    if number is not None:
        head = f"**{number}.** {head}"
    meta = SEP.join(p for p in (item.source, tx.date(item.day)) if p)
    if also_in:
        meta = SEP.join(p for p in (meta, tx("answer.also_in", outlets=", ".join(also_in))) if p)
    if item.own:
        meta = SEP.join(p for p in (meta, tx("answer.own")) if p)
    lines = [head]
    if meta:
        lines.append(fit_markdown(meta, 200))
    used = sum(len(x) + 1 for x in lines)
    if item.lede and limit - used > 10:
        lines.append(fit_markdown(item.lede, min(400, limit - used)))
    block = "\n".join(lines)
    return fit(block, limit) if len(block) > limit else block


def articles_text(items: Sequence[ArticleSummary], tx: Texts = EN, limit: int = EMBED_DESCRIPTION_MAX) -> str:
    """A numbered listing of ``items`` sharing ``limit`` characters evenly."""
    n = len(items)
    per = (limit - 2 * (n - 1)) // n
    return "\n\n".join(article_block(item, per, number, tx=tx) for number, item in enumerate(items, 1))


def latest_embed(
    items: Sequence[ArticleSummary], source: str | None = None, topic: str | None = None, tx: Texts = EN
) -> discord.Embed:
    """Newest articles: headline (linked), outlet, date and the lede sentence each."""
    title = tx("latest.title_topic", topic=topic) if topic else tx("latest.title")
    if source:
        title = tx("latest.title_from", title=title, source=source)
    embed = discord.Embed(title=fit(title, EMBED_TITLE_MAX, escape), colour=COLOUR)
    if not items:
        if topic:
            empty = tx("latest.none_topic_from", topic=topic, source=source) if source else None
            empty = empty or tx("latest.none_topic", topic=topic)
        else:
            empty = tx("latest.none_from", source=source) if source else tx("latest.none")
        embed.description = fit(empty, 300, escape)
        return embed
    embed.description = articles_text(items, tx)
    if topic:
        embed.set_footer(text=tx("latest.footer_topic"))
    return embed


def sources_embed(sources: Sequence[SourceCount], tx: Texts = EN) -> discord.Embed:
    """Outlets in the corpus with article counts and the latest date."""
    embed = discord.Embed(title=tx("sources.title"), colour=COLOUR)
    if not sources:
        embed.description = tx("latest.none")
        return embed
    lines = [
        tx(
            "sources.line",
            source=fit_markdown(s.source, 200),
            articles=tx.plural("count.articles", s.articles),
            latest=tx.date(s.latest_day) or tx("sources.undated"),
        )
        for s in sources
    ]
    embed.description = join_within(lines, "\n", lambda n: tx.plural("sources.more", n))
    total = sum(s.articles for s in sources)
    embed.set_footer(
        text=f"{tx.plural('count.outlets', len(sources))}{SEP}{tx.plural('count.articles', total)}"
    )
    return embed


def stats_embed(stats: EngineStats, tx: Texts = EN, *, host: bool = True) -> discord.Embed:
    """What ``foreign-desk stats`` prints, as embed fields (the data folder's figures only with
    ``host``: ``stats_rows``)."""
    rows = stats_rows(stats, host=host)
    kind = tx.get(f"stats.index.{stats.index_type}", stats.index_type)  # "flat" in plain words
    said = {"languages": _languages(stats, tx), "index type": kind}
    embed = discord.Embed(title=tx("stats.title"), colour=COLOUR)
    for name, value in rows:
        value = said.get(name, value)
        inline = name not in ("sources", "data dir", "embedder")
        label = tx(f"stats.{name.replace(' ', '_')}")
        embed.add_field(name=label, value=fit(str(value), FIELD_VALUE_MAX, escape) or "-", inline=inline)
    return embed


def _languages(stats: EngineStats, tx: Texts) -> str:
    """``Indonesia 3, Inggris 2``: each language named in the reader's words (the CLI's in English)."""

    def name(code: str) -> str:
        return tx("stats.language_unknown") if code == "?" else tx.language_name(code)

    return ", ".join(f"{name(code)} {n}" for code, n in stats.languages.items()) or "-"


# -- reindexing ----------------------------------------------------------------------------------
def progress_line(p: IndexProgress, tx: Texts = EN) -> str:
    """``embedding 3/10 articles · 12 passages embedded`` in the reader's language."""
    phase = tx.get(f"phase.{p.phase}", p.phase)
    if p.phase == "waiting":  # nothing counted yet
        return phase
    count = f" {p.done}/{p.total} {tx.get(f'unit.{p.unit}', p.unit)}" if p.total else ""
    return f"{phase}{count}{SEP}{_embedded(p.passages, p.nothing_to_embed, tx)}"


def _embedded(passages: int, nothing: bool, tx: Texts) -> str:
    """``12 passages embedded``; ``nothing new to embed`` when nothing was, or is left to be."""
    return tx("reindex.nothing_to_embed") if nothing else tx.plural("reindex.embedded", passages)


def progress_text(p: IndexProgress, full: bool, tx: Texts = EN) -> str:
    """One status line: phase, done/total, passages embedded, elapsed."""
    kind = tx("reindex.full" if full else "reindex.incremental")
    return tx("reindex.running", kind=kind, progress=progress_line(p, tx), seconds=f"{p.elapsed_s:.0f}")


def starting_text(full: bool, tx: Texts = EN) -> str:
    return tx("reindex.starting", kind=tx("reindex.full" if full else "reindex.incremental"))


def report_text(report: IndexReport, tx: Texts = EN) -> str:
    """The final status: what changed, how long it took, what was skipped."""
    text = tx(
        "reindex.finished",
        seconds=tx.decimal(report.seconds),
        seen=tx.plural("count.articles", report.articles_seen),
        added=report.articles_added,
        updated=report.articles_updated,
        removed=report.articles_removed,
        unchanged=report.articles_unchanged,
        embedded=_embedded(report.passages_embedded, not report.passages_embedded, tx),
        generation=report.generation,
    )
    if report.articles_gone_kept:
        text += "\n" + tx.plural("reindex.kept", report.articles_gone_kept)
    if report.problems:
        total = report.problems.total
        listed = [f"• {fit(str(p), PROBLEM_CHARS)}" for p in report.problems[:PROBLEMS_LISTED]]
        if total > len(listed):
            listed.append("• " + tx("list.and_more", n=total - len(listed)))
        text += "\n" + tx("reindex.skipped", n=total) + "\n" + "\n".join(listed)
    return fit(text, CONTENT_MAX, escape_content)


def failure_text(message: str, tx: Texts = EN) -> str:
    return fit(tx("reindex.failed", message=message), CONTENT_MAX, escape_content)
