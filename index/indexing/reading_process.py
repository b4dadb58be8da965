"""Reading in a second process: a large corpus is read, cleaned and chunked on another core
while this process embeds and stages what has been read.

Reading and preparing are two fifths of a model-free run's CPU, all of it Python: a thread
would only take turns with the rest of the run. The child runs ``CorpusReader.read`` over the
files this process discovered and sends the prepared articles back in reading order, a batch at
a time, with the problems and progress that go with them. The pipe blocks, so the child is never
more than a batch or two ahead, whatever the corpus's size.

The child is started with ``python -m`` (``multiprocessing``'s spawn would import the parent's
main module: the CLI, the bot) and imports the reading code alone. If it cannot start, this
process reads the files itself; if it dies later, the run stops with a one-line error and
nothing is published; if this process dies, the child's next write fails and it exits.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import pickle
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from foreign_desk.index.errors import ReaderError
from foreign_desk.index.faults import checkpoint

if TYPE_CHECKING:
    from foreign_desk.index.indexing.prepare import CorpusReader, Prepared

log = logging.getLogger(__name__)

BATCH = 64
"""Articles per message (READ_BATCH, what the run takes at a time)."""
FLUSH_SECONDS = 0.25
"""A message at least this often while files are read, so progress moves."""


def worth_it(files: Sequence[Path], min_bytes: int) -> bool:
    """Whether ``files`` hold ``min_bytes`` (``reading_process_bytes``) and another core exists."""
    if min_bytes < 0 or (os.cpu_count() or 1) < 2:
        return False
    total = 0
    for path in files:
        if total >= min_bytes:
            break
        try:
            total += path.stat().st_size
        except OSError:
            continue  # reading will report it
    return total >= min_bytes


def read(reader: CorpusReader, files: Sequence[Path]) -> Iterator[Prepared]:
    """What ``reader.read(files)`` yields (and records), read by a child process."""
    try:
        child = subprocess.Popen(
            [sys.executable, "-m", __name__], stdin=subprocess.PIPE, stdout=subprocess.PIPE
        )
    except OSError as exc:  # no interpreter to start (an embedded Python)
        yield from _read_here(reader, files, str(exc))
        return
    assert child.stdin is not None and child.stdout is not None
    try:
        try:
            with child.stdin:
                pickle.dump((list(files), reader.settings), child.stdin, pickle.HIGHEST_PROTOCOL)
        except BrokenPipeError:
            pass  # the child is gone: its status says why, below
        started = False
        while (message := _receive(child.stdout)) is not None:
            kind, *body = message
            if kind == "end":
                return
            if kind == "error":
                raise ReaderError(f"reading the corpus failed: {body[0]}")
            started = True
            items, problems, troubled, progress = body
            reader.problems.extend(problems)
            reader.troubled.update(troubled)
            reader.seen += len(items)
            yield from items
            if progress and reader.on_file:
                reader.on_file(*progress)
        status = child.wait()
        if started:
            raise ReaderError(f"reading the corpus stopped: its process exited with status {status}")
        yield from _read_here(reader, files, f"status {status}")
    finally:
        if child.poll() is None:
            child.kill()
        child.wait()
        child.stdout.close()


def _read_here(reader: CorpusReader, files: Sequence[Path], why: str) -> Iterator[Prepared]:
    """What the child would have sent, read by this process: it could not start."""
    log.warning("the reading process could not start (%s): reading here", why)
    yield from reader.read(files)


def _receive(stream: IO[bytes]) -> tuple[Any, ...] | None:
    """The child's next message; None when it has stopped writing."""
    try:
        message: tuple[Any, ...] = pickle.load(stream)
    except (EOFError, pickle.UnpicklingError):
        return None
    return message


def _serve(source: IO[bytes], out: IO[bytes]) -> None:
    """The child: read the files it is given and send what the parent's reader would record."""
    from foreign_desk.index.indexing.prepare import CorpusReader

    files, settings = pickle.load(source)
    reader = CorpusReader([], settings)
    batch: list[Prepared] = []
    troubled_sent: set[str] = set()
    progress: tuple[int, int] | None = None
    last = time.monotonic()

    def flush() -> None:
        nonlocal batch, troubled_sent, last
        troubled = reader.troubled - troubled_sent
        message = ("items", batch, reader.problems, troubled, progress)
        pickle.dump(message, out, pickle.HIGHEST_PROTOCOL)
        out.flush()
        batch, reader.problems, last = [], [], time.monotonic()  # the parent keeps (and caps) them
        troubled_sent |= troubled
        checkpoint("read-batch")  # a test kills the child here

    def on_file(done: int, total: int) -> None:
        nonlocal progress
        progress = (done, total)
        if time.monotonic() - last >= FLUSH_SECONDS:
            flush()

    reader.on_file = on_file
    for item in reader.read(files):
        batch.append(_without_blocks(item))
        if len(batch) >= BATCH:
            flush()
    flush()
    pickle.dump(("end",), out)
    out.flush()


def _without_blocks(item: Prepared) -> Prepared:
    """``item`` with its article's text blocks left here: the parent needs only what was made of
    them (passages, sentences, lede, content hash), and they were a third of the bytes sent and
    half the time of pickling and loading a message (at 100k passages, ~2 CPU-s in this process
    and ~1.3 in the parent)."""
    return dataclasses.replace(item, article=dataclasses.replace(item.article, blocks=()))


def main() -> int:
    """Entry point of the child (``python -m``): stdin gives the job, stdout is the pipe."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    out = sys.stdout.buffer
    sys.stdout = sys.stderr  # nothing else may write into the pipe
    try:
        _serve(sys.stdin.buffer, out)
    except BrokenPipeError:
        return 0  # the parent is gone
    except Exception as exc:  # a bug: one line for the parent, the traceback for the log
        log.exception("reading failed")
        pickle.dump(("error", f"{type(exc).__name__}: {exc}"), out)
        out.flush()
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
