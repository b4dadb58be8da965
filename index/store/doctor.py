"""``foreign-desk doctor``: check every file of a data dir, say what is wrong, rebuild what can be.

Checks, in order: each SQLite database (``PRAGMA quick_check``), the live generation's vector
file (present, its checksum, FAISS can read it), its ids against the passage rows, and every
vector in it against the copy SQLite keeps; then each keyword index (shared, own, servers')
against the passages it indexes (``keyword_check``). ``repair`` rebuilds a damaged or disagreeing
vector file from SQLite's vectors, and indexes its passages again into a damaged or disagreeing
keyword index (under the writer lock, never waiting for it). Last, every stored sentence-vector
row (its length, finite values): after the repairs, so a finding after them is a problem they
left. A damaged database, sentence rows included (their only copy), cannot be rebuilt from
anything here: ``RESTORE``. Nothing here waits on the writer lock or the model, so it never
hangs (FTS5's 'integrity-check' waits at most SQLite's busy timeout for another process's
write). A data dir that cannot be written (a read-only copy or mount) is checked all the same,
read without writing (``read_only_uri``); only the repairs cannot be done there.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from foreign_desk.index.embed import Fingerprint
from foreign_desk.index.errors import StoreError
from foreign_desk.index.sqlite import Migrations, read_only_uri
from foreign_desk.index.store.db import DB_NAME, RESTORE, SENTENCE_DTYPE, VECTOR_DTYPE, Store, fits
from foreign_desk.index.store.db import read_only as store_read_only
from foreign_desk.index.store.integrity import CHECKSUM_KEY, compare, file_damage, tolerance_for
from foreign_desk.index.store.keyword_check import INDEXES, KeywordIndex, keyword_problem, reindex
from foreign_desk.index.store.lock import WriterLock
from foreign_desk.index.store.repair import rebuild, save_checked, vectors_path
from foreign_desk.index.store.vectors import VectorIndex
from foreign_desk.index.store.versions import newer_version

_BATCH = 2000
REINDEX = "run `foreign-desk index --full`"
READ_ONLY = "{} cannot be rebuilt in a read-only data dir: run `doctor --repair` on a writable copy"
READ_ONLY_REPAIR = READ_ONLY.format("the vector file")
SENTENCE_ROWS_SQL = "SELECT count, vectors FROM sentence_embeddings"


@dataclass(frozen=True, slots=True)
class Finding:
    check: str
    ok: bool
    detail: str


def quick_check(path: Path, read_only: bool = False) -> Finding:
    """``PRAGMA quick_check`` of one SQLite file (blocking; a few seconds per GB); ``read_only``:
    in a folder that cannot be written."""
    uri = read_only_uri(path) if read_only else f"file:{path}?mode=ro"
    try:
        conn = sqlite3.connect(uri, uri=True, timeout=5)
        try:
            rows = conn.execute("PRAGMA quick_check").fetchall()
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        return Finding(path.name, False, f"damaged: {exc}")
    problems = [str(r[0]) for r in rows if r[0] != "ok"]
    if problems:
        return Finding(
            path.name, False, f"damaged: {problems[0]}" + (f" (+{len(problems) - 1})" * (len(problems) > 1))
        )
    return Finding(path.name, True, "quick_check ok")


async def diagnose(data_dir: Path, *, nprobe: int = 32, approximate_threshold: int = 100_000,
                   repair: bool = False, versioned: Mapping[str, Migrations] | None = None,
                   ) -> list[Finding]:  # fmt: skip
    """Every check's finding, in order; with ``repair``, the vector file rebuilt when it is wrong.
    ``versioned``: the front ends' own databases and their migrations (``versions``)."""
    if not (data_dir / DB_NAME).is_file():
        return [Finding(DB_NAME, False, f"no index in {data_dir}: run `foreign-desk index`")]
    read_only = await asyncio.to_thread(store_read_only, data_dir)
    found = [Finding("data dir", True, f"{data_dir} is read-only: checked without writing")]
    found = found if read_only else []
    newer = False
    for path in sorted(data_dir.glob("*.sqlite3")):
        finding = await asyncio.to_thread(quick_check, path, read_only)
        if finding.ok and (why := await asyncio.to_thread(_newer, path, (versioned or {}).get(path.name))):
            finding, newer = Finding(path.name, False, why), True
        found.append(finding)
    if newer:  # this version must not go on: it would read (or repair) tables it does not know
        return [*found, Finding("repair", False, NEWER)]
    if not found[[f.check for f in found].index(DB_NAME)].ok:
        return [*found, Finding("repair", False, f"a damaged database cannot be rebuilt: {RESTORE}")]
    store = await Store.open(data_dir)  # read as it is where it cannot be written
    try:
        vector_findings, bad = await _vector_checks(store, nprobe)
        found += vector_findings
        if bad and read_only:
            found.append(Finding("repair", False, READ_ONLY_REPAIR))
        elif bad and repair:
            found.append(await _locked(store, lambda: _repair(store, nprobe, approximate_threshold)))
        for index in INDEXES:
            found += await _keyword_check(store, index, read_only, repair)
        found += await _sentence_check(store)
    finally:
        await store.close()
    return found


NEWER = (
    "none by this version: run the newer version that made it, or `foreign-desk restore` a backup "
    "made by this one"
)


