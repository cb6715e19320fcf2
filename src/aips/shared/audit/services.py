"""Appending to the journal and sealing it with signed checkpoints (R57.17)."""

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
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

_IP_FIELD = GenericIPAddressField()


def _actor_kind(actor: Actor | None) -> str:
    if isinstance(actor, models.Model):
        return "user"
    if actor is None:
        return "anonymous"
    return str(getattr(actor, "actor_kind", "system"))


@dataclass(frozen=True, slots=True)
class NewEvent:
    """One entry for `record_many`: the same arguments `record` takes."""

    actor: Actor | None
    event: EventType
    target: models.Model | None = None
    organization_id: int | None = None
    details: dict[str, Any] | None = None
    actor_label: str = ""


def _require_transaction(name: str) -> None:
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError(f"audit.{name} must run inside the service's transaction")


def _locked_head() -> AuditHead:
    """The head row, locked until the caller's transaction ends: writers take turns."""
    head, _created = AuditHead.objects.select_for_update().get_or_create(pk=1)
    return head


def _ip(ctx: request_context.RequestContext | None) -> str | None:
    # Hash the address exactly as the database will give it back (Django normalizes IPv6).
    return _IP_FIELD.to_python(ctx.ip) if ctx and ctx.ip else None


def _entry(
    seq: int, new: NewEvent, ctx: request_context.RequestContext | None, ip: str | None
) -> AuditEvent:
    actor = new.actor
    target = new.target
    return AuditEvent(
        seq=seq,
        # Truncated to microseconds in UTC so the database gives back exactly what was hashed.
        at=timezone.now().astimezone(UTC),
        event=str(new.event),
        actor_kind=_actor_kind(actor),
        actor_id=actor.pk if isinstance(actor, models.Model) else None,
        actor_label=(new.actor_label or str(getattr(actor, "email", "") or "anonymous"))[:255],
        organization_id=new.organization_id,
        target_type=target._meta.label_lower if target is not None else "",
        target_id=str(target.pk) if target is not None else "",
        ip=ip,
        user_agent=ctx.user_agent if ctx else "",
        request_id=ctx.request_id if ctx else "",
        details=new.details or {},
    )


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
    _require_transaction("record")
    head = _locked_head()
    new = NewEvent(actor, event, target, organization_id, details, actor_label)
    ctx = request_context.current()
    entry = _entry(head.seq + 1, new, ctx, _ip(ctx))
    leaf = leaf_hash(entry.payload())
    chain = chain_next(bytes.fromhex(head.chain_hash), leaf)
    entry.save(force_insert=True)
    AuditEntry.objects.create(seq=entry.seq, leaf_hash=leaf.hex(), chain_hash=chain.hex())
    AuditHead.objects.filter(pk=1).update(seq=entry.seq, chain_hash=chain.hex())
    return entry


def record_many(events: Iterable[NewEvent]) -> list[AuditEvent]:
    """Append several entries, in the given order, as one writer's turn: the head row is locked
    once, the chain of the whole batch is computed here, the rows go in by bulk inserts and the
    head moves once. The rows and hashes are exactly those of one `record` call per event, in
    the same order (the verifier cannot tell the two apart); like `record`, it runs inside the
    caller's transaction and commits or rolls back with it. An empty batch touches nothing."""
    _require_transaction("record_many")
    batch = list(events)
    if not batch:
        return []
    head = _locked_head()
    ctx = request_context.current()
    ip = _ip(ctx)
    previous = bytes.fromhex(head.chain_hash)
    entries: list[AuditEvent] = []
    chain_rows: list[AuditEntry] = []
    for seq, new in enumerate(batch, start=head.seq + 1):
        entry = _entry(seq, new, ctx, ip)
        leaf = leaf_hash(entry.payload())
        previous = chain_next(previous, leaf)
        entries.append(entry)
        chain_rows.append(AuditEntry(seq=seq, leaf_hash=leaf.hex(), chain_hash=previous.hex()))
    _insert(AuditEvent, _ADAPTED_EVENT_FIELDS, entries)
    _insert(AuditEntry, frozenset(), chain_rows)
    AuditHead.objects.filter(pk=1).update(seq=entries[-1].seq, chain_hash=previous.hex())
    return entries


# The columns whose Python value the database driver cannot take as it is; each goes through its
# field's own `get_db_prep_save`, the rest (integers, strings, None) are passed unchanged.
_ADAPTED_EVENT_FIELDS = frozenset({"at", "ip", "details"})


def _insert(model: type[models.Model], adapted: frozenset[str], rows: list[Any]) -> None:
    """`bulk_create` of journal rows without the ORM's per-value compilation, which costs more
    than everything else in `record_many` (hashing included): the values are those `bulk_create`
    would send, the statement one COPY on PostgreSQL and one prepared INSERT run for every row
    on SQLite. The append-only triggers guard UPDATE and DELETE only, so both are plain inserts
    for them, and COPY needs no right beyond INSERT."""
    connection = transaction.get_connection()
    fields = model._meta.concrete_fields
    prepare = [(f.attname, f if f.name in adapted else None) for f in fields]
    values = [
        tuple(
            field.get_db_prep_save(getattr(row, name), connection)
            if field is not None
            else getattr(row, name)
            for name, field in prepare
        )
        for row in rows
    ]
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    columns = ", ".join(quote(f.column) for f in fields)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for row in values:
                    copy.write_row(row)
        else:
            placeholders = ", ".join(["%s"] * len(fields))
            cursor.executemany(
                f"INSERT INTO {table} ({columns}) VALUES ({placeholders})",  # noqa: S608
                values,
            )


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
