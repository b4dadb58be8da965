"""``foreign-desk backup DEST`` and ``restore SRC``: a consistent copy of a data dir, taken live.

A backup holds each SQLite database of the data dir, copied with SQLite's online backup API
(a consistent snapshot while the bot reads and writes), and the live generation's vector
file, checked against its checksum. The writer lock is held while copying, so no generation
is published or collected between the two (questions go on; an indexing run waits). The copy
is made in a temporary folder and renamed into place: a killed backup leaves no half backup
under ``DEST``. ``restore`` checks a backup before it touches anything, then copies it back
under the writer lock, all files at once (``restore_journal``), and only when no other process
has the data dir open (``OpenLock``: a running bot would keep serving the index it loaded; stop
it first).
"""

from __future__ import annotations

import asyncio
import fcntl
import json
import os
import shutil
import sqlite3
from collections.abc import Iterator, Mapping
from contextlib import AbstractAsyncContextManager, contextmanager, nullcontext
from dataclasses import dataclass
from fnmatch import fnmatch
from pathlib import Path

from foreign_desk.index.errors import StoreError
from foreign_desk.index.faults import checkpoint
from foreign_desk.index.sqlite import Migrations, now_iso, read_only_uri
from foreign_desk.index.store.db import DB_NAME, OPEN_LOCK, meta_int, read_only, vectors_name
from foreign_desk.index.store.doctor import quick_check
from foreign_desk.index.store.integrity import CHECKSUM_KEY, file_damage
from foreign_desk.index.store.lock import OpenLock, WriterLock, try_lock
from foreign_desk.index.store.restore_journal import commit, finish, read_as_it_was, staged
from foreign_desk.index.store.versions import newer_version

MANIFEST = "backup.json"
WAIT_FOR_WRITER_S = 600.0
PARTIAL_FILES = ("*.sqlite3", "*.sqlite3-journal", "vectors", "*.faiss", "*.faiss.tmp")
"""What a backup's temporary folder holds before its manifest makes it a backup (its ``vectors``
folder's files included): a folder with a manifest, or anything else, is never removed."""


@dataclass(frozen=True, slots=True)
class BackupReport:
    path: Path
    generation: int
    files: tuple[str, ...]
    bytes: int


async def backup(data_dir: Path, dest: Path) -> BackupReport:
    """Copy ``data_dir`` into the new folder ``dest`` (which must not exist, or be empty). A data dir
    that cannot be written (a read-only mount or copy) is copied as it is read (``read_as_it_was``)."""
    dest = dest.resolve()  # "." or "..": the folder's own name, for the temporary one beside it
    if not (data_dir / DB_NAME).is_file():
        raise StoreError(f"nothing to back up: no index in {data_dir}")
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise StoreError(f"{dest} already exists and is not an empty folder")
    frozen = await asyncio.to_thread(read_only, data_dir)
    async with _writers_kept_out(data_dir, frozen):
        await asyncio.to_thread(read_as_it_was if frozen else finish, data_dir)  # a killed restore's
        writing = asyncio.ensure_future(asyncio.to_thread(_write, data_dir, dest, frozen))
        try:
            return await asyncio.shield(writing)
        except asyncio.CancelledError:
            await asyncio.wait([writing])  # a thread cannot be stopped: hold the lock until it ends
            raise


def _writers_kept_out(data_dir: Path, frozen: bool) -> AbstractAsyncContextManager[object]:
    """The writer lock, so that no generation is published or collected while a backup copies. In
    a data dir that cannot be written (``frozen``) it is taken through its file opened to read (a
    writer through another, writable mount of the folder waits all the same), or not at all when
    that file is missing: it cannot be made there."""
    lock = data_dir / "writer.lock"
    if frozen and not lock.exists():
        return nullcontext()
    return WriterLock(lock, create=not frozen).hold(wait_s=WAIT_FOR_WRITER_S)


def _write(data_dir: Path, dest: Path, frozen: bool) -> BackupReport:
    """The backup written beside ``dest``, then renamed into place; on any failure the
    temporary folder (as large as the backup) is removed, and a file-system error is one line."""
    tmp = dest.with_name(f".{dest.name}.partial")
    try:
        _remove_abandoned(dest.parent)
        shutil.rmtree(tmp, ignore_errors=True)
        with _held(tmp):
            report = _copy_out(data_dir, tmp, frozen)
            checkpoint("backup-written")
            if dest.exists():
                dest.rmdir()
            os.replace(tmp, dest)
        _fsync_dir(dest.parent)
    except BaseException as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        if isinstance(exc, OSError):
            raise StoreError(f"cannot back up to {dest}: {_why(exc)}") from None
        raise
    return BackupReport(dest, report.generation, report.files, report.bytes)


