"""The mobile application's API (R57.27, R57.28.3): registration of a device after a password and
an EDS or biometric sign-in, sign-ins signed with the device key and stored with the geolocation
or its refusal, the version gates, refusal of compromised devices, revocation, the sign-in notice
and answers never cached.

EDS signatures are real CMS made with keys of a test CA of our own (`TestPki`); the device key is
a real EC P-256 key made here, as a phone's keystore would."""

import base64
import json
from collections.abc import Callable
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from django.test import Client

from aips.etp.devices.models import Device, GeoStatus, MobileChallenge, MobileSignIn
from aips.shared.accounts import identity
from aips.shared.accounts.models import User
from aips.shared.audit.models import AuditEvent, EventType
from aips.shared.eds.keystore import KeyBundle
from aips.shared.eds.testing import TestPki, sign_cms
from aips.shared.eds.types import Purpose, Role
from aips.shared.notifications.models import Notification

CLIENT_ID = "kz.etp.mobile.demo"
IIN_1 = "900101300126"
PASSWORD = "Askar-Bidder-2026"  # participant_person_1's demo password


@pytest.fixture
def pki(monkeypatch: pytest.MonkeyPatch) -> TestPki:
    test_pki = TestPki()
    clock = identity.EdsClock(trust=test_pki.trust())
    monkeypatch.setattr(identity, "eds_clock", lambda: clock)
    return test_pki


@pytest.fixture
def bidder(personas: dict[str, User]) -> User:
    """Participant 1 as a self-registered participant: the IIN bound, the organization signing
    in only with EDS or biometrics (R57.10)."""
    user = personas["participant_person_1"]
    user.iin = IIN_1
    user.save(update_fields=["iin"])
    organization = user.organization
    organization.strong_auth_required = True
    organization.save(update_fields=["strong_auth_required"])
    return user


def eds_key(pki: TestPki, iin: str = IIN_1) -> KeyBundle:
    return pki.issue(iin=iin, roles=(Role.INDIVIDUAL,), purpose=Purpose.AUTHENTICATION)


def app(*, version: str = "1.0.0", integrity: str = "ok", client_id: str = CLIENT_ID) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.defaults.update(
        {
            "HTTP_X_CLIENT_ID": client_id,
            "HTTP_X_APP_VERSION": version,
            "HTTP_X_DEVICE_INTEGRITY": integrity,
        }
    )
    return client


class Phone:
    """The app on one phone: its keystore key and what the server gave it."""

    def __init__(self) -> None:
        self.key = ec.generate_private_key(ec.SECP256R1())
        spki = self.key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        self.public_key = base64.b64encode(spki).decode()
        import hashlib

        self.key_sha256 = hashlib.sha256(spki).hexdigest()
        self.device_token = ""
        self.session_token = ""

    def sign(self, data: bytes) -> str:
        return base64.b64encode(self.key.sign(data, ec.ECDSA(hashes.SHA256()))).decode()


def challenge(client: Client, use: str) -> tuple[str, bytes]:
    response = client.get(f"/api/v1/mobile/challenge?use={use}")
    assert response.status_code == 200, response.content
    body = response.json()
    return body["challenge_id"], base64.b64decode(body["challenge"])


def post(client: Client, path: str, body: dict[str, Any]) -> Any:
    return client.post(path, json.dumps(body), content_type="application/json")


def register(
    client: Client,
    phone: Phone,
    key: KeyBundle | None,
    *,
    email: str = "askar.serikbayev@mail.example.kz",
    password: str = PASSWORD,
    tamper: Callable[[dict[str, Any]], None] | None = None,
) -> Any:
    nonce, data = challenge(client, "register")
    body: dict[str, Any] = {
        "email": email,
        "password": password,
        "proof": "eds",
        "challenge_id": nonce,
        "eds_cms": base64.b64encode(sign_cms(data, key=key)).decode() if key else "",
        "public_key": phone.public_key,
        "key_signature": phone.sign(data),
        "attestation": f"fake:{CLIENT_ID}:{phone.key_sha256}:{nonce}",
        "name": "Askar's phone",
        "platform": "android",
    }
    if tamper:
        tamper(body)
    response = post(client, "/api/v1/mobile/devices", body)
    if response.status_code == 201:
        phone.device_token = response.json()["device_token"]
    return response


