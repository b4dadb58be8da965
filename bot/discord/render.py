"""Engine values → Discord embeds and texts. Pure functions: no I/O, no discord.py state.

Every result respects ``limits``: article and user text is escaped and cut on a sentence
boundary with "…", and budgets are shared out so that a message never breaks a limit, whatever
the corpus holds.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import discord
from foreign_desk.bot.render_text import NOTHING_RELEVANT, stats_rows
from foreign_desk.index.citation import format_date, format_paragraphs
from foreign_desk.index.models import (
    Answer,
    ArticleSummary,
    Filters,
    IndexProgress,
    IndexReport,
    Result,
    SourceCount,
)

from .limits import (
    BUTTON_LABEL_MAX,
    CONTENT_MAX,
    ELLIPSIS,
    EMBED_DESCRIPTION_MAX,
    EMBED_TITLE_MAX,
    EMBED_TOTAL_MAX,
    FIELD_VALUE_MAX,
    escape,
    fit,
    fit_markdown,
    fit_start,
    join_within,
    link_text,
    safe_url,
)

COLOUR = discord.Colour.from_rgb(32, 86, 140)
APOLOGY = "Sorry, something went wrong while answering that. The error has been logged."
NO_MORE = "No more passages answer that."
SEP = " · "
NO_FILTERS = Filters()
_PARAGRAPHS = re.compile(r"\n\s*\n+")


# -- answers -------------------------------------------------------------------------------------
def passage_markdown(text: str, highlight: str, limit: int) -> str:
    """The passage with its best sentence in bold, escaped, cut to ``limit`` around the highlight."""
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
    full = escape(before + lead) + bold + escape(trail + after)
    if len(full) <= limit:
        return full
    # The highlight first, then what follows it, then what comes before it.
    following = escape(trail + after)
    if len(bold) + len(following) + 2 <= limit:
        preceding = fit_start(before + lead, limit - len(bold) - len(following), escape)
        return (preceding or ELLIPSIS + " ") + bold + following
    rest = (trail + after).strip()
    for head in (escape(before + lead) + bold, ELLIPSIS + " " + bold):
        if len(head) + 2 <= limit:
            tail = fit_markdown(rest, limit - len(head) - 1) if rest else ""
            return f"{head} {tail}" if tail else head
    return ELLIPSIS + " **" + fit_markdown(core, limit - 6) + "**"


def citation_line(result: Result, limit: int) -> str:
    """``— [Headline](url) · Outlet · 31 Jan 2023 · ¶4-6`` (the headline unlinked without a URL)."""
    art = result.article
    meta = [p for p in (art.source, format_date(art.published), format_paragraphs(result.paragraphs)) if p]
    if result.also_in:
        meta.append("also in " + ", ".join(result.also_in))
    tail = SEP + fit(SEP.join(meta), max(1, limit // 2 - len(SEP)), escape) if meta else ""
    url = safe_url(art.url)
    room = limit - len(tail) - 2
    if url and room - len(url) - 4 >= 20:
        title = fit(art.title, room - len(url) - 4, link_text)
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


def filters_text(filters: Filters) -> str:
    parts = []
    if filters.language:
        parts.append(f"language {filters.language}")
    if filters.source:
        parts.append(f"source {filters.source}")
    if filters.since:
        parts.append(f"since {filters.since}")
    if filters.until:
        parts.append(f"until {filters.until}")
    return ", ".join(parts)


def answer_embed(answer: Answer, filters: Filters = NO_FILTERS) -> discord.Embed:
    """Numbered passages with the best sentence in bold and a citation line each, in one embed."""
    title = fit(answer.question, EMBED_TITLE_MAX, escape)
    results = answer.results
    if results:
        first, last = results[0].rank, results[-1].rank
        shown = f"Passage {first}" if first == last else f"Passages {first}–{last}"
    else:
        shown = NO_MORE
    footer_parts = [shown, f"{answer.took_ms:.0f} ms"]
    if not filters.empty:
        footer_parts.append(filters_text(filters))
    if answer.has_more:
        footer_parts.append("More ▸ for the next")
    footer = fit(SEP.join(footer_parts), 300, discord.utils.escape_mentions)  # footers render no Markdown
    budget = min(EMBED_DESCRIPTION_MAX, EMBED_TOTAL_MAX - len(title) - len(footer))
    description = _answer_description(results, budget) if results else NO_MORE
    embed = discord.Embed(title=title, description=description, colour=COLOUR)
    embed.set_footer(text=footer)
    return embed


def _answer_description(results: Sequence[Result], budget: int) -> str:
    n = len(results)
    headers = [f"**[{r.rank}]** " for r in results]
    cite_limit = min(700, budget // (2 * n))
    cites = [citation_line(r, cite_limit) for r in results]
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


def nothing_relevant_text(filters: Filters = NO_FILTERS) -> str:
    """The honest reply when no passage answers the question."""
    if filters.empty:
        return NOTHING_RELEVANT
    return fit(
        f"{NOTHING_RELEVANT} (searched with {filters_text(filters)}; try fewer filters.)", CONTENT_MAX, escape
    )


@dataclass(frozen=True)
class SourceLink:
    label: str
    url: str


def source_links(results: Sequence[Result], limit: int = 20) -> list[SourceLink]:
    """Link buttons for the results' articles that have a web address (one per article)."""
    links: list[SourceLink] = []
    seen: set[str] = set()
    for r in results:
        url = safe_url(r.article.url)
        if url is None or url in seen:
            continue
        seen.add(url)
        label = fit(f"[{r.rank}] {r.article.title}", BUTTON_LABEL_MAX)
        links.append(SourceLink(label, url))
        if len(links) == limit:
            break
    return links


