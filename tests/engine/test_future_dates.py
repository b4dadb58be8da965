"""Dates stored while the clock said 2099, since set right: believed then, not now. An article so
dated would head ``latest`` (and /sources' "latest") until 2099; listed, it is undated."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from foreign_desk.index import date_ceiling
from foreign_desk.index.article import Article, Block
from foreign_desk.index.config import Settings
from foreign_desk.index.embed import Embedder
from foreign_desk.index.engine import Engine
from foreign_desk.index.models import Filters
from foreign_desk.index.store import writer

IN_2099 = "2099-01-01T00:00:00Z"


def wire(title: str, published: str | None, local_day: str | None = None) -> Article:
    return Article(
        title=title,
        blocks=(Block(f"{title}: ministers met for talks. They agreed to meet again."),),
        source="Wire Service",
        url=f"https://example.org/{title.split()[0].lower()}",
        published=published,
        language="en",
        local_day=local_day,
    )


async def test_an_article_stored_while_the_clock_said_2099_heads_no_listing(
    make_settings: Callable[..., Settings], fake_embedder: Embedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    yesterday = (datetime.now(UTC) - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    async with await Engine.open(make_settings(), embedder=fake_embedder) as engine:
        with monkeypatch.context() as clock_in_2099:
            clock_in_2099.setattr(writer, "now_iso", lambda: IN_2099)
            await engine.add_articles([wire("Far story", IN_2099, local_day="2099-01-01")])
        await engine.add_articles([wire("Yesterday's story", yesterday), wire("Undated story", None)])
        listed = await engine.latest(10)
        sources = await engine.sources()
    assert [(a.title, a.published, a.day) for a in listed] == [
        ("Yesterday's story", yesterday, yesterday[:10]),
        ("Undated story", None, None),  # stored now: after the one stored "in 2099"
        ("Far story", None, None),
    ]
    assert [(s.articles, s.latest, s.latest_day) for s in sources] == [(3, yesterday, yesterday[:10])]


async def test_a_citation_shows_no_date_stored_while_the_clock_said_2099(
    make_settings: Callable[..., Settings], fake_embedder: Embedder
) -> None:
    async with await Engine.open(make_settings(), embedder=fake_embedder) as engine:
        await engine.add_articles([wire("Far story", IN_2099, local_day="2099-01-01")])
        answer = await engine.ask("Far story: ministers met for talks")
        since = await engine.ask("Far story: ministers met for talks", filters=Filters(since="2020-01-01"))
    assert not since.results  # undated now: no "since" holds it, as none holds an undated one
    (result,) = answer.results
    assert (result.article.title, result.article.published, result.article.day) == ("Far story", None, None)
    assert "2099" not in result.citation


@pytest.mark.parametrize(
    ("stored", "believed"),
    [
        ("2024-03-06", True),
        ("2024-03-06T09:59:59Z", True),
        ("2024-03-06T10:00:01Z", False),
        ("2024-03-07", False),
    ],
)
def test_the_ceiling_is_the_parse_tolerance_past_the_clock(stored: str, believed: bool) -> None:
    now = datetime(2024, 3, 5, 10, 0, tzinfo=UTC)
    assert (stored <= date_ceiling.ceiling(now)) is believed
