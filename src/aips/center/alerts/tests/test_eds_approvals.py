"""EDS-signed acts on alerts (issue 16, item 4; R67.10, R67.13): the IS-unit head's approval of
the organization's alert, and a receiving organization's head accepting or declining an alert,
signed over the canonical form of the version concerned (and the reason), stored, shown, and
exported; mandatory when the organization requires it."""

import base64
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from aips.center.alerts import selectors, services
from aips.center.alerts.models import Alert, AlertRecipient, AlertState, RecipientStatus
from aips.conftest import alert_data, published_alert
from aips.core.errors import AppError
from aips.shared.accounts.models import User
from aips.shared.eds.types import EdsRefused
from aips.shared.organizations import services as organization_services
from aips.shared.workflow.models import SignedAct
from aips.shared.workflow.tests.eds_helpers import Eds, eds_world


@pytest.fixture
def eds(personas: dict[str, User], settings: Any, tmp_path: Path) -> Eds:
    return eds_world(settings, tmp_path, personas["bank_a_head"])


def _mine(personas: dict[str, User], alert: Alert) -> AlertRecipient:
    recipient = selectors.recipient_for(personas["bank_a_head"], alert)
    assert recipient is not None
    return recipient


def _answer_document(head: User, alert: Alert, decision: str, reason: str = "") -> bytes:
    document = services.alert_document(actor=head, alert=alert, name=decision, comment=reason)
    assert document is not None
    return document.to_bytes()


def test_r67_10_head_signs_the_approval_of_the_organizations_alert(
    personas: dict[str, User], eds: Eds, client_as: Callable[[str | None], Client]
) -> None:
    maker, head = personas["bank_a_maker"], personas["bank_a_head"]
    alert = services.alert_create(actor=maker, **alert_data())
    alert = services.alert_transition(actor=maker, alert=alert, name="request_approval")
    document = services.alert_document(actor=head, alert=alert, name="approve")
    assert document is not None
    data = document.to_bytes()
    alert = services.alert_transition(
        actor=head, alert=alert, name="approve", eds_signature=eds.sign(data)
    )
    assert alert.state == AlertState.SUBMITTED
    act = SignedAct.objects.get(act="approve")
    assert act.version is not None
    assert act.version.number == 1
    assert json.loads(bytes(act.document))["item"]["kind"] == "alert"
    # Its organization and the center see who approved it, with the bundle.
    for persona in ("bank_a_viewer", "center_analyst"):
        text = client_as(persona).get(f"/alerts/{alert.pk}/").content.decode()
        assert f"IIN {eds.iin}" in text, persona
    signatures = client_as("center_analyst").get(f"/api/v1/alerts/{alert.pk}/signatures")
    assert [s["act"] for s in signatures.json()] == ["approve"]


def test_r67_13_head_signs_accepting_and_the_reason_of_declining(
    personas: dict[str, User], eds: Eds, client_as: Callable[[str | None], Client]
) -> None:
    head = personas["bank_a_head"]
    accepted = published_alert(personas)
    recipient = _mine(personas, accepted)
    page = client_as("bank_a_head").get(f"/alerts/{accepted.pk}/").content.decode()
    assert 'data-eds-sign="accept"' in page
    assert 'data-eds-reason="reason"' in page
    data = _answer_document(head, accepted, "accept")
    services.recipient_accept(actor=head, recipient=recipient, eds_signature=eds.sign(data))
    act = SignedAct.objects.get(act="accept")
    assert act.object_id == recipient.pk
    assert act.version is not None
    assert act.version.number == accepted.version
    # The decline's reason is part of what is signed: another reason does not pass.
    declined = published_alert(personas, title="Second campaign")
    other = _mine(personas, declined)
    reason = "Не применимо: «макросы» уже запрещены.\r\nСм. политику ИБ."
    wrong = _answer_document(head, declined, "decline", "Another reason")
    with pytest.raises(EdsRefused):
        services.recipient_decline(
            actor=head, recipient=other, reason=reason, eds_signature=eds.sign(wrong)
        )
    signed = _answer_document(head, declined, "decline", reason)
    assert "Не применимо".encode() in signed
    assert b"\\r" not in signed
    services.recipient_decline(
        actor=head, recipient=other, reason=reason, eds_signature=eds.sign(signed)
    )
    other.refresh_from_db()
    assert other.status == RecipientStatus.DECLINED
    # Bank A sees its own signed answers; bank B none of them; the center every organization's.
    mine = client_as("bank_a_head").get(f"/api/v1/alerts/{declined.pk}/signatures").json()
    assert [s["act"] for s in mine] == ["decline"]
    assert client_as("bank_b_head").get(f"/api/v1/alerts/{declined.pk}/signatures").json() == []
    act = SignedAct.objects.get(act="decline")
    bundle = f"/alerts/{declined.pk}/signatures/{act.pk}/bundle.zip"
    assert client_as("bank_b_head").get(bundle).status_code == 404
    assert client_as("center_analyst").get(bundle).status_code == 200
    assert client_as("bank_a_head").get(bundle).status_code == 200


def test_r67_13_mandatory_setting_refuses_unsigned_answers_on_the_page_and_the_api(
    personas: dict[str, User], eds: Eds, client_as: Callable[[str | None], Client]
) -> None:
    head = personas["bank_a_head"]
    organization_services.organization_update(
        actor=personas["center_admin"], organization=head.organization, eds_approvals_required=True
    )
    alert = published_alert(personas)
    recipient = _mine(personas, alert)
    with pytest.raises(AppError) as refused:
        services.recipient_accept(actor=head, recipient=recipient)
    assert refused.value.code == "eds_required"
    web = client_as("bank_a_head")
    page = web.get(f"/alerts/{alert.pk}/").content.decode()
    assert 'data-recipient-action="accept"' not in page
    assert "data-eds-required" in page
    answer = web.post(f"/alerts/{alert.pk}/recipients/{recipient.pk}/accept/", follow=True)
    assert "requires this decision to be signed with EDS" in answer.content.decode()
    api = web.post(f"/api/v1/alerts/{alert.pk}/recipients/{recipient.pk}/accept")
    assert api.status_code == 422
    assert api.json()["error"]["code"] == "eds_required"
    document = web.get(
        f"/api/v1/alerts/{alert.pk}/recipients/{recipient.pk}/document",
        {"decision": "accept"},
    ).json()
    assert document["required"] is True
    signed = web.post(
        f"/api/v1/alerts/{alert.pk}/recipients/{recipient.pk}/accept",
        {"eds_signature": eds.sign(base64.b64decode(document["data"]))},
        content_type="application/json",
    )
    assert signed.status_code == 200, signed.content
    assert signed.json()["status"] == "accepted"
