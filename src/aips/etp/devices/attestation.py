"""Platform attestation (R57.28.3): the app proves it is the genuine build on a genuine device.
A port, `AttestationVerifier`, chosen by `AIPS_ETP_ATTESTATION_VERIFIER`:

- `fake` (tests and the demo): accepts exactly `fake:<client id>:<device key SHA-256 hex>:<challenge
  nonce>`, so a token made for another app, key or challenge is refused, as a real one would be;
- `none`: accepts any token and says so in the journal (a deployment without attestation);
- `refuse` (the default with `AIPS_HTTPS=1`): refuses every registration until a verifier is
  chosen, because the fake's tokens can be made by anyone;
- a dotted path to a class with the same `verify`; production uses
  `aips.etp.devices.attestation_platforms.PlatformVerifier` (Apple App Attest, Android Key
  Attestation and Play Integrity, verified offline against pinned roots: decision 0043,
  docs/mobile.md)."""

import hmac
from dataclasses import dataclass
from typing import Protocol

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string
from django.utils.translation import gettext_lazy as _

from aips.core.errors import AppError
from aips.etp.devices import config


class AttestationRefused(AppError):
    status = 403
    code = "attestation_refused"
    default_message = _("The app could not prove it is a genuine build on a genuine device.")


@dataclass(frozen=True)
class Attestation:
    verifier: str
    detail: str = ""


class AttestationVerifier(Protocol):
    name: str

    def verify(
        self, *, token: str, client_id: str, key_sha256: str, nonce: str
    ) -> Attestation:  # pragma: no cover - a protocol
        """The verdict on `token`, bound to the app, the device key and the challenge; raises
        AttestationRefused."""
        ...


class FakeVerifier:
    name = "fake"

    def verify(self, *, token: str, client_id: str, key_sha256: str, nonce: str) -> Attestation:
        expected = f"fake:{client_id}:{key_sha256}:{nonce}"
        if not hmac.compare_digest(token.encode(), expected.encode()):
            raise AttestationRefused()
        return Attestation(verifier=self.name)


class NoVerifier:
    name = "none"

    def verify(self, *, token: str, client_id: str, key_sha256: str, nonce: str) -> Attestation:
        return Attestation(verifier=self.name, detail="not verified")


class RefuseVerifier:
    name = "refuse"

    def verify(self, *, token: str, client_id: str, key_sha256: str, nonce: str) -> Attestation:
        raise AttestationRefused()


def get_verifier() -> AttestationVerifier:
    name = config.attestation_verifier()
    if name == "fake":
        if getattr(settings, "HTTPS", False) and not settings.DEBUG:
            # Anyone can compute a fake token: never on a server people reach over TLS.
            raise ImproperlyConfigured(
                "AIPS_ETP_ATTESTATION_VERIFIER=fake is refused with AIPS_HTTPS=1"
            )
        return FakeVerifier()
    if name == "refuse":
        return RefuseVerifier()
    if name == "none":
        return NoVerifier()
    try:
        verifier: AttestationVerifier = import_string(name)()
    except ImportError as exc:
        raise ImproperlyConfigured(f"AIPS_ETP_ATTESTATION_VERIFIER: {name}") from exc
    return verifier
