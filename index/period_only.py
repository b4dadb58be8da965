"""Whether a question asks for nothing but a time: "what happened in March 2025?", "news from
last month", "berita pekan lalu", "apa yang terjadi kemarin?"; or for nothing but the newest
news: "what's new?", "latest headlines", "berita terbaru".

No passage answers such a question by meaning (the search found nothing for it), yet its asker
wants the news of that period (``search.period``). The rule is narrow: once the words naming
the time are gone (``asked_dates.time_asked``), only function words (``STOPWORDS``: "what",
"happened", "apa", "yang") and a few words asking for news without saying about what may be
left. Any other word ("What did Retno say in March 2025?") is something to look for, and the
question is searched as before. A greeting is made of such words ("apa kabar hari ini?", "how
are you today?") but is small talk: it asks for the news only beside a word that does ("apa
kabar terbaru hari ini?"); alone ("apa kabar?") it asks for no news.
"""

from __future__ import annotations

from foreign_desk.index.stopwords import STOPWORDS
from foreign_desk.index.text import tokens

NEWS_WORDS = frozenset(
    """news headline headlines story stories event events update updates occurred new going show
    list world international berita kabar terjadi peristiwa kejadian terbaru baru info informasi
    tampilkan tunjukkan dunia internasional""".split()
)
"""Words that ask for news without naming a subject, in English and Indonesian."""
RECENT_WORDS = frozenset("latest newest recent recently lately new terbaru terkini baru".split())
"""Words that ask for what is new."""
ASKING_NEWS = RECENT_WORDS | frozenset("news headline headlines berita update updates".split())
"""Words that, with nothing else to look for, ask for the newest news."""

GREETINGS = tuple(
    tuple(tokens(g))
    for g in (
        "how are you",
        "how's it going",
        "how is it going",
        "how do you do",
        "how have you been",
        "what's up",
        "apa kabar",
        "bagaimana kabar",
    )
)
"""Greetings whose every word is a function or news word (``tokens`` of each)."""


def asks_only_time(undated: str) -> bool:
    """Whether ``undated``, a question less the words naming its time (empty: the time was all
    of it, "kemarin?"), holds no word to look for; single letters ("what's") are no words."""
    words, greeted = ungreeted(tokens(undated))
    asking = any(t in NEWS_WORDS or t in RECENT_WORDS for t in words)
    return all(_no_subject(t) for t in words) and (not greeted or asking)


def asks_only_news(question: str) -> bool:
    """Whether ``question`` (naming no time) asks for the newest news and nothing to look for:
    only the words ``asks_only_time`` allows, one of them asking for news ("what's new?",
    "latest news", "ada berita terbaru?"), greetings aside."""
    words, _ = ungreeted(tokens(question))
    return any(t in ASKING_NEWS for t in words) and all(_no_subject(t) for t in words)


def _no_subject(word: str) -> bool:
    """A function word, a word asking for news or for what is new, or a single letter ("s")."""
    listed = word in STOPWORDS or word in NEWS_WORDS or word in RECENT_WORDS
    return listed or (len(word) == 1 and word.isalpha())


def ungreeted(words: list[str]) -> tuple[list[str], bool]:
    """``words`` less the ``GREETINGS`` among them, and whether there was one."""
    left: list[str] = []
    i = 0
    while i < len(words):
        greeting = next((g for g in GREETINGS if tuple(words[i : i + len(g)]) == g), ())
        left.extend(words[i : i + 1] if not greeting else [])
        i += len(greeting) or 1
    return left, len(left) < len(words)
