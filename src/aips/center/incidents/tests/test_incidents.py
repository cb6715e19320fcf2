"""Incident cards (R67.3.4, R67.12, R67.15) on the shared maker → head → center workflow."""

import hashlib
from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from aips.center.incidents import services
from aips.center.incidents.lifecycle import CARD_MACHINE
from aips.center.incidents.models import IncidentCard
from aips.conftest import card_data, submitted_card
from aips.core.errors import AppError, Forbidden, ValidationFailed
from aips.shared.accounts.models import User
from aips.shared.audit.models import AuditEvent, EventType

ALMATY = ZoneInfo("Asia/Almaty")
PEOPLE = [
    "center_admin",
    "center_analyst",
    "auditor",
    "bank_a_head",
    "bank_a_maker",
    "bank_a_viewer",
    "bank_b_head",
    "bank_b_maker",
]


def _draft(personas: dict[str, User], **overrides: Any) -> IncidentCard:
    return services.card_create(actor=personas["bank_a_maker"], **card_data(**overrides))


def _at_state(personas: dict[str, User], state: str) -> IncidentCard:
    card = _draft(personas)
    steps = {
        "draft": [],
        "awaiting_approval": [("bank_a_maker", "request_approval")],
        "submitted": [("bank_a_maker", "request_approval"), ("bank_a_head", "approve")],
        "returned": [
            ("bank_a_maker", "request_approval"),
            ("bank_a_head", "approve"),
            ("center_analyst", "return"),
        ],
        "accepted": [
            ("bank_a_maker", "request_approval"),
            ("bank_a_head", "approve"),
            ("center_analyst", "accept"),
        ],
    }[state]
    for who, name in steps:
        card = services.card_transition(
            actor=personas[who], card=card, name=name, comment="needs the vector"
        )
    return card


# Who may take each transition from its source state (everyone else is refused).
ALLOWED = {
    ("draft", "request_approval"): {"bank_a_head", "bank_a_maker"},
    ("awaiting_approval", "approve"): {"bank_a_head"},
    ("awaiting_approval", "send_back"): {"bank_a_head"},
    ("submitted", "return"): {"center_admin", "center_analyst"},
    ("submitted", "accept"): {"center_admin", "center_analyst"},
    ("returned", "request_approval"): {"bank_a_head", "bank_a_maker"},
    ("accepted", "close"): {"center_admin", "center_analyst"},
}


@pytest.mark.parametrize(("state", "name"), sorted(ALLOWED))
@pytest.mark.parametrize("who", PEOPLE)
def test_r67_12_r67_15_every_transition_by_every_persona(
    personas: dict[str, User], state: str, name: str, who: str
) -> None:
    card = _at_state(personas, state)
    allowed = who in ALLOWED[(state, name)]
    if allowed:
        moved = services.card_transition(
            actor=personas[who], card=card, name=name, comment="reason"
        )
        assert moved.state == CARD_MACHINE.transitions[name].target
    else:
        with pytest.raises((Forbidden, AppError)):
            services.card_transition(actor=personas[who], card=card, name=name, comment="x")
        card.refresh_from_db()
        assert card.state == state


@pytest.mark.parametrize("state", ["draft", "submitted", "accepted"])
def test_r67_12_transitions_from_the_wrong_state_are_refused(
    personas: dict[str, User], state: str
) -> None:
    card = _at_state(personas, state)
    wrong = {"draft": "approve", "submitted": "request_approval", "accepted": "return"}[state]
    who = {"draft": "bank_a_head", "submitted": "bank_a_maker", "accepted": "center_admin"}[state]
    with pytest.raises(AppError) as caught:
        services.card_transition(actor=personas[who], card=card, name=wrong, comment="x")
    assert caught.value.status == 409


