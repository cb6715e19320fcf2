"""Threat and vulnerability alerts (R67.3.3, R67.3.5, R67.10, R67.13, R67.15): authored,
approved, published to organizations, acknowledged within 1 working day, processed."""

from collections.abc import Callable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.test import Client

from aips.center.alerts import selectors, services
from aips.center.alerts.models import Alert, AlertRecipient, ThreatType
from aips.core.errors import AppError, Forbidden, ValidationFailed
from aips.shared.accounts.models import User
from aips.shared.notifications.models import Notification, OutboxMessage
from aips.shared.organizations.models import Organization

ALMATY = ZoneInfo("Asia/Almaty")


def threat(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "kind": "threat",
        "title": "Phishing campaign imitating the regulator",
        "source": "Sectoral IS center",
        "threat_type_id": ThreatType.objects.get(code="fraud").pk,
        "level": "high",
        "tlp": "GREEN",
        "description": "Mass e-mails with a fake ARDFM letterhead.",
        "recommendations": "Block the sender domains and warn customers.",
        "indicators": ["phish.example.com", "198.51.100.23"],
    }
    data.update(overrides)
    return data


def published(personas: dict[str, User], **overrides: Any) -> Alert:
    analyst = personas["center_analyst"]
    alert = services.alert_create(actor=analyst, **threat(**overrides))
    return services.alert_transition(actor=analyst, alert=alert, name="publish_direct")


def mine(personas: dict[str, User], alert: Alert, key: str) -> AlertRecipient:
    recipient = selectors.recipient_for(personas[key], alert)
    assert recipient is not None
    return recipient


def test_r67_3_3_r67_13_publish_reaches_every_active_organization(
    personas: dict[str, User], monkeypatch: pytest.MonkeyPatch
) -> None:
    friday = datetime(2026, 12, 11, 16, 0, tzinfo=ALMATY)
    monkeypatch.setattr("aips.center.alerts.services.timezone.now", lambda: friday)
    alert = published(personas)
    orgs = set(AlertRecipient.objects.filter(alert=alert).values_list("organization_id", flat=True))
    expected = set(
        Organization.objects.filter(status="active")
        .exclude(kind="center")
        .values_list("pk", flat=True)
    )
    assert orgs == expected
    due = AlertRecipient.objects.filter(alert=alert).first()
    assert due is not None
    # 1 working day from Friday: the end of Monday 14 December.
    assert due.due_at.astimezone(ALMATY).date().isoformat() == "2026-12-14"
    heads_and_makers = User.objects.filter(
        organization_id__in=expected, role__in=["org_head", "org_responsible"]
    ).count()
    assert Notification.objects.filter(kind="alert_published").count() == heads_and_makers
    assert (
        OutboxMessage.objects.filter(subject__contains=alert.reference).count() == heads_and_makers
    )


def test_r67_13_decline_needs_reason_and_processed_only_after_accept(
    personas: dict[str, User],
) -> None:
    alert = published(personas)
    a = mine(personas, alert, "bank_a_head")
    with pytest.raises(ValidationFailed):
        services.recipient_decline(actor=personas["bank_a_head"], recipient=a, reason=" ")
    with pytest.raises(AppError):
        services.recipient_processed(actor=personas["bank_a_maker"], recipient=a)
    with pytest.raises(Forbidden):
        services.recipient_accept(actor=personas["bank_a_maker"], recipient=a)
    a = services.recipient_accept(actor=personas["bank_a_head"], recipient=a)
    assert a.responded_by == personas["bank_a_head"]
    assert a.deadline_at is None
    a = services.recipient_processed(actor=personas["bank_a_maker"], recipient=a)
    assert a.status == "processed"
    b = mine(personas, alert, "bank_b_head")
    b = services.recipient_decline(
        actor=personas["bank_b_head"], recipient=b, reason="We do not use that mail gateway"
    )
    assert b.status == "declined"
    with pytest.raises(AppError):
        services.recipient_accept(actor=personas["bank_b_head"], recipient=b)


def test_r67_13_late_answers_are_flagged(
    personas: dict[str, User], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        "aips.center.alerts.services.timezone.now",
        lambda: datetime(2026, 12, 11, 16, tzinfo=ALMATY),
    )
    alert = published(personas)
    a = mine(personas, alert, "bank_a_head")
    monkeypatch.setattr(
        "aips.center.alerts.services.timezone.now", lambda: datetime(2026, 12, 15, 9, tzinfo=ALMATY)
    )
    a = services.recipient_accept(actor=personas["bank_a_head"], recipient=a)
    assert a.late


