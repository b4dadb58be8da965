"""What one search asks for, resolved once against the settings, and where its time went."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from foreign_desk.index.asked_dates import Period, time_asked
from foreign_desk.index.asked_latest import asks_latest
from foreign_desk.index.config import SearchSettings
from foreign_desk.index.errors import QuestionTooLong
from foreign_desk.index.models import SHARED, Filters, Scope
from foreign_desk.index.period_only import asks_only_news, asks_only_time
from foreign_desk.index.text import normalise

SHOUTED_WORDS = 3
"""Words all in capitals that make a question shouted rather than a string of acronyms."""


@dataclass(frozen=True, slots=True)
class SearchRequest:
    """A question and the shape of its answer: results ``offset``..``offset + k`` of the ranking,
    at most ``per_article`` passages per article (0: no cap), only articles ``filters`` allows
    among those ``scope`` may see (the shared corpus, plus a server's own)."""

    question: str
    k: int = 5
    filters: Filters = Filters()
    offset: int = 0
    per_article: int = 2
    scope: Scope = SHARED
    period: Period | None = None
    """The publication days the question names ("in March 2017", "last week"): preferred."""
    undated: str = ""
    """The question without the words that name those days (``asked_dates.time_asked``), by which
    an answer published then is judged too; empty when it names none."""
    latest: bool = False
    """The question asks for the latest on its subject and names no time ("latest news about
    Gaza", ``asked_latest``): the newest articles of the scope are preferred (``search.recent``)."""

    @classmethod
    def of(
        cls,
        question: str,
        settings: SearchSettings,
        *,
        k: int | None = None,
        filters: Filters = Filters(),
        per_article: int | None = None,
        offset: int = 0,
        scope: Scope = SHARED,
        now: date | None = None,
    ) -> SearchRequest:
        """A request with what the caller left out taken from ``settings``, the question
        normalised as articles are (``text.normalise``: no invisible characters); ``QuestionTooLong``
        past ``settings.max_question_chars``. ``now`` is the day the question is asked ("last
        week" is the week before it; default: today, UTC)."""
        if len(question) > settings.max_question_chars:
            raise QuestionTooLong(
                f"the question is {len(question):,} characters long; at most {settings.max_question_chars:,}"
            )
        question = unshouted(normalise(question))  # as the articles were: "Ke\u200bnya" finds "Kenya"
        per = settings.per_article if per_article is None else per_article
        period, undated = time_asked(question, now or datetime.now(UTC).date())
        undated = "" if undated == question else undated
        latest = period is None and asks_latest(question)
        return cls(question, k or settings.k, filters, offset, per, scope, period, undated, latest)

    @property
    def only_period(self) -> bool:
        """The question names a time and nothing else to look for (``period_only``): its answer
        is that period's articles (``search.period``)."""
        return self.period is not None and asks_only_time(self.undated)

    @property
    def only_news(self) -> bool:
        """The question names no time and asks only for the newest news ("what's new?",
        ``period_only``): its answer is the newest articles (``search.period``)."""
        return self.period is None and asks_only_news(self.question)

    @property
    def stop(self) -> int:
        """One past the last result of the page."""
        return self.offset + self.k


@dataclass(slots=True)
class Laps:
    """Milliseconds per stage of one search (``Answer.timings``), for benchmarks and logs."""

    ms: dict[str, float] = field(default_factory=dict)

    def lap(self, stage: str, since: float) -> float:
        """Record the time from ``since`` (a ``perf_counter`` reading) as ``stage``; returns now."""
        now = time.perf_counter()
        self.ms[stage] = round((now - since) * 1000, 2)
        return now


def unshouted(question: str) -> str:
    """``question`` as typed without caps lock when it is all capitals ("WHAT DID NATO AND JAPAN
    AGREE ON?" reads "What did nato and japan agree on?"): the model reads capitals as other
    tokens, and every word would count as a name; an acronym or two ("NATO", "ASEAN RI") stay."""
    words = [w for w in question.split() if sum(ch.isalpha() for ch in w) > 1]
    if len(words) < SHOUTED_WORDS or question != question.upper() or question == question.lower():
        return question
    lowered = question.lower()
    return lowered[:1].upper() + lowered[1:]
