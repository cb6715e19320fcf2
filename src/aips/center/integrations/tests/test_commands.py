"""`aips ca` and `aips integration` (R67.7, R57.28.3), as ops and the agent's tests use them."""

import io
import stat
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from django.core.management import CommandError, call_command

from aips.center.integrations.models import IntegrationModule
from aips.center.signals.tests.conftest import signal
from aips.shared.audit.models import AuditEvent, EventType

pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_r57_28_3_ca_init_once_then_show(personas: dict[str, Any], data_dir: Path) -> None:
    with pytest.raises(CommandError, match="ca init"):
        run("ca", "show")
    message = run("ca", "init")
    assert "SHA-256" in message
    pem = run("ca", "show")
    assert pem.startswith("-----BEGIN CERTIFICATE-----")
    assert (data_dir / "ca" / "ca.pem").read_text() == pem
    with pytest.raises(CommandError, match="never overwritten"):
        run("ca", "init")


def test_r67_7_register_and_token_print_only_the_value(
    personas: dict[str, Any], agent: Any
) -> None:
    bin_ = personas["bank_a_head"].organization.bin
    module_id = run("integration", "register", "--org-bin", bin_, "--name", "e2e-agent").strip()
    assert module_id.isdigit()
    module = IntegrationModule.objects.get(pk=int(module_id))
    assert module.organization.bin == bin_
    token = run("integration", "token", module_id)
    assert token.count("\n") == 1
    assert token.endswith("\n")
    token = token.strip()
    assert token.startswith("aipsa_")
    assert agent(token, [signal("ids")]).json()["accepted"] == 1
    event = AuditEvent.objects.get(event=EventType.INTEGRATION_REGISTERED)
    assert event.actor_label.startswith("cli:")
    with pytest.raises(CommandError, match="already has a module"):
        run("integration", "register", "--org-bin", bin_, "--name", "e2e-agent")
    with pytest.raises(CommandError, match="no organization"):
        run("integration", "register", "--org-bin", "000000000000", "--name", "x")
    with pytest.raises(CommandError, match="no integration module"):
        run("integration", "token", "999999")


def test_r57_28_3_cert_files_and_csr(
    personas: dict[str, Any], module_a: tuple[Any, str], tmp_path: Path
) -> None:
    run("ca", "init")
    module = module_a[0]
    key_out, cert_out = tmp_path / "agent.key", tmp_path / "agent.crt"
    run(
        "integration",
        "cert",
        str(module.pk),
        "--key-out",
        str(key_out),
        "--cert-out",
        str(cert_out),
    )
    assert stat.S_IMODE(key_out.stat().st_mode) == 0o600
    cert = x509.load_pem_x509_certificate(cert_out.read_bytes())
    key = serialization.load_pem_private_key(key_out.read_bytes(), password=None)
    assert cert.public_key() == key.public_key()
    module.refresh_from_db()
    assert module.cert_serial == format(cert.serial_number, "x")
    # From a CSR: only the certificate comes out.
    own = ec.generate_private_key(ec.SECP256R1())
    csr_file = tmp_path / "agent.csr"
    csr_file.write_bytes(
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "agent")]))
        .sign(own, hashes.SHA256())
        .public_bytes(serialization.Encoding.PEM)
    )
    printed = run("integration", "cert", str(module.pk), "--csr", str(csr_file))
    assert "PRIVATE KEY" not in printed
    assert x509.load_pem_x509_certificate(printed.encode()).public_key() == own.public_key()


def test_r67_7_list_and_revoke(
    personas: dict[str, Any], module_a: tuple[Any, str], module_b: tuple[Any, str]
) -> None:
    lines = run("integration", "list").splitlines()
    assert len(lines) == 2
    assert all(line.split("\t")[3] == "never" for line in lines)
    bank_b = personas["bank_b_head"].organization.bin
    only_b = run("integration", "list", "--org-bin", bank_b).splitlines()
    assert [line.split("\t")[0] for line in only_b] == [str(module_b[0].pk)]
    run("integration", "revoke", str(module_a[0].pk), "--reason", "test")
    revoked = run("integration", "list", "--health", "revoked").splitlines()
    assert [line.split("\t")[0] for line in revoked] == [str(module_a[0].pk)]
    with pytest.raises(CommandError, match="revoked"):
        run("integration", "token", str(module_a[0].pk))
