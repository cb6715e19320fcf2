"""Batched appends to the journal (R57.17): `record_many` writes exactly the rows and hashes one
`record` call per event writes, under one head lock, inside the caller's transaction."""

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import pytest
from django.core.management import call_command
from django.db import connection, transaction

from aips.core import request_context
from aips.core.actors import SystemActor
from aips.core.tests import pg_roles
from aips.shared.audit import selectors
from aips.shared.audit.models import AuditEntry, AuditEvent, AuditHead, EventType
from aips.shared.audit.services import (
    _ADAPTED_EVENT_FIELDS,
    NewEvent,
    checkpoint_create,
    record,
    record_many,
)
from aips.shared.audit.verifier import verify
from aips.shared.organizations.models import Organization


@pytest.fixture(autouse=True)
def _own_key(settings: Any, tmp_path: Path) -> None:
    settings.AIPS_AUDIT_KEY_FILE = str(tmp_path / "audit.key")


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Callable[[], None]:
    """A journal clock that ticks one microsecond per entry; calling the fixture restarts it, so
    two runs over the same events stamp the same times."""
    start = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
    ticks: Iterator[int] = iter(())

    def restart() -> None:
        nonlocal ticks
        ticks = iter(range(1_000_000))

    monkeypatch.setattr(
        "aips.shared.audit.services.timezone.now",
        lambda: start + timedelta(microseconds=next(ticks)),
    )
    restart()
    return restart


def _events(personas: dict[str, Any]) -> list[NewEvent]:
    person = next(iter(personas.values()))
    org = Organization.objects.order_by("pk").first()
    assert org is not None
    return [
        NewEvent(actor=person, event=EventType.USER_UPDATED, target=person, details={"n": 1}),
        NewEvent(
            actor=SystemActor(label="worker"),
            event=EventType.DEADLINE_REMINDER_SENT,
            target=org,
            organization_id=org.pk,
            details={"text": "Ескерту — напоминание", "recipients": [3, 1, 2], "none": None},
        ),
        NewEvent(actor=None, event=EventType.LOGIN_FAILED, actor_label="someone@bank.kz"),
        NewEvent(actor=person, event=EventType.ALERT_VIEWED, organization_id=org.pk, details={}),
    ]


def _single(events: list[NewEvent]) -> None:
    for new in events:
        record(
            actor=new.actor,
            event=new.event,
            target=new.target,
            organization_id=new.organization_id,
            details=new.details,
            actor_label=new.actor_label,
        )


def _written(after: int) -> list[tuple[Any, ...]]:
    """The rows from `after` on, as the database gives them back, with the head."""
    entries = {e.seq: e for e in AuditEntry.objects.filter(seq__gt=after)}
    head = AuditHead.objects.get()
    return [
        (event.payload(), entries[event.seq].leaf_hash, entries[event.seq].chain_hash)
        for event in AuditEvent.objects.filter(seq__gt=after).order_by("seq")
    ] + [(head.seq, head.chain_hash)]


def _journal_verifies() -> None:
    checkpoint_create()
    call_command("audit", "verify")
    report = verify(
        selectors.journal_entries(), selectors.journal_checkpoints(), head_seq=selectors.head_seq()
    )
    assert report.ok, report.problems


T = TypeVar("T")


class _Undo(Exception):
    pass


def _rolled_back(work: Callable[[], T]) -> T:
    """Run `work` in a transaction, keep what it returns, roll the transaction back."""
    kept: list[T] = []

    def run() -> None:
        with transaction.atomic():
            kept.append(work())
            raise _Undo

    with pytest.raises(_Undo):
        run()
    return kept[0]


def test_r57_17_record_many_writes_the_chain_of_single_appends_byte_for_byte(
    personas: dict[str, Any], clock: Callable[[], None]
) -> None:
    events = _events(personas) * 3
    before = selectors.head_seq()
    token = request_context.bind(
        request_context.RequestContext(
            request_id="req-r57-17-batch", ip="2001:DB8:0:0:0:0:0:1", user_agent="pytest"
        )
    )
    try:
        written: dict[str, list[tuple[Any, ...]]] = {}
        for path in ("single", "many"):
            clock()

            def append(path: str = path) -> list[tuple[Any, ...]]:
                if path == "single":
                    _single(events)
                else:
                    returned = record_many(events)
                    seqs = [e.seq for e in returned]
                    assert seqs == list(range(before + 1, before + len(events) + 1))
                return _written(before)

            written[path] = _rolled_back(append)
    finally:
        request_context.reset(token)
    assert len(written["many"]) == len(events) + 1
    assert written["many"] == written["single"]
    first = written["many"][0][0]
    assert first["ip"] == "2001:db8::1"
    assert first["request_id"] == "req-r57-17-batch"
    assert selectors.head_seq() == before  # both runs were rolled back


