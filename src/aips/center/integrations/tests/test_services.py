"""Registration, credentials and the center's CA (R67.7, R57.28.3)."""

import base64
import json
import stat
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from django.test import Client

from aips.center.integrations import ca, services
from aips.center.integrations.models import IntegrationModule
from aips.center.signals.tests.conftest import IngestClient, make_module, signal
from aips.core.actors import SystemActor
from aips.core.errors import AppError, Conflict, Forbidden, ValidationFailed
from aips.shared.audit.models import AuditEvent, EventType

pytestmark = pytest.mark.django_db

ADMIN = SystemActor(label="test")


def _csr(key: Any = None, cn: str = "evil.example") -> str:
    key = key or ec.generate_private_key(ec.SECP256R1())
    request = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)]))
        .sign(key, hashes.SHA256())
    )
    return request.public_bytes(serialization.Encoding.PEM).decode()


def _heartbeat(headers: dict[str, str], token: str | None = None) -> Any:
    extra: dict[str, Any] = dict(headers)
    if token:
        extra["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    return Client().post(
        "/api/v1/integrations/heartbeat",
        json.dumps({"version": "1.2.3"}),
        content_type="application/json",
        **extra,
    )


# --- registration and tokens ------------------------------------------------------------------


def test_r67_7_register_rotate_and_revoke_are_audited(personas: dict[str, Any]) -> None:
    admin = personas["center_admin"]
    org = personas["bank_a_head"].organization
    module = services.module_register(actor=admin, organization=org, name=" agent-dc1 ")
    assert module.name == "agent-dc1"
    module, first = services.token_issue(actor=admin, module=module)
    module, second = services.token_issue(actor=admin, module=module)
    assert first != second
    assert second.startswith(services.AGENT_TOKEN_PREFIX)
    stored = IntegrationModule.objects.get(pk=module.pk)
    # Only the hash is kept; the raw token appears nowhere in the database row or the journal.
    assert stored.token_hash == services.hash_token(second)
    assert second not in json.dumps(list(AuditEvent.objects.values_list("details", flat=True)))
    assert services.module_authenticate(token=first) is None
    assert services.module_authenticate(token=second) is not None
    services.module_revoke(actor=admin, module=module, reason="replaced")
    assert services.module_authenticate(token=second) is None
    with pytest.raises(AppError) as exc:
        services.token_issue(actor=admin, module=module)
    assert exc.value.status == 409
    events = list(
        AuditEvent.objects.filter(target_id=str(module.pk), event__startswith="integration:")
        .order_by("seq")
        .values_list("event", flat=True)
    )
    assert events == [
        EventType.INTEGRATION_REGISTERED,
        EventType.INTEGRATION_TOKEN_ISSUED,
        EventType.INTEGRATION_TOKEN_ISSUED,
        EventType.INTEGRATION_REVOKED,
    ]


def test_r67_7_only_the_center_admin_manages_modules(personas: dict[str, Any]) -> None:
    org = personas["bank_a_head"].organization
    module, _token = make_module(org)
    for persona in ("center_analyst", "auditor", "bank_a_head", "bank_a_maker"):
        actor = personas[persona]
        with pytest.raises(Forbidden):
            services.module_register(actor=actor, organization=org, name=f"x-{persona}")
        with pytest.raises(Forbidden):
            services.token_issue(actor=actor, module=module)
        with pytest.raises(Forbidden):
            services.cert_issue(actor=actor, module=module)
        with pytest.raises(Forbidden):
            services.module_revoke(actor=actor, module=module)
        with pytest.raises(Forbidden):
            services.module_update(actor=actor, module=module, name="y")


def test_r67_7_modules_belong_to_active_financial_organizations(
    personas: dict[str, Any],
) -> None:
    center = personas["center_admin"].organization
    with pytest.raises(ValidationFailed) as exc:
        services.module_register(actor=ADMIN, organization=center, name="agent")
    assert "organization" in exc.value.fields
    org = personas["bank_a_head"].organization
    services.module_register(actor=ADMIN, organization=org, name="agent")
    with pytest.raises(ValidationFailed) as exc:
        services.module_register(actor=ADMIN, organization=org, name="agent")
    assert "name" in exc.value.fields


def test_r67_7_module_update_renames_and_audits(personas: dict[str, Any]) -> None:
    org = personas["bank_a_head"].organization
    module, _ = make_module(org, name="one")
    make_module(org, name="two")
    with pytest.raises(ValidationFailed):
        services.module_update(actor=ADMIN, module=module, name="two")
    changed = services.module_update(
        actor=ADMIN, module=module, name="three", description=" DC1 Suricata "
    )
    assert (changed.name, changed.description) == ("three", "DC1 Suricata")
    assert AuditEvent.objects.filter(
        event=EventType.INTEGRATION_UPDATED, target_id=str(module.pk)
    ).exists()
    # Nothing changed: nothing written.
    services.module_update(actor=ADMIN, module=changed, name="three")
    assert (
        AuditEvent.objects.filter(
            event=EventType.INTEGRATION_UPDATED, target_id=str(module.pk)
        ).count()
        == 1
    )


