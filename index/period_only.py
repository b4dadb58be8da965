"""Whether a question asks for nothing but a time: "what happened in March 2025?", "news from
last month", "berita pekan lalu", "apa yang terjadi kemarin?"; or for nothing but the newest
news: "what's new?", "latest headlines", "berita terbaru".

No passage answers such a question by meaning (the search found nothing for it), yet its asker
wants the news of that period (``search.period``). The rule is narrow: once the words naming
the time are gone (``asked_dates.time_asked``), only function words (``STOPWORDS``: "what",
"happened", "apa", "yang") and a few words asking for news without saying about what may be
left. Any other word ("What did Retno say in March 2025?") is something to look for, and the
question is searched as before. So is a greeting ("apa kabar?"): it asks for no news.
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
"""Words that, with nothing else to look for, ask for the newest news ("kabar" alone greets)."""


def asks_only_time(undated: str) -> bool:
    """Whether ``undated``, a question less the words naming its time (empty: the time was all
    of it, "kemarin?"), holds no word to look for; single letters ("what's") are no words."""
    return all(_no_subject(t) for t in tokens(undated))


def asks_only_news(question: str) -> bool:
    """Whether ``question`` (naming no time) asks for the newest news and nothing to look for:
    only the words ``asks_only_time`` allows, one of them asking for news ("what's new?",
    "latest news", "ada berita terbaru?")."""
    words = tokens(question)
    return any(t in ASKING_NEWS for t in words) and all(_no_subject(t) for t in words)


def _no_subject(word: str) -> bool:
    """A function word, a word asking for news or for what is new, or a single letter ("s")."""
    listed = word in STOPWORDS or word in NEWS_WORDS or word in RECENT_WORDS
    return listed or (len(word) == 1 and word.isalpha())
