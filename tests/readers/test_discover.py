"""Finding corpus files: recursion, order, hidden and non-article files, linked folders, missing paths."""

from __future__ import annotations

import sys
import types
from pathlib import Path

import pytest
from foreign_desk.index.readers import discover, read_path


def touch(path: Path, text: str = "Judul\n\nIsi artikel.\n") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_folders_are_walked_recursively_in_sorted_order(tmp_path: Path) -> None:
    for name in ["b.txt", "a.md", "sub/z.jsonl", "sub/deeper/c.markdown", "page.html", "old.htm"]:
        touch(tmp_path / name)
    files, problems = discover([tmp_path])
    assert problems == []
    assert [f.relative_to(tmp_path).as_posix() for f in files] == [
        "a.md",
        "b.txt",
        "old.htm",
        "page.html",
        "sub/deeper/c.markdown",
        "sub/z.jsonl",
    ]
    assert all(f.is_absolute() for f in files)


def test_gzipped_pages_are_found_walked_or_named(tmp_path: Path) -> None:
    """The HTML reader reads ``.html.gz``; finding them must not stop at the ``.gz``."""
    for name in ["saved/page.html.gz", "saved/OLD.HTM.GZ", "saved/dump.gz", "saved/readme.html.gz"]:
        touch(tmp_path / name)
    files, problems = discover([tmp_path])
    assert [f.name for f in files] == ["OLD.HTM.GZ", "page.html.gz"] and problems == []
    files, problems = discover([tmp_path / "saved/page.html.gz", tmp_path / "saved/dump.gz"])
    assert [f.name for f in files] == ["page.html.gz"] and "unsupported" in problems[0].reason


def test_hidden_and_non_article_files_are_skipped(tmp_path: Path) -> None:
    touch(tmp_path / "keep.txt")
    touch(tmp_path / ".draft.txt")
    touch(tmp_path / ".git" / "notes.txt")
    touch(tmp_path / "feeds.toml", "[[feeds]]\nurl='x'\n")
    touch(tmp_path / "README.md", "# About this corpus\n")
    touch(tmp_path / "data.csv", "a,b\n")
    files, problems = discover([str(tmp_path)])
    assert [f.name for f in files] == ["keep.txt"]
    assert problems == []


def test_missing_path_is_a_problem_not_an_error(tmp_path: Path) -> None:
    touch(tmp_path / "ok.txt")
    files, problems = discover([tmp_path / "ok.txt", tmp_path / "nope"])
    assert [f.name for f in files] == ["ok.txt"]
    assert len(problems) == 1
    assert problems[0].path.endswith("nope")
    assert "no such file" in problems[0].reason


def test_linked_folders_are_walked_once_and_loops_are_not_followed(tmp_path: Path) -> None:
    corpus, elsewhere = tmp_path / "corpus", tmp_path / "elsewhere"
    touch(corpus / "a.txt")
    touch(elsewhere / "b.txt")
    (corpus / "linked").symlink_to(elsewhere)
    (corpus / "again").symlink_to(elsewhere)  # a second link to it: read once
    (corpus / "up").symlink_to(tmp_path)  # holds the corpus: would walk it again, and all else
    (elsewhere / "back").symlink_to(elsewhere)
    (corpus / "drive").symlink_to(tmp_path / "unmounted")  # a linked folder whose drive is gone
    links: dict[str, Path] = {}
    files, problems = discover([corpus], links)
    assert files == [(corpus / "a.txt").resolve(), (elsewhere / "b.txt").resolve()]
    assert links == {str(corpus.resolve() / "again"): elsewhere.resolve()}  # the first link to it
    assert sorted((Path(p.path).name, p.reason) for p in problems) == [
        ("back", "symlink loop: a link to a folder that holds it"),
        ("drive", "broken symlink"),
        ("up", "symlink loop: a link to a folder that holds it"),
    ]


def test_explicit_file_with_unsupported_suffix_is_reported(tmp_path: Path) -> None:
    files, problems = discover([touch(tmp_path / "feeds.toml")])
    assert files == []
    assert "unsupported" in problems[0].reason


def test_paths_are_resolved_and_listed_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    touch(tmp_path / "one.txt")
    monkeypatch.chdir(tmp_path)
    files, _ = discover(["one.txt", tmp_path, "./one.txt"])
    assert files == [(tmp_path / "one.txt").resolve()]


def test_read_path_reports_unsupported_suffix(tmp_path: Path) -> None:
    [item] = list(read_path(touch(tmp_path / "notes.rtf")))
    assert not hasattr(item, "blocks")
    assert "unsupported" in item.reason


def test_html_goes_to_the_html_reader(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[Path] = []

    def fake_read(path: Path):
        seen.append(path)
        return iter(())

    fake = types.ModuleType("foreign_desk.index.readers.html")
    fake.read = fake_read  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "foreign_desk.index.readers.html", fake)
    page = touch(tmp_path / "page.HTM", "<html></html>")
    assert list(read_path(page)) == []
    assert seen == [page.resolve()]
