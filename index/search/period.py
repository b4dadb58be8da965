"""Period: the answer to a question that names only a time ("what happened in March 2025?",
"berita pekan lalu", ``SearchRequest.only_period``), or asks only for the newest news ("what's
new?", ``SearchRequest.only_news``: the same page without a period).

No passage answers it by meaning, but its asker wants the news of that period: the first
passage of each article published then, newest first, as ``latest`` orders articles. The days
narrow the request's own filters (never widen them), the scope's reads are the search's
(``Reader.leads``), and the page is cut as any other (``page``: wire copies folded, one passage
per article, ``has_more``). None when the period holds no article: the question is searched as
any other.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from foreign_desk.index.asked_dates import Period
from foreign_desk.index.fusion import Candidate
from foreign_desk.index.models import Filters
from foreign_desk.index.search.page import Page, page
from foreign_desk.index.search.request import SearchRequest
from foreign_desk.index.store import StoredPassage
from foreign_desk.index.store.reads import Reader


def within(filters: Filters, period: Period) -> Filters | None:
    """``filters`` narrowed to ``period``'s days; None when no day is left."""
    since = max(d for d in (filters.since and filters.since[:10], period.start.isoformat()) if d)
    until = min(d for d in (filters.until and filters.until[:10], period.end.isoformat()) if d)
    return replace(filters, since=since, until=until) if since <= until else None


def period_page(
    request: SearchRequest, read: Reader, gen: int, dim: int
) -> tuple[Page, Mapping[int, StoredPassage]] | None:
    """The request's page of the period's articles (each by its first passage), with their rows;
    without a period (``SearchRequest.only_news``), of the newest articles."""
    filters = within(request.filters, request.period) if request.period else request.filters
    if filters is None:
        return None
    limit = request.stop + 1
    while True:  # folded wire copies may leave the page short: read further until it is full
        ids = read.leads(filters, request.scope, gen, limit)
        if not ids:
            return None
        rows, _ = read.candidates(ids, dim)
        candidates = [
            Candidate(i, rows[i].article.id, rows[i].text, 0.0, 0.0, rows[i].article.source)
            for i in ids
            if i in rows
        ]
        shown = page(candidates, request)
        if shown.has_more or len(ids) < limit:
            return shown, rows
        limit *= 2
