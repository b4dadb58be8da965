"""Ctrl-C twice during indexing, each at a moment the process itself makes sure of: the first as
the model embeds, the second while closing waits for that embedding to end, as an impatient user
presses it (and as ``timeout -s INT`` does: it signals the process, then its process group).

Run as ``python -m tests.ctrl_c_twice MODE DATA_DIR CORPUS``; the test is that it exits.
``cli``: ``foreign-desk index`` through its entry point; ``engine``: ``Engine.open`` and
``index`` under a bare ``asyncio.run``; ``abandoned`` (CORPUS: ``store``, ``answers`` or
``cooldowns``, whose connection it opens): a command that leaves a connection open, as a close
cut short by the second Ctrl-C does.
"""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from tests.fake_embedder import FakeEmbedder

CEILING_S = 60.0
"""How long the embedding thread waits for the main thread to get where it must be."""


def exit_of(mode: str, data_dir: Path, corpus: Path | str) -> tuple[int, str]:
    """Run this module in ``mode``; its exit status and stderr. Before the fix it never exited."""
    from tests.conftest import ROOT

    command = [sys.executable, "-m", __name__, mode, str(data_dir), str(corpus)]
    child = subprocess.Popen(command, cwd=ROOT, stderr=subprocess.PIPE, text=True)
    try:
        _, err = child.communicate(timeout=120)  # a hang guard: a hung exit fails here
    finally:
        child.kill()
    return child.returncode, err


def main_thread_stack() -> list[str]:
    """The qualified names of the main thread's frames, innermost first."""
    frame = sys._current_frames().get(threading.main_thread().ident or 0)
    names = []
    while frame is not None:
        names.append(frame.f_code.co_qualname)
        frame = frame.f_back
    return names


def waits_in_engine_close() -> bool:
    """Whether the main thread is blocked joining a thread (the indexing one) in ``Engine.close``."""
    stack = main_thread_stack()
    return bool(stack) and stack[0] in JOINS and "Engine.close" in stack


JOINS = ("Thread._wait_for_tstate_lock", "Thread.join")
"""The innermost frame of a thread blocked in ``Thread.join`` (Python 3.11; 3.13 joins in C)."""


def wait_for(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + CEILING_S
    while not condition():
        if time.monotonic() > deadline:
            raise RuntimeError(f"the main thread never got {what}: {main_thread_stack()}")
        time.sleep(0.001)


def ctrl_c() -> None:
    signal.pthread_kill(threading.main_thread().ident or 0, signal.SIGINT)


class SecondCtrlC(FakeEmbedder):
    """Presses Ctrl-C from inside the first batch it embeds (in the indexing thread), then again
    once the main thread waits in ``Engine.close`` for that batch."""

    def __init__(self) -> None:
        super().__init__()
        self.pressed = False

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        if not self.pressed:
            self.pressed = True
            ctrl_c()
            wait_for(waits_in_engine_close, "to wait in Engine.close")
            ctrl_c()
            wait_for(lambda: "Engine.close" not in main_thread_stack(), "out of Engine.close")
        return super().embed_passages(texts)


def run_cli(data_dir: str, corpus: str) -> None:
    from foreign_desk.bot.entry import main
    from foreign_desk.index import engine

    engine.make_embedder = lambda _spec: SecondCtrlC()  # type: ignore[assignment]
    sys.argv = ["foreign-desk", "--data-dir", data_dir, "index", corpus]
    main()


def run_engine(data_dir: str, corpus: str) -> None:
    from foreign_desk.index.config import load_settings
    from foreign_desk.index.engine import Engine

    async def index() -> None:
        settings = load_settings(None, environ={}, data_dir=data_dir)
        async with await Engine.open(settings, embedder=SecondCtrlC()) as engine:
            await engine.index([corpus])

    try:
        asyncio.run(index())
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        raise SystemExit(130) from None


async def opened(kind: str, data_dir: Path) -> object:
    """A connection, or what holds one, opened as the engine, the feeds or the Discord bot do."""
    from foreign_desk.bot.discord.answers import AnswerStore
    from foreign_desk.bot.discord.cooldowns import Cooldowns
    from foreign_desk.index.sqlite import connect

    data_dir.mkdir(parents=True, exist_ok=True)
    if kind == "store":
        return await connect(data_dir / "left-open.sqlite3")
    answers = await AnswerStore.open(data_dir, ttl_s=60)  # left open too
    return answers if kind == "answers" else (answers, await Cooldowns.open(data_dir, 60, str))


def run_abandoned(data_dir: str, kind: str) -> None:
    from foreign_desk.bot.cli_common import run

    async def leave_open() -> None:
        held = await opened(kind, Path(data_dir))  # noqa: F841 - the traceback holds it, as a close cut short does
        raise KeyboardInterrupt  # the second Ctrl-C, before the close

    run(leave_open)


if __name__ == "__main__":
    mode, data, corpus = sys.argv[1:4]
    {"cli": run_cli, "engine": run_engine, "abandoned": run_abandoned}[mode](data, corpus)
