"""Ranking rules of hybrid search, without I/O."""

from __future__ import annotations

from foreign_desk.index.fusion import Candidate, rank_page, rrf
from foreign_desk.index.search import match_expression
from hypothesis import given
from hypothesis import strategies as st


def test_rrf_never_drops_a_list_entry_and_rewards_agreement() -> None:
    dense = [1, 2, 3]
    bm25 = [3, 4]
    scores = rrf([(dense, 1.0), (bm25, 1.0)], k=60)
    assert set(scores) == {1, 2, 3, 4}
    # 3 is ranked by both lists, so it beats 1 which only dense ranked first.
    assert scores[3] > scores[1] > scores[2]
    assert scores[4] < scores[3]


@given(st.lists(st.integers(0, 50), unique=True), st.lists(st.integers(0, 50), unique=True))
def test_rrf_keeps_every_dense_result(dense: list[int], bm25: list[int]) -> None:
    scores = rrf([(dense, 1.0), (bm25, 1.0)])
    assert set(dense) <= set(scores)
    assert set(bm25) <= set(scores)


def test_rrf_weight_zero_ignores_a_list() -> None:
    scores = rrf([([1, 2], 1.0), ([2, 1], 0.0)])
    assert scores[1] > scores[2]


def cand(pid: int, article: str, text: str, source: str | None = None) -> Candidate:
    return Candidate(pid, article, text, 1.0 / pid, 0.9, source)


def test_per_article_cap_keeps_order() -> None:
    cands = [cand(1, "a", "x"), cand(2, "a", "y"), cand(3, "a", "z"), cand(4, "b", "w")]
    assert [c.id for c in rank_page(cands, 2, 0, 10)] == [1, 2, 4]
    assert [c.id for c in rank_page(cands, 0, 0, 10)] == [1, 2, 3, 4]
    assert [c.id for c in rank_page(cands, 2, 1, 2)] == [2]  # the second result alone


WIRE = (
    "The foreign ministers met in Jakarta on Tuesday and agreed to hold joint patrols in the "
    "disputed waters, a spokesman said after the talks ended late in the evening."
)


def test_syndicated_copy_is_shown_once_and_names_the_other_outlet() -> None:
    first = cand(1, "a", "JAKARTA (Reuters) - " + WIRE, "Reuters")
    copy = cand(2, "b", "Jakarta, Antara - " + WIRE, "Antara")
    other = cand(3, "c", "A completely different passage about trade tariffs and steel exports.", "BBC")
    folded = rank_page([first, copy, other], 2, 0, 10)
    assert [c.id for c in folded] == [1, 3]
    assert folded[0].also_in == ["Antara"]


def test_a_copy_below_the_page_still_names_its_outlet() -> None:
    first = cand(1, "a", "JAKARTA (Reuters) - " + WIRE, "Reuters")
    fillers = [cand(i, f"f{i}", f"Passage {i} about a different matter entirely.", "BBC") for i in (2, 3)]
    copy = cand(4, "d", "Jakarta, Antara - " + WIRE, "Antara")
    page = rank_page([first, *fillers, copy], 2, 0, 2)
    assert [c.id for c in page] == [1, 2]
    assert page[0].also_in == ["Antara"]


def test_same_story_in_other_words_stays_two_results() -> None:
    a = cand(1, "a", WIRE, "Reuters")
    b = cand(
        2,
        "b",
        "Ministers agreed in Jakarta to patrol the disputed sea together, officials told reporters.",
        "BBC",
    )
    assert len(rank_page([a, b], 2, 0, 10)) == 2


def test_keyword_query_asks_the_rarest_terms_within_a_postings_budget() -> None:
    """In a big corpus a question's common words would make BM25 score most of the index."""
    freqs = {"kishida": 40, "stoltenberg": 25, "nato": 4_000, "tokyo": 3_000, "japan": 9_000}
    terms = ["kishida", "nato", "tokyo", "japan", "stoltenberg"]
    assert match_expression(terms, freqs, 1_000_000) == '"stoltenberg" OR "kishida" OR "tokyo"'
    # The rarest term is asked even when it alone is over the budget.
    assert match_expression(["japan"], freqs, 1_000_000) == '"japan"'
    assert match_expression(["unknown"], freqs, 1_000_000) is None
