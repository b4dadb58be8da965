"""``foreign-desk``: ask the corpus from a terminal, index it, inspect it, run the Discord bot.

The group and the index/ask/inspect commands live here; the feed commands (``cli_feeds``) are
added to the group below, and what every command shares is in ``cli_common``.
Errors a user can fix print one line and exit 1 (usage errors exit 2); tracebacks are for bugs.
Progress and diagnostics go to stderr, so ``--json`` output on stdout stays one clean object.
"""

from __future__ import annotations

import logging
import os
import sys
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from foreign_desk.bot.cli_common import (
    PathProblem,
    Refused,
    State,
    count_bar,
    err,
    folder_path,
    guild_option,
    open_engine,
    out,
    print_json,
    progress_bar,
    refuse_bad_front_end_settings,
    refuse_unknown_sections,
    regular_path,
    run,
    tolerant_stdout,
)
from foreign_desk.bot.cli_feedback import feedback
from foreign_desk.bot.cli_feeds import feeds, fetch, ingest
from foreign_desk.bot.cli_maintenance import backup, doctor, restore
from foreign_desk.bot.options import NotUTF8, require_utf8
from foreign_desk.index.config import load_settings
from foreign_desk.index.errors import ForeignDeskError, UnreadableFile
from foreign_desk.index.models import Scope
from foreign_desk.index.secrets import HidingFormatter
from rich.markup import escape

