"""Language detection: ISO 639-1 codes, Indonesian never filed as Malay, no guess on scraps."""

from __future__ import annotations

import threading

import pytest
from foreign_desk.index.lang import detect_language


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Sekretaris Jenderal NATO melawat ke Jepang sebagai bagian dari tur Asia Timurnya.", "id"),
        # a short Indonesian headline the unrestricted model calls Malay
        ("Terancam Korut-China-Rusia, Jepang dan NATO Perkuat Kerja Sama", "id"),
        ("Southeast Asian leaders urged Myanmar's military government to carry out a peace plan.", "en"),
        ("Les dirigeants européens se sont réunis à Bruxelles pour parler de la défense.", "fr"),
        ("Президент заявил, что переговоры продолжатся на следующей неделе.", "ru"),
    ],
)
def test_detect_language(text: str, expected: str) -> None:
    assert detect_language(text) == expected


@pytest.mark.parametrize("text", ["", "NATO", "1234 5678 !!!", "— • —"])
def test_too_little_text_is_unknown(text: str) -> None:
    assert detect_language(text) is None


def test_concurrent_first_calls_agree() -> None:
    results: list[str | None] = []
    text = "Menteri Luar Negeri Indonesia bertemu mitranya di Jakarta pada hari Senin."
    threads = [threading.Thread(target=lambda: results.append(detect_language(text))) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == ["id"] * 4
