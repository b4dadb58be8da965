"""The mixed foreign-affairs corpora: IndoSum (id), BBC 2025 (en), Detik 2025 (id).

``python -m bench.quality.mixed OUTDIR [--profile medium|large|all] [--indosum-intl N]
[--indosum-other N] [--bbc N] [--detik N]`` writes ``indosum.jsonl``, ``bbc.jsonl``,
``detik.jsonl`` (the project's JSON Lines article format) and ``manifest.json``. Index the
folder, then evaluate with the questions of ``bench/quality/foreign_affairs.jsonl`` whose
article is in it (:func:`questions_for`) and ``off_topic.jsonl``.

Subsets are deterministic (hash of the URL). Profiles (distractors added to the articles the
questions name):

======= ============= ============== ===== ======= ============ ========== ================
profile IndoSum intl. IndoSum other  BBC   Detik   question     articles   ~passages
                                                   articles
======= ============= ============== ===== ======= ============ ========== ================
medium  18            18             18    18      ~40% of them ~100       ~310
large   147 (all)     280            671   300     all          ~1,400     ~5,000
all     147           3,316          671   909     all          5,044      ~13,800
======= ============= ============== ===== ======= ============ ========== ================

``large`` is built like the product owner's hidden foreign-affairs corpus (about 1,400 real
articles of IndoSum, BBC 2025 and Detik 2025); ``medium`` is the CI gate's. Which question
articles a ``medium`` corpus holds depends on each URL's own hash only
(:func:`in_medium`), so adding a question never moves another one in or out. The shipped
sample article is not in these corpora: its questions are asked of it alone
(``bench/quality/sample.jsonl``). ``manifest.json`` gives exact counts; the passage estimate
packs paragraphs up to 160 words.

Source notes: IndoSum titles come from the URL slug; ``published`` is the CNN Indonesia URL
timestamp (WIB, written with its +07:00 offset) or else the aggregator's crawl time (UTC, usually within a
day after publication). BBC paragraphs were glued by the scrape (``century.The``) and are split
again here. Detik dates are WIB; the ``SCROLL TO CONTINUE WITH CONTENT`` / ``ADVERTISEMENT``
ad markers are dropped; URLs repeated in the CSV are kept once.
"""

from __future__ import annotations

import csv
import re
import shutil
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

from bench.quality.common import (
    QUESTIONS_DIR,
    REPO_ROOT,
    article,
    data_file,
    estimate_passages,
    iso_utc,
    out_dir_parser,
    paragraphs_of,
    read_jsonl,
    report,
    stable_key,
    stable_sample,
    wib_iso,
    write_jsonl,
)

SAMPLE_NAME = "000_168531b99f2d6a35.txt"
SAMPLE_PATH = REPO_ROOT / "corpus" / SAMPLE_NAME
QUESTION_FILE = QUESTIONS_DIR / "foreign_affairs.jsonl"
GROUPS = ("indosum-intl", "indosum-other", "bbc", "detik")


@dataclass(frozen=True)
class Profile:
    """How many distractors of each group to add, and what share of the question articles."""

    indosum_intl: int | None
    indosum_other: int | None
    bbc: int | None
    detik: int | None
    question_share: float = 1.0
    """Keep a question article when its URL's hash falls below this (1.0: every one)."""

    def count(self, group: str) -> int | None:
        return getattr(self, group.replace("-", "_"))


PROFILES: dict[str, Profile] = {
    "medium": Profile(indosum_intl=18, indosum_other=18, bbc=18, detik=18, question_share=0.4),
    "large": Profile(indosum_intl=None, indosum_other=280, bbc=None, detik=300),
    "all": Profile(indosum_intl=None, indosum_other=None, bbc=None, detik=None),
}

INDOSUM_SOURCES = {
    "cnn indonesia": "CNN Indonesia",
    "kumparan": "kumparan",
    "dailysocial.id": "DailySocial",
    "antaranews": "ANTARA",
    "merdeka": "Merdeka",
    "juara.net": "Juara.net",
    "suara": "Suara",
    "rimanews": "Rimanews",
    "goal indonesia": "Goal Indonesia",
    "poskotanews": "Pos Kota",
}
DETIK_AD_LINES = frozenset({"SCROLL TO CONTINUE WITH CONTENT", "ADVERTISEMENT"})


