"""The journal's Ed25519 signing key: a file outside the database (AIPS_AUDIT_KEY_FILE), created
on first use with mode 0600. Whoever can rewrite the database still cannot forge checkpoints."""

import base64
import os
from functools import lru_cache
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.conf import settings

from aips.shared.audit.models import AuditCheckpoint


def _key_path() -> Path:
    return Path(settings.AIPS_AUDIT_KEY_FILE)


@lru_cache(maxsize=4)
def _load(path: str) -> Ed25519PrivateKey:
    file = Path(path)
    if not file.exists():
        _refuse_a_new_key_for_a_signed_journal(file)
        file.parent.mkdir(parents=True, exist_ok=True)
        key = Ed25519PrivateKey.generate()
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        # O_EXCL: two processes starting at once must not each write a different key.
        try:
            fd = os.open(file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "wb") as handle:
                handle.write(pem)
    loaded = serialization.load_pem_private_key(file.read_bytes(), password=None)
    if not isinstance(loaded, Ed25519PrivateKey):
        raise ValueError(f"{file} is not an Ed25519 private key")
    return loaded


def private_key() -> Ed25519PrivateKey:
    return _load(str(_key_path()))


def public_key_b64() -> str:
    raw = (
        private_key()
        .public_key()
        .public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    )
    return base64.b64encode(raw).decode()


def sign(message: bytes) -> str:
    return base64.b64encode(private_key().sign(message)).decode()


def _refuse_a_new_key_for_a_signed_journal(file: Path) -> None:
    """A lost key file must be restored from backup, not silently replaced: a new key would make
    every earlier checkpoint look forged ("signed by an unknown key")."""
    from django.core.exceptions import ImproperlyConfigured

    if AuditCheckpoint.objects.exists():
        raise ImproperlyConfigured(
            f"the audit signing key {file} is missing but the journal already has signed "
            "checkpoints: restore the key file from backup (see docs/deployment.md)"
        )