if TYPE_CHECKING:  # annotations only: answering never builds an indexing run's progress
    from foreign_desk.index.progress import IndexProgress, IndexReport, ProgressFn


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--data-dir",
    type=click.Path(),
    callback=folder_path,
    envvar="FOREIGN_DESK_DATA_DIR",
    help="Where the index lives (default: a per-user data directory).",
)
@click.option(
    "--config",
    "config_file",
    type=click.Path(),
    callback=regular_path,
    envvar="FOREIGN_DESK_CONFIG",
    help="A TOML settings file; every setting has a built-in default.",
)
@click.option("-v", "--verbose", count=True, help="More log output on stderr (-vv for debug).")
@click.version_option(package_name="foreign-desk")
@click.pass_context
def cli(ctx: click.Context, data_dir: str | None, config_file: str | None, verbose: int) -> None:
    """Foreign Desk: answers foreign-affairs questions with cited passages from news articles.

    \b
    Example:
      foreign-desk ask "what did NATO and Japan agree on?"
    """
    level = logging.WARNING - 10 * min(verbose, 2)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(HidingFormatter("%(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=level, handlers=[handler])
    if verbose < 2:  # FAISS's loader tells at INFO of a build it lacks ("Could not load ... AVX2"): harmless
        logging.getLogger("faiss.loader").setLevel(logging.WARNING)
    try:
        settings = load_settings(config_file, data_dir=data_dir)
        refuse_unknown_sections(settings)
        refuse_bad_front_end_settings(settings)
    except UnreadableFile as exc:  # a path, not a setting: missing, a folder, no permission
        raise PathProblem(str(exc)) from None
    except ForeignDeskError as exc:
        raise click.UsageError(str(exc)) from None
    ctx.obj = State(settings)


@cli.command()
@click.argument("paths", nargs=-1, type=click.Path())
@click.option("--full", is_flag=True, help="Rebuild everything instead of only what changed.")
@click.option("--prune", is_flag=True, help="Remove articles whose files under PATHS are gone.")
@click.pass_obj
def index(state: State, paths: tuple[str, ...], full: bool, prune: bool) -> None:
    """Index article files or folders (default: the shipped corpus/).

    Reads .txt, .md (YAML front matter), .jsonl and .html files. Only new or changed
    articles are embedded. Articles whose files are gone stay until --prune removes them;
    a path that does not exist is an error and removes nothing (an unmounted drive).

    \b
    Example:
      foreign-desk index corpus/ ~/news/2025.jsonl
      foreign-desk index ~/news --prune
    """
    from foreign_desk.bot.render_text import print_report
    from foreign_desk.index.readers import shown, unusable

    given = {shown(Path(p).expanduser().absolute()): unusable(Path(p).expanduser()) for p in paths}
    if given and all(given.values()):  # nothing to read: one line, before the index is opened
        _refuse_unusable({path: why for path, why in given.items() if why is not None})

    async def go() -> IndexReport:
        async with await open_engine(state) as engine:
            with progress_bar("indexing") as bar:
                report = await engine.index(list(paths) or None, full=full, prune=prune, progress=bar)
            print_report(out, report)
        return report

    report = run(go)
    if report.missing_roots:
        _refuse_unusable(report.missing_roots)
    if not report.article_files and not report.articles_removed:  # --prune of emptied files: no mistake
        where = escape(", ".join(given) or "the shipped corpus")
        err.print(f"[red]error:[/red] no article files in {where}; nothing was indexed")
        raise SystemExit(1)


def _refuse_unusable(unusable: dict[str, str]) -> None:
    """The paths ``index`` was given and cannot read, with why, as one line; exit status 1."""
    paths_by_why: dict[str, list[str]] = {}
    for path, why in unusable.items():
        paths_by_why.setdefault(why, []).append(path)
    where = escape("; ".join(f"{why}: {', '.join(paths)}" for why, paths in paths_by_why.items()))
    err.print(f"[red]error:[/red] {where}; nothing under it was read or removed")
    raise SystemExit(1)


@cli.command()
@click.argument("words", metavar="QUESTION", nargs=-1, required=True)
@click.option("--k", "k", type=click.IntRange(1, 50), default=None, help="How many passages (default 5).")
@click.option("--lang", help="Only articles in this language (en, id, ...).")
@click.option("--source", help="Only articles from this outlet.")
@click.option("--since", help="Only articles published on or after this day (YYYY-MM-DD, or 7d, 2w, 3m, 1y).")
@click.option("--until", help="Only articles published up to this day (YYYY-MM-DD, or 7d, 2w, 3m, 1y).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of text.")
@guild_option
@click.option(
    "--now",
    type=click.DateTime(["%Y-%m-%d"]),
    hidden=True,
    help="The day the question is asked (for 'last week', 'kemarin'); evaluations replay old questions.",
)
@click.pass_obj
def ask(
    state: State,
    words: tuple[str, ...],
    k: int | None,
    lang: str | None,
    source: str | None,
    since: str | None,
    until: str | None,
    as_json: bool,
    guild: int | None,
    now: datetime | None,
) -> None:
    """Answer QUESTION with cited passages from the shared corpus (with --guild, also from that
    Discord server's own articles).

    Indexes the shipped corpus first if nothing is indexed yet. The question may be quoted or
    typed as words (foreign-desk ask who visited Japan).

    \b
    Example:
      foreign-desk ask "what did NATO and Japan agree on?" --k 3
      foreign-desk ask "siapa yang mengunjungi Jepang?" --lang id --json
    """
    from foreign_desk.bot.options import make_filters
    from foreign_desk.bot.render_json import answer_json
    from foreign_desk.bot.render_text import print_answer

    question = " ".join(words)  # unquoted, the shell hands it over word by word
    longest = state.settings.search.max_question_chars  # the engine's limit, checked before it opens
    if not question.strip():
        raise Refused("the question is empty")
    if not any(ch.isalnum() for ch in question):  # as /ask: "?" or "🇰🇵😮" ask nothing
        raise Refused("the question has no words: punctuation and emoji alone ask nothing")
    if len(question) > longest:
        raise Refused(f"the question is {len(question):,} characters long; at most {longest:,}")

    async def go() -> None:
        day = now.date() if now else date.today()  # the asker's own day ("yesterday", 7d): local, not UTC
        filters = make_filters(lang, source, since, until, today=day)
        async with await open_engine(state) as engine:
            if await engine.is_empty():
                with progress_bar("indexing") as bar:
                    await engine.ensure_indexed(progress=_first_run_notice(bar))
            answer = await engine.ask(question, k=k, filters=filters, scope=Scope(guild), now=day)
        if as_json:
            print_json(answer_json(answer))
        else:
            print_answer(out, answer, filters)

    run(go)


def _first_run_notice(progress: ProgressFn) -> ProgressFn:
    """``progress``, after one notice when the shipped corpus really is being indexed: not while
    waiting for another process's writer lock (that process may index meanwhile, and then
    ``ensure_indexed`` adds nothing)."""
    told = False

    def step(p: IndexProgress) -> None:
        nonlocal told
        if not told and p.phase != "waiting":
            err.print("Nothing indexed yet: indexing the shipped corpus first.")
            told = True
        progress(p)

    return step


@cli.command()
@click.option("--limit", type=click.IntRange(1, 500), default=10, show_default=True, help="Articles to list.")
@click.option("--source", help="Only articles from this outlet.")
@click.option(
    "--topic",
    help="Only recent articles about this topic: naming it in the headline or first sentence, "
    "or matching it by meaning (any language).",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of text.")
@guild_option
@click.pass_obj
def latest(
    state: State, limit: int, source: str | None, topic: str | None, as_json: bool, guild: int | None
) -> None:
    """List the newest articles first (of the shared corpus; with --guild, also that server's own).

    \b
    Example:
      foreign-desk latest --limit 5 --source "IDN Times"
      foreign-desk latest --topic "Laut China Selatan"
    """
    from foreign_desk.bot.render_json import summary_json
    from foreign_desk.bot.render_text import print_latest

    async def go() -> None:
        async with await open_engine(state) as engine:
            items = await engine.latest(limit, source=source, topic=topic, scope=Scope(guild))
        if as_json:
            print_json({"articles": [summary_json(i) for i in items]})
        else:
            print_latest(out, items, source=source, topic=topic)

    run(go)


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of text.")
@click.pass_obj
def stats(state: State, as_json: bool) -> None:
    """Show what is indexed: articles, passages, languages, sources, index type, embedder, size.

    \b
    Example:
      foreign-desk stats --json
    """
    from foreign_desk.bot.render_json import stats_json
    from foreign_desk.bot.render_text import print_stats

    async def go() -> None:
        async with await open_engine(state) as engine:
            data = await engine.stats()
        if as_json:
            print_json(stats_json(data))
        else:
            print_stats(out, data)

    run(go)


@cli.command("eval")
@click.argument("questions", type=click.Path(), callback=regular_path)
@click.option(
    "--k", "k", type=click.IntRange(1, 100), default=10, show_default=True, help="Results per question"
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of a table.")
@click.pass_obj
def evaluate_cmd(state: State, questions: str, k: int, as_json: bool) -> None:
    """Measure retrieval quality: recall@1/3/5/10 and MRR over a question file.

    Each JSON line holds "question" and optionally "answers" (substrings of the right
    passage), "gold_titles" and "kind". Questions go through the same search as `ask`,
    against the current data dir. "refused" counts "nothing relevant" answers; a question
    with no "answers" nor "gold_titles" (off-topic) is asked, not scored: its own row.

    \b
    Example:
      foreign-desk eval bench/quality/foreign_affairs.jsonl --k 10 --json
    """
    from foreign_desk.bot.render_text import print_eval
    from foreign_desk.index.evaluate import evaluate, load_questions

    async def go() -> dict[str, Any]:
        items = load_questions(questions, state.settings.search.max_question_chars)
        refused: dict[str | None, int] = {}  # by kind; None: questions naming no answer

        async with await open_engine(state) as engine:
            asked = iter(items)

            async def ask_one(question: str) -> Any:
                answer = await engine.ask(question, k=k)
                item = next(asked)
                if answer.nothing_relevant:
                    key = item.kind if item.answerable else None
                    refused[key] = refused.get(key, 0) + 1
                return answer.results

            with count_bar("asking", "questions") as bar:
                summary = await evaluate(items, ask_one, k, progress=bar)
        return _with_refusals(summary, refused)

    summary = run(go)
    if as_json:
        print_json(summary)
    else:
        print_eval(out, summary, k=k)


def _with_refusals(summary: dict[str, Any], refused: dict[str | None, int]) -> dict[str, Any]:
    """``refused``: the share answered "nothing relevant", of the answerable questions (a miss)
    and of each kind, and of those naming no answer (``unanswerable``: there, the right answer)."""
    summary["refused"] = sum(n for kind, n in refused.items() if kind is not None) / max(summary["n"], 1)
    for kind, stats in summary["by_kind"].items():
        stats["refused"] = refused.get(kind, 0) / max(stats["n"], 1)
    unanswerable = summary["unanswerable"]
    unanswerable["refused"] = refused.get(None, 0) / max(unanswerable["n"], 1)
    return summary


def _shard_ids(ctx: click.Context, param: click.Parameter, value: str | None) -> list[int] | None:
    if value is None:
        return None
    try:
        return [int(part) for part in value.split(",") if part.strip()]
    except ValueError:
        raise click.BadParameter("a comma-separated list of shard numbers, e.g. 0,1") from None


@cli.command("run")
@click.option(
    "--shard-count",
    type=click.IntRange(min=1),
    default=None,
    help="Shards of the whole bot (default: Discord's advice).",
)
@click.option(
    "--shard-ids",
    callback=_shard_ids,
    default=None,
    help="Shards this process runs, e.g. 0,1 (default: all).",
)
@click.pass_obj
def run_bot(state: State, shard_count: int | None, shard_ids: list[int] | None) -> None:
    """Run the Discord bot (token from the DISCORD_TOKEN environment variable).

    Loads the model and the index, connects to Discord and answers /ask, /latest,
    /sources, the /admin commands, mentions and DMs until stopped (Ctrl-C or SIGTERM).
    Several processes may share one data folder, each running some of the shards: all of
    them answer, one at a time polls the feeds and posts alerts.

    \b
    Examples:
      DISCORD_TOKEN=... foreign-desk run
      DISCORD_TOKEN=... foreign-desk run --shard-count 4 --shard-ids 0,1   # and 2,3 in another
    """
    from foreign_desk.bot.discord.runner import run_bot as start

    run(lambda: start(state.settings, shard_count=shard_count, shard_ids=shard_ids))


@cli.command()
@click.option(
    "--guild",
    type=click.IntRange(min=1),
    default=None,
    help="Register on this guild only (instant; development).",
)
@click.pass_obj
def sync(state: State, guild: int | None) -> None:
    """Register the slash commands with Discord (globally, or on one guild).

    Run it once after installing or upgrading; the bot does not re-sync on every start.

    \b
    Example:
      DISCORD_TOKEN=... foreign-desk sync --guild 123456789012345678
    """
    from foreign_desk.bot.discord.runner import sync_commands

    count = run(lambda: sync_commands(state.settings, guild))
    where = f"on guild {guild}." if guild else "globally (may take up to an hour)."
    out.print(f"Registered {count} commands {where}")


for command in (feeds, fetch, ingest, feedback, doctor, backup, restore):
    cli.add_command(command)


def main() -> None:
    """The command line, once imported (``entry.main`` is the console-script entry point)."""
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    tolerant_stdout()
    try:
        require_utf8(sys.argv[1:])
    except NotUTF8 as exc:
        err.print(f"[red]error:[/red] {escape(str(exc))}")
        raise SystemExit(2) from None
    cli(prog_name="foreign-desk")
