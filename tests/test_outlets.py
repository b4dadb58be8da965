"""Datelines: the outlet and place an Indonesian or wire article opens with."""

from __future__ import annotations

import pytest
from foreign_desk.index.outlets import Dateline, parse_dateline


@pytest.mark.parametrize(
    ("paragraph", "expected"),
    [
        ("Jakarta, IDN Times - Menteri luar negeri bertemu.", Dateline("IDN Times", "Jakarta", 21)),
        ("Jakarta (ANTARA) – Presiden tiba.", Dateline("Antara", "Jakarta", 19)),
        ("KYIV, Ukraine (AP) — Russian forces attacked.", Dateline("AP", "KYIV, Ukraine", 21)),
        ("TEMPO.CO, Jakarta -- Harga minyak naik.", Dateline("Tempo", "Jakarta", 21)),
        ("Suara.com - Berita", Dateline("Suara", None, 12)),
        ("Jakarta, IDN Times Menteri luar negeri bertemu.", None),  # no dash: no dateline
        ("Jakarta (ANTARA) -", None),  # nothing after it
        (f"Jakarta, IDN Times {'sangat ' * 20}- Menteri", None),  # the dash too far in
    ],
)
def test_dateline(paragraph: str, expected: Dateline | None) -> None:
    assert parse_dateline(paragraph) == expected
