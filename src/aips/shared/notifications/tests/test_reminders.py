"""Deadline reminders (R67.15): once before and once at the deadline, to the people who must act,
re-armed by a new deadline, sent by `aips worker`. Real Kazakhstan dates: a card returned on
Friday 11 December 2026 is due at the end of Thursday the 17th (Independence Day, Wednesday the
16th, is a day off), so its "before" reminder comes on Tuesday the 15th."""

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.core.management import call_command

from aips.center.incidents import services as incident_services
from aips.center.incidents.models import IncidentCard
from aips.conftest import card_data
from aips.shared.accounts.models import User
from aips.shared.audit.models import AuditEvent, EventType
from aips.shared.notifications import reminders
from aips.shared.notifications.models import Notification, OutboxMessage, OutboxStatus, ReminderSent
from aips.shared.notifications.services import drain_outbox

ALMATY = ZoneInfo("Asia/Almaty")


def almaty(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0, us: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, us, tzinfo=ALMATY)


@pytest.fixture
def at(monkeypatch: pytest.MonkeyPatch) -> Callable[[datetime], int]:
    """Run the reminder job as if it were `moment` (django.utils.timezone.now moved)."""

    def run(moment: datetime) -> int:
        with monkeypatch.context() as patch:
            patch.setattr("aips.shared.notifications.reminders.timezone.now", lambda: moment)
            return reminders.send_deadline_reminders()

    return run


def _return_at(
    personas: dict[str, User], card: IncidentCard, moment: datetime, monkeypatch: Any
) -> IncidentCard:
    maker, head = personas["bank_a_maker"], personas["bank_a_head"]
    card = incident_services.card_transition(actor=maker, card=card, name="request_approval")
    card = incident_services.card_transition(actor=head, card=card, name="approve")
    with monkeypatch.context() as patch:
        patch.setattr("django.utils.timezone.now", lambda: moment)
        return incident_services.card_transition(
            actor=personas["center_analyst"], card=card, name="return", comment="Add the vector"
        )


def _reminded(kind: str) -> list[str]:
    return sorted(
        Notification.objects.filter(kind=f"deadline.{kind}").values_list("user__email", flat=True)
    )


