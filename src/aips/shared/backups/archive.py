"""The archive: one file, `<product>-<UTC time>.aipsbackup`, holding an encrypted tar stream
(crypto.py) of the database dump (`database/…`), every file of every part (`files/<part>/…`) and,
last, `manifest.json`: the SHA-256 and size of each member, the row count of every table, the
applied migrations, the product and the time. Reading checks every member against the manifest,
and the encryption authenticates every byte, so a verified archive is exactly what was written.

Members are read and written as streams (a large dump never sits in memory) and extracted only
as regular files under their own names (no links, no absolute or `..` paths)."""

import hashlib
import io
import json
import os
import tarfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO, Any, BinaryIO, Final

from aips.shared.backups.crypto import CHUNK, BackupError, DecryptingReader, EncryptingWriter

MANIFEST: Final = "manifest.json"
SUFFIX: Final = ".aipsbackup"
_PREFIXES: Final = ("database/", "files/")


@dataclass(frozen=True)
class Member:
    name: str  # the name in the archive
    source: Path
    part: str = ""  # "" for the database
    path: str = ""  # the file's path inside its part ("" for a part that is one file)


class _Hashing:
    def __init__(self, source: BinaryIO) -> None:
        self.source = source
        self.digest = hashlib.sha256()
        self.size = 0

    def read(self, n: int = -1) -> bytes:
        data = self.source.read(n)
        self.digest.update(data)
        self.size += len(data)
        return data


def _info(name: str, size: int) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.size = size
    info.mode = 0o600
    return info


def write(out: Path, key: bytes, members: list[Member], manifest: dict[str, Any]) -> dict[str, Any]:
    """Write the archive to `out` (mode 0600, made whole before it gets its name, so a half-written
    archive never looks like a backup); returns the manifest with each member's hash."""
    partial = out.with_name(f".{out.name}.partial")
    entries: list[dict[str, Any]] = []
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "wb") as raw:
            writer = EncryptingWriter(raw, key)
            with (
                io.BufferedWriter(writer, CHUNK) as buffered,  # type: ignore[type-var]
                tarfile.open(fileobj=buffered, mode="w|", format=tarfile.PAX_FORMAT) as tar,
            ):
                for member in members:
                    try:
                        handle = member.source.open("rb")
                    except FileNotFoundError:
                        continue  # removed since it was listed (an expired archive segment)
                    with handle:
                        size = os.fstat(handle.fileno()).st_size
                        hashing = _Hashing(handle)
                        tar.addfile(_info(member.name, size), hashing)
                    entries.append(
                        {
                            "name": member.name,
                            "part": member.part,
                            "path": member.path,
                            "sha256": hashing.digest.hexdigest(),
                            "size": size,
                        }
                    )
                manifest = {**manifest, "members": entries}
                body = json.dumps(manifest, indent=1, sort_keys=True).encode()
                tar.addfile(_info(MANIFEST, len(body)), io.BytesIO(body))
            raw.flush()
            os.fsync(raw.fileno())
        partial.replace(out)
    finally:
        partial.unlink(missing_ok=True)
    return manifest


def _safe(name: str) -> PurePosixPath:
    path = PurePosixPath(name)
    if (
        path.is_absolute()
        or ".." in path.parts
        or not name.startswith(_PREFIXES)
        or len(path.parts) < 2
    ):
        raise BackupError(f"the archive holds an unexpected member {name!r}")
    return path


def read(archive: Path, key: bytes, *, extract_to: Path | None = None) -> dict[str, Any]:
    """Decrypt and check the whole archive (and extract its members under `extract_to`); returns
    the manifest, or raises BackupError naming what is wrong."""
    seen: dict[str, tuple[str, int]] = {}
    manifest: dict[str, Any] | None = None
    try:
        with archive.open("rb") as raw:
            reader = DecryptingReader(raw, key)
            buffered = io.BufferedReader(reader, CHUNK)
            with tarfile.open(fileobj=buffered, mode="r|") as tar:
                for info in tar:
                    if manifest is not None:
                        raise BackupError("the archive holds members after its manifest")
                    handle = tar.extractfile(info) if info.isreg() else None
                    if handle is None:
                        raise BackupError(f"the archive holds a non-file member {info.name!r}")
                    if info.name == MANIFEST:
                        manifest = json.loads(handle.read())
                        continue
                    name = _safe(info.name)
                    seen[info.name] = _copy(handle, extract_to, name)
            while buffered.read(CHUNK):  # authenticate the end of the stream too
                pass
    except (tarfile.TarError, json.JSONDecodeError, EOFError) as exc:
        raise BackupError(f"the archive is damaged ({exc})") from exc
    except OSError as exc:
        raise BackupError(f"the archive cannot be read ({exc})") from exc
    if manifest is None or not isinstance(manifest, dict) or "members" not in manifest:
        raise BackupError("the archive has no manifest")
    _compare(manifest, seen)
    return manifest


def _copy(handle: IO[bytes], extract_to: Path | None, name: PurePosixPath) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    out = None
    if extract_to is not None:
        target = extract_to.joinpath(*name.parts)
        target.parent.mkdir(parents=True, exist_ok=True)
        out = os.fdopen(os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb")
    try:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
            if out is not None:
                out.write(chunk)
    finally:
        if out is not None:
            out.close()
    return digest.hexdigest(), size


def _compare(manifest: dict[str, Any], seen: dict[str, tuple[str, int]]) -> None:
    problems = []
    listed = {entry["name"]: entry for entry in manifest["members"]}
    for name, entry in listed.items():
        got = seen.get(name)
        if got is None:
            problems.append(f"{name} is missing")
        elif got != (entry["sha256"], entry["size"]):
            problems.append(f"{name} does not match its SHA-256 in the manifest")
    problems += [f"{name} is not in the manifest" for name in seen if name not in listed]
    if problems:
        more = f" (and {len(problems) - 5} more)" if len(problems) > 5 else ""
        raise BackupError(
            "the archive does not match its manifest: " + "; ".join(problems[:5]) + more
        )
