"""Kazakhstan working days and "within N working days" deadlines (R67.13, R67.14, R67.15), on
real dates. Every expected deadline is the END (23:59:59.999999 Almaty) of a working day."""

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from django.template import Context, Template
from django.utils import translation

from aips.shared.accounts.models import User
from aips.shared.workdays import services
from aips.shared.workdays.calendar import (
    ALMATY,
    add_working_days,
    deadline_info,
    end_of_day,
    government_working_days,
    is_public_working_day,
    is_working_day,
    public_holidays,
    working_days_between,
)
from aips.shared.workdays.labels import holiday_name
from aips.shared.workdays.models import MovedDay


def almaty(y: int, m: int, d: int, hour: int = 0, minute: int = 0, *rest: int) -> datetime:
    second, micro = (*rest, 0, 0)[:2]
    return datetime(y, m, d, hour, minute, second, micro, tzinfo=ALMATY)


def end_of(y: int, m: int, d: int) -> datetime:
    return almaty(y, m, d, 23, 59, 59, 999999)


def declare(admin: User, day: date, kind: str, note: str = "") -> MovedDay:
    return services.moved_day_set(actor=admin, date=day, kind=kind, note=note)


# --- the example -----------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("hour_minute", [(0, 0), (9, 15), (18, 30), (23, 59)])
def test_r67_15_card_returned_friday_11_dec_2026_is_due_end_of_thursday_17(
    hour_minute: tuple[int, int],
) -> None:
    """Mon 14 and Tue 15 count; Sat 12, Sun 13 and Independence Day (Wed 16) do not."""
    returned = almaty(2026, 12, 11, *hour_minute)
    due = add_working_days(returned, 3)
    assert due == end_of(2026, 12, 17)
    assert due.tzinfo is not None
    assert due.utcoffset() == timedelta(hours=5)
    assert due.astimezone(UTC) == datetime(2026, 12, 17, 18, 59, 59, 999999, tzinfo=UTC)
    assert [d for d in range(11, 18) if is_working_day(date(2026, 12, d))] == [11, 14, 15, 17]
    assert working_days_between(returned, due) == 3


@pytest.mark.django_db
def test_r67_15_deadline_is_correct_for_a_start_given_in_utc_late_in_the_evening() -> None:
    """19:30 UTC on Thursday 10 December is already 00:30 on Friday the 11th in Almaty, so the
    clock starts from Friday, exactly as in the issue's example (not from Thursday)."""
    returned = datetime(2026, 12, 10, 19, 30, tzinfo=UTC)
    assert returned.astimezone(ALMATY).date() == date(2026, 12, 11)
    assert add_working_days(returned, 3) == end_of(2026, 12, 17)
    # One minute earlier in Almaty (23:59 on Thursday) the deadline is a working day earlier.
    assert add_working_days(datetime(2026, 12, 10, 18, 59, tzinfo=UTC), 3) == end_of(2026, 12, 15)


# --- the center's table ------------------------------------------------------------------------


def test_r67_15_saturday_made_a_working_day_by_the_admin_table_counts(
    personas: dict[str, User],
) -> None:
    returned = almaty(2026, 12, 11, 18, 30)
    declare(personas["center_admin"], date(2026, 12, 12), "working", "Resolution No. 1")
    assert is_working_day(date(2026, 12, 12))
    # Sat 12, Mon 14, Tue 15.
    assert add_working_days(returned, 3) == end_of(2026, 12, 15)


def test_r67_15_weekday_declared_a_day_off_is_skipped(personas: dict[str, User]) -> None:
    returned = almaty(2026, 12, 11, 18, 30)
    declare(personas["center_admin"], date(2026, 12, 14), "day_off", "bridge day")
    assert not is_working_day(date(2026, 12, 14))
    # Tue 15, Thu 17, Fri 18.
    assert add_working_days(returned, 3) == end_of(2026, 12, 18)


