"""Kazakhstan working days and "within N working days" deadlines (R67.13, R67.14, R67.15).

A day is a working day when it is not a Saturday or Sunday and not a public holiday, where
 * public holidays, the Labour Code's "a holiday on a weekend moves the day off to the next
   working day" and the government's moved days of past years come from the `holidays` package
   (Kazakhstan, see `public_holidays`);
 * the center's own table (`MovedDay`, maintained in the UI) overrides that calendar both ways:
   a weekend or holiday declared a working day, a weekday declared a day off (including the
   corrected date of Kurban Ait, which the package can only estimate in advance).

Deadlines are computed in Asia/Almaty. Kazakhstan moved to a single UTC+5 zone on 1 March 2024;
zoneinfo knows that history, so no offset is ever hard-coded here.

"Within N working days" of an event ends at the end (23:59:59.999999 Almaty) of the N-th working
day after the event's local date: the day of the event itself never counts, whatever its hour.

What the `holidays` package (0.109, Kazakhstan = "KZ") knows, checked when this was written:
 * New Year 1-2 January; Orthodox Christmas 7 January (since 2006); 8 March; Nowruz 21-23 March
   (only the 22nd before 2010); Unity Day 1 May; Defender of the Fatherland Day 7 May (since
   2013); Victory Day 9 May; Capital Day 6 July (since 2009); Republic Day 25 October (again since
   2022); Independence Day 16 December (and the 17th until 2021); First President Day 1 December
   (2012-2021 only); Constitution Day 30 August until 2025, 15 March from 2027 and none in 2026
   (the package follows the new Constitution; the center can add a day off if that is wrong).
 * Kurban Ait, first day only, from 2006: dates confirmed up to 2025, estimated from 2026
   (27 May 2026, 16 May 2027, named "... (estimated)"). The center corrects it in its table.
 * The Labour Code's rule that a holiday on a Saturday or Sunday moves the day off to the next
   working day (since 2002), except for the religious days (Orthodox Christmas, Kurban Ait).
 * The government's moved days from 2000 to 2025, both halves: the weekday off and the weekend
   day worked (2023: 7 July off for 1 July; 2024: 8 May off for 4 May; 2025: 3 January off for
   5 January). Nothing for 2026 or later: those come from the center's table.
"""

import functools
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Final
from zoneinfo import ZoneInfo

import holidays

from aips.shared.workdays.models import MovedDayKind
from aips.shared.workdays.selectors import moved_days_between

ALMATY: Final = ZoneInfo("Asia/Almaty")
ONE_DAY: Final = timedelta(days=1)
# How far ahead the first query for the center's moved days looks beyond the obvious range.
_LOOKAHEAD_DAYS: Final = 31
# No real calendar has ten years without a working day; this only stops a runaway loop.
_MAX_SPAN_DAYS: Final = 3660


# --- the public calendar (the `holidays` package) ----------------------------------------------


@dataclass(frozen=True)
class _Year:
    holidays: dict[date, tuple[str, ...]]  # date → the package's English names (en_US)
    weekend_workdays: frozenset[date]  # Saturdays/Sundays the government made working days


@functools.lru_cache(maxsize=128)
def _public_year(year: int) -> _Year:
    # The neighbouring years are populated too: a moved day can be decreed in the previous
    # year's resolution (2014's 3 January was worked on 28 December 2013).
    kz = holidays.country_holidays("KZ", years=(year - 1, year, year + 1), language="en_US")
    return _Year(
        holidays={d: tuple(kz.get_list(d)) for d in sorted(kz) if d.year == year},
        weekend_workdays=frozenset(d for d in kz.weekend_workdays if d.year == year),
    )


def public_holidays(year: int) -> dict[date, tuple[str, ...]]:
    """The package's holidays (days off) in a year, with their English names, in date order."""
    return dict(_public_year(year).holidays)


def government_working_days(year: int) -> frozenset[date]:
    """Weekend days that the package knows were made working days by a government decree."""
    return _public_year(year).weekend_workdays


def is_public_working_day(d: date) -> bool:
    """The public calendar alone, without the center's table."""
    year = _public_year(d.year)
    if d.weekday() >= 5:
        return d in year.weekend_workdays
    return d not in year.holidays


