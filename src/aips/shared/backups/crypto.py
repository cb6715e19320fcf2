"""The archive's encryption: AES-256-GCM over a stream cut into chunks, with a key kept outside
the archive (`AIPS_BACKUP_KEY_FILE`). Without the key file an archive is opaque bytes.

Layout (docs/decisions/0048-backups-encrypted-archive-and-drills.md):

    header  = b"AIPSBAK1" | key id (8) | salt (16) | nonce prefix (7)          39 bytes
    chunk i = AES-256-GCM(file key, nonce = prefix | i (4, big-endian) | last (1),
                          plaintext of CHUNK bytes, or fewer for the last one,
                          associated data = header)                           + 16-byte tag

The file key is HKDF-SHA256(master key, salt, "aips-backup v1 data"): a fresh key per archive,
so nonces never repeat under one key. The counter in the nonce refuses reordered or dropped
chunks, the "last" byte a truncated stream, the header as associated data a changed header. The
key id (HKDF of the master key, "aips-backup v1 key id") names a wrong key before any decryption.
"""

import base64
import io
import os
import secrets
from pathlib import Path
from typing import BinaryIO, Final

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

MAGIC: Final = b"AIPSBAK1"
CHUNK: Final = 1024 * 1024
TAG: Final = 16
HEADER_SIZE: Final = len(MAGIC) + 8 + 16 + 7
KEY_BYTES: Final = 32


class BackupError(Exception):
    """An archive or a key that cannot be used: the message says what and why."""


def _hkdf(master: bytes, *, salt: bytes | None, info: bytes, length: int = 32) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=salt, info=info).derive(master)


def key_id(master: bytes) -> bytes:
    return _hkdf(master, salt=None, info=b"aips-backup v1 key id", length=8)


def create_key(path: Path) -> bytes:
    """Write a new random key (base64, mode 0600); never overwrites an existing file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_bytes(KEY_BYTES)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError as exc:
        raise BackupError(f"{path} exists; a backup key is never replaced") from exc
    with os.fdopen(fd, "w") as handle:
        handle.write(base64.b64encode(key).decode() + "\n")
    return key


def load_key(path: Path) -> bytes:
    try:
        raw = path.read_text().strip()
    except OSError as exc:
        raise BackupError(f"the backup key {path} cannot be read ({exc.strerror})") from exc
    try:
        key = base64.b64decode(raw, validate=True)
    except ValueError as exc:
        raise BackupError(f"the backup key {path} is not base64") from exc
    if len(key) != KEY_BYTES:
        raise BackupError(f"the backup key {path} is not {KEY_BYTES} bytes")
    return key


def _nonce(prefix: bytes, counter: int, last: bool) -> bytes:
    if counter >= 2**32:
        raise BackupError("archive too large for one stream")
    return prefix + counter.to_bytes(4, "big") + (b"\x01" if last else b"\x00")


class EncryptingWriter(io.RawIOBase):
    """A write-only stream: what is written goes out encrypted, chunk by chunk."""

    def __init__(self, out: BinaryIO, master: bytes) -> None:
        super().__init__()
        salt, prefix = secrets.token_bytes(16), secrets.token_bytes(7)
        self._header = MAGIC + key_id(master) + salt + prefix
        self._aead = AESGCM(_hkdf(master, salt=salt, info=b"aips-backup v1 data"))
        self._prefix = prefix
        self._out = out
        self._buffer = bytearray()
        self._counter = 0
        out.write(self._header)

    def writable(self) -> bool:
        return True

    def write(self, data: "bytes | bytearray | memoryview") -> int:  # type: ignore[override]
        self._buffer += data
        # Keep at least one byte back: the last chunk is written by close(), flagged as last.
        while len(self._buffer) > CHUNK:
            self._emit(bytes(self._buffer[:CHUNK]), last=False)
            del self._buffer[:CHUNK]
        return len(data)

    def _emit(self, plain: bytes, *, last: bool) -> None:
        nonce = _nonce(self._prefix, self._counter, last)
        self._out.write(self._aead.encrypt(nonce, plain, self._header))
        self._counter += 1

    def close(self) -> None:
        if not self.closed:
            self._emit(bytes(self._buffer), last=True)
            self._buffer.clear()
        super().close()


class DecryptingReader(io.RawIOBase):
    """A read-only stream of the plaintext; raises BackupError on a wrong key, a changed byte,
    a reordered, dropped or truncated chunk."""

    def __init__(self, source: BinaryIO, master: bytes) -> None:
        super().__init__()
        header = source.read(HEADER_SIZE)
        if len(header) != HEADER_SIZE or not header.startswith(MAGIC):
            raise BackupError("not a backup archive (unknown header)")
        their_id = header[len(MAGIC) : len(MAGIC) + 8]
        if their_id != key_id(master):
            raise BackupError(
                f"the archive was encrypted with another key (key id {their_id.hex()}, this "
                f"key's id {key_id(master).hex()})"
            )
        salt = header[len(MAGIC) + 8 : len(MAGIC) + 24]
        self._prefix = header[len(MAGIC) + 24 :]
        self._header = header
        self._aead = AESGCM(_hkdf(master, salt=salt, info=b"aips-backup v1 data"))
        self._source = source
        self._counter = 0
        self._pending = source.read(CHUNK + TAG)  # one chunk of look-ahead finds the last one
        self._plain = b""
        self._offset = 0
        self._done = False

    def readable(self) -> bool:
        return True

    def _next(self) -> None:
        current = self._pending
        self._pending = b"" if len(current) < CHUNK + TAG else self._source.read(CHUNK + TAG)
        last = not self._pending
        if len(current) < TAG:
            raise BackupError("the archive is truncated")
        try:
            self._plain = self._aead.decrypt(
                _nonce(self._prefix, self._counter, last), current, self._header
            )
        except InvalidTag as exc:
            raise BackupError(
                f"the archive was changed or truncated (chunk {self._counter} fails authentication)"
            ) from exc
        self._offset = 0
        self._counter += 1
        self._done = last

    def readinto(self, buffer: "bytearray | memoryview") -> int:  # type: ignore[override]
        while self._offset >= len(self._plain) and not self._done:
            self._next()
        n = min(len(buffer), len(self._plain) - self._offset)
        buffer[:n] = self._plain[self._offset : self._offset + n]
        self._offset += n
        return n
