"""The calendar page's rows: the public calendar and the center's table side by side."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from aips.shared.workdays.calendar import (
    government_working_days,
    is_public_working_day,
    public_holidays,
)
from aips.shared.workdays.labels import holiday_names
from aips.shared.workdays.models import MovedDay


@dataclass(frozen=True)
class CalendarDay:
    date: date
    past: bool
    public_name: str  # the holidays' names, or "" for a weekend made a working day
    public_working: bool  # what the public calendar alone says
    government_moved: bool  # a weekend day the government made a working day (package data)
    moved: MovedDay | None  # the center's declaration, which wins

    @property
    def working(self) -> bool:
        return self.moved.is_working if self.moved is not None else self.public_working


def year_days(year: int, moved_days: Iterable[MovedDay], *, today: date) -> list[CalendarDay]:
    """Every date of the year that is not simply "a weekday at work, a weekend at rest"."""
    holidays = public_holidays(year)
    weekend_workdays = government_working_days(year)
    moved = {m.date: m for m in moved_days if m.date.year == year}
    return [
        CalendarDay(
            date=d,
            past=d < today,
            public_name=holiday_names(holidays[d]) if d in holidays else "",
            public_working=is_public_working_day(d),
            government_moved=d in weekend_workdays,
            moved=moved.get(d),
        )
        for d in sorted(set(holidays) | weekend_workdays | set(moved))
    ]
