"""Appending to the journal and sealing it with signed checkpoints (R57.17)."""

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from django.db import models, transaction
from django.db.models import GenericIPAddressField
from django.utils import timezone

from aips.core import request_context
from aips.core.access import ensure_perm
from aips.core.actors import Actor
from aips.core.permissions import Perm
from aips.shared.audit import signing
from aips.shared.audit.models import AuditCheckpoint, AuditEntry, AuditEvent, AuditHead, EventType
from aips.shared.audit.verifier import (
    MerkleBuilder,
    chain_next,
    checkpoint_message,
    leaf_hash,
)


def _actor_kind(actor: Actor | None) -> str:
    if isinstance(actor, models.Model):
        return "user"
    if actor is None:
        return "anonymous"
    return str(getattr(actor, "actor_kind", "system"))


def record(
    *,
    actor: Actor | None,
    event: EventType,
    target: models.Model | None = None,
    organization_id: int | None = None,
    details: dict[str, Any] | None = None,
    actor_label: str = "",
) -> AuditEvent:
    """Append one entry. Callers are service functions already inside their transaction, so the
    entry commits or rolls back with the change it describes; the head row's lock makes writers
    take turns, which keeps the sequence gap-free and the chain linear."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("audit.record must run inside the service's transaction")
    head, _created = AuditHead.objects.select_for_update().get_or_create(pk=1)
    ctx = request_context.current()
    # Hash the address exactly as the database will give it back (Django normalizes IPv6).
    ip = GenericIPAddressField().to_python(ctx.ip) if ctx and ctx.ip else None
    entry = AuditEvent(
        seq=head.seq + 1,
        # Truncated to microseconds in UTC so the database gives back exactly what was hashed.
        at=timezone.now().astimezone(UTC),
        event=str(event),
        actor_kind=_actor_kind(actor),
        actor_id=actor.pk if isinstance(actor, models.Model) else None,
        actor_label=(actor_label or str(getattr(actor, "email", "") or "anonymous"))[:255],
        organization_id=organization_id,
        target_type=target._meta.label_lower if target is not None else "",
        target_id=str(target.pk) if target is not None else "",
        ip=ip,
        user_agent=ctx.user_agent if ctx else "",
        request_id=ctx.request_id if ctx else "",
        details=details or {},
    )
    leaf = leaf_hash(entry.payload())
    chain = chain_next(bytes.fromhex(head.chain_hash), leaf)
    entry.save(force_insert=True)
    AuditEntry.objects.create(seq=entry.seq, leaf_hash=leaf.hex(), chain_hash=chain.hex())
    AuditHead.objects.filter(pk=1).update(seq=entry.seq, chain_hash=chain.hex())
    return entry


def leaf_hashes(upto: int) -> Iterator[bytes]:
    for value in (
        AuditEntry.objects.filter(seq__lte=upto).order_by("seq").values_list("leaf_hash", flat=True)
    ).iterator(chunk_size=5000):
        yield bytes.fromhex(value)


@transaction.atomic
def checkpoint_create() -> AuditCheckpoint | None:
    """Sign the Merkle tree head of the whole journal, unless nothing was added since the last."""
    head = AuditHead.objects.filter(pk=1).first()
    if head is None or head.seq == 0:
        return None
    last = AuditCheckpoint.objects.order_by("-tree_size").first()
    if last is not None and last.tree_size >= head.seq:
        return None
    builder = MerkleBuilder()
    for leaf in leaf_hashes(head.seq):
        builder.append(leaf)
    root = builder.root()
    created_at = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return AuditCheckpoint.objects.create(
        tree_size=head.seq,
        root_hash=root.hex(),
        created_at=created_at,
        public_key=signing.public_key_b64(),
        signature=signing.sign(checkpoint_message(head.seq, root, created_at)),
    )


EXPORT_FORMATS = ("csv", "jsonl")


@transaction.atomic
def export_recorded(
    *,
    actor: Actor,
    filters: dict[str, Any],
    export_format: str,
    upto_seq: int,
    rows: int,
    truncated: bool,
) -> AuditEvent:
    """Record an export of the journal before a single row leaves the server, in its own
    transaction, so even an export interrupted mid-download is on the record. `filters` must be
    JSON-safe (strings, integers, None); `upto_seq` is the snapshot the export covers."""
    ensure_perm(actor, Perm.AUDIT_EXPORT)
    if export_format not in EXPORT_FORMATS:
        raise ValueError(f"unknown export format {export_format!r}")
    return record(
        actor=actor,
        event=EventType.AUDIT_EXPORTED,
        organization_id=getattr(actor, "organization_id", None),
        details={
            "format": export_format,
            "filters": filters,
            "upto_seq": upto_seq,
            "rows": rows,
            "truncated": truncated,
        },
    )
