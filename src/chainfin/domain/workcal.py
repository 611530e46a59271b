"""The Chinese working-day calendar: the days banks pay on, and how to roll a date onto one.

Working days in mainland China are Monday to Friday, minus statutory holidays, plus the
make-up working days (调休上班) that the State Council moves onto Saturdays and Sundays to
join holidays into longer breaks. The General Office of the State Council (国务院办公厅)
publishes year Y's schedule only late in year Y-1, so a credential issued today can mature in
a year whose schedule nobody knows yet.

Official and projected years
----------------------------
A :class:`YearSchedule` is *official* when it is the published schedule: the ``chinesecalendar``
package's data (:func:`official_from_package`), or a notice loaded from a file with
``chainfin calendar load FILE`` (:func:`parse_schedule`). For any other year the calendar
*projects* one (:func:`projected`): weekends plus the statutory holidays that the ``holidays``
package computes, a holiday falling on a weekend moved to the next weekday, and no make-up
working days, because they cannot be predicted.

The provisional rule
--------------------
Every answer that depends on the calendar says whether a projection decided it. A roll, a
T+n or a count is *provisional* when any year whose schedule was consulted (the year of the
input date and the year of every day examined) is not official. An ``unadjusted`` roll
consults no schedule and is never provisional.

The contractual maturity date never changes: it is what the parties signed. Only the payment
date derived from it can. The service stores the ``provisional`` flag with each payment date
and, when the official schedule of a year arrives, recomputes the provisional payment dates
that touch that year. An answer that was not provisional is final.

>>> from datetime import date
>>> calendar = WorkingCalendar.from_package()
>>> rolled = calendar.roll(date(2025, 1, 28), "following")  # Spring Festival 2025
>>> rolled.date, rolled.provisional
(datetime.date(2025, 2, 5), False)
>>> calendar.roll(date(2025, 1, 28), "modified_following").date  # must stay in January
datetime.date(2025, 1, 27)
>>> calendar.roll(date(2027, 2, 6), "following").provisional  # 2027 is projected
True

Canonical schedules: ``holidays`` holds only the weekdays that are off and ``workdays`` only
the weekend days that are worked, so two sources that agree on every working day give equal
schedules (apart from ``source``). Holidays that fall on a weekend are accepted on input and
dropped, since a weekend is off anyway.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from importlib.metadata import version
from pathlib import PurePath

import chinese_calendar  # type: ignore[import-untyped]

from chainfin.domain.errors import ChainfinError, FieldError, ValidationFailed

PACKAGE_SOURCE = f"chinesecalendar {chinese_calendar.__version__}"
# The installed version, read without importing ``holidays`` (its package loads its calendar
# systems, ~12 ms that a CLI read would pay for nothing; see projected()).
PROJECTION_SOURCE = f"projected: weekends + holidays {version('holidays')} China statutory holidays"

_WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
# A roll or a step never needs more than a few weeks; this only stops a broken schedule
# (every day off) from looping forever.
_MAX_SCAN_DAYS = 366


class NoSchedule(ChainfinError):
    """No official schedule is known for a year and none can be projected."""

    code = "no_working_day_schedule"
    status = 422
    hint = "Load the State Council's schedule for that year with `chainfin calendar load FILE`."


class RollConvention(StrEnum):
    """How a date that is not a working day moves onto one."""

    FOLLOWING = "following"
    MODIFIED_FOLLOWING = "modified_following"
    PRECEDING = "preceding"
    MODIFIED_PRECEDING = "modified_preceding"
    UNADJUSTED = "unadjusted"

    @classmethod
    def parse(cls, name: str) -> RollConvention:
        """Accepts ``"Modified Following"`` and ``"modified-following"`` too."""
        key = re.sub(r"[\s-]+", "_", name.strip().lower())
        try:
            return cls(key)
        except ValueError:
            known = ", ".join(cls)
            raise ValueError(f"unknown roll convention {name!r}; known: {known}") from None


@dataclass(frozen=True)
class YearSchedule:
    """One calendar year's deviations from a Monday-to-Friday week.

    ``holidays``: weekdays that are off. ``workdays``: Saturdays and Sundays that are worked.
    ``official``: the published schedule (True) or a projection (False).
    """

    year: int
    holidays: frozenset[date]
    workdays: frozenset[date]
    source: str
    official: bool

    def __post_init__(self) -> None:
        if not date.min.year <= self.year <= date.max.year:
            raise ValueError(f"{self.year} is not a year")
        for day in self.holidays | self.workdays:
            _require_date(day)
            if day.year != self.year:
                raise ValueError(f"{day} is not in the {self.year} schedule's year")
        if weekend_holidays := sorted(d for d in self.holidays if _is_weekend(d)):
            raise ValueError(f"holidays must be weekdays, got {weekend_holidays[0]}")
        if weekday_workdays := sorted(d for d in self.workdays if not _is_weekend(d)):
            raise ValueError(f"workdays must be weekend days, got {weekday_workdays[0]}")
        if not self.source.strip():
            raise ValueError("a schedule must name its source")

    @classmethod
    def of(
        cls,
        year: int,
        days_off: Iterable[date],
        workdays: Iterable[date],
        *,
        source: str,
        official: bool,
    ) -> YearSchedule:
        """Build from published lists, dropping days off that fall on a weekend anyway."""
        weekdays_off = frozenset(d for d in days_off if not _is_weekend(d))
        return cls(year, weekdays_off, frozenset(workdays), source, official)

    def is_working_day(self, day: date) -> bool:
        if day.year != self.year:
            raise ValueError(f"{day} is not in {self.year}")
        if day in self.workdays:
            return True
        return not _is_weekend(day) and day not in self.holidays


@dataclass(frozen=True)
class Rolled:
    """A date moved onto a working day.

    ``convention`` is the roll convention applied (a :class:`RollConvention`), or for
    :meth:`WorkingCalendar.add_working_days` the step, such as ``"+2 working days"``.
    ``provisional``: a projected year's schedule decided the result (see the module docs).
    """

    date: date
    provisional: bool
    convention: str
    moved: bool


@dataclass(frozen=True)
class WorkingDays:
    """A number of working days, and whether a projected year's schedule decided it."""

    count: int
    provisional: bool


