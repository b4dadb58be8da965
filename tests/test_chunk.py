"""Chunking: passage sizes, sections, paragraph numbers, and that no text is lost or reordered."""

from __future__ import annotations

from pathlib import Path

import pytest
from foreign_desk.index.article import Article, Block
from foreign_desk.index.chunk import TAIL_TOLERANCE, chunk_article
from foreign_desk.index.clean import clean_article
from foreign_desk.index.config import ChunkingSettings
from foreign_desk.index.indexing.prepare import embed_context
from foreign_desk.index.models import Passage
from foreign_desk.index.readers import read_path
from foreign_desk.index.text import split_sentences, word_count
from hypothesis import given, settings
from hypothesis import strategies as st

SAMPLE = Path(__file__).resolve().parent / "fixtures" / "corpus" / "idn_times_nato_japan.txt"
DEFAULT = ChunkingSettings()


@pytest.fixture(scope="module")
def sample() -> Article:
    [article] = list(read_path(SAMPLE))
    assert isinstance(article, Article)
    return clean_article(article)


@pytest.fixture(scope="module")
def passages(sample: Article) -> list[Passage]:
    return chunk_article(sample, DEFAULT)


def test_sample_passages_follow_sections(passages: list[Passage]) -> None:
    assert [p.section for p in passages] == [
        None,
        "1. Kunjungi Iruma Air Base",
        "2. Bertemu dengan Perdana Menteri Jepang",
        "3. NATO-Jepang bahas tantangan strategis yang dihadapi masyarakat internasional",
        "3. NATO-Jepang bahas tantangan strategis yang dihadapi masyarakat internasional",
        "4. Kerja sama baru antara NATO-Jepang",
    ]
    assert [p.ordinal for p in passages] == list(range(len(passages)))


def test_sample_paragraph_numbers(sample: Article, passages: list[Passage]) -> None:
    # numbering counts the cleaned article's paragraphs, standfirst included, headings not
    assert [p.paragraphs for p in passages] == [
        (1, 2, 3),
        (4, 5, 6, 7, 8),
        (9, 10, 11, 12, 13),
        (14, 15, 16, 17),
        (18, 19, 20),
        (21, 22, 23, 24),
    ]
    for passage in passages:
        expected = "\n\n".join(sample.paragraphs[n - 1] for n in passage.paragraphs)
        assert passage.text == expected


def test_sample_sizes(passages: list[Passage]) -> None:
    sizes = [word_count(p.text) for p in passages]
    assert all(DEFAULT.min_words <= n <= DEFAULT.max_words for n in sizes), sizes


def test_embedder_sees_headline_and_section(sample: Article, passages: list[Passage]) -> None:
    first, second = passages[0], passages[1]
    assert embed_context(sample, first) == sample.title  # no section before the first heading
    assert embed_context(sample, second) == f"{sample.title}\n1. Kunjungi Iruma Air Base"
    assert "Baca Juga" not in "".join(embed_context(sample, p) + p.text for p in passages)


def sentence(i: int, words: int = 10) -> str:
    return " ".join(["kata"] * (words - 1) + [f"akhir{i}."]).capitalize()


def article(*blocks: Block) -> Article:
    return Article(title="Judul", blocks=blocks)


def test_long_paragraph_is_split_between_sentences() -> None:
    paragraph = " ".join(sentence(i, 25) for i in range(10))  # 250 words
    passages = chunk_article(article(Block(paragraph)), ChunkingSettings(min_words=40, max_words=160))
    assert len(passages) == 2
    assert all(p.paragraphs == (1,) for p in passages)
    assert [word_count(p.text) for p in passages] == [125, 125]  # balanced, not 150 + 100
    assert " ".join(p.text for p in passages) == paragraph
    assert all(p.text.endswith(".") for p in passages)


def test_short_tail_is_balanced_into_the_section() -> None:
    paragraphs = [sentence(i, 50) for i in range(3)] + [sentence(9, 20)]  # 170 words
    passages = chunk_article(article(*(Block(p) for p in paragraphs)), DEFAULT)
    assert [p.paragraphs for p in passages] == [(1, 2), (3, 4)]  # not (1, 2, 3) + a 20-word tail


