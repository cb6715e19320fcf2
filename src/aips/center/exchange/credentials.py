"""Partners' credentials at rest. AIPS's own secrets are kept as SHA-256 hashes (decision 0010)
because AIPS only checks them; a partner's password or token must be sent back to the partner,
so it is kept encrypted instead (Fernet: AES-128-CBC with HMAC-SHA256), under a key derived
from `SECRET_KEY` by HKDF with a label of its own. A database dump alone does not reveal it;
rotating `SECRET_KEY` means entering the partners' credentials again."""

import base64

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.utils.translation import gettext as _

_LABEL = b"aips.exchange.partner-credential.v1"


def _fernet() -> Fernet:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_LABEL).derive(
        str(settings.SECRET_KEY).encode()
    )
    return Fernet(base64.urlsafe_b64encode(key))


def seal(secret: str) -> str:
    return _fernet().encrypt(secret.encode()).decode("ascii") if secret else ""


def unseal(sealed: str) -> str:
    """The credential, or "" when none is kept. Raises ValueError when it cannot be read (the
    key changed): the poll fails and says to enter the credential again."""
    if not sealed:
        return ""
    try:
        return _fernet().decrypt(sealed.encode("ascii")).decode()
    except InvalidToken as exc:
        raise ValueError(
            _("The stored credential cannot be read (the secret key changed); enter it again.")
        ) from exc


def hint(secret: str) -> str:
    """What the page shows of a credential: its length class and last characters, never more
    than a quarter of it."""
    if not secret:
        return ""
    shown = min(4, len(secret) // 4)
    return "…" + secret[-shown:] if shown else "…"
