"""AIPS settings. Everything comes from AIPS_* environment variables (see docs/deployment.md);
the defaults are the safe ones, so a bare `make run` is a closed, local, non-DEBUG server."""

import secrets
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from aips.env import env_bool, env_choice, env_int, env_list, env_str

PACKAGE_DIR = Path(__file__).resolve().parent
DATA_DIR = Path(env_str("AIPS_DATA_DIR", "./var")).resolve()
DATA_DIR.mkdir(parents=True, exist_ok=True)

# DEBUG only ever turns on when a developer asks for it explicitly on their own machine.
DEBUG = env_bool("AIPS_DEBUG", False)
# Production = served behind TLS (R57.25): secure cookies, HSTS, __Host- cookie names.
HTTPS = env_bool("AIPS_HTTPS", False)


def secret_key(variable: str = "AIPS_SECRET_KEY", directory: Path = DATA_DIR) -> str:
    configured = env_str(variable)
    if configured:
        return configured
    # Local runs get a random key that survives restarts, kept next to the data it protects.
    key_file = directory / "secret_key"
    if not key_file.exists():
        key_file.touch(mode=0o600)
        key_file.write_text(secrets.token_urlsafe(64))
    return key_file.read_text().strip()


SECRET_KEY = secret_key()

AIPS_BIND = env_str("AIPS_BIND", "127.0.0.1:8000")
ALLOWED_HOSTS = env_list("AIPS_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("AIPS_CSRF_TRUSTED_ORIGINS", [])
# Links in e-mails and the WebAuthn origin. Locally "localhost", not 127.0.0.1: a WebAuthn
# relying party must be a host name.
AIPS_BASE_URL = env_str(
    "AIPS_BASE_URL", f"http://{AIPS_BIND.replace('127.0.0.1:', 'localhost:')}"
).rstrip("/")

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "ninja",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "axes",
    "aips.core",
    "aips.shared.audit",
    "aips.shared.organizations",
    "aips.shared.eds",
    "aips.shared.accounts",
    "aips.shared.mfa",
    "aips.shared.biometrics",
    "aips.shared.workdays",
    "aips.shared.workflow",
    "aips.shared.files",
    "aips.shared.observability",
    "aips.shared.backups",
    "aips.center.incidents",
    "aips.center.alerts",
    "aips.center.inquiries",
    "aips.center.integrations",
    "aips.center.signals",
    "aips.center.exchange",
    "aips.center.patches",
    "aips.shared.notifications",
]

MIDDLEWARE = [
    # Outermost: its header floor covers static files and early answers too.
    "aips.core.middleware.SecurityHeadersMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "aips.core.middleware.MethodGuardMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "aips.core.middleware.RequestIdMiddleware",
    "aips.core.metrics.MetricsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "aips.shared.accounts.middleware.SessionGuardMiddleware",
    "aips.core.middleware.UserLanguageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "aips.urls"
WSGI_APPLICATION = "aips.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "aips.core.context_processors.shell",
                "aips.shared.notifications.context_processors.unread",
            ],
        },
    },
]


def database(url: str, *, test_name: str) -> dj_database_url.DBConfig:
    """A database from its URL (SQLite or PostgreSQL) with the settings each engine needs."""
    db = dj_database_url.parse(url, conn_max_age=60, conn_health_checks=True)
    if db["ENGINE"] == "django.db.backends.sqlite3":
        # One writer at a time, taken at BEGIN so concurrent writers queue instead of failing.
        db["CONN_MAX_AGE"] = 0
        db["OPTIONS"] = {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            # FULL: a commit is on disk before it is acknowledged (an accepted signal or
            # submission survives a power cut, not only a crash); about 1.5 ms per commit here.
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;",
        }
    else:
        db["TEST"] = {"NAME": test_name}
    return db