# --- the center's table on top -----------------------------------------------------------------


class WorkCalendar:
    """The public calendar plus the center's moved days. The moved days are read for a date range
    in one query and the range grows (one more query each time) only when a date outside it is
    asked for. Build one per computation: nothing is cached between calls, so a change to the
    table is seen at once by every process."""

    def __init__(self, first: date, last: date) -> None:
        if last < first:
            first, last = last, first
        self._first = first
        self._last = last
        self._overrides = moved_days_between(first, last)

    def _cover(self, d: date) -> None:
        if d > self._last:
            last = max(d, self._last + timedelta(days=_LOOKAHEAD_DAYS))
            self._overrides.update(moved_days_between(self._last + ONE_DAY, last))
            self._last = last
        elif d < self._first:
            first = min(d, self._first - timedelta(days=_LOOKAHEAD_DAYS))
            self._overrides.update(moved_days_between(first, self._first - ONE_DAY))
            self._first = first

    def is_working_day(self, d: date) -> bool:
        self._cover(d)
        kind = self._overrides.get(d)
        if kind is not None:
            return kind == MovedDayKind.WORKING
        return is_public_working_day(d)


# --- the functions the rest of AIPS uses -------------------------------------------------------


def local_date(moment: datetime) -> date:
    """The calendar date in Almaty of an aware datetime."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("a timezone-aware datetime is required")
    return moment.astimezone(ALMATY).date()


def end_of_day(d: date) -> datetime:
    """23:59:59.999999 in Almaty on that date, timezone-aware."""
    return datetime.combine(d, time.max, tzinfo=ALMATY)


def _as_date(value: date) -> date:
    return local_date(value) if isinstance(value, datetime) else value


def is_working_day(d: date) -> bool:
    """Whether a date (a datetime: its Almaty date) is a working day in Kazakhstan."""
    d = _as_date(d)
    return WorkCalendar(d, d).is_working_day(d)


def add_working_days(start: datetime, n: int) -> datetime:
    """The end of "within n working days" of `start`: the end of the n-th working day after the
    Almaty date of `start` (n = 0: the end of that date itself)."""
    if n < 0:
        raise ValueError("n must not be negative")
    day = local_date(start)
    limit = day + timedelta(days=_MAX_SPAN_DAYS)
    calendar = WorkCalendar(day, day + timedelta(days=2 * n + _LOOKAHEAD_DAYS))
    counted = 0
    while counted < n:
        day += ONE_DAY
        if day > limit:
            raise RuntimeError("no working days found; check the moved-days table")
        if calendar.is_working_day(day):
            counted += 1
    return end_of_day(day)


def working_days_between(start: date, end: date) -> int:
    """How many working days lie after `start` up to and including `end` (0 if end <= start).
    Datetimes are taken at their Almaty date. The inverse of `add_working_days`:
    working_days_between(start, add_working_days(start, n)) == n."""
    first, last = _as_date(start), _as_date(end)
    if last <= first:
        return 0
    calendar = WorkCalendar(first + ONE_DAY, last)
    count = 0
    day = first + ONE_DAY
    while day <= last:
        if calendar.is_working_day(day):
            count += 1
        day += ONE_DAY
    return count


@dataclass(frozen=True)
class DeadlineInfo:
    deadline: datetime  # in Almaty
    overdue: bool
    remaining: timedelta  # until the deadline; zero once overdue
    working_days_left: int  # working days after today's date up to the deadline's; 0 if overdue
    overdue_by: timedelta  # zero while not overdue
    due_today: bool  # not overdue, and the deadline falls on today's Almaty date


def deadline_info(deadline: datetime, now: datetime) -> DeadlineInfo:
    """What a card, alert or request shows about its deadline at the moment `now`."""
    due_date, today = local_date(deadline), local_date(now)  # both must be timezone-aware
    overdue = now > deadline
    return DeadlineInfo(
        deadline=deadline.astimezone(ALMATY),
        overdue=overdue,
        remaining=timedelta(0) if overdue else deadline - now,
        working_days_left=0 if overdue else working_days_between(now, deadline),
        overdue_by=now - deadline if overdue else timedelta(0),
        due_today=not overdue and due_date == today,
    )
