"""Damage done to a data dir, and kills of the processes that write it, judged as a user would.

A ``Corruption`` changes one file of a copy of an indexed data dir (bytes overwritten at an
offset, a truncation, a missing file). Afterwards ``foreign-desk ask`` must either answer
exactly as before (the damage was detected and repaired) or print one ``error:`` line and
exit 1; an answer that differs is an answer built from damaged data, and a run past the
timeout is a hang. ``kill`` runs ``index``, ``fetch`` or ``backup`` with a SIGKILL at a
checkpoint (``FOREIGN_DESK_KILL_AT``), after which the store must open, pass ``doctor`` and
answer as before. Used by ``tests/faults`` and by ``python -m bench.faults``.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from tests.conftest import ROOT

QUESTION = "what did NATO and Japan agree on?"
TIMEOUT_S = 60.0
"""A run past this is a hang (the issue's bound for a repair or an error is 10 s; the bench
prints the slowest so that it can be compared)."""


@dataclass(frozen=True)
class Outcome:
    case: str
    ok: bool
    detail: str
    seconds: float


def cli(
    data_dir: Path,
    *args: str,
    env: dict[str, str] | None = None,
    timeout: float = TIMEOUT_S,
    preexec_fn: Callable[[], None] | None = None,
):
    """``foreign-desk --data-dir DATA ARGS`` in a subprocess (no config file, the default model)."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith("FOREIGN_DESK_")}
    environ.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "foreign_desk", "--data-dir", str(data_dir), *args],
        cwd=ROOT,
        env=environ,
        capture_output=True,
        text=True,
        timeout=timeout,
        preexec_fn=preexec_fn,
    )


def answer_of(stdout: str) -> list[tuple[int, str, float]]:
    data = json.loads(stdout)
    return [(r["rank"], r["text"], round(r["similarity"], 4)) for r in data["results"]]


def judge(case: str, data_dir: Path, expected: list[tuple[int, str, float]]) -> Outcome:
    """Ask the damaged store; a repaired answer or one error line is fine, nothing else is."""
    started = time.perf_counter()
    try:
        proc = cli(data_dir, "ask", QUESTION, "--json")
    except subprocess.TimeoutExpired:
        return Outcome(case, False, f"hung for more than {TIMEOUT_S:.0f} s", time.perf_counter() - started)
    seconds = time.perf_counter() - started
    errors = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
    if proc.returncode == 0:
        same = answer_of(proc.stdout) == expected
        warned = [line for line in proc.stderr.splitlines() if "rebuilt" in line or "repair" in line]
        return Outcome(case, same, "same answer" + (f" ({warned[0]})" if warned else "") if same
                       else "a different answer: built from damaged data", seconds)  # fmt: skip
    one_line = proc.returncode == 1 and len(errors) == 1 and "Traceback" not in proc.stderr
    return Outcome(
        case, one_line, errors[0] if one_line else f"exit {proc.returncode}: {proc.stderr[-300:]}", seconds
    )


@dataclass(frozen=True)
class Corruption:
    name: str
    apply: Callable[[Path], None]


def _vectors(data: Path) -> Path:
    return max((data / "vectors").glob("gen-*.faiss"))


def _overwrite(
    which: Callable[[Path], Path], at: float | int, data: Callable[[int], bytes]
) -> Callable[[Path], None]:
    def apply(data_dir: Path) -> None:
        path = which(data_dir)
        size = path.stat().st_size
        offset = int(size * at) if isinstance(at, float) else (at if at >= 0 else size + at)
        with path.open("r+b") as handle:
            handle.seek(max(0, min(offset, size - 1)))
            handle.write(data(size))

    return apply


def _background(data: Path) -> Path:
    return data / "vectors" / "background.bin"


def _db(data: Path) -> Path:
    return data / "foreign-desk.sqlite3"