DATABASES = {
    "default": database(
        env_str("AIPS_DATABASE_URL") or f"sqlite:///{DATA_DIR / 'aips.sqlite3'}",
        test_name=env_str("AIPS_TEST_DATABASE_NAME", "test_aips"),
    )
}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"
# Axes first: it refuses locked-out accounts and addresses before any password is checked.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "aips.shared.accounts.backends.EmailBackend",
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "core:home"
LOGOUT_REDIRECT_URL = "accounts:login"

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AIPS_INVITATION_HOURS = env_int("AIPS_INVITATION_HOURS", 72, minimum=1)
PASSWORD_RESET_TIMEOUT = env_int("AIPS_PASSWORD_RESET_SECONDS", 3600, minimum=300)

# Lockout (R57.7): 5 failed passwords or second factors within 15 minutes lock the account and,
# separately, the address they came from.
AXES_FAILURE_LIMIT = env_int("AIPS_LOCKOUT_FAILURES", 5, minimum=1)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("AIPS_LOCKOUT_MINUTES", 15, minimum=1))
AXES_USE_ATTEMPT_EXPIRATION = True
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_USERNAME_CALLABLE = "aips.shared.accounts.backends.axes_username"
AXES_CLIENT_IP_CALLABLE = "aips.core.request_context.axes_client_ip"
AXES_LOCKOUT_CALLABLE = "aips.shared.accounts.views.locked_out"
AXES_ENABLE_ADMIN = False
AXES_VERBOSE = False
# Behind a reverse proxy, how many proxies append to X-Forwarded-For (0 = trust only the peer).
# When gunicorn terminates TLS itself (AIPS_TLS_CERT) there is no proxy to trust.
_behind_proxy = HTTPS and not env_str("AIPS_TLS_CERT")
AIPS_PROXY_COUNT = env_int("AIPS_PROXY_COUNT", 1 if _behind_proxy else 0, minimum=0)
# Metrics and health (docs/deployment.md): who may read /metrics (addresses or networks, as
# client_ip sees them, or the bearer token), and when the worker's heartbeat counts as stale.
AIPS_METRICS_ALLOWED_IPS = env_list("AIPS_METRICS_ALLOWED_IPS", ["127.0.0.1", "::1"])
AIPS_METRICS_TOKEN = env_str("AIPS_METRICS_TOKEN", "")
AIPS_WORKER_STALE_SECONDS = env_int("AIPS_WORKER_STALE_SECONDS", 300, minimum=30)

# Second factor (R57.8) and sessions.
OTP_TOTP_ISSUER = "AIPS"
OTP_TOTP_TOLERANCE = 1
# Lockout (axes) already bounds guessing; django-otp's own back-off would double-count.
OTP_TOTP_THROTTLE_FACTOR = 0
AIPS_PREAUTH_SECONDS = 300
AIPS_SESSION_IDLE_SECONDS = env_int("AIPS_SESSION_IDLE_SECONDS", 15 * 60, minimum=60)
AIPS_REAUTH_SECONDS = env_int("AIPS_REAUTH_SECONDS", 10 * 60, minimum=60)

