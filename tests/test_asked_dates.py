"""The time a question names, as a span of publication days (a preference, never a filter)."""

from __future__ import annotations

from datetime import date

import pytest
from foreign_desk.index.asked_dates import Period, period_asked, time_asked

NOW = date(2017, 7, 20)  # a Thursday


@pytest.mark.parametrize(
    ("question", "first", "last"),
    [
        ("Who led the delegation to China in February 2025?", "2025-02-01", "2025-02-28"),
        ("Siapa yang berkunjung ke China pada Februari 2025?", "2025-02-01", "2025-02-28"),
        ("Apa yang terjadi pada Maret 2017?", "2017-03-01", "2017-03-31"),
        ("Apa yang disepakati Maret tahun 2017?", "2017-03-01", "2017-03-31"),
        ("What happened in May 2017?", "2017-05-01", "2017-05-31"),
        ("Which Indian diplomat did Islamabad expel in 2016?", "2016-01-01", "2016-12-31"),
        ("What was agreed on 7 August 2017 in Manila?", "2017-08-07", "2017-08-07"),
        ("What was agreed on August 7, 2017?", "2017-08-07", "2017-08-07"),
        ("Which Chinese Nobel laureate died in custody last week?", "2017-07-10", "2017-07-16"),
        ("Siapa peraih Nobel yang meninggal pekan lalu?", "2017-07-10", "2017-07-16"),
        ("Apa yang terjadi minggu lalu di Marawi?", "2017-07-10", "2017-07-16"),
        ("What did Pyongyang threaten this week?", "2017-07-17", "2017-07-20"),
        ("Who was arrested yesterday?", "2017-07-19", "2017-07-19"),
        ("Siapa yang ditangkap kemarin?", "2017-07-19", "2017-07-19"),
        ("Siapa yang ditangkap kemarin lusa?", "2017-07-18", "2017-07-18"),
        ("What happened three weeks ago, 10 days ago?", "2017-07-10", "2017-07-10"),
        ("What did the minister say on Tuesday?", "2017-07-18", "2017-07-18"),
        ("Who won the election last month?", "2017-06-01", "2017-06-30"),
        ("Apa kata presiden bulan ini?", "2017-07-01", "2017-07-20"),
        ("Who visited Jakarta last year?", "2016-01-01", "2016-12-31"),
        ("What did Jokowi say in March?", "2017-03-01", "2017-03-31"),
        ("What did Jokowi say in September?", "2016-09-01", "2016-09-30"),  # the last September
        # Ranges, decades, open ends and Indonesian weekdays (the audit of 2026-12-01):
        ("What happened between March and May 2017?", "2017-03-01", "2017-05-31"),
        ("Apa yang terjadi dari Maret sampai Mei 2017?", "2017-03-01", "2017-05-31"),
        ("Who ruled from December to February 2017?", "2016-12-01", "2017-02-28"),
        ("What did the G20 agree in 2015-2016?", "2015-01-01", "2016-12-31"),
        ("Who led the 2015-16 talks?", "2015-01-01", "2016-12-31"),
        ("What was agreed on 2017-03-14?", "2017-03-14", "2017-03-14"),
        ("How did Jakarta grow in the 1990s?", "1990-01-01", "1999-12-31"),
        ("Bagaimana Jakarta pada tahun 1990-an?", "1990-01-01", "1999-12-31"),
        ("What has changed since 2015?", "2015-01-01", "2017-07-20"),
        ("Apa yang berubah sejak Maret?", "2017-03-01", "2017-07-20"),
        ("Who took over after the 2015 election?", "2015-01-01", "2015-12-31"),  # reported then
        ("Apa kata menteri Jumat kemarin?", "2017-07-14", "2017-07-14"),  # last Friday, not yesterday
        ("Siapa yang datang Senin lalu?", "2017-07-17", "2017-07-17"),
        # A count beside a year, and a year before a counted noun (the audit of 2026-12-02):
        ("Were 2000 troops still there in 2003?", "2003-01-01", "2003-12-31"),
        ("In 2000 troops were sent where?", "2000-01-01", "2000-12-31"),
        ("Berapa korban banjir tahun 2000 orang?", "2000-01-01", "2000-12-31"),
        ("What ended the 2019 protests?", "2019-01-01", "2019-12-31"),
    ],
)
def test_a_named_time_becomes_the_days_it_covers(question: str, first: str, last: str) -> None:
    period = period_asked(question, NOW)
    assert period is not None and period.as_json() == [first, last]


@pytest.mark.parametrize(
    "question",
    [
        "What did NATO and Japan agree on?",
        "What may happen to the talks?",  # "may" is a verb here
        "How much was the US$ 2017/18 budget?",  # not a year on its own
        "Who won 1500 votes?",
        "Berapa jumlah 2025000 orang?",
        "How many of the 2000 troops went home?",  # counts: no preference for the year 2000
        "How many of the 2000 US troops went home?",
        "Berapa dari 1950 pengungsi yang kembali?",
        "Who freed more than 2000 detainees?",
    ],
)
def test_no_time_named_means_no_preference(question: str) -> None:
    assert period_asked(question, NOW) is None


def test_relative_words_need_the_day_the_question_is_asked() -> None:
    assert period_asked("Who was arrested yesterday?") is None
    assert period_asked("Who was arrested in 2016?") == Period(date(2016, 1, 1), date(2016, 12, 31))


def test_a_period_covers_days_and_times_of_its_days() -> None:
    march = Period(date(2017, 3, 1), date(2017, 3, 31))
    assert march.covers("2017-03-31T23:59:00Z") and march.covers("2017-03-01")
    assert not march.covers("2017-04-01") and not march.covers(None) and not march.covers("")


@pytest.mark.parametrize(
    ("question", "undated"),
    [
        ("What did NATO and Japan agree on in 2024?", "What did NATO and Japan agree on?"),
        ("Apa yang disepakati pada tahun 2024?", "Apa yang disepakati?"),
        ("Who won the 2015 election in Myanmar?", "Who won the election in Myanmar?"),
        ("What happened between March and May 2017?", "What happened?"),
        ("Siapa yang ditangkap kemarin?", "Siapa yang ditangkap?"),
        ("How many of the 2000 troops went home?", "How many of the 2000 troops went home?"),
        ("2024?", "2024?"),  # nothing else to weigh passages by
    ],
)
def test_the_model_weighs_the_question_without_its_dates(question: str, undated: str) -> None:
    assert time_asked(question, NOW)[1] == undated
