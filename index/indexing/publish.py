"""Publish: the next FAISS file written (temp name, fsync, rename), then the pending generation
made live in one transaction, then what no reader can see any more collected, then the
generation's background moments saved (``search.moments``: opening it reads them instead of
measuring them). Once the generation is live the run has succeeded: collecting that fails (a
full disk) is a warning, and the next run that publishes collects it."""

from __future__ import annotations

import asyncio
import json
import logging
import sqlite3
from dataclasses import asdict

from foreign_desk.index.config import ChunkingSettings
from foreign_desk.index.embed import Fingerprint
from foreign_desk.index.faults import checkpoint
from foreign_desk.index.search.moments import moments_key, save_measured
from foreign_desk.index.sqlite import database_problem
from foreign_desk.index.store import Store
from foreign_desk.index.store.integrity import CHECKSUM_KEY, file_checksum
from foreign_desk.index.store.schema import VECTOR_IDS_KEY
from foreign_desk.index.store.vectors import IVF, VectorIndex
from foreign_desk.index.store.writer import StoreWriter

log = logging.getLogger(__name__)


async def publish(
    store: Store,
    writer: StoreWriter,
    index: VectorIndex,
    *,
    fingerprint: Fingerprint,
    chunking: ChunkingSettings,
    rebuilt: bool,
    meta: dict[str, str],
    sweep: bool = False,
) -> None:
    """Make ``index`` the live generation; ``meta`` is the store's meta before the run; ``sweep``
    (a full run) drops every cached vector no passage uses (``StoreWriter.collect_garbage``)."""
    generation, path = writer.pending, store.vectors_path(writer.pending)
    await asyncio.to_thread(index.save, path)
    checksum = await asyncio.to_thread(file_checksum, path)  # verified whenever it is opened
    ids = await asyncio.to_thread(index.ids)
    checkpoint("vectors-written")
    trained = meta.get("ivf_trained_n", "0")
    if rebuilt and index.kind == IVF:  # sized for the shared corpus's passages (``repair.built``)
        trained = str(index.ntotal - await store.unshared_passages(generation))
    await writer.publish(
        {
            "fingerprint": fingerprint.to_json(),
            "index_kind": index.kind,
            "vectors_file": path.name,
            CHECKSUM_KEY: checksum,
            VECTOR_IDS_KEY: f"{checksum} {len(ids)} {int(ids.sum())}",
            "chunking": json.dumps(asdict(chunking)),
            "ivf_trained_n": trained,
        }
    )
    checkpoint("published")
    try:
        await writer.collect_garbage(sweep=sweep)
    except (sqlite3.Error, OSError) as exc:
        why = database_problem(exc) if isinstance(exc, sqlite3.Error) else str(exc)
        log.warning("published generation %d, but could not clean up after it (%s)", generation, why)
    await save_measured(store, moments_key(generation, checksum, fingerprint), index)
