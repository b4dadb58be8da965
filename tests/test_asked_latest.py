"""Which questions ask for the latest on their subject (ranked with the newest articles of the
scope preferred, ``search.recent``): a few plain words in English and Indonesian, not a date."""

from __future__ import annotations

from datetime import date

import pytest
from foreign_desk.index.config import Settings
from foreign_desk.index.search.request import SearchRequest


def request(question: str) -> SearchRequest:
    return SearchRequest.of(question, Settings().search, now=date(2025, 4, 9))


@pytest.mark.parametrize(
    "question",
    [
        "latest news about Gaza",
        "What's the latest on the South China Sea?",
        "recent developments in Myanmar",
        "What is the current situation in Sudan?",
        "Who has Retno met recently?",
        "berita terbaru tentang Gaza",
        "perkembangan terkini Laut China Selatan",
        "Apa yang terjadi di Myanmar baru-baru ini?",
        "situasi Sudan belakangan ini",
    ],
)
def test_a_question_asking_for_the_latest_on_a_subject(question: str) -> None:
    asked = request(question)
    assert asked.latest and asked.period is None and not asked.only_news


@pytest.mark.parametrize(
    "question",
    [
        "news about Gaza",
        "What did Retno say about Gaza?",
        "Indonesia's current account deficit",  # an economic term, not "now"
        "What is the electrical current of lightning?",
        "How has ASEAN changed in recent years?",  # years back are no latest news
        'Who wrote "Recent Trends in Asian Diplomacy"?',  # a title in quotes
        "What's new in New York talks?",  # "new" is too common a word to read as "latest"
        "pemerintahan baru Thailand",
        "latest news about Gaza in March 2025",  # a named time wins: that month is preferred
        "recent news about Gaza last week",
        "?!",  # no word at all
        "😀",
    ],
)
def test_a_question_that_does_not(question: str) -> None:
    assert not request(question).latest


def test_asking_only_for_the_latest_news_lists_the_newest_articles_as_before() -> None:
    for question in ("latest news", "berita terbaru", "what's the latest?"):
        assert request(question).only_news