# Signals (R67.8): how old a signal may be when it arrives, each integration module's budget of
# batches per window (R57.28.1), and cross-organization correlation: an indicator seen at this
# many organizations within the window opens a finding for the center.
AIPS_SIGNAL_MAX_AGE_DAYS = env_int("AIPS_SIGNAL_MAX_AGE_DAYS", 30, minimum=1)
AIPS_SIGNAL_RATE = env_str("AIPS_SIGNAL_RATE", "12000/m")
# Sightings and hourly rollups are derived from stored signals by the worker (signals/derive.py),
# this many milliseconds apart at most. Tests count right after each batch instead (inline).
AIPS_SIGNAL_DERIVE_MS = env_int("AIPS_SIGNAL_DERIVE_MS", 1000, minimum=50)
AIPS_SIGNAL_DERIVE_INLINE = False
# SQLite: each server process stores signal batches through one writer thread that commits
# several requests' batches in one transaction and checkpoints the WAL in the background
# (signals/sqlite_writer.py); the WAL is checkpointed in full past this size.
AIPS_SIGNAL_SQLITE_WRITER = env_bool("AIPS_SIGNAL_SQLITE_WRITER", True)
AIPS_SQLITE_WAL_MAX_MB = env_int("AIPS_SQLITE_WAL_MAX_MB", 64, minimum=1)
AIPS_SIGNAL_RETENTION_MONTHS = env_int("AIPS_SIGNAL_RETENTION_MONTHS", 3, minimum=1)
AIPS_CORRELATION_MIN_ORGS = env_int("AIPS_CORRELATION_MIN_ORGS", 3, minimum=2)
AIPS_CORRELATION_WINDOW_HOURS = env_int("AIPS_CORRELATION_WINDOW_HOURS", 24, minimum=1)
# Partners' TAXII 2.1 collections polled into draft alerts (exchange/partner.py): the server only
# fetches from these host names, over HTTPS, from public addresses; the two test switches allow
# plain HTTP and loopback or private addresses (a test's live server), never in production.
AIPS_TAXII_PARTNER_HOSTS = env_list("AIPS_TAXII_PARTNER_HOSTS", [])
AIPS_TAXII_PARTNER_ALLOW_HTTP = env_bool("AIPS_TAXII_PARTNER_ALLOW_HTTP", False)
AIPS_TAXII_PARTNER_ALLOW_PRIVATE = env_bool("AIPS_TAXII_PARTNER_ALLOW_PRIVATE", False)
AIPS_TAXII_PARTNER_MAX_BYTES = env_int(
    "AIPS_TAXII_PARTNER_MAX_BYTES", 10 * 1024 * 1024, minimum=65536
)
AIPS_TAXII_PARTNER_MAX_OBJECTS = env_int("AIPS_TAXII_PARTNER_MAX_OBJECTS", 5000, minimum=1)
AIPS_TAXII_PARTNER_TIMEOUT_SECONDS = env_int("AIPS_TAXII_PARTNER_TIMEOUT_SECONDS", 20, minimum=1)
if HTTPS and (AIPS_TAXII_PARTNER_ALLOW_HTTP or AIPS_TAXII_PARTNER_ALLOW_PRIVATE):
    raise ImproperlyConfigured(
        "AIPS_TAXII_PARTNER_ALLOW_HTTP and AIPS_TAXII_PARTNER_ALLOW_PRIVATE are for tests only"
    )
# CSAF batches (alerts/csaf_batch.py): the worker fetches ROLIE feeds, provider metadata and
# advisories only from these host names, over HTTPS, from public addresses; the two test
# switches allow plain HTTP and loopback or private addresses (a test's server), never in
# production. Each run of the job reads at most ..._ITEMS_PER_RUN advisories.
AIPS_CSAF_PROVIDER_HOSTS = env_list("AIPS_CSAF_PROVIDER_HOSTS", [])
AIPS_CSAF_ALLOW_HTTP = env_bool("AIPS_CSAF_ALLOW_HTTP", False)
AIPS_CSAF_ALLOW_PRIVATE = env_bool("AIPS_CSAF_ALLOW_PRIVATE", False)
AIPS_CSAF_FETCH_TIMEOUT_SECONDS = env_int("AIPS_CSAF_FETCH_TIMEOUT_SECONDS", 30, minimum=1)
AIPS_CSAF_ITEMS_PER_RUN = env_int("AIPS_CSAF_ITEMS_PER_RUN", 20, minimum=1)
# Set only behind a proxy that verifies agents' client certificates against the center's CA and
# passes the certificate's SHA-256 fingerprint in this header (docs/deployment.md).
AIPS_CLIENT_CERT_HEADER = env_str("AIPS_CLIENT_CERT_HEADER", "")
AIPS_WEBAUTHN_RP_ID = env_str("AIPS_WEBAUTHN_RP_ID") or (
    urlsplit(AIPS_BASE_URL).hostname or "localhost"
)
AIPS_WEBAUTHN_ORIGIN = env_str("AIPS_WEBAUTHN_ORIGIN", AIPS_BASE_URL)