def test_r67_12_maker_needs_the_head_but_a_head_may_approve_own_card(
    personas: dict[str, User],
) -> None:
    """The maker can never approve (no such permission); a head preparing a card is the IS-unit
    management's agreement itself, so a one-head organization can still report."""
    card = _at_state(personas, "awaiting_approval")
    with pytest.raises(Forbidden):
        services.card_transition(actor=personas["bank_a_maker"], card=card, name="approve")
    own = services.card_create(actor=personas["bank_a_head"], **card_data())
    own = services.card_transition(actor=personas["bank_a_head"], card=own, name="request_approval")
    own = services.card_transition(actor=personas["bank_a_head"], card=own, name="approve")
    assert own.state == "submitted"


def test_r67_15_return_needs_a_reason_and_starts_three_working_days(
    personas: dict[str, User], monkeypatch: pytest.MonkeyPatch
) -> None:
    card = _at_state(personas, "submitted")
    with pytest.raises(ValidationFailed):
        services.card_transition(actor=personas["center_analyst"], card=card, name="return")
    friday_evening = datetime(2026, 12, 11, 18, 30, tzinfo=ALMATY)
    monkeypatch.setattr("aips.shared.workflow.engine.timezone.now", lambda: friday_evening)
    card = services.card_transition(
        actor=personas["center_analyst"], card=card, name="return", comment="Add the vector"
    )
    # Mon 14 and Tue 15 count; the weekend and Independence Day (Wed 16) do not.
    assert card.deadline_at is not None
    due = card.deadline_at.astimezone(ALMATY)
    assert (due.date().isoformat(), due.hour, due.minute) == ("2026-12-17", 23, 59)
    assert card.deadline_reason == "rework"
    # Resubmission (maker → head) clears the clock once the head approves.
    card = services.card_transition(
        actor=personas["bank_a_maker"], card=card, name="request_approval"
    )
    assert card.deadline_at is not None
    card = services.card_transition(actor=personas["bank_a_head"], card=card, name="approve")
    assert card.deadline_at is None
    assert card.version == 2


def test_r67_3_4_center_sees_a_diff_between_submissions(
    personas: dict[str, User], client_as: Callable[[str | None], Client]
) -> None:
    card = _at_state(personas, "returned")
    services.card_update(
        actor=personas["bank_a_maker"], card=card, attack_vector="Phishing e-mail with a macro"
    )
    card = services.card_transition(
        actor=personas["bank_a_maker"], card=card, name="request_approval"
    )
    services.card_transition(actor=personas["bank_a_head"], card=card, name="approve")
    page = client_as("center_analyst").get(f"/incidents/{card.pk}/")
    changes = {c.label: (c.removed, c.added) for c in page.context["changes"]}
    assert changes["Attack vector"] == ([], ["Phishing e-mail with a macro"])
    assert page.context["versions_count"] == 2


def test_r67_12_type_rules_are_field_errors(personas: dict[str, User]) -> None:
    maker = personas["bank_a_maker"]
    with pytest.raises(ValidationFailed) as caught:
        services.card_create(actor=maker, **card_data(kind="other_outage", downtime_minutes=60))
    assert set(caught.value.fields) == {"downtime_minutes"}
    with pytest.raises(ValidationFailed) as caught:
        services.card_create(actor=maker, **card_data(kind="unsanctioned_transfer"))
    assert set(caught.value.fields) == {"transfers_count", "transfers_amount_kzt"}
    ok = services.card_create(
        actor=maker,
        **card_data(
            kind="unsanctioned_transfer", transfers_count=3, transfers_amount_kzt=Decimal("1500000")
        ),
    )
    assert ok.transfers_amount_kzt == Decimal("1500000")
    with pytest.raises(ValidationFailed) as caught:
        services.card_create(
            actor=maker,
            **card_data(
                cve_ids=["CVE-2024-3400", "cve 2024"],
                indicators=["not an indicator!"],
                detected_at=timezone.now() - timedelta(days=3),
            ),
        )
    assert set(caught.value.fields) == {"cve_ids", "indicators", "detected_at"}