def test_r67_15_corrected_kurban_ait_date(personas: dict[str, User]) -> None:
    """The package can only estimate Kurban Ait ahead of time (27 May 2026); when the real date
    differs, the center declares the estimated day a working day and the real one a day off."""
    assert not is_public_working_day(date(2026, 5, 27))
    assert "estimated" in public_holidays(2026)[date(2026, 5, 27)][0]
    admin = personas["center_admin"]
    declare(admin, date(2026, 5, 27), "working", "Kurban Ait is on 26 May")
    declare(admin, date(2026, 5, 26), "day_off", "Kurban Ait")
    assert is_working_day(date(2026, 5, 27))
    assert not is_working_day(date(2026, 5, 26))
    # From Monday 25 May: Wed 27, Thu 28.
    assert add_working_days(almaty(2026, 5, 25, 10), 2) == end_of(2026, 5, 28)


@pytest.mark.django_db
def test_r67_15_the_moved_days_are_read_in_one_query(django_assert_num_queries: Any) -> None:
    with django_assert_num_queries(1):
        add_working_days(almaty(2026, 12, 11, 18, 30), 10)
    with django_assert_num_queries(1):
        working_days_between(date(2026, 1, 1), date(2026, 12, 31))


# --- public holidays ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_r67_15_the_nowruz_days_are_skipped() -> None:
    """Nowruz, 21-23 March 2027: the 21st is a Sunday, so the Labour Code moves that day off to
    Wednesday the 24th (the package applies the rule)."""
    for day in (21, 22, 23, 24):
        assert not is_working_day(date(2027, 3, day)), day
    assert is_working_day(date(2027, 3, 25))
    # From Friday 19 March: Thu 25, Fri 26, Mon 29.
    assert add_working_days(almaty(2027, 3, 19, 11), 3) == end_of(2027, 3, 29)


@pytest.mark.django_db
def test_r67_13_one_working_day_from_friday_evening_ends_monday_midnight() -> None:
    assert add_working_days(almaty(2026, 11, 20, 17), 1) == end_of(2026, 11, 23)


@pytest.mark.django_db
def test_r67_13_one_working_day_from_friday_before_a_monday_holiday_ends_tuesday() -> None:
    """Capital Day, Monday 6 July 2026."""
    assert add_working_days(almaty(2026, 7, 3, 17), 1) == end_of(2026, 7, 7)


@pytest.mark.django_db
def test_r67_14_ten_working_days_across_new_year() -> None:
    """From Thursday 24 Dec 2026: Dec 25, 28, 29, 30, 31; then 1 January (Friday) and 2 January
    (Saturday, moved to Monday 4th) are New Year, 7 January is Orthodox Christmas:
    Jan 5, 6, 8, 11, 12."""
    assert add_working_days(almaty(2026, 12, 24, 10), 10) == end_of(2027, 1, 12)
    assert working_days_between(date(2026, 12, 24), date(2027, 1, 12)) == 10


@pytest.mark.django_db
def test_r67_14_zero_days_is_the_end_of_the_same_day_and_negative_is_refused() -> None:
    assert add_working_days(almaty(2026, 12, 16, 9), 0) == end_of(2026, 12, 16)
    with pytest.raises(ValueError, match="negative"):
        add_working_days(almaty(2026, 12, 16, 9), -1)
    with pytest.raises(ValueError, match="timezone-aware"):
        add_working_days(datetime(2026, 12, 16, 9), 1)  # noqa: DTZ001 - the point of the test


