"""Whether a question asks for the latest on its subject: "latest news about Gaza", "what's the
current situation in Myanmar?", "berita terbaru tentang Gaza", "perkembangan terkini Laut China
Selatan".

Such a question, when it names no time, is ranked by meaning with a soft preference for the
newest articles of the scope it searches (``search.recent``), as a question naming a time prefers
the articles of that time. The words are few and plain ("new" and "baru" are left out: "New
York", "pemerintahan baru"); what would misread them is left out cheaply: words in double quotes
(a title, "Recent Advances in ..."), and a word before one that makes it something else
("current account", "the electrical current of lightning", "in recent years": years back are no
latest news).
"""

from __future__ import annotations

import re

from foreign_desk.index.text import tokens

LATEST_WORDS = frozenset(
    "latest newest recent recently lately current currently terbaru terkini teranyar".split()
)
"""Words that ask for the latest, in English and Indonesian (folded, as ``tokens`` gives them)."""
LATEST_PHRASES = (("baru", "baru", "ini"), ("belakangan", "ini"))
"""Phrases that do: "baru-baru ini" (recently), "belakangan ini" (lately)."""
NOT_BEFORE = frozenset("account accounts of year years decade decades century centuries".split())
"""Words after which a latest word means something else: "current account", "the current of a
river", "recent years"."""
_QUOTED = re.compile(r"\"[^\"]*\"|“[^”]*”|«[^»]*»")


def asks_latest(question: str) -> bool:
    """Whether ``question`` holds a word or phrase asking for the latest, outside quotes and
    not before a word that makes it something else."""
    words = tokens(_QUOTED.sub(" ", question))
    following = [*words[1:], ""] if words else []
    if any(w in LATEST_WORDS and after not in NOT_BEFORE for w, after in zip(words, following, strict=True)):
        return True
    return any(tuple(words[i : i + len(p)]) == p for p in LATEST_PHRASES for i in range(len(words)))
