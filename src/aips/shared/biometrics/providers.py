"""The port: what the platform needs from a biometric identification provider, and which one is
configured (`AIPS_BIOMETRIC_PROVIDER`: "fake", "none" or a class's dotted path).

A provider starts a session in its own system and gives the address of its client (the page or
app that films the person and checks liveness), then reports the result to the platform's
webhook. The webhook's authenticity is the adapter's job (`verify_webhook`); the canonical form
the fake uses, and which an adapter may reuse, is HMAC-SHA256 over "<timestamp>.<body>" in
`X-Biometric-Signature: sha256=<hex>` with the Unix time in `X-Biometric-Timestamp`. Replays and
the decision (liveness, the platform's own match threshold, three failures) are the platform's,
in services.py, whatever the provider."""

import hashlib
import hmac
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from functools import cache
from typing import Any, Protocol

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string
from django.utils.translation import gettext_lazy as _

from aips.core.branding import site_text_lazy
from aips.core.errors import AppError

SIGNATURE_HEADER = "X-Biometric-Signature"
TIMESTAMP_HEADER = "X-Biometric-Timestamp"


@dataclass(frozen=True)
class StartedSession:
    provider_session_id: str
    client_url: str  # where the person's browser goes to be checked


@dataclass(frozen=True)
class Report:
    """One check as the provider reported it, before the platform decides anything."""

    event_id: str
    provider_session_id: str
    completed: bool  # False: the provider's session expired before a face was checked
    liveness: bool | None
    score: Decimal | None  # face match against the IIN's record, 0..1
    checked_at: datetime


class WebhookRefused(AppError):
    """A webhook the platform does not believe or will not apply (audited, never counted)."""

    status = 401
    code = "webhook_refused"

    def __init__(self, reason: str, message: Any = None, *, status: int = 401) -> None:
        self.reason = reason
        super().__init__(
            message or _("The webhook's signature is not valid."),
            code=f"webhook_{reason}",
            status=status,
        )


class BiometricsUnavailable(AppError):
    status = 409
    code = "biometrics_unavailable"
    default_message = site_text_lazy("no_biometrics")


class BiometricProvider(Protocol):
    """What a provider adapter implements. `name` appears in the webhook URL and the records."""

    name: str

    def start_session(
        self, *, purpose: str, iin: str, reference: str, callback_url: str, return_url: str
    ) -> StartedSession:
        """Open a session at the provider for the person with this IIN. `reference` is the
        platform's id of the session; `callback_url` the webhook; `return_url` where the
        provider's client sends the browser when it is done."""
        ...

    def verify_webhook(self, headers: Mapping[str, str], body: bytes) -> Report:
        """The report in a webhook, or WebhookRefused("forged" | "stale" | "malformed")."""
        ...


class NoProvider:
    """AIPS_BIOMETRIC_PROVIDER=none: the feature is off and says so."""

    name = "none"

    def start_session(
        self, *, purpose: str, iin: str, reference: str, callback_url: str, return_url: str
    ) -> StartedSession:
        raise BiometricsUnavailable()

    def verify_webhook(self, headers: Mapping[str, str], body: bytes) -> Report:
        raise WebhookRefused("unknown_provider", _("No such provider."), status=404)


# --- the canonical signed webhook (used by the fake; adapters may reuse it) --------------------


def signature(secret: bytes, timestamp: str, body: bytes) -> str:
    mac = hmac.new(secret, timestamp.encode() + b"." + body, hashlib.sha256)
    return f"sha256={mac.hexdigest()}"


def signed_headers(secret: bytes, body: bytes, *, at: float | None = None) -> dict[str, str]:
    timestamp = str(int(at if at is not None else time.time()))
    return {TIMESTAMP_HEADER: timestamp, SIGNATURE_HEADER: signature(secret, timestamp, body)}


