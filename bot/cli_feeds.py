"""``foreign-desk feeds add|list|remove``, ``fetch`` and ``ingest``: news feeds from the terminal.

Plain click commands; ``cli`` adds them to the ``foreign-desk`` group."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import click
from foreign_desk.bot.cli_common import (
    State,
    err,
    guild_option,
    open_engine,
    out,
    print_json,
    progress_bar,
    run,
)
from foreign_desk.bot.render_text import counted, language_name
from foreign_desk.index.secrets import hide_secrets
from rich.markup import escape


@asynccontextmanager
async def _open_desk(state: State, *, to_read: bool = False) -> AsyncIterator[Any]:
    """The feed desk; ``to_read``: only to list, so a data dir that cannot be written is read."""
    from foreign_desk.index.feeds import FeedDesk

    async with await open_engine(state) as engine, await FeedDesk.open(engine, to_read=to_read) as desk:
        yield desk


def _when(ts: float | None) -> str | None:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if ts else None


def _details(feed: Any) -> str:
    """``Antara, Indonesian, every 30 min``: the language named in words, as in Discord."""
    language = feed.language and language_name(feed.language)
    return ", ".join(p for p in (feed.source, language, f"every {feed.every_minutes} min") if p)


def _feed_json(feed: Any) -> dict[str, Any]:
    from dataclasses import asdict

    return {**asdict(feed), "next_poll": _when(feed.next_poll)}


def _outcome_json(item: Any) -> dict[str, Any]:
    """An item as ``--json`` shows it: its link's credentials hidden (the stored link keeps them)."""
    from dataclasses import asdict

    reason = item.reason and hide_secrets(item.reason)
    return {**asdict(item), "url": hide_secrets(item.url), "reason": reason}


def _fetch_json(report: Any) -> dict[str, Any]:
    return {
        **report.counts,
        "generation": report.generation,
        "seconds": report.seconds,
        "feeds": [
            {
                "feed": r.feed,
                "url": hide_secrets(r.url),
                "ok": r.ok,
                "error": r.error,
                "not_modified": r.not_modified,
                "retry_after": r.retry_after,
                "next_poll": _when(r.next_poll),
                "problems": r.problems,
                "items": [_outcome_json(i) for i in r.items],
            }
            for r in report.runs
        ],
        "failed": [{"feed": f, "url": u, "reason": why} for f, u, why in report.failures],
        "waiting": [
            {"feed": w.feed, "url": hide_secrets(w.url), "until": _when(w.until)} for w in report.waiting
        ],
    }


def _print_fetch(report: Any) -> None:
    counts = report.counts
    parts = [
        f"{counts['new']} new",
        f"{counts['updated']} updated",
        counted(counts["duplicates"], "duplicate"),
        f"{counts['unchanged']} unchanged",
        counted(counts["failures"], "failure"),
    ]
    out.print(
        f"Fetched {counted(len(report.runs), 'feed')}: {', '.join(parts)}; generation {report.generation}, "
        f"{report.seconds:.1f} s."
    )
    marks = {"new": "+", "updated": "~", "duplicate": "="}
    for item in report.items:
        if item.status in marks:
            why = f" [dim]({escape(item.reason)})[/dim]" if item.reason and item.status == "duplicate" else ""
            url = hide_secrets(item.url)  # the stored link, the citation, keeps them
            out.print(f"  {marks[item.status]} {escape(item.title or url)} [dim]{escape(url)}[/dim]{why}")
    linkless = {i.url: f"“{i.title}”" for i in report.items if i.status == "failed" and "://" not in i.url}
    for feed, url, reason in report.failures:
        where = [] if url in reason else [linkless.get(url, url)]  # most reasons name the URL already
        out.print(f"  [red]![/red] {escape(': '.join([feed, *where, reason]))}")
    for run_ in report.runs:
        for problem in run_.problems:
            out.print(f"  [yellow]?[/yellow] {escape(run_.feed)}: {escape(problem)}")
    for w in report.waiting:
        out.print(f"  [yellow]…[/yellow] {escape(w.feed)}: not fetched, asked to wait until {_when(w.until)}")


