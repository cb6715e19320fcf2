"""Android Key Attestation verified offline (R57.28.3, decision 0043): a real Pixel chain against
Google's embedded roots, and our own test CA's Keystore chains with one failing case per check."""

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

from aips.etp.devices import attestation_android
from aips.etp.devices.attestation import AttestationRefused
from aips.etp.devices.attestation_android import KeyAttestationVerifier, verify_key_attestation
from aips.etp.devices.attestation_common import binding, spki
from aips.etp.devices.keys import key_sha256
from aips.etp.devices.tests.attestation_fakes import (
    Ca,
    android_token,
    key_description,
    keystore_chain,
    refused,
)

Caplog = pytest.LogCaptureFixture
VECTORS = Path(__file__).parent / "vectors"
CLIENT_ID = "kz.etp.mobile.demo"
PACKAGE = "kz.etp.mobile"
SIGNER = hashlib.sha256(b"the app's signing certificate").digest()
NONCE = "a1" * 32
PIXEL_CHALLENGE = bytes.fromhex("5652e2dc45549a96f96afa225502f87fadc08a60bc021392c0be8c5062fd5f5e")
PIXEL_SIGNER = "f0fd6c5b410f25cb25c3b53346c8972fae30f8ee7411df910480ad6b2d60db83"


@pytest.fixture
def google(settings: Any, tmp_path: Path) -> Ca:
    """Our own "Google": its root replaces the embedded ones; our app and signer are accepted."""
    ca = Ca("Test Key Attestation")
    settings.AIPS_ETP_ANDROID_ROOTS_FILE = ca.root_file(tmp_path)
    settings.AIPS_ETP_ANDROID_PACKAGES = [PACKAGE]
    settings.AIPS_ETP_ANDROID_SIGNING_CERT_SHA256 = [SIGNER.hex().upper()]
    settings.AIPS_ETP_ANDROID_STATUS_FILE = ""
    settings.AIPS_ETP_ANDROID_STRONGBOX_REQUIRED = False
    return ca


class Device:
    """A phone's Keystore: the device key, attested under `ca`."""

    def __init__(self, ca: Ca) -> None:
        self.ca = ca
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.key_sha256 = key_sha256(
            self.key.public_key().public_bytes(
                serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
            )
        )

    def chain(self, **description: Any) -> list[x509.Certificate]:
        fields: dict[str, Any] = {
            "challenge": binding(client_id=CLIENT_ID, nonce=NONCE),
            "package": PACKAGE,
            "signer_sha256": SIGNER,
            **description,
        }
        return keystore_chain(self.ca, self.key, key_description(**fields))

    def token(self, **description: Any) -> str:
        return android_token(self.chain(**description))


def _verify(token: str, device: Device, *, client_id: str = CLIENT_ID, nonce: str = NONCE) -> Any:
    return KeyAttestationVerifier().verify(
        token=token, client_id=client_id, key_sha256=device.key_sha256, nonce=nonce
    )


# --- Google's roots and a real chain -------------------------------------------------------------


def _pixel_chain() -> list[x509.Certificate]:
    return x509.load_pem_x509_certificates((VECTORS / "android-key-pixel-8a.pem").read_bytes())


def test_r57_28_3_the_embedded_roots_are_googles() -> None:
    fingerprints = {
        hashlib.sha256(root.public_bytes(serialization.Encoding.DER)).hexdigest()
        for root in attestation_android.roots()
    }
    assert fingerprints == {
        # The RSA root re-issued in 2022 (same key as 2016, 2019, 2021) and Key Attestation CA1.
        "cedb1cb6dc896ae5ec797348bce9286753c2b38ee71ce0fbe34a9a1248800dfc",
        "6d9db4ce6c5c0b293166d08986e05774a8776ceb525d9e4329520de12ba4bcc0",
    }


def _pixel(now: datetime, **kw: Any) -> Any:
    chain = _pixel_chain()
    arguments: dict[str, Any] = {
        "challenge": PIXEL_CHALLENGE,
        "key_sha256_hex": key_sha256(spki(chain[0])),
        "packages": ["com.google.android.gms"],
        "digests": [PIXEL_SIGNER],
        "strongbox_required": False,
        "anchors": attestation_android.roots(),
        "revoked": set(),
        "now": now,
        **kw,
    }
    return verify_key_attestation(chain, **arguments)


def test_r57_28_3_a_real_pixel_chain_verifies_offline() -> None:
    """A Pixel 8a's TEE, through Google's remotely provisioned intermediates to the RSA root
    (pinned by its key: the chain carries the 2019 certificate, the code embeds the 2022 one)."""
    result = _pixel(datetime(2025, 1, 8, tzinfo=UTC))
    assert result.package == "com.google.android.gms"
    assert result.security_level == "tee"
    assert result.attestation_version == 300


def test_r57_28_3_a_real_pixel_chain_is_refused_when_expired(caplog: Caplog) -> None:
    with refused(caplog, "chain"):
        _pixel(datetime(2026, 1, 1, tzinfo=UTC))


