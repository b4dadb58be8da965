"""Link buttons under an answer: each article's page, and for an article in another language than
the reader's, the same page through a web translator into the reader's language. Pure functions,
like ``render``."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlencode

from foreign_desk.index.models import Result

from .i18n import Texts
from .limits import BUTTON_LABEL_MAX, URL_MAX, fit, safe_url

TRANSLATOR = "https://translate.google.com/translate"


@dataclass(frozen=True)
class SourceLink:
    label: str
    url: str


def translated_url(url: str, source: str | None, target: str) -> str | None:
    """``url`` opened through the web translator into ``target``; None when that is too long."""
    query = urlencode({"sl": source or "auto", "tl": target, "hl": target, "u": url})
    link = f"{TRANSLATOR}?{query}"
    return link if len(link) <= URL_MAX else None


def _base(language: str | None) -> str | None:
    return language.split("-")[0].lower() if language else None


def answer_links(
    results: Sequence[Result], tx: Texts, target: str | None, limit: int = 20
) -> list[SourceLink]:
    """Per article with a web address: its page, then (when the article's language is known and
    is not ``target``) the page translated into ``target``. At most ``limit`` buttons."""
    links: list[SourceLink] = []
    seen: set[str] = set()
    for r in results:
        url = safe_url(r.article.url)
        if url is None or url in seen:
            continue
        seen.add(url)
        found = [SourceLink(fit(f"[{r.rank}] {r.article.title}", BUTTON_LABEL_MAX), url)]
        language = _base(r.article.language)
        translated = translated_url(url, language, target) if target and language else None
        if translated and language != _base(target):
            label = tx("button.translate", rank=r.rank, language=tx.language_name(target or ""))
            found.append(SourceLink(fit(label, BUTTON_LABEL_MAX), translated))
        if len(links) + len(found) > limit:
            break
        links += found
    return links