# Biometric identification (R57.9-R57.11, aips.shared.biometrics): "fake" (the scripted stand-in
# for local runs and the demo), "none" (off) or a provider class's dotted path. The fake never
# runs behind TLS, so production is off until a real provider is configured.
AIPS_BIOMETRIC_PROVIDER = env_str("AIPS_BIOMETRIC_PROVIDER", "none" if HTTPS else "fake")
# The provider's webhook key (HMAC-SHA256); the fake signs with a key derived from SECRET_KEY.
AIPS_BIOMETRIC_WEBHOOK_SECRET = env_str("AIPS_BIOMETRIC_WEBHOOK_SECRET", "")
AIPS_BIOMETRIC_WEBHOOK_TOLERANCE_SECONDS = env_int(
    "AIPS_BIOMETRIC_WEBHOOK_TOLERANCE_SECONDS", 300, minimum=30
)
AIPS_BIOMETRIC_WEBHOOK_RATE = env_str("AIPS_BIOMETRIC_WEBHOOK_RATE", "600/m")
# The lowest face-match score (percent) the platform accepts, whatever the provider says.
AIPS_BIOMETRIC_MATCH_PERCENT = env_int("AIPS_BIOMETRIC_MATCH_PERCENT", 85, minimum=50)
AIPS_BIOMETRIC_SESSION_MINUTES = env_int("AIPS_BIOMETRIC_SESSION_MINUTES", 10, minimum=1)
# How long a passed check may confirm a password change or a sign-in (once).
AIPS_BIOMETRIC_FRESH_MINUTES = env_int("AIPS_BIOMETRIC_FRESH_MINUTES", 5, minimum=1)
# Three failed checks for one purpose within the window refuse further checks until it passes.
AIPS_BIOMETRIC_MAX_FAILURES = env_int("AIPS_BIOMETRIC_MAX_FAILURES", 3, minimum=1)
AIPS_BIOMETRIC_FAILURE_WINDOW_MINUTES = env_int(
    "AIPS_BIOMETRIC_FAILURE_WINDOW_MINUTES", 30, minimum=1
)
# EDS through NCALayer (R57.9, R57.10): the WebSocket of the local application that signs in
# the person's browser (the CSP's connect-src allows it), and how long a challenge to sign lasts.
AIPS_NCALAYER_URL = env_str("AIPS_NCALAYER_URL", "wss://127.0.0.1:13579")
AIPS_EDS_CHALLENGE_SECONDS = env_int("AIPS_EDS_CHALLENGE_SECONDS", 300, minimum=30)
# EDS verification (aips.shared.eds): the trusted NCA certificates, CRLs and OCSP answers (empty =
# the bundled src/aips/shared/eds/trust/); whether a certificate whose revocation cannot be
# checked is refused (the default) or accepted; online OCSP is off unless switched on.
AIPS_EDS_TRUST_DIR = env_str("AIPS_EDS_TRUST_DIR", "")
AIPS_EDS_REVOCATION_UNKNOWN = env_choice(
    "AIPS_EDS_REVOCATION_UNKNOWN", "refuse", ("refuse", "accept")
)
AIPS_EDS_OCSP_ONLINE = env_bool("AIPS_EDS_OCSP_ONLINE", False)
AIPS_EDS_OCSP_URL_OVERRIDE = env_str("AIPS_EDS_OCSP_URL_OVERRIDE", "")
# The worker downloads the CRLs named by the trusted CA certificates (CRL distribution points and
# freshest CRL) every this many minutes (0 = never; nothing is fetched while no CA certificate names
# one) into a writable directory that the trust store also reads: NCA's CRLs expire within hours.
AIPS_EDS_CRL_REFRESH_MINUTES = env_int("AIPS_EDS_CRL_REFRESH_MINUTES", 60, minimum=0)
AIPS_EDS_CRL_DIR = env_str("AIPS_EDS_CRL_DIR", str(DATA_DIR / "eds-crl"))
# More CRL URLs to refresh: NCA's intermediates name only their root's CRL, while the CRLs of the
# people's certificates are named in those certificates (e.g. NCA's nca_rsa.crl and its delta).
AIPS_EDS_CRL_URLS = env_list("AIPS_EDS_CRL_URLS", [])
# Every organization's people must pass EDS or biometrics as the second factor (R57.10); without
# it, the center switches this on per organization (Organization.strong_auth_required).
AIPS_STRONG_AUTH_REQUIRED = env_bool("AIPS_STRONG_AUTH_REQUIRED", False)
# Notices in the app and by e-mail of each sign-in, password change and recovery (R57.27.10);
# the ETP turns them on by default (settings_etp.py).
AIPS_SECURITY_NOTICES = env_bool("AIPS_SECURITY_NOTICES", False)