def sign_in(client: Client, phone: Phone, geolocation: dict[str, Any] | None = None) -> Any:
    nonce, data = challenge(client, "session")
    response = post(
        client,
        "/api/v1/mobile/sessions",
        {
            "device_token": phone.device_token,
            "challenge_id": nonce,
            "signature": phone.sign(data),
            "geolocation": geolocation or {"status": "refused"},
        },
    )
    if response.status_code == 201:
        phone.session_token = response.json()["session_token"]
    return response


def status(client: Client, phone: Phone) -> Any:
    return client.get("/api/v1/mobile/status", HTTP_AUTHORIZATION=f"Bearer {phone.session_token}")


def registered_phone(client: Client, pki: TestPki) -> Phone:
    phone = Phone()
    assert register(client, phone, eds_key(pki)).status_code == 201
    return phone


# --- registration (R57.28.3, R57.27.1) ----------------------------------------------------------


def test_r57_28_3_participant_registers_a_device_with_eds(bidder: User, pki: TestPki) -> None:
    phone = Phone()
    response = register(app(), phone, eds_key(pki))
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["device_token"].startswith("etpd_")
    device = Device.objects.get(pk=body["device"]["id"])
    assert device.user_id == bidder.pk
    assert device.key_sha256 == phone.key_sha256
    assert device.proof == "eds"
    assert device.attestation_verifier == "fake"
    # The token is kept only as its digest.
    assert body["device_token"] not in device.token_sha256
    event = AuditEvent.objects.filter(event=EventType.DEVICE_REGISTERED).latest("seq")
    assert event.details["proof"] == "eds"
    assert event.details["client_id"] == CLIENT_ID
    assert IIN_1 not in json.dumps(event.details)


def test_r57_28_3_a_challenge_serves_once(bidder: User, pki: TestPki) -> None:
    client = app()
    phone = Phone()
    nonce, data = challenge(client, "register")
    body = {
        "email": bidder.email,
        "password": PASSWORD,
        "proof": "eds",
        "challenge_id": nonce,
        "eds_cms": base64.b64encode(sign_cms(data, key=eds_key(pki))).decode(),
        "public_key": phone.public_key,
        "key_signature": phone.sign(data),
        "attestation": f"fake:{CLIENT_ID}:{phone.key_sha256}:{nonce}",
        "name": "phone",
        "platform": "ios",
    }
    assert post(client, "/api/v1/mobile/devices", body).status_code == 201
    again = post(client, "/api/v1/mobile/devices", body)
    assert again.status_code == 422
    assert again.json()["error"]["code"] == "eds_challenge_expired"


def test_r57_28_3_registration_with_a_passed_biometric_check(bidder: User, settings: Any) -> None:
    from datetime import timedelta

    from django.utils import timezone

    from aips.shared.biometrics.models import BiometricSession, SessionState

    now = timezone.now()
    session = BiometricSession.objects.create(
        user=bidder,
        purpose="second_factor",
        iin=IIN_1,
        provider="fake",
        provider_session_id="fake-mobile-1",
        client_url="https://provider.example/1",
        return_path="/",
        state=SessionState.PASSED,
        expires_at=now + timedelta(minutes=10),
        decided_at=now,
    )
    phone = Phone()

    def biometric(body: dict[str, Any]) -> None:
        body.update(proof="biometrics", eds_cms="", biometric_session=str(session.public_id))

    client = app()
    response = register(client, phone, None, tamper=biometric)
    assert response.status_code == 201, response.content
    assert Device.objects.get(user=bidder).proof == "biometrics"
    session.refresh_from_db()
    assert session.used_at is not None
    # Spent: the same check registers nothing more.
    again = register(client, Phone(), None, tamper=biometric)
    assert again.status_code == 409


def test_r57_28_3_non_participant_cannot_register(personas: dict[str, User], pki: TestPki) -> None:
    seller = personas["seller_a_maker"]
    seller.iin = IIN_1
    seller.save(update_fields=["iin"])
    response = register(
        app(), Phone(), eds_key(pki), email=seller.email, password="Alatau-Lots-2026"
    )
    assert response.status_code == 403
    assert not Device.objects.exists()
    refused = AuditEvent.objects.filter(event=EventType.DEVICE_REFUSED).latest("seq")
    assert refused.details["reason"] == "not_allowed"


def test_r57_28_3_participant_without_strong_auth_cannot_register(
    bidder: User, pki: TestPki
) -> None:
    organization = bidder.organization
    organization.strong_auth_required = False
    organization.save(update_fields=["strong_auth_required"])
    assert register(app(), Phone(), eds_key(pki)).status_code == 403


def test_r57_28_3_wrong_password_is_refused(bidder: User, pki: TestPki) -> None:
    response = register(app(), Phone(), eds_key(pki), password="wrong-password-1")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_credentials"


