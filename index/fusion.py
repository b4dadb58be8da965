"""Pure ranking steps of hybrid search: near-duplicate folding and the per-article cap.

Kept free of I/O so the ranking rules are tested directly and reused by every front end.
"""

from __future__ import annotations

import math
import re
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field

_WORD = re.compile(r"\w+", re.UNICODE)
_NOT_WORD = bytes(c for c in range(128) if not _WORD.fullmatch(chr(c)))
_ASCII_WORDS = bytes.maketrans(_NOT_WORD, b" " * len(_NOT_WORD))
"""Every ASCII character ``_WORD`` does not match, as a space: splitting ASCII text (most news)
after this translation finds the same words as ``_WORD``, in half the time."""

Grams = frozenset[tuple[str, ...]]


_PUNCTUATION = "\u201c\u201d\u2018\u2019\u2013\u2014\u2026\u00a3\u200e"
"""The non-ASCII characters of most English news (curly quotes, dashes, ellipsis, pound, a
left-to-right mark): none is a word character, so as spaces they split text as ``_WORD`` does,
and a text whose only non-ASCII characters they are takes the ASCII path."""


def _plain(text: str) -> str:
    for ch in _PUNCTUATION:
        if ch in text:
            text = text.replace(ch, " ")
    return text


def _words(text: str) -> list[str]:
    """The words ``shingles`` are made of: ``\\w+`` runs of the casefolded text."""
    if not text.isascii():
        text = _plain(text)
    if text.isascii():
        return text.lower().encode("ascii").translate(_ASCII_WORDS).decode("ascii").split()
    return _WORD.findall(text.casefold())


def _grams(words: list[str]) -> Grams:
    if len(words) < 3:
        return frozenset({tuple(words)})
    return frozenset(zip(words, words[1:], words[2:], strict=False))


def shingles(text: str) -> Grams:
    """The passage's word 3-grams (the whole text when shorter)."""
    return _grams(_words(text))


KEPT_SHINGLES = 256
"""Passages whose 3-grams are kept for the next search (~20 KB each): related questions meet the
same passages (nearly all of a small corpus's, about one in five at 10k)."""


class KeptGrams:
    """The 3-grams of the passages folding met last (least recently met out first), by text."""

    def __init__(self, size: int = KEPT_SHINGLES) -> None:
        self.size = size
        self._grams: OrderedDict[str, Grams] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, text: str) -> Grams | None:
        """Those of ``text`` if kept: a passage below the page that is not is looked up word by
        word (``Pool.first_twin_of``), cheaper than making its set."""
        with self._lock:
            grams = self._grams.get(text)
            if grams is not None:
                self._grams.move_to_end(text)
            return grams

    def of(self, text: str) -> Grams:
        """Those of ``text``, made and kept unless they were."""
        grams = self.get(text)
        if grams is None:
            grams = shingles(text)
            with self._lock:
                self._grams[text] = grams
                while len(self._grams) > self.size:
                    self._grams.popitem(last=False)
        return grams


KEPT = KeptGrams()


def near_duplicate(a: Grams, b: Grams, threshold: float = 0.8, *, shared: Grams | None = None) -> bool:
    """Containment of word 3-grams: a syndicated copy with a changed dateline still matches.
    ``shared``: what ``b`` shares with a set holding all of ``a`` (``a & b`` is then ``a & shared``,
    a much smaller intersection)."""
    if not a or not b:
        return False
    return len(a & (b if shared is None else shared)) / min(len(a), len(b)) >= threshold


class Pool:
    """Passages' 3-grams in order, and their union: what a passage shares with none of them is
    ruled out by one intersection with the union instead of one with each (``first_twin``)."""

    def __init__(self) -> None:
        self.members: list[tuple[Candidate, Grams]] = []
        self.union: set[tuple[str, ...]] = set()

    def add(self, cand: Candidate, grams: Grams) -> None:
        self.members.append((cand, grams))
        self.union |= grams

    def first_twin(self, grams: Grams) -> Candidate | None:
        """The first member that ``grams`` nearly duplicates (``near_duplicate``), if any."""
        shared = grams & self.union
        if not shared:
            return None
        return next((c for c, g in self.members if near_duplicate(g, grams, shared=shared)), None)

    def first_twin_of(self, text: str) -> Candidate | None:
        """``first_twin`` of the 3-grams of ``text``, made only when it shares one with the pool:
        most passages below a page share none, and looking theirs up costs less than a set
        (unless a search before kept them: ``KEPT``)."""
        kept = KEPT.get(text)
        if kept is not None:
            return self.first_twin(kept)
        words = _words(text)
        if len(words) >= 3 and self.union.isdisjoint(zip(words, words[1:], words[2:], strict=False)):
            return None
        return self.first_twin(_grams(words))


@dataclass(slots=True)
class Candidate:
    """A passage competing for a place in the answer."""

    id: int
    article: str
    text: str
    score: float
    similarity: float
    source: str | None = None
    also_in: list[str] = field(default_factory=list)
    match: str = "weak"
    """Its own level by the answer's rule (``Judge``): ``"none"`` below the noise level."""
    above: float = math.inf
    """Its meaning score above the noise level (``Judge``; inf where not measured)."""


def rank_page(
    candidates: Sequence[Candidate], per_article: int, start: int, stop: int, close: float = -math.inf
) -> list[Candidate]:
    """Results ``start:stop`` of ``candidates`` (best first) once near-identical passages (wire
    copies) are folded into the best one and each article is capped at ``per_article`` (0: no
    cap) while other articles come close: a passage over the cap waits until the next candidate
    scores below ``close`` (or none is left), then the waiting ones go first (the one article
    that answers may fill the page). Folding compares every kept passage with every later one, so it goes only
    as far as the page needs; a later copy of a passage on the page still names its outlet in
    ``also_in``.
    """
    kept = Pool()
    shown: list[Candidate] = []  # kept and within the cap, or released from waiting
    waiting: list[Candidate] = []
    per: dict[str, int] = {}
    seen = 0
    for cand in candidates:
        if len(shown) >= stop:
            break
        seen += 1
        grams = KEPT.of(cand.text)
        twin = kept.first_twin(grams)
        if twin is not None:
            _name_copy(twin, cand)
            continue
        kept.add(cand, grams)
        if cand.score < close:  # nothing from here on comes close: the waiting ones first
            shown += waiting[: stop - len(shown)]
            waiting = []
        if per_article <= 0 or per.get(cand.article, 0) < per_article or cand.score < close:
            per[cand.article] = per.get(cand.article, 0) + 1
            shown.append(cand)
        else:
            waiting.append(cand)
    shown += waiting[: stop - len(shown)]
    page = shown[start:stop]
    _name_later_copies(page, candidates[seen:], {id(c): g for c, g in kept.members})
    return page


def _name_later_copies(
    page: Sequence[Candidate], later: Sequence[Candidate], known: dict[int, Grams]
) -> None:
    """Copies of a shown passage further down (other outlets) are named in its ``also_in``;
    ``known``: 3-grams already made, by ``id()`` of their candidate."""
    shown = Pool()
    for p in page:
        shown.add(p, known.get(id(p)) or shingles(p.text))
    for cand in later:
        if cand.source and any(cand.source != p.source and cand.source not in p.also_in for p in page):
            twin = shown.first_twin_of(cand.text)
            if twin is not None:
                _name_copy(twin, cand)


def _name_copy(twin: Candidate, copy: Candidate) -> None:
    if copy.source and copy.source != twin.source and copy.source not in twin.also_in:
        twin.also_in.append(copy.source)
