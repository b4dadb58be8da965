"""Word translations as keyword evidence across English and Indonesian (``search/lexicon``)."""

from __future__ import annotations

import dataclasses

from foreign_desk.index.config import SearchSettings
from foreign_desk.index.search.judge import Judge
from foreign_desk.index.search.lexicon import (
    LEXICON,
    dictionary_words,
    stem,
    translations,
    translations_held_each,
)
from foreign_desk.index.search.retrieve import query_terms
from foreign_desk.index.text import fold

from tests.engine.test_search_stages import NONE, background, found, row


def test_a_word_finds_its_translations_in_either_direction_whatever_its_inflection() -> None:
    assert stem("kesepakatan", "id") in translations("agreements")["id"]
    assert stem("menteri", "id") in translations("ministers")["id"]
    assert stem("agreement", "en") in translations("kesepakatan")["en"]
    assert translations("zzyzx") == {}


def test_a_words_translations_as_the_dictionary_writes_them_what_their_rarity_is_counted_by() -> None:
    assert {"kesepakatan", "perjanjian", "persetujuan"} <= dictionary_words("agreements")
    assert "minister" in dictionary_words("menteri")
    assert dictionary_words("zzyzx") == frozenset()


def test_a_translation_is_found_in_texts_of_its_language_only_in_any_affixed_form() -> None:
    texts = [
        fold("Kedua negara menyepakati perjanjian damai."),  # "agree" with Indonesian affixes
        fold("Both sides reached agreement."),
        fold("Taman kota dibuka kembali."),
    ]
    wanted = {"agreement": translations("agreement"), "garden": translations("garden")}
    assert translations_held_each(texts, ["id", "en", "id"], wanted) == [{"agreement"}, set(), {"garden"}]
    assert translations_held_each(texts, ["en", "en", "en"], wanted) == [set(), set(), set()]


def test_an_english_question_word_counts_for_the_indonesian_passage_that_translates_it() -> None:
    """Two Indonesian passages equally close in meaning: the one holding translations of the
    question's words ("menteri", "menandatangani", "perjanjian") comes first."""
    question = "what agreement did the ministers sign?"
    terms = tuple(query_terms(question))
    translated = {t: tr for t in terms if (tr := translations(t))}
    rows = {
        1: row(1, "a", "Pertemuan berlangsung di Jakarta pada hari Kamis.", 0.90, "id"),
        2: row(2, "b", "Para menteri menandatangani perjanjian itu.", 0.90, "id"),
    }
    bg = background(0.5, 0.1, "id")
    plain = found([1, 2], terms=terms, weights={t: 3.0 for t in terms})
    asked = dataclasses.replace(plain, translated=translated, crossing=dict.fromkeys(translated, 3.0))
    judge = Judge(SearchSettings(), floor=0.99)
    before = judge.judge([1, 2], rows, plain, (bg, NONE), passages=1000).candidates
    after = judge.judge([1, 2], rows, asked, (bg, NONE), passages=1000).candidates
    assert before[0].score == before[1].score
    assert [c.id for c in after] == [2, 1]
    # agreement, ministers, sign ("menandatangani"), each at half a name's weight: 0.1 * 0.5 * 3.0 * 3
    assert round(after[0].score - after[1].score, 6) == 0.45
    off = Judge(SearchSettings(translation_share=0.0), floor=0.99)
    assert [c.score for c in off.judge([1, 2], rows, asked, (bg, NONE), 1000).candidates] == [
        c.score for c in before
    ]


def test_the_shipped_stems_are_the_installed_stemmers_own() -> None:
    """The word list carries its words' stems (``scripts/lexicon_from_freedict.py``), so a process
    does not stem 20,000 words to start; a PyStemmer that stems otherwise would silently match
    nothing."""
    rows = [line.split("\t") for line in LEXICON.read_text(encoding="utf-8").splitlines()[2:]]
    assert len(rows) > 9000
    assert all((stem(en, "en"), stem(id_, "id")) == (en_stem, id_stem) for en, id_, en_stem, id_stem in rows)