LANGUAGE_CODE = "ru"
# Django ships no Kazakh date formats; ours are in aips/formats/kk.
FORMAT_MODULE_PATH = ["aips.formats"]
LANGUAGES = [("kk", "Қазақша"), ("ru", "Русский"), ("en", "English")]
LOCALE_PATHS = [PACKAGE_DIR / "locale"]
LANGUAGE_COOKIE_NAME = "aips_language"
LANGUAGE_COOKIE_SECURE = HTTPS
LANGUAGE_COOKIE_SAMESITE = "Lax"
TIME_ZONE = "Asia/Almaty"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = DEBUG

# Cookies and transport (R57.25, R57.26.2).
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = HTTPS
SESSION_COOKIE_NAME = "__Host-aips_session" if HTTPS else "aips_session"
SESSION_COOKIE_AGE = env_int("AIPS_SESSION_ABSOLUTE_SECONDS", 8 * 3600, minimum=60)
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_SAVE_EVERY_REQUEST = False
CSRF_COOKIE_SECURE = HTTPS
CSRF_COOKIE_HTTPONLY = True
CSRF_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_NAME = "__Host-aips_csrf" if HTTPS else "aips_csrf"
CSRF_FAILURE_VIEW = "aips.core.views.csrf_failure"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
if HTTPS:
    SECURE_SSL_REDIRECT = env_bool("AIPS_SSL_REDIRECT", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = env_int("AIPS_HSTS_SECONDS", 31536000, minimum=0)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_REDIRECT_EXEMPT = [r"^api/v1/health$", r"^metrics$"]

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        # NCALayer, the local EDS application, listens on a WebSocket of the person's computer.
        "connect-src": ["'self'", AIPS_NCALAYER_URL],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
        "base-uri": ["'none'"],
        "object-src": ["'none'"],
    }
}

# Work a request need not wait for (core.deferred) runs in the caller's thread when set (tests).
AIPS_DEFER_INLINE = env_bool("AIPS_DEFER_INLINE", False)

# E-mail: a file per message under the data dir unless an SMTP relay is configured.
EMAIL_HOST = env_str("AIPS_EMAIL_HOST")
if EMAIL_HOST:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_PORT = env_int("AIPS_EMAIL_PORT", 587)
    EMAIL_HOST_USER = env_str("AIPS_EMAIL_USER")
    EMAIL_HOST_PASSWORD = env_str("AIPS_EMAIL_PASSWORD")
    EMAIL_USE_TLS = env_bool("AIPS_EMAIL_TLS", True)
else:
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = str(DATA_DIR / "mail")
DEFAULT_FROM_EMAIL = env_str("AIPS_EMAIL_FROM", "aips@localhost")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# Branding and the public contact block (R57.26.1).
AIPS_CONTACT_PHONE = env_str("AIPS_CONTACT_PHONE", "+7 727 000 00 00")
AIPS_CONTACT_EMAIL = env_str("AIPS_CONTACT_EMAIL", "soc@aips.example.kz")
AIPS_OFFICIAL_DOMAIN = env_str("AIPS_OFFICIAL_DOMAIN", "aips.example.kz")
# Attachments live outside the web root and the static files, served only as downloads.
AIPS_ATTACHMENT_DIR = env_str("AIPS_ATTACHMENT_DIR", str(DATA_DIR / "attachments"))
# ClamAV's daemon, which the worker asks about every stored file before it may be downloaded
# (R57.12, shared/files/antivirus.py): a Unix socket path or host:port. With neither, files stay
# "pending" (never served) and the pages say scanning is not configured.
AIPS_CLAMD_SOCKET = env_str("AIPS_CLAMD_SOCKET", "")
AIPS_CLAMD_ADDRESS = env_str("AIPS_CLAMD_ADDRESS", "")
AIPS_CLAMD_TIMEOUT = env_int("AIPS_CLAMD_TIMEOUT", 30, minimum=1)
if AIPS_CLAMD_ADDRESS and not AIPS_CLAMD_ADDRESS.rpartition(":")[2].isdigit():
    raise ImproperlyConfigured("AIPS_CLAMD_ADDRESS must be host:port (e.g. clamav.internal:3310)")
