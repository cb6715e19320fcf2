"""A phone registers through the API with the production verifier (R57.28.3, decision 0043):
`PlatformVerifier` sends an App Attest object to the Apple verifier and a Keystore chain to the
Android one; a refusal answers 403 `attestation_refused` and is journaled."""

from pathlib import Path
from typing import Any

import pytest

from aips.etp.devices.attestation import AttestationRefused
from aips.etp.devices.attestation_common import binding
from aips.etp.devices.attestation_platforms import PlatformVerifier
from aips.etp.devices.models import Device
from aips.etp.devices.tests.attestation_fakes import (
    Ca,
    android_token,
    app_attest_object,
    apple_token,
    key_description,
    keystore_chain,
)
from aips.etp.devices.tests.test_mobile_api import (  # noqa: F401 - fixtures
    CLIENT_ID,
    Phone,
    app,
    bidder,
    eds_key,
    pki,
    register,
)
from aips.shared.accounts.models import User
from aips.shared.audit.models import AuditEvent, EventType
from aips.shared.eds.testing import TestPki

APP_ID = "ABCDE12345.kz.etp.mobile"
PACKAGE = "kz.etp.mobile"
SIGNER = bytes(range(32))


@pytest.fixture
def cas(settings: Any, tmp_path: Path) -> dict[str, Ca]:
    apple, google = Ca("Test Apple"), Ca("Test Google")
    settings.AIPS_ETP_ATTESTATION_VERIFIER = (
        "aips.etp.devices.attestation_platforms.PlatformVerifier"
    )
    settings.AIPS_ETP_APPLE_ROOT_CA_FILE = apple.root_file(tmp_path)
    settings.AIPS_ETP_APPLE_APP_IDS = [APP_ID]
    settings.AIPS_ETP_ANDROID_ROOTS_FILE = google.root_file(tmp_path)
    settings.AIPS_ETP_ANDROID_PACKAGES = [PACKAGE]
    settings.AIPS_ETP_ANDROID_SIGNING_CERT_SHA256 = [SIGNER.hex()]
    return {"apple": apple, "google": google}


def _ios(ca: Ca, phone: Phone) -> Any:
    def attest(body: dict[str, Any]) -> None:
        hashed = binding(
            client_id=CLIENT_ID, nonce=body["challenge_id"], key_sha256=phone.key_sha256
        )
        body["attestation"] = apple_token(
            app_attest_object(ca, client_data_hash=hashed, app_id=APP_ID)
        )
        body["platform"] = "ios"

    return attest


def _android(ca: Ca, phone: Phone, package: str = PACKAGE) -> Any:
    def attest(body: dict[str, Any]) -> None:
        description = key_description(
            challenge=binding(client_id=CLIENT_ID, nonce=body["challenge_id"]),
            package=package,
            signer_sha256=SIGNER,
        )
        body["attestation"] = android_token(keystore_chain(ca, phone.key, description))

    return attest


def test_r57_28_3_an_iphone_registers_with_app_attest(
    bidder: User,  # noqa: F811 - the fixture
    pki: TestPki,  # noqa: F811 - the fixture
    cas: dict[str, Ca],
) -> None:
    phone = Phone()
    response = register(app(), phone, eds_key(pki), tamper=_ios(cas["apple"], phone))
    assert response.status_code == 201, response.content
    device = Device.objects.get(pk=response.json()["device"]["id"])
    assert device.attestation_verifier == "apple-appattest"
    assert device.platform == "ios"


def test_r57_28_3_an_android_phone_registers_with_key_attestation(
    bidder: User,  # noqa: F811 - the fixture
    pki: TestPki,  # noqa: F811 - the fixture
    cas: dict[str, Ca],
) -> None:
    phone = Phone()
    response = register(app(), phone, eds_key(pki), tamper=_android(cas["google"], phone))
    assert response.status_code == 201, response.content
    device = Device.objects.get(pk=response.json()["device"]["id"])
    assert device.attestation_verifier == "android-key"


def test_r57_28_3_a_repackaged_android_app_is_refused_and_journaled(
    bidder: User,  # noqa: F811 - the fixture
    pki: TestPki,  # noqa: F811 - the fixture
    cas: dict[str, Ca],
) -> None:
    phone = Phone()
    tamper = _android(cas["google"], phone, package="kz.someone.else")
    response = register(app(), phone, eds_key(pki), tamper=tamper)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "attestation_refused"
    event = AuditEvent.objects.filter(event=EventType.DEVICE_REFUSED).latest("seq")
    assert event.details["reason"] == "attestation_refused"
    assert not Device.objects.filter(key_sha256=phone.key_sha256).exists()


def test_r57_28_3_an_iphone_attestation_does_not_vouch_for_an_android_device(
    bidder: User,  # noqa: F811 - the fixture
    pki: TestPki,  # noqa: F811 - the fixture
    cas: dict[str, Ca],
) -> None:
    phone = Phone()
    ios = _ios(cas["apple"], phone)

    def claims_android(body: dict[str, Any]) -> None:
        ios(body)
        body["platform"] = "android"

    response = register(app(), phone, eds_key(pki), tamper=claims_android)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "attestation_refused"
    assert not Device.objects.filter(key_sha256=phone.key_sha256).exists()


def test_r57_28_3_an_android_chain_for_another_phones_key_is_refused(
    bidder: User,  # noqa: F811 - the fixture
    pki: TestPki,  # noqa: F811 - the fixture
    cas: dict[str, Ca],
) -> None:
    phone, other = Phone(), Phone()
    response = register(app(), phone, eds_key(pki), tamper=_android(cas["google"], other))
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "attestation_refused"


@pytest.mark.parametrize("token", ["", "fake:kz.etp.mobile.demo:x:y", "play-integrity:abc"])
def test_r57_28_3_the_platform_verifier_refuses_other_tokens(token: str) -> None:
    with pytest.raises(AttestationRefused):
        PlatformVerifier().verify(token=token, client_id=CLIENT_ID, key_sha256="0" * 64, nonce="n")
