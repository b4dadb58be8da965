"""The "nothing relevant" rule: a passage must stand out from the question's background in
the passage's own language; tiny corpora fall back to an absolute floor."""

from __future__ import annotations

import numpy as np
from foreign_desk.index.relevance import ANY_LANGUAGE, MIN_BACKGROUND, backgrounds, base_for, relevant
from foreign_desk.index.store.vectors import VectorIndex


def unit(rows: np.ndarray) -> np.ndarray:
    return (rows / np.linalg.norm(rows, axis=1, keepdims=True)).astype(np.float32)


def test_each_language_is_its_own_background() -> None:
    rng = np.random.default_rng(1)
    q = unit(rng.standard_normal((1, 16)))[0]
    near = unit(q + 0.3 * rng.standard_normal((MIN_BACKGROUND, 16)))  # a language close to the question
    far = unit(rng.standard_normal((MIN_BACKGROUND, 16)))
    bases = backgrounds({ANY_LANGUAGE: np.vstack([near, far]), "id": near, "en": far}, q)
    assert bases["id"] > bases[ANY_LANGUAGE] > bases["en"]
    # The same similarity answers in English but not in Indonesian, whose passages are all close.
    sim = bases["en"] + 0.1
    assert relevant(sim, base_for(bases, "en"), margin=0.08, floor=0.9)
    assert not relevant(sim, base_for(bases, "id"), margin=0.08, floor=0.9)
    assert base_for(bases, "fr") == bases[ANY_LANGUAGE]
    assert base_for(bases, None) == bases[ANY_LANGUAGE]


def test_a_tiny_corpus_uses_the_absolute_floor() -> None:
    q = np.ones(4, dtype=np.float32) / 2
    bases = backgrounds({ANY_LANGUAGE: np.tile(q, (MIN_BACKGROUND - 1, 1))}, q)
    assert bases == {}
    assert relevant(0.81, base_for(bases, "id"), margin=0.08, floor=0.8)
    assert not relevant(0.79, base_for(bases, "id"), margin=0.08, floor=0.8)


def test_sample_is_spread_over_the_whole_index() -> None:
    rng = np.random.default_rng(0)
    vectors = unit(rng.standard_normal((4000, 16)))
    ids = np.arange(10, 4010, dtype=np.int64)
    for threshold in (10_000, 100):  # exact and IVF
        index = VectorIndex.build(16, ids, vectors, approximate_threshold=threshold)
        _, decoded = index.sample(256)  # an IVF index's 8-bit codes, decoded
        index.exact = lambda wanted: (wanted, vectors[wanted - 10])  # the store's float vectors
        got_ids, got = index.sample(256)
        assert 200 <= len(got_ids) <= 256 and len(got) == len(got_ids)
        assert np.allclose(got, vectors[got_ids - 10], atol=1e-6)  # ids match their vectors
        assert np.allclose(decoded, got, atol=0.02)
        assert got_ids.min() < 500 and got_ids.max() > 3500
