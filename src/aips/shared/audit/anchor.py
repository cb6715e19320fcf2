"""The journal's anchor outside the database (R57.17): every signed checkpoint is also appended to
a file the database cannot reach (AIPS_AUDIT_ANCHOR_FILE), with an RFC 9162 consistency proof
from the checkpoint anchored before it, and optionally shipped to witnesses (a syslog host, the
auditors' mailboxes). `aips audit verify` then checks the database against the anchor, so whoever
can rewrite the database (its owner, a superuser) can no longer roll back, truncate or rewrite
anything already anchored unseen. Only the entries since the newest anchored checkpoint remain
unprotected (docs/domains/audit.md, "The external anchor").

The database is the source and the file follows: a checkpoint is anchored after it committed (the
worker's `audit.anchor` job, `aips audit checkpoint`), so every anchored checkpoint is one the
database must hold. A run that dies before appending is caught up by the next one."""

import fcntl
import json
import os
import socket
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.utils import timezone

from aips.core.branding import site_text
from aips.core.db_locks import try_xact_lock
from aips.core.logging import get_logger
from aips.shared.audit import signing
from aips.shared.audit.models import AuditCheckpoint
from aips.shared.audit.services import leaf_hashes
from aips.shared.audit.verifier import (
    Anchor,
    TreeScan,
    anchor_text,
    checkpoint_message,
    consistency_ranges,
    parse_anchor,
    verify_consistency,
    verify_signature,
)

LOCK_NAME = "aips.shared.audit.anchor"
SYSLOG_TIMEOUT_SECONDS = 5
# RFC 5424 facility 13 ("log audit"), severity 5 (notice).
SYSLOG_PRIORITY = 13 * 8 + 5
# Lines per witness and run: a witness configured on an old installation catches up over a few
# runs instead of in one enormous message.
WITNESS_BATCH = 100
TAIL_BLOCK = 64 * 1024

log = get_logger("aips.shared.audit.anchor")


class AnchorError(RuntimeError):
    """The journal no longer extends the anchored checkpoint; nothing was anchored."""


def anchor_path() -> Path:
    return Path(settings.AIPS_AUDIT_ANCHOR_FILE)


def _state_path() -> Path:
    path = anchor_path()
    return path.with_name(path.name + ".witnessed")


# --- reading the file -------------------------------------------------------------------------


def _last_lines(path: Path, stop_at_or_below: int | None = None) -> list[Anchor]:
    """The anchors at the end of the file, newest last: only the last one, or with
    `stop_at_or_below` every one above that size. Reads backwards in blocks, so the cost does
    not grow with the file."""
    try:
        handle = path.open("rb")
    except FileNotFoundError:
        return []
    found: list[Anchor] = []
    with handle:
        end = handle.seek(0, os.SEEK_END)
        buffer = b""
        position = end
        while position > 0:
            step = min(TAIL_BLOCK, position)
            position -= step
            handle.seek(position)
            buffer = handle.read(step) + buffer
            lines = buffer.split(b"\n")
            # The first piece may be the end of a line that starts in an earlier block.
            buffer = lines[0] if position > 0 else b""
            pieces = lines[1:] if position > 0 else lines
            for raw in reversed(pieces):
                anchor = parse_anchor(raw.decode("utf-8", "replace"), 0) if raw.strip() else None
                if anchor is None:
                    continue
                if stop_at_or_below is None or anchor.tree_size <= stop_at_or_below:
                    if stop_at_or_below is None:
                        found.append(anchor)
                    return list(reversed(found))
                found.append(anchor)
    return list(reversed(found))


def last_anchor() -> Anchor | None:
    found = _last_lines(anchor_path())
    return found[-1] if found else None


# --- anchoring --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Anchored:
    tree_size: int
    previous_size: int
    line: str