def test_r67_3_4_indicators_are_normalized(personas: dict[str, User]) -> None:
    card = _draft(
        personas,
        kind="vulnerability_exploited",
        cve_ids=["cve-2024-3400", "CVE-2024-3400"],
        indicators=[
            "203.0.113.7",
            "EVIL.Example.COM.",
            "hxxp://evil[.]example.com/a?b=1",
            "D41D8CD98F00B204E9800998ECF8427E",
            "Phish@Example.com",
            "2001:db8::1",
        ],
    )
    assert card.cve_ids == ["CVE-2024-3400"]
    assert card.indicators == [
        {"type": "ip", "value": "203.0.113.7"},
        {"type": "domain", "value": "evil.example.com"},
        {"type": "url", "value": "http://evil.example.com/a?b=1"},
        {"type": "md5", "value": "d41d8cd98f00b204e9800998ecf8427e"},
        {"type": "email", "value": "phish@example.com"},
        {"type": "ip", "value": "2001:db8::1"},
    ]


def test_r67_15_returned_card_stays_in_the_center_inbox_while_fixed(
    personas: dict[str, User], client_as: Callable[[str | None], Client]
) -> None:
    card = _at_state(personas, "returned")
    card = services.card_transition(
        actor=personas["bank_a_maker"], card=card, name="request_approval"
    )
    listed = client_as("center_analyst").get("/api/v1/incidents").json()["items"]
    assert [c["id"] for c in listed] == [card.pk]
    assert listed[0]["deadline_at"] is not None


def test_r67_3_4_center_never_sees_drafts(
    personas: dict[str, User], client_as: Callable[[str | None], Client]
) -> None:
    draft = _draft(personas)
    waiting = _at_state(personas, "awaiting_approval")
    for who in ("center_admin", "center_analyst", "auditor"):
        client = client_as(who)
        assert client.get(f"/incidents/{draft.pk}/").status_code == 404
        assert client.get(f"/api/v1/incidents/{waiting.pk}").status_code == 404
        ids = [c["id"] for c in client.get("/api/v1/incidents").json()["items"]]
        assert draft.pk not in ids
        assert waiting.pk not in ids


def test_r67_4_bank_b_reaches_nothing_of_bank_a(
    personas: dict[str, User], client_as: Callable[[str | None], Client]
) -> None:
    card, attachment = submitted_card(personas)
    bank_a = personas["bank_a_head"].organization_id
    for who in ("bank_b_head", "bank_b_maker"):
        client = client_as(who)
        assert client.get(f"/api/v1/incidents?organization_id={bank_a}").json()["items"] == []
        assert client.get(f"/incidents/?organization={bank_a}").context["listing"].rows == []
        assert client.get(f"/incidents/{card.pk}/attachments/{attachment.pk}/").status_code == 404
        assert client.get(f"/api/v1/incidents/{card.pk}/comments").status_code == 404
        assert client.get(f"/api/v1/incidents/{card.pk}/versions").status_code == 404


def test_r67_3_4_internal_notes_stay_in_the_center(
    personas: dict[str, User], client_as: Callable[[str | None], Client]
) -> None:
    card, _attachment = submitted_card(personas)
    services.comment_add(
        actor=personas["center_analyst"], card=card, body="Looks like APT-X", internal=True
    )
    services.comment_add(actor=personas["center_analyst"], card=card, body="Please add logs")
    bank = [
        c["body"]
        for c in client_as("bank_a_maker").get(f"/api/v1/incidents/{card.pk}/comments").json()
    ]
    center = [
        c["body"] for c in client_as("auditor").get(f"/api/v1/incidents/{card.pk}/comments").json()
    ]
    assert bank == ["Please add logs"]
    assert center == ["Looks like APT-X", "Please add logs"]
    with pytest.raises(Forbidden):
        services.comment_add(actor=personas["bank_a_maker"], card=card, body="x", internal=True)


def test_r67_12_time_from_detection_to_submission_is_recorded(personas: dict[str, User]) -> None:
    card = _at_state(personas, "submitted")
    assert card.first_submitted_at is not None
    assert timedelta(hours=1, minutes=59) < card.time_to_submit < timedelta(hours=2, minutes=5)


