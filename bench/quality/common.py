"""Shared helpers of the converters: where the data is, stable sampling, writing JSON Lines."""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")

REPO_ROOT = Path(__file__).resolve().parents[2]
DATA_ENV = "FOREIGN_DESK_SHARED_DATA"
QUESTIONS_DIR = Path(__file__).resolve().parent
TUNE_SHARE = 0.4
"""Share of each question set kept for tuning; the rest is the test part, reported and never tuned on."""
SPLITS = ("tune", "test")
WIB = timedelta(hours=7)
"""Western Indonesia Time: Detik dates and CNN Indonesia URL timestamps are local WIB times."""


class DataMissing(RuntimeError):
    """The shared data folder (or a file in it) is not where it should be."""


def data_dir() -> Path:
    """The shared data folder: ``$FOREIGN_DESK_SHARED_DATA``, else ``shared/data`` beside the
    repository or beside one of its parent folders (a clone may sit deeper than the original)."""
    configured = os.environ.get(DATA_ENV)
    if configured:
        path = Path(configured).expanduser()
        if not path.is_dir():
            raise DataMissing(f"shared data folder not found: ${DATA_ENV}={configured}")
        return path
    candidates = [parent / "shared" / "data" for parent in REPO_ROOT.parents]
    found = next((path for path in candidates if path.is_dir()), None)
    if found is None:
        raise DataMissing(f"shared data folder not found: {candidates[0]} (set ${DATA_ENV} to override)")
    return found


def data_file(*parts: str) -> Path:
    """A file inside the shared data folder, with a clear error when it is absent."""
    path = data_dir().joinpath(*parts)
    if not path.is_file():
        raise DataMissing(f"shared data file not found: {path}")
    return path


def read_jsonl(path: Path) -> Iterator[dict[str, Any]]:
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                yield json.loads(line)


def write_jsonl(path: Path, rows: Iterable[Mapping[str, Any]]) -> int:
    """Write ``rows`` one JSON object a line (UTF-8, not ASCII-escaped); return how many."""
    path.parent.mkdir(parents=True, exist_ok=True)
    count = 0
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("w", encoding="utf-8", newline="\n") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
            count += 1
    tmp.replace(path)
    return count


def stable_key(text: str, salt: str = "") -> str:
    return hashlib.sha1(f"{salt}\x00{text}".encode()).hexdigest()


def stable_sample(items: Sequence[T], n: int | None, key: Any, salt: str = "") -> list[T]:
    """``n`` items chosen by hash of ``key(item)``: the same whatever order or Python run.

    Returned in their original order; ``n`` of ``None`` (or more than there are) keeps all.
    """
    if n is None or n >= len(items):
        return list(items)
    chosen = set(sorted(range(len(items)), key=lambda i: stable_key(str(key(items[i])), salt))[: max(n, 0)])
    return [item for i, item in enumerate(items) if i in chosen]


def split_for(key: str, salt: str) -> str:
    """``"tune"`` or ``"test"`` from ``key``'s own hash: the same whatever else is in the set.

    For converted sets, whose questions come from the data: a question keeps its part when the
    set is sampled (``--limit``) or grows.
    """
    return "tune" if int(stable_key(key, salt)[:8], 16) / 0x1_0000_0000 < TUNE_SHARE else "test"