@contextmanager
def _held(tmp: Path) -> Iterator[None]:
    """``tmp`` made and locked while a backup is written into it: a backup beside it removes
    only a temporary folder no backup holds (``_remove_abandoned``)."""
    while True:
        tmp.mkdir(parents=True)
        fd = os.open(tmp, os.O_RDONLY)
        fcntl.flock(fd, fcntl.LOCK_EX)
        if os.fstat(fd).st_nlink:
            break
        os.close(fd)  # removed as abandoned between its making and its locking: make it again
    try:
        yield
    finally:
        os.close(fd)


def _remove_abandoned(parent: Path) -> None:
    """Remove the temporary folders that killed backups left in ``parent`` (each as large as a
    backup, and never reused unless the same DEST is given again): those no backup holds that
    hold only what a backup writes before its manifest (``PARTIAL_FILES``)."""
    for folder in parent.glob(".*.partial"):
        try:
            if folder.is_symlink() or not folder.is_dir() or not _only_partial_files(folder):
                continue
            fd = os.open(folder, os.O_RDONLY)
        except OSError:  # another user's, or gone meanwhile: not ours to remove
            continue
        try:
            if try_lock(fd, fcntl.LOCK_EX):
                shutil.rmtree(folder, ignore_errors=True)
        finally:
            os.close(fd)


def _only_partial_files(folder: Path) -> bool:
    """Whether ``folder`` holds nothing but ``PARTIAL_FILES``."""
    names = [p.name for p in folder.iterdir()] + [p.name for p in (folder / "vectors").glob("*")]
    return all(any(fnmatch(name, pattern) for pattern in PARTIAL_FILES) for name in names)


def _copy_out(data_dir: Path, dest: Path, frozen: bool) -> BackupReport:
    files: list[str] = []
    for db in sorted(data_dir.glob("*.sqlite3")):
        _sqlite_copy(db, dest / db.name, one_file=True, frozen=frozen)
        files.append(db.name)
        checkpoint("backup-database-copied")
    meta = _meta(dest / DB_NAME)
    generation = meta_int("generation", meta.get("generation"))
    if generation:
        name = vectors_name(generation)
        (dest / "vectors").mkdir()
        _file_copy(data_dir / name, dest / name)
        damage = file_damage(dest / name, meta.get(CHECKSUM_KEY))
        if damage is not None:
            raise StoreError(
                f"the live vector file {name} is damaged ({damage}): run `foreign-desk doctor --repair`"
            )
        files.append(name)
        checkpoint("backup-vectors-copied")
    manifest = {"generation": generation, "files": files, "created_at": now_iso(), "format": 1}
    (dest / MANIFEST).write_text(json.dumps(manifest, indent=1), encoding="utf-8")
    size = sum(f.stat().st_size for f in dest.rglob("*") if f.is_file())
    return BackupReport(dest, generation, tuple(files), size)


async def restore(
    src: Path, data_dir: Path, versioned: Mapping[str, Migrations] | None = None
) -> BackupReport:
    """Check the backup in ``src``, then make ``data_dir`` hold it (its index is replaced).
    ``versioned``: the migrations of the databases this package does not own (the bot's), by
    file name, recorded in their ``PRAGMA user_version``: a newer one is refused too."""
    manifest = await asyncio.to_thread(_checked_backup, src, data_dir, versioned)
    try:
        await asyncio.to_thread(data_dir.mkdir, parents=True, exist_ok=True)
        alone = OpenLock(data_dir / OPEN_LOCK)  # a running process keeps the index it loaded
        await alone.alone()
        try:
            async with WriterLock(data_dir / "writer.lock").hold(wait_s=0):
                await asyncio.to_thread(_copy_in, src, data_dir, manifest["files"])
        finally:
            alone.release()
    except OSError as exc:
        raise StoreError(f"cannot restore into {data_dir}: {_why(exc)}") from None
    size = sum((src / f).stat().st_size for f in manifest["files"])
    return BackupReport(data_dir, int(manifest["generation"]), tuple(manifest["files"]), size)


