"""Hostile corpus files: what an attacker or an accident puts in a folder that gets indexed.

Each ``Case`` writes its file(s) into a folder and says what reading it must give: a problem
whose reason contains ``problem``, or (``problem`` empty) articles whose passages stay within
the chunker's bounds. ``run`` reads every case the way ``index`` does (discover, read, clean,
chunk) and reports each outcome with its time; ``python -m tests.faults.hostile DIR`` prints
them as JSON lines, so a test can run it in a subprocess under a timeout (a case that hangs
fails instead of hanging the suite) and ``bench.faults`` can time them.
"""

from __future__ import annotations

import base64
import json
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from foreign_desk.index.article import Article, ReadProblem
from foreign_desk.index.chunk import MAX_CONTEXT_CHARS, MAX_WORD_CHARS, TAIL_TOLERANCE, chunk_article
from foreign_desk.index.clean import clean_article
from foreign_desk.index.config import ChunkingSettings
from foreign_desk.index.indexing.prepare import embed_context
from foreign_desk.index.readers import discover, read_path

BIG = 200_000
"""Characters of a hostile paragraph: the size the issue's reproducers used."""

BILLION_LAUGHS = "\n".join(
    [
        "---",
        'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]',
        *(
            f"{name}: &{name} [{', '.join([f'*{prev}'] * 9)}]"
            for prev, name in zip("abcdefg", "bcdefgh", strict=True)
        ),
        f"title: [{', '.join(['*h'] * 9)}]",
        "---",
        "A body paragraph that would be indexed if the front matter were read.",
        "",
    ]
)
"""398 bytes of YAML that expand to 9**9 strings when aliases are followed."""


@dataclass(frozen=True)
class Case:
    name: str
    write: Callable[[Path], Path]
    """Writes the case under the given folder; returns the path to index."""
    problem: str = ""
    """A substring of every problem reported; empty when articles must come out."""


def _file(name: str, data: bytes | str) -> Callable[[Path], Path]:
    def write(folder: Path) -> Path:
        path = folder / name
        path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
        return path

    return write


def _txt(body: str) -> str:
    return f"A headline for a hostile article\n\n{body}\n\nA closing paragraph of ordinary words.\n"


def _md(body: str) -> str:
    return f"---\ntitle: A headline for a hostile article\n---\n{body}\n"


def _html(body: str) -> str:
    return (
        "<!DOCTYPE html><html lang='en'><head><title>A headline for a hostile article</title></head>"
        "<body><article><h1>A headline for a hostile article</h1>"
        "<p>An ordinary first paragraph that says what the article is about, in plain words.</p>"
        f"<p>{body}</p></article></body></html>"
    )


def _non_utf8_name(folder: Path) -> Path:
    path = Path(os.fsdecode(bytes(folder) + b"/caf\xe9-\xff.txt"))
    path.write_text(_txt("Ordinary words in a file whose name is Latin-1."), encoding="utf-8")
    return folder


def _symlink_loop(folder: Path) -> Path:
    (folder / "loop-a.txt").symlink_to(folder / "loop-b.txt")
    (folder / "loop-b.txt").symlink_to(folder / "loop-a.txt")
    return folder / "loop-a.txt"


def _loop_inside(folder: Path) -> Path:
    _symlink_loop(folder)
    return folder


