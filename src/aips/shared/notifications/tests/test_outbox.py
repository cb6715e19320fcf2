"""The e-mail outbox: written in the caller's transaction, drained by the worker, retried with
backoff, marked failed in the end; PostgreSQL claims with SKIP LOCKED never overlap."""

import queue
import smtplib
import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend as LocmemBackend
from django.db import connection, transaction
from django.utils import timezone

from aips.shared.accounts import services as account_services
from aips.shared.accounts.models import User
from aips.shared.audit.models import AuditEvent, EventType
from aips.shared.notifications import services
from aips.shared.notifications.models import OutboxMessage, OutboxStatus
from aips.shared.notifications.services import drain_outbox, enqueue_mail


class FlakyBackend(LocmemBackend):
    """Refuses every address that contains "bounce"; delivers the rest like locmem."""

    def send_messages(self, messages: Any) -> int:
        for message in messages:
            if any("bounce" in address for address in message.to):
                raise smtplib.SMTPRecipientsRefused({message.to[0]: (550, b"no such user")})
        return super().send_messages(messages)


class _Abort(Exception):
    pass


def _rolled_back(work: Callable[[], Any]) -> None:
    """Run `work` in a transaction that then fails."""
    try:
        with transaction.atomic():
            work()
            raise _Abort
    except _Abort:
        pass


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> list[datetime]:
    """clock[0] is "now" for the outbox (and everything else that asks django.utils.timezone)."""
    moment = [timezone.now()]
    monkeypatch.setattr("aips.shared.notifications.services.timezone.now", lambda: moment[0])
    return moment


@pytest.mark.django_db
def test_outbox_is_transactional_nothing_is_queued_for_a_rolled_back_change() -> None:
    _rolled_back(lambda: enqueue_mail(to="someone@example.kz", subject="Hello", body="text"))
    assert not OutboxMessage.objects.exists()

    enqueue_mail(to="someone@example.kz", subject="Hello", body="text")
    message = OutboxMessage.objects.get()
    assert message.status == OutboxStatus.QUEUED
    assert message.attempts == 0
    assert mail.outbox == []  # nothing leaves before the worker drains


def test_outbox_rolled_back_invitation_sends_nothing(personas: dict[str, User]) -> None:
    before = OutboxMessage.objects.count()

    def invite() -> None:
        account_services.user_create(
            actor=personas["center_admin"],
            organization_id=personas["bank_a_head"].organization_id,
            email="rolled.back@alataubank.example.kz",
            surname="Back",
            given_name="Rolled",
            position="Analyst",
            phones=["8 701 222 33 44"],
            role="org_viewer",
            language="kk",
        )
        assert OutboxMessage.objects.filter(to="rolled.back@alataubank.example.kz").exists()

    _rolled_back(invite)
    assert OutboxMessage.objects.count() == before

    account_services.user_create(
        actor=personas["center_admin"],
        organization_id=personas["bank_a_head"].organization_id,
        email="kept@alataubank.example.kz",
        surname="Kept",
        given_name="Aliya",
        position="Analyst",
        phones=["8 701 222 33 45"],
        role="org_viewer",
        language="kk",
    )
    queued = OutboxMessage.objects.get(to="kept@alataubank.example.kz")
    assert queued.language == "kk"
    assert "/invite/" in queued.body


@pytest.mark.django_db
def test_outbox_drains_sends_once_and_forgets_the_body() -> None:
    enqueue_mail(to="a@example.kz", subject="First\nline", body="one /invite/secret/")
    enqueue_mail(to="b@example.kz", subject="Second", body="two")

    assert drain_outbox() == 2

    assert [m.to for m in mail.outbox] == [["a@example.kz"], ["b@example.kz"]]
    assert mail.outbox[0].subject == "First line"  # a header is one line
    assert mail.outbox[0].body == "one /invite/secret/"
    assert mail.outbox[0].extra_headers["Auto-Submitted"] == "auto-generated"
    for message in OutboxMessage.objects.all():
        assert message.status == OutboxStatus.SENT
        assert message.sent_at is not None
        assert message.attempts == 1
        assert message.body == ""  # a single-use link does not stay in the database
    assert drain_outbox() == 0
    assert len(mail.outbox) == 2


