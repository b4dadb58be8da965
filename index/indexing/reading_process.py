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

import logging
import operator
import os
import pickle
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from itertools import starmap
from pathlib import Path
from typing import IO, Any

from foreign_desk.index.article import Article
from foreign_desk.index.errors import ReaderError
from foreign_desk.index.faults import checkpoint
from foreign_desk.index.indexing.prepare import CorpusReader, Prepared
from foreign_desk.index.models import Passage

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
            yield from map(_prepared, items)
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
    files, settings = pickle.load(source)
    reader = CorpusReader([], settings)
    batch: list[tuple[Any, ...]] = []
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
        batch.append(_plain(item))
        if len(batch) >= BATCH:
            flush()
    flush()
    pickle.dump(("end",), out)
    out.flush()


_ARTICLE = operator.attrgetter(*Article.__slots__)
_PASSAGE = operator.attrgetter(*Passage.__slots__)
_BLOCKS = Article.__slots__.index("blocks")


def _plain(item: Prepared) -> tuple[Any, ...]:
    """``item`` as plain tuples, without its article's text blocks: the parent needs only what
    was made of them (passages, sentences, lede, content hash), and they were a third of the
    bytes sent. Tuples, not our frozen classes, whose pickling calls back into Python for each
    object: at 20k passages, taking out the blocks and pickling cost this
    process 0.21 CPU-s as objects and 0.09 as tuples, and the parent loads them no slower."""
    article = list(_ARTICLE(item.article))
    article[_BLOCKS] = ()
    passages = tuple(map(_PASSAGE, item.passages))
    return tuple(article), passages, item.contexts, item.sentences, item.lede, item.content_hash, item.notes


def _prepared(plain: tuple[Any, ...]) -> Prepared:
    """The ``Prepared`` that ``_plain`` made ``plain`` of."""
    article, passages, contexts, sentences, lede, content_hash, notes = plain
    return Prepared(
        Article(*article), tuple(starmap(Passage, passages)), contexts, sentences, lede, content_hash, notes
    )


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
