"""The journal names each entry's object for a reader, not as `app.model id`."""

from collections.abc import Callable

from django.db import transaction
from django.test import Client

from aips.core.actors import SystemActor
from aips.shared.accounts.models import User
from aips.shared.audit import selectors
from aips.shared.audit.models import AuditEvent, EventType
from aips.shared.audit.services import record


def _entry(target: User) -> AuditEvent:
    with transaction.atomic():
        return record(
            actor=SystemActor(label="labels-test"), event=EventType.USER_UPDATED, target=target
        )


def test_r57_17_journal_names_objects_for_people(
    personas: dict[str, User], client_as: Callable[[str | None], Client]
) -> None:
    maker = personas["bank_a_maker"]
    entry = _entry(maker)
    client = client_as("auditor")
    page = client.get("/audit/", {"actor": "labels-test"}).content.decode()
    assert f"User {maker.email}" in page
    assert f"accounts.user {maker.pk}" not in page
    detail = client.get(f"/audit/{entry.seq}/").content.decode()
    assert f"User {maker.email}" in detail


def test_r57_17_missing_or_unknown_objects_keep_a_plain_label(db: None) -> None:
    entries = [
        AuditEvent(seq=1, target_type="accounts.user", target_id="999999999"),
        AuditEvent(seq=2, target_type="nosuch.model", target_id="7"),
        AuditEvent(seq=3, target_type="accounts.user", target_id="99999999999999999999999"),
        AuditEvent(seq=4, target_type="", target_id=""),
    ]
    assert selectors.target_labels(entries) == {
        1: "User #999999999",
        2: "nosuch.model #7",
        3: "User #99999999999999999999999",
    }