def official_from_package() -> dict[int, YearSchedule]:
    """Every year the ``chinesecalendar`` package has the published schedule for."""
    days_off = _by_year(chinese_calendar.holidays)
    workdays = _by_year(chinese_calendar.workdays)
    return {
        year: YearSchedule.of(
            year,
            days_off.get(year, ()),
            workdays.get(year, ()),
            source=PACKAGE_SOURCE,
            official=True,
        )
        for year in range(min(days_off), max(days_off) + 1)
    }


def projected(year: int) -> YearSchedule:
    """A guess at ``year``'s schedule: weekends plus the statutory holidays, no make-up days.

    Raises :class:`NoSchedule` outside the years the ``holidays`` package can compute.
    Should a later ``holidays`` release learn a year's published schedule, its substituted days
    off would show here without their make-up working days: load the official schedule instead.
    """
    # Imported here: holidays.countries loads every country's calendar (~0.15 s), which a
    # process that never projects a year (a CLI read) should not pay for.
    from holidays.countries.china import China as ChinaHolidays

    first, last = ChinaHolidays.start_year, ChinaHolidays.end_year
    if not first <= year <= last:
        raise NoSchedule(
            f"no working-day schedule for {year}: it has no official schedule and the "
            f"holidays package projects only {first}-{last}"
        )
    # holidays' constructor is unannotated; it is a dict of date -> name.
    computed = ChinaHolidays(years=year)  # type: ignore[no-untyped-call]
    statutory = [d for d in computed if d.year == year]
    return YearSchedule.of(year, statutory, (), source=PROJECTION_SOURCE, official=False)


