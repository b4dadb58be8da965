"""The evaluation sets: what corpus each is asked against, and which questions.

==================== ======================================== ====================================
set                  corpus                                   questions
==================== ======================================== ====================================
sample               the shipped sample article alone          ``sample.jsonl`` + off-topic
medium               ~100 mixed articles (the CI gate's)       own questions whose article is in it
                                                               + off-topic
large                ~1,400 mixed articles, built like the     ``foreign_affairs.jsonl`` + off-topic
                     product owner's hidden corpus
squad (held out)     1,202 Indonesian Wikipedia paragraphs     632 English questions, test part only
facqa                1,369 Indonesian news passages            3,117 Indonesian questions
tydiqa               943 Wikipedia passages, id and en         565 + 440 questions
panl-en2id/-id2en    6,642 sentences of the other language     1,000 sentences a direction
==================== ======================================== ====================================

The first three mirror the hidden sets the issue's targets are checked on. Every set is
indexed with the product's default settings (a passage vector is made of its sentences' vectors,
so they cost nothing extra).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from foreign_desk.index.evaluate import Question, load_questions

from bench.quality import facqa, mixed, panl, squad_crossling, tydiqa
from bench.quality.common import write_jsonl
from bench.quality.split import OFF_TOPIC_FILE, SAMPLE_FILE

PANL_QUESTIONS = 1000
"""Questions per PANL direction (the corpus keeps every sentence): the set is large and
measures one narrow thing, sentence-to-twin retrieval."""


@dataclass(frozen=True)
class EvalSet:
    """One corpus and the questions asked of it."""

    name: str
    write: Callable[[Path], Any]
    """Writes the corpus (and, for converted sets, ``questions.jsonl``) into a folder."""
    questions: Callable[[Path], list[Question]]
    """The set's questions, answerable and off-topic, given that folder."""
    held_out: bool = False
    """Measured, never tuned on: it has no tune part."""

    def corpus_files(self, folder: Path) -> list[Path]:
        """What to index: the article files, never the question file beside them."""
        return sorted(
            p for p in folder.iterdir() if p.suffix in (".jsonl", ".txt") and p.name != "questions.jsonl"
        )


def _own(answerable: Callable[[], list[Question]]) -> Callable[[Path], list[Question]]:
    return lambda folder: answerable() + load_questions(OFF_TOPIC_FILE)


def _in_corpus(profile: str) -> Callable[[], list[Question]]:
    """The foreign-affairs questions with a gold article in the corpus of ``profile``."""

    def questions() -> list[Question]:
        urls = mixed.corpus_urls(mixed.PROFILES[profile])
        return [q for q in load_questions(mixed.QUESTION_FILE) if set(q.gold_urls) & urls]

    return questions


def _converted(folder: Path) -> list[Question]:
    return load_questions(folder / "questions.jsonl")


def _panl(direction: str) -> EvalSet:
    def write(folder: Path) -> None:
        articles, questions = panl.convert(direction, PANL_QUESTIONS)
        write_jsonl(folder / "corpus.jsonl", articles)
        write_jsonl(folder / "questions.jsonl", questions)

    return EvalSet(f"panl-{direction}", write, _converted)


SETS: dict[str, EvalSet] = {
    s.name: s
    for s in (
        EvalSet("sample", mixed.write_sample, _own(lambda: load_questions(SAMPLE_FILE))),
        EvalSet(
            "medium",
            lambda folder: mixed.write_corpus(folder, mixed.PROFILES["medium"], "medium"),
            _own(_in_corpus("medium")),
        ),
        EvalSet(
            "large",
            lambda folder: mixed.write_corpus(folder, mixed.PROFILES["large"], "large"),
            _own(_in_corpus("large")),
        ),
        EvalSet("squad", squad_crossling.write, _converted, held_out=True),
        EvalSet("facqa", facqa.write, _converted),
        EvalSet("tydiqa", tydiqa.write, _converted),
        _panl("en2id"),
        _panl("id2en"),
    )
}
OWN = ("sample", "medium", "large")
