"""Small text helpers shared by indexing and querying: normalising, sentences, words, tokens.

They are regex-only and fast on purpose: search calls ``split_sentences`` and ``tokens`` on
every result it shows, so nothing here loads a model or a dictionary.
"""

from __future__ import annotations

import functools
import itertools
import logging
import re
import unicodedata
from bisect import bisect_right
from collections.abc import Iterable, Iterator, Sequence

log = logging.getLogger(__name__)

_CONTROL = "\x00-\x08\x0e-\x1b\x7f-\x84\x86-\x9f\u202a-\u202e\u2066-\u2069"
"""What ``strip_controls`` removes: C0 and C1 controls (ESC starts a terminal's escape
sequence; a C1 CSI, U+009B, one too), and the bidi embeddings, overrides and isolates, which
turn the text after them around (a citation read backwards). Not the bidi marks (U+200E,
U+200F, U+061C): they reorder nothing but the punctuation next to them, and real news holds them.
Nor the zero-width joiners, which ``_INVISIBLE`` already drops."""
_SEPARATOR = "\x1c-\x1f\x85"
"""Controls that ``str.split`` counts as whitespace (the file, group, record and unit separators,
next line): a space, as are tab, vertical tab and form feed, so the words either side stay two."""
_CONTROLS = re.compile(f"[{_CONTROL}\\x0b\\x0c{_SEPARATOR}]")

# Spaces that scraped news is full of (NBSP after "NATO\xa0", thin spaces) become plain ones;
# invisible characters (zero-width, soft hyphen, BOM) go, so words compare equal, as do controls.
# Compiled (and kept) by ``re`` when first used: a process that only answers plain ASCII
# questions never needs them (~0.5 ms of its cold start).
_SPACE = f"[\\u00a0\\u1680\\u2000-\\u200a\\u202f\\u205f\\u3000\\t\\f\\v{_SEPARATOR}]"
_SPACES = f"{_SPACE}{_SPACE}*"  # "x+" as "xx*": on a bare class the engine skips ahead
_INVISIBLE = f"[\\u00ad\\u200b-\\u200d\\u2060\\ufeff{_CONTROL}]"
_RUN_OF_SPACES = re.compile(r" {2,}")
_ASCII_ODD = bytes([*range(0x0A), *range(0x0B, 0x20), 0x7F])
"""The ASCII a text may not keep as it is: tab, the other C0 controls but newline, and DEL."""


def strip_controls(text: str) -> str:
    """``text`` without ``_CONTROL`` characters, each ``_SEPARATOR``, vertical tab and form
    feed a space; tabs, newlines and carriage returns as they are. Text without them is
    returned as it is, so an article's content hash (and its vectors) stays what it was."""
    if text.isprintable() or _CONTROLS.search(text) is None:  # isprintable: a fast no
        return text
    return re.sub(f"[{_CONTROL}]", "", re.sub(f"[\\x0b\\x0c{_SEPARATOR}]", " ", text))


def normalise(text: str) -> str:
    """NFC, one kind of space, no invisible or control characters (``strip_controls``), no
    trailing spaces; newlines kept."""
    if text.isascii():  # most news text: nothing to compose, no exotic spaces or invisibles
        if "\r" in text:
            text = text.replace("\r\n", "\n").replace("\r", "\n")
        data = text.encode("ascii")
        if len(data.translate(None, _ASCII_ODD)) != len(data):  # 10x faster than a regex search
            text = re.sub(_SPACES, " ", strip_controls(text))
    else:
        text = unicodedata.normalize("NFC", text)
        text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\u2028", "\n").replace("\u2029", "\n")
        text = re.sub(_INVISIBLE, "", re.sub(_SPACES, " ", text))
    if "  " in text:
        text = _RUN_OF_SPACES.sub(" ", text)
    if "\n" not in text:  # a paragraph
        return text.strip()
    return "\n".join([line.strip() for line in text.split("\n")])


LETTER_OR_DIGIT = re.compile(r"[^\W_]")


