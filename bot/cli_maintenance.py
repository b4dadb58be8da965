"""``foreign-desk doctor``, ``backup`` and ``restore``: when something went wrong with a data dir."""

from __future__ import annotations

from pathlib import Path

import click
from foreign_desk.bot.cli_common import State, err, folder_path, out, regular_path, run
from rich.markup import escape


@click.command()
@click.option(
    "--repair",
    is_flag=True,
    help="Rebuild the vector file and the keyword indexes from the database when they are wrong.",
)
@click.pass_obj
def doctor(state: State, repair: bool) -> None:
    """Check the data dir: databases, vector file, ids, vectors, keyword indexes, sentence vectors.

    Prints one line per check and exits 1 when something is wrong (after --repair: when
    something is still wrong). A damaged database cannot be rebuilt: restore a backup.

    \b
    Example:
      foreign-desk doctor
      foreign-desk doctor --repair
    """
    from foreign_desk.bot.discord.answers import FILE_NAME, MIGRATIONS
    from foreign_desk.index.engine import Engine

    versioned = {FILE_NAME: tuple(enumerate(MIGRATIONS, start=1))}  # the bot's own database
    found = run(lambda: Engine.doctor(state.settings, repair=repair, versioned=versioned))
    for finding in found:
        mark = "[green]ok[/green]     " if finding.ok else "[red]problem[/red]"
        out.print(f"{mark} {escape(finding.check)}: {escape(finding.detail)}")
    repaired = [i for i, f in enumerate(found) if f.check == "repair" and f.ok]
    failed = any(f.check == "repair" and not f.ok for f in found)
    if failed or not all(f.ok for f in found[repaired[-1] + 1 if repaired else 0 :]):  # what repairs left
        tried = repair or any(f.check == "repair" for f in found)  # or says why it cannot
        no_database = any(f.check == Engine.DB_NAME and not f.ok for f in found)  # its line says what to run
        hint = "" if tried or no_database else "; `foreign-desk doctor --repair` rebuilds what can be rebuilt"
        err.print(
            f"[red]error:[/red] the data dir {escape(str(state.settings.data_path))} has problems{hint}"
        )
        raise SystemExit(1)


@click.command()
@click.argument("dest", type=click.Path(path_type=Path), callback=regular_path)
@click.pass_obj
def backup(state: State, dest: Path) -> None:
    """Copy the data dir into the new folder DEST, consistently, also while the bot runs.

    \b
    Example:
      foreign-desk backup ~/backups/foreign-desk-2025-06-01
    """
    from foreign_desk.bot.render_text import counted
    from foreign_desk.index.engine import Engine

    report = run(lambda: Engine.backup(state.settings, dest))
    out.print(
        f"Backed up generation {report.generation} to {escape(str(report.path))}: "
        f"{counted(len(report.files), 'file')}, {report.bytes / 1e6:.1f} MB."
    )


@click.command()
@click.argument("src", type=click.Path(path_type=Path), callback=folder_path)
@click.pass_obj
def restore(state: State, src: Path) -> None:
    """Replace the data dir's index with the backup in SRC (checked before anything is touched).

    Stop the bot first: a running bot keeps answering from the index it loaded.

    \b
    Example:
      foreign-desk restore ~/backups/foreign-desk-2025-06-01
    """
    from foreign_desk.bot.discord.answers import FILE_NAME, MIGRATIONS
    from foreign_desk.index.engine import Engine

    versioned = {FILE_NAME: tuple(enumerate(MIGRATIONS, start=1))}  # the bot's own database
    report = run(lambda: Engine.restore(state.settings, src, versioned))
    out.print(f"Restored generation {report.generation} into {escape(str(report.path))}.")