def test_r67_13_an_organization_never_sees_another_ones_acknowledgement(
    personas: dict[str, User], client_as: Callable[[str | None], Client]
) -> None:
    alert = published(personas)
    a = mine(personas, alert, "bank_a_head")
    b_client = client_as("bank_b_head")
    rows = b_client.get(f"/api/v1/alerts/{alert.pk}/recipients").json()
    assert [r["organization_id"] for r in rows] == [personas["bank_b_head"].organization_id]
    assert b_client.post(f"/api/v1/alerts/{alert.pk}/recipients/{a.pk}/accept").status_code == 404
    center = client_as("center_admin").get(f"/api/v1/alerts/{alert.pk}/recipients").json()
    assert len(center) == AlertRecipient.objects.filter(alert=alert).count()


def test_r67_13_tlp_red_goes_to_chosen_organizations_and_named_readers_only(
    personas: dict[str, User], client_as: Callable[[str | None], Client]
) -> None:
    analyst = personas["center_analyst"]
    draft = services.alert_create(actor=analyst, **threat(tlp="RED"))
    with pytest.raises(ValidationFailed):
        services.alert_transition(actor=analyst, alert=draft, name="publish_direct")
    bank_a = personas["bank_a_head"].organization_id
    alert = services.alert_transition(
        actor=analyst, alert=draft, name="publish_direct", organization_ids=[bank_a]
    )
    assert list(
        AlertRecipient.objects.filter(alert=alert).values_list("organization_id", flat=True)
    ) == [bank_a]
    head = client_as("bank_a_head").get(f"/api/v1/alerts/{alert.pk}").json()
    maker = client_as("bank_a_maker").get(f"/api/v1/alerts/{alert.pk}").json()
    viewer = client_as("bank_a_viewer").get(f"/api/v1/alerts/{alert.pk}").json()
    assert head["description"].startswith("Mass e-mails")
    assert maker["description"].startswith("Mass e-mails")
    assert viewer["description"] is None
    assert viewer["title"] == alert.title
    assert client_as("bank_b_head").get(f"/api/v1/alerts/{alert.pk}").status_code == 404
    mail = OutboxMessage.objects.filter(to=personas["bank_a_head"].email).latest("id")
    assert alert.title not in mail.subject + mail.body


def test_r67_10_r67_15_org_alert_needs_head_then_center_returns_and_publishes(
    personas: dict[str, User],
) -> None:
    maker, head, analyst = (
        personas["bank_a_maker"],
        personas["bank_a_head"],
        personas["center_analyst"],
    )
    alert = services.alert_create(actor=maker, **threat(anonymous=True))
    with pytest.raises(Forbidden):
        services.alert_transition(actor=analyst, alert=alert, name="publish_direct")
    alert = services.alert_transition(actor=maker, alert=alert, name="request_approval")
    with pytest.raises(Forbidden):
        services.alert_transition(actor=maker, alert=alert, name="approve")
    alert = services.alert_transition(actor=head, alert=alert, name="approve")
    alert = services.alert_transition(
        actor=analyst, alert=alert, name="return", comment="Add the sender domains"
    )
    assert alert.deadline_at is not None
    services.alert_update(
        actor=maker, alert=alert, indicators=["phish.example.com", "x.example.org"]
    )
    alert = services.alert_transition(actor=maker, alert=alert, name="request_approval")
    alert = services.alert_transition(actor=head, alert=alert, name="approve")
    alert = services.alert_transition(actor=analyst, alert=alert, name="publish")
    assert alert.state == "published"
    assert alert.published_by == analyst


def test_r67_10_anonymous_publication_hides_the_origin(
    personas: dict[str, User], client_as: Callable[[str | None], Client]
) -> None:
    maker, head, analyst = (
        personas["bank_a_maker"],
        personas["bank_a_head"],
        personas["center_analyst"],
    )
    alert = services.alert_create(actor=maker, **threat(anonymous=True))
    alert = services.alert_transition(actor=maker, alert=alert, name="request_approval")
    alert = services.alert_transition(actor=head, alert=alert, name="approve")
    alert = services.alert_transition(actor=analyst, alert=alert, name="publish")
    seen_by_b = client_as("bank_b_head").get(f"/api/v1/alerts/{alert.pk}").json()
    assert seen_by_b["organization_id"] is None
    seen_by_center = client_as("center_admin").get(f"/api/v1/alerts/{alert.pk}").json()
    assert seen_by_center["organization_id"] == maker.organization_id


