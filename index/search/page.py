"""Page: the slice of the judged ranking a reader sees, with wire copies folded and each
article capped while others come close (``fusion.rank_page``), and whether a next page exists."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from foreign_desk.index.fusion import Candidate, rank_page
from foreign_desk.index.search.request import SearchRequest


@dataclass(frozen=True, slots=True)
class Page:
    candidates: list[Candidate]
    has_more: bool


def page(candidates: Sequence[Candidate], request: SearchRequest, close: float = -math.inf) -> Page:
    """Results ``offset``..``offset + k`` of ``candidates`` (best first); candidates scoring
    ``close`` or more count as coming close to the best (``fusion.rank_page``)."""
    # One more than the page: is there a next page?
    shown = rank_page(candidates, request.per_article, request.offset, request.stop + 1, close)
    return Page(shown[: request.k], len(shown) > request.k)
