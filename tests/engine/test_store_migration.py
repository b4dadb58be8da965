"""A store whose vectors are in the old WITHOUT ROWID tables (made before migration 6) moves to
rowid tables when it next opens: the same vectors and answers, the freed pages given back; a
process killed inside the migration or before the compaction leaves a store that answers as
before, and the next open finishes the job."""

from __future__ import annotations

import logging
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from foreign_desk.index.engine import Engine
from foreign_desk.index.errors import StoreBusy, StoreError
from foreign_desk.index.feeds.state import StateDB
from foreign_desk.index.models import SHARED, Filters, Scope
from foreign_desk.index.store import db, own_keywords, reads, writer
from foreign_desk.index.store.schema import (
    COMPACT_KEY,
    FTS_HASH_BYTES,
    LANGUAGE_STATS_SQL,
    MIGRATIONS,
    OWN_SLOT,
)

from tests.conftest import ROOT
from tests.engine.test_indexing import ASEAN, MERCOSUR, write_jsonl
from tests.engine.test_own_keywords import keyword_partition, own_article, server_index
from tests.fake_embedder import FakeEmbedder
from tests.faults.damage import open_killed_at

QUESTION = "When will the South China Sea code of conduct be finished?"
VECTOR_TABLES = ("embeddings", "sentence_embeddings")


def migrations_before(version: int) -> tuple[tuple[int, str], ...]:
    """The store's migrations before ``version``, the last with migration 10's ``local_day``
    column added: this code writes and reads it (``drop_local_day`` takes it away once the old
    code is done, so that opening the store applies every migration from ``version`` on)."""
    *old, (last, script) = (m for m in MIGRATIONS if m[0] < version)
    return (*old, (last, script + dict(MIGRATIONS)[10]))


def drop_local_day(data: Path) -> None:
    with sqlite3.connect(data / db.DB_NAME) as conn:
        conn.execute("ALTER TABLE articles DROP COLUMN local_day")


def code_before(patch: pytest.MonkeyPatch, version: int) -> None:
    """This code as the code before migration ``version`` (``<= 7``) was: its schema, one
    keyword index for every passage, and no links recorded."""
    patch.setattr(db, "MIGRATIONS", migrations_before(version))
    one_index = LANGUAGE_STATS_SQL.replace("count(CASE WHEN p.unshared = 0 THEN a.id END)", "count(a.id)")
    patch.setattr(writer, "LANGUAGE_STATS_SQL", one_index)
    patch.setattr(db, "LANGUAGE_STATS_SQL", one_index)

    async def none(*_: object) -> int:
        return 0

    async def no_ids(*_: object) -> np.ndarray:
        return np.empty(0, dtype=np.int64)

    patch.setattr(db.Store, "unshared_passages", none)
    patch.setattr(db.Store, "unshared_ids", no_ids)
    patch.setattr(reads.Reader, "hidden", lambda *_: None)  # these stores have no servers' own

    async def no_links(*_: object) -> dict[str, str]:
        return {}

    async def remember_nothing(*_: object) -> None:
        return None

    patch.setattr(writer.StoreWriter, "links", no_links)  # no corpus_links before 8
    patch.setattr(writer.StoreWriter, "remember_links", remember_nothing)


async def make_old_store(
    data: Path, settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, version: int = 6
) -> list[tuple[str, str]]:
    """A store indexed by the code before migration ``version``, and that code's answers; before
    7, MERCOSUR is server 111's own article only."""
    folder = tmp_path / "news"
    folder.mkdir()
    write_jsonl(folder / "wire.jsonl", ASEAN, MERCOSUR)
    with monkeypatch.context() as patch:
        code_before(patch, version)
        async with await Engine.open(settings, embedder=FakeEmbedder()) as engine:
            await engine.index([folder])
            if version == 7:
                uid = next(a.id for a in await engine.latest(10) if a.title == MERCOSUR["title"])
                await engine.store.scopes.grant([(uid, 111)])
                await engine.store.scopes.revoke(0, [uid])
        asked = await answers(settings)
    drop_local_day(data)
    assert layout(data) == {"embeddings": version <= 6, "sentence_embeddings": version <= 6}
    return asked