@click.group()
def feeds() -> None:
    """Manage the RSS/Atom feeds the bot polls for new articles.

    \b
    Example:
      foreign-desk feeds add https://www.antaranews.com/rss/dunia.xml --source Antara --every 15
      foreign-desk feeds list
    """


@feeds.command("add")
@click.argument("url")
@click.option("--name", help="A short name for the feed (default: from the feed's title).")
@click.option("--source", help="The outlet every article of the feed is credited to (default: the page's).")
@click.option("--lang", help="The feed's language (en, id, ...), used when an article's text does not tell.")
@click.option("--every", "every", type=click.IntRange(1, 10080), help="Minutes between polls (default 30).")
@guild_option
@click.pass_obj
def feeds_add(
    state: State,
    url: str,
    name: str | None,
    source: str | None,
    lang: str | None,
    every: int | None,
    guild: int | None,
) -> None:
    """Register the feed at URL (fetched once to check that it is a feed): a shared feed, or
    with --guild one of that Discord server's own.

    \b
    Example:
      foreign-desk feeds add https://www.theguardian.com/world/rss --name guardian-world --lang en
      foreign-desk feeds add https://example.org/rss --guild 123456789012345678
    """
    from foreign_desk.bot.options import language_option

    async def go() -> None:
        language = language_option(lang)  # before the feed is fetched
        async with _open_desk(state) as desk:
            feed = await desk.add_feed(
                url, name=name, source=source, language=language, every=every, guild_id=guild
            )
            await desk.caught_up()
        details = _details(feed)
        out.print(f"Added feed {escape(feed.name)!r} ({escape(hide_secrets(feed.url))}): {escape(details)}.")
        as_guild = f" --guild {guild}" if guild else ""  # as the same server, or it names a shared feed
        out.print(f"The bot polls it; `foreign-desk fetch {escape(feed.name)}{as_guild}` fetches it now.")

    run(go)


@feeds.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of text.")
@guild_option
@click.pass_obj
def feeds_list(state: State, as_json: bool, guild: int | None) -> None:
    """List the registered feeds (the shared ones, or a server's own) with their polling state.

    \b
    Example:
      foreign-desk feeds list --json
    """

    async def go() -> tuple[list[Any], Path | None]:
        async with _open_desk(state, to_read=True) as desk:
            engine = desk.engine
            return await desk.feeds(guild_id=guild), engine.settings.data_path if engine.read_only else None

    items, read_only = run(go)
    if as_json:
        print_json({"feeds": [_feed_json(f) for f in items]})
        return
    if not items:
        out.print(_no_feeds(guild, read_only))
    for feed in items:
        details = _details(feed)
        out.print(f"[bold]{escape(feed.name)}[/bold] {escape(feed.url)} [dim]({escape(details)})[/dim]")
        status = f"last success {feed.last_success or 'never'}; next poll {_when(feed.next_poll) or 'now'}"
        if feed.failures:
            status += f"; {counted(feed.failures, 'failure')} in a row, last: {feed.last_error}"
        if feed.catch_up_failed:
            status += "; some articles it brought before it was added here could not be fetched (given up)"
        out.print(f"   {escape(status)}")


@feeds.command("remove")
@click.argument("name")
@guild_option
@click.pass_obj
def feeds_remove(state: State, name: str, guild: int | None) -> None:
    """Stop polling the feed NAME (its articles stay in the index).

    \b
    Example:
      foreign-desk feeds remove guardian-world
    """

    async def go() -> None:
        async with _open_desk(state) as desk:
            feed = await desk.remove_feed(name, guild_id=guild)
        out.print(f"Removed feed {escape(feed.name)!r}; its articles stay in the index.")

    run(go)


