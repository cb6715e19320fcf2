"""The EDS module's public vocabulary: what a caller asks for and what it gets back."""

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from django.utils.translation import gettext_lazy as _

from aips.core.errors import AppError


class Purpose(StrEnum):
    """What the signature is for; decides which keys are acceptable."""

    AUTHENTICATION = "authentication"  # EKU client auth (1.3.6.1.5.5.7.3.2): sign-in, binding
    SIGNING = "signing"  # nonRepudiation / EKU e-mail protection (1.3.6.1.5.5.7.3.4): documents


class Refusal(StrEnum):
    MALFORMED = "malformed"
    BAD_SIGNATURE = "bad_signature"
    CONTENT_MISMATCH = "content_mismatch"
    UNKNOWN_CA = "unknown_ca"
    EXPIRED = "expired"
    NOT_YET_VALID = "not_yet_valid"
    REVOKED = "revoked"
    REVOCATION_UNKNOWN = "revocation_unknown"
    WRONG_KEY_USAGE = "wrong_key_usage"
    IIN_MISMATCH = "iin_mismatch"
    BIN_MISMATCH = "bin_mismatch"
    NO_IIN = "no_iin"


REFUSAL_MESSAGES = {
    Refusal.MALFORMED: _("The signature could not be read."),
    Refusal.BAD_SIGNATURE: _("The signature does not match the signed data."),
    Refusal.CONTENT_MISMATCH: _("The signature was made over different data."),
    Refusal.UNKNOWN_CA: _("The certificate was not issued by a trusted certification authority."),
    Refusal.EXPIRED: _("The certificate had expired at the time of signing."),
    Refusal.NOT_YET_VALID: _("The certificate was not yet valid at the time of signing."),
    Refusal.REVOKED: _("The certificate has been revoked."),
    Refusal.REVOCATION_UNKNOWN: _("The certificate's revocation status could not be checked."),
    Refusal.WRONG_KEY_USAGE: _("This key cannot be used for this purpose."),
    Refusal.IIN_MISMATCH: _("The certificate belongs to another person (IIN does not match)."),
    Refusal.BIN_MISMATCH: _(
        "The certificate belongs to another organization (BIN does not match)."
    ),
    Refusal.NO_IIN: _("The certificate does not carry an IIN."),
}


class EdsRefused(AppError):
    """A signature that must not be accepted; `reason` says why, the message is translated."""

    status = 422
    code = "eds_refused"

    def __init__(self, reason: Refusal, detail: str = "") -> None:
        self.reason = reason
        self.detail = detail  # technical detail for logs and the command, never shown to users
        super().__init__(REFUSAL_MESSAGES[reason], code=f"eds_{reason.value}")


class Role(StrEnum):
    """NCA RK role OIDs carried in the extended key usage."""

    INDIVIDUAL = "1.2.398.3.3.4.1.1"
    EMPLOYEE_OF_LEGAL_ENTITY = "1.2.398.3.3.4.1.2"
    HEAD = "1.2.398.3.3.4.1.2.1"
    RIGHT_TO_SIGN = "1.2.398.3.3.4.1.2.2"
    EMPLOYEE = "1.2.398.3.3.4.1.2.5"


@dataclass(frozen=True)
class Signer:
    """Who signed, as the certificate says."""

    common_name: str
    surname: str
    given_name: str
    organization: str
    iin: str  # 12 digits, "" when absent
    bin: str  # 12 digits, "" for an individual
    roles: frozenset[Role]
    remote_biometric: bool  # 1.2.398.3.3.4.3.2.1: issued after remote biometric identification
    serial_hex: str
    issuer: str
    not_before: datetime
    not_after: datetime
    fingerprint_sha256: str  # hex of the DER certificate's SHA-256
    certificate_der: bytes


@dataclass(frozen=True)
class RevocationEvidence:
    """What said the certificate was good: a CRL or an OCSP response, kept as DER."""

    kind: str  # "crl", "delta_crl" or "ocsp"
    source: str  # file name or URL it came from
    produced_at: datetime
    der: bytes
    status: str  # "good" or "revoked"


@dataclass(frozen=True)
class Verification:
    """A signature that passed every check."""

    signer: Signer
    content: bytes  # the signed bytes (the attached content, or the detached data given)
    signing_time: datetime | None  # from the signed attributes, when present
    checked_at: datetime  # the moment validity and revocation were judged at
    algorithm: str  # "rsa-sha256", "gost2015-256", "gost2015-512", ...
    chain: tuple[bytes, ...]  # DER certificates, signer first, root last
    revocation: tuple[RevocationEvidence, ...] = field(default=())
    purpose: Purpose | None = None  # what it was verified for (None: built elsewhere, e.g. a fake)
