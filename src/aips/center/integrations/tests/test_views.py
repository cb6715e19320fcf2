"""The integration-module pages: who sees and manages what (R67.7, R57.28.3, R57.5, R67.4)."""

from typing import Any

import pytest
from cryptography import x509
from django.urls import reverse

from aips.center.integrations.models import IntegrationModule
from aips.center.signals.tests.conftest import make_module

pytestmark = pytest.mark.django_db


def _detail(module: Any) -> str:
    return reverse("integrations:detail", kwargs={"pk": module.pk})


def test_r67_7_center_sees_every_organizations_modules_with_health(
    client_as: Any, module_a: tuple[Any, str], module_b: tuple[Any, str]
) -> None:
    for persona in ("center_admin", "center_analyst", "auditor"):
        page = client_as(persona).get(reverse("integrations:list"))
        assert page.status_code == 200
        body = page.content.decode()
        assert f'data-module="{module_a[0].pk}"' in body
        assert f'data-module="{module_b[0].pk}"' in body
        assert 'data-health="never"' in body
    # Filters: by organization, by health.
    admin = client_as("center_admin")
    only_b = admin.get(
        reverse("integrations:list"), {"organization": module_b[0].organization_id}
    ).content.decode()
    assert f'data-module="{module_b[0].pk}"' in only_b
    assert f'data-module="{module_a[0].pk}"' not in only_b
    ok = admin.get(reverse("integrations:list"), {"state": "ok"}).content.decode()
    assert "data-module=" not in ok


def test_r67_7_head_sees_own_modules_read_only(
    client_as: Any, module_a: tuple[Any, str], module_b: tuple[Any, str]
) -> None:
    head = client_as("bank_a_head")
    listing = head.get(reverse("integrations:list")).content.decode()
    assert f'data-module="{module_a[0].pk}"' in listing
    assert f'data-module="{module_b[0].pk}"' not in listing
    detail = head.get(_detail(module_a[0]))
    assert detail.status_code == 200
    body = detail.content.decode()
    assert reverse("integrations:token", kwargs={"pk": module_a[0].pk}) not in body
    assert reverse("integrations:revoke", kwargs={"pk": module_a[0].pk}) not in body
    assert head.post(reverse("integrations:token", kwargs={"pk": module_a[0].pk})).status_code == (
        403
    )


def test_r67_7_other_organizations_module_is_404_and_makers_get_403(
    client_as: Any, module_a: tuple[Any, str]
) -> None:
    assert client_as("bank_b_head").get(_detail(module_a[0])).status_code == 404
    for persona in ("bank_a_maker", "bank_a_viewer", "bank_b_maker"):
        assert client_as(persona).get(_detail(module_a[0])).status_code == 403
        assert client_as(persona).get(reverse("integrations:list")).status_code == 403


def test_r67_7_center_analyst_views_but_does_not_manage(
    client_as: Any, module_a: tuple[Any, str]
) -> None:
    analyst = client_as("center_analyst")
    assert analyst.get(_detail(module_a[0])).status_code == 200
    for name in ("update", "certificate", "revoke"):
        url = reverse(f"integrations:{name}", kwargs={"pk": module_a[0].pk})
        assert analyst.get(url).status_code == 403
    assert (
        analyst.post(reverse("integrations:token", kwargs={"pk": module_a[0].pk})).status_code
        == 403
    )
    assert analyst.get(reverse("integrations:create")).status_code == 403


def test_r67_7_register_then_token_is_shown_once(client_as: Any, personas: dict[str, Any]) -> None:
    admin = client_as("center_admin")
    bank = personas["bank_a_head"].organization
    response = admin.post(
        reverse("integrations:create"),
        {"organization": bank.pk, "name": "agent-dc1", "kind": "agent", "description": "DC1"},
    )
    assert response.status_code == 302
    module = IntegrationModule.objects.get(name="agent-dc1")
    assert response["Location"] == _detail(module)
    token_page = admin.post(reverse("integrations:token", kwargs={"pk": module.pk}))
    assert token_page.status_code == 200
    assert "no-store" in token_page["Cache-Control"]
    raw = token_page.context["token"]
    assert raw.startswith("aipsa_")
    assert raw in token_page.content.decode()
    # Afterwards only the prefix is ever shown.
    detail = admin.get(_detail(module)).content.decode()
    assert raw not in detail
    assert raw[:12] in detail


