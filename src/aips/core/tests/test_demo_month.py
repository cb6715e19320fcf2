"""The demo month (`aips demo load`, `aips.demo.load_demo_month`): cards, alerts and requests in
every state, loaded once, outside the test world, so that every demo person has work waiting."""

import io
from collections import Counter
from datetime import datetime
from typing import Any

from django.core.management import call_command

from aips.center.alerts import selectors as alert_selectors
from aips.center.alerts.lifecycle import ALERT_MACHINE
from aips.center.alerts.models import Alert, AlertRecipient, AlertState, RecipientStatus
from aips.center.incidents import selectors as card_selectors
from aips.center.incidents.lifecycle import CARD_MACHINE
from aips.center.incidents.models import CardState, IncidentCard
from aips.center.inquiries import selectors as request_selectors
from aips.center.inquiries import services as request_services
from aips.center.inquiries.lifecycle import INQUIRY_MACHINE
from aips.center.inquiries.models import Inquiry, InquiryState, InquiryThread, ThreadState
from aips.core.actors import has_perm
from aips.core.permissions import Perm
from aips.demo import USERS, load_demo_month
from aips.shared.accounts.models import User
from aips.shared.audit import selectors as audit_selectors
from aips.shared.audit.models import AuditEvent
from aips.shared.audit.verifier import verify
from aips.shared.workdays.calendar import ALMATY, deadline_info

# A Wednesday with working days all around it (no holiday in the ten working days before).
WEDNESDAY = datetime(2026, 11, 18, 12, 0, tzinfo=ALMATY)


def _counts() -> tuple[int, ...]:
    return (
        IncidentCard.objects.count(),
        Alert.objects.count(),
        AlertRecipient.objects.count(),
        Inquiry.objects.count(),
        InquiryThread.objects.count(),
        AuditEvent.objects.count(),
    )


def work_of(user: User) -> Counter[str]:
    """What waits for this person's action, read the way a page reads it: through the
    selectors, then the lifecycle's allowed moves (or the acknowledgement the role gives)."""
    work: Counter[str] = Counter()
    for card in card_selectors.card_list(actor=user):
        if CARD_MACHINE.allowed(user, card):
            work["card"] += 1
    alerts = list(alert_selectors.alert_list(actor=user))
    for alert in alerts:
        if ALERT_MACHINE.allowed(user, alert):
            work["alert"] += 1
    own = alert_selectors.own_recipients(actor=user, alert_ids=[a.pk for a in alerts])
    for recipient in own.values():
        if recipient.status == RecipientStatus.DELIVERED and has_perm(user, Perm.ALERT_ACKNOWLEDGE):
            work["acknowledge"] += 1
        if recipient.status == RecipientStatus.ACCEPTED and has_perm(user, Perm.ALERT_PROCESS):
            work["process"] += 1
    for inquiry in request_selectors.inquiry_list(actor=user):
        if INQUIRY_MACHINE.allowed(user, inquiry):
            work["request"] += 1
        for thread in request_selectors.threads(actor=user, inquiry=inquiry):
            if request_services.thread_actions(user, thread):
                work["thread"] += 1
    return work


def test_demo_load_adds_the_month_once_on_a_fresh_database(db: None) -> None:
    first = io.StringIO()
    call_command("demo", "load", stdout=first)
    assert "Demo month: 26 cards, alerts and requests." in first.getvalue()
    loaded = _counts()
    assert all(loaded)
    second = io.StringIO()
    call_command("demo", "load", stdout=second)
    assert "Demo month" not in second.getvalue()
    assert _counts() == loaded
    assert load_demo_month() == 0
    # The journal told in the story's order still verifies, entry by entry.
    report = verify(audit_selectors.journal_entries(), audit_selectors.journal_checkpoints())
    assert report.ok, report
    # Every demo person has something to do, or (viewer, auditor) something to read.
    people = {p.key: User.objects.get(email=p.email) for p in USERS}
    for key, user in people.items():
        if key in ("auditor", "bank_a_viewer"):
            assert card_selectors.card_list(actor=user).exists(), key
            assert alert_selectors.alert_list(actor=user).exists(), key
            assert request_selectors.inquiry_list(actor=user).exists(), key
            assert not work_of(user), key
        else:
            assert sum(work_of(user).values()) >= 2, (key, work_of(user))
    # The heads and the center act on all three kinds of item.
    for key in ("bank_a_head", "bank_b_head", "center_analyst", "center_admin"):
        kinds = work_of(people[key])
        assert kinds["card"], (key, kinds)
        assert kinds["alert"] + kinds["acknowledge"], (key, kinds)
        assert kinds["request"] + kinds["thread"], (key, kinds)


def test_demo_load_without_month_adds_no_items(db: None) -> None:
    call_command("demo", "load", "--without-month", stdout=io.StringIO())
    assert not IncidentCard.objects.exists()
    assert not Alert.objects.exists()
    assert not Inquiry.objects.exists()


def test_the_test_world_holds_no_month(personas: dict[str, User]) -> None:
    assert not IncidentCard.objects.exists()
    assert not Alert.objects.exists()
    assert not Inquiry.objects.exists()


def _deadlines(values: Any) -> Counter[str]:
    seen: Counter[str] = Counter()
    for deadline in values:
        info = deadline_info(deadline, WEDNESDAY)
        seen["overdue" if info.overdue else "today" if info.due_today else "later"] += 1
    return seen


def test_demo_month_has_every_state_and_deadlines_due_today_and_overdue(
    personas: dict[str, User],
) -> None:
    assert load_demo_month(now=WEDNESDAY) == 26
    assert set(IncidentCard.objects.values_list("state", flat=True)) == set(CardState.values)
    assert set(Alert.objects.values_list("state", flat=True)) == set(AlertState.values)
    assert set(Alert.objects.values_list("kind", flat=True)) == {"threat", "vulnerability"}
    statuses = set(AlertRecipient.objects.values_list("status", flat=True))
    assert statuses == set(RecipientStatus.values)
    assert set(Inquiry.objects.values_list("state", flat=True)) == set(InquiryState.values)
    assert set(InquiryThread.objects.values_list("state", flat=True)) == set(ThreadState.values)
    returned = IncidentCard.objects.filter(state=CardState.RETURNED)
    assert _deadlines(returned.values_list("deadline_at", flat=True)) == {"today": 1, "overdue": 1}
    waiting = AlertRecipient.objects.filter(status=RecipientStatus.DELIVERED)
    assert _deadlines(waiting.values_list("due_at", flat=True)) == {"today": 2, "overdue": 1}
    threads = InquiryThread.objects.exclude(deadline_at=None).values_list("deadline_at", flat=True)
    seen = _deadlines(threads)
    assert seen == {"today": 4, "overdue": 1, "later": 1}, seen
    # The story's moments, not the loading's: the journal and the items carry them.
    oldest = IncidentCard.objects.order_by("created_at").first()
    assert oldest is not None
    assert (WEDNESDAY - oldest.created_at).days >= 20
    assert AuditEvent.objects.filter(at__lt=WEDNESDAY.replace(day=1)).exists()
    # A card returned once and accepted keeps both versions and the reason.
    accepted = IncidentCard.objects.get(state=CardState.ACCEPTED)
    assert accepted.version == 2
    assert card_selectors.timeline(actor=personas["bank_a_maker"], card=accepted)
