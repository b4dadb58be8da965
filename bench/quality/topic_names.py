"""How the keyword side of the topic rule (``index/search/topic_names.py``) fares on a mixed corpus.

``python -m bench.quality.topic_names CORPUS [--sample N]``: CORPUS is a folder written by
``python -m bench.quality.mixed`` (``--profile large``: the ~1,400 articles the topic threshold was
measured on). Each article is cleaned and chunked as indexing does (its lede, the first sentence,
as stored), and weighed against 24 topics, 12 in each language, an article counting as on a topic
when its headline names it in either language (``LABELS``: the names, in folded words, a headline
about it holds). Prints, per topic and in all, the labelled pairs, how many the keyword side
catches (by headline, by lede), and how many it flags whose headline names none of the labels,
with a sample of those to read. Text only: no model, no index.

Only four of the 24 topics the dense side was measured on are recorded (``topics.py``); the
others here are chosen the same way (foreign news of the corpus, as a reader would type them).
"""

from __future__ import annotations

import argparse
import random
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from foreign_desk.index.article import ReadProblem
from foreign_desk.index.config import load_settings
from foreign_desk.index.indexing.prepare import Prepared, prepare
from foreign_desk.index.readers import discover, read_path
from foreign_desk.index.search.topic_names import ArticleWords, TopicName
from foreign_desk.index.text import tokens

LABELS: dict[str, tuple[str, ...]] = {
    "war in Ukraine": ("ukraine", "ukraina", "kyiv", "zelensky"),
    "Rohingya crisis in Myanmar": ("rohingya", "myanmar"),
    "humanitarian aid to Gaza": ("gaza",),
    "fighting in DR Congo": ("congo", "kongo", "m23", "goma"),
    "gang violence in Haiti": ("haiti",),
    "civil war in Sudan": ("sudan",),
    "Syria after Assad": ("syria", "suriah", "assad"),
    "Pope Francis": ("pope", "paus", "vatican", "vatikan"),
    "Israeli hostages held by Hamas": ("hostage", "hostages", "sandera", "hamas"),
    "Venezuela": ("venezuela", "maduro"),
    "Iran": ("iran", "tehran", "teheran"),
    "Pakistan": ("pakistan", "islamabad"),
    "gencatan senjata di Gaza": ("gaza",),
    "ancaman nuklir Korea Utara": ("korea utara", "korut", "north korea", "pyongyang", "kim jong"),
    "perang Rusia dan Ukraina": ("rusia", "russia", "ukraina", "ukraine", "putin", "zelensky", "kremlin"),
    "pengungsi Rohingya": ("rohingya",),
    "konflik Israel dan Palestina": ("israel", "palestina", "palestine", "palestinian"),
    "kebijakan tarif Trump": ("trump", "tarif", "tariff", "tariffs"),
    "hubungan Indonesia dan China": ("china", "cina", "tiongkok", "beijing"),
    "Arab Saudi": ("saudi",),
    "Thailand": ("thailand", "thai", "bangkok"),
    "perubahan iklim": ("iklim", "climate"),
    "terorisme": ("teroris", "terorisme", "terror", "terrorism", "terrorist", "isis", "densus"),
    "Korea Selatan": ("korea selatan", "korsel", "south korea", "seoul"),
}


@dataclass(frozen=True, slots=True)
class Read:
    """One article as the rule and the label see it."""

    title: str
    lede: str
    words: ArticleWords
    headline: str
    """The headline's tokens, each between spaces: a label is a phrase of it."""


def read_corpus(folder: Path) -> list[Read]:
    """Every article of ``folder`` with its lede as indexing stores it."""
    settings = load_settings(None, environ={})
    files, _ = discover([folder])
    out = []
    for path in files:
        for item in read_path(path):
            if isinstance(item, ReadProblem):
                continue
            prepared = prepare(item, settings)
            if isinstance(prepared, Prepared):
                title = prepared.article.title
                headline = f" {' '.join(tokens(title))} "
                out.append(Read(title, prepared.lede, ArticleWords.of(title, prepared.lede), headline))
    return out


def labelled(article: Read, names: Sequence[str]) -> bool:
    return any(f" {name} " in article.headline for name in names)


def measure(articles: Sequence[Read], sample: int) -> None:
    """Print the figures per topic and in all, then ``sample`` flagged pairs no label names."""
    totals = [0, 0, 0, 0, 0]  # labelled, caught, caught by headline, flagged, flagged unlabelled
    unlabelled: list[tuple[str, Read]] = []
    print("topic | labelled | caught (headline) | flagged | flagged, headline names no label")
    for topic, names in LABELS.items():
        name = TopicName.of(topic)
        by_headline = {id(a) for a in articles if name.content <= a.words.headline}
        flagged = [a for a in articles if name.named_by(a.words)]
        on = [a for a in articles if labelled(a, names)]
        caught = [a for a in flagged if labelled(a, names)]
        strays = [a for a in flagged if not labelled(a, names)]
        unlabelled += [(topic, a) for a in strays]
        row = [len(on), len(caught), sum(id(a) in by_headline for a in caught), len(flagged), len(strays)]
        totals = [t + r for t, r in zip(totals, row, strict=True)]
        print(f"{topic} | {row[0]} | {row[1]} ({row[2]}) | {row[3]} | {row[4]}")
    n_on, n_caught, n_headline, n_flagged, n_strays = totals
    pairs = len(articles) * len(LABELS)
    print(f"all {pairs:,} pairs | {n_on} | {n_caught} ({n_headline}) | {n_flagged} | {n_strays}")
    print(f"recall {n_caught / max(n_on, 1):.3f}")
    print(f"precision against the labels {1 - n_strays / max(n_flagged, 1):.3f}")
    for topic, article in random.Random(0).sample(unlabelled, min(sample, len(unlabelled))):
        print(f"\n[{topic}] {article.title}\n   lede: {article.lede[:240]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("corpus", type=Path, help="a folder written by python -m bench.quality.mixed")
    parser.add_argument("--sample", type=int, default=20, help="flagged pairs no label names, to read")
    args = parser.parse_args()
    measure(read_corpus(args.corpus), args.sample)


if __name__ == "__main__":
    main()
