"""How a passage is cited: headline, outlet, date, paragraphs, and where to find it."""

from __future__ import annotations

from collections.abc import Sequence

from foreign_desk.index.models import ArticleRef

MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def format_date(published: str | None) -> str | None:
    """``2023-01-31`` or ``2023-01-31T10:00:00Z`` → ``31 Jan 2023``; None stays None."""
    if not published or len(published) < 10:
        return published or None
    try:
        year, month, day = int(published[:4]), int(published[5:7]), int(published[8:10])
        return f"{day} {MONTHS[month - 1]} {year}"
    except (ValueError, IndexError):
        return published[:10]


def format_paragraphs(paragraphs: Sequence[int]) -> str | None:
    """``(4, 5, 6)`` → ``¶4-6``; ``(7,)`` → ``¶7``; gaps are listed (``¶2, 4``)."""
    if not paragraphs:
        return None
    nums = sorted(set(paragraphs))
    runs: list[str] = []
    start = prev = nums[0]
    for n in [*nums[1:], None]:
        if n is not None and n == prev + 1:
            prev = n
            continue
        runs.append(f"{start}" if start == prev else f"{start}-{prev}")
        if n is not None:
            start = prev = n
    return "¶" + ", ".join(runs)


def citation(article: ArticleRef, paragraphs: Sequence[int], also_in: Sequence[str] = ()) -> str:
    """One line: ``"Headline", Outlet, 31 Jan 2023, ¶4-6, https://...``."""
    parts = [f"\u201c{article.title}\u201d"]
    parts += [p for p in (article.source, format_date(article.day), format_paragraphs(paragraphs)) if p]
    if also_in:
        parts.append("also in " + ", ".join(also_in))
    parts.append(article.url or article.path or "")
    return ", ".join(p for p in parts if p)
