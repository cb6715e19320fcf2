"""The ETP's settings: the electronic trading platform for the assets of banks and microfinance
organizations (resolution No. 57), the second product on the platform
(docs/decisions/0036-the-etp-as-a-second-product.md). Used by the `etp` command (`etp migrate`,
`etp demo load`, `etp serve`) and by the ETP's test session (`--ds=aips.settings_etp`).

AIPS's settings are the base, so every AIPS_* variable means the same here (lockout, sessions,
rate limits, TLS, e-mail relay, biometrics, EDS…). What must differ when both systems run from
one environment (`make run`) has an AIPS_ETP_* twin: the address, the database, the data folder,
the secret key, the public contacts. The rest is the product: its apps (the platform's and the
ETP's, none of AIPS's), URLs, API, permission table, menu, demo data, cookies and branding."""

import copy
from pathlib import Path
from urllib.parse import urlsplit

from django.utils.translation import gettext_lazy as _

from aips.env import env_bool, env_choice, env_int, env_list, env_str
from aips.settings import *  # noqa: F403
from aips.settings import (
    CACHES,
    CONTENT_SECURITY_POLICY,
    DATA_DIR,
    EMAIL_HOST,
    HTTPS,
    INSTALLED_APPS,
    PACKAGE_DIR,
    TEMPLATES,
    database,
    secret_key,
)

# The ETP's apps. Notifications stays last: its outbox job runs after every other app's jobs.
ETP_APPS = [
    "aips.etp.portal",
    "aips.etp.lots",
    "aips.etp.participants",
    "aips.etp.applications",
    "aips.etp.questions",
    "aips.etp.dataroom",
    "aips.etp.devices",
    "aips.etp.auctions",
]
_platform = [app for app in INSTALLED_APPS if not app.startswith("aips.center.")]
_last = _platform.index("aips.shared.notifications")
INSTALLED_APPS = [*_platform[:_last], *ETP_APPS, *_platform[_last:]]

ROOT_URLCONF = "aips.urls_etp"
# R57.27.10: participants hear of every sign-in, password change and recovery.
AIPS_SECURITY_NOTICES = env_bool("AIPS_SECURITY_NOTICES", True)
LOGIN_REDIRECT_URL = "etp_portal:workspace"