def word_count(text: str) -> int:
    """Whitespace-separated words that hold a letter or digit (a lone dash is not a word).

    Linear in the length: a regex that scans each word for its first letter from every
    position would take minutes on a 200 KB run of punctuation. Cleaning and chunking ask this
    of the same paragraph several times, so paragraph-sized texts are remembered."""
    return word_stats(text)[0]


def word_stats(text: str) -> tuple[int, int]:
    """``word_count(text)`` and the length of the longest whitespace-separated word, from one
    split: chunking weighs a long word (a URL, base64) by its length."""
    if len(text) > CACHED_TEXT_CHARS:
        return _word_stats(text)
    return _cached_word_stats(text)


CACHED_TEXT_CHARS = 4_000


def _word_stats(text: str) -> tuple[int, int]:
    words = text.split()  # nearly all of them alphanumeric: only the rest are searched
    count = len(words) - sum(1 for w in words if not w.isalnum() and not _HAS_LETTER_OR_DIGIT(w))
    return count, max(map(len, words), default=0)


_HAS_LETTER_OR_DIGIT = LETTER_OR_DIGIT.search


_cached_word_stats = functools.lru_cache(maxsize=16_384)(_word_stats)


_TOKEN = re.compile(r"[^\W_]+")


# combining marks of Latin, Greek and Cyrillic letters (what FTS5's remove_diacritics strips)
_COMBINING = re.compile(r"[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]+")


_UNMARKED = "\u201c\u201d\u2018\u2019\u2013\u2014\u00a3\u20ac\u00b0\u200e"
"""The non-ASCII characters of most news once decomposed (curly quotes, dashes, pound, euro, degree,
a left-to-right mark): none is a combining mark."""


def _may_hold_marks(decomposed: str) -> bool:
    """Whether ``decomposed`` may hold a combining mark: not when its only non-ASCII characters
    are ``_UNMARKED`` ones. Looking for them is a few ``in`` tests; looking for the marks
    themselves (``_COMBINING``) takes ~20 µs a passage, the most of folding it."""
    for ch in _UNMARKED:
        if ch in decomposed:
            decomposed = decomposed.replace(ch, "")
    return not decomposed.isascii()


def caseless(text: str) -> str:
    """``text`` as compared without case in any script: spaces collapsed, NFKC, casefolded
    (``TÜRKIYE`` ~ ``Türkiye``, ``ﬁnance`` ~ ``Finance``); accents stay (``Turkiye`` differs)."""
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", " ".join(text.split())).casefold())


def fold(text: str) -> str:
    """Lowercase with diacritics removed (``Sekjen`` ~ ``sekjen``, ``Zürich`` ~ ``zurich``)."""
    text = text.lower()
    if text.isascii():
        return text
    text = unicodedata.normalize("NFKD", text)
    return _COMBINING.sub("", text) if _may_hold_marks(text) else text


def tokens(text: str) -> list[str]:
    """Folded runs of letters and digits, the way SQLite FTS5 ``unicode61 remove_diacritics 2``
    splits text, so lexical matching here agrees with the full-text index."""
    return _TOKEN.findall(fold(text))


def words_held_each(folded: Sequence[str], words: Iterable[str]) -> list[list[str]]:
    """Which of ``words`` (folded tokens) occur in each of ``folded`` (``fold``-ed texts) as whole
    tokens: one substring search per word over all the texts joined by a non-word character, the
    token boundaries checked only where it hits (a search weighs a few words against ~100
    candidates; tokenizing them all, or a scan per word and candidate, would cost milliseconds)."""
    joined = "\n".join(folded)
    starts = list(itertools.accumulate((len(t) + 1 for t in folded), initial=0))
    held: list[list[str]] = [[] for _ in folded]
    for word in words:
        at = joined.find(word)
        while at >= 0:
            end = at + len(word)
            starts_word = at == 0 or not joined[at - 1].isalnum()
            if starts_word and (end == len(joined) or not joined[end].isalnum()):
                n = bisect_right(starts, at) - 1
                held[n].append(word)
                at = joined.find(word, starts[n + 1])  # the next text: this one holds the word
            else:
                at = joined.find(word, end)
    return held


# --- sentences -------------------------------------------------------------------------------