class WorkingCalendar:
    """Working days from the official schedules it is given, projecting any other year.

    The service builds one from the package's schedules merged with those loaded into the
    database; projections are made on first use and kept.
    """

    def __init__(self, schedules: Mapping[int, YearSchedule]) -> None:
        for year, schedule in schedules.items():
            if schedule.year != year:
                raise ValueError(f"the schedule for {schedule.year} is filed under {year}")
        self._known = dict(schedules)
        self._projected: dict[int, YearSchedule] = {}

    @classmethod
    def from_package(cls) -> WorkingCalendar:
        return cls(official_from_package())

    def with_schedules(self, schedules: Iterable[YearSchedule]) -> WorkingCalendar:
        """A new calendar in which ``schedules`` replace those of the same years."""
        return WorkingCalendar({**self._known, **{s.year: s for s in schedules}})

    def schedule(self, year: int) -> YearSchedule:
        known = self._known.get(year)
        if known is not None:
            return known
        guess = self._projected.get(year)
        if guess is None:
            guess = self._projected[year] = projected(year)
        return guess

    def is_official(self, year: int) -> bool:
        known = self._known.get(year)
        return known is not None and known.official

    def is_working_day(self, day: date) -> bool:
        _require_date(day)
        return self.schedule(day.year).is_working_day(day)

    def roll(self, day: date, convention: str) -> Rolled:
        """Move ``day`` onto a working day; a working day stays where it is.

        The modified conventions never leave ``day``'s month: when the first working day in
        the rolling direction lies in another month, they roll the other way instead.
        """
        rule = RollConvention.parse(convention)
        _require_date(day)
        if rule is RollConvention.UNADJUSTED:
            return Rolled(day, provisional=False, convention=rule, moved=False)
        step = 1 if rule in (RollConvention.FOLLOWING, RollConvention.MODIFIED_FOLLOWING) else -1
        modified = rule in (RollConvention.MODIFIED_FOLLOWING, RollConvention.MODIFIED_PRECEDING)
        seen: set[int] = set()
        found = self._scan(day, step, seen, within_month=modified)
        if modified and (found.year, found.month) != (day.year, day.month):
            found = self._scan(day, -step, seen)
        return Rolled(found, self._provisional(seen), rule, moved=found != day)

    def add_working_days(self, day: date, n: int) -> Rolled:
        """The ``n``-th working day after ``day`` (before it when ``n`` < 0), as in T+n.

        ``day`` itself never counts; ``n == 0`` rolls ``day`` to the following working day.
        """
        _require_date(day)
        seen: set[int] = {day.year}
        step = 1 if n >= 0 else -1
        current = self._scan(day, 1, seen) if n == 0 else day
        for _ in range(abs(n)):
            current = self._scan(_shift(current, step), step, seen)
        step_text = f"{n:+d} working {'day' if abs(n) == 1 else 'days'}"
        return Rolled(current, self._provisional(seen), step_text, moved=current != day)

    def working_days_between(self, start: date, end: date) -> WorkingDays:
        """How many working days lie after ``start``, up to and including ``end``.

        So ``working_days_between(d, add_working_days(d, n).date).count == n`` for n >= 1.
        With ``end < start`` the count is negative: ``-working_days_between(end, start)``.
        """
        _require_date(start)
        _require_date(end)
        if end < start:
            backwards = self.working_days_between(end, start)
            return WorkingDays(-backwards.count, backwards.provisional)
        count = sum(1 for day in _days_after(start, end) if self.is_working_day(day))
        years = range(start.year, end.year + 1)
        return WorkingDays(count, self._provisional(years))

    def _scan(self, start: date, step: int, seen: set[int], *, within_month: bool = False) -> date:
        """The first working day from ``start`` (inclusive) in direction ``step``, adding the
        year of every day examined to ``seen``. ``within_month``: stop at the first day of
        another month and return it unexamined, since its schedule cannot matter."""
        day = start
        for _ in range(_MAX_SCAN_DAYS):
            seen.add(day.year)
            if self.is_working_day(day):
                return day
            day = _shift(day, step)
            if within_month and day.month != start.month:
                return day
        raise ValueError(f"no working day within {_MAX_SCAN_DAYS} days of {start}")

    def _provisional(self, years: Iterable[int]) -> bool:
        return any(not self.is_official(year) for year in years)


def parse_schedule(text: str, filename: str) -> list[YearSchedule]:
    """Parse an official schedule file for ``chainfin calendar load FILE``, by extension.

    ``.json``: ``{"year": 2027, "source": "国务院办公厅 国办发明电〔2026〕N号",
    "holidays": ["2027-01-01", ...], "workdays": ["2027-02-20", ...]}``, or a list of such
    objects (the N-th object is row N). Every date must lie in ``year``.

    ``.csv``: header ``date,kind`` or ``date,kind,name``; ``kind`` is ``holiday`` or
    ``workday``; ``name`` is for people and ignored. The header is row 1. A file may cover
    several years; the source of each is the file's name.

    Holidays may include weekend days (they are dropped); workdays must be weekend days.
    Each year must list at least one holiday, because a loaded schedule replaces the whole
    year. Every problem is reported at once in :class:`ValidationFailed`, nothing is loaded.
    The schedules returned are official, in year order.
    """
    suffix = PurePath(filename).suffix.lower()
    if suffix not in (".json", ".csv"):
        raise _failed("format", f"cannot tell the format of {filename!r}; use .json or .csv")
    text = text.removeprefix("\ufeff")
    if not text.strip():
        raise _failed("file", "is empty")
    if suffix == ".json":
        return _parse_json(text)
    return _parse_csv(text, PurePath(filename).name)


