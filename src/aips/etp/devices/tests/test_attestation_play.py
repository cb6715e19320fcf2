"""Google Play Integrity decrypted and verified here (R57.28.3, decision 0043): our own Play
Console keys, a classic verdict that passes, and one failing case per check."""

import base64
import hashlib
import os
import time
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from aips.etp.devices.attestation_common import binding
from aips.etp.devices.attestation_platforms import PlatformVerifier
from aips.etp.devices.tests.attestation_fakes import play_token, refused

Caplog = pytest.LogCaptureFixture
CLIENT_ID = "kz.etp.mobile.demo"
PACKAGE = "kz.etp.mobile"
CERTIFICATE_SHA256 = hashlib.sha256(b"the app's signing certificate").digest()
NONCE = "a1" * 32
KEY_SHA256 = "b2" * 32


class Console:
    """The Play Console's response keys for our app, and Google signing verdicts with them."""

    def __init__(self) -> None:
        self.decryption_key = os.urandom(32)
        self.signing_key = ec.generate_private_key(ec.SECP256R1())

    def settings(self, settings: Any) -> None:
        settings.AIPS_ETP_PLAY_INTEGRITY_DECRYPTION_KEY = base64.b64encode(
            self.decryption_key
        ).decode()
        settings.AIPS_ETP_PLAY_INTEGRITY_VERIFICATION_KEY = base64.b64encode(
            self.signing_key.public_key().public_bytes(
                serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
            )
        ).decode()

    def token(self, **changes: Any) -> str:
        return play_token(
            verdict(**changes), decryption_key=self.decryption_key, signing_key=self.signing_key
        )


def verdict(
    *,
    nonce: bytes | None = None,
    package: str = PACKAGE,
    recognition: str = "PLAY_RECOGNIZED",
    certificate: bytes = CERTIFICATE_SHA256,
    device: tuple[str, ...] = ("MEETS_DEVICE_INTEGRITY",),
    age_seconds: int = 5,
) -> dict[str, Any]:
    """A classic request's verdict, as "Integrity verdicts" documents it."""
    nonce = nonce or binding(client_id=CLIENT_ID, nonce=NONCE, key_sha256=KEY_SHA256)
    return {
        "requestDetails": {
            "requestPackageName": package,
            "nonce": base64.urlsafe_b64encode(nonce).decode(),
            "timestampMillis": str(int((time.time() - age_seconds) * 1000)),
        },
        "appIntegrity": {
            "appRecognitionVerdict": recognition,
            "packageName": package,
            "certificateSha256Digest": [
                base64.urlsafe_b64encode(certificate).rstrip(b"=").decode()
            ],
            "versionCode": "42",
        },
        "deviceIntegrity": {"deviceRecognitionVerdict": list(device)},
        "accountDetails": {"appLicensingVerdict": "LICENSED"},
    }


@pytest.fixture
def console(settings: Any) -> Console:
    play = Console()
    play.settings(settings)
    settings.AIPS_ETP_ANDROID_PACKAGES = [PACKAGE]
    settings.AIPS_ETP_ANDROID_SIGNING_CERT_SHA256 = [CERTIFICATE_SHA256.hex()]
    return play


def _verify(token: str, *, key_sha256: str = KEY_SHA256) -> Any:
    return PlatformVerifier().verify(
        token=token, client_id=CLIENT_ID, key_sha256=key_sha256, nonce=NONCE
    )


def test_r57_28_3_play_integrity_passes(console: Console) -> None:
    verdict_ = _verify(console.token(device=("MEETS_DEVICE_INTEGRITY", "MEETS_STRONG_INTEGRITY")))
    assert verdict_.verifier == "play-integrity"
    assert verdict_.detail == f"{PACKAGE} v42 MEETS_DEVICE_INTEGRITY,MEETS_STRONG_INTEGRITY"


def test_r57_28_3_play_integrity_wrong_nonce_is_refused(console: Console, caplog: Caplog) -> None:
    with refused(caplog, "nonce"):
        _verify(console.token(nonce=hashlib.sha256(b"another challenge").digest()))


def test_r57_28_3_play_integrity_for_another_device_key_is_refused(
    console: Console, caplog: Caplog
) -> None:
    with refused(caplog, "nonce"):
        _verify(console.token(), key_sha256="d4" * 32)


def test_r57_28_3_play_integrity_wrong_package_is_refused(console: Console, caplog: Caplog) -> None:
    with refused(caplog, "application"):
        _verify(console.token(package="kz.someone.else"))


def test_r57_28_3_play_integrity_unrecognized_app_is_refused(
    console: Console, caplog: Caplog
) -> None:
    with refused(caplog, "application"):
        _verify(console.token(recognition="UNRECOGNIZED_VERSION"))


def test_r57_28_3_play_integrity_wrong_signer_is_refused(console: Console, caplog: Caplog) -> None:
    with refused(caplog, "application"):
        _verify(console.token(certificate=hashlib.sha256(b"a repackager").digest()))


@pytest.mark.parametrize("device", [(), ("MEETS_BASIC_INTEGRITY",), ("MEETS_VIRTUAL_INTEGRITY",)])
def test_r57_27_2_play_integrity_device_without_integrity_is_refused(
    console: Console, caplog: Caplog, device: tuple[str, ...]
) -> None:
    with refused(caplog, "device_integrity"):
        _verify(console.token(device=device))


def test_r57_28_3_play_integrity_stale_verdict_is_refused(console: Console, caplog: Caplog) -> None:
    with refused(caplog, "play_verdict"):
        _verify(console.token(age_seconds=3600))


def test_r57_28_3_play_integrity_signed_by_another_key_is_refused(
    console: Console, caplog: Caplog
) -> None:
    forger = Console()
    forger.decryption_key = console.decryption_key  # a leaked decryption key is not enough
    with refused(caplog, "play_token"):
        _verify(forger.token())


def test_r57_28_3_play_integrity_for_another_app_key_is_refused(
    console: Console, caplog: Caplog
) -> None:
    with refused(caplog, "play_token"):
        _verify(Console().token())


def test_r57_28_3_play_integrity_tampered_ciphertext_is_refused(
    console: Console, caplog: Caplog
) -> None:
    token = console.token()
    head, _, tail = token.rpartition(".")
    parts = head.split(".")
    parts[3] = ("A" if parts[3][0] != "A" else "B") + parts[3][1:]
    with refused(caplog, "play_token"):
        _verify(".".join(parts) + "." + tail)


def test_r57_28_3_play_integrity_without_keys_is_refused(
    console: Console, settings: Any, caplog: Caplog
) -> None:
    settings.AIPS_ETP_PLAY_INTEGRITY_DECRYPTION_KEY = ""
    with refused(caplog, "play_keys"):
        _verify(console.token())
