"""doctor finds a keyword index (``passages_fts``, ``own_fts``, ``own_guild_fts``) damaged or out
of step with the passages it indexes, and ``--repair`` indexes them again: each passage is found
by its words as before."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

import pytest
from click.testing import CliRunner
from foreign_desk.bot.cli import cli
from foreign_desk.index.engine import Engine
from foreign_desk.index.errors import StoreError
from foreign_desk.index.models import Scope
from foreign_desk.index.store.db import DB_NAME
from foreign_desk.index.store.doctor import READ_ONLY, diagnose
from foreign_desk.index.store.keyword_check import INDEXES, KeywordIndex
from foreign_desk.index.store.schema import OWN_SLOT

from tests.engine.test_indexing import ASEAN, MERCOSUR, write_jsonl
from tests.fake_embedder import FakeEmbedder

A = 111
SHARED, OWN, CHECK = (index.check for index in INDEXES)
WORDS = "vientiane OR montevideo OR daging"
"""Words only the shared ASEAN passage (Vientiane) or server A's own MERCOSUR passage hold."""
ASKED = {
    Scope(): ("Vientiane South China Sea code of conduct", ASEAN),
    Scope(A): ("Montevideo Mercosur", MERCOSUR),
}
"""What ``ask`` finds first in each scope."""
OUT_OF_STEP = "out of step with the passages it indexes: "
MALFORMED = "damaged: database disk image is malformed"
DAMAGES = {
    # passages_fts's 'delete' of the shared passage, which is not deleted
    "shared row lost": (
        SHARED,
        "INSERT INTO passages_fts(passages_fts, rowid, context, text) "
        "SELECT 'delete', id, context, text FROM passages WHERE unshared = 0",
        OUT_OF_STEP + "1 shared passage(s) not in it, 48 word(s) indexed differently",
    ),
    # its shadow table of row sizes, emptied (bm25 reads it)
    "shared sizes deleted": (
        SHARED,
        "DELETE FROM passages_fts_docsize",
        OUT_OF_STEP + "1 shared passage(s) not in it",
    ),
    # server A's passage in the shared corpus's index: its words match there
    "shared row no trigger wrote": (
        SHARED,
        "INSERT INTO passages_fts(rowid, context, text) "
        "SELECT id, context, text FROM passages WHERE unshared = 1",
        OUT_OF_STEP + "1 row(s) of no shared passage, 39 word(s) indexed differently",
    ),
    # a row of a passage that does not exist (deleted), its word still matching
    "shared row of no passage": (
        SHARED,
        "INSERT INTO passages_fts(rowid, context, text) VALUES (999, '', 'Vientiane')",
        OUT_OF_STEP + "1 row(s) of no shared passage, 1 word(s) indexed differently",
    ),
    "shared pages deleted": (SHARED, "DELETE FROM passages_fts_data WHERE id > 10", MALFORMED),
    # own_fts's 'delete' of server A's passage: its words no longer score it
    "own row lost": (
        OWN,
        "INSERT INTO own_fts(own_fts, rowid, context, text) "
        "SELECT 'delete', id, context, text FROM passages WHERE unshared = 1",
        OUT_OF_STEP + "1 unshared passage(s) not in it, 39 word(s) indexed differently",
    ),
    "own row no trigger wrote": (
        OWN,
        "INSERT INTO own_fts(rowid, context, text) SELECT id, context, text FROM passages WHERE unshared = 0",
        OUT_OF_STEP + "1 row(s) of no unshared passage, 48 word(s) indexed differently",
    ),
    "own pages deleted": (OWN, "DELETE FROM own_fts_data WHERE id > 10", MALFORMED),
    # the triggers' 'delete' of server A's rows, with no passage deleted or revoked
    "server rows lost": (
        CHECK,
        "INSERT INTO own_guild_fts(own_guild_fts, rowid, context, text) "
        "SELECT 'delete', :base + id, context, text FROM passages WHERE unshared = 1",
        OUT_OF_STEP + "1 server passage(s) not in it, 39 word(s) indexed differently",
    ),
    # the shared corpus's passages in server A's rows, as if it owned them
    "rows no trigger wrote": (
        CHECK,
        "INSERT INTO own_guild_fts(rowid, context, text) "
        "SELECT :base + id, context, text FROM passages WHERE unshared = 0",
        OUT_OF_STEP + "1 row(s) of no server passage, 48 word(s) indexed differently",
    ),
    # a row of A's indexed with other words than its passage's
    "other words": (
        CHECK,
        "INSERT INTO own_guild_fts(own_guild_fts, rowid, context, text) "
        "SELECT 'delete', :base + id, context, text FROM passages WHERE unshared = 1;"
        "INSERT INTO own_guild_fts(rowid, context, text) "
        "SELECT :base + id, context, 'Uruguay' FROM passages WHERE unshared = 1",
        OUT_OF_STEP + "38 word(s) indexed differently",
    ),
    # its index's pages (every segment; the averages and structure records are ids 1 and 10)
    "pages deleted": (CHECK, "DELETE FROM own_guild_fts_data WHERE id > 10", MALFORMED),
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


def found_by_words(data: Path) -> dict[str, list[int] | str]:
    """Each keyword index's rows matching ``WORDS``, best first (by ``bm25``, which reads their
    sizes too), as search reads them; or the error reading them raises."""
    found: dict[str, list[int] | str] = {}
    with closing(sqlite3.connect(data / DB_NAME)) as conn:
        for index in INDEXES:
            sql = f"SELECT rowid FROM {index.table} WHERE {index.table} MATCH ? ORDER BY rank"
            try:
                found[index.table] = [int(r[0]) for r in conn.execute(sql, (WORDS,))]
            except sqlite3.DatabaseError as exc:
                found[index.table] = str(exc)
    return found


def damage(data: Path, how: str) -> None:
    with closing(sqlite3.connect(data / DB_NAME)) as conn, conn:
        (slot,) = conn.execute("SELECT slot FROM own_guilds WHERE guild_id = ?", (A,)).fetchone()
        for sql in DAMAGES[how][1].split(";"):
            conn.execute(sql, {"base": slot * OWN_SLOT})


async def test_a_sound_index_passes(own_store: Path) -> None:
    found = {f.check: f for f in await diagnose(own_store)}
    assert found[SHARED].detail == "1 row(s), in step with the shared corpus's passages"
    assert found[OWN].detail == "1 row(s), in step with the passages outside the shared corpus"
    assert found[CHECK].detail == "1 row(s), in step with the servers' own passages"
    assert all(f.ok for f in found.values())


@pytest.mark.parametrize("how", DAMAGES)
async def test_a_damaged_keyword_index_is_found_and_indexed_again(
    own_store: Path, make_settings, how: str
) -> None:
    check, _, detail = DAMAGES[how]
    before = found_by_words(own_store)
    assert all(len(rows) == 1 for rows in before.values()), before
    damage(own_store, how)
    assert found_by_words(own_store) != before  # passages lost or found by words they lack, or an error

    found = {f.check: f for f in await diagnose(own_store)}
    assert not found[check].ok and found[check].detail == detail, found[check]
    assert [f.check for f in found.values() if not f.ok] == [check]  # nothing else is blamed

    repaired = await diagnose(own_store, repair=True)
    at = [f.check for f in repaired].index(check)
    assert [(f.check, f.ok) for f in repaired[at : at + 2]] == [(check, False), ("repair", True)], repaired
    assert repaired[at + 1].detail == f"indexed the {check} again: 1 row(s)"
    assert all(f.ok for f in repaired[at + 2 :]) and all(f.ok for f in await diagnose(own_store))
    assert found_by_words(own_store) == before
    async with await Engine.open(make_settings(own_store), embedder=FakeEmbedder()) as engine:
        for scope, (question, article) in ASKED.items():
            answer = await engine.ask(question, k=5, scope=scope)
            assert answer.results[0].article.title == article["title"]


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


STRAY = 1_000_000
"""The row id of a passage that does not exist."""


@pytest.fixture(params=INDEXES, ids=lambda index: index.table)
def stray_row(sample_copy: Path, request: pytest.FixtureRequest) -> KeywordIndex:
    """The sample store (no server's own articles) with a row no trigger wrote in a keyword index,
    of a passage that does not exist; that index."""
    index: KeywordIndex = request.param
    with closing(sqlite3.connect(sample_copy / DB_NAME)) as conn, conn:
        conn.execute(f"INSERT INTO {index.table}(rowid, context, text) VALUES ({STRAY}, '', 'stray words')")
    return index


def test_a_read_only_data_dir_is_checked_and_the_repair_it_cannot_do_named(
    stray_row: KeywordIndex, read_only: Path
) -> None:
    index = stray_row
    result = CliRunner().invoke(cli, ["--data-dir", str(read_only), "doctor", "--repair"])
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    stray = f"1 row(s) of no {index.of} passage, 2 word(s) indexed differently"
    at = lines.index(f"problem {index.check}: {OUT_OF_STEP}{stray}")
    assert lines[at + 1] == f"problem repair: {READ_ONLY.format(f'the {index.check}')}"
    assert [line for line in lines if line.startswith("problem")] == lines[at : at + 2]  # nothing else
    assert lines[-1] == "ok      sentence vectors: 6 rows intact"


@pytest.mark.parametrize("how", DAMAGES)
async def test_a_serving_process_refuses_a_damaged_keyword_index_until_doctor_repairs_it(
    own_store: Path, make_settings, how: str
) -> None:
    """Opening the store checks the keyword indexes (``keyword_spot``): a damaged or out-of-step
    one is never served; the refusal names the index and ``doctor --repair``, which clears it,
    and the same process answers again without a restart."""
    check = DAMAGES[how][0]
    damage(own_store, how)
    async with await Engine.open(make_settings(own_store), embedder=FakeEmbedder()) as engine:
        for scope, (question, _) in ASKED.items():
            with pytest.raises(StoreError) as refused:
                await engine.ask(question, k=5, scope=scope)
            message = str(refused.value)
            assert message.startswith(f"the {check} is ") and "\n" not in message
            assert message.endswith("run `foreign-desk doctor --repair` to index it again")
        await diagnose(own_store, repair=True)
        for scope, (question, article) in ASKED.items():
            answer = await engine.ask(question, k=5, scope=scope)
            assert answer.results[0].article.title == article["title"]
