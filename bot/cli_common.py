"""What every ``foreign-desk`` command shares: the consoles, the global options' state, running a
command's coroutine with errors as one line, the indexing progress bar, opening the engine."""

from __future__ import annotations

import asyncio
import codecs
import dataclasses
import json
import os
import re
import signal
import sqlite3
import stat
import sys
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, TypeVar

import click
from foreign_desk.index.config import Settings
from foreign_desk.index.errors import ConfigError, ForeignDeskError
from foreign_desk.index.sqlite import database_problem, stop_abandoned
from rich.console import Console, ConsoleOptions, RenderableType
from rich.markup import escape
from rich.segment import Segment

if TYPE_CHECKING:
    from foreign_desk.index.engine import Engine
    from foreign_desk.index.progress import IndexProgress
    from rich.progress import TaskID

T = TypeVar("T")
F = TypeVar("F", bound=Callable[..., object])
P = TypeVar("P", bound="str | os.PathLike[str] | None")

_TERMINAL_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
"""C0 and C1 control characters but newline and tab, and the bidi embeddings, overrides and
isolates (a citation shown reversed): indexing drops them (``index.text.strip_controls``), but a
store made before it, or a vote's question, may still hold them."""
_RAW_IN_JSON = re.compile(r"[\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
"""What ``json.dumps`` leaves raw in a string, but a terminal obeys (C1's CSI, U+009B)."""


class PlainConsole(Console):
    """A console that writes no control character it did not make itself. Text from outside
    (an article, a feed, a file name, a vote's question) is shown without them: its ESC would
    start an escape sequence the terminal obeys (retitle the window, move the cursor, clear the
    screen, set the clipboard). Rich's own styles and cursor moves are control segments or come
    from styles, never from a segment's text, so they pass."""

    def render(self, renderable: RenderableType, options: ConsoleOptions | None = None) -> Iterable[Segment]:
        for segment in super().render(renderable, options):
            if segment.control is None and _TERMINAL_CONTROLS.search(segment.text):
                segment = Segment(_TERMINAL_CONTROLS.sub("", segment.text), segment.style)
            yield segment


# soft_wrap: long lines are left whole (piped output stays one line per line; a terminal wraps).
out = PlainConsole(highlight=False, soft_wrap=True)
err = PlainConsole(stderr=True, highlight=False, soft_wrap=True)


FRONT_END_SECTIONS = frozenset({"discord"})
"""The settings file's tables the front ends read themselves (``Settings.extra``)."""
DISCORD_ENV_PREFIX = "FOREIGN_DESK_DISCORD_"
"""``[discord]``'s variables (``bot.discord.settings.ENV_PREFIX``)."""


def refuse_unknown_sections(settings: Settings) -> None:
    """``ConfigError`` for a top-level key nothing reads: a misspelt table (``[serch]``) would
    leave its settings at their defaults without a word."""
    unknown = sorted(set(settings.extra) - FRONT_END_SECTIONS)
    if unknown:
        known = {f.name for f in dataclasses.fields(Settings)} - {"extra"} | FRONT_END_SECTIONS
        raise ConfigError(
            f"unknown setting {unknown[0]!r} in the top level; known: {', '.join(sorted(known))}"
        )


def refuse_bad_front_end_settings(settings: Settings, environ: Mapping[str, str] = os.environ) -> None:
    """``ConfigError`` for a bad ``[discord]`` value or ``FOREIGN_DESK_DISCORD_*`` variable, at every
    command's start as for the other sections, not first when the bot starts. Only where there is
    one: a command that answers otherwise imports nothing of the bot."""
    if "discord" in settings.extra or any(name.startswith(DISCORD_ENV_PREFIX) for name in environ):
        from foreign_desk.bot.discord.settings import load_bot_settings

        load_bot_settings(settings, environ)


def guild_option(command: F) -> F:
    """``--guild ID``: act as that Discord server (its own feeds and articles, its quotas)."""
    return click.option(
        "--guild",
        "guild",
        type=click.IntRange(min=1),
        default=None,
        help="Act as this Discord server: its own feeds and articles besides the shared corpus.",
    )(command)


def tolerant_stdout() -> None:
    """A stdout that cannot encode every character (``PYTHONIOENCODING=ascii``, a Latin-1
    terminal) writes ``\\u2014``-style escapes for them instead of failing the command after its
    work is done (stderr does so already)."""
    reconfigure = getattr(sys.stdout, "reconfigure", None)
    if reconfigure is not None and not unicode_stdout():
        reconfigure(errors="backslashreplace")


def unicode_stdout() -> bool:
    """Whether stdout's encoding holds all of Unicode (a UTF encoding)."""
    encoding = getattr(sys.stdout, "encoding", None) or "ascii"
    try:
        return codecs.lookup(encoding).name.startswith("utf")
    except LookupError:
        return False


def print_json(data: object) -> None:
    """``data`` as one line of JSON on stdout: text as is where stdout holds all of Unicode, else
    as ``\\u`` escapes, so it stays valid JSON on any stdout."""
    print(json_text(data, ascii_only=not unicode_stdout()))


def json_text(data: object, *, ascii_only: bool) -> str:
    """``json.dumps(data)`` with the controls it leaves raw (``_RAW_IN_JSON``) as ``\\u``
    escapes too: the same data, and nothing a terminal would obey."""
    text = json.dumps(data, ensure_ascii=ascii_only)
    return text if ascii_only else _RAW_IN_JSON.sub(lambda m: f"\\u{ord(m[0]):04x}", text)


class Refused(click.ClickException):
    """A value on the command line the command refuses (an empty question, one too long): one
    ``error:`` line and exit status 1, as every mistake that is not a usage error or a bad
    setting (README, "Commands"); click's own checks exit 2."""

    def show(self, file: object = None) -> None:
        err.print(f"[red]error:[/red] {escape(self.message)}")


class PathProblem(Refused):
    """A path named on the command line that cannot be used (missing, a file where a folder
    belongs, a FIFO); click's own path checks exit 2."""


def regular_path(ctx: object, param: object, value: P) -> P:
    """A path option's check (a click callback): a FIFO, socket or device named where a file or
    folder belongs is refused (``PathProblem``), and is never opened (a FIFO would wait forever)."""
    try:
        mode = os.stat(value).st_mode if value is not None else stat.S_IFREG
    except OSError:  # not there (yet), or not readable: the command says so itself
        return value
    if not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
        raise PathProblem(f"not a regular file or folder: {value}")
    return value


def folder_path(ctx: object, param: object, value: P) -> P:
    """``regular_path`` for a folder: a file there is refused too (``PathProblem``)."""
    if value is not None and os.path.isfile(value):
        raise PathProblem(f"not a folder: {value}")
    return regular_path(ctx, param, value)


class State:
    """What the global options decided, handed to every command."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings


def run(coro_fn: Callable[[], Awaitable[T]]) -> T:
    """Run a command's coroutine; a user error becomes one line on stderr and exit status 1, a bad
    setting read only now (the embedder, the seed file) a usage error (status 2),
    as one read at start is. SIGTERM cancels it as Ctrl-C does (its cleanup runs), then says
    "interrupted", status 143."""
    terminated = asyncio.Event()
    try:
        return asyncio.run(_cancelled_on_sigterm(coro_fn, terminated))
    except asyncio.CancelledError:
        if not terminated.is_set():
            raise
        err.print("interrupted")
        raise SystemExit(128 + signal.SIGTERM) from None
    except ConfigError as exc:
        raise click.UsageError(str(exc)) from None
    except ForeignDeskError as exc:
        err.print(f"[red]error:[/red] {escape(str(exc))}")
        raise SystemExit(1) from None
    except sqlite3.DatabaseError as exc:  # after the store opened: a full disk, a damaged page…
        err.print(f"[red]error:[/red] {escape(database_problem(exc))}")
        raise SystemExit(1) from None
    except KeyboardInterrupt:
        err.print("interrupted")
        raise SystemExit(130) from None
    finally:  # a second Ctrl-C may have cut a close short: its connection's thread would hang the exit
        stop_abandoned()


async def _cancelled_on_sigterm(coro_fn: Callable[[], Awaitable[T]], terminated: asyncio.Event) -> T:
    """``coro_fn()``, cancelled by SIGTERM (``terminated`` set) where the loop can take signal handlers."""
    loop, task = asyncio.get_running_loop(), asyncio.current_task()
    assert task is not None

    def stop() -> None:
        terminated.set()
        task.cancel()

    try:
        loop.add_signal_handler(signal.SIGTERM, stop)
    except (NotImplementedError, RuntimeError, ValueError):  # not the main thread, or Windows
        return await coro_fn()
    try:
        return await coro_fn()
    finally:
        loop.remove_signal_handler(signal.SIGTERM)


@contextmanager
def progress_bar(label: str) -> Iterator[Callable[[IndexProgress], None]]:
    """A progress bar on stderr for indexing (plain lines when stderr is not a terminal, or is
    a dumb one: TERM=dumb, where Rich draws no live display at all), shown from the first step
    that counts something (``from_first_count``)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    if not err.is_terminal or err.is_dumb_terminal:
        import time

        last_phase, last_at = "", 0.0

        def plain(p: IndexProgress) -> None:
            nonlocal last_phase, last_at
            now = time.monotonic()
            if p.phase != last_phase or (p.total and p.done == p.total) or now - last_at >= 10:
                err.print(f"{label}: {p}")
                last_phase, last_at = p.phase, now

        yield from_first_count(plain)
        return
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[unit]} · {task.fields[embedded]}"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=err, transient=True) as bar:
        task: TaskID | None = None

        def update(p: IndexProgress) -> None:
            nonlocal task
            if task is None:  # added now: a bar without a task draws nothing
                task = bar.add_task(label, total=None, embedded="", unit="")
            bar.update(
                task,
                description=f"{label}: {p.phase}",
                completed=p.done,
                total=p.total or None,
                embedded=p.embedded,
                unit=p.unit,
            )

        yield from_first_count(update)


