"""Is an article about a topic: how far the topic stands out at the article's best passage, in
standard deviations above its background in the article's language (no model: hand-made vectors)."""

from __future__ import annotations

import math

import numpy as np
from foreign_desk.index.background import ANY_LANGUAGE, MIN_BACKGROUND, Background
from foreign_desk.index.config import FeedSettings
from foreign_desk.index.search.topics import NO_BACKGROUND, best_per_article, topic_scores

TOPIC = np.array([1.0, 0.0, 0.0], dtype=np.float32)


def at(cosine: float) -> np.ndarray:
    return np.array([cosine, math.sqrt(1 - cosine**2), 0.0], dtype=np.float32)


def test_a_topic_scores_each_article_against_its_own_languages_background() -> None:
    """The same cosine stands out among Indonesian passages (all far from an English topic) and
    not among English ones: a topic in either language finds articles in both."""
    english = np.stack([at(0.85), at(0.75)] * (MIN_BACKGROUND // 2))
    indonesian = np.stack([at(0.72), at(0.68)] * (MIN_BACKGROUND // 2))
    background = Background.of({ANY_LANGUAGE: english, "en": english, "id": indonesian}, {})
    rows = np.stack([at(0.82), at(0.82)])
    z_en, z_id = topic_scores(TOPIC, rows, ["en", "id"], background)
    assert round(float(z_en), 2) == 0.4 and round(float(z_id), 2) == 6.0  # (0.82-0.80)/0.05, (0.82-0.70)/0.02
    owners = np.array([0, 0, 1])
    assert list(best_per_article(owners, np.array([1.0, 4.0, 2.0]), 2)) == [4.0, 2.0]


def test_without_any_background_a_fixed_cosine_scale_stands_in() -> None:
    at_guess, spread = NO_BACKGROUND
    (score,) = topic_scores(TOPIC, np.stack([at(at_guess + spread)]), ["en"], Background({}))
    assert round(float(score), 3) == FeedSettings.topic_z + 1
