"""Recent: the period a question asking for the latest on its subject prefers ("latest news about
Gaza", ``SearchRequest.latest``): the last ``WINDOW`` of days up to the newest article the search
may return.

"Latest" is measured against the newest article in the asker's scope within the request's
filters, not the wall clock: a corpus, or a ``--until``, that ends in 2017 still has a latest
month, and a server's own newer articles move it for that server alone. The period is preferred
as a period the question names is (``judge``: ``date_weight`` for a passage published then, the
same weight dated questions are tuned with), never a filter: a subject whose only good answer is
older still gets it, below nothing less relevant. ``WINDOW`` is a month, as "this month" or
"last month" asks: long enough to hold the last weeks of a story, short enough that "latest" does
not mean "this year". The request's own filters stay hard and win: the window never starts
before ``since``.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

from foreign_desk.index.asked_dates import Period
from foreign_desk.index.search.request import SearchRequest
from foreign_desk.index.store.reads import Reader

WINDOW = timedelta(days=30)
"""How far back from the newest article "latest" reaches (both ends included)."""


def preferring_recent(request: SearchRequest, read: Reader, gen: int, dim: int) -> SearchRequest:
    """``request`` with the latest period as its ``period`` when it asks for the latest and names
    no time; as it is otherwise, or when its scope holds no article within its filters."""
    if not request.latest or request.period is not None:
        return request
    ids = read.leads(request.filters, request.scope, gen, 1)
    if not ids:
        return request
    rows, _ = read.candidates(ids, dim)
    newest = next((r.article.day for r in rows.values() if r.article.day), None)
    if newest is None:
        return request
    end = date.fromisoformat(newest)
    start = end - WINDOW + timedelta(days=1)
    if request.filters.since:
        start = max(start, date.fromisoformat(request.filters.since[:10]))
    return replace(request, period=Period(min(start, end), end))
