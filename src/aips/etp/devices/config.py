"""The mobile API's settings, typed (aips/settings_etp.py; mypy reads AIPS's settings, which do
not have them)."""

from django.conf import settings


def client_ids() -> list[str]:
    return [str(c) for c in getattr(settings, "AIPS_ETP_MOBILE_CLIENT_IDS", [])]


def min_version() -> str:
    return str(getattr(settings, "AIPS_ETP_MOBILE_MIN_VERSION", "1.0.0"))


def latest_version() -> str:
    return str(getattr(settings, "AIPS_ETP_MOBILE_LATEST_VERSION", "1.0.0"))


def attestation_verifier() -> str:
    return str(getattr(settings, "AIPS_ETP_ATTESTATION_VERIFIER", "fake"))


def device_days() -> int:
    return int(getattr(settings, "AIPS_ETP_MOBILE_DEVICE_DAYS", 180))


def session_minutes() -> int:
    return int(getattr(settings, "AIPS_ETP_MOBILE_SESSION_MINUTES", 30))


# --- platform attestation (attestation_apple.py, attestation_android.py; decision 0043) ----------


def apple_app_ids() -> list[str]:
    """App IDs (`<team id>.<bundle id>`) whose App Attest keys are accepted."""
    return [str(a) for a in getattr(settings, "AIPS_ETP_APPLE_APP_IDS", [])]


def apple_app_attest_development() -> bool:
    """True when the apps are development builds (aaguid `appattestdevelop`)."""
    return str(getattr(settings, "AIPS_ETP_APPLE_APP_ATTEST_ENVIRONMENT", "production")) == (
        "development"
    )


def apple_root_ca_file() -> str:
    """A PEM file replacing the embedded Apple App Attestation Root CA ("" = the embedded one)."""
    return str(getattr(settings, "AIPS_ETP_APPLE_ROOT_CA_FILE", ""))


def android_packages() -> list[str]:
    return [str(p) for p in getattr(settings, "AIPS_ETP_ANDROID_PACKAGES", [])]


def android_signing_cert_sha256() -> list[str]:
    """SHA-256 digests (hex; colons and case ignored) of the certificates that sign the app."""
    digests = getattr(settings, "AIPS_ETP_ANDROID_SIGNING_CERT_SHA256", [])
    return [str(d).replace(":", "").lower() for d in digests]


def android_roots_file() -> str:
    """A PEM file of roots replacing Google's embedded hardware attestation roots ("" = those)."""
    return str(getattr(settings, "AIPS_ETP_ANDROID_ROOTS_FILE", ""))


def android_status_file() -> str:
    """Google's attestation status list (JSON, https://android.googleapis.com/attestation/status)
    as the operator last downloaded it ("" = no revocation check)."""
    return str(getattr(settings, "AIPS_ETP_ANDROID_STATUS_FILE", ""))


def android_strongbox_required() -> bool:
    return bool(getattr(settings, "AIPS_ETP_ANDROID_STRONGBOX_REQUIRED", False))


def play_integrity_decryption_key() -> str:
    """The Play Console's response decryption key (base64 AES-256); "" = Play Integrity off."""
    return str(getattr(settings, "AIPS_ETP_PLAY_INTEGRITY_DECRYPTION_KEY", ""))


def play_integrity_verification_key() -> str:
    """The Play Console's response verification key (base64 DER EC public key)."""
    return str(getattr(settings, "AIPS_ETP_PLAY_INTEGRITY_VERIFICATION_KEY", ""))