def _token(n: int) -> str:
    return base64.b64encode(os.urandom(n * 3 // 4 + 3)).decode("ascii")[:n]


CASES: tuple[Case, ...] = (
    Case("yaml-alias-bomb", _file("bomb.md", BILLION_LAUGHS), "alias"),
    Case("yaml-deep", _file("deep.md", "---\ntitle: " + "[" * 30_000 + "\n---\nBody.\n"), "nested"),
    Case("yaml-long-integer", _file("int.md", f"---\ntitle: x\nn: {'1' * 5000}\n---\nBody.\n"), "unreadable"),
    Case("yaml-bad-date", _file("date.md", "---\ntitle: x\ndate: 2024-13-45\n---\nBody.\n")),  # its date lost
    Case("json-deep", _file("deep.jsonl", '{"title": ' + "[" * 30_000 + "\n"), "nested"),
    Case("json-long-integer", _file("int.jsonl", '{"title": "x", "n": ' + "1" * 5000 + "}\n"), "too long"),
    Case("binary", _file("binary.txt", b"\x00\x01\x02" * 1000), "binary"),
    Case("latin-1", _file("latin.txt", _txt("Caf\xe9 au lait").encode("latin-1"))),  # read as Windows-1252
    Case("latin-1-jsonl", _file("latin.jsonl", '{"title": "Caf\xe9"}\n'.encode("latin-1")), "not UTF-8"),
    Case("name-not-utf8", _non_utf8_name, "not UTF-8"),
    Case("symlink-loop-named", _symlink_loop, "symlink loop"),
    Case("symlink-loop-inside", _loop_inside, "symlink loop"),
    Case("missing-root", lambda folder: folder / "unmounted-drive", "no such file or folder"),
    Case("long-token-txt", _file("token.txt", _txt(_token(BIG)))),
    Case("long-token-jsonl", _file("token.jsonl", json.dumps({"title": "T", "text": _token(BIG)}) + "\n")),
    Case("long-token-md", _file("token.md", _md(_token(BIG)))),
    Case("long-token-html", _file("token.html", _html(_token(20_000)))),
    Case("punctuation-run", _file("equals.txt", _txt("Word " + "=" * BIG))),
    Case("abbreviation-run", _file("abbrev.txt", _txt("A. " * (BIG // 3)))),
    Case("one-word-lines", _file("lines.txt", _txt("a\n" * (BIG // 2)))),
    Case("bracket-run", _file("brackets.md", _md("[" * BIG))),
    Case("emphasis-openers", _file("stars.md", _md("*a " * (BIG // 3)))),
    Case("heading-hashes", _file("hashes.md", _md("# x" + "#" * BIG + "y\n\nA paragraph of plain words."))),
    Case("long-title", _file("title.txt", "T" * BIG + "\n\n" + "Ordinary words in a paragraph. " * 200)),
    Case("link-openers", _file("links.md", _md("](" * (BIG // 2)))),
)  # fmt: skip


@dataclass(frozen=True)
class Outcome:
    case: str
    ok: bool
    detail: str
    seconds: float


def passage_chars_bound(settings: ChunkingSettings) -> int:
    """The most characters the chunker may hand the embedder for one passage: its words (long
    ones cut at ``MAX_WORD_CHARS``), the headline and the section heading."""
    words = int(settings.max_words * (1 + TAIL_TOLERANCE)) * (MAX_WORD_CHARS + 1)
    return words + 2 * (MAX_CONTEXT_CHARS + 1)


def check(case: Case, folder: Path, settings: ChunkingSettings | None = None) -> Outcome:
    """Write ``case`` under ``folder`` and read it as ``index`` would; say whether it behaved."""
    settings = settings or ChunkingSettings()
    folder.mkdir(parents=True, exist_ok=True)
    target = case.write(folder)
    started = time.perf_counter()
    files, problems = discover([target])
    articles: list[Article] = []
    for path in files:
        for item in read_path(path):
            (problems if isinstance(item, ReadProblem) else articles).append(item)  # type: ignore[arg-type]
    longest = 0
    for article in articles:
        cleaned = clean_article(article)
        passages = chunk_article(cleaned, settings)
        longest = max([longest, *(len(embed_context(cleaned, p)) + 1 + len(p.text) for p in passages)])
    seconds = time.perf_counter() - started
    reasons = [p.reason for p in problems]
    if case.problem:
        ok = bool(problems) and all(case.problem in r for r in reasons) and not articles
        detail = "; ".join(reasons) or f"{len(articles)} article(s), no problem"
    else:
        ok = bool(articles) and longest <= passage_chars_bound(settings) and not problems
        detail = f"{len(articles)} article(s), longest passage {longest} chars; problems: {reasons}"
    return Outcome(case.name, ok, detail, seconds)


def run(root: Path, names: list[str] | None = None) -> list[Outcome]:
    """Check each case (all, or those named) in its own folder under ``root``."""
    chosen = [c for c in CASES if names is None or c.name in names]
    return [check(case, root / case.name) for case in chosen]


if __name__ == "__main__":
    for outcome in run(Path(sys.argv[1]), sys.argv[2:] or None):
        print(json.dumps(outcome.__dict__), flush=True)