# Where it listens and how it is reached.
AIPS_BIND = env_str("AIPS_ETP_BIND", "127.0.0.1:8001")
ALLOWED_HOSTS = env_list("AIPS_ETP_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("AIPS_ETP_CSRF_TRUSTED_ORIGINS", [])
AIPS_BASE_URL = env_str(
    "AIPS_ETP_BASE_URL", f"http://{AIPS_BIND.replace('127.0.0.1:', 'localhost:')}"
).rstrip("/")
AIPS_WEBAUTHN_RP_ID = env_str("AIPS_ETP_WEBAUTHN_RP_ID") or (
    urlsplit(AIPS_BASE_URL).hostname or "localhost"
)
AIPS_WEBAUTHN_ORIGIN = env_str("AIPS_ETP_WEBAUTHN_ORIGIN", AIPS_BASE_URL)
# The auctions' live events (auctions/sse.py, `etp live`, PostgreSQL only): where uvicorn
# listens, and the base URL the browser reaches it at ("" = not served: the live page polls).
AIPS_ETP_LIVE_BIND = env_str("AIPS_ETP_LIVE_BIND", "127.0.0.1:8002")
AIPS_ETP_LIVE_URL = env_str("AIPS_ETP_LIVE_URL").rstrip("/")
if urlsplit(AIPS_ETP_LIVE_URL).netloc:  # another origin: the pages' CSP lets them connect
    CONTENT_SECURITY_POLICY = copy.deepcopy(CONTENT_SECURITY_POLICY)
    CONTENT_SECURITY_POLICY["DIRECTIVES"]["connect-src"].append(AIPS_ETP_LIVE_URL)

# Its own database and files: nothing of AIPS's data is reachable from the ETP.
DATABASES = {
    "default": database(
        env_str("AIPS_ETP_DATABASE_URL") or f"sqlite:///{DATA_DIR / 'etp.sqlite3'}",
        test_name=env_str(
            "AIPS_ETP_TEST_DATABASE_NAME",
            f"{env_str('AIPS_TEST_DATABASE_NAME', 'test_aips')}_etp",
        ),
    )
}
ETP_DATA_DIR = Path(env_str("AIPS_ETP_DATA_DIR", str(DATA_DIR / "etp"))).resolve()
ETP_DATA_DIR.mkdir(parents=True, exist_ok=True)
SECRET_KEY = secret_key("AIPS_ETP_SECRET_KEY", ETP_DATA_DIR)
STATIC_ROOT = ETP_DATA_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
AIPS_ATTACHMENT_DIR = env_str("AIPS_ETP_ATTACHMENT_DIR", str(ETP_DATA_DIR / "attachments"))
# Its own audit journal, with its own signing key, anchor and archives (R57.17).
AIPS_AUDIT_KEY_FILE = env_str("AIPS_ETP_AUDIT_KEY_FILE", str(ETP_DATA_DIR / "audit-signing.key"))
AIPS_AUDIT_ARCHIVE_DIR = env_str("AIPS_ETP_AUDIT_ARCHIVE_DIR", str(ETP_DATA_DIR / "audit-archive"))
AIPS_AUDIT_ANCHOR_FILE = env_str(
    "AIPS_ETP_AUDIT_ANCHOR_FILE", str(ETP_DATA_DIR / "audit-anchor.jsonl")
)
# Its own backups (aips.shared.backups): directory, drill database and parts; the key may be its
# own (AIPS_ETP_BACKUP_KEY_FILE) or AIPS's.
AIPS_BACKUP_KEY_FILE = env_str("AIPS_ETP_BACKUP_KEY_FILE", env_str("AIPS_BACKUP_KEY_FILE", ""))
AIPS_BACKUP_DIR = env_str("AIPS_ETP_BACKUP_DIR", str(ETP_DATA_DIR / "backups"))
AIPS_BACKUP_DRILL_DATABASE_URL = env_str("AIPS_ETP_BACKUP_DRILL_DATABASE_URL", "")
AIPS_BACKUP_PARTS = {
    "attachments": ("AIPS_ATTACHMENT_DIR", "AIPS_ETP_ATTACHMENT_DIR", ""),
    "audit-key": ("AIPS_AUDIT_KEY_FILE", "AIPS_ETP_AUDIT_KEY_FILE", ""),
    "audit-anchor": ("AIPS_AUDIT_ANCHOR_FILE", "AIPS_ETP_AUDIT_ANCHOR_FILE", ""),
    "audit-archive": ("AIPS_AUDIT_ARCHIVE_DIR", "AIPS_ETP_AUDIT_ARCHIVE_DIR", ""),
    "eds-trust": ("AIPS_EDS_TRUST_DIR", "AIPS_EDS_TRUST_DIR", ""),
    "eds-crl": ("AIPS_EDS_CRL_DIR", "AIPS_EDS_CRL_DIR", ""),
    "secret-key": ("ETP_DATA_DIR", "AIPS_ETP_DATA_DIR", "secret_key"),
}
AIPS_BACKUP_DATABASE_VARIABLE = "AIPS_ETP_DATABASE_URL"
AIPS_BACKUP_SCRATCH_DIRS = ["AIPS_DATA_DIR", "AIPS_ETP_DATA_DIR"]
if not EMAIL_HOST:
    EMAIL_FILE_PATH = str(ETP_DATA_DIR / "mail")
DEFAULT_FROM_EMAIL = env_str("AIPS_ETP_EMAIL_FROM", "etp@localhost")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# A shared Redis keeps the two systems' rate-limit counters apart.
CACHES = copy.deepcopy(CACHES)
CACHES["default"]["KEY_PREFIX"] = "etp"

# Its own cookies: on one host (localhost:8000 and :8001 in `make run`) browsers send a cookie to
# every port, so a shared name would sign a person out of one system when they use the other.
SESSION_COOKIE_NAME = "__Host-etp_session" if HTTPS else "etp_session"
CSRF_COOKIE_NAME = "__Host-etp_csrf" if HTTPS else "etp_csrf"
OTP_TOTP_ISSUER = "ETP"

# The product: its permission table, menu, demo data and API (loaded by name by the core).
AIPS_PRODUCT = "etp"
AIPS_PERMISSIONS = "aips.etp.permissions"
AIPS_MENU = "aips.etp.portal.menu.MENU"
AIPS_DEMO = "aips.demo_etp.command"
AIPS_API = "aips.api_etp.api"
AIPS_HOME_URL = "etp_portal:catalogue"
AIPS_SEARCH_URL = ""

# The trading rules (docs/domains/etp.md, "Trading rules"); read through aips.etp.lots.rules.
AIPS_ETP_RETAIL_CLAIM_MIN_OVERDUE_DAYS = env_int(
    "AIPS_ETP_RETAIL_CLAIM_MIN_OVERDUE_DAYS", 90, minimum=0
)
# "first..last" (ISO dates, both included), or "none".
AIPS_ETP_MORATORIUM = env_str("AIPS_ETP_MORATORIUM", "2024-07-01..2026-05-01")
AIPS_ETP_CORRECTION_WINDOW_HOURS = env_int("AIPS_ETP_CORRECTION_WINDOW_HOURS", 48, minimum=0)
# Applications (aips.etp.applications.rules): the deposit as % of the start price, and whether
# the public and participants see how many applied (off: the count invites collusion).
AIPS_ETP_DEPOSIT_PERCENT = env_int("AIPS_ETP_DEPOSIT_PERCENT", 10, minimum=0)
AIPS_ETP_SHOW_APPLICANT_COUNT = env_bool("AIPS_ETP_SHOW_APPLICANT_COUNT", False)
# Auctions (aips.etp.auctions.policy): admitted participants needed to open, the repeat's
# reduction and floor (% of the first start price) and delay, the Dutch sealed-bid finish, and
# each participant's bid budget.
AIPS_ETP_MIN_BIDDERS = env_int("AIPS_ETP_MIN_BIDDERS", 2, minimum=1)
AIPS_ETP_REPEAT_REDUCTION_PERCENT = env_int("AIPS_ETP_REPEAT_REDUCTION_PERCENT", 10, minimum=0)
AIPS_ETP_REPEAT_FLOOR_PERCENT = env_int("AIPS_ETP_REPEAT_FLOOR_PERCENT", 50, minimum=0)
AIPS_ETP_REPEAT_AFTER_DAYS = env_int("AIPS_ETP_REPEAT_AFTER_DAYS", 7, minimum=0)
AIPS_ETP_DUTCH_SEALED_FINISH = env_bool("AIPS_ETP_DUTCH_SEALED_FINISH", False)
AIPS_ETP_BID_RATE = env_str("AIPS_ETP_BID_RATE", "1/s")
# Contracting (aips.etp.auctions.contracts): working days to sign the contract and to pay, and
# whether the lot is offered to the runner-up when the winner refuses or misses a deadline.
AIPS_ETP_CONTRACT_SIGN_DAYS = env_int("AIPS_ETP_CONTRACT_SIGN_DAYS", 5, minimum=1)
AIPS_ETP_PAYMENT_DAYS = env_int("AIPS_ETP_PAYMENT_DAYS", 10, minimum=1)
AIPS_ETP_RUNNER_UP_OFFER = env_bool("AIPS_ETP_RUNNER_UP_OFFER", True)
# Working days (the platform's calendar) to answer a question on a lot and a complaint.
AIPS_ETP_QUESTION_ANSWER_DAYS = env_int("AIPS_ETP_QUESTION_ANSWER_DAYS", 2, minimum=0)
AIPS_ETP_COMPLAINT_ANSWER_DAYS = env_int("AIPS_ETP_COMPLAINT_ANSWER_DAYS", 5, minimum=0)
# Hours a self-registered participant's e-mail confirmation link stays valid
# (aips.etp.participants), and how often a signed-in participant may ask for it again.
AIPS_ETP_EMAIL_CONFIRM_HOURS = env_int("AIPS_ETP_EMAIL_CONFIRM_HOURS", 48, minimum=1)
AIPS_ETP_EMAIL_CONFIRM_RESEND_RATE = env_str("AIPS_ETP_EMAIL_CONFIRM_RESEND_RATE", "3/h")
# The public API's budget per client IP ("count/s|m|h|d"), and how old a change must be before
# the public change feed serves it (so a change still committing is never skipped).
AIPS_ETP_PUBLIC_RATE = env_str("AIPS_ETP_PUBLIC_RATE", "120/m")
AIPS_ETP_FEED_SETTLE_SECONDS = env_int("AIPS_ETP_FEED_SETTLE_SECONDS", 5, minimum=0)
# The mobile application's API (aips.etp.devices, docs/mobile.md): the registered apps'
# client ids, the oldest version still served (below it: 426 update_required) and the newest
# (between the two: X-Update-Available), the attestation verifier (`fake`, refused with TLS;
# `refuse`, the default with TLS until a real one is plugged; `none`; or a class's dotted
# path), and how long a device's registration and a mobile session last.
AIPS_ETP_MOBILE_CLIENT_IDS = env_list("AIPS_ETP_MOBILE_CLIENT_IDS", ["kz.etp.mobile.demo"])
AIPS_ETP_MOBILE_MIN_VERSION = env_str("AIPS_ETP_MOBILE_MIN_VERSION", "1.0.0")
AIPS_ETP_MOBILE_LATEST_VERSION = env_str("AIPS_ETP_MOBILE_LATEST_VERSION", "1.0.0")
AIPS_ETP_ATTESTATION_VERIFIER = env_str(
    "AIPS_ETP_ATTESTATION_VERIFIER", "refuse" if HTTPS else "fake"
)
AIPS_ETP_MOBILE_DEVICE_DAYS = env_int("AIPS_ETP_MOBILE_DEVICE_DAYS", 180, minimum=1)
AIPS_ETP_MOBILE_SESSION_MINUTES = env_int("AIPS_ETP_MOBILE_SESSION_MINUTES", 30, minimum=1)
# The platform verifiers (devices/attestation_apple.py, attestation_android.py, decision 0043):
# the accepted apps, App Attest's environment, roots replacing the embedded Apple and Google ones
# (PEM files), Google's revocation status list as last downloaded, and StrongBox required.
AIPS_ETP_APPLE_APP_IDS = env_list("AIPS_ETP_APPLE_APP_IDS", [])
AIPS_ETP_APPLE_APP_ATTEST_ENVIRONMENT = env_choice(
    "AIPS_ETP_APPLE_APP_ATTEST_ENVIRONMENT", "production", ("production", "development")
)
AIPS_ETP_APPLE_ROOT_CA_FILE = env_str("AIPS_ETP_APPLE_ROOT_CA_FILE")
AIPS_ETP_ANDROID_PACKAGES = env_list("AIPS_ETP_ANDROID_PACKAGES", [])
AIPS_ETP_ANDROID_SIGNING_CERT_SHA256 = env_list("AIPS_ETP_ANDROID_SIGNING_CERT_SHA256", [])
AIPS_ETP_ANDROID_ROOTS_FILE = env_str("AIPS_ETP_ANDROID_ROOTS_FILE")
AIPS_ETP_ANDROID_STATUS_FILE = env_str("AIPS_ETP_ANDROID_STATUS_FILE")
AIPS_ETP_ANDROID_STRONGBOX_REQUIRED = env_bool("AIPS_ETP_ANDROID_STRONGBOX_REQUIRED", False)
# Play Integrity's verdicts decrypted here: the Play Console's two response keys (base64).
AIPS_ETP_PLAY_INTEGRITY_DECRYPTION_KEY = env_str("AIPS_ETP_PLAY_INTEGRITY_DECRYPTION_KEY")
AIPS_ETP_PLAY_INTEGRITY_VERIFICATION_KEY = env_str("AIPS_ETP_PLAY_INTEGRITY_VERIFICATION_KEY")

# Branding and the public contact block (R57.26.1). The templates in aips/etp/templates come
# first, so the ETP words the platform's partials its own way (the cyber-hygiene notice).
AIPS_SITE_NAME = _("ETP")
AIPS_SITE_TAGLINE = _(
    "Electronic trading platform for the assets of banks and microfinance organizations"
)
AIPS_SIGN_IN_TITLE = _("Sign in to the ETP")
AIPS_SITE_OWNER = _("Operator of the electronic trading platform")
AIPS_SITE_AUTHORITY = _(
    "Open electronic auctions of the assets of banks and microfinance organizations"
)
AIPS_SITE_ADDRESS_NOTE = _("The only official address of the ETP is https://%(domain)s")
AIPS_SITE_LOGO = "etp/logo.svg"
AIPS_SITE_STYLESHEET = "etp/etp.css"
# The platform's sentences in the ETP's words: the ETP and its operator where AIPS says AIPS and
# the center (the same keys as settings.py's AIPS_SITE_TEXTS).
AIPS_SITE_TEXTS = {
    "two_factors": _(
        "The ETP requires two factors for everyone. Scan this code with an authenticator app (for "
        "example FreeOTP, Aegis, Google or Microsoft Authenticator), then enter the 6-digit code "
        "it shows."
    ),
    "back_to_site": _("Back to the ETP"),
    "support_hint": _("If you need help, give this request id to the ETP operator's support:"),
    "internal_error": _("Internal error. Give the request id to the ETP operator's support."),
    "personal_data": _("To change your personal data, ask the ETP operator's administrators."),
    "no_biometrics": _(
        "Biometric identification is not available on this installation. Ask the ETP operator."
    ),
    "no_biometrics_password": _(
        "Biometric identification is not available on this installation, so the password cannot "
        "be changed here. Ask the ETP operator."
    ),
    "role_cross_tenant": _("This role belongs to the ETP operator's staff."),
    "role_tenant": _("This role belongs to a seller's or participant's staff, not the operator's."),
    "invitation_subject": _("ETP: your account"),
    "invitation_body": _(
        "An ETP account was created for you. Set your password within %(hours)d hours using this "
        "single-use link:\n\n%(link)s\n\nIf you did not expect this message, tell the ETP "
        "operator."
    ),
    "invitation_expired": _(
        "This link is not valid any more. Ask the ETP operator for a new invitation."
    ),
    "reset_subject": _("ETP: password reset"),
    "reset_body": _(
        "Someone asked to reset your ETP password. If it was you, open this link (valid for "
        "%(minutes)d min):\n\n%(link)s\n\nYou will still need your second factor to sign in. If it "
        "was not you, ignore this message and tell the ETP operator."
    ),
    "iin_taken": _(
        "This IIN is already bound to another account. If it is yours, contact the ETP operator."
    ),
    "notification_subject": _("ETP: a new notification"),
    "notification_withheld": _(
        "There is a new notification for you on the ETP. Sign in to read it:\n\n%(link)s"
    ),
    "notification_open": _("Open on the ETP: %(link)s"),
    "locked": _(
        "Too many failed attempts. Sign-in is paused for %(minutes)d min; if you need access "
        "sooner, contact the ETP operator."
    ),
    "checkpoint_subject": _("ETP audit journal: checkpoint at %(size)s entries"),
    "checkpoint_body": _(
        "Keep this message: these lines are signed checkpoints of the ETP audit journal. If the "
        "journal is ever rolled back or rewritten, `etp audit verify --anchor FILE` with these "
        "lines saved in FILE names the entries that changed."
    ),
    "eds_verify": _(
        "To verify with the ETP (checks the signature, the chain, validity and revocation at that "
        "moment):"
    ),
    "eds_verify_nca": _("or, against the NCA certificates configured in the ETP:"),
}
AIPS_CONTACT_PHONE = env_str("AIPS_ETP_CONTACT_PHONE", "+7 727 000 00 01")
AIPS_CONTACT_EMAIL = env_str("AIPS_ETP_CONTACT_EMAIL", "support@etp.example.kz")
AIPS_OFFICIAL_DOMAIN = env_str("AIPS_ETP_OFFICIAL_DOMAIN", "etp.example.kz")
TEMPLATES = copy.deepcopy(TEMPLATES)
TEMPLATES[0]["DIRS"] = [PACKAGE_DIR / "etp" / "templates"]