def test_r67_3_4_attachments_are_downloads_with_sha256(
    personas: dict[str, User], client_as: Callable[[str | None], Client]
) -> None:
    card = _draft(personas)
    with pytest.raises(ValidationFailed):
        services.attachment_add(
            actor=personas["bank_a_maker"],
            card=card,
            upload=SimpleUploadedFile("run.exe", b"MZ", "application/octet-stream"),
        )
    attachment = services.attachment_add(
        actor=personas["bank_a_maker"],
        card=card,
        upload=SimpleUploadedFile("evidence.txt", b"<script>alert(1)</script>", "text/html"),
    )
    assert attachment.sha256 == hashlib.sha256(b"<script>alert(1)</script>").hexdigest()
    response = client_as("bank_a_maker").get(f"/incidents/{card.pk}/attachments/{attachment.pk}/")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/octet-stream"
    assert response["Content-Disposition"].startswith("attachment;")
    assert "sandbox" in response["Content-Security-Policy"]
    assert b"".join(response.streaming_content) == b"<script>alert(1)</script>"  # type: ignore[attr-defined]


def test_r67_3_4_restricted_cards_are_audited_on_every_view(
    personas: dict[str, User], client_as: Callable[[str | None], Client]
) -> None:
    card = _draft(personas, tlp="RED")
    _draft(personas, tlp="GREEN")
    client = client_as("bank_a_viewer")
    client.get(f"/incidents/{card.pk}/")
    client.get(f"/api/v1/incidents/{card.pk}")
    client.get("/api/v1/incidents")
    viewed = AuditEvent.objects.filter(event=EventType.INCIDENT_VIEWED)
    # Page, API detail and API list each count; the GREEN card is not audited.
    assert viewed.filter(target_id=str(card.pk)).count() == 3
    assert viewed.count() == 3


def test_r67_12_api_soar_creates_a_draft(
    personas: dict[str, User], client_as: Callable[[str | None], Client]
) -> None:
    data = card_data()
    body = {
        **data,
        "detected_at": data["detected_at"].isoformat(),
        "started_at": data["started_at"].isoformat(),
    }
    response = client_as("bank_a_maker").post(
        "/api/v1/incidents", body, content_type="application/json"
    )
    assert response.status_code == 201, response.content
    created = response.json()
    assert created["state"] == "draft"
    assert created["reference"].startswith("INC-")
    moved = client_as("bank_a_maker").post(
        f"/api/v1/incidents/{created['id']}/transitions/request_approval",
        {},
        content_type="application/json",
    )
    assert moved.json()["state"] == "awaiting_approval"
    bad = client_as("bank_a_maker").post(
        "/api/v1/incidents", {**body, "kind": "other_outage"}, content_type="application/json"
    )
    assert bad.status_code == 422
    assert "downtime_minutes" in bad.json()["error"]["fields"]


def test_r67_12_web_flow_maker_head_center(
    personas: dict[str, User], client_as: Callable[[str | None], Client]
) -> None:
    maker, head, center = (
        client_as("bank_a_maker"),
        client_as("bank_a_head"),
        client_as("center_analyst"),
    )
    data = card_data()
    form = {
        **data,
        "detected_at": timezone.localtime(data["detected_at"]).strftime("%Y-%m-%dT%H:%M"),
        "started_at": timezone.localtime(data["started_at"]).strftime("%Y-%m-%dT%H:%M"),
        "indicators": "\n".join(data["indicators"]),
    }
    created = maker.post("/incidents/new/", form)
    assert created.status_code == 302
    card = IncidentCard.objects.get()
    maker.post(f"/incidents/{card.pk}/do/request_approval/")
    head.post(f"/incidents/{card.pk}/do/approve/")
    center.post(f"/incidents/{card.pk}/do/return/", {"comment": "Which accounts?"})
    card.refresh_from_db()
    assert card.state == "returned"
    edit = maker.post(f"/incidents/{card.pk}/edit/", {**form, "impact": "Two operator accounts"})
    assert edit.status_code == 302
    maker.post(f"/incidents/{card.pk}/do/request_approval/")
    head.post(f"/incidents/{card.pk}/do/approve/")
    center.post(f"/incidents/{card.pk}/do/accept/", {"confirm": "yes"})
    card.refresh_from_db()
    assert card.state == "accepted"
    assert card.version == 2