def test_r57_28_3_a_real_pixel_chain_for_another_app_is_refused(caplog: Caplog) -> None:
    with refused(caplog, "application"):
        _pixel(datetime(2025, 1, 8, tzinfo=UTC), packages=[PACKAGE])


def test_r57_28_3_a_real_pixel_chain_on_googles_status_list_is_refused(caplog: Caplog) -> None:
    serial = format(_pixel_chain()[1].serial_number, "x")
    with refused(caplog, "revoked"):
        _pixel(datetime(2025, 1, 8, tzinfo=UTC), revoked={serial})


# --- our test CA: the verifier as the registration calls it -------------------------------------


def test_r57_28_3_key_attestation_passes(google: Ca) -> None:
    device = Device(google)
    verdict = _verify(device.token(), device)
    assert verdict.verifier == "android-key"
    assert verdict.detail == f"{PACKAGE} tee v200"


def test_r57_28_3_key_attestation_strongbox(google: Ca, settings: Any, caplog: Caplog) -> None:
    settings.AIPS_ETP_ANDROID_STRONGBOX_REQUIRED = True
    device = Device(google)
    assert _verify(device.token(security_level=2), device).detail.endswith("strongbox v200")
    with refused(caplog, "security_level"):
        _verify(device.token(security_level=1), device)


def test_r57_28_3_key_attestation_software_keystore_is_refused(google: Ca, caplog: Caplog) -> None:
    device = Device(google)
    with refused(caplog, "security_level"):
        _verify(device.token(security_level=0), device)


def test_r57_28_3_key_attestation_wrong_nonce_is_refused(google: Ca, caplog: Caplog) -> None:
    device = Device(google)
    with refused(caplog, "challenge"):
        _verify(device.token(), device, nonce="c3" * 32)


def test_r57_28_3_key_attestation_for_another_client_is_refused(google: Ca, caplog: Caplog) -> None:
    device = Device(google)
    with refused(caplog, "challenge"):
        _verify(device.token(), device, client_id="kz.etp.other")


def test_r57_28_3_key_attestation_wrong_package_is_refused(google: Ca, caplog: Caplog) -> None:
    device = Device(google)
    with refused(caplog, "application"):
        _verify(device.token(package="kz.someone.else"), device)


def test_r57_28_3_key_attestation_wrong_signer_is_refused(google: Ca, caplog: Caplog) -> None:
    device = Device(google)
    with refused(caplog, "application"):
        _verify(device.token(signer_sha256=hashlib.sha256(b"a repackager").digest()), device)


def test_r57_28_3_key_attestation_wrong_chain_is_refused(google: Ca, caplog: Caplog) -> None:
    device = Device(Ca("Impostor"))
    with refused(caplog, "chain"):
        _verify(device.token(), device)


def test_r57_28_3_key_attestation_of_another_key_is_refused(google: Ca, caplog: Caplog) -> None:
    device, other = Device(google), Device(google)
    with refused(caplog, "key"):
        _verify(device.token(), other)


@pytest.mark.parametrize("state", [1, 2, 3])
def test_r57_27_2_key_attestation_insecure_boot_is_refused(
    google: Ca, caplog: Caplog, state: int
) -> None:
    device = Device(google)
    with refused(caplog, "verified_boot"):
        _verify(device.token(verified_boot_state=state), device)


def test_r57_27_2_key_attestation_unlocked_bootloader_is_refused(
    google: Ca, caplog: Caplog
) -> None:
    device = Device(google)
    with refused(caplog, "device_locked"):
        _verify(device.token(device_locked=False), device)


def test_r57_28_3_key_attestation_imported_key_is_refused(google: Ca, caplog: Caplog) -> None:
    device = Device(google)
    with refused(caplog, "origin"):
        _verify(device.token(origin=2), device)  # KM_ORIGIN_IMPORTED


def test_r57_28_3_key_attestation_revoked_intermediate_is_refused(
    google: Ca, settings: Any, tmp_path: Path, caplog: Caplog
) -> None:
    status = tmp_path / "status.json"
    serial = format(google.intermediate.serial_number, "x")
    status.write_text(json.dumps({"entries": {serial: {"status": "REVOKED"}}}))
    settings.AIPS_ETP_ANDROID_STATUS_FILE = str(status)
    device = Device(google)
    with refused(caplog, "revoked"):
        _verify(device.token(), device)


@pytest.mark.parametrize("token", ["android-key:", "android-key:AAAA", "android-key:!!.??", "x"])
def test_r57_28_3_key_attestation_malformed_tokens_are_refused(google: Ca, token: str) -> None:
    with pytest.raises(AttestationRefused):
        _verify(token, Device(google))


def test_r57_28_3_key_attestation_unreadable_status_file_stops_the_verifier(
    settings: Any,
) -> None:
    settings.AIPS_ETP_ANDROID_STATUS_FILE = "/nonexistent/status.json"
    with pytest.raises(ImproperlyConfigured):
        attestation_android.revoked_serials()