# Words that end in a full stop without ending the sentence (compared lowercased, no dot).
# Indonesian titles and addresses, English honorifics, months before a day number.
_ABBREVIATIONS = (
    "dr", "drs", "dra", "ir", "prof", "jl", "jln", "kh", "hj", "ny", "nn", "tn", "sdr", "sdri", "bpk",
    "yth", "kec", "kab", "kel", "prov", "kol", "kapt", "brigjen", "mayjen", "letjen", "jend", "laksma",
    "marsma", "irjen", "kombes", "kompol", "akbp", "ipda", "iptu", "aiptu", "bripka", "brig",
    "mr", "mrs", "ms", "mx", "st", "jr", "sr", "gen", "lt", "col", "capt", "cmdr", "sgt", "gov", "sen",
    "rep", "rev", "hon", "pres", "supt", "insp", "maj", "adm",
    "no", "nos", "vol", "hal", "tel", "fig", "art", "pp", "ps", "vs", "approx", "dept", "est",
    "jan", "feb", "mar", "apr", "jun", "jul", "aug", "agu", "agt", "sep", "sept", "oct", "okt", "nov",
    "dec", "des",
)  # fmt: skip
ABBREVIATIONS = frozenset(_ABBREVIATIONS)

# A candidate end: terminal punctuation, closing quotes/brackets, then whitespace. It opens
# with a bare character class, not a group, so the regex engine skips ahead to the next
# punctuation mark instead of trying the whole pattern at every character (twice as fast).
_END = re.compile(r"""[.!?…][.!?…]*(["'”’)\]]*)(\s+)""")
_OPENERS = "\"'“‘([«"
_DOTTED = re.compile(r"(?:[^\W\d_]\.){2,}$")  # U.S.  a.n.  S.H.
_INITIAL = re.compile(r"(?:^|[\s(\"“])[A-Z]$")  # "Rahmah N." "J. Biden"


def _starts_sentence(line: str, at: int) -> bool:
    """Whether what follows position ``at`` (after opening quotes or brackets) opens a sentence.

    Reads forward from ``at`` in place: slicing the rest of the line at every full stop would
    make a long line of ``A. A. A.`` quadratic."""
    end = len(line)
    while at < end and line[at] in _OPENERS:
        at += 1
    first = line[at : at + 1]
    return first.isupper() or first.isdigit()


_LAST_WORD_CHARS = 40
"""How much of the text before a full stop is read to decide whether it is an abbreviation:
the last word and the character before it, never the whole sentence so far."""


def _blocks_end(before: str, dots: str) -> bool:
    """Whether the word before a full stop makes it an abbreviation rather than an end
    (``before``: the last ``_LAST_WORD_CHARS`` characters of the sentence so far)."""
    if dots != ".":
        return False
    word = before.rsplit(None, 1)[-1] if before.strip() else ""
    word = word.lstrip("\"'“‘([")
    if "." in word and _DOTTED.search(word + "."):
        return True
    if "A" <= before[-1:] <= "Z" and _INITIAL.search(before):
        return True
    return word.lower() in ABBREVIATIONS


def split_sentences(text: str) -> list[str]:
    """Split news text into sentences; never splits inside a sentence when unsure.

    Handles Indonesian and English abbreviations (``Dr.``, ``Jl.``, ``U.S.``, ``a.n.``),
    initials, decimals (``1.5``, no space follows the dot), quotes that end a sentence
    (``."`` ``.”``) and ellipses. A newline always ends a sentence. Joining the result with
    spaces gives back the same words as ``text``.
    """
    return list(iter_sentences(text))


def iter_sentences(text: str) -> Iterator[str]:
    """``split_sentences(text)`` one at a time: a lede needs only the first of a paragraph."""
    for line in filter(None, text.split("\n")):  # passages part paragraphs with a blank line
        start = 0
        for m in _END.finditer(line):
            if not _starts_sentence(line, m.end()):
                continue
            at = m.start()  # the punctuation: line[at : m.start(1)]
            if _blocks_end(line[max(start, at - _LAST_WORD_CHARS) : at], line[at : m.start(1)]):
                continue
            if piece := line[start : m.end(1)].strip():
                yield piece
            start = m.end()
        if piece := line[start:].strip():
            yield piece