def _truncate(data_dir: Path) -> None:
    path = _vectors(data_dir)
    os.truncate(path, path.stat().st_size // 3)


def _truncate_background(data_dir: Path) -> None:
    path = _background(data_dir)
    os.truncate(path, path.stat().st_size // 2)


def _pipe(which: Callable[[Path], Path]) -> Callable[[Path], None]:
    """The file replaced by a named pipe: a reader of it waits for a writer for ever."""

    def apply(data_dir: Path) -> None:
        path = which(data_dir)
        path.unlink()
        os.mkfifo(path)

    return apply


def _drop_vectors_and_rows(data_dir: Path) -> None:
    _vectors(data_dir).unlink()
    conn = sqlite3.connect(_db(data_dir))
    with conn:
        conn.execute("DELETE FROM embeddings")
    conn.close()


def _meta(key: str, value: str) -> Callable[[Path], None]:
    """One meta row's value changed (SQLite checks no values: its quick_check passes)."""

    def apply(data_dir: Path) -> None:
        conn = sqlite3.connect(_db(data_dir))
        with conn:
            conn.execute("UPDATE meta SET value = ? WHERE key = ?", (value, key))
        conn.close()

    return apply


CORRUPTIONS: tuple[Corruption, ...] = (
    Corruption("sqlite: 100 random bytes at the start", _overwrite(_db, 0, lambda _: os.urandom(100))),
    Corruption("sqlite: page 1 b-tree header", _overwrite(_db, 100, lambda _: os.urandom(12))),
    Corruption("sqlite: zeros on a middle page", _overwrite(_db, 0.5, lambda _: bytes(4096))),
    Corruption("sqlite: random bytes on the last page", _overwrite(_db, -4096, lambda _: os.urandom(4096))),
    Corruption("sqlite: meta generation", _meta("generation", "1x")),
    Corruption("sqlite: meta scopes_version", _meta("scopes_version", "z")),
    Corruption("sqlite: meta id_stats", _meta("id_stats", "1 6 x")),
    Corruption("sqlite: meta fingerprint", _meta("fingerprint", '{"backend": ')),
    Corruption("faiss: random bytes in the header", _overwrite(_vectors, 0, lambda _: os.urandom(64))),
    Corruption("faiss: zeros in the vectors", _overwrite(_vectors, 0.5, lambda size: bytes(size // 4))),
    Corruption("faiss: random bytes in the vectors", _overwrite(_vectors, 0.3, lambda _: os.urandom(2048))),
    Corruption("faiss: the id map", _overwrite(_vectors, -16, lambda _: os.urandom(16))),
    Corruption("faiss: truncated", _truncate),
    Corruption("faiss: missing", lambda data: _vectors(data).unlink()),
    Corruption("faiss missing and embedding rows missing", _drop_vectors_and_rows),
    Corruption("faiss: a named pipe", _pipe(_vectors)),
    Corruption("background: bytes in the header", _overwrite(_background, 8, lambda _: os.urandom(32))),
    Corruption("background: in the moments", _overwrite(_background, 0.6, lambda _: os.urandom(64))),
    Corruption("background: truncated", _truncate_background),
    Corruption("background: a named pipe", _pipe(_background)),
    Corruption("background: nested header", _overwrite(_background, 32, lambda _: b"[" * 9_999 + b"\n")),
    Corruption("writer.lock: garbage", lambda data: (data / "writer.lock").write_bytes(os.urandom(64))),
)


def corrupt_all(sample: Path, root: Path, expected: list[tuple[int, str, float]]) -> list[Outcome]:
    """Every corruption on its own copy of ``sample``, judged."""
    outcomes = []
    for number, corruption in enumerate(CORRUPTIONS):
        copy = root / f"corrupt-{number}"
        shutil.copytree(sample, copy, ignore=shutil.ignore_patterns("writer.lock"))
        corruption.apply(copy)
        outcomes.append(judge(corruption.name, copy, expected))
    return outcomes


# -- kills --------------------------------------------------------------------------------------

OPERATIONS = ("index", "fetch", "backup")


@dataclass
class KillRig:
    """A data dir to kill writers of, with what each round writes: a corpus folder that gains
    an article per round, and a loopback feed (``feed_url``) that gains a story per round."""

    data_dir: Path
    corpus: Path
    backups: Path
    add_story: Callable[[int], None]
    """Publish story ``n`` on the feed (and its page)."""
    rounds: int = 0

    def arguments(self, operation: str) -> list[str]:
        self.rounds += 1
        if operation == "index":
            article = {"title": f"Ministers meet for round {self.rounds} of maritime talks",
                       "text": f"Foreign ministers met for round {self.rounds} of talks on maritime borders "
                               "and fishing rights, officials said after the meeting."}  # fmt: skip
            (self.corpus / f"round-{self.rounds}.jsonl").write_text(
                json.dumps(article) + "\n", encoding="utf-8"
            )
            return ["index", str(self.corpus)]
        if operation == "fetch":
            self.add_story(self.rounds)
            return ["fetch"]
        return ["backup", str(self.backups / f"backup-{self.rounds}")]


def kill_once(rig: KillRig, operation: str, point: str) -> tuple[str, subprocess.CompletedProcess[str]]:
    """Run ``operation`` with a SIGKILL at ``point`` (``checkpoint[:n]``); the process may also end
    on its own when the point is not reached."""
    args = rig.arguments(operation)
    env = {"FOREIGN_DESK_KILL_AT": point, "FOREIGN_DESK_ALLOW_PRIVATE_URLS": "true"}
    return f"{operation} killed at {point}", cli(rig.data_dir, *args, env=env, timeout=4 * TIMEOUT_S)


def backups_are_whole(backups: Path) -> str | None:
    """Why a folder of backups holds a half-written one (``backup-N`` must be complete), or None."""
    for folder in backups.glob("backup-*"):
        manifest = folder / "backup.json"
        if not manifest.is_file():
            return f"{folder.name} has no manifest: a half-written backup"
        for name in json.loads(manifest.read_text(encoding="utf-8"))["files"]:
            if not (folder / name).is_file():
                return f"{folder.name} lacks {name}"
    return None


def open_killed_at(opener: str, path: Path, point: str) -> None:
    """``await (await <opener>(path)).close()`` (``opener``: ``module:Class``, whose ``open`` makes
    the tables) in a process that SIGKILLs itself at checkpoint ``point``."""
    module, name = opener.split(":")
    code = (
        f"import asyncio, sys; from pathlib import Path; from {module} import {name}\n"
        f"async def main():\n    await (await {name}.open(Path(sys.argv[1]))).close()\n"
        "asyncio.run(main())"
    )
    env = {**os.environ, "FOREIGN_DESK_KILL_AT": point}
    command = [sys.executable, "-c", code, str(path)]
    killed = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-500:]
