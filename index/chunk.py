"""Articles → passages: paragraph-aware chunks that keep their section and paragraph numbers.

A passage is what search finds and cites, so it should hold whole paragraphs of one
section, be long enough to answer something (``min_words``) and short enough to be one
point (``max_words``, also what the embedder reads well). Paragraph numbers count the
cleaned article's body paragraphs (standfirst included, headings not), 1-based, matching
``Article.paragraphs``, so a citation's "para. 4" is ``article.paragraphs[3]``.
"""

from __future__ import annotations

import logging
from typing import NamedTuple

from foreign_desk.index.article import Article
from foreign_desk.index.config import ChunkingSettings
from foreign_desk.index.models import Passage
from foreign_desk.index.text import LETTER_OR_DIGIT, split_sentences, word_count, word_stats

log = logging.getLogger(__name__)

TAIL_TOLERANCE = 0.2
"""A passage under ``min_words`` that packing could not avoid joins its neighbour in the same
section when the two together stay within ``max_words * (1 + TAIL_TOLERANCE)``: one slightly
long passage answers better than a fragment of a few words."""
RUNAWAY_FACTOR = 3
"""A "sentence" longer than this many times ``max_words`` (a table, a list with no stops)
is not a sentence: it is cut into ``max_words`` windows rather than kept whole."""
MAX_WORD_CHARS = 32
"""A word longer than this (base64, a hash, a minified script, a very long URL) counts as one
word per ``MAX_WORD_CHARS`` characters and may be cut there, so no passage holds more than
about ``max_words * MAX_WORD_CHARS`` characters: a 200 KB token becomes many bounded passages
(embedding cost proportional to its length) instead of one the model reads for minutes."""
MAX_CONTEXT_CHARS = 300
"""The most of a section heading kept in its passages' ``section`` (what the embedder sees
before each passage's text, and what a citation shows)."""


class _Unit(NamedTuple):
    """The smallest piece packing moves: a paragraph, or a sentence of a long paragraph (a
    named tuple: one is made for every paragraph, in half a frozen dataclass's time)."""

    text: str
    paragraph: int
    words: int


def chunk_article(article: Article, settings: ChunkingSettings) -> list[Passage]:
    """Split a cleaned article into passages, in reading order, ``ordinal`` 0..n-1.

    Paragraphs of one section are packed together up to ``max_words``; a section heading
    always starts a new passage; a paragraph over ``max_words`` is split between sentences.
    Within a section the split points are chosen to balance passage lengths, so a short
    tail is spread over its neighbours whenever that fits under ``max_words``; one that still
    falls under ``min_words`` joins its neighbour within ``TAIL_TOLERANCE``. Only a single
    sentence makes a passage longer than that.
    """
    max_words = max(1, settings.max_words)
    min_words = max(0, min(settings.min_words, max_words))
    passages: list[Passage] = []
    for section, units in _sections(article, max_words):
        for group in _merge_short(_pack(units, max_words, min_words), max_words, min_words):
            text = _join(group)
            paragraphs = tuple(sorted({u.paragraph for u in group}))
            passages.append(Passage(text, paragraphs, section, len(passages)))
    return passages


def _sections(article: Article, max_words: int) -> list[tuple[str | None, list[_Unit]]]:
    sections: list[tuple[str | None, list[_Unit]]] = [(None, [])]
    number = 0
    for block in article.blocks:
        if block.kind == "heading":
            sections.append((block.text[:MAX_CONTEXT_CHARS], []))
            continue
        number += 1
        sections[-1][1].extend(_units(block.text, number, max_words))
    return [(heading, units) for heading, units in sections if units]


