"""Terminal output: numbered passages with the best sentence marked, and a citation line each."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from foreign_desk.index.citation import format_date
from foreign_desk.index.models import Answer, ArticleSummary, EngineStats, Filters
from rich.console import Console
from rich.markup import escape
from rich.text import Text

if TYPE_CHECKING:  # annotations only: answering never builds an indexing run's report
    from babel import Locale
    from foreign_desk.index.progress import IndexReport

NOTHING_RELEVANT = "Nothing in the corpus answers that."
NO_FILTERS = Filters()
WEAK_MATCH = "No passage clearly answers this; the closest {}:"
"""Above passages that only partly match: "is" for one, "are" for more."""
LESS_RELATED = "Less closely related:"
"""Above the passages that end a page below the noise level (``Answer.related``)."""
NEWEST_ARTICLES = "The question names no subject: the newest articles, newest first:"
"""Above the newest articles, for a question asking only for news ("what's new?")."""
_STARS = re.compile(r"\*{2,}")
PROBLEMS_SHOWN = 50
"""Problems an index run lists one by one; the rest are counted (a folder of logs is not a corpus)."""


def counted(n: int, one: str, other: str | None = None) -> str:
    """``1 article``, ``2 articles`` (``other``: a plural that is not ``one`` + "s")."""
    return f"{n} {one if n == 1 else other or one + 's'}"


def language_name(code: str, locale: Locale | str = "en") -> str:
    """ "id" → "Indonesian" ("Indonesia" in ``locale`` "id"): the names of Babel's CLDR data, the
    bot's and the CLI's alike; an unknown code as it is. Babel loads here, on a line naming one."""
    from babel import Locale

    return Locale.parse(locale).languages.get(code.split("-")[0].lower(), code)


def mark_highlight(text: str, highlight: str, *, styled: bool) -> Text:
    """The passage with its best sentence in bold (or between ** where bold does not show: not
    a terminal, or one without colours such as TERM=dumb; the article's own ``**`` is then
    written ``\\*\\*``, so the marks show which sentence is meant)."""
    out = Text()
    at = text.find(highlight) if highlight else -1
    if at < 0:
        out.append(text if styled else _unmarked(text))
        return out
    before, after = text[:at], text[at + len(highlight) :]
    if styled:
        out.append(before)
        out.append(highlight, style="bold yellow")
        out.append(after)
    else:
        out.append(f"{_unmarked(before)}**{_unmarked(highlight)}**{_unmarked(after)}")
    return out


def _unmarked(text: str) -> str:
    """``text`` with every run of asterisks that could read as a mark escaped (``\\*\\*``)."""
    return _STARS.sub(lambda m: "\\*" * len(m.group()), text)


def print_answer(console: Console, answer: Answer, filters: Filters = NO_FILTERS) -> None:
    if answer.linked is not None:  # the link asked about that story: say which it is
        console.print(Text(linked_line(answer.linked), style="italic"))
        console.print()
    if answer.nothing_relevant:
        console.print(Text(nothing_text(filters)))
        return
    styled = console.color_system is not None  # None: Rich writes no styles at all
    if answer.understood.get("recent") and answer.results:
        console.print(Text(recent_line(answer), style="italic"))
        console.print()
    if answer.match == "weak" and answer.results:
        verb = "is" if len(answer.results) == 1 else "are"
        caveat = period_caveat(answer) if answer.period_articles else WEAK_MATCH.format(verb)
        console.print(Text(caveat, style="italic"))
        console.print()
    for at, result in enumerate(answer.results):
        if at == answer.related:
            console.print(Text(LESS_RELATED, style="italic"))
            console.print()
        console.print(Text(f"[{result.rank}] ", style="bold cyan"), end="")
        console.print(mark_highlight(result.text, result.highlight, styled=styled))
        console.print(Text(f"    — {result.citation}", style="dim"))
        console.print()
    console.print(Text(f"{counted(len(answer.results), 'passage')} in {answer.took_ms:.0f} ms", style="dim"))


def linked_line(article: ArticleSummary) -> str:
    """``Linked article: “Indonesia and Australia agree …” (The Guardian, 5 Mar 2024)``."""
    meta = ", ".join(p for p in (article.source, format_date(article.day)) if p)
    return f"Linked article: “{article.title}”" + (f" ({meta})" if meta else "")


def recent_line(answer: Answer) -> str:
    """What a question asking for the latest ("latest news about Gaza") was taken to prefer: the
    last days up to the newest article it could find (``search.recent``), not a filter."""
    first, last = (format_date(d) for d in answer.understood["published"])
    return f"Asked for the latest: articles published from {first} to {last} (the newest here) rank higher."


def period_caveat(answer: Answer) -> str:
    """What a page of a period's articles is (``Answer.period_articles``): no answer to a
    question that named only a time, but the news published then; or the newest news."""
    if "published" not in answer.understood:
        return NEWEST_ARTICLES
    first, last = (format_date(d) for d in answer.understood["published"])
    when = f"on {first}" if first == last else f"from {first} to {last}"
    return f"The question names only a time: the articles published {when}, newest first:"


def nothing_text(filters: Filters = NO_FILTERS) -> str:
    """Why no passage is shown: with filters, that nothing *within them* answers ("Nothing from
    Antara published until 30 Jan 2023 answers that."), since the corpus may well hold it."""
    if filters.empty:
        return NOTHING_RELEVANT
    since, until = format_date(filters.since), format_date(filters.until)
    parts = [
        f"in {language_name(filters.language)}" if filters.language else "",
        f"from {filters.source}" if filters.source else "",
        f"published from {since} to {until}" if since and until else "",
        f"published since {since}" if since and not until else "",
        f"published until {until}" if until and not since else "",
    ]
    return f"Nothing {' '.join(p for p in parts if p)} answers that."


def print_latest(
    console: Console, items: Sequence[ArticleSummary], *, source: str | None = None, topic: str | None = None
) -> None:
    if not items:
        console.print(Text(_nothing_listed(source, topic)))
        return
    for n, item in enumerate(items, 1):
        meta = ", ".join(p for p in (item.source, format_date(item.day)) if p)
        console.print(
            f"[bold]{n}. {escape(item.title)}[/bold]" + (f" [dim]({escape(meta)})[/dim]" if meta else "")
        )
        if item.lede:
            console.print(f"   {escape(item.lede)}")
        if item.url or item.path:
            console.print(f"   [dim]{escape(item.url or item.path or '')}[/dim]")


def print_report(console: Console, report: IndexReport) -> None:
    """What an ``index`` run did, and each file it skipped, once, with why; the paths it was
    given and could not read at all are left to the command's error line."""
    console.print(
        f"Indexed {counted(report.articles_seen, 'article')}: {report.articles_added} new, "
        f"{report.articles_updated} updated, {report.articles_removed} removed, "
        f"{report.articles_unchanged} unchanged; {counted(report.passages_added, 'passage')} added "
        f"({report.passages_embedded} embedded), {report.passages_removed} removed; "
        f"generation {report.generation}; {report.seconds:.1f} s."
    )
    if report.articles_gone_kept:
        kept = report.articles_gone_kept
        gone, them = ("file is gone", "it") if kept == 1 else ("files are gone", "them")
        console.print(f"Kept {counted(kept, 'article')} whose {gone}: `index --prune` removes {them}.")
    if quiet := report.warnings_not_repeated:
        said = "warning about an unchanged article" if quiet == 1 else "warnings about unchanged articles"
        console.print(f"Not repeated: {quiet:,} {said} (`foreign-desk -v index` shows them).")
    problems = [p for p in report.problems if p.path not in report.missing_roots]
    total = report.problems.total - (len(report.problems) - len(problems))
    if total:
        console.print(f"Skipped {total:,}:")
        for problem in problems[:PROBLEMS_SHOWN]:
            console.print(f"  {escape(str(problem))}")
        if total > len(problems[:PROBLEMS_SHOWN]):
            console.print(f"  … and {total - len(problems[:PROBLEMS_SHOWN]):,} more")
    if report.unsupported:
        console.print(escape(_unsupported_line(report.unsupported)))


def _unsupported_line(kinds: dict[str, int]) -> str:
    """``Skipped 3 files of unsupported types: .csv 2, .pdf 1 (expected .htm, ...).``"""
    from foreign_desk.index.readers import SUPPORTED_SUFFIXES  # indexing only: answering never loads it

    expected = ", ".join(sorted(SUPPORTED_SUFFIXES))
    count = sum(kinds.values())
    if count == 1:
        return f"Skipped 1 file of an unsupported type: {next(iter(kinds))} (expected {expected})."
    listed = ", ".join(f"{kind} {n:,}" for kind, n in kinds.items())
    return f"Skipped {count:,} files of unsupported types: {listed} (expected {expected})."


def stats_rows(stats: EngineStats, *, host: bool = True) -> list[tuple[str, Any]]:
    """``Engine.stats()`` as (label, value) rows, shared by the terminal and Discord; without
    ``host``, what only the whole data folder has is left out: its generation and size on disk,
    which move with every server's articles, and its path (a server's managers see neither the
    host's paths nor other servers' activity)."""
    named = {"?": "unknown"}  # articles whose language could not be told
    langs = ", ".join(f"{named.get(k) or language_name(k)} {v}" for k, v in stats.languages.items()) or "-"
    sources = ", ".join(f"{s.source} {s.articles}" for s in stats.sources) or "-"
    rows: list[tuple[str, Any]] = [
        ("articles", stats.articles),
        ("passages", stats.passages),
        ("languages", langs),
        ("sources", sources),
        ("index type", stats.index_type),
        ("embedder", stats.embedder or "-"),
    ]
    if host:
        size = f"{stats.size_bytes / 1e6:.1f} MB"
        rows += [("generation", stats.generation), ("size on disk", size), ("data dir", stats.data_dir)]
    return rows


def _nothing_listed(source: str | None, topic: str | None) -> str:
    """Why ``latest`` lists nothing, in the words of the bot's /latest: a filter that matched
    nothing is not an empty corpus."""
    about = f" about “{topic}”" if topic else ""
    origin = f" from {source}" if source else ""
    return f"No recent articles{about}{origin}." if topic else f"No articles{origin or ' yet'}."


def print_stats(console: Console, stats: EngineStats) -> None:
    for name, value in stats_rows(stats):
        console.print(f"{name:>13}: {escape(str(value))}")


def print_eval(console: Console, summary: dict[str, Any], misses: int = 15, k: int = 10) -> None:
    """Recall (at depths up to ``k``, the results asked for) and MRR per kind as a table, a row
    for the questions naming no answer, then the first misses."""
    from rich.table import Table

    depths = [d for d in ("1", "3", "5", "10") if int(d) <= k] or ["1"]
    table = Table("kind", "n", *(f"R@{d}" for d in depths), "MRR", "refused")
    rows = [*summary["by_kind"].items(), ("all", summary)]
    for kind, stats in rows:
        recall = stats["recall"]
        table.add_row(
            escape(kind),
            str(stats["n"]),
            *(f"{recall.get(d, 0):.3f}" for d in depths),
            f"{stats['mrr']:.3f}",
            f"{stats.get('refused', 0):.2f}",
        )
    unanswerable = summary.get("unanswerable", {})
    if unanswerable.get("n"):
        refused = f"{unanswerable.get('refused', 0):.2f}"
        table.add_row("naming no answer", str(unanswerable["n"]), *["–"] * (len(depths) + 1), refused)
    console.print(table)
    shown = summary["misses"][:misses]
    if shown:
        console.print(f"Not at rank 1 ({len(summary['misses'])}; first {len(shown)}):")
        for miss in shown:
            where = "not found" if miss["rank"] is None else f"rank {miss['rank']}"
            console.print(escape(f"  [{where}] {miss['question']}"))