# Where each date was first listed, for duplicate and both-kinds errors: date -> (kind, where).
_Listed = dict[date, tuple[str, str]]

# --- JSON ---------------------------------------------------------------------------------

_JSON_FIELDS = ("year", "source", "holidays", "workdays")
_JSON_KINDS = {"holidays": "holiday", "workdays": "workday"}


def _parse_json(text: str) -> list[YearSchedule]:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise _failed(
            "file", f"invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}"
        ) from None
    if isinstance(value, dict):
        items: list[object] = [value]
        numbered = False
    elif isinstance(value, list) and value:
        items, numbered = value, True
    elif isinstance(value, list):
        raise _failed("file", "contains no schedules")
    else:
        raise _failed("file", "must be a schedule object or a list of schedule objects")
    errors: list[FieldError] = []
    schedules: list[YearSchedule] = []
    row_of_year: dict[int, int | None] = {}
    for number, item in enumerate(items, start=1):
        row = number if numbered else None
        year, schedule = _json_schedule(item, row, errors)
        if year is not None and year in row_of_year:
            reason = f"{year} is also the year of row {row_of_year[year]}"
            errors.append(FieldError("year", reason, row))
        elif year is not None:
            row_of_year[year] = row
        if schedule is not None:
            schedules.append(schedule)
    if errors:
        raise ValidationFailed(errors)
    return sorted(schedules, key=lambda s: s.year)


def _json_schedule(
    item: object, row: int | None, errors: list[FieldError]
) -> tuple[int | None, YearSchedule | None]:
    """The year and schedule of one JSON object; its problems are added to ``errors``."""
    if not isinstance(item, dict):
        errors.append(FieldError("schedule", f"must be an object with {_JSON_FIELD_LIST}", row))
        return None, None
    before = len(errors)
    errors.extend(
        FieldError(str(key), f"unknown field (expected one of: {_JSON_FIELD_LIST})", row)
        for key in item
        if key not in _JSON_FIELDS
    )
    year = _json_year(item, row, errors)
    source = item.get("source")
    if "source" not in item:
        errors.append(FieldError("source", "is required", row))
    elif not isinstance(source, str) or not source.strip():
        errors.append(FieldError("source", "must be text naming the State Council notice", row))
    listed: _Listed = {}
    days_off = _json_dates(item, "holidays", year, listed, row, errors)
    workdays = _json_dates(item, "workdays", year, listed, row, errors)
    if len(errors) > before or year is None or not isinstance(source, str):
        return year, None
    return year, YearSchedule.of(year, days_off, workdays, source=source.strip(), official=True)


_JSON_FIELD_LIST = ", ".join(_JSON_FIELDS)


def _json_year(item: dict[str, object], row: int | None, errors: list[FieldError]) -> int | None:
    if "year" not in item:
        errors.append(FieldError("year", "is required", row))
        return None
    year = item["year"]
    if type(year) is not int or not date.min.year <= year <= date.max.year:
        errors.append(FieldError("year", f"must be a year such as 2027, got {year!r}", row))
        return None
    return year


def _json_dates(
    item: dict[str, object],
    key: str,
    year: int | None,
    listed: _Listed,
    row: int | None,
    errors: list[FieldError],
) -> list[date]:
    """The valid dates in ``item[key]``; each problem is added to ``errors``."""
    if key not in item:
        hint = " (an empty list if there are none)" if key == "workdays" else ""
        errors.append(FieldError(key, "is required" + hint, row))
        return []
    values = item[key]
    if not isinstance(values, list):
        errors.append(FieldError(key, "must be a list of dates (YYYY-MM-DD)", row))
        return []
    if key == "holidays" and not values:
        errors.append(FieldError(key, "is empty; a schedule lists its year's holidays", row))
    kind = _JSON_KINDS[key]
    days: list[date] = []
    for index, value in enumerate(values):
        field = f"{key}[{index}]"
        day = _parse_date(value)
        if day is None:
            errors.append(FieldError(field, f"{value!r} is not a date (YYYY-MM-DD)", row))
        elif year is not None and day.year != year:
            reason = f"{day} is not in {year}; each schedule covers one calendar year"
            errors.append(FieldError(field, reason, row))
        elif (conflict := _conflict(day, kind, listed)) is not None:
            errors.append(FieldError(field, conflict, row))
        else:
            listed[day] = (kind, field)
            days.append(day)
    return days


# --- CSV ----------------------------------------------------------------------------------

_CSV_HEADERS = (["date", "kind"], ["date", "kind", "name"])
_CSV_KINDS = ("holiday", "workday")


