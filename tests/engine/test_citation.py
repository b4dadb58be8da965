from __future__ import annotations

import pytest
from foreign_desk.index.citation import citation, format_date, format_paragraphs
from foreign_desk.index.models import ArticleRef


@pytest.mark.parametrize(
    ("paragraphs", "expected"),
    [((), None), ((7,), "¶7"), ((4, 5, 6), "¶4-6"), ((2, 4), "¶2, 4"), ((3, 1, 2, 9), "¶1-3, 9")],
)
def test_paragraph_ranges(paragraphs: tuple[int, ...], expected: str | None) -> None:
    assert format_paragraphs(paragraphs) == expected


@pytest.mark.parametrize(
    ("published", "expected"),
    [("2023-01-31", "31 Jan 2023"), ("2025-03-02T10:00:00Z", "2 Mar 2025"), (None, None)],
)
def test_dates(published: str | None, expected: str | None) -> None:
    assert format_date(published) == expected


def test_citation_has_headline_outlet_date_paragraphs_and_link() -> None:
    ref = ArticleRef("x", "Japan and NATO", "IDN Times", "https://idn.example/a", "2023-01-31", "id", None)
    line = citation(ref, (18, 19), ("Antara",))
    assert line == "“Japan and NATO”, IDN Times, 31 Jan 2023, ¶18-19, also in Antara, https://idn.example/a"


def test_citation_falls_back_to_the_corpus_path() -> None:
    ref = ArticleRef("x", "T", None, None, None, None, "/corpus/a.txt")
    assert citation(ref, (1,)) == "“T”, ¶1, /corpus/a.txt"
