"""The integration-module API: isolation, credentials, revocation (R67.7, R57.28.3, R67.4)."""

import json
from typing import Any

import pytest
from cryptography import x509
from django.test import Client

from aips.center.integrations.models import IntegrationModule
from aips.center.signals.tests.conftest import signal

pytestmark = pytest.mark.django_db

BASE = "/api/v1/integrations"


def _post(client: Client, url: str, body: Any = None) -> Any:
    return client.post(url, json.dumps(body or {}), content_type="application/json")


def _bearer(personas: dict[str, Any], persona: str) -> Client:
    from aips.shared.accounts import services as account_services

    _token, raw = account_services.token_create(actor=personas[persona], name="api")
    return Client(HTTP_AUTHORIZATION=f"Bearer {raw}")


def test_r67_7_list_is_isolated_per_organization(
    client_as: Any, module_a: tuple[Any, str], module_b: tuple[Any, str]
) -> None:
    center = client_as("center_analyst").get(BASE).json()
    assert {m["id"] for m in center["items"]} == {module_a[0].pk, module_b[0].pk}
    item = next(m for m in center["items"] if m["id"] == module_a[0].pk)
    assert item["health"] == "never"
    assert item["organization_bin"] == module_a[0].organization.bin
    assert item["token_prefix"].startswith("aipsa_")
    assert "token_hash" not in item
    head = client_as("bank_a_head").get(BASE).json()
    assert [m["id"] for m in head["items"]] == [module_a[0].pk]
    filtered = client_as("center_admin").get(
        BASE, {"organization_id": module_b[0].organization_id, "health": "never"}
    )
    assert [m["id"] for m in filtered.json()["items"]] == [module_b[0].pk]
    assert client_as("bank_a_maker").get(BASE).status_code == 403


def test_r67_7_get_other_organizations_module_is_404(
    client_as: Any, module_a: tuple[Any, str]
) -> None:
    url = f"{BASE}/{module_a[0].pk}"
    assert client_as("bank_a_head").get(url).status_code == 200
    assert client_as("bank_b_head").get(url).status_code == 404
    assert client_as("bank_a_viewer").get(url).status_code == 403
    assert client_as("auditor").get(url).status_code == 200


def test_r67_7_register_rotate_revoke_over_the_api(
    personas: dict[str, Any], client_as: Any, agent: Any
) -> None:
    admin = client_as("center_admin")
    bank = personas["bank_b_head"].organization
    created = _post(admin, BASE, {"organization_id": bank.pk, "name": "soar-1", "kind": "soar"})
    assert created.status_code == 201, created.content
    module_id = created.json()["id"]
    assert created.json()["health"] == "never"
    issued = _post(admin, f"{BASE}/{module_id}/token")
    assert issued.status_code == 200
    token = issued.json()["token"]
    assert agent(token, [signal("ids")]).json()["accepted"] == 1
    rotated = _post(admin, f"{BASE}/{module_id}/token").json()["token"]
    assert agent(token, [signal("ids")]).status_code == 401
    revoked = _post(admin, f"{BASE}/{module_id}/revoke", {"reason": "pilot ended"})
    assert revoked.status_code == 200
    assert revoked.json()["health"] == "revoked"
    assert agent(rotated, [signal("ids")]).status_code == 401
    again = _post(admin, f"{BASE}/{module_id}/token")
    assert again.status_code == 409


def test_r67_7_create_needs_a_visible_organization(
    client_as: Any, personas: dict[str, Any]
) -> None:
    admin = client_as("center_admin")
    missing = _post(admin, BASE, {"organization_id": 999999, "name": "x"})
    assert missing.status_code == 404
    center = personas["center_admin"].organization
    refused = _post(admin, BASE, {"organization_id": center.pk, "name": "x"})
    assert refused.status_code == 422
    assert "organization" in refused.json()["error"]["fields"]


def test_r67_7_people_other_than_the_center_admin_cannot_manage(
    personas: dict[str, Any], client_as: Any, module_a: tuple[Any, str]
) -> None:
    url = f"{BASE}/{module_a[0].pk}"
    for persona in ("center_analyst", "auditor", "bank_a_head", "bank_b_head", "bank_a_maker"):
        client = client_as(persona)
        assert _post(client, f"{url}/token").status_code == 403, persona
        assert _post(client, f"{url}/certificate").status_code == 403, persona
        assert _post(client, f"{url}/revoke").status_code == 403, persona
        patch = client.patch(url, json.dumps({"name": "x"}), content_type="application/json")
        assert patch.status_code == 403, persona
    assert IntegrationModule.objects.get(pk=module_a[0].pk).revoked_at is None


def test_r67_7_token_over_a_session_needs_a_fresh_reauthentication(
    personas: dict[str, Any], client_as: Any, module_a: tuple[Any, str]
) -> None:
    from aips.core.access import REAUTH_SESSION_KEY

    admin = client_as("center_admin")
    session = admin.session
    session[REAUTH_SESSION_KEY] = 0
    session.save()
    assert _post(admin, f"{BASE}/{module_a[0].pk}/token").status_code == 403
    # A personal token was itself created after a re-authentication.
    bearer = _bearer(personas, "center_admin")
    assert _post(bearer, f"{BASE}/{module_a[0].pk}/token").status_code == 200


def test_r57_28_3_certificate_over_the_api(
    client_as: Any, module_a: tuple[Any, str], center_ca: str
) -> None:
    admin = client_as("center_admin")
    url = f"{BASE}/{module_a[0].pk}/certificate"
    generated = _post(admin, url).json()
    assert generated["private_key_pem"].startswith("-----BEGIN PRIVATE KEY-----")
    assert generated["ca_certificate_pem"] == center_ca
    cert = x509.load_pem_x509_certificate(generated["certificate_pem"].encode())
    cert.verify_directly_issued_by(x509.load_pem_x509_certificate(center_ca.encode()))
    detail = admin.get(f"{BASE}/{module_a[0].pk}").json()
    assert detail["cert_fingerprint"] == generated["fingerprint"]
    assert detail["cert_serial"] == generated["serial"]
    bad = _post(admin, url, {"csr": "-----BEGIN CERTIFICATE REQUEST-----\nxx"})
    assert bad.status_code == 422
    assert "csr" in bad.json()["error"]["fields"]


def test_r67_7_a_module_token_reaches_no_management_operation(
    module_a: tuple[Any, str],
) -> None:
    module, token = module_a
    agent = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    assert agent.get(BASE).status_code == 401
    assert agent.get(f"{BASE}/{module.pk}").status_code == 401
    assert _post(agent, f"{BASE}/{module.pk}/token").status_code == 401


def test_r67_7_a_persons_token_cannot_send_heartbeats(personas: dict[str, Any]) -> None:
    bearer = _bearer(personas, "center_admin")
    response = _post(bearer, f"{BASE}/heartbeat", {"version": "1"})
    assert response.status_code == 401


def test_r67_7_update_over_the_api(client_as: Any, module_a: tuple[Any, str]) -> None:
    admin = client_as("center_admin")
    response = admin.patch(
        f"{BASE}/{module_a[0].pk}",
        json.dumps({"description": "DC2 Suricata"}),
        content_type="application/json",
    )
    assert response.status_code == 200
    assert response.json()["description"] == "DC2 Suricata"
    assert response.json()["name"] == module_a[0].name