# -- IndoSum -----------------------------------------------------------------------------------


def _indosum_published(raw: dict[str, Any]) -> str | None:
    if raw.get("published_from_url"):
        return wib_iso(datetime.fromisoformat(raw["published_from_url"]))
    if raw.get("aggregator_timestamp_utc"):
        return iso_utc(datetime.fromisoformat(raw["aggregator_timestamp_utc"]))
    return None


def indosum_articles() -> dict[str, list[dict[str, Any]]]:
    """All 3,463 IndoSum dev articles, split into international-section and other."""
    groups: dict[str, list[dict[str, Any]]] = {"indosum-intl": [], "indosum-other": []}
    for raw in read_jsonl(data_file("indosum_dev", "indosum_dev_articles_dedup.jsonl")):
        slug = raw["title_from_url_slug"].strip()
        row = article(
            slug[:1].upper() + slug[1:],
            paragraphs_of(raw["text"]),
            url=raw["source_url"],
            source=INDOSUM_SOURCES.get(raw["source"], raw["source"]),
            published=_indosum_published(raw),
            language="id",
        )
        groups["indosum-intl" if raw["is_international_section"] else "indosum-other"].append(row)
    return groups


# -- BBC ---------------------------------------------------------------------------------------

_GLUED = re.compile(r"[.!?](?P<quotes>[\"'”’)\]“‘]*)(?=[A-Z])")
_INITIAL = re.compile(r"[A-Z]\.")


def split_glued_paragraphs(text: str) -> list[str]:
    """Undo the scrape's paragraph gluing: ``century.The`` becomes two paragraphs.

    A break is a sentence end (``.!?``), any quotes or brackets, then a capital letter with no
    space between. Closing quotes stay with the first paragraph, opening ones go with the next;
    a straight ``"`` closes when the paragraph so far has an odd number of them. ``U.S.A.`` is
    left alone (a capital followed by a dot after the break is an initial).
    """
    paragraphs: list[str] = []
    start = 0
    for match in _GLUED.finditer(text):
        after = match.end()
        if not match.group("quotes") and _INITIAL.match(text, after):
            continue
        cut = match.start() + 1
        for char in match.group("quotes"):
            if char in "“‘":
                break
            if char == '"' and text.count('"', start, cut) % 2 == 0:
                break
            cut += 1
        paragraphs.append(text[start:cut])
        start = cut
    paragraphs.append(text[start:])
    return [" ".join(p.split()) for p in paragraphs if p.strip()]


def bbc_articles() -> list[dict[str, Any]]:
    """The 671 distinct BBC News articles of January-March 2025 (one URL appears twice)."""
    seen: set[str] = set()
    rows: list[dict[str, Any]] = []
    with data_file("bbc_world_2025", "bbc_news_2025.csv").open(encoding="utf-8", newline="") as handle:
        for raw in csv.DictReader(handle):
            url = raw["url"].strip()
            if url in seen or not raw["content"].strip():
                continue
            seen.add(url)
            date = raw["publish_date"].strip()
            rows.append(
                article(
                    raw["headline"],
                    split_glued_paragraphs(raw["content"]),
                    url=url,
                    source="BBC News",
                    published=date if re.fullmatch(r"\d{4}-\d{2}-\d{2}", date) else None,
                    language="en",
                )
            )
    return rows


# -- Detik -------------------------------------------------------------------------------------


def detik_articles() -> list[dict[str, Any]]:
    """The 909 distinct Detik articles (title, URL, date, text only; the summaries are machine-made)."""
    csv.field_size_limit(max(csv.field_size_limit(), 10_000_000))
    seen: set[str] = set()
    rows: list[dict[str, Any]] = []
    with data_file("detik_2025", "data_berita.csv").open(encoding="utf-8", newline="") as handle:
        for raw in csv.DictReader(handle):
            url = raw["tautan"].strip()
            if url in seen:
                continue
            seen.add(url)
            paragraphs = [p for p in paragraphs_of(raw["isi_berita"]) if p not in DETIK_AD_LINES]
            rows.append(
                article(
                    raw["judul"],
                    paragraphs,
                    url=url,
                    source="Detik",
                    published=wib_iso(datetime.strptime(raw["tanggal"].strip(), "%m/%d/%Y %H:%M")),
                    language="id",
                )
            )
    return rows


