"""The mobile application's API (docs/mobile.md). `/api/v1/mobile/…` serves only the registered
app: the gate (`gate.py`) checks the client id, the app's version and the device's integrity on
every operation and marks every answer `no-store`. `/api/v1/devices…` are a person's own devices
for the web and API clients (list, revoke)."""

from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

from axes.exceptions import AxesBackendPermissionDenied
from django.contrib.auth import authenticate
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Router, Schema, Status

from aips.core.access import public
from aips.core.errors import AppError
from aips.core.numbers import Id
from aips.etp.devices import config, selectors, services
from aips.etp.devices.auth import MobileSession
from aips.etp.devices.gate import mobile_client, mobile_gate
from aips.etp.devices.models import ChallengeUse, Device, MobileSignIn
from aips.etp.permissions import EtpPerm
from aips.shared.accounts.api_auth import api_auth
from aips.shared.accounts.models import User
from aips.shared.accounts.sessions import acting_person
from aips.shared.biometrics import services as biometric_services
from aips.shared.biometrics.models import Purpose as BiometricPurpose

mobile_router = Router(tags=["mobile"])
mobile_router.add_decorator(mobile_gate, mode="view")
router = Router(tags=["devices"])


class InvalidCredentials(AppError):
    status = 401
    code = "invalid_credentials"


def _password_user(request: HttpRequest, email: str, password: str) -> User:
    """The account behind an e-mail and password, through the platform's backends (so failures
    count toward the lockout like the web's); one answer for every failure."""
    refused = InvalidCredentials(_("The e-mail or password is wrong, or the account is locked."))
    if not email or not password or len(email) > 254 or len(password) > 1024:
        raise refused
    try:
        user = authenticate(request, username=email.strip().lower(), password=password)
    except AxesBackendPermissionDenied:
        raise refused from None
    if not isinstance(user, User) or not user.can_sign_in:
        raise refused
    return user


# --- schemas ------------------------------------------------------------------------------------


class ChallengeOut(Schema):
    challenge_id: str
    challenge: str  # base64 of the exact bytes to sign
    expires_at: datetime


class BiometricIn(Schema):
    email: str
    password: str


class BiometricOut(Schema):
    biometric_session: str
    client_url: str
    expires_at: datetime


class RegisterIn(Schema):
    email: str
    password: str
    proof: Literal["eds", "biometrics"]
    challenge_id: str
    eds_cms: str = ""
    biometric_session: str = ""
    public_key: str
    key_signature: str
    attestation: str
    name: str
    platform: Literal["android", "ios"]


class DeviceOut(Schema):
    id: int
    name: str
    platform: str
    client_id: str
    proof: str
    app_version: str
    key_sha256: str
    created_at: datetime
    expires_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class RegisteredOut(Schema):
    device: DeviceOut
    device_token: str


class GeolocationIn(Schema):
    status: Literal["granted", "refused", "unavailable"]
    latitude: Decimal | None = None
    longitude: Decimal | None = None
    accuracy_m: int | None = None


class SignInIn(Schema):
    device_token: str
    challenge_id: str
    signature: str
    geolocation: GeolocationIn


class SignInOut(Schema):
    session_token: str
    expires_at: datetime
    device_id: int


class StatusOut(Schema):
    user_id: int
    full_name: str
    role: str
    organization: str
    device_id: int
    session_expires_at: datetime
    app_version: str
    minimum_version: str
    latest_version: str
    update_available: bool


def _device(device: Device) -> dict[str, Any]:
    return {
        "id": device.pk,
        "name": device.name,
        "platform": device.platform,
        "client_id": device.client_id,
        "proof": device.proof,
        "app_version": device.app_version,
        "key_sha256": device.key_sha256,
        "created_at": device.created_at,
        "expires_at": device.expires_at,
        "last_used_at": device.last_used_at,
        "revoked_at": device.revoked_at,
    }


# --- the app's operations -----------------------------------------------------------------------


@mobile_router.get(
    "/challenge",
    response=ChallengeOut,
    operation_id="mobile_challenge",
    auth=None,
    summary="A single-use challenge to sign (registration or sign-in)",
)
@public
def mobile_challenge(request: HttpRequest, use: Literal["register", "session"]) -> Any:
    challenge = services.challenge_issue(use=ChallengeUse(use))
    return {
        "challenge_id": challenge.nonce,
        "challenge": services.challenge_text(challenge),
        "expires_at": challenge.expires_at,
    }