def test_r57_28_3_eds_of_another_person_is_refused(bidder: User, pki: TestPki) -> None:
    response = register(app(), Phone(), eds_key(pki, iin="910202400331"))
    assert response.status_code == 422
    assert response.json()["error"]["code"].startswith("eds_")
    assert not Device.objects.exists()


def test_r57_28_3_bad_device_signature_is_refused(bidder: User, pki: TestPki) -> None:
    def other_key(body: dict[str, Any]) -> None:
        body["key_signature"] = Phone().sign(b"something else")

    response = register(app(), Phone(), eds_key(pki), tamper=other_key)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "bad_signature"
    assert not Device.objects.exists()


def test_r57_28_3_attestation_for_another_key_is_refused(bidder: User, pki: TestPki) -> None:
    def forged(body: dict[str, Any]) -> None:
        body["attestation"] = f"fake:{CLIENT_ID}:{'0' * 64}:{body['challenge_id']}"

    response = register(app(), Phone(), eds_key(pki), tamper=forged)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "attestation_refused"


def test_r57_28_4_a_public_key_that_is_not_p256_is_a_field_error(
    bidder: User, pki: TestPki
) -> None:
    def junk(body: dict[str, Any]) -> None:
        body["public_key"] = "not a key"

    response = register(app(), Phone(), eds_key(pki), tamper=junk)
    assert response.status_code == 422
    assert "public_key" in response.json()["error"]["fields"]


def test_r57_28_3_unknown_client_id_is_refused(bidder: User) -> None:
    response = app(client_id="com.example.clone").get("/api/v1/mobile/challenge?use=register")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "client_unknown"


# --- sign-in, geolocation, notices (R57.27.10, R57.27.11) ---------------------------------------


def test_r57_27_11_sign_in_stores_the_geolocation(bidder: User, pki: TestPki) -> None:
    client = app()
    phone = registered_phone(client, pki)
    response = sign_in(
        client,
        phone,
        {"status": "granted", "latitude": "43.238949", "longitude": "76.889709", "accuracy_m": 30},
    )
    assert response.status_code == 201, response.content
    row = MobileSignIn.objects.get(user=bidder)
    assert row.geo_status == GeoStatus.GRANTED
    assert str(row.latitude) == "43.238949"
    assert str(row.longitude) == "76.889709"
    assert row.accuracy_m == 30
    me = status(client, phone)
    assert me.status_code == 200
    assert me.json()["user_id"] == bidder.pk


def test_r57_27_11_sign_in_stores_the_refusal(bidder: User, pki: TestPki) -> None:
    client = app()
    phone = registered_phone(client, pki)
    assert sign_in(client, phone, {"status": "refused"}).status_code == 201
    row = MobileSignIn.objects.get(user=bidder)
    assert row.geo_status == GeoStatus.REFUSED
    assert row.latitude is None
    event = AuditEvent.objects.filter(event=EventType.LOGIN_SUCCEEDED).latest("seq")
    assert event.details["channel"] == "mobile"
    assert event.details["geolocation"] == "refused"


def test_r57_27_11_granted_without_coordinates_is_a_field_error(bidder: User, pki: TestPki) -> None:
    client = app()
    phone = registered_phone(client, pki)
    response = sign_in(client, phone, {"status": "granted", "latitude": "95"})
    assert response.status_code == 422
    fields = response.json()["error"]["fields"]
    assert "geolocation.latitude" in fields
    assert "geolocation.longitude" in fields


def test_r57_27_10_mobile_sign_in_notifies_the_person(bidder: User, pki: TestPki) -> None:
    client = app()
    phone = registered_phone(client, pki)
    before = Notification.objects.filter(user=bidder, kind="security.sign_in").count()
    assert sign_in(client, phone).status_code == 201
    assert Notification.objects.filter(user=bidder, kind="security.sign_in").count() == before + 1


def test_r57_28_3_sign_in_with_a_bad_signature_is_refused(bidder: User, pki: TestPki) -> None:
    client = app()
    phone = registered_phone(client, pki)
    thief = Phone()
    thief.device_token = phone.device_token  # the token alone, without the keystore's key
    response = sign_in(client, thief)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "bad_signature"
    assert not MobileSignIn.objects.exists()
    failed = AuditEvent.objects.filter(event=EventType.LOGIN_FAILED).latest("seq")
    assert failed.details == {
        "channel": "mobile",
        "device": Device.objects.get().pk,
        "reason": "bad_signature",
    }