def layout(data: Path) -> dict[str, bool]:
    """Whether each vector table is WITHOUT ROWID."""
    with sqlite3.connect(data / db.DB_NAME) as conn:
        rows = conn.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'table' AND name IN (?, ?)", VECTOR_TABLES
        ).fetchall()
    return {name: "WITHOUT ROWID" in sql.upper() for name, sql in rows}


def contents(data: Path) -> tuple[dict[str, object], ...]:
    with sqlite3.connect(data / db.DB_NAME) as conn:
        return (
            dict(conn.execute("SELECT key, vector FROM embeddings").fetchall()),
            {k: (n, v) for k, n, v in conn.execute("SELECT key, count, vectors FROM sentence_embeddings")},
        )


def pending_compaction(data: Path) -> tuple[bool, int]:
    """(compaction still to do, free pages in the file)."""
    with sqlite3.connect(data / db.DB_NAME) as conn:
        pending = conn.execute("SELECT 1 FROM meta WHERE key = ?", (COMPACT_KEY,)).fetchone() is not None
        return pending, int(conn.execute("PRAGMA freelist_count").fetchone()[0])


async def answers(settings) -> list[tuple[str, str]]:
    async with await Engine.open(settings, embedder=FakeEmbedder()) as engine:
        return [(r.article.title, r.text) for r in (await engine.ask(QUESTION, k=10)).results]