@pytest.mark.django_db
def test_outbox_retries_with_backoff_then_marks_failed(
    settings: Any, clock: list[datetime]
) -> None:
    settings.EMAIL_BACKEND = f"{__name__}.FlakyBackend"
    enqueue_mail(to="bounce@example.kz", subject="Hello", body="text")
    enqueue_mail(to="fine@example.kz", subject="Hello", body="text")

    # One bad message never stops the others, and the drain does not raise.
    assert drain_outbox() == 1
    assert [m.to for m in mail.outbox] == [["fine@example.kz"]]
    bad = OutboxMessage.objects.get(to="bounce@example.kz")
    assert (bad.status, bad.attempts) == (OutboxStatus.QUEUED, 1)
    assert "SMTPRecipientsRefused" in bad.last_error
    assert bad.next_attempt_at == clock[0] + timedelta(minutes=1)

    # Not due yet: nothing is tried.
    clock[0] += timedelta(seconds=59)
    assert drain_outbox() == 0
    bad.refresh_from_db()
    assert bad.attempts == 1

    waits = []
    while bad.status == OutboxStatus.QUEUED:
        clock[0] = bad.next_attempt_at
        assert drain_outbox() == 0
        bad.refresh_from_db()
        if bad.status == OutboxStatus.QUEUED:
            waits.append(bad.next_attempt_at - clock[0])
    assert waits == [timedelta(minutes=m) for m in (2, 4, 8, 16, 32, 60)]
    assert bad.status == OutboxStatus.FAILED
    assert bad.attempts == services.OUTBOX_MAX_ATTEMPTS == 8
    assert bad.body == "text"  # kept for whoever investigates
    event = AuditEvent.objects.get(event=EventType.MAIL_FAILED)
    assert event.target_id == str(bad.pk)
    assert event.details["attempts"] == 8

    # A failed message is left alone from then on.
    clock[0] += timedelta(days=1)
    assert drain_outbox() == 0
    bad.refresh_from_db()
    assert bad.attempts == 8


@pytest.mark.django_db
def test_outbox_backoff_is_capped() -> None:
    assert services.backoff(1) == timedelta(minutes=1)
    assert services.backoff(3) == timedelta(minutes=4)
    assert services.backoff(30) == timedelta(hours=1)


@pytest.mark.django_db
def test_outbox_drain_stops_at_its_time_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    enqueue_mail(to="a@example.kz", subject="Hello", body="text")
    monkeypatch.setattr(services, "OUTBOX_TIME_BUDGET", -1.0)
    assert drain_outbox() == 0
    message = OutboxMessage.objects.get()
    assert (message.status, message.attempts) == (OutboxStatus.QUEUED, 0)
    monkeypatch.undo()
    assert drain_outbox() == 1


@pytest.mark.django_db
def test_outbox_purge_removes_old_sent_messages_only(clock: list[datetime]) -> None:
    enqueue_mail(to="old@example.kz", subject="Old", body="text")
    drain_outbox()
    enqueue_mail(to="queued@example.kz", subject="Waiting", body="text")
    clock[0] += timedelta(days=31)
    assert services.outbox_purge() == 1
    assert list(OutboxMessage.objects.values_list("to", flat=True)) == ["queued@example.kz"]


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="SQLite has no row locks: BEGIN IMMEDIATE serializes whole drains instead",
)
@pytest.mark.django_db(transaction=True)
def test_outbox_skip_locked_claims_never_overlap() -> None:
    for n in range(4):
        enqueue_mail(to=f"person{n}@example.kz", subject="Hello", body="text")
    everything = set(OutboxMessage.objects.values_list("pk", flat=True))
    claimed: queue.Queue[set[int]] = queue.Queue()
    release = threading.Event()

    def other_worker() -> None:
        try:
            with transaction.atomic():
                claimed.put({m.pk for m in services._claim(2)})
                release.wait(timeout=30)
        finally:
            connection.close()

    thread = threading.Thread(target=other_worker)
    thread.start()
    try:
        theirs = claimed.get(timeout=30)
        with transaction.atomic():
            mine = {m.pk for m in services._claim(10)}
        assert len(theirs) == 2
        assert mine == everything - theirs  # skipped, not waited for
        # A drain now sends only what the other worker does not hold.
        assert drain_outbox() == 2
    finally:
        release.set()
        thread.join(timeout=30)
    assert drain_outbox() == 2
    assert {m.to[0] for m in mail.outbox} == {f"person{n}@example.kz" for n in range(4)}
