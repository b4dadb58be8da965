"""Link buttons under an answer: each article's page. Pure functions, like ``render``."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from foreign_desk.index.models import Result

from .limits import BUTTON_LABEL_MAX, fit, safe_url


@dataclass(frozen=True)
class SourceLink:
    label: str
    url: str


def source_links(results: Sequence[Result], limit: int = 20) -> list[SourceLink]:
    """Link buttons for the results' articles that have a web address (one per article)."""
    links: list[SourceLink] = []
    seen: set[str] = set()
    for r in results:
        url = safe_url(r.article.url)
        if url is None or url in seen:
            continue
        seen.add(url)
        label = fit(f"[{r.rank}] {r.article.title}", BUTTON_LABEL_MAX)
        links.append(SourceLink(label, url))
        if len(links) == limit:
            break
    return links
