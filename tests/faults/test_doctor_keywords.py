"""doctor finds the servers' keyword index (``own_guild_fts``) damaged or out of step with the
passages it indexes, and ``--repair`` indexes them again: the server finds its own articles by
their words as before."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

import pytest
from click.testing import CliRunner
from foreign_desk.bot.cli import cli
from foreign_desk.index.engine import Engine
from foreign_desk.index.models import Filters, Scope
from foreign_desk.index.store import own_keywords
from foreign_desk.index.store.db import DB_NAME
from foreign_desk.index.store.doctor import READ_ONLY, diagnose
from foreign_desk.index.store.schema import OWN_SLOT

from tests.engine.test_indexing import ASEAN, MERCOSUR, write_jsonl
from tests.fake_embedder import FakeEmbedder

A = 111
CHECK = "servers' keyword index"
WORDS = ["montevideo", "mercosur", "daging"]
"""Words only server A's own article (MERCOSUR) holds."""
OUT_OF_STEP = "out of step with the passages it indexes: "
DAMAGES = {
    # the triggers' 'delete' of server A's rows, with no passage deleted or revoked
    "server rows lost": (
        "INSERT INTO own_guild_fts(own_guild_fts, rowid, context, text) "
        "SELECT 'delete', :base + id, context, text FROM passages WHERE unshared = 1",
        OUT_OF_STEP + "1 server passage(s) not in it, 39 word(s) indexed differently",
    ),
    # the shared corpus's passages in server A's rows, as if it owned them
    "rows no trigger wrote": (
        "INSERT INTO own_guild_fts(rowid, context, text) "
        "SELECT :base + id, context, text FROM passages WHERE unshared = 0",
        OUT_OF_STEP + "1 row(s) of no server passage, 48 word(s) indexed differently",
    ),
    # a row of A's indexed with other words than its passage's
    "other words": (
        "INSERT INTO own_guild_fts(own_guild_fts, rowid, context, text) "
        "SELECT 'delete', :base + id, context, text FROM passages WHERE unshared = 1;"
        "INSERT INTO own_guild_fts(rowid, context, text) "
        "SELECT :base + id, context, 'Uruguay' FROM passages WHERE unshared = 1",
        OUT_OF_STEP + "38 word(s) indexed differently",
    ),
    # its index's pages (every segment; the averages and structure records are ids 1 and 10)
    "pages deleted": (
        "DELETE FROM own_guild_fts_data WHERE id > 10",
        "damaged: database disk image is malformed",
    ),
}


@pytest.fixture
async def own_store(make_settings, tmp_path: Path) -> Path:
    """A data dir where server A owns MERCOSUR (one passage) and the shared corpus has ASEAN."""
    folder = tmp_path / "news"
    folder.mkdir()
    write_jsonl(folder / "wire.jsonl", ASEAN, MERCOSUR)
    data = tmp_path / "data"
    async with await Engine.open(make_settings(data), embedder=FakeEmbedder()) as engine:
        await engine.index([folder])
        uid = next(a.id for a in await engine.latest(10) if a.title == MERCOSUR["title"])
        await engine.store.scopes.grant([(uid, A)])
        await engine.store.scopes.revoke(0, [uid])
    return data


def own_matches(data: Path) -> list[int]:
    """Server A's passages its keyword search finds by ``WORDS``."""
    with closing(sqlite3.connect(data / DB_NAME)) as conn:
        gen = int(conn.execute("SELECT value FROM meta WHERE key = 'generation'").fetchone()[0])
        return sorted(own_keywords.own_matches(conn, WORDS, gen, Filters(), Scope(A)))


def damage(data: Path, how: str) -> None:
    with closing(sqlite3.connect(data / DB_NAME)) as conn, conn:
        (slot,) = conn.execute("SELECT slot FROM own_guilds WHERE guild_id = ?", (A,)).fetchone()
        for sql in DAMAGES[how][0].split(";"):
            conn.execute(sql, {"base": slot * OWN_SLOT})


async def test_a_sound_index_passes(own_store: Path) -> None:
    found = {f.check: f for f in await diagnose(own_store)}
    assert found[CHECK].ok and found[CHECK].detail == "1 row(s), in step with the servers' own passages"
    assert all(f.ok for f in found.values())


@pytest.mark.parametrize("how", DAMAGES)
async def test_a_damaged_server_keyword_index_is_found_and_indexed_again(
    own_store: Path, make_settings, how: str
) -> None:
    before = own_matches(own_store)
    assert len(before) == 1
    damage(own_store, how)
    if how == "server rows lost":  # what a user would notice: the server's article not found by its words
        assert own_matches(own_store) == []
    elif how == "pages deleted":
        with pytest.raises(sqlite3.DatabaseError, match="malformed"):
            own_matches(own_store)

    found = {f.check: f for f in await diagnose(own_store)}
    assert not found[CHECK].ok and found[CHECK].detail == DAMAGES[how][1], found[CHECK]
    assert [f.check for f in found.values() if not f.ok] == [CHECK]  # nothing else is blamed

    repaired = await diagnose(own_store, repair=True)
    checks = [(f.check, f.ok) for f in repaired]
    assert checks[-3:] == [(CHECK, False), ("repair", True), ("sentence vectors", True)], repaired
    assert repaired[-2].detail == "indexed the servers' keyword index again: 1 row(s)"
    assert all(f.ok for f in await diagnose(own_store))
    assert own_matches(own_store) == before
    async with await Engine.open(make_settings(own_store), embedder=FakeEmbedder()) as engine:
        answer = await engine.ask("Montevideo Mercosur", k=5, scope=Scope(A))
        assert answer.results[0].article.title == MERCOSUR["title"]


def test_doctor_says_so_and_its_repair_clears_it(own_store: Path) -> None:
    damage(own_store, "server rows lost")
    result = CliRunner().invoke(cli, ["--data-dir", str(own_store), "doctor"])
    assert result.exit_code == 1
    assert f"problem {CHECK}: {OUT_OF_STEP}1 server passage(s) not in it" in result.stdout
    assert "`foreign-desk doctor --repair` rebuilds what can be rebuilt" in result.stderr
    result = CliRunner().invoke(cli, ["--data-dir", str(own_store), "doctor", "--repair"])
    assert result.exit_code == 0, result.output
    assert f"ok      repair: indexed the {CHECK} again: 1 row(s)\n" in result.stdout
    result = CliRunner().invoke(cli, ["--data-dir", str(own_store), "doctor"])
    assert result.exit_code == 0 and f"ok      {CHECK}: 1 row(s), in step" in result.stdout


@pytest.fixture
def stray_row(sample_copy: Path) -> Path:
    """The sample store (no server's own articles) with one row no trigger wrote in the index."""
    with closing(sqlite3.connect(sample_copy / DB_NAME)) as conn, conn:
        conn.execute("INSERT INTO own_guild_fts(rowid, context, text) VALUES (1, '', 'stray words')")
    return sample_copy


def test_a_read_only_data_dir_is_checked_and_the_repair_it_cannot_do_named(
    stray_row: Path, read_only: Path
) -> None:
    result = CliRunner().invoke(cli, ["--data-dir", str(read_only), "doctor", "--repair"])
    assert result.exit_code == 1
    assert result.stdout.splitlines()[-3:] == [
        f"problem {CHECK}: {OUT_OF_STEP}1 row(s) of no server passage, 2 word(s) indexed differently",
        f"problem repair: {READ_ONLY.format(f'the {CHECK}')}",
        "ok      sentence vectors: 6 rows intact",
    ]
