"""Opening a store checks FAISS against the passage rows with numbers publishing recorded."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from foreign_desk.index.store import Store
from foreign_desk.index.store.schema import visible


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