@mobile_router.post(
    "/biometrics",
    response={201: BiometricOut},
    operation_id="mobile_biometrics_start",
    auth=None,
    summary="Start a biometric check (the strong sign-in for a device's registration)",
)
@public
def mobile_biometrics_start(request: HttpRequest, payload: BiometricIn) -> Any:
    user = _password_user(request, payload.email, payload.password)
    session = biometric_services.session_start(actor=user, purpose=BiometricPurpose.SECOND_FACTOR)
    return Status(
        201,
        {
            "biometric_session": str(session.public_id),
            "client_url": session.client_url,
            "expires_at": session.expires_at,
        },
    )


@mobile_router.post(
    "/devices",
    response={201: RegisteredOut},
    operation_id="mobile_devices_register",
    auth=None,
    summary="Register this device after a password and EDS or biometric sign-in",
)
@public
def mobile_devices_register(request: HttpRequest, payload: RegisterIn) -> Any:
    user = _password_user(request, payload.email, payload.password)
    device, raw = services.device_register(
        user=user,
        client=mobile_client(request),
        registration=services.Registration(
            proof=payload.proof,
            challenge_id=payload.challenge_id,
            public_key=payload.public_key,
            key_signature=payload.key_signature,
            attestation=payload.attestation,
            name=payload.name,
            platform=payload.platform,
            eds_cms=payload.eds_cms,
            biometric_session=payload.biometric_session,
        ),
    )
    return Status(201, {"device": _device(device), "device_token": raw})


@mobile_router.post(
    "/sessions",
    response={201: SignInOut},
    operation_id="mobile_sessions_open",
    auth=None,
    summary="Sign in from a registered device (its key signs the challenge)",
)
@public
def mobile_sessions_open(request: HttpRequest, payload: SignInIn) -> Any:
    geo = payload.geolocation
    sign_in, raw = services.mobile_sign_in(
        client=mobile_client(request),
        device_token=payload.device_token,
        challenge_id=payload.challenge_id,
        signature=payload.signature,
        geo=services.Geolocation(
            status=geo.status,
            latitude=geo.latitude,
            longitude=geo.longitude,
            accuracy_m=geo.accuracy_m,
        ),
    )
    return Status(
        201,
        {
            "session_token": raw,
            "expires_at": sign_in.expires_at,
            "device_id": sign_in.device_id,
        },
    )


def _sign_in(request: HttpRequest) -> MobileSignIn:
    sign_in: MobileSignIn = request.mobile_sign_in  # type: ignore[attr-defined]
    return sign_in


@mobile_router.get(
    "/status",
    response=StatusOut,
    operation_id="mobile_status",
    auth=[MobileSession()],
    summary="Who is signed in, and whether an update is available",
)
def mobile_status(request: HttpRequest) -> Any:
    sign_in = _sign_in(request)
    user = sign_in.user
    client = mobile_client(request)
    return {
        "user_id": user.pk,
        "full_name": user.full_name,
        "role": user.role,
        "organization": user.organization.name,
        "device_id": sign_in.device_id,
        "session_expires_at": sign_in.expires_at,
        "app_version": client.version,
        "minimum_version": config.min_version(),
        "latest_version": config.latest_version(),
        "update_available": bool(client.update_available),
    }


@mobile_router.delete(
    "/sessions/current",
    response={204: None},
    operation_id="mobile_sessions_close",
    auth=[MobileSession()],
    summary="Sign out of this mobile session",
)
def mobile_sessions_close(request: HttpRequest) -> Any:
    sign_in = _sign_in(request)
    services.mobile_sign_out(actor=sign_in.user, sign_in=sign_in)
    return Status(204, None)


# --- a person's own devices (web, API) ----------------------------------------------------------


@router.get(
    "/devices",
    response=list[DeviceOut],
    operation_id="devices_list",
    auth=api_auth(EtpPerm.DEVICE_MANAGE),
    summary="My registered mobile devices",
)
def devices_list(request: HttpRequest) -> Any:
    return [_device(d) for d in selectors.device_list(acting_person(request))[:100]]


@router.post(
    "/devices/{device_id}/revoke",
    response=DeviceOut,
    operation_id="devices_revoke",
    auth=api_auth(EtpPerm.DEVICE_MANAGE),
    summary="Revoke one of my devices (its token and sessions stop at once)",
)
def devices_revoke(request: HttpRequest, device_id: Id) -> Any:
    actor = acting_person(request)
    device = services.device_revoke(actor=actor, device=selectors.get_device_for(actor, device_id))
    return _device(device)
