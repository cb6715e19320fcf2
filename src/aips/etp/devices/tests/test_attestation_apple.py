"""Apple App Attest verified offline (R57.28.3, decision 0043): real attestations against Apple's
embedded root, and our own test CA's attestation objects with one failing case per check."""

import base64
import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from django.core.exceptions import ImproperlyConfigured

from aips.etp.devices import attestation_apple
from aips.etp.devices.attestation import AttestationRefused
from aips.etp.devices.attestation_apple import AppAttestVerifier, verify_attestation_object
from aips.etp.devices.attestation_common import binding
from aips.etp.devices.tests.attestation_fakes import Ca, app_attest_object, apple_token, refused

VECTORS = Path(__file__).parent / "vectors"
REAL_APP_ID = "V8H6LQ9448.io.uebelacker.AppAttestExample"
APP_ID = "ABCDE12345.kz.etp.mobile"
CLIENT_ID = "kz.etp.mobile.demo"
NONCE = "a1" * 32
KEY_SHA256 = "b2" * 32


def _vector(name: str) -> tuple[bytes, bytes, str]:
    sample = json.loads((VECTORS / f"apple-appattest-{name}.json").read_text())
    client_data_hash = hashlib.sha256(base64.b64decode(sample["challenge"])).digest()
    return base64.b64decode(sample["attestation"]), client_data_hash, sample["keyId"]


def _apple_roots() -> list[x509.Certificate]:
    return [x509.load_pem_x509_certificate(attestation_apple.APPLE_APP_ATTESTATION_ROOT_CA)]


@pytest.fixture
def apple(settings: Any, tmp_path: Path) -> Ca:
    """Our own "Apple": its root replaces the embedded one, our app is the accepted App ID."""
    ca = Ca("Test App Attestation")
    settings.AIPS_ETP_APPLE_ROOT_CA_FILE = ca.root_file(tmp_path)
    settings.AIPS_ETP_APPLE_APP_IDS = [APP_ID]
    settings.AIPS_ETP_APPLE_APP_ATTEST_ENVIRONMENT = "production"
    return ca


def _verify(token: str, *, client_id: str = CLIENT_ID, key_sha256: str = KEY_SHA256) -> Any:
    return AppAttestVerifier().verify(
        token=token, client_id=client_id, key_sha256=key_sha256, nonce=NONCE
    )


def _ours(ca: Ca, *, app_id: str = APP_ID, **kw: Any) -> str:
    hashed = binding(client_id=CLIENT_ID, nonce=NONCE, key_sha256=KEY_SHA256)
    return apple_token(app_attest_object(ca, client_data_hash=hashed, app_id=app_id, **kw))


# --- Apple's own root and real attestations ----------------------------------------------------


def test_r57_28_3_the_embedded_root_is_apples_app_attestation_root() -> None:
    (root,) = _apple_roots()
    der = root.public_bytes(serialization.Encoding.DER)
    assert hashlib.sha256(der).hexdigest() == (
        "1cb9823ba28ba6ad2d33a006941de2ae4f513ef1d4e831b9f7e0fa7b6242c932"
    )
    assert root.subject.rfc4514_string() == (
        "ST=California,O=Apple Inc.,CN=Apple App Attestation Root CA"
    )
    root.verify_directly_issued_by(root)


@pytest.mark.parametrize(
    ("name", "development", "moment"),
    [("production", False, "2024-02-07T21:11:56"), ("development", True, "2024-02-04T21:00:00")],
)
def test_r57_28_3_real_app_attest_objects_verify_offline(
    name: str, development: bool, moment: str
) -> None:
    attestation_object, client_data_hash, key_id = _vector(name)
    result = verify_attestation_object(
        attestation_object,
        client_data_hash=client_data_hash,
        app_ids=[REAL_APP_ID],
        development=development,
        anchors=_apple_roots(),
        now=datetime.fromisoformat(moment).replace(tzinfo=UTC),
    )
    assert base64.b64encode(result.key_id).decode() == key_id
    assert result.app_id == REAL_APP_ID
    assert result.receipt


def test_r57_28_3_a_real_production_attestation_is_refused_as_development(
    caplog: pytest.LogCaptureFixture,
) -> None:
    attestation_object, client_data_hash, _ = _vector("production")
    with refused(caplog, "aaguid"):
        verify_attestation_object(
            attestation_object,
            client_data_hash=client_data_hash,
            app_ids=[REAL_APP_ID],
            development=True,
            anchors=_apple_roots(),
            now=datetime(2024, 2, 7, 21, 11, 56, tzinfo=UTC),
        )