async def test_an_old_store_moves_to_rowid_tables_with_the_same_vectors_and_answers(
    make_settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = tmp_path / "data"
    settings = make_settings(data)
    await make_old_store(data, settings, tmp_path, monkeypatch)
    before, asked = contents(data), await answers(settings)  # opening migrates
    assert layout(data) == {"embeddings": False, "sentence_embeddings": False}
    assert contents(data) == before and all(before)
    assert await answers(settings) == asked and asked
    assert pending_compaction(data) == (False, 0)


@pytest.mark.parametrize("checkpoint", ["schema_migrations-6", "compact"])
async def test_a_kill_while_migrating_leaves_a_store_that_answers(
    checkpoint: str, make_settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = tmp_path / "data"
    settings = make_settings(data)
    asked = await make_old_store(data, settings, tmp_path, monkeypatch)  # the old code's answers
    before = contents(data)

    open_killed_at("foreign_desk.index.store.db:Store", data, checkpoint)
    migrated = checkpoint == "compact"  # killed after the migration's commit, before VACUUM
    assert layout(data) == {"embeddings": not migrated, "sentence_embeddings": not migrated}
    assert pending_compaction(data)[0] == migrated
    assert contents(data) == before

    assert await answers(settings) == asked and asked  # this open finishes the job
    assert layout(data) == {"embeddings": False, "sentence_embeddings": False}
    assert pending_compaction(data) == (False, 0) and contents(data) == before


async def test_a_store_from_before_own_keyword_indexes_moves_servers_articles_out_of_the_shared_one(
    make_settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Made before migration 7 (one keyword index), with an article only server A owns: the
    migration moves that article's passages to the own index; its server still finds it by its
    words, nobody else does, and they leave the shared corpus's statistics."""
    data = tmp_path / "data"
    settings = make_settings(data)
    await make_old_store(data, settings, tmp_path, monkeypatch, version=7)
    async with await Engine.open(settings, embedder=FakeEmbedder()) as engine:
        shared, fresh_shared, own, fresh_own = keyword_partition(data)
        assert (shared, own) == (fresh_shared, fresh_own) and ("mercosur", 1) in own
        assert not any(term == "mercosur" for term, _ in shared)
        found = await engine.ask("Montevideo Mercosur", scope=Scope(111))
        assert found.results[0].article.title == MERCOSUR["title"]
        elsewhere = await engine.ask("Montevideo Mercosur", scope=SHARED)
        assert MERCOSUR["title"] not in [r.article.title for r in elsewhere.results]


def dump(data: Path) -> list[str]:
    with sqlite3.connect(data / db.DB_NAME) as conn:
        return list(conn.iterdump())


@pytest.mark.parametrize("table", ["schema_migrations", "feed_schema_migrations"])
async def test_a_store_from_a_newer_version_is_refused_and_left_as_it_was(
    table: str, make_settings, tmp_path: Path
) -> None:
    """Code that does not know a newer version's tables must not write them (nor undo them)."""
    data = tmp_path / "data"
    settings = make_settings(data)
    folder = tmp_path / "news"
    folder.mkdir()
    write_jsonl(folder / "wire.jsonl", ASEAN)
    async with await Engine.open(settings, embedder=FakeEmbedder()) as engine:
        await engine.index([folder])
        await (await StateDB.open(engine.db_path)).close()  # the feeds' tables, as the bot makes them
    with sqlite3.connect(data / db.DB_NAME) as conn:
        conn.execute(f"INSERT INTO {table}(version, applied_at) VALUES (99, 'later')")
    before = dump(data)

    with pytest.raises(StoreError, match=rf"made by a newer version of Foreign Desk \({table} 99, this"):
        if table == "schema_migrations":
            await Engine.open(settings, embedder=FakeEmbedder())
        else:
            await StateDB.open(data / db.DB_NAME)
    assert dump(data) == before


def fts_hash_bytes(data: Path) -> dict[str, int | None]:
    """Each keyword index's ``hashsize`` setting (None: FTS5's default)."""
    with sqlite3.connect(data / db.DB_NAME) as conn:
        return {
            table: next(iter(conn.execute(f"SELECT v FROM {table}_config WHERE k = 'hashsize'")), (None,))[0]
            for table in ("passages_fts", "own_fts")
        }


async def test_a_store_from_before_migration_9_gets_the_bigger_keyword_buffer_and_answers_as_before(
    make_settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Both keyword indexes of an existing store keep ``FTS_HASH_BYTES`` of new rows in memory once
    it opens (a big run writes fewer segments); its answers do not change, and it still indexes."""
    data, folder = tmp_path / "data", tmp_path / "news"
    settings = make_settings(data)
    folder.mkdir()
    write_jsonl(folder / "wire.jsonl", ASEAN)
    with monkeypatch.context() as patch:
        patch.setattr(db, "MIGRATIONS", migrations_before(9))
        async with await Engine.open(settings, embedder=FakeEmbedder()) as engine:
            await engine.index([folder])
        before = await answers(settings)
    drop_local_day(data)
    assert fts_hash_bytes(data) == {"passages_fts": None, "own_fts": None}
    assert await answers(settings) == before
    assert fts_hash_bytes(data) == {"passages_fts": FTS_HASH_BYTES, "own_fts": FTS_HASH_BYTES}
    write_jsonl(folder / "more.jsonl", MERCOSUR)
    async with await Engine.open(settings, embedder=FakeEmbedder()) as engine:
        assert (await engine.index([folder])).articles_added == 1


async def test_a_store_from_before_migration_10_dates_by_utc_days_until_its_articles_are_indexed_again(
    make_settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Rows stored before the outlet's own day was kept are cited and filtered by their UTC day, as
    they were; the next indexing run stores the day (the article's content hash changed)."""
    data, folder = tmp_path / "data", tmp_path / "news"
    settings = make_settings(data)
    folder.mkdir()
    write_jsonl(folder / "wire.jsonl", ASEAN | {"published": "Rabu, 8 Juni 2022 06:30 WIB"})
    with monkeypatch.context() as patch:
        patch.setattr(db, "MIGRATIONS", migrations_before(10))
        async with await Engine.open(settings, embedder=FakeEmbedder()) as engine:
            await engine.index([folder])
    drop_local_day(data)
    with sqlite3.connect(data / db.DB_NAME) as conn:  # the old code hashed the article without its day
        conn.execute("UPDATE articles SET content_hash = 'before-migration-10'")

    async def cited(since: str) -> list[str]:
        async with await Engine.open(settings, embedder=FakeEmbedder()) as engine:
            return [r.citation for r in (await engine.ask(QUESTION, filters=Filters(since=since))).results]

    assert "7 Jun 2022" in (await cited("2022-06-07"))[0] and await cited("2022-06-08") == []
    async with await Engine.open(settings, embedder=FakeEmbedder()) as engine:
        assert (await engine.index([folder])).articles_updated == 1
    assert "8 Jun 2022" in (await cited("2022-06-08"))[0]


async def test_a_store_from_before_migration_11_indexes_each_servers_own_passages_apart(
    make_settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Servers' own articles stored before each server had a keyword index of its own are put in
    it when the store opens (saying so first: ~1.6 s per 18,000 of them): each server finds its
    own by their words, and only its own."""
    data = tmp_path / "data"
    settings = make_settings(data)
    ours = own_article("Zaporizhzhia plant", "Envoys inspected the plant.")
    theirs = own_article("Zaporizhzhia news", "A news item about the plant.")
    with monkeypatch.context() as patch:
        patch.setattr(db, "MIGRATIONS", tuple(m for m in MIGRATIONS if m[0] < 11))
        async with await Engine.open(settings, embedder=FakeEmbedder()) as engine:
            for article, server in ((ours, 111), (theirs, 222)):
                await engine.add_articles([article], scopes={article.id: [server]})
    with sqlite3.connect(data / db.DB_NAME) as conn:
        assert conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'own_guild_fts'").fetchone() is None
    with caplog.at_level(logging.WARNING):
        async with await Engine.open(settings, embedder=FakeEmbedder()) as engine:  # migrates
            gen = await engine.generation()
    said = "indexing 2 passage(s) of servers' own articles by server, once after a schema migration"
    assert [r.getMessage() for r in caplog.records if said in r.getMessage()] != []
    stored, fresh = server_index(data)
    assert stored == fresh and len({doc // OWN_SLOT for _, doc, *_ in stored}) == 2
    title = "SELECT a.title FROM passages p JOIN articles a ON a.id = p.article_id WHERE p.id = ?"
    with sqlite3.connect(data / db.DB_NAME) as conn:
        found = {
            server: own_keywords.own_matches(conn, ["zaporizhzhia", "plant"], gen, Filters(), Scope(server))
            for server in (111, 222)
        }
        titles = {
            server: [conn.execute(title, (pid,)).fetchone()[0] for pid in ids]
            for server, ids in found.items()
        }
    assert titles == {111: [ours.title], 222: [theirs.title]}


async def test_a_new_store_says_nothing_while_its_tables_are_made(
    make_settings, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The slow migrations' warnings are for stores with rows to work through, not for every start."""
    with caplog.at_level(logging.WARNING):
        async with await Engine.open(make_settings(tmp_path / "data"), embedder=FakeEmbedder()):
            pass
    assert caplog.records == []


HOLD_OPEN = """
import asyncio, sys
from pathlib import Path
from foreign_desk.index.store.db import Store

async def main():
    store = await Store.open(Path(sys.argv[1]))
    print("open", flush=True)
    await asyncio.to_thread(sys.stdin.read)
    await store.close()

asyncio.run(main())
"""


async def test_an_upgrade_is_refused_while_a_process_of_the_version_before_has_the_data_dir_open(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Upgrading one of two bot processes (or with an `index` still running): the new version
    migrated the tables under the old one, which went on writing as it knew them. It refuses now,
    in one line and with nothing migrated, and migrates once it is alone."""
    data = tmp_path / "data"
    await (await db.Store.open(data)).close()  # made by this version: the version before, below
    later = MIGRATIONS[-1][0] + 1
    newer = (*MIGRATIONS, (later, "CREATE TABLE added_later (x INTEGER);"))
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-c", HOLD_OPEN, str(data)]
    with subprocess.Popen(
        command, cwd=ROOT, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    ) as old:
        try:
            assert old.stdout is not None and old.stdout.readline() == "open\n"
            before = dump(data)
            monkeypatch.setattr(db, "MIGRATIONS", newer)  # this process: the newer version
            with pytest.raises(StoreBusy, match=r"must upgrade the data folder's tables, and another"):
                await db.Store.open(data)
            assert dump(data) == before
        finally:
            old.communicate("", timeout=60)  # the old process stops
    assert old.returncode == 0
    await (await db.Store.open(data)).close()
    with sqlite3.connect(data / db.DB_NAME) as conn:
        assert conn.execute("SELECT max(version) FROM schema_migrations").fetchone()[0] == later
    conn.close()


def test_the_upgrade_guard_knows_the_feeds_newest_migration() -> None:
    """``store.upgrade`` names the feeds' newest migration without importing the feeds package
    (an answering process would pay ~0.3 s for it): a new feeds migration must be named there too."""
    from foreign_desk.index.feeds.schema import MIGRATIONS, MIGRATIONS_TABLE
    from foreign_desk.index.store.upgrade import FEEDS_LATEST, FEEDS_TABLE

    assert (MIGRATIONS_TABLE, max(version for version, _ in MIGRATIONS)) == (FEEDS_TABLE, FEEDS_LATEST)