def test_r57_17_record_many_interleaved_with_single_appends_verifies(
    personas: dict[str, Any],
) -> None:
    events = _events(personas)
    before = selectors.head_seq()
    with transaction.atomic():
        _single(events[:1])
        record_many(events)
        _single(events[1:3])
    with transaction.atomic():
        record_many(events[2:])
        record_many(events * 5)
        _single(events[:1])
    expected = before + 1 + len(events) + 2 + 2 + len(events) * 5 + 1
    assert selectors.head_seq() == expected
    seqs = list(AuditEntry.objects.order_by("seq").values_list("seq", flat=True))
    assert seqs == list(range(1, expected + 1))
    assert AuditHead.objects.get().chain_hash == AuditEntry.objects.get(seq=expected).chain_hash
    _journal_verifies()


def test_r57_17_record_many_of_nothing_touches_nothing(
    personas: dict[str, Any], django_assert_num_queries: Any
) -> None:
    head = AuditHead.objects.get()
    with transaction.atomic(), django_assert_num_queries(0):
        assert record_many([]) == []
        assert record_many(iter(())) == []
    assert AuditHead.objects.get().chain_hash == head.chain_hash
    assert selectors.head_seq() == head.seq


def test_r57_17_record_many_rolls_back_with_its_transaction(personas: dict[str, Any]) -> None:
    head = AuditHead.objects.get()
    events = _events(personas) * 10
    assert _rolled_back(lambda: (record_many(events), selectors.head_seq())[1]) == head.seq + 40
    after = AuditHead.objects.get()
    assert (after.seq, after.chain_hash) == (head.seq, head.chain_hash)
    assert not AuditEntry.objects.filter(seq__gt=head.seq).exists()
    assert not AuditEvent.objects.filter(seq__gt=head.seq).exists()
    _journal_verifies()


def test_r57_17_record_many_requires_the_callers_transaction(transactional_db: None) -> None:
    with pytest.raises(RuntimeError, match="transaction"):
        record_many([NewEvent(actor=None, event=EventType.LOGIN_FAILED)])
    assert not AuditEntry.objects.exists()


def test_r57_17_record_many_commits_as_the_app_role(
    transactional_db: None, clock: Callable[[], None]
) -> None:
    """On PostgreSQL the tests connect as the deployment's application role (pg_roles.py): it
    has exactly the rights `record_many` needs (INSERT on the journal, UPDATE of the head)."""
    if connection.vendor == "postgresql":
        roles = pg_roles.active()
        assert roles is not None
        with connection.cursor() as cursor:
            cursor.execute("SELECT current_user")
            assert cursor.fetchone() == (roles.app,)
    worker = SystemActor(label="worker")
    with transaction.atomic():
        record(actor=worker, event=EventType.MAIL_FAILED)
    with transaction.atomic():
        record_many(
            NewEvent(actor=worker, event=EventType.MAIL_FAILED, details={"n": n})
            for n in range(1500)
        )
    assert selectors.head_seq() == 1501
    assert AuditEvent.objects.get(seq=1501).details == {"n": 1499}
    _journal_verifies()


def test_r57_17_record_many_adapts_every_column_the_driver_cannot_take_as_is() -> None:
    """`record_many` passes integers and strings to the driver unchanged and sends the other
    columns through their fields; a new column of another type must join the adapted set."""
    plain = {"BigIntegerField", "CharField", "ForeignKey"}
    for model, adapted in ((AuditEvent, _ADAPTED_EVENT_FIELDS), (AuditEntry, frozenset())):
        for field in model._meta.concrete_fields:
            assert field.name in adapted or field.get_internal_type() in plain, field.name