def assign_splits(rows: Sequence[dict[str, Any]], stratum: Any, salt: str) -> int:
    """Give every row without a ``"split"`` one, keeping each stratum near ``TUNE_SHARE`` tune.

    For hand-written files, whose splits are then recorded: rows that already have a split keep
    it; within each ``stratum(row)`` the new rows, in hash order of their question, fill the
    tune part up to ``round(TUNE_SHARE * size)``. Returns how many rows were assigned.
    """
    groups: dict[Any, list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault(stratum(row), []).append(row)
    assigned = 0
    for group in groups.values():
        tune = sum(1 for row in group if row.get("split") == "tune")
        wanted = round(TUNE_SHARE * len(group))
        new = sorted((r for r in group if "split" not in r), key=lambda r: stable_key(r["question"], salt))
        for row in new:
            row["split"] = "tune" if tune < wanted else "test"
            tune += row["split"] == "tune"
            assigned += 1
    return assigned


def headline_from(text: str, words: int = 10) -> str:
    """A stand-in headline for a set whose passages have none: its first words.

    A made-up constant prefix ("FacQA p00042") would be embedded with every passage and make
    them all look alike; the passage's own opening words add nothing foreign.
    """
    tokens = text.split()
    return " ".join(tokens[:words]) + ("…" if len(tokens) > words else "")


def article(
    title: str,
    paragraphs: Iterable[str],
    *,
    url: str | None,
    source: str | None,
    published: str | None,
    language: str,
    **extra: Any,
) -> dict[str, Any]:
    """One line of the project's JSON Lines article format; paragraphs joined by blank lines."""
    body = [" ".join(p.split()) for p in paragraphs]
    row: dict[str, Any] = {
        "title": " ".join(title.split()),
        "text": "\n\n".join(p for p in body if p),
        "url": url,
        "source": source,
        "published": published,
        "language": language,
    }
    row.update(extra)
    return row


def paragraphs_of(text: str) -> list[str]:
    """Split on blank lines (or single newlines), whitespace inside a paragraph collapsed."""
    return [" ".join(p.split()) for p in re.split(r"\n\s*\n|\n", text) if p.strip()]


def iso_utc(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def wib_iso(moment: datetime) -> str:
    """A naive WIB (UTC+7) local time written with its offset, as the outlet printed it, so that
    the product keeps the outlet's own day (``2022-06-08T06:30:00+07:00``)."""
    return moment.replace(tzinfo=timezone(WIB)).isoformat()


def estimate_passages(text: str, max_words: int = 160, min_words: int = 40) -> int:
    """Rough passage count of the default chunker (paragraphs packed up to ``max_words``)."""
    count, words = 0, 0
    for paragraph in text.split("\n\n"):
        n = len(paragraph.split())
        while n > max_words:
            if words:
                count, words = count + 1, 0
            count, n = count + 1, n - max_words
        if words and words + n > max_words:
            count, words = count + 1, 0
        words += n
    if words >= min_words or (words and count == 0):
        count += 1
    return count


def out_dir_parser(description: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("outdir", type=Path, help="folder to write into (created; files replaced)")
    return parser


def write_set(
    outdir: Path,
    dataset: str,
    articles: Sequence[dict[str, Any]],
    questions: Sequence[dict[str, Any]],
    kinds: Sequence[str],
    **extra: Any,
) -> dict[str, Any]:
    """Write a set's ``corpus.jsonl`` and ``questions.jsonl`` and its manifest; return the manifest."""
    manifest = {
        "dataset": dataset,
        "articles": write_jsonl(outdir / "corpus.jsonl", articles),
        "questions": write_jsonl(outdir / "questions.jsonl", questions),
        "approx_passages": sum(estimate_passages(a["text"]) for a in articles),
        **extra,
        "kinds": list(kinds),
    }
    report(outdir, manifest)
    return manifest


def report(outdir: Path, written: Mapping[str, Any]) -> None:
    """Write ``manifest.json`` (what was written, with counts) and print a one-line summary."""
    outdir.mkdir(parents=True, exist_ok=True)
    (outdir / "manifest.json").write_text(json.dumps(written, indent=2, ensure_ascii=False) + "\n", "utf-8")
    parts = ", ".join(f"{k}={v}" for k, v in written.items() if not isinstance(v, dict | list))
    print(f"{outdir}: {parts}")


def specific_answers(
    answers: Iterable[str], gold: int, normalized_texts: Sequence[str], twins: Collection[int] = ()
) -> list[str]:
    """The ``answers`` found in text ``gold`` and in no other text (all compared normalised)
    but its ``twins`` (copies of the same passage, which answer as well, so they must hold the
    answer as written: ``"1,2 juta"`` is not in a copy that reads ``"1, 2 juta"``).

    A short answer such as ``"PBB"`` or ``"60"`` would also match unrelated passages and count a
    wrong result as found; such answers are left out (the question keeps its gold title).
    """
    from foreign_desk.index.evaluate import normalize

    kept: list[str] = []
    for answer in answers:
        needle = normalize(answer)
        if not needle or any(needle not in normalized_texts[i] for i in (gold, *twins)):
            continue
        if any(needle in text for i, text in enumerate(normalized_texts) if i != gold and i not in twins):
            continue
        if answer not in kept:
            kept.append(answer)
    return kept


def question(text: str, kind: str, answers: Sequence[str] = (), gold_titles: Sequence[str] = (), **meta: Any):
    """One line of a question file (``index.evaluate`` format), extra keys kept as they are."""
    row: dict[str, Any] = {"question": " ".join(text.split()), "kind": kind}
    if answers:
        row["answers"] = list(answers)
    if gold_titles:
        row["gold_titles"] = list(gold_titles)
    row.update(meta)
    return row
