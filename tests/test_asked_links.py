"""The links in a question: its words apart from its links, and the words of an address."""

from __future__ import annotations

import pytest
from foreign_desk.index.asked_links import address_words, split_links, url_spellings


@pytest.mark.parametrize(
    ("text", "words", "links"),
    [
        ("https://x.example/a1.html", "", ["https://x.example/a1.html"]),
        ("what was agreed? see https://x.example/a.", "what was agreed? see", ["https://x.example/a"]),
        ("https://x.example/a https://x.example/a, and", "and", ["https://x.example/a"]),
        ("who visited Japan?", "who visited Japan?", []),
    ],
)
def test_a_question_is_its_words_and_its_links(text: str, words: str, links: list[str]):
    assert split_links(text) == (words, links)


def test_an_address_has_words_to_ask_about():
    assert address_words("https://x.example/world/2024/mar/11/china-live-fire-drills-taiwan-strait") == (
        "china live fire drills taiwan strait"
    )
    assert address_words("https://x.example/berita/4012399/menlu-ri-pastikan-evakuasi.html") == (
        "menlu ri pastikan evakuasi"
    )
    assert address_words("https://x.example/") == ""


def test_an_address_too_broken_to_read_is_looked_up_as_typed():
    """Not a failure with an apology: "https://[oops" (an unclosed IPv6 bracket) names nothing."""
    assert url_spellings(" https://[oops ", "https://[oops") == ["https://[oops"]
