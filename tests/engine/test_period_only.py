"""A question naming only a time ("what happened in March 2025?", "berita pekan lalu") is answered
with the articles published then, newest first, within the filters and the asker's scope; any
other question is searched as before."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest
from foreign_desk.index.article import Article, Block
from foreign_desk.index.engine import Engine
from foreign_desk.index.models import Answer, Filters, Scope

from tests.fake_embedder import FakeEmbedder

SERVER = 222


def story(title: str, published: str, source: str = "Example Wire", language: str = "en") -> Article:
    """An article of three passages, each paragraph naming its place in it."""
    paragraphs = [
        f"{title} paragraph {n}: " + " ".join(f"{title.split()[0].lower()}{k}" for k in range(60))
        for n in range(1, 7)
    ]
    blocks = tuple(Block(p) for p in paragraphs)
    url = f"https://news.example/{title.replace(' ', '-').lower()}"
    return Article(title, blocks, source=source, url=url, published=published, language=language)


LATE_MARCH = story("Ceasefire talks resume", "2025-03-20")
EARLY_MARCH = story("Tariff dispute widens", "2025-03-05", source="Kabar Pagi", language="id")
FEBRUARY = story("Drought hits the region", "2025-02-10")
OWN_MARCH = story("Harbour reopens to ships", "2025-03-25")


@pytest.fixture
async def march(make_settings, tmp_path: Path) -> AsyncIterator[Engine]:
    async with await Engine.open(make_settings(tmp_path / "data"), embedder=FakeEmbedder()) as engine:
        await engine.add_articles([LATE_MARCH, EARLY_MARCH, FEBRUARY])
        await engine.add_articles([OWN_MARCH], scopes={OWN_MARCH.id: [SERVER]})
        yield engine


def titles(answer: Answer) -> list[str]:
    return [r.article.title for r in answer.results]


@pytest.mark.parametrize(
    ("question", "now"),
    [
        ("what happened in March 2025?", None),
        ("any news from March 2025?", None),
        ("Maret 2025", None),
        ("news from last month", date(2025, 4, 9)),
        ("berita bulan lalu", date(2025, 4, 9)),
    ],
)
async def test_a_question_naming_only_a_time_lists_the_articles_published_then(
    march: Engine, question: str, now: date | None
) -> None:
    answer = await march.ask(question, now=now)
    assert titles(answer) == [LATE_MARCH.title, EARLY_MARCH.title]  # newest first; February's left out
    assert answer.period_articles and answer.match == "weak" and not answer.nothing_relevant
    assert {r.match for r in answer.results} == {"weak"} and answer.related == 2  # listed, not judged
    assert answer.understood == {"published": ["2025-03-01", "2025-03-31"]}
    for result in answer.results:  # each article by its first passage, as it opens
        assert result.paragraphs[0] == 1 and result.text.startswith(result.article.title)
        assert result.highlight and result.highlight in result.text


async def test_relative_days_in_either_language(march: Engine) -> None:
    yesterday = await march.ask("apa yang terjadi kemarin?", now=date(2025, 3, 6))
    assert titles(yesterday) == [EARLY_MARCH.title] and yesterday.period_articles
    last_week = await march.ask("berita pekan lalu", now=date(2025, 3, 26))  # 17-23 March
    assert titles(last_week) == [LATE_MARCH.title]


async def test_a_server_sees_its_own_articles_of_the_period_and_no_other_servers(march: Engine) -> None:
    question = "what happened in March 2025?"
    own = await march.ask(question, scope=Scope(SERVER))
    assert titles(own) == [OWN_MARCH.title, LATE_MARCH.title, EARLY_MARCH.title]
    assert [r.own for r in own.results] == [True, False, False]
    other = await march.ask(question, scope=Scope(SERVER + 1))
    assert titles(other) == [LATE_MARCH.title, EARLY_MARCH.title]


async def test_filters_narrow_the_period(march: Engine) -> None:
    question = "what happened in March 2025?"
    assert titles(await march.ask(question, filters=Filters(language="id"))) == [EARLY_MARCH.title]
    assert titles(await march.ask(question, filters=Filters(source="example wire"))) == [LATE_MARCH.title]
    assert titles(await march.ask(question, filters=Filters(since="2025-03-10"))) == [LATE_MARCH.title]
    outside = await march.ask(question, filters=Filters(until="2025-02-28"))  # no day of March left
    assert not outside.period_articles and EARLY_MARCH.title not in titles(outside)


async def test_pages_and_the_cache(march: Engine) -> None:
    question = "what happened in March 2025?"
    first = await march.ask(question, k=1)
    second = await march.ask(question, k=1, offset=1)
    assert (titles(first), first.has_more) == ([LATE_MARCH.title], True)
    assert (titles(second), second.has_more, second.results[0].rank) == ([EARLY_MARCH.title], False, 2)
    assert "cache" in (await march.ask(question, k=1)).timings
    late = story("Envoy arrives for talks", "2025-03-30")
    await march.add_articles([late])  # a new generation: never answered from before
    assert titles(await march.ask(question, k=1)) == [late.title]


async def test_an_empty_period_or_a_question_with_a_subject_is_searched_as_before(march: Engine) -> None:
    empty = await march.ask("what happened in June 2025?")
    assert not empty.period_articles and empty.understood == {"published": ["2025-06-01", "2025-06-30"]}
    subject = await march.ask("What did the ceasefire talks agree in March 2025?")
    assert not subject.period_articles
    assert not (await march.ask("what happened?")).period_articles  # no time named


@pytest.mark.parametrize("question", ["what's the latest news?", "berita terbaru", "What's new?"])
async def test_asking_only_for_news_lists_the_newest_articles(march: Engine, question: str) -> None:
    answer = await march.ask(question)
    assert titles(answer) == [LATE_MARCH.title, EARLY_MARCH.title, FEBRUARY.title]
    assert answer.period_articles and answer.match == "weak" and answer.understood == {}
    own = await march.ask(question, scope=Scope(SERVER), filters=Filters(language="en"), k=2)
    assert (titles(own), own.has_more) == ([OWN_MARCH.title, LATE_MARCH.title], True)


async def test_a_greeting_or_news_about_something_is_searched_as_before(march: Engine) -> None:
    for question in ("apa kabar?", "what's new about the ceasefire talks?"):
        assert not (await march.ask(question)).period_articles, question


@pytest.mark.parametrize("greeting", ["apa kabar hari ini?", "how are you today?"])
async def test_a_greeting_is_not_answered_with_the_days_articles(march: Engine, greeting: str) -> None:
    answer = await march.ask(greeting, now=date(2025, 3, 20))
    assert not answer.period_articles  # searched as any question: no list of the day's news


async def test_the_outlets_own_day_counts_and_wire_copies_fold(make_settings, tmp_path: Path) -> None:
    """A Jakarta page of 1 March 06:30 WIB is of March though UTC says 28 February; a wire story
    two outlets carry is one result naming the other outlet."""
    jakarta = replace(story("Envoy lands in Jakarta", "2025-02-28T23:30:00Z"), local_day="2025-03-01")
    wire = story("Summit ends with a statement", "2025-03-12")
    copy = replace(wire, source="Other Paper", url="https://other.example/summit")
    async with await Engine.open(make_settings(tmp_path / "data"), embedder=FakeEmbedder()) as engine:
        await engine.add_articles([jakarta, wire, copy, FEBRUARY])
        answer = await engine.ask("berita Maret 2025")
    assert titles(answer) == [wire.title, jakarta.title] and not answer.has_more
    assert answer.results[0].also_in in (("Other Paper",), ("Example Wire",))