def _newer(path: Path, user_version: Migrations | None) -> str | None:
    """``newer_version``'s line; None where the database cannot be read so (a read-only mount)."""
    try:
        return newer_version(path, user_version)
    except sqlite3.Error:
        return None


async def _vector_checks(store: Store, nprobe: int) -> tuple[list[Finding], bool]:
    gen = await store.generation()
    if gen == 0:
        return [Finding("generation", True, "nothing indexed yet")], False
    meta = await store.meta()
    path = vectors_path(store, meta)
    damage = await asyncio.to_thread(file_damage, path, meta.get(CHECKSUM_KEY))
    if damage is not None:
        return [Finding(path.name, False, damage)], True
    try:
        vectors = await asyncio.to_thread(VectorIndex.load, path, nprobe)
    except (RuntimeError, MemoryError, ValueError) as exc:
        return [Finding(path.name, False, f"FAISS cannot read it: {str(exc).strip()[:120]}")], True
    checksum = "checksum ok" if meta.get(CHECKSUM_KEY) else "no checksum stored (an older generation)"
    found = [Finding(path.name, True, f"generation {gen}, {vectors.ntotal:,} vectors, {checksum}")]
    rows = await store.visible_ids(gen)
    ids = await asyncio.to_thread(vectors.ids)
    missing, extra = len(np.setdiff1d(rows, ids)), len(np.setdiff1d(ids, rows))
    same = missing == extra == 0
    gap = f"{missing} passage(s) without a vector, {extra} vector(s) without a passage"
    found.append(Finding("ids", same, "every passage row has its vector" if same else gap))
    found.append(await _compare_all(store, vectors))
    return found, not all(f.ok for f in found)


async def _compare_all(store: Store, vectors: VectorIndex) -> Finding:
    differ = unknown = damaged = total = 0
    chunks = vectors.chunks(_BATCH)
    while (chunk := await asyncio.to_thread(next, chunks, None)) is not None:
        ids, rows = chunk
        got, blobs = await store.vectors_for(ids.tolist())
        result = compare(ids, rows, dict(zip(got.tolist(), blobs, strict=True)), tolerance_for(vectors))
        differ, unknown, total = differ + result.differ, unknown + result.unknown, total + len(ids)
        damaged += sum(b is not None and not fits(b, 1, vectors.dim, VECTOR_DTYPE) for b in blobs)
    if damaged:
        detail = (
            f"{damaged} of {total:,} damaged in the database (wrong length): run `foreign-desk index --full`"
        )
        return Finding("stored vectors", False, detail)
    if differ:
        return Finding("stored vectors", False, f"{differ} of {total:,} differ from the database's copies")
    lacking = f"; {unknown} not kept in the database" if unknown else ""
    return Finding("stored vectors", True, f"{total:,} match the database's copies{lacking}")


async def _sentence_check(store: Store) -> list[Finding]:
    """Every sentence-vector row: ``count`` rows of the embedder's dim, finite (none before the
    first generation records its embedder)."""
    fingerprint = (await store.meta()).get("fingerprint")
    if fingerprint is None:
        return []
    dim = Fingerprint.from_json(fingerprint).dim
    damaged = total = 0
    async with store.conn.execute(SENTENCE_ROWS_SQL) as cur:
        while rows := list(await cur.fetchmany(_BATCH)):
            total += len(rows)
            damaged += await asyncio.to_thread(_damaged, rows, dim)
    if damaged:
        detail = f"{damaged} of {total:,} rows damaged (wrong length or not finite): {RESTORE}"
        return [Finding("sentence vectors", False, detail)]
    return [Finding("sentence vectors", True, f"{total:,} rows intact")]


def _damaged(rows: list[Any], dim: int) -> int:
    return sum(
        not fits(blob, int(count), dim) or not np.isfinite(np.frombuffer(blob, SENTENCE_DTYPE)).all()
        for count, blob in rows
    )


async def _keyword_check(store: Store, index: KeywordIndex, read_only: bool, repair: bool) -> list[Finding]:
    """A keyword index, and with ``repair`` (where it can be written) indexed again when it is
    damaged or out of step."""
    ok, detail = await keyword_problem(store.conn, index, writable=not read_only)
    found = [Finding(index.check, ok, detail)]
    if not ok and read_only:
        found.append(Finding("repair", False, READ_ONLY.format(f"the {index.check}")))
    elif not ok and repair:
        found.append(await _locked(store, lambda: _reindex(store, index)))
    return found


async def _reindex(store: Store, index: KeywordIndex) -> str:
    return f"indexed the {index.check} again: {await reindex(store.conn, index):,} row(s)"


async def _locked(store: Store, work: Callable[[], Awaitable[str]]) -> Finding:
    """A repair's finding: ``work`` done under the writer lock (refused at once while another
    process writes), saying what it did."""
    try:
        async with WriterLock(store.data_dir / "writer.lock").hold(wait_s=0):
            return Finding("repair", True, await work())
    except StoreError as exc:
        return Finding("repair", False, str(exc))


async def _repair(store: Store, nprobe: int, approximate_threshold: int) -> str:
    gen = await store.generation()
    meta = await store.meta()
    dim = Fingerprint.from_json(meta["fingerprint"]).dim
    vectors = await rebuild(store, gen, dim, approximate_threshold=approximate_threshold, nprobe=nprobe)
    await save_checked(store, vectors, vectors_path(store, meta))
    return f"rebuilt {vectors_path(store, meta).name} from {vectors.ntotal:,} stored vectors"