def from_first_count(show: Callable[[IndexProgress], None]) -> Callable[[IndexProgress], None]:
    """``show``, from the first step that counts something (files read, articles embedded) or
    waits for another writer: a run that finds no article file to read shows nothing but its
    summary and error, never "embedding" and "done" over nothing (a ``--prune`` of emptied
    folders neither: its summary says what it removed)."""
    started = False

    def step(p: IndexProgress) -> None:
        nonlocal started
        started = started or bool(p.total) or p.phase == "waiting"
        if started:
            show(p)

    return step


@contextmanager
def count_bar(label: str, unit: str) -> Iterator[Callable[[int, int], None]]:
    """``progress_bar`` for work counted in ``unit``s (an evaluation's questions): a bar with
    done/total on a terminal, else a line every 10 s and at the end."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    if not err.is_terminal or err.is_dumb_terminal:
        import time

        last_at = time.monotonic()

        def plain(done: int, total: int) -> None:
            nonlocal last_at
            if done == total or time.monotonic() - last_at >= 10:
                err.print(f"{label}: {done:,}/{total:,} {unit}")
                last_at = time.monotonic()

        yield plain
        return
    columns = (TextColumn(label), BarColumn(), MofNCompleteColumn(), TextColumn(unit), TimeElapsedColumn())
    with Progress(*columns, console=err, transient=True) as bar:
        task = bar.add_task(label, total=None)
        yield lambda done, total: bar.update(task, completed=done, total=total)


def open_engine(state: State) -> Awaitable[Engine]:
    """``Engine.open`` with the command's settings (use as ``async with await open_engine(state)``)."""
    from foreign_desk.index.engine import Engine

    return Engine.open(state.settings)
