"""The Chinese working-day calendar: official years from chinesecalendar, projected years from
holidays, rolls, T+n, the provisional rule and the schedule file formats."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta

import chinese_calendar
import holidays
import pytest
from hypothesis import given
from hypothesis import strategies as st

from chainfin.domain.errors import ChainfinError, ValidationFailed
from chainfin.domain.workcal import (
    PACKAGE_SOURCE,
    PROJECTION_SOURCE,
    NoSchedule,
    RollConvention,
    Rolled,
    WorkingCalendar,
    WorkingDays,
    YearSchedule,
    official_from_package,
    parse_schedule,
    projected,
)

CALENDAR = WorkingCalendar.from_package()

# A made-up 2027 schedule (the real notice is not in the package): Spring Festival off from
# Friday 5 to Thursday 11 February, weekend included, and Saturday 20 February worked.
FIXTURE_2027 = json.dumps(
    {
        "year": 2027,
        "source": "test fixture, not the real 2027 notice",
        "holidays": ["2027-01-01", *(f"2027-02-{day:02d}" for day in range(5, 12))],
        "workdays": ["2027-02-20"],
    }
)


def _days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


# --- official years ---------------------------------------------------------------------------


def test_the_package_gives_official_schedules_for_2004_to_2026() -> None:
    schedules = official_from_package()
    assert sorted(schedules) == list(range(2004, 2027))
    assert all(s.official and s.source == PACKAGE_SOURCE for s in schedules.values())
    assert schedules[2026].source == f"chinesecalendar {chinese_calendar.__version__}"
    assert all(year == s.year for year, s in schedules.items())


def test_every_official_day_agrees_with_the_package() -> None:
    for day in _days(date(2004, 1, 1), date(2026, 12, 31)):
        assert CALENDAR.is_working_day(day) == chinese_calendar.is_workday(day), day


def test_spring_festival_2025_as_published() -> None:
    # 2025-01-28 (Tue) to 2025-02-04 (Tue) off; Sunday 26 January and Saturday 8 February worked.
    off = _days(date(2025, 1, 28), date(2025, 2, 4))
    worked = [date(2025, 1, 26), date(2025, 2, 8)]
    for day in off:
        assert chinese_calendar.is_holiday(day)
        assert not CALENDAR.is_working_day(day)
    for day in worked:
        assert day.weekday() >= 5
        assert chinese_calendar.is_workday(day)
        assert CALENDAR.is_working_day(day)


def test_national_day_2025_and_spring_festival_2024_and_2026_as_published() -> None:
    cases = [
        (_days(date(2025, 10, 1), date(2025, 10, 8)), [date(2025, 9, 28), date(2025, 10, 11)]),
        (_days(date(2024, 2, 10), date(2024, 2, 17)), [date(2024, 2, 4), date(2024, 2, 18)]),
        (_days(date(2026, 2, 15), date(2026, 2, 23)), [date(2026, 2, 14), date(2026, 2, 28)]),
    ]
    for off, worked in cases:
        assert not any(chinese_calendar.is_workday(d) or CALENDAR.is_working_day(d) for d in off)
        assert all(chinese_calendar.is_workday(d) and CALENDAR.is_working_day(d) for d in worked)


def test_schedules_are_canonical_weekday_holidays_and_weekend_workdays() -> None:
    schedule = CALENDAR.schedule(2025)
    assert date(2025, 2, 1) in chinese_calendar.holidays  # a Saturday inside Spring Festival
    assert date(2025, 2, 1) not in schedule.holidays  # ... off anyway, so not listed
    assert all(d.weekday() < 5 for d in schedule.holidays)
    assert schedule.workdays == {
        date(2025, 1, 26),
        date(2025, 2, 8),
        date(2025, 4, 27),
        date(2025, 9, 28),
        date(2025, 10, 11),
    }


# --- projected years --------------------------------------------------------------------------


def test_2027_is_projected_from_the_statutory_holidays_without_make_up_days() -> None:
    schedule = projected(2027)
    statutory = holidays.China(years=2027)
    assert not schedule.official
    assert schedule.source == PROJECTION_SOURCE
    assert schedule.source == (
        f"projected: weekends + holidays {holidays.__version__} China statutory holidays"
    )
    assert schedule.holidays == {d for d in statutory if d.weekday() < 5}
    assert schedule.workdays == frozenset()
    # Spring Festival 2027: eve Friday 5 Feb, then Sat-Mon, and the weekend days made up on
    # Tuesday and Wednesday.
    assert {date(2027, 2, 5), date(2027, 2, 8), date(2027, 2, 9), date(2027, 2, 10)} <= (
        schedule.holidays
    )
    assert CALENDAR.schedule(2027) == schedule
    assert not CALENDAR.is_official(2027)
    assert CALENDAR.is_official(2026)


@pytest.mark.parametrize("year", [1949, 2101])
def test_a_year_neither_published_nor_projectable_is_a_typed_error(year: int) -> None:
    with pytest.raises(NoSchedule, match=f"no working-day schedule for {year}") as caught:
        CALENDAR.roll(date(year, 6, 1), "following")
    assert isinstance(caught.value, ChainfinError)
    assert caught.value.code == "no_working_day_schedule"
    assert "chainfin calendar load FILE" in caught.value.diagnostics()
    assert not CALENDAR.is_official(year)


# --- rolls ------------------------------------------------------------------------------------

F, MF, P, MP, U = (
    "following",
    "modified_following",
    "preceding",
    "modified_preceding",
    "unadjusted",
)


@pytest.mark.parametrize(
    ("day", "convention", "expected"),
    [
        # Spring Festival 2025: off Tue 28 Jan .. Tue 4 Feb.
        (date(2025, 1, 28), F, date(2025, 2, 5)),
        (date(2025, 1, 28), MF, date(2025, 1, 27)),  # following would leave January
        (date(2025, 1, 28), P, date(2025, 1, 27)),
        (date(2025, 1, 28), MP, date(2025, 1, 27)),
        (date(2025, 1, 28), U, date(2025, 1, 28)),
        (date(2025, 2, 1), F, date(2025, 2, 5)),
        (date(2025, 2, 1), MF, date(2025, 2, 5)),
        (date(2025, 2, 1), P, date(2025, 1, 27)),
        (date(2025, 2, 1), MP, date(2025, 2, 5)),  # preceding would leave February
        # Make-up working days are working days, weekend or not.
        (date(2025, 1, 26), F, date(2025, 1, 26)),
        (date(2025, 1, 25), F, date(2025, 1, 26)),
        (date(2025, 2, 8), P, date(2025, 2, 8)),
        (date(2025, 2, 9), P, date(2025, 2, 8)),
        # National Day 2025: off Wed 1 .. Wed 8 Oct; Sun 28 Sep and Sat 11 Oct worked.
        (date(2025, 10, 1), F, date(2025, 10, 9)),
        (date(2025, 10, 1), MF, date(2025, 10, 9)),
        (date(2025, 10, 1), P, date(2025, 9, 30)),
        (date(2025, 10, 1), MP, date(2025, 10, 9)),  # preceding would leave October
        (date(2025, 9, 27), F, date(2025, 9, 28)),
        (date(2025, 10, 12), P, date(2025, 10, 11)),
        # National Day 2023 begins Fri 29 Sep (Mid-Autumn); Sat 7 Oct is the next working day.
        (date(2023, 9, 29), F, date(2023, 10, 7)),
        (date(2023, 9, 29), MF, date(2023, 9, 28)),  # must not cross the month end
        (date(2023, 9, 30), MF, date(2023, 9, 28)),
        # Dragon Boat 2025: Sat 31 May .. Mon 2 Jun.
        (date(2025, 5, 31), F, date(2025, 6, 3)),
        (date(2025, 5, 31), MF, date(2025, 5, 30)),
        # Spring Festival 2026: off Sun 15 .. Mon 23 Feb; Sat 28 Feb worked.
        (date(2026, 2, 15), F, date(2026, 2, 24)),
        (date(2026, 2, 15), P, date(2026, 2, 14)),
        (date(2026, 3, 1), P, date(2026, 2, 28)),
        (date(2026, 3, 1), MP, date(2026, 3, 2)),
    ],
    ids=str,
)
def test_roll(day: date, convention: str, expected: date) -> None:
    assert CALENDAR.roll(day, convention) == Rolled(expected, False, convention, expected != day)
    assert chinese_calendar.is_workday(expected) or convention == U


def test_roll_conventions_are_named_loosely_and_checked() -> None:
    assert RollConvention.parse("Modified Following") is RollConvention.MODIFIED_FOLLOWING
    assert RollConvention.parse("modified-preceding") is RollConvention.MODIFIED_PRECEDING
    with pytest.raises(ValueError, match="unknown roll convention 'nearest'; known: following, "):
        CALENDAR.roll(date(2025, 1, 28), "nearest")


def test_datetimes_are_refused() -> None:
    with pytest.raises(TypeError, match="takes dates, not datetime"):
        CALENDAR.roll(datetime(2025, 1, 28), "following")  # noqa: DTZ001


# --- the provisional rule ---------------------------------------------------------------------


def test_a_roll_in_a_projected_year_is_provisional() -> None:
    assert CALENDAR.roll(date(2027, 2, 8), F) == Rolled(date(2027, 2, 11), True, F, True)
    assert CALENDAR.roll(date(2027, 2, 11), F) == Rolled(date(2027, 2, 11), True, F, False)
    # Unadjusted consults no schedule: the date cannot change when 2027 is published.
    assert CALENDAR.roll(date(2027, 2, 8), U) == Rolled(date(2027, 2, 8), False, U, False)


def test_the_last_day_of_2026_and_the_first_of_2027() -> None:
    # Thursday 31 December 2026 is a working day in the official 2026 schedule: nothing in
    # 2027 is examined, so the roll is final ...
    assert CALENDAR.roll(date(2026, 12, 31), F) == Rolled(date(2026, 12, 31), False, F, False)
    # ... but T+1 lands in 2027 (Friday 1 January is New Year's Day), and a roll from 2027
    # back into 2026 was decided by 2027's projected schedule.
    t_plus_1 = CALENDAR.add_working_days(date(2026, 12, 31), 1)
    assert t_plus_1 == Rolled(date(2027, 1, 4), True, "+1 working day", True)
    assert CALENDAR.roll(date(2027, 1, 1), P) == Rolled(date(2026, 12, 31), True, P, True)


def test_a_roll_from_2026_that_examines_2027_is_provisional() -> None:
    # What if 2026-12-31 were a holiday: following must look into (projected) 2027, while
    # modified following stays in December and sees only official 2026.
    official_2026 = CALENDAR.schedule(2026)
    what_if = YearSchedule.of(
        2026,
        [*official_2026.holidays, date(2026, 12, 31)],
        official_2026.workdays,
        source="test: 2026 with New Year's Eve off",
        official=True,
    )
    calendar = CALENDAR.with_schedules([what_if])
    assert calendar.roll(date(2026, 12, 31), F) == Rolled(date(2027, 1, 4), True, F, True)
    assert calendar.roll(date(2026, 12, 31), MF) == Rolled(date(2026, 12, 30), False, MF, True)
    assert calendar.roll(date(2026, 12, 31), P) == Rolled(date(2026, 12, 30), False, P, True)


def test_loading_the_2027_schedule_makes_it_official_and_can_change_a_roll() -> None:
    loaded = parse_schedule(FIXTURE_2027, "2027.json")
    calendar = CALENDAR.with_schedules(loaded)
    assert calendar.is_official(2027)
    assert not CALENDAR.is_official(2027)  # with_schedules makes a new calendar
    assert calendar.schedule(2027).source == "test fixture, not the real 2027 notice"
    # Thursday 11 Feb: a working day in the projection, a holiday in the loaded schedule.
    assert CALENDAR.roll(date(2027, 2, 11), F) == Rolled(date(2027, 2, 11), True, F, False)
    assert calendar.roll(date(2027, 2, 11), F) == Rolled(date(2027, 2, 12), False, F, True)
    # Saturday 20 Feb: off in the projection, a make-up working day once loaded.
    assert CALENDAR.roll(date(2027, 2, 20), F) == Rolled(date(2027, 2, 22), True, F, True)
    assert calendar.roll(date(2027, 2, 20), F) == Rolled(date(2027, 2, 20), False, F, False)
    # The same date, now final.
    t_plus_1 = calendar.add_working_days(date(2026, 12, 31), 1)
    assert t_plus_1 == Rolled(date(2027, 1, 4), False, "+1 working day", True)


# --- T+n and counts ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "n", "expected"),
    [
        (date(2025, 1, 27), 1, date(2025, 2, 5)),
        (date(2025, 1, 24), 1, date(2025, 1, 26)),  # a Sunday make-up day counts
        (date(2025, 1, 24), 3, date(2025, 2, 5)),
        (date(2025, 2, 5), -1, date(2025, 1, 27)),
        (date(2025, 1, 28), 0, date(2025, 2, 5)),  # T+0 on a holiday: the following day
        (date(2025, 1, 27), 0, date(2025, 1, 27)),
    ],
    ids=str,
)
def test_add_working_days(day: date, n: int, expected: date) -> None:
    result = CALENDAR.add_working_days(day, n)
    assert (result.date, result.provisional, result.moved) == (expected, False, expected != day)


def test_working_days_between_counts_after_the_start_up_to_the_end() -> None:
    # After Fri 24 Jan up to Mon 10 Feb 2025: 26, 27 Jan and 5, 6, 7, 8, 10 Feb.
    assert CALENDAR.working_days_between(date(2025, 1, 24), date(2025, 2, 10)) == WorkingDays(
        7, False
    )
    assert CALENDAR.working_days_between(date(2025, 2, 10), date(2025, 1, 24)) == WorkingDays(
        -7, False
    )
    assert CALENDAR.working_days_between(date(2025, 1, 24), date(2025, 1, 24)) == WorkingDays(
        0, False
    )
    december = CALENDAR.working_days_between(date(2026, 12, 1), date(2026, 12, 31))
    assert not december.provisional
    assert CALENDAR.working_days_between(date(2026, 12, 1), date(2027, 1, 10)).provisional


# --- YearSchedule and WorkingCalendar construction -------------------------------------------


def test_a_schedule_keeps_its_invariants() -> None:
    with pytest.raises(ValueError, match="holidays must be weekdays, got 2027-02-06"):
        YearSchedule(2027, frozenset({date(2027, 2, 6)}), frozenset(), "x", official=True)
    with pytest.raises(ValueError, match="workdays must be weekend days, got 2027-02-22"):
        YearSchedule(2027, frozenset(), frozenset({date(2027, 2, 22)}), "x", official=True)
    with pytest.raises(ValueError, match="2026-12-31 is not in the 2027 schedule's year"):
        YearSchedule(2027, frozenset({date(2026, 12, 31)}), frozenset(), "x", official=True)
    with pytest.raises(ValueError, match="the schedule for 2026 is filed under 2027"):
        WorkingCalendar({2027: CALENDAR.schedule(2026)})


# --- schedule files ---------------------------------------------------------------------------


def test_a_json_schedule() -> None:
    [schedule] = parse_schedule(FIXTURE_2027, "/var/notices/2027.json")
    assert schedule == YearSchedule(
        2027,
        # Saturday 6 and Sunday 7 February are listed but off anyway.
        frozenset(
            {date(2027, 1, 1), date(2027, 2, 5), *_days(date(2027, 2, 8), date(2027, 2, 11))}
        ),
        frozenset({date(2027, 2, 20)}),
        "test fixture, not the real 2027 notice",
        official=True,
    )


def test_a_json_list_of_schedules() -> None:
    text = json.dumps(
        [
            {"year": 2028, "source": "n2", "holidays": ["2028-01-03"], "workdays": []},
            {"year": 2027, "source": "n1", "holidays": ["2027-01-01"], "workdays": []},
        ]
    )
    assert [(s.year, s.source) for s in parse_schedule(text, "NOTICES.JSON")] == [
        (2027, "n1"),
        (2028, "n2"),
    ]


def test_a_csv_schedule_may_cover_several_years() -> None:
    text = (
        "\ufeffdate,kind,name\r\n"
        "2027-01-01,holiday,元旦\r\n"
        " 2027-02-06 , Holiday ,春节\r\n"
        "\r\n"
        "2027-02-08,holiday,春节\r\n"
        "2027-02-20,workday,春节\r\n"
        "2028-01-03,holiday,元旦\r\n"
    )
    assert parse_schedule(text, "/var/notices/2027-2028.csv") == [
        YearSchedule(
            2027,
            frozenset({date(2027, 1, 1), date(2027, 2, 8)}),
            frozenset({date(2027, 2, 20)}),
            "2027-2028.csv",
            official=True,
        ),
        YearSchedule(2028, frozenset({date(2028, 1, 3)}), frozenset(), "2027-2028.csv", True),
    ]


def _schedule(**fields: object) -> str:
    base: dict[str, object] = {
        "year": 2027,
        "source": "n",
        "holidays": ["2027-01-01"],
        "workdays": [],
    }
    return json.dumps({**base, **fields})


MONDAY_MAKE_UP = "make-up working days (调休上班) fall on Saturdays or Sundays"
CSV_ROWS = """date,kind,name
2027-01-01,holiday,元旦
2027-13-01,holiday,
2027-02-06,off,春节
2027-02-20,workday
2027-02-22,workday,春节
2027-01-01,holiday,元旦
2027-02-20,workday,春节
2027-02-20,holiday,春节
,,
2026-12-26,workday,元旦
"""


def _bad(id_: str, filename: str, text: str, *errors: str) -> object:
    return pytest.param(filename, text, list(errors), id=id_)


@pytest.mark.parametrize(
    ("filename", "text", "errors"),
    [
        _bad(
            "unknown-extension",
            "2027.txt",
            "{}",
            "format: cannot tell the format of '2027.txt'; use .json or .csv",
        ),
        _bad(
            "no-extension",
            "2027",
            "{}",
            "format: cannot tell the format of '2027'; use .json or .csv",
        ),
        _bad("empty-json", "2027.json", "", "file: is empty"),
        _bad("blank-csv", "2027.csv", " \n\n", "file: is empty"),
        _bad(
            "invalid-json",
            "2027.json",
            "{",
            "file: invalid JSON at line 1 column 2: "
            "Expecting property name enclosed in double quotes",
        ),
        _bad("empty-list", "2027.json", "[]", "file: contains no schedules"),
        _bad(
            "not-an-object",
            "2027.json",
            '"2027"',
            "file: must be a schedule object or a list of schedule objects",
        ),
        _bad(
            "missing-fields",
            "2027.json",
            "{}",
            "year: is required",
            "source: is required",
            "holidays: is required",
            "workdays: is required (an empty list if there are none)",
        ),
        _bad(
            "wrong-types",
            "2027.json",
            _schedule(year="2027", source=" ", holidays=[], workdays="2027-02-20"),
            "year: must be a year such as 2027, got '2027'",
            "source: must be text naming the State Council notice",
            "holidays: is empty; a schedule lists its year's holidays",
            "workdays: must be a list of dates (YYYY-MM-DD)",
        ),
        _bad(
            "bad-dates",
            "2027.json",
            _schedule(
                holidays=["2027-01-01", "2027-02-30", "2026-12-31", "2027-01-01", 5, "2027-1-4"],
                workdays=["2027-02-20", "2027-02-22", "2027-01-01"],
                holiday=["2027-10-01"],
            ),
            "holiday: unknown field (expected one of: year, source, holidays, workdays)",
            "holidays[1]: '2027-02-30' is not a date (YYYY-MM-DD)",
            "holidays[2]: 2026-12-31 is not in 2027; each schedule covers one calendar year",
            "holidays[3]: 2027-01-01 is listed twice (also at holidays[0])",
            "holidays[4]: 5 is not a date (YYYY-MM-DD)",
            "holidays[5]: '2027-1-4' is not a date (YYYY-MM-DD)",
            f"workdays[1]: 2027-02-22 is a Monday; {MONDAY_MAKE_UP}",
            "workdays[2]: 2027-01-01 is both a holiday and a workday (a holiday at holidays[0])",
        ),
        _bad(
            "list-rows",
            "2027.json",
            f"[{_schedule()}, 7, {_schedule(workdays=['2027-02-21'])}]",
            "row 2, schedule: must be an object with year, source, holidays, workdays",
            "row 3, year: 2027 is also the year of row 1",
        ),
        _bad(
            "csv-header",
            "2027.csv",
            "Date,Type\n2027-01-01,holiday\n",
            "row 1, header: must be date,kind or date,kind,name, got 'Date,Type'",
        ),
        _bad("csv-no-rows", "2027.csv", "\ndate,kind\n", "file: has a header but no dates"),
        _bad(
            "csv-rows",
            "2027.csv",
            CSV_ROWS,
            "row 3, date: '2027-13-01' is not a date (YYYY-MM-DD)",
            "row 4, kind: 'off' is not holiday or workday",
            "row 5, row: has 2 columns, the header 3",
            f"row 6, date: 2027-02-22 is a Monday; {MONDAY_MAKE_UP}",
            "row 7, date: 2027-01-01 is listed twice (also at row 2)",
            "row 9, date: 2027-02-20 is both a holiday and a workday (a workday at row 8)",
            "file: lists only workdays in 2026; a loaded schedule replaces its whole year, "
            "so put them in a complete 2026 schedule",
        ),
    ],
)
def test_a_bad_schedule_file_is_refused_with_every_problem(
    filename: str, text: str, errors: list[str]
) -> None:
    with pytest.raises(ValidationFailed) as caught:
        parse_schedule(text, filename)
    assert [str(error) for error in caught.value.errors] == errors


# --- properties -------------------------------------------------------------------------------

# 2023-2026 are official, 2027-2029 projected.
dates = st.dates(date(2023, 1, 1), date(2029, 12, 31))


def _working_days_in(first: date, last: date) -> list[date]:
    return [d for d in _days(first, last) if CALENDAR.is_working_day(d)] if first <= last else []


@given(dates)
def test_following_is_the_first_working_day_on_or_after(day: date) -> None:
    rolled = CALENDAR.roll(day, "following")
    assert rolled.date >= day
    assert CALENDAR.is_working_day(rolled.date)
    assert _working_days_in(day, rolled.date - timedelta(days=1)) == []
    assert rolled.moved == (rolled.date != day)
    years = range(day.year, rolled.date.year + 1)
    assert rolled.provisional == any(not CALENDAR.is_official(y) for y in years)


@given(dates)
def test_preceding_is_the_last_working_day_on_or_before(day: date) -> None:
    rolled = CALENDAR.roll(day, "preceding")
    assert rolled.date <= day
    assert CALENDAR.is_working_day(rolled.date)
    assert _working_days_in(rolled.date + timedelta(days=1), day) == []


@given(dates, st.sampled_from(["modified_following", "modified_preceding"]))
def test_modified_rolls_stay_in_the_month_and_examine_only_it(day: date, convention: str) -> None:
    rolled = CALENDAR.roll(day, convention)
    assert (rolled.date.year, rolled.date.month) == (day.year, day.month)
    assert CALENDAR.is_working_day(rolled.date)
    assert rolled.provisional == (not CALENDAR.is_official(day.year))
    plain = CALENDAR.roll(day, convention.removeprefix("modified_"))
    assert rolled.date == plain.date or plain.date.month != day.month


@given(dates, st.sampled_from([F, MF, P, MP]))
def test_a_rolled_date_does_not_move_again(day: date, convention: str) -> None:
    once = CALENDAR.roll(day, convention)
    assert CALENDAR.roll(once.date, convention).date == once.date


@given(dates, st.integers(1, 40))
def test_t_plus_n_and_the_count_agree(day: date, n: int) -> None:
    later = CALENDAR.add_working_days(day, n)
    assert CALENDAR.is_working_day(later.date)
    assert CALENDAR.working_days_between(day, later.date).count == n
    earlier = CALENDAR.add_working_days(day, -n)
    assert len(_working_days_in(earlier.date, day - timedelta(days=1))) == n
