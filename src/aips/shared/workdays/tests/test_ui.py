"""The working-day calendar page and the center's moved-days table (R67.13, R67.14, R67.15)."""

from collections.abc import Callable
from datetime import date

import pytest
from django.test import Client

from aips.core.actors import cli_actor
from aips.core.errors import Forbidden, ValidationFailed
from aips.shared.accounts.models import User
from aips.shared.audit.models import AuditEvent, EventType
from aips.shared.workdays import services
from aips.shared.workdays.calendar import add_working_days, end_of_day
from aips.shared.workdays.models import MovedDay

SATURDAY = "2027-01-16"


def test_r67_15_admin_adds_and_removes_a_moved_day_with_audit_events(
    client_as: Callable[[str | None], Client], personas: dict[str, User]
) -> None:
    admin = client_as("center_admin")
    added = admin.post(
        "/calendar/days/", {"date": SATURDAY, "kind": "working", "note": "Resolution No. 7"}
    )
    assert added.status_code == 302
    assert added["Location"] == "/calendar/"
    day = MovedDay.objects.get(date=date(2027, 1, 16))
    assert day.kind == "working"
    assert day.created_by == personas["center_admin"]
    event = AuditEvent.objects.get(event=EventType.CALENDAR_DAY_SET, target_id=str(day.pk))
    assert event.actor == personas["center_admin"]
    assert event.details == {"date": SATURDAY, "kind": "working", "note": "Resolution No. 7"}
    assert event.request_id == added["X-Request-ID"]

    page = admin.get("/calendar/")
    assert page.status_code == 200
    body = page.content.decode()
    assert "16.01.2027" in body
    assert "Resolution No. 7" in body
    assert f'action="/calendar/days/{day.pk}/remove/"' in body

    removed = admin.post(f"/calendar/days/{day.pk}/remove/")
    assert removed.status_code == 302
    assert not MovedDay.objects.filter(pk=day.pk).exists()
    gone = AuditEvent.objects.get(event=EventType.CALENDAR_DAY_REMOVED, target_id=str(day.pk))
    assert gone.details == {"date": SATURDAY, "kind": "working", "note": "Resolution No. 7"}
    assert admin.post(f"/calendar/days/{day.pk}/remove/").status_code == 404


def test_r67_15_changing_a_moved_day_records_what_changed(personas: dict[str, User]) -> None:
    admin = personas["center_admin"]
    services.moved_day_set(actor=admin, date=date(2026, 5, 27), kind="working", note="")
    services.moved_day_set(actor=admin, date=date(2026, 5, 27), kind="working", note="decree")
    events = AuditEvent.objects.filter(event=EventType.CALENDAR_DAY_SET).order_by("seq")
    assert events.last().details["changes"] == {"note": ["", "decree"]}  # type: ignore[union-attr]
    # A moved day back to what the public calendar says is pointless: remove it instead.
    with pytest.raises(ValidationFailed) as caught:
        services.moved_day_set(actor=admin, date=date(2026, 5, 27), kind="day_off", note="")
    assert "remove the moved day instead" in caught.value.fields["date"][0]
    # A weekday declared a day off.
    services.moved_day_set(actor=admin, date=date(2026, 12, 14), kind="day_off", note="")
    assert MovedDay.objects.get(date=date(2026, 12, 14)).kind == "day_off"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            {"date": "2026-12-14", "kind": "working"},
            "14.12.2026 is already a working day (an ordinary weekday).",
        ),
        (
            {"date": "2026-12-12", "kind": "day_off"},
            "12.12.2026 is already a day off (a Saturday).",
        ),
        (
            {"date": "2026-12-16", "kind": "day_off"},
            "16.12.2026 is already a day off (a public holiday: Independence Day).",
        ),
        ({"date": "1999-12-31", "kind": "day_off"}, "Enter a date between 2000 and 2100."),
    ],
)
def test_r67_15_a_date_that_already_is_that_kind_is_a_field_error(
    client_as: Callable[[str | None], Client], data: dict[str, str], message: str
) -> None:
    response = client_as("center_admin").post("/calendar/days/", data)
    assert response.status_code == 422
    assert response.context["form"].errors["date"] == [message]
    assert not MovedDay.objects.exists()
    assert message in response.content.decode()


def test_r67_15_declaring_the_same_moved_day_twice_is_a_clear_error(
    client_as: Callable[[str | None], Client],
) -> None:
    admin = client_as("center_admin")
    data = {"date": SATURDAY, "kind": "working", "note": "n"}
    assert admin.post("/calendar/days/", data).status_code == 302
    again = admin.post("/calendar/days/", data)
    assert again.status_code == 422
    assert again.context["form"].errors["date"] == [
        "16.01.2027 is already a working day (already declared in this table)."
    ]
    bad = admin.post("/calendar/days/", {"date": "16/01/2027", "kind": "holiday"})
    assert bad.status_code == 422
    assert set(bad.context["form"].errors) == {"date", "kind"}


@pytest.mark.parametrize(
    "persona", ["center_analyst", "auditor", "bank_a_head", "bank_a_maker", "bank_b_head"]
)
def test_r67_15_only_center_admins_change_the_calendar(
    client_as: Callable[[str | None], Client], personas: dict[str, User], persona: str
) -> None:
    day = services.moved_day_set(
        actor=personas["center_admin"], date=date(2027, 1, 9), kind="working", note=""
    )
    client = client_as(persona)
    assert client.post("/calendar/days/", {"date": SATURDAY, "kind": "working"}).status_code == 403
    assert client.post(f"/calendar/days/{day.pk}/remove/").status_code == 403
    assert MovedDay.objects.count() == 1
    with pytest.raises(Forbidden):
        services.moved_day_set(
            actor=personas[persona], date=date(2027, 1, 16), kind="working", note=""
        )
    with pytest.raises(Forbidden):
        services.moved_day_remove(actor=personas[persona], moved_day=day)
    # Everyone signed in reads the calendar, without the admin's form.
    page = client.get("/calendar/")
    assert page.status_code == 200
    assert b"/calendar/days/" not in page.content
    assert b"09.01.2027" in page.content


def test_r67_15_calendar_page_lists_holidays_of_this_and_next_year(
    client_as: Callable[[str | None], Client],
) -> None:
    from django.utils import timezone

    from aips.shared.workdays.calendar import local_date

    year = local_date(timezone.now()).year
    page = client_as("bank_a_viewer").get("/calendar/")
    body = page.content.decode()
    assert f"<h2>{year}</h2>" in body
    assert f"<h2>{year + 1}</h2>" in body
    assert f"16.12.{year + 1}" in body
    assert "Independence Day" in body
    assert "Nowruz" in body
    assert client_as(None).get("/calendar/").status_code == 302


def test_r67_15_the_cli_actor_can_declare_days(db: None) -> None:
    day = services.moved_day_set(actor=cli_actor(), date=date(2027, 1, 9), kind="working")
    assert day.created_by is None
    assert add_working_days(end_of_day(date(2027, 1, 8)), 1).date() == date(2027, 1, 9)
