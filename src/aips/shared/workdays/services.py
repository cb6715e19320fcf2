"""The center's moved days (R67.13, R67.14, R67.15): every change with its audit event."""

from datetime import date
from typing import Any

from django.db import IntegrityError, models, transaction
from django.utils.translation import gettext as _

from aips.core.access import ensure_perm
from aips.core.actors import Actor
from aips.core.errors import NotFound, ValidationFailed
from aips.core.permissions import Perm
from aips.core.validation import Fields
from aips.shared.audit.models import EventType
from aips.shared.audit.services import record
from aips.shared.workdays.calendar import is_public_working_day, public_holidays
from aips.shared.workdays.labels import holiday_names
from aips.shared.workdays.models import MovedDay, MovedDayKind

# The `holidays` package covers Kazakhstan from 1991; AIPS needs nothing before 2000.
FIRST_YEAR = 2000
LAST_YEAR = 2100


def _public_reason(d: date) -> str:
    """Why the public calendar already makes this date what it is, for an error message."""
    names = public_holidays(d.year).get(d)
    if names:
        return _("a public holiday: %(name)s") % {"name": holiday_names(names)}
    if d.weekday() >= 5:
        if is_public_working_day(d):
            return _("a weekend day already made a working day by the government")
        return _("a Saturday") if d.weekday() == 5 else _("a Sunday")
    return _("an ordinary weekday")


def _user_or_none(actor: Actor) -> Any:
    """A SystemActor (the CLI, the demo loader) is no row in the users table."""
    return actor if isinstance(actor, models.Model) else None


def _validate(*, day: Any, kind: str, note: str) -> tuple[date, str, str]:
    f = Fields()
    if not isinstance(day, date):
        f.add("date", _("Enter a date."))
    elif not FIRST_YEAR <= day.year <= LAST_YEAR:
        f.add(
            "date",
            _("Enter a date between %(first)d and %(last)d.")
            % {"first": FIRST_YEAR, "last": LAST_YEAR},
        )
    kind = f.choice("kind", kind, MovedDayKind)
    note = f.optional_text("note", note, max_length=255)
    f.raise_if_any()
    assert isinstance(day, date)  # noqa: S101 - checked above
    return day, kind, note


def _already(day: date, kind: str, reason: str) -> ValidationFailed:
    text = (
        _("%(date)s is already a working day (%(reason)s).")
        if kind == MovedDayKind.WORKING
        else _("%(date)s is already a day off (%(reason)s).")
    )
    return ValidationFailed.field(
        "date", text % {"date": day.strftime("%d.%m.%Y"), "reason": reason}
    )


@transaction.atomic
def moved_day_set(*, actor: Actor, date: Any, kind: str, note: str = "") -> MovedDay:
    """Declare a date a working day or a day off, or change an existing declaration. Refused when
    it would change nothing: the date is already of that kind, by the table or by the public
    calendar alone (then a declaration in the table is pointless, or should be removed)."""
    ensure_perm(actor, Perm.CALENDAR_MANAGE)
    day, kind, note = _validate(day=date, kind=kind, note=note)
    existing = MovedDay.objects.select_for_update().filter(date=day).first()
    public_kind = MovedDayKind.WORKING if is_public_working_day(day) else MovedDayKind.DAY_OFF
    changes: dict[str, list[str]] = {}
    if existing is not None and existing.kind == kind:
        if existing.note == note:
            raise _already(day, kind, _("already declared in this table"))
        changes["note"] = [existing.note, note]
    elif kind == public_kind:
        if existing is None:
            raise _already(day, kind, _public_reason(day))
        raise ValidationFailed.field(
            "date",
            _(
                "By the public calendar %(date)s is already of this kind (%(reason)s); "
                "remove the moved day instead."
            )
            % {"date": day.strftime("%d.%m.%Y"), "reason": _public_reason(day)},
        )
    elif existing is not None:
        changes["kind"] = [existing.kind, kind]
        if existing.note != note:
            changes["note"] = [existing.note, note]

    if existing is None:
        row = MovedDay(date=day, kind=kind, note=note, created_by=_user_or_none(actor))
        try:
            with transaction.atomic():
                row.save(force_insert=True)
        except IntegrityError as exc:
            # Two admins adding the same date at once: the unique index decides.
            raise ValidationFailed.field(
                "date", _("This date was just added by someone else; reload the page.")
            ) from exc
    else:
        row = existing
        row.kind, row.note = kind, note
        row.save(update_fields=["kind", "note", "updated_at"])
    details: dict[str, Any] = {"date": day.isoformat(), "kind": kind, "note": note}
    if changes:
        details["changes"] = changes
    record(actor=actor, event=EventType.CALENDAR_DAY_SET, target=row, details=details)
    return row


@transaction.atomic
def moved_day_remove(*, actor: Actor, moved_day: MovedDay) -> None:
    """The date goes back to what the public calendar says."""
    ensure_perm(actor, Perm.CALENDAR_MANAGE)
    row = MovedDay.objects.select_for_update().filter(pk=moved_day.pk).first()
    if row is None:
        raise NotFound()
    record(
        actor=actor,
        event=EventType.CALENDAR_DAY_REMOVED,
        target=row,
        details={"date": row.date.isoformat(), "kind": row.kind, "note": row.note},
    )
    row.delete()
