"""Each file of a data dir damaged at several offsets: ``ask`` repairs and answers as before, or
says what is wrong in one line; it never hangs and never answers from damaged vectors."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.faults.damage import CORRUPTIONS, QUESTION, Corruption, answer_of, cli, judge


@pytest.fixture(scope="module")
def expected(sample_data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> list[tuple[int, str, float]]:
    copy = tmp_path_factory.mktemp("baseline") / "data"
    shutil.copytree(sample_data_dir, copy, ignore=shutil.ignore_patterns("writer.lock"))
    proc = cli(copy, "ask", QUESTION, "--json")
    assert proc.returncode == 0, proc.stderr
    return answer_of(proc.stdout)


@pytest.mark.parametrize("corruption", CORRUPTIONS, ids=[c.name for c in CORRUPTIONS])
def test_damage_is_repaired_or_one_error_line(
    corruption: Corruption, sample_copy: Path, expected: list[tuple[int, str, float]]
) -> None:
    corruption.apply(sample_copy)
    outcome = judge(corruption.name, sample_copy, expected)
    assert outcome.ok, outcome.detail


def test_index_full_rebuilds_when_the_vectors_are_gone_everywhere(
    sample_copy: Path, expected: list[tuple[int, str, float]]
) -> None:
    """The issue's last reproducer: a missing vector file and no stored vectors; `index --full` hung."""
    next(c for c in CORRUPTIONS if c.name.startswith("faiss missing and")).apply(sample_copy)
    assert cli(sample_copy, "ask", QUESTION).returncode == 1
    proc = cli(sample_copy, "index", "--full", timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert answer_of(cli(sample_copy, "ask", QUESTION, "--json").stdout) == expected