def _parse_csv(text: str, source: str) -> list[YearSchedule]:
    try:
        records = list(_csv_records(text))
    except csv.Error as exc:
        raise _failed("file", f"is not valid CSV: {exc}") from None
    (header_row, header), *rows = records
    columns = [cell.strip().lower() for cell in header]
    if columns not in _CSV_HEADERS:
        got = ",".join(header)
        raise _failed("header", f"must be date,kind or date,kind,name, got {got!r}", header_row)
    if not rows:
        raise _failed("file", "has a header but no dates")
    errors: list[FieldError] = []
    listed: _Listed = {}
    for row, cells in rows:
        if len(cells) != len(columns):
            reason = f"has {len(cells)} columns, the header {len(columns)}"
            errors.append(FieldError("row", reason, row))
            continue
        errors.extend(_csv_entry(cells[0].strip(), cells[1].strip(), row, listed))
    errors.extend(_years_without_holidays(listed))
    if errors:
        raise ValidationFailed(errors)
    by_year: dict[int, dict[str, list[date]]] = {}
    for day, (kind, _) in listed.items():
        by_year.setdefault(day.year, {"holiday": [], "workday": []})[kind].append(day)
    return [
        YearSchedule.of(year, days["holiday"], days["workday"], source=source, official=True)
        for year, days in sorted(by_year.items())
    ]


def _csv_records(text: str) -> Iterator[tuple[int, list[str]]]:
    """Non-blank records with the line number a person sees (the header is row 1)."""
    reader = csv.reader(io.StringIO(text))
    for cells in reader:
        if any(cell.strip() for cell in cells):
            yield reader.line_num, cells


def _csv_entry(date_text: str, kind_text: str, row: int, listed: _Listed) -> list[FieldError]:
    """Add one row's date to ``listed``, or return its problems."""
    day = _parse_date(date_text)
    kind = kind_text.lower()
    problems = []
    if day is None:
        problems.append(FieldError("date", f"{date_text!r} is not a date (YYYY-MM-DD)", row))
    if kind not in _CSV_KINDS:
        problems.append(FieldError("kind", f"{kind_text!r} is not holiday or workday", row))
    if day is None or problems:
        return problems
    conflict = _conflict(day, kind, listed)
    if conflict is not None:
        return [FieldError("date", conflict, row)]
    listed[day] = (kind, f"row {row}")
    return []


def _years_without_holidays(listed: _Listed) -> list[FieldError]:
    with_holidays = {day.year for day, (kind, _) in listed.items() if kind == "holiday"}
    return [
        FieldError(
            "file",
            f"lists only workdays in {year}; a loaded schedule replaces its whole year, "
            f"so put them in a complete {year} schedule",
        )
        for year in sorted({day.year for day in listed} - with_holidays)
    ]


# --- shared -------------------------------------------------------------------------------

_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _conflict(day: date, kind: str, listed: _Listed) -> str | None:
    """Why ``day`` cannot be listed as a ``kind``, or None."""
    if day in listed:
        first_kind, where = listed[day]
        if first_kind == kind:
            return f"{day} is listed twice (also at {where})"
        return f"{day} is both a holiday and a workday (a {first_kind} at {where})"
    if kind == "workday" and not _is_weekend(day):
        return (
            f"{day} is a {_WEEKDAY_NAMES[day.weekday()]}; make-up working days (调休上班) "
            "fall on Saturdays or Sundays"
        )
    return None


def _parse_date(value: object) -> date | None:
    if not isinstance(value, str) or not _ISO_DATE.fullmatch(value.strip()):
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        return None


def _failed(field: str, reason: str, row: int | None = None) -> ValidationFailed:
    return ValidationFailed([FieldError(field, reason, row)])


def _by_year(days: Iterable[date]) -> dict[int, list[date]]:
    grouped: dict[int, list[date]] = {}
    for day in days:
        grouped.setdefault(day.year, []).append(day)
    return grouped


def _days_after(start: date, end: date) -> Iterator[date]:
    """The days in (start, end]."""
    for offset in range(1, (end - start).days + 1):
        yield start + timedelta(days=offset)


def _shift(day: date, days: int) -> date:
    return day + timedelta(days=days)


def _is_weekend(day: date) -> bool:
    return day.weekday() >= 5


def _require_date(value: object) -> None:
    # datetime(2025, 1, 28) != date(2025, 1, 28), so a datetime would miss every holiday.
    if isinstance(value, datetime) or not isinstance(value, date):
        raise TypeError(f"the working-day calendar takes dates, not {type(value).__name__}")