@click.command()
@click.argument("name", required=False)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of text.")
@click.option(
    "--ignore-wait",
    is_flag=True,
    help="Also poll feeds whose site asked to wait (Retry-After) or that back off after failures.",
)
@guild_option
@click.pass_obj
def fetch(state: State, name: str | None, as_json: bool, ignore_wait: bool, guild: int | None) -> None:
    """Poll every shared feed (or a server's own, or the feed NAME) now and index what is new.

    Prints what was new, updated, a duplicate of an article already stored, and what failed
    and why. Exits 1 when a feed itself could not be polled (a failed page does not count).
    A feed whose site asked the host to wait (a 429/503's Retry-After), or backing off after
    failures, is not requested before its next poll, and said to wait, unless --ignore-wait.

    \b
    Example:
      foreign-desk fetch
      foreign-desk fetch antara-dunia --json
    """

    from foreign_desk.index.feeds.models import FetchReport

    async def go() -> Any:
        async with _open_desk(state) as desk:
            if not name and not await desk.feeds(guild_id=guild):
                report = FetchReport() if as_json else None  # --json: JSON even when there is nothing
            else:
                with progress_bar("indexing") as bar:
                    say = lambda note: err.print(escape(str(note)))  # noqa: E731
                    report = await desk.fetch(
                        name, say=say, index_progress=bar, guild_id=guild, ignore_wait=ignore_wait
                    )
            _show_fetch(report, as_json, guild)  # before the desk closes, waiting for the prune it started
            return report

    report = run(go)
    if report is not None and any(not r.ok for r in report.runs):
        raise SystemExit(1)


def _no_feeds(guild: int | None, read_only: Path | None = None) -> str:
    """What to say when there is no feed: how to add one, as the same server; that none can be,
    in a data folder that cannot be written (``read_only``: its path)."""
    if read_only is not None:
        where = escape(str(read_only))
        return f"No feeds registered, and none can be added: the data folder {where} cannot be written."
    as_guild = f" --guild {guild}" if guild else ""
    return f"No feeds registered: add one with `foreign-desk feeds add URL{as_guild}`."


def _show_fetch(report: Any, as_json: bool, guild: int | None = None) -> None:
    if report is None:
        out.print(_no_feeds(guild))
    elif as_json:
        print_json(_fetch_json(report))
    else:
        _print_fetch(report)


@click.command()
@click.argument("url")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of text.")
@guild_option
@click.pass_obj
def ingest(state: State, url: str, as_json: bool, guild: int | None) -> None:
    """Fetch the article at URL and index it (again, if it changed since): into the shared
    corpus, or with --guild as that server's own (within its quotas).

    \b
    Example:
      foreign-desk ingest "https://www.antaranews.com/berita/4012345/menlu-ri-dan-filipina"
    """

    _refuse_a_file_on_disk(url)

    async def go() -> None:
        async with _open_desk(state) as desk:
            with progress_bar("indexing") as bar:
                outcome = await desk.ingest(url, index_progress=bar, guild_id=guild)
            _show_outcome(outcome, as_json)  # before the desk closes, waiting for the prune it started

    run(go)


def _refuse_a_file_on_disk(url: str) -> None:
    """A file named where a web address belongs (a path, ``file://``): one line naming the
    command that indexes it, instead of "only http and https URLs can be fetched"."""
    import os
    import shlex
    from urllib.parse import unquote, urlsplit

    parts = urlsplit(url)
    path = unquote(parts.path) if parts.scheme == "file" else url
    if parts.scheme in ("http", "https") or not (parts.scheme == "file" or os.path.exists(path)):
        return
    err.print(
        f"[red]error:[/red] ingest fetches web pages (http, https); to index a file on disk: "
        f"foreign-desk index {escape(shlex.quote(path))}"
    )
    raise SystemExit(1)


def _show_outcome(outcome: Any, as_json: bool) -> None:
    if as_json:
        print_json(_outcome_json(outcome))
        return
    verb = {"new": "Added", "updated": "Updated", "unchanged": "Unchanged:", "duplicate": "Already indexed:"}
    why = f" ({outcome.reason})" if outcome.reason else ""
    what = hide_secrets(f"“{escape(outcome.title)}” {escape(outcome.url)}{escape(why)}")
    out.print(f"{verb.get(outcome.status, outcome.status)} {what}")