def test_r67_15_kazakhstan_holidays_known_to_the_package() -> None:
    days_2026 = public_holidays(2026)
    names = {d: holiday_name(n[0]) for d, n in days_2026.items()}
    assert names[date(2026, 1, 1)] == names[date(2026, 1, 2)] == "New Year"
    assert names[date(2026, 1, 7)] == "Orthodox Christmas"
    assert names[date(2026, 3, 8)] == "International Women's Day"
    assert names[date(2026, 3, 9)] == "International Women's Day (day off moved from the weekend)"
    assert {date(2026, 3, 21), date(2026, 3, 22), date(2026, 3, 23)} <= set(days_2026)
    assert names[date(2026, 5, 1)] == "Day of Unity of the People of Kazakhstan"
    assert names[date(2026, 5, 7)] == "Defender of the Fatherland Day"
    assert names[date(2026, 5, 9)] == "Victory Day"
    assert names[date(2026, 5, 27)] == "Kurban Ait (estimated date)"
    assert names[date(2026, 7, 6)] == "Capital Day"
    assert names[date(2026, 10, 25)] == "Republic Day"
    assert names[date(2026, 12, 16)] == "Independence Day"
    assert date(2025, 8, 30) in public_holidays(2025)  # Constitution Day until 2025
    assert date(2027, 3, 15) in public_holidays(2027)  # the new Constitution's day from 2027


def test_r67_15_government_moved_days_of_past_years_come_from_the_package() -> None:
    """2024: Saturday 4 May was worked and Wednesday 8 May was a day off."""
    assert date(2024, 5, 4) in government_working_days(2024)
    assert is_public_working_day(date(2024, 5, 4))
    assert not is_public_working_day(date(2024, 5, 8))
    assert holiday_name(public_holidays(2024)[date(2024, 5, 8)][0]) == (
        "Day off (moved from 04.05.2024)"
    )


@pytest.mark.django_db
def test_r67_15_zoneinfo_knows_kazakhstan_moved_to_utc_plus_5_in_2024() -> None:
    """Almaty was UTC+6 until 1 March 2024. A stale tz database would fail here first."""
    assert end_of_day(date(2024, 2, 27)).utcoffset() == timedelta(hours=6)
    assert end_of_day(date(2024, 3, 1)).utcoffset() == timedelta(hours=5)
    # 18:30 UTC on Wed 28 Feb 2024 was already Thursday 29 Feb (00:30, UTC+6) in Almaty.
    assert add_working_days(datetime(2024, 2, 28, 18, 30, tzinfo=UTC), 1) == end_of(2024, 3, 1)


# --- showing a deadline ------------------------------------------------------------------------


@pytest.mark.django_db
def test_r67_15_deadline_info_counts_down_and_turns_overdue() -> None:
    due = end_of(2026, 12, 17)
    at_return = deadline_info(due, almaty(2026, 12, 11, 18, 30))
    assert not at_return.overdue
    assert at_return.working_days_left == 3
    assert at_return.remaining == due - almaty(2026, 12, 11, 18, 30)
    on_the_day = deadline_info(due, almaty(2026, 12, 17, 9))
    assert on_the_day.due_today
    assert on_the_day.working_days_left == 0
    late = deadline_info(due, almaty(2026, 12, 18, 1))
    assert late.overdue
    assert late.remaining == timedelta(0)
    assert late.working_days_left == 0
    assert timedelta(hours=1) <= late.overdue_by < timedelta(hours=1, seconds=1)


@pytest.mark.django_db
def test_r67_15_deadline_tag_shows_local_time_remaining_and_overdue_badge() -> None:
    template = Template("{% load workdays_tags %}{% deadline due now %}")
    due = add_working_days(datetime(2026, 12, 11, 13, 30, tzinfo=UTC), 3)
    with translation.override("en"):
        early = template.render(Context({"due": due, "now": almaty(2026, 12, 11, 18, 30)}))
        late = template.render(Context({"due": due, "now": almaty(2026, 12, 19, 0, 30)}))
        nothing = template.render(Context({"due": None, "now": None}))
    assert "17.12.2026 23:59" in early
    assert "3 working days" in early
    assert "6 days 5 hours left" in early
    assert "overdue" not in early
    assert '<span class="badge overdue">Overdue</span>' in late
    assert "by 1 day" in late
    assert nothing.strip() == ""