def _checked_backup(src: Path, data_dir: Path, versioned: Mapping[str, Migrations] | None) -> dict:
    if not src.exists():  # a typo, an unmounted drive: not "no readable backup.json"
        raise StoreError(f"no such file or folder: {src}; nothing was restored")
    try:
        manifest = json.loads((src / MANIFEST).read_text(encoding="utf-8"))
        int(manifest["generation"])  # read once the files are in: checked before
        files = manifest["files"]
        if not isinstance(files, list) or not all(isinstance(f, str) for f in files):
            raise TypeError(files)  # a string's letters would be taken for file names
    except (OSError, ValueError, KeyError, TypeError):
        raise StoreError(f"{src} is not a Foreign Desk backup (no readable {MANIFEST})") from None
    for name in files:
        if "/" in name.replace("vectors/", "", 1) or name.startswith(("/", ".")):
            raise StoreError(f"{src}/{MANIFEST} names a file outside the backup: {name!r}")
        if (src / name).exists() and not (src / name).is_file():  # a pipe would be waited on for ever
            raise StoreError(f"the backup's {name} is not a regular file")
        if _same_file(src / name, data_dir / name):  # SQLite would wait on itself for ever
            raise StoreError(f"{src} is the data folder itself: restore from a backup elsewhere")
        if name.endswith(".sqlite3"):
            _check_database(src / name, (versioned or {}).get(name))
    meta = _meta(src / DB_NAME)
    generation = meta_int("generation", meta.get("generation"))
    vectors = vectors_name(generation) if generation else None
    if vectors is not None and (damage := file_damage(src / vectors, meta.get(CHECKSUM_KEY))):
        raise StoreError(f"the backup's {vectors} is damaged ({damage})")
    return manifest


def _check_database(db: Path, migrations: Migrations | None) -> None:
    """A backup's database must be whole, and made by a version this one can open."""
    if not (finding := quick_check(db)).ok:
        raise StoreError(f"the backup's {db.name} is {finding.detail}")
    _refuse_newer(db, migrations)


def _refuse_newer(db: Path, migrations: Migrations | None) -> None:
    """A backup made by a newer version would leave a data dir this version cannot open: each
    database must be one this version knows (``versions.newer_version``)."""
    try:
        why = newer_version(db, migrations)
    except sqlite3.DatabaseError as exc:
        raise StoreError(f"cannot read {db}: {exc}") from None
    if why is not None:
        raise StoreError(f"the backup's {db.name}: {why}")


def _copy_in(src: Path, data_dir: Path, files: list[str]) -> None:
    """Each file staged beside the one it replaces, then all renamed in at once (``restore_journal``):
    the data dir's live vector file often has the backup's name (the same generation number), and
    a restore that fails (a full disk) or is killed must leave the data dir all old or all new."""
    finish(data_dir)  # a restore killed before this one: finished, or what it staged removed
    try:
        for name in files:
            target = staged(data_dir / name)
            target.parent.mkdir(exist_ok=True)
            if name.endswith(".sqlite3"):
                _sqlite_copy(src / name, target, one_file=True)  # its commit fsyncs it
            else:
                _copy_to(src / name, target)
        checkpoint("restore-staged")
    except BaseException:
        finish(data_dir)
        raise
    commit(data_dir, files)


def _sqlite_copy(source: Path, target: Path, *, one_file: bool, frozen: bool = False) -> None:
    """SQLite's online backup: a consistent snapshot of ``source`` written into ``target``
    (``one_file``: in rollback-journal mode, so a backup is one file with no -wal beside it;
    ``frozen``: ``source`` is in a folder that cannot be written, where no -shm can be made)."""
    if frozen:
        src = sqlite3.connect(read_only_uri(source), uri=True, timeout=30)
    else:
        src = sqlite3.connect(source, timeout=30)
    try:
        dst = sqlite3.connect(target, timeout=30)
        try:
            src.backup(dst)
            if one_file:
                dst.execute("PRAGMA journal_mode=DELETE")
        finally:
            dst.close()
    except sqlite3.DatabaseError as exc:
        raise StoreError(f"cannot copy {source.name}: {exc}") from None
    finally:
        src.close()


def _file_copy(source: Path, target: Path) -> None:
    """Copy to a temporary name, fsync, rename: ``target`` is whole or absent."""
    tmp = target.with_name(target.name + ".tmp")
    _copy_to(source, tmp)
    os.replace(tmp, target)


def _copy_to(source: Path, tmp: Path) -> None:
    """``source`` copied to ``tmp`` and fsynced (``tmp`` removed if the copy fails: a full disk)."""
    try:
        shutil.copyfile(source, tmp)
        with tmp.open("rb+") as handle:
            os.fsync(handle.fileno())
    except BaseException as exc:
        tmp.unlink(missing_ok=True)
        if isinstance(exc, FileNotFoundError):
            raise StoreError(f"{source} is missing: run `foreign-desk doctor --repair`") from None
        raise


def _same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:  # one of them is missing: not the same
        return False


def _why(exc: OSError) -> str:
    """An ``OSError`` in a few words, with the path it concerns."""
    return f"{exc.strerror or exc} ({exc.filename})" if exc.filename else str(exc.strerror or exc)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _meta(db: Path) -> dict[str, str]:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)
    try:
        return {str(k): str(v) for k, v in conn.execute("SELECT key, value FROM meta")}
    except sqlite3.DatabaseError as exc:
        raise StoreError(f"cannot read {db}: {exc}") from None
    finally:
        conn.close()