# Request size limits, checked before parsing (R57.28.4): a JSON body (the API answers 413) and a
# whole multipart request (the largest attachment, 20 MiB, plus room for the form fields).
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("AIPS_BODY_MAX_BYTES", 5 * 1024 * 1024, minimum=65536)
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
# The largest upload: a CSAF advisory of up to 32 MiB (alerts.importers.MAX_BYTES) plus fields.
AIPS_UPLOAD_MAX_BYTES = env_int("AIPS_UPLOAD_MAX_BYTES", 33 * 1024 * 1024, minimum=1024 * 1024)
FILE_UPLOAD_HANDLERS = [
    "aips.core.uploads.LimitedUploadHandler",
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]

# The audit journal's signing key lives outside the database (R57.17).
AIPS_AUDIT_KEY_FILE = env_str("AIPS_AUDIT_KEY_FILE", str(DATA_DIR / "audit-signing.key"))
AIPS_AUDIT_ARCHIVE_DIR = env_str("AIPS_AUDIT_ARCHIVE_DIR", str(DATA_DIR / "audit-archive"))
# Entries stay online at least 3 months (R57.17); archives are kept at least 5 years.
AIPS_AUDIT_ONLINE_DAYS = env_int("AIPS_AUDIT_ONLINE_DAYS", 92, minimum=92)
AIPS_AUDIT_ARCHIVE_YEARS = env_int("AIPS_AUDIT_ARCHIVE_YEARS", 5, minimum=5)
AIPS_AUDIT_CHECKPOINT_MINUTES = env_int("AIPS_AUDIT_CHECKPOINT_MINUTES", 10, minimum=1)
# The journal's anchor outside the database (audit/anchor.py): an append-only file, and optional
# witnesses that get each anchored checkpoint (syslog "udp://host:port" or "tcp://host:port",
# e-mail to the auditors at most every AIPS_AUDIT_WITNESS_EMAIL_MINUTES).
AIPS_AUDIT_ANCHOR_FILE = env_str("AIPS_AUDIT_ANCHOR_FILE", str(DATA_DIR / "audit-anchor.jsonl"))
AIPS_AUDIT_WITNESS_SYSLOG = env_str("AIPS_AUDIT_WITNESS_SYSLOG", "")  # checked in audit/apps.py
AIPS_AUDIT_WITNESS_EMAILS = env_list("AIPS_AUDIT_WITNESS_EMAILS", [])
AIPS_AUDIT_WITNESS_EMAIL_MINUTES = env_int("AIPS_AUDIT_WITNESS_EMAIL_MINUTES", 60, minimum=1)
# Backups (aips.shared.backups, R57.15, R57.16; docs/deployment.md "Backups"): the key that
# encrypts every archive, kept outside the backups (empty = backups off), where archives and drill
# reports go, how often the worker backs up and drills (hours, 0 = off), and the retention: an
# archive goes once it is beyond the newest AIPS_BACKUP_KEEP and older than AIPS_BACKUP_KEEP_DAYS.
# On PostgreSQL the drill restores into AIPS_BACKUP_DRILL_DATABASE_URL, a database of its own.
AIPS_BACKUP_KEY_FILE = env_str("AIPS_BACKUP_KEY_FILE", "")
AIPS_BACKUP_DIR = env_str("AIPS_BACKUP_DIR", str(DATA_DIR / "backups"))
AIPS_BACKUP_EVERY_HOURS = env_int("AIPS_BACKUP_EVERY_HOURS", 24, minimum=0)
AIPS_BACKUP_KEEP = env_int("AIPS_BACKUP_KEEP", 7, minimum=1)
AIPS_BACKUP_KEEP_DAYS = env_int("AIPS_BACKUP_KEEP_DAYS", 30, minimum=0)
AIPS_BACKUP_DRILL_EVERY_HOURS = env_int("AIPS_BACKUP_DRILL_EVERY_HOURS", 168, minimum=0)
AIPS_BACKUP_DRILL_DATABASE_URL = env_str("AIPS_BACKUP_DRILL_DATABASE_URL", "")
# What a backup holds besides the database: part -> (the setting with its path, the variable that
# sets that path, a path inside it). The drills point these variables, the database's and the data
# directories' into a scratch directory for their scratch instance.
AIPS_BACKUP_PARTS = {
    "attachments": ("AIPS_ATTACHMENT_DIR", "AIPS_ATTACHMENT_DIR", ""),
    "audit-key": ("AIPS_AUDIT_KEY_FILE", "AIPS_AUDIT_KEY_FILE", ""),
    "audit-anchor": ("AIPS_AUDIT_ANCHOR_FILE", "AIPS_AUDIT_ANCHOR_FILE", ""),
    "audit-archive": ("AIPS_AUDIT_ARCHIVE_DIR", "AIPS_AUDIT_ARCHIVE_DIR", ""),
    "eds-trust": ("AIPS_EDS_TRUST_DIR", "AIPS_EDS_TRUST_DIR", ""),
    "eds-crl": ("AIPS_EDS_CRL_DIR", "AIPS_EDS_CRL_DIR", ""),
    "secret-key": ("DATA_DIR", "AIPS_DATA_DIR", "secret_key"),
    "integration-ca": ("DATA_DIR", "AIPS_DATA_DIR", "ca"),
}
AIPS_BACKUP_DATABASE_VARIABLE = "AIPS_DATABASE_URL"
AIPS_BACKUP_SCRATCH_DIRS = ["AIPS_DATA_DIR"]
AIPS_CENTER_NAME = _("Sectoral information security center of the financial market")

