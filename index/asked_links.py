"""The links in a question: "https://x.example/world/china-drills" asks about that article.

A link's address says little and matches no passage ("Nothing in the corpus answers that"), so a
question holding links is asked as the words typed plus the headline of the first linked article
in the corpus (``Engine.ask``, and the "Ask Foreign Desk" message menu alike); with no such
article, as the words typed, else the words of the first link's address. Only the first
``LINKS_LOOKED_UP`` links are looked up: a message may paste dozens.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from urllib.parse import urlsplit, urlunsplit

from foreign_desk.index.models import ArticleSummary

URL = re.compile(r"https?://[^\s<>()\"']+")
LINKS_LOOKED_UP = 3


def split_links(text: str) -> tuple[str, list[str]]:
    """The words of ``text`` without its links, and the links (each once, without the sentence's
    closing punctuation: "see https://x.example/a." links to ``/a``)."""
    links = [link.rstrip(".,;!?") for link in URL.findall(text)]
    return " ".join(URL.sub(" ", text).split()), list(dict.fromkeys(links))


def address_words(url: str) -> str:
    """``https://x.example/world/2024/mar/11/china-live-fire-drills`` → ``china live fire drills``;
    none from an address too broken to read (``https://[oops``)."""
    try:
        path = urlsplit(url).path
    except ValueError:
        return ""
    segments = [s for s in path.split("/") if s and not s.isdigit()]
    last = re.sub(r"\.\w{2,5}$", "", segments[-1]) if segments else ""
    return " ".join(w for w in re.split(r"[-_+.]+", last) if w and not w.isdigit())


def linked_question(words: str, links: Sequence[str], article: ArticleSummary | None) -> str:
    """What is asked: the ``words`` with the linked ``article``'s headline (the story is what they
    are about), else the words, else the first link's address words ("" when none)."""
    if article is not None:
        return f"{words} {article.title}".strip()
    return words or (address_words(links[0]) if links else "")


def url_spellings(url: str, canonical: str) -> list[str]:
    """The addresses ``url``'s article may be stored under: as typed, ``canonical`` (its
    ``canonical_url``), and the canonical with http or https, with or without ``www.`` and a
    trailing slash, since a corpus file's article keeps the address the file wrote
    ("https://www.cnnindonesia.com/.../rohingya-di-pulau-terpencil/" is that article pasted
    without its slash or with a share button's ``?utm_source=``)."""
    found = [url.strip(), canonical]
    try:
        parts = urlsplit(canonical)
    except ValueError:  # too broken to read ("https://[oops"): as typed only
        return list(dict.fromkeys(found))
    if parts.scheme in ("http", "https") and parts.netloc:
        paths = {parts.path, parts.path.rstrip("/") + "/"}
        for scheme in ("https", "http"):
            for host in (parts.netloc, "www." + parts.netloc):
                found += [urlunsplit((scheme, host, path, parts.query, "")) for path in sorted(paths)]
    return list(dict.fromkeys(found))
