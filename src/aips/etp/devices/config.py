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
