"""Ranking rules of hybrid search, without I/O."""

from __future__ import annotations

import dataclasses
import random
import re

from foreign_desk.index import fusion
from foreign_desk.index.fusion import Candidate, Pool, near_duplicate, rank_page, shingles
from foreign_desk.index.search import match_expression


def cand(pid: int, article: str, text: str, source: str | None = None) -> Candidate:
    return Candidate(pid, article, text, 1.0 / pid, 0.9, source)


def test_per_article_cap_keeps_order() -> None:
    cands = [cand(1, "a", "x"), cand(2, "a", "y"), cand(3, "a", "z"), cand(4, "b", "w")]
    assert [c.id for c in rank_page(cands, 2, 0, 3)] == [1, 2, 4]
    assert [c.id for c in rank_page(cands, 2, 0, 10)] == [1, 2, 4, 3]  # over the cap: after the others
    assert [c.id for c in rank_page(cands, 0, 0, 10)] == [1, 2, 3, 4]
    assert [c.id for c in rank_page(cands, 2, 1, 2)] == [2]  # the second result alone


def test_one_article_fills_the_page_once_no_other_comes_close() -> None:
    """The cap holds while another article's passage comes close; the third passage of the
    answering article then goes ahead of passages that are not close (issue 8)."""
    scores = {1: 5.0, 2: 4.8, 3: 4.5, 4: 4.4, 5: 2.0, 6: 1.9}
    articles = {1: "a", 2: "a", 3: "a", 4: "b", 5: "c", 6: "a"}
    cands = [Candidate(i, articles[i], f"text {i}", scores[i], 0.9) for i in scores]
    assert [c.id for c in rank_page(cands, 2, 0, 10, close=4.0)] == [1, 2, 4, 3, 5, 6]
    assert [c.id for c in rank_page(cands, 2, 0, 4)] == [1, 2, 4, 5]  # no threshold: all come close
    # A one-article corpus: every section within reach.
    alone = [Candidate(i, "a", f"section {i}", 5.0 - i, 0.9) for i in range(1, 7)]
    assert [c.id for c in rank_page(alone, 2, 0, 5, close=3.9)] == [1, 2, 3, 4, 5]
    # Pages continue the same order.
    assert [c.id for c in rank_page(cands, 2, 2, 4, close=4.0)] == [4, 3]


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


def test_shingles_and_the_pool_agree_with_their_definitions() -> None:
    """The fast paths (ASCII text, or text whose only other characters are news punctuation,
    split after one translation; one intersection with the union
    of a page's 3-grams) give what the definitions give: words as ``\\w+`` finds them in the
    casefolded text, the first passage of the page that ``near_duplicate`` pairs with."""
    texts = [
        WIRE, "JAKARTA (Reuters) - " + WIRE, "a_b c-d e\x00f\x7fg h", "U.S.-led talks: 3rd round", "",
        "two words", "Café au lait ÉTÉ straße in Zürich", "Jakarta, Antara - " + WIRE[:60],
        "".join(chr(c) for c in range(128)),
        "\u201cNo\u201d \u2013 it\u2019s \u00a35\u2026 \u2018final\u2019\u200e",
        "\u201cCaf\u00e9\u201d\u2014Stra\u00dfe\u2019s ber\u00fchmt",
    ]  # fmt: skip
    for text in texts:
        words = re.findall(r"\w+", text.casefold())
        grams = (
            frozenset(zip(words, words[1:], words[2:], strict=False)) if len(words) > 2 else {tuple(words)}
        )
        assert shingles(text) == grams
    rng = random.Random(7)
    vocab = WIRE.split()[:12]
    page = [
        Candidate(i, str(i), " ".join(rng.choices(vocab, k=rng.randint(2, 30))), 1.0, 0.9) for i in range(8)
    ]
    pool = Pool()
    for c in page:
        pool.add(c, shingles(c.text))
    for _ in range(300):
        text = " ".join(rng.choices([*vocab, "other"], k=rng.randint(1, 30)))
        grams = shingles(text)
        twin = next((c for c in page if near_duplicate(shingles(c.text), grams)), None)
        assert pool.first_twin(grams) is twin
        assert pool.first_twin_of(text) is twin


def test_a_passage_met_again_by_the_next_search_is_not_cut_into_words_again(monkeypatch) -> None:
    """Related questions share candidates: the 3-grams folding made are kept, and the next search
    folds and checks the copies below its page with them, to the same page."""
    cands = [cand(1, "a", WIRE, "Reuters"), cand(2, "b", f"SYDNEY (AP) {WIRE}", "AP"), cand(3, "c", "Other.")]
    monkeypatch.setattr(fusion, "KEPT", fusion.KeptGrams())
    assert [(c.id, c.also_in) for c in rank_page(cands, 2, 0, 3)] == [(1, ["AP"]), (3, [])]
    cut: list[str] = []
    words = fusion._words
    monkeypatch.setattr(fusion, "_words", lambda text: cut.append(text) or words(text))
    again = [dataclasses.replace(c, also_in=[]) for c in cands]
    assert [(c.id, c.also_in) for c in rank_page(again, 2, 0, 1)] == [(1, ["AP"])]  # 2 below the page
    assert cut == []


def test_kept_3_grams_go_least_recently_met_first() -> None:
    kept = fusion.KeptGrams(size=2)
    kept.of("a b c")
    kept.of("b c d")
    assert kept.get("a b c") == shingles("a b c")  # met again: now the most recent
    kept.of("c d e")
    assert kept.get("b c d") is None and kept.get("a b c") is not None


def test_keyword_query_asks_the_rarest_terms_within_a_postings_budget() -> None:
    """In a big corpus a question's common words would make BM25 score most of the index."""
    freqs = {"kishida": 40, "stoltenberg": 25, "nato": 4_000, "tokyo": 3_000, "japan": 9_000}
    terms = ["kishida", "nato", "tokyo", "japan", "stoltenberg"]
    assert match_expression(terms, freqs, 1_000_000) == '"stoltenberg" OR "kishida" OR "tokyo"'
    # The rarest term is asked even when it alone is over the budget.
    assert match_expression(["japan"], freqs, 1_000_000) == '"japan"'
    assert match_expression(["unknown"], freqs, 1_000_000) is None
