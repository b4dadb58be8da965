"""Which questions no passage can answer, as the product cleans and chunks their articles.

A question is reachable when some passage of one of its gold articles (every article, for a
question without ``gold_urls``) holds one of its answers: an answer that the cleaner drops or
the chunker cuts in two can never be found, and counting it as a miss would blame the ranking.
``tests/test_questions.py`` holds every own question to this; the fix for one that fails is a
shorter answer string, not a ranking change.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from foreign_desk.index.article import ReadProblem
from foreign_desk.index.chunk import chunk_article
from foreign_desk.index.clean import clean_article
from foreign_desk.index.config import ChunkingSettings
from foreign_desk.index.evaluate import Question, normalize
from foreign_desk.index.readers import discover, read_path


def passages_by_url(files: Sequence[Path], chunking: ChunkingSettings) -> dict[str | None, list[str]]:
    """Every article's passage texts (normalised), by URL (``None`` gathers those without one)."""
    found, _ = discover(files)
    out: dict[str | None, list[str]] = {}
    for path in found:
        for item in read_path(path):
            if isinstance(item, ReadProblem):
                continue
            passages = chunk_article(clean_article(item), chunking)
            out.setdefault(item.url, []).extend(normalize(p.text) for p in passages)
    return out


def unreachable(questions: Sequence[Question], files: Sequence[Path], chunking: ChunkingSettings) -> set[str]:
    """The questions (by text) that have answers and no passage holding one."""
    passages = passages_by_url(files, chunking)
    everything = [text for texts in passages.values() for text in texts]
    missing = set()
    for question in questions:
        answers = [normalize(a) for a in question.answers]
        if not answers:
            continue
        pool = (
            [t for url in question.gold_urls for t in passages.get(url, [])]
            if question.gold_urls
            else everything
        )
        if not any(answer in text for text in pool for answer in answers):
            missing.add(question.question)
    return missing
