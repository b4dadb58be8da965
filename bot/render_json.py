"""The ``--json`` shapes of the CLI: a contract other tooling relies on (extend, never rename)."""

from __future__ import annotations

import dataclasses
from typing import Any

from foreign_desk.index.models import Answer, ArticleSummary, EngineStats, Result


def article_json(ref: Any) -> dict[str, Any]:
    return {
        "id": ref.id,
        "title": ref.title,
        "source": ref.source,
        "url": ref.url,
        "published": ref.published,
        "language": ref.language,
        "path": ref.path,
        "day": ref.day,  # an extension: the outlet's calendar day (``published`` is UTC)
    }


def result_json(result: Result) -> dict[str, Any]:
    return {
        "rank": result.rank,
        "score": result.score,
        "text": result.text,
        "highlight": result.highlight,
        "paragraphs": list(result.paragraphs),
        "article": article_json(result.article),
        "citation": result.citation,
        # Extensions beyond the original contract:
        "similarity": result.similarity,
        "section": result.section,
        "also_in": list(result.also_in),
        "own": result.own,
        # How closely this passage relates, by the answer's own rule ("none": below the noise
        # level, shown only to fill the page).
        "match": result.match,
    }


def answer_json(answer: Answer) -> dict[str, Any]:
    return {
        "question": answer.question,
        "took_ms": answer.took_ms,
        "results": [result_json(r) for r in answer.results],
        "nothing_relevant": answer.nothing_relevant,
        # Extensions: how sure ("strong", "weak": shown with a caveat, "none": nothing shown),
        # and what was read from the question besides its words (the days it names; the article
        # a link in it names, asked about by its headline).
        "match": answer.match,
        "understood": understood_json(answer),
        # The question named only a time (or asked only for the newest news): the results are the
        # articles published then (the newest), newest first.
        "period_articles": answer.period_articles,
    }


def understood_json(answer: Answer) -> dict[str, Any]:
    linked = {"article": article_json(answer.linked)} if answer.linked is not None else {}
    return {**answer.understood, **linked}


def summary_json(item: ArticleSummary) -> dict[str, Any]:
    return {**article_json(item), "lede": item.lede, "own": item.own}


def stats_json(stats: EngineStats) -> dict[str, Any]:
    """``stats --json``: the fields of ``EngineStats`` in order; sources as objects."""
    return dataclasses.asdict(stats)
