"""Whether a question asks for nothing but a time: "what happened in March 2025?", "news from
last month", "berita pekan lalu", "apa yang terjadi kemarin?".

No passage answers such a question by meaning (the search found nothing for it), yet its asker
wants the news of that period (``search.period``). The rule is narrow: once the words naming
the time are gone (``asked_dates.time_asked``), only function words (``STOPWORDS``: "what",
"happened", "apa", "yang") and a few words asking for news without saying about what may be
left. Any other word ("What did Retno say in March 2025?") is something to look for, and the
question is searched as before.
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


def asks_only_time(undated: str) -> bool:
    """Whether ``undated``, a question less the words naming its time (empty: the time was all
    of it, "kemarin?"), holds no word to look for; single letters ("what's") are no words."""
    return all(t in STOPWORDS or t in NEWS_WORDS or (len(t) == 1 and t.isalpha()) for t in tokens(undated))
