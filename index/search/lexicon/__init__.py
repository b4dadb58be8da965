"""Word translations between English and Indonesian, as keyword evidence across languages.

A question's ordinary words ("agreement", "minister") never match the other language's text
("kesepakatan", "menteri"), so keyword evidence helped only passages in the question's own
language, and names. ``en_id.tsv`` (one-word pairs from FreeDict's English-Indonesian
dictionary, ``scripts/lexicon_from_freedict.py``) gives each word its translations; both sides
are compared by their Snowball stems, so "agreements" finds "kesepakatannya".
"""

from __future__ import annotations

import functools
import itertools
import re
from bisect import bisect_right
from collections.abc import Mapping, Sequence
from pathlib import Path

import Stemmer  # PyStemmer: the Snowball stemmers in C (~1 ms to import)

LEXICON = Path(__file__).with_name("en_id.tsv")
HEADER = (
    "# FreeDict eng-ind 2022.11.18 (WikDict, from Wiktionary), CC BY-SA 3.0: one-word pairs\n"
    "# english\tindonesian\tenglish stem\tindonesian stem\n"
)
STEMMERS = {"en": "english", "id": "indonesian"}
OTHER = {"en": "id", "id": "en"}
MIN_STEM = 3
"""Shorter stems match too many unrelated words."""

_ALNUM_RUN = re.compile(r"[^\W_]*")

Translations = Mapping[str, frozenset[str]]
"""A word's translations: the other language's stems, by that language's code."""


@functools.cache
def _stemmer(language: str) -> Stemmer.Stemmer:
    """One stemmer per language, its own cache off (``stem`` caches). Threads may share it: a
    word is stemmed in one C call, under the GIL."""
    return Stemmer.Stemmer(STEMMERS[language], 0)


@functools.lru_cache(maxsize=1 << 16)
def stem(word: str, language: str) -> str:
    """``word``'s Snowball stem in ``language`` (a folded token)."""
    return str(_stemmer(language).stemWord(word))


@functools.cache
def _pairs() -> dict[str, dict[str, str]]:
    """Stem -> the other language's stems and words as the dictionary writes them, for each
    language: one string, each pair in it a tab, the stem, a tab, the word (``_translated``).
    Strings, not lists of tuples: ~30k fewer objects for the garbage collector; building those
    set off its full collection of everything the imports made (~20 ms of a cold start)."""
    english: dict[str, str] = {}
    indonesian: dict[str, str] = {}
    for line in LEXICON.read_text(encoding="utf-8").splitlines()[HEADER.count("\n") :]:
        en_word, id_word, en, id_ = line.split("\t")
        if len(en) >= MIN_STEM and len(id_) >= MIN_STEM:
            english[en] = english.get(en, "") + f"\t{id_}\t{id_word}"
            indonesian[id_] = indonesian.get(id_, "") + f"\t{en}\t{en_word}"
    return {"en": english, "id": indonesian}


def _translated(term: str, language: str) -> list[str]:
    """The other language's stems and words ``term`` (read in ``language``) translates to,
    alternating: stem, word, stem, word..."""
    return _pairs()[language].get(stem(term, language), "").split("\t")[1:]


def warm() -> None:
    """Load the word list and the stemmers (~8 ms), as an engine opens rather than at its first
    question."""
    _pairs()
    for language in STEMMERS:
        stem("", language)


def translations(term: str) -> Translations:
    """The stems ``term`` translates to, by language: read as English and as Indonesian (a
    question's language is not known, and few words are spelled alike in both)."""
    found: dict[str, frozenset[str]] = {}
    for language in STEMMERS:
        other = _translated(term, language)
        if other:
            found[OTHER[language]] = frozenset(other[0::2])
    return found


def dictionary_words(term: str) -> frozenset[str]:
    """``term``'s translations as the dictionary writes them (what their rarity is counted by)."""
    return frozenset(w for language in STEMMERS for w in _translated(term, language)[1::2])


def translations_held_each(
    folded: Sequence[str], languages: Sequence[str | None], wanted: Mapping[str, Translations]
) -> list[set[str]]:
    """Which of ``wanted``'s terms each text (``fold``-ed, in ``languages``) holds a translation
    of: a token whose stem in the text's language is one of the term's stems in that language.
    The texts of each language are searched together, each stem as a substring first
    (``_probe``); only the tokens it hits are stemmed."""
    held: list[set[str]] = [set() for _ in folded]
    for language in {lang for by_language in wanted.values() for lang in by_language}:
        members = [n for n, lang in enumerate(languages) if lang == language]
        joined = "\n".join(folded[n] for n in members)
        starts = list(itertools.accumulate((len(folded[n]) + 1 for n in members), initial=0))
        for term, by_language in wanted.items():
            stems = by_language.get(language, frozenset())
            for s in stems:
                for m in _holding(joined, starts, _probe(s, language), stems, language):
                    held[members[m]].add(term)
    return held


def _holding(joined: str, starts: list[int], probe: str, stems: frozenset[str], language: str) -> set[int]:
    """The texts of ``joined`` (starting at ``starts``) with a token that holds ``probe`` and
    whose stem is one of ``stems``."""
    found: set[int] = set()
    at = joined.find(probe)
    while at >= 0:
        n = bisect_right(starts, at) - 1
        if stem(_token_at(joined, at), language) in stems:
            found.add(n)
            at = joined.find(probe, starts[n + 1])  # the next text: this one holds it
        else:
            at = joined.find(probe, at + len(probe))
    return found


def _probe(stem_: str, language: str) -> str:
    """What every word of ``stem_`` holds: the stem, but for the first letter of an Indonesian stem
    that the prefixes meN-/peN- change ("sepakat" in "menyepakati", "tulis" in "menulis")."""
    return stem_[1:] if language == "id" and stem_[0] in "ptks" and len(stem_) > MIN_STEM else stem_


def _token_at(text: str, at: int) -> str:
    """The token (a run of letters and digits, as ``text.tokens`` splits) around position ``at``."""
    start = at
    while start > 0 and text[start - 1].isalnum():  # a few letters at most: a prefix
        start -= 1
    return text[start : _ALNUM_RUN.match(text, at).end()]  # type: ignore[union-attr]