@transaction.atomic
def anchor_pending() -> Anchored | None:
    """Append the newest signed checkpoint of the database to the anchor file, unless it is
    already there. Intermediate checkpoints are not needed: the consistency proof from the last
    anchored one covers them. Raises AnchorError (and appends nothing) when the journal's first
    entries no longer give the root already anchored."""
    if not try_xact_lock(LOCK_NAME):
        log.info("audit.anchor.busy")
        return None
    checkpoint = AuditCheckpoint.objects.order_by("-tree_size", "-id").first()
    if checkpoint is None:
        previous = last_anchor()
        if previous is not None:
            raise AnchorError(
                f"the database has no checkpoint but {previous.tree_size} entries are anchored: "
                "run `aips audit verify`"
            )
        return None
    path = anchor_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    # O_APPEND only: the process never needs to rewrite the file, so it can be chattr +a.
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
    try:
        # Other hosts' workers may share the file over a network filesystem, and SQLite has no
        # advisory lock: the file lock makes appends take turns whatever the database.
        fcntl.flock(fd, fcntl.LOCK_EX)
        previous = last_anchor()
        if previous is not None and previous.tree_size > checkpoint.tree_size:
            raise AnchorError(
                f"the database's newest checkpoint covers {checkpoint.tree_size} entries but "
                f"{previous.tree_size} are anchored: run `aips audit verify`"
            )
        if previous is not None and previous.tree_size == checkpoint.tree_size:
            return None
        text = _anchor_line(checkpoint, previous)
        needs_newline = _ends_without_newline(path)
        os.write(fd, (("\n" if needs_newline else "") + text + "\n").encode())
        os.fsync(fd)
    finally:
        os.close(fd)
    log.info(
        "audit.anchor.appended",
        tree_size=checkpoint.tree_size,
        previous_size=previous.tree_size if previous else 0,
    )
    return Anchored(checkpoint.tree_size, previous.tree_size if previous else 0, text)


def _ends_without_newline(path: Path) -> bool:
    # A line torn by a crash stays an unreadable line of its own instead of swallowing this one.
    with path.open("rb") as handle:
        size = handle.seek(0, os.SEEK_END)
        if size == 0:
            return False
        handle.seek(size - 1)
        return handle.read(1) != b"\n"


def _anchor_line(checkpoint: AuditCheckpoint, previous: Anchor | None) -> str:
    trusted = signing.public_key_b64()
    size, root = checkpoint.tree_size, bytes.fromhex(checkpoint.root_hash)
    if checkpoint.public_key != trusted or not verify_signature(
        trusted, checkpoint_message(size, root, checkpoint.created_at), checkpoint.signature
    ):
        raise AnchorError(f"the checkpoint at {size} is not signed by the journal's key")
    m = previous.tree_size if previous is not None else 0
    scan = TreeScan(sizes=[m, size] if m else [size], ranges=consistency_ranges(m, size))
    for leaf in leaf_hashes(size):
        scan.append(leaf)
    if scan.size != size or scan.roots[size] != root:
        raise AnchorError(f"the journal's first {size} entries do not give the signed root")
    proof = scan.proof(m, size) if m else []
    if previous is not None:
        first = bytes.fromhex(previous.root_hash)
        if scan.roots[m] != first or not verify_consistency(m, size, first, root, proof):
            raise AnchorError(
                f"the journal's first {m} entries no longer give the anchored root: "
                "run `aips audit verify`"
            )
    return anchor_text(
        Anchor(
            line=0,
            tree_size=size,
            root_hash=checkpoint.root_hash,
            created_at=checkpoint.created_at,
            public_key=checkpoint.public_key,
            signature=checkpoint.signature,
            previous_size=m,
            previous_root=previous.root_hash if previous is not None else "",
            consistency=[h.hex() for h in proof],
            previous_line_sha256=previous.digest if previous is not None else "",
            anchored_at=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        )
    )


# --- witnesses --------------------------------------------------------------------------------


def syslog_target(value: str) -> tuple[str, str, int] | None:
    """("udp"|"tcp", host, port) from "udp://host:port" or "tcp://host:port"; None if empty."""
    if not value:
        return None
    parts = urlsplit(value)
    try:
        port = parts.port
    except ValueError:
        port = None
    if parts.scheme not in ("udp", "tcp") or not parts.hostname or port is None or parts.path:
        raise ImproperlyConfigured(
            f"AIPS_AUDIT_WITNESS_SYSLOG must be udp://host:port or tcp://host:port, got {value!r}"
        )
    return parts.scheme, parts.hostname, port