# --- the center's CA --------------------------------------------------------------------------


def test_r57_28_3_ca_is_p256_kept_in_files_and_never_overwritten(
    center_ca: str, data_dir: Any
) -> None:
    key_file = data_dir / "ca" / "ca.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    key = serialization.load_pem_private_key(key_file.read_bytes(), password=None)
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    assert key.curve.name == "secp256r1"
    cert = x509.load_pem_x509_certificate(center_ca.encode())
    constraints = cert.extensions.get_extension_for_class(x509.BasicConstraints).value
    assert constraints.ca
    assert constraints.path_length == 0
    lifetime = cert.not_valid_after_utc - cert.not_valid_before_utc
    assert timedelta(days=3650) <= lifetime <= timedelta(days=3660)
    before = key_file.read_bytes()
    with pytest.raises(Conflict):
        services.ca_init(actor=ADMIN)
    assert key_file.read_bytes() == before
    assert services.ca_certificate_pem() == center_ca


def test_r57_28_3_issuing_needs_a_ca(module_a: tuple[Any, str]) -> None:
    with pytest.raises(AppError) as exc:
        services.cert_issue(actor=ADMIN, module=module_a[0])
    assert exc.value.code == "ca_missing"
    assert services.ca_certificate_pem() is None


def test_r57_28_3_generated_key_and_certificate(center_ca: str, module_a: tuple[Any, str]) -> None:
    module = module_a[0]
    issued = services.cert_issue(actor=ADMIN, module=module)
    assert issued.private_key_pem is not None
    assert "PRIVATE KEY" in issued.private_key_pem
    cert = x509.load_pem_x509_certificate(issued.certificate_pem.encode())
    ca_cert = x509.load_pem_x509_certificate(center_ca.encode())
    cert.verify_directly_issued_by(ca_cert)
    cn = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value
    assert cn == f"module-{module.pk}.{module.organization.bin}"
    eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(eku) == [ExtendedKeyUsageOID.CLIENT_AUTH]
    assert not cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    lifetime = cert.not_valid_after_utc - datetime.now(UTC)
    assert timedelta(days=364) < lifetime <= timedelta(days=365)
    key = serialization.load_pem_private_key(issued.private_key_pem.encode(), password=None)
    assert key.public_key() == cert.public_key()
    stored = IntegrationModule.objects.get(pk=module.pk)
    assert stored.cert_fingerprint == issued.fingerprint == ca.fingerprint_of(cert)
    assert len(issued.fingerprint) == 64
    assert issued.fingerprint == issued.fingerprint.lower()
    assert stored.cert_serial == format(cert.serial_number, "x")
    assert stored.cert_not_after == cert.not_valid_after_utc
    event = AuditEvent.objects.get(event=EventType.INTEGRATION_CERT_ISSUED)
    assert event.details["fingerprint"] == issued.fingerprint
    assert "PRIVATE" not in json.dumps(event.details)


def test_r57_28_3_csr_is_signed_with_the_subject_forced(
    center_ca: str, module_a: tuple[Any, str]
) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    issued = services.cert_issue(actor=ADMIN, module=module_a[0], csr_pem=_csr(key))
    assert issued.private_key_pem is None
    cert = x509.load_pem_x509_certificate(issued.certificate_pem.encode())
    assert cert.public_key() == key.public_key()
    cn = str(cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value)
    assert cn.startswith(f"module-{module_a[0].pk}.")
    assert "evil" not in cn
    # Serials are random, so two certificates for the same key still differ.
    again = services.cert_issue(actor=ADMIN, module=module_a[0], csr_pem=_csr(key))
    assert again.serial != issued.serial
    assert again.fingerprint != issued.fingerprint


def test_r57_28_3_bad_csrs_are_refused(center_ca: str, module_a: tuple[Any, str]) -> None:
    valid = _csr()
    request = x509.load_pem_x509_csr(valid.encode())
    der = request.public_bytes(serialization.Encoding.DER)

    def pem_of(data: bytes) -> str:
        body = base64.encodebytes(data).decode()
        return f"-----BEGIN CERTIFICATE REQUEST-----\n{body}-----END CERTIFICATE REQUEST-----\n"

    # A changed subject (the signed part) or a changed key algorithm: the signature fails.
    wrong_subject = pem_of(der.replace(b"evil.example", b"evil.exampla"))
    wrong_oid = bytearray(der)
    wrong_oid[40] ^= 0x01
    weak = _csr(rsa.generate_private_key(public_exponent=65537, key_size=1024))  # noqa: S505 - refused
    bad = ["garbage", wrong_subject, pem_of(bytes(wrong_oid)), weak, "x" * 20_000]
    for pem in bad:
        with pytest.raises(ValidationFailed) as exc:
            services.cert_issue(actor=ADMIN, module=module_a[0], csr_pem=pem)
        assert "csr" in exc.value.fields
    assert IntegrationModule.objects.get(pk=module_a[0].pk).cert_fingerprint is None


