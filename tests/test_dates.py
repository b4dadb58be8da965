"""Publication dates: every format in the corpus and feeds, and dates found in article text."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from foreign_desk.index.dates import find_date_in_text, parse_published, parse_published_day

WIB = timezone(timedelta(hours=7))


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2023-01-31", "2023-01-31"),
        ("2023-01-31T10:00:00Z", "2023-01-31T10:00:00Z"),
        ("2023-01-31T10:00:00+07:00", "2023-01-31T03:00:00Z"),
        ("2023-01-31T02:00:00+07:00", "2023-01-30T19:00:00Z"),  # the day changes in UTC
        ("2023-01-31 10:00", "2023-01-31T10:00:00Z"),
        ("2023-01-31T10:00:00.123456Z", "2023-01-31T10:00:00Z"),
        ("2023-01-31 14:05:00 WIB", "2023-01-31T07:05:00Z"),
        ("Tue, 31 Jan 2023 10:00:00 +0700", "2023-01-31T03:00:00Z"),
        ("Tue, 31 Jan 2023 10:00:00 GMT", "2023-01-31T10:00:00Z"),
        ("Tue, 31 Jan 2023 10:00:00 PST", "2023-01-31T18:00:00Z"),
        ("10/21/2025 20:43", "2025-10-21T20:43:00Z"),  # Detik's M/D/YYYY H:MM
        ("1/2/2024", "2024-01-02"),  # ambiguous: month first, like the feeds that use slashes
        ("21/10/2025", "2025-10-21"),  # 21 cannot be a month
        ("31 Januari 2023", "2023-01-31"),
        ("Selasa, 31 Januari 2023 14:05 WIB", "2023-01-31T07:05:00Z"),
        ("Jumat, 17 Agustus 2023 | 08.15 WIB", "2023-08-17T01:15:00Z"),
        ("17 Agu 2023", "2023-08-17"),
        ("1 Mei 2024", "2024-05-01"),
        ("January 31, 2023", "2023-01-31"),
        ("Tuesday, Jan. 31, 2023 5:30 pm EST", "2023-01-31T22:30:00Z"),
        ("31 January 2023", "2023-01-31"),
        ("  2023-01-31  ", "2023-01-31"),
        (date(2023, 1, 31), "2023-01-31"),
        (datetime(2023, 1, 31, 10, 0), "2023-01-31T10:00:00Z"),  # naive: taken as UTC
        (datetime(2023, 1, 31, 10, 0, tzinfo=WIB), "2023-01-31T03:00:00Z"),
    ],
)
def test_parse_published(value: object, expected: str) -> None:
    assert parse_published(value) == expected  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Rabu, 8 Juni 2022 06:30 WIB", ("2022-06-07T23:30:00Z", "2022-06-08")),  # the outlet's day
        ("2022-06-07T21:00:00-04:00", ("2022-06-08T01:00:00Z", "2022-06-07")),  # a US evening
        ("Wed, 08 Jun 2022 14:30:00 +0700", ("2022-06-08T07:30:00Z", None)),  # the same day in UTC
        ("2022-06-08", ("2022-06-08", None)),
        ("garbage", (None, None)),
    ],
)
def test_the_local_day_is_kept_where_utc_would_change_it(
    value: str, expected: tuple[str | None, str | None]
) -> None:
    assert parse_published_day(value) == expected


@pytest.mark.parametrize(
    "value",
    [None, "", "   ", "garbage", "kemarin sore", "5", "2023", "2023-13-45", "2023-02-30", "0001-01-01",
     "31 Februari 2023", "32/1/2023", "1899-12-31", "2999-01-01T00:00:00Z"],
)  # fmt: skip
def test_unreadable_or_implausible_dates_are_none(value: str | None) -> None:
    assert parse_published(value) is None


IN_TWO_DAYS = datetime.now(UTC) + timedelta(days=2)


@pytest.mark.parametrize(
    "value",
    [
        IN_TWO_DAYS,
        IN_TWO_DAYS.isoformat(),
        IN_TWO_DAYS.date().isoformat(),
        IN_TWO_DAYS.strftime("%a, %d %b %Y %H:%M:%S +0000"),
        f"31 Desember {IN_TWO_DAYS.year + 1}",
    ],
)
def test_a_date_in_the_future_is_not_believed(value: str | datetime) -> None:
    """A page or feed dated next year would head /latest until then."""
    assert parse_published(value) is None


def test_a_date_up_to_a_day_ahead_is_believed() -> None:
    """Time zones ahead of UTC and clocks that drift put honest dates a little in the future."""
    soon = datetime.now(UTC).replace(microsecond=0) + timedelta(hours=20)
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).date().isoformat()
    assert parse_published(soon) == soon.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert parse_published(tomorrow) == tomorrow


def test_a_future_date_in_the_text_is_a_plan_not_the_publication_day() -> None:
    vote = date(datetime.now(UTC).year + 1, 12, 31)
    text = f"A vote is due on {vote:%A, %B %d, %Y}. The treaty was signed on Wednesday, March 3, 1999."
    assert find_date_in_text(text) == "1999-03-03"


def test_naive_times_can_be_read_in_another_zone() -> None:
    assert parse_published("10/21/2025 20:43", assume_tz=WIB) == "2025-10-21T13:43:00Z"
    assert parse_published("10/21/2025 20:43 UTC", assume_tz=WIB) == "2025-10-21T20:43:00Z"


def test_iso_strings_sort_in_time_order() -> None:
    values = ["Tue, 31 Jan 2023 23:30:00 +0000", "2023-01-31T10:00:00+07:00", "2023-01-30"]
    parsed = [parse_published(v) for v in values]
    assert sorted(parsed) == ["2023-01-30", "2023-01-31T03:00:00Z", "2023-01-31T23:30:00Z"]  # type: ignore[type-var]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # the sample: a range ending 1 Februari comes first, the reported day is Selasa (31/1/2023)
        (
            "Kunjungannya berlangsung dari tanggal 30 Januari-1 Februari 2023. "
            "kata Stoltenberg di Iruma Air Base, Selasa (31/1/2023).",
            "2023-01-31",
        ),
        ("Ditemui di BSD, Kamis (18/8 / 2016), Henry mengatakan", "2016-08-18"),
        ("Rabu (2/3/22) lalu", "2022-03-02"),
        # weekday dates win over plain ones; the latest of them is taken
        ("Senin (30/1/2023) dia tiba, Selasa (31/1/2023) dia bicara. Pemilu 14 Februari 2024.", "2023-01-31"),
        # a weekday that disagrees with the calendar is no evidence; nor is a date without one
        ("Pada 5 Maret 2020 dan Senin (31/1/2023) dia tiba.", None),
        ("Pada Selasa, 31 Januari 2023, NATO dan Jepang sepakat.", "2023-01-31"),
        ("On Tuesday, January 31, 2023, the chief said. A vote is due on March 5, 2024.", "2023-01-31"),
        # full dates without a weekday are mostly background (a battle, a treaty): no date at all
        ("The treaty was signed on 3 March 1999 and revised on 1 June 2004.", None),
        ("Dokumen bertanggal 2023-11-06 itu bocor.", None),
        (
            "Private Richard Norden ran into enemy fire on 14 May 1968 to reach a wounded comrade. "
            "The Governor-General presented the medal to his family on Tuesday.",
            None,
        ),
        ("Selasa (31/1) tanpa tahun.", None),
        ("Tidak ada tanggal di sini.", None),
    ],
)
def test_find_date_in_text(text: str, expected: str | None) -> None:
    assert find_date_in_text(text) == expected