# The product this deployment serves; aips/settings_etp.py overrides the lot for the ETP
# (docs/decisions/0036-the-etp-as-a-second-product.md). Dotted paths are loaded by name, so the
# core names no product: the permission table (core/permissions.py), the main menu
# (core/menu.py), the demo data (`aips demo load`) and the API (`aips export_openapi`).
AIPS_PRODUCT = "aips"
AIPS_PERMISSIONS = "aips.core.permissions"
AIPS_MENU = "aips.core.menu.MENU"
AIPS_DEMO = "aips.demo.command"
AIPS_API = "aips.api.api"
# URL names: where the logo leads, and the header's search box ("" for none). Then the branding
# of every page (core/context_processors.py, base.html; R57.26.1).
AIPS_HOME_URL = "core:home"
AIPS_SEARCH_URL = "core:search"
AIPS_SITE_NAME = _("AIPS")
AIPS_SITE_TAGLINE = _("Information security events and incidents of the financial market")
AIPS_SIGN_IN_TITLE = _("Sign in to AIPS")
AIPS_SITE_OWNER = AIPS_CENTER_NAME
AIPS_SITE_AUTHORITY = _(
    "Agency of the Republic of Kazakhstan for Regulation and Development of the Financial Market"
)
# The footer's line naming the one official address (R57.26.1); %(domain)s is AIPS_OFFICIAL_DOMAIN.
AIPS_SITE_ADDRESS_NOTE = _("The only official address of AIPS is https://%(domain)s")
AIPS_SITE_LOGO = "aips/logo.svg"
AIPS_SITE_STYLESHEET = ""  # a product's own colours, loaded after aips.css
# The platform's sentences that name the system or the organization that runs it: pages
# (`site.texts.<key>`), e-mails and messages (core/branding.py `site_text`) read them here, and
# settings_etp.py has the ETP's (same keys). Whole sentences, not a name put into one: Russian
# and Kazakh inflect the name ("в службу поддержки центра", "ААӨЖ-де"), differently per product.
AIPS_SITE_TEXTS = {
    "two_factors": _(
        "AIPS requires two factors for everyone. Scan this code with an authenticator app (for "
        "example FreeOTP, Aegis, Google or Microsoft Authenticator), then enter the 6-digit code "
        "it shows."
    ),
    "back_to_site": _("Back to AIPS"),
    "support_hint": _("If you need help, give this request id to the center's support:"),
    "internal_error": _("Internal error. Give the request id to the center's support."),
    "personal_data": _("To change your personal data, ask the center's administrators."),
    "no_biometrics": _(
        "Biometric identification is not available on this installation. Ask the center."
    ),
    "no_biometrics_password": _(
        "Biometric identification is not available on this installation, so the password cannot "
        "be changed here. Ask the center."
    ),
    "role_cross_tenant": _("This role belongs to the center's staff."),
    "role_tenant": _("This role belongs to an organization's staff, not the center's."),
    "invitation_subject": _("AIPS: your account"),
    "invitation_body": _(
        "An AIPS account was created for you. Set your password within %(hours)d hours using this "
        "single-use link:\n\n%(link)s\n\nIf you did not expect this message, tell the sectoral IS "
        "center."
    ),
    "invitation_expired": _(
        "This link is not valid any more. Ask the center for a new invitation."
    ),
    "reset_subject": _("AIPS: password reset"),
    "reset_body": _(
        "Someone asked to reset your AIPS password. If it was you, open this link (valid for "
        "%(minutes)d min):\n\n%(link)s\n\nYou will still need your second factor to sign in. If it "
        "was not you, ignore this message and tell the sectoral IS center."
    ),
    "iin_taken": _(
        "This IIN is already bound to another account. If it is yours, contact the center."
    ),
    "notification_subject": _("AIPS: a new notification"),
    "notification_withheld": _(
        "There is a new notification for you in AIPS. Sign in to read it:\n\n%(link)s"
    ),
    "notification_open": _("Open in AIPS: %(link)s"),
    "locked": _(
        "Too many failed attempts. Sign-in is paused for %(minutes)d min; if you need access "
        "sooner, contact your IS-unit head or the center."
    ),
    "checkpoint_subject": _("AIPS audit journal: checkpoint at %(size)s entries"),
    "checkpoint_body": _(
        "Keep this message: these lines are signed checkpoints of the AIPS audit journal. If the "
        "journal is ever rolled back or rewritten, `aips audit verify --anchor FILE` with these "
        "lines saved in FILE names the entries that changed."
    ),
    "eds_verify": _(
        "To verify with AIPS (checks the signature, the chain, validity and revocation at that "
        "moment):"
    ),
    "eds_verify_nca": _("or, against the NCA certificates configured in AIPS:"),
}