def test_unavoidable_short_tail_joins_within_tolerance() -> None:
    paragraphs = [sentence(1, 150), sentence(2, 15)]
    [passage] = chunk_article(article(*(Block(p) for p in paragraphs)), DEFAULT)
    assert passage.paragraphs == (1, 2)
    assert word_count(passage.text) == 165  # over 160, within 160 * (1 + TAIL_TOLERANCE)
    paragraphs = [sentence(1, 150), sentence(2, 50)]  # 200: too long together, both long enough
    assert [p.paragraphs for p in chunk_article(article(*(Block(p) for p in paragraphs)), DEFAULT)] == [
        (1,),
        (2,),
    ]


def test_heading_starts_a_new_passage_even_when_short() -> None:
    passages = chunk_article(
        article(
            Block(sentence(1)),
            Block("Latar belakang", "heading"),
            Block(sentence(2)),
            Block(sentence(3)),
        ),
        DEFAULT,
    )
    assert [(p.section, p.paragraphs) for p in passages] == [(None, (1,)), ("Latar belakang", (2, 3))]


def test_single_overlong_sentence_is_kept_whole() -> None:
    long_sentence = sentence(1, 200)
    [passage] = chunk_article(article(Block(long_sentence)), DEFAULT)
    assert passage.text == long_sentence


def test_runaway_text_without_stops_is_cut_into_windows() -> None:
    table = " ".join(f"baris{i}" for i in range(1000))
    passages = chunk_article(article(Block(table)), DEFAULT)
    assert all(word_count(p.text) <= DEFAULT.max_words for p in passages)
    assert " ".join(p.text for p in passages) == table


def test_empty_article_has_no_passages() -> None:
    assert chunk_article(article(), DEFAULT) == []
    assert chunk_article(article(Block("Hanya judul", "heading")), DEFAULT) == []


def test_chunking_is_deterministic(sample: Article) -> None:
    assert chunk_article(sample, DEFAULT) == chunk_article(sample, DEFAULT)


WORDS = st.sampled_from(
    ["NATO", "Jepang", "dan", "Dr.", "kata", "U.S.", "1.5", "dia", "(31/1/2023)", "Rusia"]
)
SENTENCES = st.builds(
    lambda words, end: " ".join(words) + end,
    st.lists(WORDS, min_size=1, max_size=70),
    st.sampled_from([".", "?", "!", '."']),
)
PARAGRAPHS = st.lists(SENTENCES, min_size=1, max_size=8).map(
    lambda s: " ".join(s[:1] + [x.capitalize() for x in s[1:]])
)
BLOCKS = st.lists(
    st.one_of(
        PARAGRAPHS.map(Block), st.sampled_from(["Bagian A", "Bagian B"]).map(lambda t: Block(t, "heading"))
    ),
    max_size=12,
)


@settings(max_examples=150, deadline=None)
@given(BLOCKS, st.integers(5, 60), st.integers(20, 200))
def test_chunking_never_loses_reorders_or_overfills(
    blocks: list[Block], min_words: int, max_words: int
) -> None:
    art = article(*blocks)
    passages = chunk_article(art, ChunkingSettings(min_words=min_words, max_words=max_words))
    assert " ".join(p.text for p in passages).split() == " ".join(art.paragraphs).split()
    numbers = [n for p in passages for n in p.paragraphs]
    assert sorted(set(numbers)) == list(range(1, len(art.paragraphs) + 1))
    assert numbers == sorted(numbers)
    assert [p.ordinal for p in passages] == list(range(len(passages)))
    for p in passages:
        if word_count(p.text) > max_words * (1 + TAIL_TOLERANCE):
            assert len(split_sentences(p.text)) == 1, p.text
    headings = {b.text for b in blocks if b.kind == "heading"}
    assert all(p.section is None or p.section in headings for p in passages)