# --- authenticating with the certificate through the proxy's header ----------------------------


def test_r57_28_3_certificate_header_authenticates_until_revoked(
    center_ca: str, module_a: tuple[Any, str], cert_header: str
) -> None:
    module = module_a[0]
    issued = services.cert_issue(actor=ADMIN, module=module)
    escaped = quote(issued.certificate_pem, safe="")  # as nginx's $ssl_client_escaped_cert
    response = _heartbeat({cert_header: escaped})
    assert response.status_code == 200, response.content
    assert response.json()["module_id"] == module.pk
    # The fingerprint form (with colons, upper case) works too.
    colons = ":".join(issued.fingerprint[i : i + 2] for i in range(0, 64, 2)).upper()
    assert _heartbeat({cert_header: colons}).status_code == 200
    services.module_revoke(actor=ADMIN, module=module, reason="lost laptop")
    assert _heartbeat({cert_header: escaped}).status_code == 401


def test_r57_28_3_reissuing_replaces_the_certificate_at_once(
    center_ca: str, module_a: tuple[Any, str], cert_header: str
) -> None:
    old = services.cert_issue(actor=ADMIN, module=module_a[0])
    new = services.cert_issue(actor=ADMIN, module=module_a[0])
    assert _heartbeat({cert_header: quote(old.certificate_pem, safe="")}).status_code == 401
    assert _heartbeat({cert_header: quote(new.certificate_pem, safe="")}).status_code == 200


def test_r57_28_3_certificate_and_token_must_name_the_same_module(
    center_ca: str,
    module_a: tuple[Any, str],
    module_b: tuple[Any, str],
    cert_header: str,
) -> None:
    cert_a = services.cert_issue(actor=ADMIN, module=module_a[0])
    header = {cert_header: quote(cert_a.certificate_pem, safe="")}
    assert _heartbeat(header, token=module_a[1]).status_code == 200
    assert _heartbeat(header, token=module_b[1]).status_code == 401


def test_r57_28_3_header_is_ignored_unless_configured(
    center_ca: str, module_a: tuple[Any, str], settings: Any
) -> None:
    issued = services.cert_issue(actor=ADMIN, module=module_a[0])
    settings.AIPS_CLIENT_CERT_HEADER = ""
    response = _heartbeat({"HTTP_X_CLIENT_CERT": issued.fingerprint})
    assert response.status_code == 401


def test_r57_28_3_sha1_expired_or_foreign_certificates_are_refused(
    center_ca: str, module_a: tuple[Any, str], cert_header: str
) -> None:
    issued = services.cert_issue(actor=ADMIN, module=module_a[0])
    cert = x509.load_pem_x509_certificate(issued.certificate_pem.encode())
    sha1 = cert.fingerprint(hashes.SHA1()).hex()  # noqa: S303 - what nginx's variable holds
    assert _heartbeat({cert_header: sha1}).status_code == 401
    # A certificate the CA never issued to this module (another self-made one) is unknown.
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "stranger")])
    now = datetime.now(UTC)
    stranger = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=1))
        .sign(key, hashes.SHA256())
        .public_bytes(serialization.Encoding.PEM)
        .decode()
    )
    assert _heartbeat({cert_header: quote(stranger, safe="")}).status_code == 401
    # Past its not-after date the certificate is refused even though its fingerprint matches.
    assert (
        ca.fingerprint_from_header(
            quote(issued.certificate_pem, safe=""), now=now + timedelta(days=400)
        )
        is None
    )
    IntegrationModule.objects.filter(pk=module_a[0].pk).update(
        cert_not_after=now - timedelta(seconds=1)
    )
    assert _heartbeat({cert_header: issued.fingerprint}).status_code == 401


def test_r57_28_3_certificate_module_sends_signals(
    center_ca: str, module_a: tuple[Any, str], cert_header: str
) -> None:
    issued = services.cert_issue(actor=ADMIN, module=module_a[0])
    headers: dict[str, Any] = {cert_header: quote(issued.certificate_pem, safe="")}
    # Through the production WSGI entry, which serves this path outside Django.
    response = IngestClient().post(
        "/api/v1/signals", json.dumps([signal("ids")]), content_type="application/json", **headers
    )
    assert response.status_code == 200, response.content
    assert response.json()["accepted"] == 1
