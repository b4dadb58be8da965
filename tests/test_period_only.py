"""Which questions name only a time (answered with that period's articles): a narrow rule, so
every question with a subject is searched as before."""

from __future__ import annotations

import json
from datetime import date

import pytest
from foreign_desk.index.config import Settings
from foreign_desk.index.search.request import SearchRequest

from tests.conftest import ROOT

NOW = date(2025, 4, 9)


def only_period(question: str, now: date = NOW) -> bool:
    return SearchRequest.of(question, Settings().search, now=now).only_period


def only_news(question: str, now: date = NOW) -> bool:
    return SearchRequest.of(question, Settings().search, now=now).only_news


@pytest.mark.parametrize(
    "question",
    [
        "what happened in March 2025?",
        "What happened on 5 March 2025?",
        "any news from March 2025?",
        "news from last month",
        "what's new this week?",
        "What were the headlines yesterday?",
        "Tell me about last week",
        "March 2025",
        "2024?",
        "berita pekan lalu",
        "apa yang terjadi kemarin?",
        "Ada berita apa hari ini?",
        "Apa yang terjadi pada Maret 2025?",
        "kemarin",
    ],
)
def test_a_question_naming_only_a_time(question: str) -> None:
    assert only_period(question)


@pytest.mark.parametrize(
    "question",
    [
        "what happened?",  # no time
        "latest news",
        "What did Retno say in March 2025?",
        "Who was arrested yesterday?",
        "Siapa yang ditangkap kemarin?",
        "Apa yang terjadi minggu lalu di Marawi?",
        "What happened to the 2000 troops?",  # a count, no year
        "What happened in Gaza last week?",
        "news about Ukraine from March 2025",
        "What happened in 3 March 2025 talks?",
    ],
)
def test_a_question_with_a_subject_or_no_time(question: str) -> None:
    assert not only_period(question)


@pytest.mark.parametrize(
    "question",
    [
        "what's new?",
        "latest news",
        "What are the latest headlines?",
        "Any recent world news?",
        "berita terbaru",
        "Ada kabar terbaru?",
        "tampilkan berita terkini",
        "news",
    ],
)
def test_a_question_asking_only_for_the_newest_news(question: str) -> None:
    assert only_news(question) and not only_period(question)


@pytest.mark.parametrize(
    "question",
    [
        "apa kabar?",
        "how are you?",
        "what happened?",
        "hello",
        "what's new in Gaza?",
        "berita terbaru tentang Rohingya",
        "latest news from March 2025",  # a time: the period's articles
        "news about the new president",
    ],
)
def test_a_greeting_a_subject_or_a_time_is_no_request_for_the_newest_news(question: str) -> None:
    assert not only_news(question)


@pytest.mark.parametrize(
    "greeting",
    [
        "apa kabar hari ini?",
        "Apa kabar pagi ini?",
        "bagaimana kabar anda hari ini?",
        "how are you today?",
        "How's it going this week?",
        "what's up today?",
        "good morning",
        "selamat pagi",
    ],
)
def test_a_greeting_naming_a_time_is_small_talk(greeting: str) -> None:
    assert not only_period(greeting)


@pytest.mark.parametrize(
    "question", ["Apa kabar terbaru hari ini?", "Ada kabar apa hari ini?", "How are you? Any news today?"]
)
def test_a_greeting_beside_a_word_asking_for_news_names_only_a_time(question: str) -> None:
    assert only_period(question)


def test_no_question_of_the_evaluation_sets_names_only_a_time() -> None:
    """Every question there asks about something: their ranking must stay as it was."""
    for name in ("foreign_affairs.jsonl", "off_topic.jsonl", "sample.jsonl"):
        for line in (ROOT / "bench" / "quality" / name).read_text(encoding="utf-8").splitlines():
            question = json.loads(line)
            now = date.fromisoformat(question["now"]) if "now" in question else NOW
            assert not only_period(question["question"], now), question["question"]
            assert not only_news(question["question"], now), question["question"]
