"""Record the tuning/test split of the hand-written question files.

    python -m bench.quality.split          # assigns a "split" to every line that has none

Every question of ``sample.jsonl``, ``foreign_affairs.jsonl`` and ``off_topic.jsonl`` carries
``"split": "tune"`` or ``"test"``, recorded in the file, so that what is tuned on and what is
reported never change behind anyone's back. About 40% tune (``common.TUNE_SHARE``), balanced
within each kind (and, for the foreign-affairs questions, within the medium corpus); a line
keeps its split forever once written. Choose weights and thresholds on the tune part only
(``python -m bench.quality.run --part tune``); report the test part.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.quality import mixed
from bench.quality.common import QUESTIONS_DIR, assign_splits, read_jsonl, write_jsonl

SAMPLE_FILE = QUESTIONS_DIR / "sample.jsonl"
OFF_TOPIC_FILE = QUESTIONS_DIR / "off_topic.jsonl"


def _medium_share(row: dict[str, Any]) -> bool:
    share = mixed.PROFILES["medium"].question_share
    return any(mixed.in_medium(url, share) for url in row.get("gold_urls", ()))


STRATA: dict[Path, Callable[[dict[str, Any]], Any]] = {
    SAMPLE_FILE: lambda row: row["kind"],
    mixed.QUESTION_FILE: lambda row: (row["kind"], _medium_share(row)),
    OFF_TOPIC_FILE: lambda row: tuple(row.get("tags", ())),
}


def record(path: Path) -> Counter[str]:
    """Assign the missing splits of one file (rewritten only when something changed)."""
    rows = list(read_jsonl(path))
    if assign_splits(rows, STRATA[path], salt=path.name):
        write_jsonl(path, rows)
    return Counter(row["split"] for row in rows)


def main(argv: list[str] | None = None) -> int:
    for path in STRATA:
        print(f"{path.name}: {json.dumps(dict(sorted(record(path).items())))}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