def _word_size(word: str) -> int:
    """1 for a word with a letter or digit, 0 for a dash; a long word (letters or not) once
    per ``MAX_WORD_CHARS`` characters."""
    if len(word) > MAX_WORD_CHARS:
        return -(-len(word) // MAX_WORD_CHARS)
    return 1 if LETTER_OR_DIGIT.search(word) else 0


def _size(text: str) -> int:
    """Words of ``text`` for packing: ``word_count``, save that long words count by length."""
    words, longest = word_stats(text)
    if longest <= MAX_WORD_CHARS:  # nearly always: the count cleaning already made
        return words
    return sum(_word_size(word) for word in text.split())


def _units(text: str, paragraph: int, max_words: int) -> list[_Unit]:
    size = _size(text)
    if size == 0:
        return []
    if size <= max_words:
        return [_Unit(text, paragraph, size)]
    units: list[_Unit] = []
    for sentence in split_sentences(text):
        n = _size(sentence)
        if n > RUNAWAY_FACTOR * max_words or (n > max_words and n > word_count(sentence)):
            units.extend(_windows(sentence, paragraph, max_words))
        elif n:
            units.append(_Unit(sentence, paragraph, n))
    return units


def _windows(text: str, paragraph: int, max_words: int) -> list[_Unit]:
    """``text`` cut into runs of at most ``max_words`` words, a long word between its
    ``MAX_WORD_CHARS`` pieces (which join again without a space inside one run)."""
    out: list[_Unit] = []
    current: list[str] = []
    count = 0
    for word in text.split():
        counted = _word_size(word)
        pieces = [word]
        if counted > 1:
            pieces = [word[i : i + MAX_WORD_CHARS] for i in range(0, len(word), MAX_WORD_CHARS)]
        for i, piece in enumerate(pieces):
            weight = min(counted, 1)
            if current and count + weight > max_words:
                out.append(_Unit("".join(current).strip(), paragraph, count))
                current, count = [], 0
            current.append(piece if i else f" {piece}")
            count += weight
    if current:
        out.append(_Unit("".join(current).strip(), paragraph, count))
    return out


def _pack(units: list[_Unit], max_words: int, min_words: int) -> list[list[_Unit]]:
    """Split ``units`` into consecutive groups of at most ``max_words`` words.

    Dynamic programming over split points: a group costs the square of its room left under
    ``max_words`` (so fewer, fuller, evenly sized groups win) plus a heavy penalty for
    falling under ``min_words``. A single unit over the cap is a group of its own.
    """
    n = len(units)
    sizes = [u.words for u in units]
    best: list[float] = [0.0] + [float("inf")] * n
    cut: list[int] = [0] * (n + 1)
    for end in range(1, n + 1):
        words = 0
        for start in range(end - 1, -1, -1):
            words += sizes[start]
            if words > max_words and start < end - 1:
                break
            room = max_words - words if words < max_words else 0
            short = min_words - words if words < min_words else 0
            cost = best[start] + room * room + 4 * short * short * max_words
            if cost < best[end]:
                best[end], cut[end] = cost, start
    groups: list[list[_Unit]] = []
    end = n
    while end > 0:
        groups.append(units[cut[end] : end])
        end = cut[end]
    return groups[::-1]


def _merge_short(groups: list[list[_Unit]], max_words: int, min_words: int) -> list[list[_Unit]]:
    """Join a group under ``min_words`` to the previous group (else the next) within tolerance."""
    limit = int(max_words * (1 + TAIL_TOLERANCE))
    out = [list(g) for g in groups]
    i = 0
    while i < len(out) and len(out) > 1:
        words = sum(u.words for u in out[i])
        if words >= min_words:
            i += 1
            continue
        before = sum(u.words for u in out[i - 1]) if i > 0 else None
        after = sum(u.words for u in out[i + 1]) if i + 1 < len(out) else None
        if before is not None and before + words <= limit:
            out[i - 1].extend(out.pop(i))
        elif after is not None and after + words <= limit:
            short = out.pop(i)
            out[i][:0] = short
        else:
            i += 1
    return out


def _join(group: list[_Unit]) -> str:
    """Units of one paragraph join with a space, paragraphs with a blank line."""
    parts: list[str] = []
    for i, unit in enumerate(group):
        if i:
            parts.append(" " if unit.paragraph == group[i - 1].paragraph else "\n\n")
        parts.append(unit.text)
    return "".join(parts)