def test_r57_28_3_revoked_device_is_refused_at_once(
    bidder: User, pki: TestPki, client_as: Callable[[str | None], Client]
) -> None:
    client = app()
    phone = registered_phone(client, pki)
    assert sign_in(client, phone).status_code == 201
    assert status(client, phone).status_code == 200
    device = Device.objects.get()
    web = client_as("participant_person_1")
    revoked = web.post(f"/api/v1/devices/{device.pk}/revoke")
    assert revoked.status_code == 200, revoked.content
    assert revoked.json()["revoked_at"]
    # The open session and the device token stop at once.
    assert status(client, phone).status_code == 401
    again = sign_in(client, phone)
    assert again.status_code == 401
    assert again.json()["error"]["code"] == "device_unknown"
    assert AuditEvent.objects.filter(event=EventType.DEVICE_REVOKED).exists()


def test_r57_28_3_another_participants_device_is_404(
    bidder: User, pki: TestPki, client_as: Callable[[str | None], Client]
) -> None:
    registered_phone(app(), pki)
    device = Device.objects.get()
    other = client_as("participant_person_2")
    assert other.post(f"/api/v1/devices/{device.pk}/revoke").status_code == 404
    assert other.get("/api/v1/devices").json() == []
    assert [d["id"] for d in client_as("participant_person_1").get("/api/v1/devices").json()] == [
        device.pk
    ]
    device.refresh_from_db()
    assert device.revoked_at is None


def test_r57_28_3_sign_out_ends_the_session(bidder: User, pki: TestPki) -> None:
    client = app()
    phone = registered_phone(client, pki)
    assert sign_in(client, phone).status_code == 201
    bye = client.delete(
        "/api/v1/mobile/sessions/current", HTTP_AUTHORIZATION=f"Bearer {phone.session_token}"
    )
    assert bye.status_code == 204
    assert status(client, phone).status_code == 401


# --- versions and integrity (R57.27.2, R57.27.3, R57.27.4) --------------------------------------


def test_r57_27_4_below_the_minimum_version_update_required(db: None, settings: Any) -> None:
    settings.AIPS_ETP_MOBILE_MIN_VERSION = "2.0"
    settings.AIPS_ETP_MOBILE_LATEST_VERSION = "2.1.0"
    response = app(version="1.9.9").get("/api/v1/mobile/challenge?use=session")
    assert response.status_code == 426
    assert response.json()["error"]["code"] == "update_required"
    assert response["X-Update-Required"] == "2.1.0"
    assert "no-store" in response["Cache-Control"]


def test_r57_27_3_between_minimum_and_latest_update_available(
    bidder: User, pki: TestPki, settings: Any
) -> None:
    settings.AIPS_ETP_MOBILE_MIN_VERSION = "1.0"
    settings.AIPS_ETP_MOBILE_LATEST_VERSION = "1.2.0"
    client = app(version="1.1.5")
    phone = registered_phone(client, pki)
    response = sign_in(client, phone)
    assert response.status_code == 201
    assert response["X-Update-Available"] == "1.2.0"
    body = status(client, phone).json()
    assert body["update_available"] is True
    assert body["latest_version"] == "1.2.0"
    current = app(version="1.2.0").get("/api/v1/mobile/challenge?use=session")
    assert current.status_code == 200
    assert "X-Update-Available" not in current


def test_r57_27_3_a_malformed_version_is_a_field_error(db: None) -> None:
    response = app(version="latest").get("/api/v1/mobile/challenge?use=session")
    assert response.status_code == 400
    assert "X-App-Version" in response.json()["error"]["fields"]


@pytest.mark.parametrize("finding", ["rooted", "jailbroken", "remote_control", "ok,hooked"])
def test_r57_27_2_compromised_device_is_refused(db: None, finding: str) -> None:
    response = app(integrity=finding).get("/api/v1/mobile/challenge?use=register")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "device_compromised"
    assert not MobileChallenge.objects.exists()
    event = AuditEvent.objects.filter(event=EventType.DEVICE_REFUSED).latest("seq")
    assert set(event.details["findings"]) <= {"rooted", "jailbroken", "remote_control", "hooked"}


def test_r57_27_2_a_registered_device_reporting_remote_control_cannot_sign_in(
    bidder: User, pki: TestPki
) -> None:
    phone = registered_phone(app(), pki)
    nonce, data = challenge(app(), "session")
    body = {
        "device_token": phone.device_token,
        "challenge_id": nonce,
        "signature": phone.sign(data),
        "geolocation": {"status": "refused"},
    }
    response = post(app(integrity="remote_control"), "/api/v1/mobile/sessions", body)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "device_compromised"
    # The same request from the device once it is clean again succeeds: nothing was spent.
    assert post(app(), "/api/v1/mobile/sessions", body).status_code == 201
    assert MobileSignIn.objects.count() == 1