def test_r67_7_register_refuses_center_and_duplicate_names(
    client_as: Any, personas: dict[str, Any], module_a: tuple[Any, str]
) -> None:
    admin = client_as("center_admin")
    center = personas["center_admin"].organization
    refused = admin.post(
        reverse("integrations:create"),
        {"organization": center.pk, "name": "x", "kind": "agent"},
    )
    assert refused.status_code == 422  # not a choice
    duplicate = admin.post(
        reverse("integrations:create"),
        {"organization": module_a[0].organization_id, "name": module_a[0].name, "kind": "agent"},
    )
    assert duplicate.status_code == 422
    assert "already has a module" in duplicate.content.decode()


def test_r67_7_token_needs_a_fresh_reauthentication(
    client_as: Any, module_a: tuple[Any, str]
) -> None:
    from aips.core.access import REAUTH_SESSION_KEY

    admin = client_as("center_admin")
    session = admin.session
    session[REAUTH_SESSION_KEY] = 0
    session.save()
    before = IntegrationModule.objects.get(pk=module_a[0].pk).token_hash
    response = admin.post(reverse("integrations:token", kwargs={"pk": module_a[0].pk}))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:reauthenticate"))
    assert IntegrationModule.objects.get(pk=module_a[0].pk).token_hash == before


def test_r57_28_3_certificate_download_generated_and_from_csr(
    client_as: Any, module_a: tuple[Any, str], center_ca: str
) -> None:
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    admin = client_as("center_admin")
    url = reverse("integrations:certificate", kwargs={"pk": module_a[0].pk})
    assert admin.get(url).status_code == 200
    generated = admin.post(url, {"csr": ""})
    assert generated.status_code == 200
    assert generated["Content-Disposition"].startswith("attachment;")
    assert "no-store" in generated["Cache-Control"]
    body = generated.content.decode()
    assert "BEGIN CERTIFICATE" in body
    assert "BEGIN PRIVATE KEY" in body
    key = ec.generate_private_key(ec.SECP256R1())
    csr = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "x")]))
        .sign(key, hashes.SHA256())
        .public_bytes(serialization.Encoding.PEM)
        .decode()
    )
    signed = admin.post(url, {"csr": csr})
    assert signed.status_code == 200
    assert "PRIVATE KEY" not in signed.content.decode()
    cert = x509.load_pem_x509_certificate(signed.content)
    assert cert.public_key() == key.public_key()
    bad = admin.post(url, {"csr": "nonsense"})
    assert bad.status_code == 422
    assert "cannot be used" in bad.content.decode()


def test_r57_28_3_certificate_without_ca_says_so(client_as: Any, module_a: tuple[Any, str]) -> None:
    admin = client_as("center_admin")
    url = reverse("integrations:certificate", kwargs={"pk": module_a[0].pk})
    assert "aips ca init" in admin.get(url).content.decode()
    assert admin.post(url, {"csr": ""}).status_code == 409


def test_r67_7_revoke_with_reason(client_as: Any, module_a: tuple[Any, str], agent: Any) -> None:
    from aips.center.signals.tests.conftest import signal

    module, token = module_a
    admin = client_as("center_admin")
    url = reverse("integrations:revoke", kwargs={"pk": module.pk})
    assert admin.post(url, {"reason": ""}).status_code == 422
    assert admin.post(url, {"reason": "decommissioned"}).status_code == 302
    assert agent(token, [signal("ids")]).status_code == 401
    detail = admin.get(_detail(module)).content.decode()
    assert 'data-health="revoked"' in detail
    assert reverse("integrations:token", kwargs={"pk": module.pk}) not in detail


def test_r57_28_3_ca_page_and_download(
    client_as: Any, center_ca: str, personas: dict[str, Any]
) -> None:
    head = client_as("bank_a_head")
    page = head.get(reverse("integrations:ca"))
    assert page.status_code == 200
    assert center_ca.splitlines()[1] in page.content.decode()
    download = head.get(reverse("integrations:ca"), {"download": "1"})
    assert download["Content-Disposition"].startswith("attachment;")
    assert download.content.decode() == center_ca
    assert client_as("bank_a_maker").get(reverse("integrations:ca")).status_code == 403


def test_r67_7_nav_link_for_those_who_may_view(client_as: Any) -> None:
    link = reverse("integrations:list")
    assert link in client_as("center_analyst").get(reverse("core:home")).content.decode()
    assert link in client_as("bank_a_head").get(reverse("core:home")).content.decode()
    assert link not in client_as("bank_a_maker").get(reverse("core:home")).content.decode()


def test_r67_7_edit_module(client_as: Any, personas: dict[str, Any]) -> None:
    module, _ = make_module(personas["bank_b_head"].organization, name="old")
    admin = client_as("center_admin")
    url = reverse("integrations:update", kwargs={"pk": module.pk})
    assert admin.post(url, {"name": "new", "description": "SOC"}).status_code == 302
    module.refresh_from_db()
    assert (module.name, module.description) == ("new", "SOC")
