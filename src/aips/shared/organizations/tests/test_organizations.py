"""Organization profiles (R67.3.2, R67.5) and tenant isolation of them (R67.4)."""

from collections.abc import Callable
from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django.utils import translation

from aips.core.errors import Forbidden, ValidationFailed
from aips.shared.audit.models import AuditEvent, EventType
from aips.shared.organizations import services
from aips.shared.organizations.models import Organization

NEW_ORG: dict[str, Any] = {
    "name": 'JSC "Test Bank"',
    "bin": "990840001239",
    "email": "SOC@TestBank.example.kz",
    "kind": "bank",
}


def test_r67_5_center_admin_creates_org_via_api_with_audit(
    client_as: Callable[[str | None], Client],
) -> None:
    response = client_as("center_admin").post(
        "/api/v1/organizations",
        {**NEW_ORG, "name_kk": "«Тест Банк» АҚ"},
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["bin"] == "990840001239"
    assert body["email"] == "soc@testbank.example.kz"
    assert body["status"] == "active"
    event = AuditEvent.objects.get(event=EventType.ORGANIZATION_CREATED, target_id=str(body["id"]))
    assert event.actor is not None
    assert event.actor.email == "admin@aips.example.kz"
    assert event.request_id == response["X-Request-ID"]


def test_r67_5_org_profile_requires_valid_bin(client_as: Callable[[str | None], Client]) -> None:
    admin = client_as("center_admin")
    api = admin.post(
        "/api/v1/organizations", {**NEW_ORG, "bin": "990840001230"}, content_type="application/json"
    )
    assert api.status_code == 422
    assert "check digit" in api.json()["error"]["fields"]["bin"][0]
    ui = admin.post("/organizations/new/", {**NEW_ORG, "bin": "99084000123", "status": "active"})
    assert ui.status_code == 422
    assert ui.context["form"].errors["bin"] == ["A BIN has exactly 12 digits."]
    assert not Organization.objects.filter(name=NEW_ORG["name"]).exists()


def test_r67_5_duplicate_bin_is_a_field_error(
    client_as: Callable[[str | None], Client], orgs: dict[str, Organization]
) -> None:
    admin = client_as("center_admin")
    taken = orgs["bank_b"].bin
    api = admin.post(
        "/api/v1/organizations", {**NEW_ORG, "bin": taken}, content_type="application/json"
    )
    assert api.status_code == 422
    assert "already registered" in api.json()["error"]["fields"]["bin"][0]
    ui = admin.post("/organizations/new/", {**NEW_ORG, "bin": taken, "status": "active"})
    assert ui.status_code == 422
    assert "already registered" in ui.context["form"].errors["bin"][0]


def test_r67_5_all_bad_fields_reported_at_once(personas: dict[str, Any]) -> None:
    with pytest.raises(ValidationFailed) as caught:
        services.organization_create(
            actor=personas["center_admin"], name=" ", bin="1", email="nope", kind="castle"
        )
    assert set(caught.value.fields) == {"name", "bin", "email", "kind"}


def test_r67_5_there_is_one_center_and_it_cannot_be_suspended(
    personas: dict[str, Any], orgs: dict[str, Organization]
) -> None:
    admin = personas["center_admin"]
    with pytest.raises(ValidationFailed) as caught:
        services.organization_create(actor=admin, **{**NEW_ORG, "kind": "center"})
    assert "kind" in caught.value.fields
    with pytest.raises(ValidationFailed) as caught:
        services.organization_update(actor=admin, organization=orgs["center"], status="suspended")
    assert "status" in caught.value.fields


def test_r67_5_only_center_admin_may_change_profiles(
    personas: dict[str, Any], orgs: dict[str, Organization]
) -> None:
    for key in ("center_analyst", "auditor", "bank_a_head", "bank_a_maker"):
        with pytest.raises(Forbidden):
            services.organization_update(actor=personas[key], organization=orgs["bank_a"], name="X")
        with pytest.raises(Forbidden):
            services.organization_create(actor=personas[key], **NEW_ORG)


def test_r67_3_2_update_changes_only_given_fields_and_audits_the_diff(
    client_as: Callable[[str | None], Client], orgs: dict[str, Organization]
) -> None:
    bank = orgs["bank_b"]
    response = client_as("center_admin").patch(
        f"/api/v1/organizations/{bank.pk}",
        {"status": "suspended", "name_en": "Saryarka Bank"},
        content_type="application/json",
    )
    assert response.status_code == 200
    bank.refresh_from_db()
    assert (bank.status, bank.name_en, bank.bin) == ("suspended", "Saryarka Bank", "991240000013")
    event = AuditEvent.objects.filter(event=EventType.ORGANIZATION_UPDATED).latest("seq")
    assert event.details["changes"] == {
        "name_en": ["Saryarka Bank JSC", "Saryarka Bank"],
        "status": ["active", "suspended"],
    }


def test_r67_5_web_ui_create_and_edit(
    client_as: Callable[[str | None], Client],
) -> None:
    admin = client_as("center_admin")
    response = admin.post("/organizations/new/", {**NEW_ORG, "status": "active"})
    assert response.status_code == 302
    org = Organization.objects.get(bin=NEW_ORG["bin"])
    assert response["Location"] == f"/organizations/{org.pk}/"
    edit = admin.post(
        f"/organizations/{org.pk}/edit/", {**NEW_ORG, "name": "Renamed", "status": "suspended"}
    )
    assert edit.status_code == 302
    org.refresh_from_db()
    assert (org.name, org.status) == ("Renamed", "suspended")


def test_r67_5_cli_org_create(db: None) -> None:
    out = StringIO()
    call_command("org", "create", *_cli_args(NEW_ORG), stdout=out)
    assert "created organization" in out.getvalue()
    event = AuditEvent.objects.get(event=EventType.ORGANIZATION_CREATED)
    assert event.actor is None
    assert event.actor_label.startswith("cli:")
    with pytest.raises(CommandError, match="bin"):
        call_command("org", "create", *_cli_args({**NEW_ORG, "bin": "123"}))


def _cli_args(data: dict[str, str]) -> list[str]:
    return [arg for key, value in data.items() for arg in (f"--{key}", value)]


def test_r67_4_organizations_list_shows_only_own_org(
    client_as: Callable[[str | None], Client], orgs: dict[str, Organization]
) -> None:
    listed = client_as("bank_a_maker").get("/api/v1/organizations").json()["items"]
    assert [o["id"] for o in listed] == [orgs["bank_a"].pk]
    page = client_as("bank_a_maker").get("/organizations/")
    assert list(page.context["organizations"]) == [orgs["bank_a"]]
    center = client_as("center_analyst").get("/api/v1/organizations").json()["items"]
    assert len(center) == 4


def test_r67_4_other_org_is_404_like_a_missing_one(
    client_as: Callable[[str | None], Client], orgs: dict[str, Organization]
) -> None:
    b = client_as("bank_b_maker")
    other = b.get(f"/api/v1/organizations/{orgs['bank_a'].pk}")
    missing = b.get("/api/v1/organizations/987654")
    assert other.status_code == missing.status_code == 404
    assert other.json()["error"]["message"] == missing.json()["error"]["message"]


def test_keyset_pagination(client_as: Callable[[str | None], Client]) -> None:
    admin = client_as("center_admin")
    first = admin.get("/api/v1/organizations?limit=3").json()
    assert len(first["items"]) == 3
    assert first["next_cursor"] == first["items"][-1]["id"]
    second = admin.get(f"/api/v1/organizations?limit=3&after={first['next_cursor']}").json()
    assert len(second["items"]) == 1
    assert second["next_cursor"] is None
    assert admin.get("/api/v1/organizations?limit=abc").status_code == 422


def test_r67_3_2_display_name_follows_language(orgs: dict[str, Organization]) -> None:
    bank = orgs["bank_a"]
    with translation.override("kk"):
        assert bank.display_name == "«Алатау Банк» АҚ"
    with translation.override("en"):
        assert bank.display_name == "Alatau Bank JSC"
    bank.name_en = ""
    with translation.override("en"):
        assert bank.display_name == bank.name