def test_r57_28_3_a_real_attestation_is_refused_once_its_certificate_expired(
    caplog: pytest.LogCaptureFixture,
) -> None:
    attestation_object, client_data_hash, _ = _vector("production")
    with refused(caplog, "chain"):
        verify_attestation_object(
            attestation_object,
            client_data_hash=client_data_hash,
            app_ids=[REAL_APP_ID],
            development=False,
            anchors=_apple_roots(),
            now=datetime(2025, 1, 1, tzinfo=UTC),
        )


def test_r57_28_3_a_real_attestation_for_another_challenge_is_refused(
    caplog: pytest.LogCaptureFixture,
) -> None:
    attestation_object, _, _ = _vector("production")
    with refused(caplog, "nonce"):
        verify_attestation_object(
            attestation_object,
            client_data_hash=hashlib.sha256(b"another challenge").digest(),
            app_ids=[REAL_APP_ID],
            development=False,
            anchors=_apple_roots(),
            now=datetime(2024, 2, 7, 21, 11, 56, tzinfo=UTC),
        )


# --- our test CA: the verifier as the registration calls it -------------------------------------


def test_r57_28_3_app_attest_passes(apple: Ca) -> None:
    verdict = _verify(_ours(apple))
    assert verdict.verifier == "apple-appattest"
    assert verdict.detail.startswith(f"{APP_ID} production key ")


def test_r57_28_3_app_attest_development_build(
    apple: Ca, settings: Any, caplog: pytest.LogCaptureFixture
) -> None:
    settings.AIPS_ETP_APPLE_APP_ATTEST_ENVIRONMENT = "development"
    assert "development" in _verify(_ours(apple, development=True)).detail
    with refused(caplog, "aaguid"):
        _verify(_ours(apple))  # a production key where development is expected


def test_r57_28_3_app_attest_wrong_nonce_is_refused(
    apple: Ca, caplog: pytest.LogCaptureFixture
) -> None:
    other = binding(client_id=CLIENT_ID, nonce="c3" * 32, key_sha256=KEY_SHA256)
    with refused(caplog, "nonce"):
        _verify(_ours(apple, nonce_over=other))


def test_r57_28_3_app_attest_for_another_device_key_is_refused(
    apple: Ca, caplog: pytest.LogCaptureFixture
) -> None:
    with refused(caplog, "nonce"):
        _verify(_ours(apple), key_sha256="d4" * 32)


def test_r57_28_3_app_attest_for_another_client_is_refused(
    apple: Ca, caplog: pytest.LogCaptureFixture
) -> None:
    with refused(caplog, "nonce"):
        _verify(_ours(apple), client_id="kz.etp.other")


def test_r57_28_3_app_attest_wrong_app_id_is_refused(
    apple: Ca, caplog: pytest.LogCaptureFixture
) -> None:
    with refused(caplog, "app_id"):
        _verify(_ours(apple, app_id="ABCDE12345.kz.someone.else"))


def test_r57_28_3_app_attest_wrong_chain_is_refused(
    apple: Ca, caplog: pytest.LogCaptureFixture
) -> None:
    with refused(caplog, "chain"):
        _verify(_ours(Ca("Impostor"), app_id=APP_ID))


def test_r57_28_3_app_attest_counter_not_zero_is_refused(
    apple: Ca, caplog: pytest.LogCaptureFixture
) -> None:
    with refused(caplog, "counter"):
        _verify(_ours(apple, app_id=APP_ID, counter=1))


def test_r57_28_3_app_attest_credential_not_the_certified_key_is_refused(
    apple: Ca, caplog: pytest.LogCaptureFixture
) -> None:
    other = ec.generate_private_key(ec.SECP256R1())
    with refused(caplog, "credential"):
        _verify(_ours(apple, app_id=APP_ID, credential_key=other))


@pytest.mark.parametrize(
    "token",
    [
        "apple-appattest:",
        "apple-appattest:not base64!",
        "apple-appattest:" + base64.b64encode(b"\xa1\x63fmt\x64none").decode(),
        "android-key:AAAA.BBBB",
    ],
)
def test_r57_28_3_app_attest_malformed_tokens_are_refused(apple: Ca, token: str) -> None:
    with pytest.raises(AttestationRefused):
        _verify(token)


def test_r57_28_3_app_attest_an_unreadable_root_file_stops_the_verifier(settings: Any) -> None:
    settings.AIPS_ETP_APPLE_ROOT_CA_FILE = "/nonexistent/apple-root.pem"
    with pytest.raises(ImproperlyConfigured):
        attestation_apple.roots()
