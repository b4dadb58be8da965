"""Month and weekday names (Indonesian and English, with the abbreviations news prints), shared
by article dates (``dates``) and the dates a question asks about (``asked_dates``). A module of
their own: answering a question needs the names, not the article-date parser's patterns
(~10 ms of a cold start to compile).
"""

from __future__ import annotations

MONTHS: dict[str, int] = {}
for _number, _names in enumerate(
    [
        "januari january jan",
        "februari february feb pebruari",
        "maret march mar",
        "april apr",
        "mei may",
        "juni june jun",
        "juli july jul",
        "agustus august aug agu agt agus ags",
        "september sep sept",
        "oktober october okt oct",
        "november nov nop",
        "desember december des dec",
    ],
    start=1,
):
    for _name in _names.split():
        MONTHS[_name] = _number

WEEKDAYS: dict[str, int] = {}
for _number, _names in enumerate(
    [
        "senin monday mon",
        "selasa tuesday tue tues",
        "rabu wednesday wed",
        "kamis thursday thu thur thurs",
        "jumat jum'at jum’at friday fri",
        "sabtu saturday sat",
        "minggu ahad sunday sun",
    ]
):
    for _name in _names.split():
        WEEKDAYS[_name] = _number
