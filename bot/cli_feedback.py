"""``foreign-desk feedback export``: the votes on the Discord bot's answers, as a table or as an
evaluation file that ``foreign-desk eval`` reads (``bot.feedback``).

Every ``foreign-desk`` command imports this module to assemble the group, so what only the export
uses (the bot's answer store, rich's tables, tempfile) is imported inside it: ``ask`` pays none of
it (~10 ms of each cold start)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import click
from foreign_desk.bot.cli_common import (
    PathProblem,
    State,
    err,
    json_text,
    out,
    regular_path,
    run,
    unicode_stdout,
)
from foreign_desk.index.config import Settings
from rich.markup import escape

if TYPE_CHECKING:
    from foreign_desk.bot.discord.answers import Vote


async def read_votes(settings: Settings) -> list[Vote]:
    """Every vote in the data dir's ``discord.sqlite3`` (none when the bot never ran there)."""
    from foreign_desk.bot.discord.answers import FILE_NAME, AnswerStore

    if not (settings.data_path / FILE_NAME).is_file():
        return []
    store = await AnswerStore.open(settings.data_path, ttl_s=0)
    try:
        return await store.votes()
    finally:
        await store.close()


def write_text(text: str, output: str | None) -> None:
    """``text`` to standard output, or to ``output`` in one step (a temp file renamed over it)."""
    if output is None:
        click.echo(text, nl=False)
        return
    try:
        _replace(Path(output), text)
    except OSError as exc:  # a missing folder, no permission, a full disk: one line, no traceback
        raise PathProblem(f"cannot write {output}: {exc.strerror or exc}") from None


def _replace(target: Path, text: str) -> None:
    """Write ``text`` to a temp file beside ``target``, fsync it, then rename it over ``target``
    (a crash leaves the old file or the new one, never an empty one). The file gets the mode
    the umask gives a new file, not mkstemp's 0600."""
    import tempfile

    handle, temp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
    try:
        umask = os.umask(0)  # read it: the CLI runs no other thread that creates files now
        os.umask(umask)
        os.fchmod(handle, 0o666 & ~umask)
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            file.write(text)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temp, target)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


@click.group()
def feedback() -> None:
    """The 👍 / 👎 votes people gave the Discord bot's answers (kept in the data dir's
    discord.sqlite3, without user ids).

    \b
    Example:
      foreign-desk feedback export --json -o feedback.jsonl && foreign-desk eval feedback.jsonl
    """


@feedback.command("export")
@click.option(
    "--json", "as_json", is_flag=True, help="The evaluation file (JSON Lines `foreign-desk eval` reads)."
)
@click.option(
    "-o",
    "--output",
    type=click.Path(),
    callback=regular_path,
    help="With --json: write it to this file.",
)
@click.pass_obj
def export(state: State, as_json: bool, output: str | None) -> None:
    """The questions voted on with their 👍 and 👎, or (--json) an evaluation file: one question
    per line for each question whose shown passages got more 👍 than 👎, those passages being its
    answers. Votes hold no user ids.

    \b
    Example:
      foreign-desk feedback export --json -o feedback.jsonl
      foreign-desk eval feedback.jsonl
    """
    from foreign_desk.bot.feedback import evaluation_lines, tally
    from foreign_desk.bot.render_text import counted
    from rich.table import Table

    if output is not None and not as_json:
        raise click.UsageError("--output writes the evaluation file: add --json")
    votes = run(lambda: read_votes(state.settings))
    if as_json:
        lines = evaluation_lines(votes)
        ascii_only = output is None and not unicode_stdout()
        write_text("".join(json_text(line, ascii_only=ascii_only) + "\n" for line in lines), output)
        up = sum(1 for v in votes if v.vote > 0)
        questions, cast = counted(len(lines), "question"), counted(len(votes), "vote")
        err.print(f"{questions} from {cast} ({up} 👍, {len(votes) - up} 👎)")
        return
    if not votes:
        out.print("No votes yet: 👍 / 👎 under the bot's answers in Discord are stored here.")
        return
    table = Table("question", "👍", "👎", "passages liked")
    for entry in tally(votes):
        table.add_row(escape(entry.question), str(entry.up), str(entry.down), str(len(entry.liked)))
    out.print(table)