# Rate limits (R57.28.1): API per user and per anonymous address; sign-in, second factor and
# password reset per address and per account; failed token authentications per address.
AIPS_API_RATE_USER = env_str("AIPS_API_RATE_USER", "1200/m")
AIPS_API_RATE_ANON = env_str("AIPS_API_RATE_ANON", "120/m")
AIPS_AUTH_RATE_IP = env_str("AIPS_AUTH_RATE_IP", "30/m")
AIPS_AUTH_RATE_ACCOUNT = env_str("AIPS_AUTH_RATE_ACCOUNT", "10/m")
AIPS_BAD_TOKEN_RATE_IP = env_str("AIPS_BAD_TOKEN_RATE_IP", "20/m")
AIPS_API_PAGE_MAX = 200

# Rate limits and throttles live in the cache, so every server process must share it: Redis when
# configured, else a table in the application database.
_redis_url = env_str("AIPS_REDIS_URL")
CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": _redis_url}
        if _redis_url
        else {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "aips_cache"}
    )
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "json": {
            "()": "structlog.stdlib.ProcessorFormatter",
            "processor": "ext://aips.core.logging.RENDERER",
            "foreign_pre_chain": "ext://aips.core.logging.PRE_CHAIN",
        }
    },
    "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "json"}},
    "root": {"handlers": ["stderr"], "level": env_str("AIPS_LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}, "axes": {"level": "WARNING"}},
}