# -- putting it together -----------------------------------------------------------------------


@cache
def all_articles() -> dict[str, tuple[dict[str, Any], ...]]:
    """Every article of the four groups, converted (read once per process)."""
    groups = {k: tuple(v) for k, v in indosum_articles().items()}
    groups["bbc"] = tuple(bbc_articles())
    groups["detik"] = tuple(detik_articles())
    return groups


def required_urls(question_file: Path = QUESTION_FILE) -> set[str]:
    """Every URL the questions of ``question_file`` name as gold (absent file: none)."""
    if not question_file.is_file():
        return set()
    return {url for row in read_jsonl(question_file) for url in row.get("gold_urls", ())}


def in_medium(url: str, share: float) -> bool:
    """Whether a question article belongs to a corpus keeping ``share`` of them: by its own hash."""
    return int(stable_key(url, "medium")[:8], 16) / 0x1_0000_0000 < share


def select(profile: Profile, required: Iterable[str] = ()) -> dict[str, list[dict[str, Any]]]:
    """The articles of ``profile``: each group's hash sample plus its share of ``required`` URLs."""
    needed = {url for url in required if in_medium(url, profile.question_share)}
    chosen: dict[str, list[dict[str, Any]]] = {}
    for group in GROUPS:
        rows = all_articles()[group]
        sample = stable_sample(rows, profile.count(group), key=lambda r: r["url"], salt=group)
        picked = {r["url"] for r in sample} | (needed & {r["url"] for r in rows})
        chosen[group] = [r for r in rows if r["url"] in picked]
    return chosen


def corpus_urls(profile: Profile) -> set[str]:
    """The URLs of every article a corpus of ``profile`` holds."""
    return {row["url"] for rows in select(profile, required_urls()).values() for row in rows}


def write_corpus(outdir: Path, profile: Profile, name: str = "custom") -> dict[str, Any]:
    """Write the corpus files of ``profile`` into ``outdir``; return the manifest."""
    chosen = select(profile, required_urls())
    outdir.mkdir(parents=True, exist_ok=True)
    files = {
        "indosum.jsonl": chosen["indosum-intl"] + chosen["indosum-other"],
        "bbc.jsonl": chosen["bbc"],
        "detik.jsonl": chosen["detik"],
    }
    manifest: dict[str, Any] = {"profile": name, "articles": 0, "approx_passages": 0}
    for filename, rows in files.items():
        manifest[filename] = write_jsonl(outdir / filename, rows)
        manifest["articles"] += len(rows)
        manifest["approx_passages"] += sum(estimate_passages(r["text"]) for r in rows)
    manifest["groups"] = {group: len(rows) for group, rows in chosen.items()}
    manifest["question_articles"] = len({u for u in required_urls() if in_medium(u, profile.question_share)})
    report(outdir, manifest)
    return manifest


def write_sample(outdir: Path) -> dict[str, Any]:
    """The one-article corpus: a copy of the shipped sample article."""
    outdir.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(SAMPLE_PATH, outdir / SAMPLE_NAME)
    manifest = {"profile": "sample", "articles": 1}
    report(outdir, manifest)
    return manifest


def main(argv: list[str] | None = None) -> int:
    parser = out_dir_parser(__doc__.split("\n\n")[0])
    parser.add_argument(
        "--profile", choices=sorted(PROFILES), default="large", help="size preset (default large)"
    )
    for group in GROUPS:
        parser.add_argument(
            f"--{group}", type=int, default=None, metavar="N", help=f"distractors from {group} (overrides)"
        )
    args = parser.parse_args(argv)
    base = PROFILES[args.profile]
    overrides = {g.replace("-", "_"): getattr(args, g.replace("-", "_")) for g in GROUPS}
    counts = {k: (v if v is not None else base.count(k)) for k, v in overrides.items()}
    profile = Profile(**counts, question_share=base.question_share)
    name = args.profile if profile == base else f"{args.profile}+custom"
    write_corpus(args.outdir, profile, name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