def plural(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


# -- listings ------------------------------------------------------------------------------------
def _headline(title: str, url: str | None, limit: int) -> str:
    link = safe_url(url)
    if link and limit - len(link) - 4 >= 20:
        return f"[{fit(title, limit - len(link) - 4, link_text)}]({link})"
    return fit_markdown(title, limit)


def article_block(
    item: ArticleSummary, limit: int, number: int | None = None, also_in: Sequence[str] = ()
) -> str:
    """One article of a listing in at most ``limit`` characters: the headline (linked), outlet and
    date (and the other outlets that ran it), then as much of the lede sentence as fits."""
    head = _headline(item.title, item.url, min(limit // 2, 700))
    if number is not None:
        head = f"**{number}.** {head}"
    meta = SEP.join(p for p in (item.source, format_date(item.published)) if p)
    if also_in:
        meta = SEP.join(p for p in (meta, "also in " + ", ".join(also_in)) if p)
    lines = [head]
    if meta:
        lines.append(fit_markdown(meta, 200))
    used = sum(len(x) + 1 for x in lines)
    if item.lede and limit - used > 10:
        lines.append(fit_markdown(item.lede, min(400, limit - used)))
    block = "\n".join(lines)
    return fit(block, limit) if len(block) > limit else block


def latest_embed(
    items: Sequence[ArticleSummary], source: str | None = None, topic: str | None = None
) -> discord.Embed:
    """Newest articles: headline (linked), outlet, date and the lede sentence each."""
    title = f"Latest on “{topic}”" if topic else "Latest articles"
    title += f" from {source}" if source else ""
    embed = discord.Embed(title=fit(title, EMBED_TITLE_MAX, escape), colour=COLOUR)
    if not items:
        if topic:
            empty = f"No recent articles about “{topic}”" + (f" from {source}." if source else ".")
        else:
            empty = f"No articles from {source}." if source else "No articles yet."
        embed.description = fit(empty, 300, escape)
        return embed
    n = len(items)
    per = (EMBED_DESCRIPTION_MAX - 2 * (n - 1)) // n
    embed.description = "\n\n".join(article_block(item, per, number) for number, item in enumerate(items, 1))
    if topic:
        embed.set_footer(text="Matched by meaning, in any language, among the newest articles")
    return embed


def sources_embed(sources: Sequence[SourceCount]) -> discord.Embed:
    """Outlets in the corpus with article counts and the latest date."""
    embed = discord.Embed(title="Sources in the corpus", colour=COLOUR)
    if not sources:
        embed.description = "No articles yet."
        return embed
    lines = [
        f"**{fit_markdown(s.source, 200)}** — {plural(s.articles, 'article')}, "
        f"latest {format_date(s.latest) or 'undated'}"
        for s in sources
    ]
    embed.description = join_within(lines, "\n", lambda n: f"… and {n} more outlets")
    total = sum(s.articles for s in sources)
    embed.set_footer(text=f"{plural(len(sources), 'outlet')}{SEP}{plural(total, 'article')}")
    return embed


def stats_embed(stats: dict[str, Any]) -> discord.Embed:
    """What ``foreign-desk stats`` prints, as embed fields."""
    rows = stats_rows(stats)
    embed = discord.Embed(title="Index statistics", colour=COLOUR)
    for name, value in rows:
        inline = name not in ("sources", "data dir", "embedder")
        embed.add_field(name=name, value=fit(str(value), FIELD_VALUE_MAX, escape) or "-", inline=inline)
    return embed


# -- reindexing ----------------------------------------------------------------------------------
def progress_text(p: IndexProgress, full: bool) -> str:
    """One status line: phase, done/total, passages embedded, elapsed."""
    kind = "Full reindex" if full else "Reindex"
    count = f" {p.done}/{p.total} {p.unit}" if p.total else ""
    passages = f"{p.passages} passages embedded"
    return f"⏳ {kind} running: {p.phase}{count}{SEP}{passages}{SEP}{p.elapsed_s:.0f} s elapsed"


def starting_text(full: bool) -> str:
    return f"⏳ {'Full reindex' if full else 'Reindex'} starting…"


def report_text(report: IndexReport) -> str:
    """The final status: what changed, how long it took, what was skipped."""
    text = (
        f"✅ Reindex finished in {report.seconds:.1f} s: {report.articles_seen} articles "
        f"({report.articles_added} new, {report.articles_updated} updated, "
        f"{report.articles_removed} removed, {report.articles_unchanged} unchanged); "
        f"{report.passages_embedded} passages embedded; "
        f"generation {report.generation}."
    )
    if report.problems:
        skipped = "\n".join(f"• {p}" for p in report.problems)
        text += f"\nSkipped {len(report.problems)}:\n{skipped}"
    return fit(text, CONTENT_MAX, escape)


def failure_text(message: str) -> str:
    return fit(f"❌ Reindex failed: {message}", CONTENT_MAX, escape)