def syslog_message(line: str, *, now: datetime | None = None) -> bytes:
    """RFC 5424: <PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID STRUCTURED-DATA MSG."""
    stamp = (now or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    host = (socket.gethostname() or "-").split(".")[0][:255] or "-"
    return f"<{SYSLOG_PRIORITY}>1 {stamp} {host} aips {os.getpid()} audit-anchor - {line}".encode()


def _send_syslog(target: tuple[str, str, int], lines: list[str]) -> None:
    scheme, host, port = target
    messages = [syslog_message(line) for line in lines]
    if scheme == "udp":
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.settimeout(SYSLOG_TIMEOUT_SECONDS)
            for message in messages:
                sock.sendto(message, (host, port))
        return
    # TCP with octet-counting framing (RFC 6587), so a line's length never matters.
    with socket.create_connection((host, port), timeout=SYSLOG_TIMEOUT_SECONDS) as sock:
        for message in messages:
            sock.sendall(f"{len(message)} ".encode() + message)


def _read_state() -> dict[str, Any]:
    try:
        value = json.loads(_state_path().read_bytes())
    except (OSError, ValueError):
        return {}
    return value if isinstance(value, dict) else {}


def _write_state(state: dict[str, Any]) -> None:
    path = _state_path()
    temporary = path.with_name(f".{path.name}.tmp")
    with temporary.open("w", encoding="utf-8") as handle:
        json.dump(state, handle, sort_keys=True)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)


def _pending(done: int) -> list[Anchor]:
    return _last_lines(anchor_path(), stop_at_or_below=done)[:WITNESS_BATCH]


def _lines_of(anchors: list[Anchor]) -> list[str]:
    return [anchor_text(a) for a in anchors]


@transaction.atomic
def witness_pending(*, now: datetime | None = None) -> dict[str, int]:
    """Ship every anchor line a witness has not had yet, oldest first; returns how many lines
    each witness got. The state file beside the anchor remembers the last size each witness
    received, so a witness that is down gets everything it missed on a later run (at least
    once: a crash between sending and noting may send a line twice)."""
    now = now or timezone.now()
    state = _read_state()
    sent: dict[str, int] = {}
    target = syslog_target(settings.AIPS_AUDIT_WITNESS_SYSLOG)
    if target is not None:
        pending = _pending(int(state.get("syslog", 0)))
        if pending:
            try:
                _send_syslog(target, _lines_of(pending))
            except OSError as exc:
                log.warning("audit.anchor.syslog_failed", error=str(exc)[:200])
            else:
                state["syslog"] = pending[-1].tree_size
                _write_state(state)
                sent["syslog"] = len(pending)
    addresses = list(settings.AIPS_AUDIT_WITNESS_EMAILS)
    if addresses and _mail_due(state, now):
        pending = _pending(int(state.get("email", 0)))
        if pending:
            _enqueue_mail(addresses, pending)
            noted = dict(state, email=pending[-1].tree_size, email_at=now.timestamp())
            # Noted once the outbox rows are committed; the outbox then retries delivery.
            transaction.on_commit(lambda: _write_state(_merge(noted)))
            sent["email"] = len(pending)
    return sent


def _merge(noted: dict[str, Any]) -> dict[str, Any]:
    state = _read_state()
    state["email"] = noted["email"]
    state["email_at"] = noted["email_at"]
    return state


def _mail_due(state: dict[str, Any], now: datetime) -> bool:
    last = float(state.get("email_at", 0) or 0)
    return now.timestamp() - last >= settings.AIPS_AUDIT_WITNESS_EMAIL_MINUTES * 60


# How a witness e-mail is queued: the outbox belongs to notifications, which sits on top of the
# journal (it records its own events here), so it plugs its `enqueue_mail` in from
# NotificationsConfig.ready() instead of audit importing it.
Mailer = Callable[..., object]
_mailer: list[Mailer] = []


def set_witness_mailer(mailer: Mailer) -> None:
    _mailer[:] = [mailer]


def _enqueue_mail(addresses: list[str], anchors: list[Anchor]) -> None:
    if not _mailer:
        raise RuntimeError(
            "no outbox for the e-mail witness (aips.shared.notifications is not installed)"
        )
    enqueue_mail = _mailer[0]
    newest = anchors[-1]
    subject = site_text("checkpoint_subject") % {"size": newest.tree_size}
    body = "\n".join(
        [
            site_text("checkpoint_body"),
            "",
            *_lines_of(anchors),
            "",
        ]
    )
    for address in addresses:
        enqueue_mail(to=address, subject=subject, body=body)