def verify_signed(headers: Mapping[str, str], body: bytes, *, secret: bytes) -> dict[str, Any]:
    """The JSON object of a webhook signed as above, checked in constant time and within the
    timestamp window; anything else is WebhookRefused."""
    timestamp = str(headers.get(TIMESTAMP_HEADER) or "")
    given = str(headers.get(SIGNATURE_HEADER) or "")
    if not timestamp.isascii() or not timestamp.isdigit() or len(timestamp) > 12:
        raise WebhookRefused("forged")
    if not hmac.compare_digest(given.encode(), signature(secret, timestamp, body).encode()):
        raise WebhookRefused("forged")
    tolerance = settings.AIPS_BIOMETRIC_WEBHOOK_TOLERANCE_SECONDS
    if abs(time.time() - int(timestamp)) > tolerance:
        raise WebhookRefused("stale", _("The webhook is too old or from the future."))
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, ValueError):
        data = None
    if not isinstance(data, dict):
        raise WebhookRefused("malformed", _("The webhook's body is not a JSON object."), status=400)
    return data


def report_from(data: Mapping[str, Any]) -> Report:
    """The canonical body: {"event_id", "session_id", "status": "completed"|"expired",
    "liveness": bool, "score": 0..1, "checked_at": Unix seconds}."""

    def text(key: str) -> str:
        value = data.get(key)
        if not isinstance(value, str) or not 0 < len(value) <= 128 or not value.isprintable():
            raise WebhookRefused(
                "malformed", _("The webhook lacks %(key)s.") % {"key": key}, status=400
            )
        return value

    status = data.get("status")
    if status not in ("completed", "expired"):
        raise WebhookRefused("malformed", _("The webhook's status is not known."), status=400)
    liveness = data.get("liveness")
    if liveness is not None and not isinstance(liveness, bool):
        raise WebhookRefused("malformed", _("The webhook's liveness is not a boolean."), status=400)
    raw_score = data.get("score")
    score: Decimal | None = None
    if raw_score is not None:
        try:
            if isinstance(raw_score, bool) or not isinstance(raw_score, int | float | str):
                raise InvalidOperation
            score = Decimal(str(raw_score)).quantize(Decimal("0.0001"))
        except InvalidOperation:
            score = None
        if score is None or not Decimal(0) <= score <= Decimal(1):
            raise WebhookRefused(
                "malformed", _("The webhook's score is not between 0 and 1."), status=400
            )
    raw_at = data.get("checked_at")
    if isinstance(raw_at, bool) or not isinstance(raw_at, int | float) or not 0 < raw_at < 2**33:
        raise WebhookRefused("malformed", _("The webhook's check time is not valid."), status=400)
    return Report(
        event_id=text("event_id"),
        provider_session_id=text("session_id"),
        completed=status == "completed",
        liveness=liveness,
        score=score,
        checked_at=datetime.fromtimestamp(raw_at, tz=UTC),
    )


def webhook_secret(name: str) -> bytes:
    """The configured key; the fake, if none is configured, derives one from SECRET_KEY."""
    configured = settings.AIPS_BIOMETRIC_WEBHOOK_SECRET
    if configured:
        return configured.encode()
    if name == "fake":
        return hmac.new(
            settings.SECRET_KEY.encode(), b"aips.biometrics.fake-webhook", hashlib.sha256
        ).digest()
    raise ImproperlyConfigured("AIPS_BIOMETRIC_WEBHOOK_SECRET is required for a real provider")


# --- which provider ---------------------------------------------------------------------------


@cache
def _load(setting: str) -> BiometricProvider:
    if setting in ("", "none"):
        return NoProvider()
    if setting == "fake":
        from aips.shared.biometrics.fake import FakeProvider

        return FakeProvider()
    try:
        cls = import_string(setting)
    except ImportError as exc:
        raise ImproperlyConfigured(f"AIPS_BIOMETRIC_PROVIDER: cannot import {setting!r}") from exc
    provider: BiometricProvider = cls()
    return provider


def get_provider() -> BiometricProvider:
    return _load(settings.AIPS_BIOMETRIC_PROVIDER)


def enabled() -> bool:
    return not isinstance(get_provider(), NoProvider)


def check_configuration() -> None:
    name = settings.AIPS_BIOMETRIC_PROVIDER
    if name == "fake" and settings.HTTPS and not settings.DEBUG:
        # The fake passes whoever clicks "pass": never on a server people reach over TLS.
        raise ImproperlyConfigured("AIPS_BIOMETRIC_PROVIDER=fake is refused with AIPS_HTTPS=1")
    provider = get_provider()
    if not isinstance(provider, NoProvider):
        webhook_secret(provider.name)
