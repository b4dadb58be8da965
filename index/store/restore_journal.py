"""A restore made all at once: every file of the backup is first copied beside the one it replaces
(``NAME.restoring``, fsynced), then ``restore.json`` lists them (written whole: temp file, fsync,
rename), and only then is each renamed over its target. The journal is the moment the restore
happens: killed before it, the data dir is as it was (what was staged is removed by the next
open); killed after it, the next open (or restore, or backup) renames what is left. Either way
the store's database and its vector file are of one generation, never the restored database
beside the old vector file (found damaged and rebuilt, a slow start with an alarming warning).

A data dir that cannot be written (a read-only mount or copy) cannot finish a restore, and is read
as it is (``read_as_it_was``) only while that is one index: the old one, when nothing was renamed
yet; the restored one, when everything was. Halfway, its files are part old and part new: refused.

Concurrency: the journal is written while no other process has the data dir open (``OpenLock``
held alone) and finished under the writer lock by whoever finds it: no process opens the store
while it is there (``Store.open`` finishes it first), but to read one that cannot be written.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterator, Sequence
from pathlib import Path

from foreign_desk.index.errors import StoreError
from foreign_desk.index.faults import checkpoint

log = logging.getLogger(__name__)

JOURNAL = "restore.json"
STAGED = ".restoring"
SQLITE_SIDE_FILES = ("-wal", "-shm", "-journal")


def staged(target: Path) -> Path:
    """Where the restored copy of ``target`` waits for the journal."""
    return target.with_name(target.name + STAGED)


def pending(data_dir: Path) -> bool:
    """Whether a killed restore left its journal or staged copies (every open asks: three listings)."""
    return (data_dir / JOURNAL).exists() or any(_staged_files(data_dir))


def commit(data_dir: Path, names: Sequence[str]) -> None:
    """Make the staged copies of ``names`` (paths in ``data_dir``) the data dir's, all or none."""
    _fsync_dirs(data_dir)  # the staged names are on disk before the journal that lists them
    journal = data_dir / JOURNAL
    with staged(journal).open("w", encoding="utf-8") as handle:
        json.dump(list(names), handle)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(staged(journal), journal)
    _fsync_dirs(data_dir)
    checkpoint("restore-journal-written")
    _apply(data_dir, names)


def finish(data_dir: Path) -> None:
    """Finish the restore a journal records, or remove what an unjournaled one staged. The
    caller holds the writer lock, and no process has the store open."""
    if not pending(data_dir):
        return
    names = _journaled(data_dir / JOURNAL)
    if names:
        log.warning("finishing a restore that was stopped before it ended (%s)", data_dir / JOURNAL)
    _apply(data_dir, names)


def read_as_it_was(data_dir: Path) -> None:
    """Check that a data dir which cannot be written holds one index although a restore into it was
    stopped: say (once, a warning) what the next open that can write will do; ``StoreError`` when
    the restore stopped halfway, as serving would mix the old files with the new."""
    if not pending(data_dir):
        return
    names = _journaled(data_dir / JOURNAL)
    renamed = [not staged(data_dir / name).exists() for name in names]
    if any(renamed) and not all(renamed):
        raise StoreError(
            f"a restore into {data_dir} stopped halfway and cannot be finished in a data dir that "
            "cannot be written: open it once where it can be written"
        )
    if not names:
        served, later = "the index as it was", "removes the copies it staged"
    elif all(renamed):
        served, later = "the restored index", "removes its journal"
    else:
        served, later = "the index as it was", "finishes it"
    log.warning(
        "a restore into %s was stopped and this data dir cannot be written: serving %s; the next "
        "open that can write %s",
        data_dir,
        served,
        later,
    )


def _apply(data_dir: Path, names: Sequence[str]) -> None:
    """Each staged copy of ``names`` renamed over its target (an old database without its WAL:
    SQLite would replay it into the new one), then the rest of what was staged removed, and the
    journal last."""
    for name in names:
        target = data_dir / name
        if not staged(target).exists():  # renamed before a kill
            continue
        for suffix in SQLITE_SIDE_FILES if name.endswith(".sqlite3") else ():
            target.with_name(target.name + suffix).unlink(missing_ok=True)
        os.replace(staged(target), target)
        checkpoint("restore-file-replaced")
    for path in list(_staged_files(data_dir)):
        path.unlink(missing_ok=True)
    _fsync_dirs(data_dir)
    (data_dir / JOURNAL).unlink(missing_ok=True)
    _fsync_dirs(data_dir)


def _journaled(journal: Path) -> list[str]:
    """The files ``journal`` lists (none without one)."""
    try:
        names = json.loads(journal.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return []
    except (OSError, ValueError, RecursionError) as exc:
        raise StoreError(f"cannot finish the restore that {journal} records: {exc}") from None
    if not isinstance(names, list) or not all(isinstance(name, str) for name in names):
        # a string's letters, a number: no list of the files it renamed
        raise StoreError(f"cannot finish the restore that {journal} records: it lists no files")
    return names


def _staged_files(data_dir: Path) -> Iterator[Path]:
    """Staged copies, and the rollback journals of databases killed while being staged."""
    for pattern in (f"*{STAGED}", f"*{STAGED}-journal", f"vectors/*{STAGED}"):
        yield from data_dir.glob(pattern)


def _fsync_dirs(data_dir: Path) -> None:
    """Renames and removals in ``data_dir`` and its vector folder made durable."""
    for folder in (data_dir, data_dir / "vectors"):
        if folder.is_dir():
            fd = os.open(folder, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
