"""A question's background: scores in standard deviations above what passages that do not
answer it score, per language; a language too thin in the corpus borrows the reference's."""

from __future__ import annotations

import numpy as np
from foreign_desk.index.background import ANY_LANGUAGE, MIN_BACKGROUND, Background, noise_level
from foreign_desk.index.store.vectors import VectorIndex


def unit(rows: np.ndarray) -> np.ndarray:
    return (rows / np.linalg.norm(rows, axis=1, keepdims=True)).astype(np.float32)


def test_each_language_is_its_own_background() -> None:
    rng = np.random.default_rng(1)
    q = unit(rng.standard_normal((1, 16)))[0]
    near = unit(q + 0.3 * rng.standard_normal((MIN_BACKGROUND, 16)))  # a language close to the question
    far = unit(rng.standard_normal((MIN_BACKGROUND, 16)))
    scale = Background.of({ANY_LANGUAGE: np.vstack([near, far]), "id": near, "en": far}, {}).scale(q)
    assert scale.of("id")[0] > scale.of(ANY_LANGUAGE)[0] > scale.of("en")[0]
    # The same similarity stands far out in English and not at all in Indonesian.
    sim = scale.of("en")[0] + 3 * scale.of("en")[1]
    z_en, z_id = scale.z(np.array([sim, sim]), ["en", "id"])
    assert np.isclose(z_en, 3) and z_id < 0
    assert scale.of("fr") == scale.of(None) == scale.of(ANY_LANGUAGE)


def test_the_moments_give_the_sample_mean_and_spread_of_every_question() -> None:
    rng = np.random.default_rng(2)
    sample = unit(rng.standard_normal((200, 8)))
    background = Background.of({ANY_LANGUAGE: sample, "en": sample}, {})
    for q in unit(rng.standard_normal((5, 8))):
        mean, spread = background.scale(q).of("en")
        assert np.isclose(mean, (sample @ q).mean()) and np.isclose(spread, (sample @ q).std())


def test_a_thin_language_borrows_the_reference_and_no_sample_means_no_background() -> None:
    rng = np.random.default_rng(3)
    q = unit(rng.standard_normal((1, 8)))[0]
    thin = {ANY_LANGUAGE: unit(rng.standard_normal((6, 8))), "id": unit(rng.standard_normal((6, 8)))}
    reference = {"id": unit(rng.standard_normal((64, 8))), "en": unit(rng.standard_normal((64, 8)))}
    scale = Background.of(thin, reference).scale(q)
    assert np.isclose(scale.of("id")[0], (reference["id"] @ q).mean())
    both = np.vstack([reference["id"], reference["en"]])
    assert np.isclose(scale.of(ANY_LANGUAGE)[0], (both @ q).mean())  # the reference's languages together
    assert Background.of(thin, {}).empty


def test_the_noise_level_grows_with_the_corpus() -> None:
    levels = [noise_level(n) for n in (1, 6, 300, 5_000, 1_000_000)]
    assert levels == sorted(levels) and levels[0] == 0.0
    assert [round(x, 1) for x in levels[1:4]] == [1.2, 2.8, 3.6]
    # about half of the time the best of n unrelated normal draws is below it
    rng = np.random.default_rng(4)
    assert 0.45 < np.mean(rng.standard_normal((4000, 300)).max(axis=1) < levels[2]) < 0.55


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