def test_r67_3_5_vulnerability_alert_scores_cvss(personas: dict[str, User]) -> None:
    alert = services.alert_create(
        actor=personas["center_analyst"],
        **threat(
            kind="vulnerability",
            threat_type_id=None,
            cve_ids=["cve-2024-3400"],
            cvss_vector="CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
            affected=[
                {"vendor": "Palo Alto Networks", "product": "PAN-OS", "versions": ["< 11.1.2-h3"]}
            ],
            references=["https://security.paloaltonetworks.com/CVE-2024-3400"],
            known_exploited=True,
        ),
    )
    assert alert.cve_ids == ["CVE-2024-3400"]
    assert (alert.cvss_version, float(alert.cvss_score or 0), alert.cvss_severity) == (
        "3.1",
        9.8,
        "critical",
    )
    with pytest.raises(ValidationFailed) as caught:
        services.alert_create(
            actor=personas["center_analyst"],
            **threat(kind="vulnerability", cve_ids=[], cvss_vector="CVSS:3.1/AV:X"),
        )
    assert {"cve_ids", "cvss_vector"} <= set(caught.value.fields)


NVD = {
    "vulnerabilities": [
        {
            "cve": {
                "id": "CVE-2024-3400",
                "descriptions": [{"lang": "en", "value": "Command injection in GlobalProtect."}],
                "metrics": {
                    "cvssMetricV31": [
                        {
                            "type": "Primary",
                            "cvssData": {
                                "vectorString": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"
                            },
                        }
                    ]
                },
                "references": [{"url": "https://security.paloaltonetworks.com/CVE-2024-3400"}],
            }
        }
    ]
}


def test_r67_3_5_import_creates_a_draft_and_names_what_is_wrong(
    personas: dict[str, User], client_as: Callable[[str | None], Client]
) -> None:
    import json

    from django.core.files.uploadedfile import SimpleUploadedFile

    client = client_as("center_analyst")
    good = SimpleUploadedFile("nvd.json", json.dumps(NVD).encode(), "application/json")
    response = client.post("/api/v1/alerts/import", {"file": good})
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["state"], body["kind"], body["cve_ids"]) == (
        "draft",
        "vulnerability",
        ["CVE-2024-3400"],
    )
    assert body["cvss_severity"] == "critical"
    broken = SimpleUploadedFile("nvd.json", b'{"vulnerabilities": [', "application/json")
    bad = client.post("/api/v1/alerts/import", {"file": broken})
    assert bad.status_code == 422
    assert "file" in bad.json()["error"]["fields"]


def test_r67_10_center_admin_manages_the_threat_type_list(
    personas: dict[str, User], client_as: Callable[[str | None], Client]
) -> None:
    from aips.shared.audit.models import AuditEvent, EventType

    assert ThreatType.objects.filter(code="malicious-code").exists()  # seeded from ENISA
    admin = client_as("center_admin")
    form = {
        "code": "ai-fraud",
        "name_en": "AI voice fraud",
        "name_ru": "Мошенничество с ИИ-голосом",
        "name_kk": "ЖИ дауысымен алаяқтық",
        "active": "on",
    }
    assert admin.post("/alerts/threat-types/", form).status_code == 302
    assert ThreatType.objects.get(code="ai-fraud").active
    retire = {**form, "active": ""}
    admin.post("/alerts/threat-types/", retire)
    assert not ThreatType.objects.get(code="ai-fraud").active
    assert ThreatType.objects.get(code="ai-fraud") not in selectors.threat_types()
    assert AuditEvent.objects.filter(event=EventType.THREAT_TYPE_SET).count() == 2
    bad = admin.post("/alerts/threat-types/", {**form, "code": "bad code!"})
    assert bad.status_code == 422
    assert list(bad.context["form"].errors) == ["code"]
    with pytest.raises(Forbidden):
        services.threat_type_set(
            actor=personas["center_analyst"], code="x", name_en="x", name_ru="x", name_kk="x"
        )


def test_r67_10_heads_and_center_hear_of_alerts_waiting_for_them(personas: dict[str, User]) -> None:
    maker, head, analyst = (
        personas["bank_a_maker"],
        personas["bank_a_head"],
        personas["center_analyst"],
    )
    alert = services.alert_create(actor=maker, **threat())
    alert = services.alert_transition(actor=maker, alert=alert, name="request_approval")
    assert Notification.objects.filter(user=head, kind="alert.request_approval").exists()
    alert = services.alert_transition(actor=head, alert=alert, name="approve")
    assert Notification.objects.filter(user=analyst, kind="alert.approve").exists()
    services.alert_transition(actor=analyst, alert=alert, name="return", comment="Add IOCs")
    assert Notification.objects.filter(user=maker, kind="alert.return").exists()
    bank_b = personas["bank_b_head"].organization_id
    assert not Notification.objects.filter(
        user__organization_id=bank_b, kind__startswith="alert."
    ).exists()