def test_r57_27_2_missing_integrity_report_is_refused(db: None) -> None:
    client = Client(HTTP_X_CLIENT_ID=CLIENT_ID, HTTP_X_APP_VERSION="1.0.0")
    response = client.get("/api/v1/mobile/challenge?use=register")
    assert response.status_code == 400
    assert "X-Device-Integrity" in response.json()["error"]["fields"]


# --- no caching (R57.27.7) ----------------------------------------------------------------------


def test_r57_27_7_every_mobile_operation_answers_no_store(bidder: User, pki: TestPki) -> None:
    """Every operation of the mobile router, answered and refused, carries no-store."""
    from aips.api_etp import api

    client = app()
    phone = Phone()
    answers = {
        "mobile_challenge": [client.get("/api/v1/mobile/challenge?use=register")],
        "mobile_devices_register": [
            register(client, phone, eds_key(pki)),
            register(client, Phone(), None),
        ],
        "mobile_biometrics_start": [
            post(client, "/api/v1/mobile/biometrics", {"email": "x", "password": "y"}),
        ],
        "mobile_sessions_open": [sign_in(client, phone), sign_in(client, Phone())],
        "mobile_status": [status(client, phone), client.get("/api/v1/mobile/status")],
        "mobile_sessions_close": [
            client.delete(
                "/api/v1/mobile/sessions/current",
                HTTP_AUTHORIZATION=f"Bearer {phone.session_token}",
            ),
            client.delete("/api/v1/mobile/sessions/current"),
        ],
    }  # fmt: skip
    schema = api.get_openapi_schema()
    mobile_operations = {
        operation["operationId"]
        for path, item in schema["paths"].items()
        if path.startswith("/api/v1/mobile/")
        for operation in item.values()
    }
    assert mobile_operations == set(answers)
    statuses = set()
    for name, responses in answers.items():
        for response in responses:
            statuses.add(response.status_code)
            assert "no-store" in response["Cache-Control"], (name, response.status_code)
    assert {200, 201, 204, 401} <= statuses


# --- the web page -------------------------------------------------------------------------------


def test_r57_28_3_my_devices_page_lists_and_revokes(
    bidder: User, pki: TestPki, client_as: Callable[[str | None], Client]
) -> None:
    client = app()
    phone = registered_phone(client, pki)
    assert sign_in(client, phone).status_code == 201
    web = client_as("participant_person_1")
    page = web.get("/devices/")
    assert page.status_code == 200
    assert "no-store" in page["Cache-Control"]
    assert "Askar&#x27;s phone" in page.content.decode()
    device = Device.objects.get()
    assert (
        client_as("participant_person_2").post(f"/devices/{device.pk}/revoke/").status_code == 404
    )
    assert web.post(f"/devices/{device.pk}/revoke/").status_code == 302
    device.refresh_from_db()
    assert device.revoked_at is not None
    assert status(client, phone).status_code == 401


def test_r57_28_1_compromised_reports_cannot_flood_the_journal(db: None, settings: Any) -> None:
    settings.AIPS_AUTH_RATE_IP = "3/m"
    client = app(integrity="rooted")
    codes = [client.get("/api/v1/mobile/challenge?use=session").status_code for _ in range(5)]
    assert codes == [403, 403, 403, 429, 429]
    assert AuditEvent.objects.filter(event=EventType.DEVICE_REFUSED).count() == 3


def test_r57_28_3_the_fake_attestation_never_runs_behind_tls(settings: Any) -> None:
    """Anyone can compute a fake token, so with TLS the fake is refused at once and the default
    verifier refuses every registration until a real one is plugged."""
    from django.core.exceptions import ImproperlyConfigured

    from aips.etp.devices.attestation import AttestationRefused, get_verifier

    settings.HTTPS = True
    settings.DEBUG = False
    settings.AIPS_ETP_ATTESTATION_VERIFIER = "fake"
    with pytest.raises(ImproperlyConfigured):
        get_verifier()
    settings.AIPS_ETP_ATTESTATION_VERIFIER = "refuse"
    with pytest.raises(AttestationRefused):
        get_verifier().verify(token="fake:x:y:z", client_id="x", key_sha256="y", nonce="z")