def test_r67_15_reminders_fire_once_before_and_once_at_the_deadline(
    personas: dict[str, User],
    at: Callable[[datetime], int],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    card = incident_services.card_create(actor=personas["bank_a_maker"], **card_data())
    card = _return_at(personas, card, almaty(2026, 12, 11, 10, 0), monkeypatch)
    assert card.deadline_at == almaty(2026, 12, 17, 23, 59, 59, 999999)
    people = sorted([personas["bank_a_head"].email, personas["bank_a_maker"].email])

    assert at(almaty(2026, 12, 14, 12, 0)) == 0  # Monday: Tuesday and Thursday still ahead
    assert at(almaty(2026, 12, 15, 0, 30)) == 1  # Tuesday: the next working day is the last
    assert _reminded("before") == people
    assert at(almaty(2026, 12, 15, 18, 0)) == 0
    assert at(almaty(2026, 12, 17, 23, 59)) == 0  # due today, but "before" was sent already
    assert _reminded("at") == []

    assert at(almaty(2026, 12, 18, 0, 1)) == 1  # overdue
    assert _reminded("at") == people
    assert at(almaty(2026, 12, 21, 9, 0)) == 0
    assert _reminded("before") == people  # still once each

    overdue = Notification.objects.filter(kind="deadline.at").first()
    assert overdue is not None
    assert card.reference in overdue.text
    assert "17.12.2026 23:59" in overdue.text
    assert overdue.link == f"/incidents/{card.pk}/"
    assert ReminderSent.objects.count() == 2
    events = AuditEvent.objects.filter(event=EventType.DEADLINE_REMINDER_SENT)
    assert sorted(e.details["kind"] for e in events) == ["at", "before"]
    assert all(e.organization_id == card.organization_id for e in events)
    # Nobody outside bank A hears about it.
    assert not Notification.objects.filter(kind__startswith="deadline.").exclude(
        user__organization_id=card.organization_id
    )
    # TLP:AMBER: the e-mails say only "sign in to read".
    drain_outbox()
    reminder_mails = [m for m in mail.outbox if m.subject == "AIPS: a new notification"]
    assert reminder_mails
    assert all(card.title not in m.body for m in reminder_mails)


def test_r67_15_a_new_deadline_rearms_the_reminders(
    personas: dict[str, User],
    at: Callable[[datetime], int],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    card = incident_services.card_create(actor=personas["bank_a_maker"], **card_data())
    card = _return_at(personas, card, almaty(2026, 12, 11, 10, 0), monkeypatch)
    assert at(almaty(2026, 12, 15, 9, 0)) == 1
    assert at(almaty(2026, 12, 18, 9, 0)) == 1

    # Fixed, resubmitted and returned once more on Monday the 21st: due Thursday the 24th.
    card = _return_at(personas, card, almaty(2026, 12, 21, 10, 0), monkeypatch)
    assert card.deadline_at == almaty(2026, 12, 24, 23, 59, 59, 999999)
    assert at(almaty(2026, 12, 22, 9, 0)) == 0
    assert at(almaty(2026, 12, 23, 9, 0)) == 1
    assert at(almaty(2026, 12, 23, 10, 0)) == 0
    assert at(almaty(2026, 12, 25, 9, 0)) == 1
    assert ReminderSent.objects.filter(object_id=card.pk).count() == 4
    assert len(_reminded("before")) == len(_reminded("at")) == 4  # two people, two deadlines


def test_r67_15_no_reminders_once_the_card_is_resubmitted(
    personas: dict[str, User],
    at: Callable[[datetime], int],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    card = incident_services.card_create(actor=personas["bank_a_maker"], **card_data())
    card = _return_at(personas, card, almaty(2026, 12, 11, 10, 0), monkeypatch)
    card = incident_services.card_transition(
        actor=personas["bank_a_maker"], card=card, name="request_approval"
    )
    card = incident_services.card_transition(
        actor=personas["bank_a_head"], card=card, name="approve"
    )
    assert card.deadline_at is None
    assert at(almaty(2026, 12, 15, 9, 0)) == 0
    assert at(almaty(2026, 12, 18, 9, 0)) == 0


def test_r67_15_an_item_first_seen_overdue_gets_only_the_at_reminder(
    personas: dict[str, User],
    at: Callable[[datetime], int],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    card = incident_services.card_create(actor=personas["bank_a_maker"], **card_data())
    _return_at(personas, card, almaty(2026, 12, 11, 10, 0), monkeypatch)
    assert at(almaty(2026, 12, 19, 9, 0)) == 1
    assert set(ReminderSent.objects.values_list("kind", flat=True)) == {"at"}


@pytest.mark.django_db
def test_r67_15_when_reminders_are_due() -> None:
    deadline = almaty(2026, 12, 17, 23, 59, 59, 999999)
    assert reminders.due_kind(deadline, almaty(2026, 12, 14, 23, 59)) is None
    assert reminders.due_kind(deadline, almaty(2026, 12, 15, 0, 0)) == "before"
    assert reminders.due_kind(deadline, almaty(2026, 12, 17, 23, 59)) == "before"
    assert reminders.due_kind(deadline, almaty(2026, 12, 18, 0, 0)) == "at"


def test_r67_15_incident_cards_are_registered_with_the_reminder_job() -> None:
    assert "incidents.card" in {s.name for s in reminders.sources()}


def test_r67_15_worker_once_reminds_and_drains(
    personas: dict[str, User], settings: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.AIPS_AUDIT_KEY_FILE = str(tmp_path / "audit.key")
    settings.AIPS_AUDIT_ARCHIVE_DIR = str(tmp_path / "archive")
    card = incident_services.card_create(actor=personas["bank_a_maker"], **card_data())
    card = _return_at(personas, card, almaty(2026, 12, 11, 10, 0), monkeypatch)
    monkeypatch.setattr(
        "aips.shared.notifications.reminders.timezone.now", lambda: almaty(2026, 12, 18, 9, 0)
    )
    drain_outbox()  # the invitations and the "returned" e-mails
    mail.outbox.clear()

    call_command("worker", "--once")

    assert ReminderSent.objects.filter(object_id=card.pk, kind="at").count() == 1
    assert not OutboxMessage.objects.filter(status=OutboxStatus.QUEUED).exists()
    assert sorted(m.to[0] for m in mail.outbox) == sorted(
        [personas["bank_a_maker"].email, personas["bank_a_head"].email]
    )
    assert {m.subject for m in mail.outbox} == {"AIPS: a new notification"}  # TLP:AMBER

    call_command("worker", "--once")  # nothing twice
    assert ReminderSent.objects.count() == 1
    assert Notification.objects.filter(kind="deadline.at").count() == 2
