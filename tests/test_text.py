"""Sentences, words and tokens for Indonesian and English news text."""

from __future__ import annotations

import re
import unicodedata

import pytest
from foreign_desk.index.text import (
    fold,
    normalise,
    split_sentences,
    tokens,
    word_count,
    words_held_each,
)
from hypothesis import given
from hypothesis import strategies as st


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Dia datang. Lalu pergi.", ["Dia datang.", "Lalu pergi."]),
        ("Apa kabar? Baik! Terima kasih.", ["Apa kabar?", "Baik!", "Terima kasih."]),
        (
            "Dr. Retno tiba di Jl. Pejambon No. 6 pagi ini.",
            ["Dr. Retno tiba di Jl. Pejambon No. 6 pagi ini."],
        ),
        ("The U.S. Navy sailed. China protested.", ["The U.S. Navy sailed.", "China protested."]),
        ("Sanctions by the U.N. Security Council.", ["Sanctions by the U.N. Security Council."]),
        ("Surat a.n. Menteri dikirim. Isinya rahasia.", ["Surat a.n. Menteri dikirim.", "Isinya rahasia."]),
        (
            "Ekonomi tumbuh 5.1 persen. Inflasi 2,5 persen.",
            ["Ekonomi tumbuh 5.1 persen.", "Inflasi 2,5 persen."],
        ),
        ("Harga Rp 1.500.000 per ton. Naik lagi.", ["Harga Rp 1.500.000 per ton.", "Naik lagi."]),
        (
            "Presiden Joko Widodo dan PM Fumio Kishida bertemu.",
            ["Presiden Joko Widodo dan PM Fumio Kishida bertemu."],
        ),
        ("John F. Kennedy spoke. Crowds cheered.", ["John F. Kennedy spoke.", "Crowds cheered."]),
        ("Signed on Jan. 31 in Jakarta.", ["Signed on Jan. 31 in Jakarta."]),
        ('"Kami siap," kata dia. "Kapan saja."', ['"Kami siap," kata dia.', '"Kapan saja."']),
        (
            "Dia berkata, “Perang harus berhenti.” Semua setuju.",
            ["Dia berkata, “Perang harus berhenti.”", "Semua setuju."],
        ),
        ('"Are you sure?" she asked. He nodded.', ['"Are you sure?" she asked.', "He nodded."]),
        ("Dia menunggu... Lalu pergi.", ["Dia menunggu...", "Lalu pergi."]),
        ("Dia menunggu... dan menunggu.", ["Dia menunggu... dan menunggu."]),
        ("Pada 2023. 50 negara hadir.", ["Pada 2023.", "50 negara hadir."]),
        ("Kunjungan, Selasa (31/1/2023). Dia pulang.", ["Kunjungan, Selasa (31/1/2023).", "Dia pulang."]),
        ("Baris satu\nBaris dua", ["Baris satu", "Baris dua"]),
        ("", []),
        ("   ", []),
    ],
)
def test_split_sentences(text: str, expected: list[str]) -> None:
    assert split_sentences(text) == expected


NEWS_WORDS = st.sampled_from(
    ["Dr.", "Jl.", "U.S.", "PM", "No.", "a.n.", "1.5", "kata", "dia.", "Lalu", '"Ya."', "“Tidak.”",
     "...", "Perang", "NATO", "berkata,", "Apa?", "Ya!", "Rp", "1.000", "(31/1/2023).", "J.", "the", "The"]
)  # fmt: skip


@given(st.lists(NEWS_WORDS, max_size=40))
def test_sentences_join_back_to_the_same_words(words: list[str]) -> None:
    text = " ".join(words)
    assert " ".join(split_sentences(text)).split() == text.split()


@given(st.text(max_size=200))
def test_split_sentences_never_loses_or_reorders_characters(text: str) -> None:
    assert "".join("".join(split_sentences(text)).split()) == "".join(text.split())


@pytest.mark.parametrize(
    ("text", "count"),
    [
        ("", 0),
        ("NATO dan Jepang", 3),
        ("Korut-China-Rusia bersatu", 2),
        ("Jakarta, IDN Times - Sekjen", 4),  # a lone dash is not a word
        ("Rp 1.500.000 (31/1/2023)", 3),
    ],
)
def test_word_count(text: str, count: int) -> None:
    assert word_count(text) == count


@given(st.text(alphabet="ab1²_-.é\u0301 \n\t\xa0\u2003\x1c", max_size=60))
def test_word_count_is_whitespace_words_with_a_letter_or_digit(text: str) -> None:
    assert word_count(text) == sum(any(c.isalnum() for c in word) for word in text.split())


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Sekjen NATO, Jens Stoltenberg", ["sekjen", "nato", "jens", "stoltenberg"]),
        ("Zürich São Paulo Hà Nội", ["zurich", "sao", "paulo", "ha", "noi"]),
        ("Korut-China-Rusia", ["korut", "china", "rusia"]),
        ("U.S. snake_case 1.500", ["u", "s", "snake", "case", "1", "500"]),
    ],
)
def test_tokens_fold_case_and_diacritics(text: str, expected: list[str]) -> None:
    assert tokens(text) == expected


def test_normalise_spaces_and_invisible_characters() -> None:
    assert normalise("NATO\xa0 dan\u200b Jepang\u00ad \r\nbaris  dua\t ") == "NATO dan Jepang\nbaris dua"
    assert normalise("e\u0301") == "é"


@given(
    st.lists(st.text(alphabet="iranZüch 2017_-.,é\n", max_size=30), max_size=5),
    st.lists(st.sampled_from(["iran", "iranian", "zurich", "2017", "a", "n"]), unique=True),
)
def test_words_held_are_the_whole_tokens_fts5_would_match(texts: list[str], words: list[str]) -> None:
    expected = [[w for w in words if w in set(tokens(t))] for t in texts]
    assert words_held_each([fold(t) for t in texts], words) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("\u201cZ\u00fcrich\u201d \u2013 Caf\u00e9 \u00a35", "\u201czurich\u201d \u2013 cafe \u00a35"),
        ("\u201cKenya\u2019s\u201d \u2014 \u20ac5\u2026", "\u201ckenya\u2019s\u201d \u2014 \u20ac5..."),
    ],
)
def test_fold_strips_diacritics_beside_curly_quotes_and_dashes(text: str, expected: str) -> None:
    assert fold(text) == expected


@given(st.text(alphabet="aZ \u00fc\u00e9e\u0301\u201c\u201d\u2019\u2013\u00a3\u20ac\u2026\u00b0\u00df\u0130"))
def test_fold_is_lowercase_nfkd_without_combining_marks(text: str) -> None:
    marks = re.compile(r"[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]+")
    assert fold(text) == marks.sub("", unicodedata.normalize("NFKD", text.lower()))
