"""Reads of the journal: for people through visible_to(); for verification and export, the whole
stream (operators only, from the command line)."""

from collections.abc import Iterable, Iterator
from datetime import datetime

from django.apps import apps
from django.db.models import Model, Q
from django.http import Http404
from django.utils.text import capfirst

from aips.core.actors import Viewer
from aips.shared.audit.models import (
    AuditCheckpoint,
    AuditEntry,
    AuditEvent,
    AuditEventQuerySet,
    AuditHead,
)
from aips.shared.audit.verifier import Checkpoint, Entry

CHUNK = 5000


def event_list(*, actor: Viewer) -> AuditEventQuerySet:
    return AuditEvent.objects.visible_to(actor).select_related("organization").order_by("-seq")


def get_event_for(actor: Viewer, seq: int) -> AuditEvent:
    try:
        return AuditEvent.objects.visible_to(actor).get(seq=seq)
    except AuditEvent.DoesNotExist as exc:
        raise Http404 from exc


def journal_entries() -> Iterator[Entry]:
    """Every chain entry with its content where the content is still online, in order."""
    last = 0
    while True:
        chunk = list(AuditEntry.objects.filter(seq__gt=last).order_by("seq")[:CHUNK])
        if not chunk:
            return
        payloads = {
            e.seq: e.payload()
            for e in AuditEvent.objects.filter(seq__gte=chunk[0].seq, seq__lte=chunk[-1].seq)
        }
        for row in chunk:
            yield Entry(row.seq, row.leaf_hash, row.chain_hash, payloads.get(row.seq))
        last = chunk[-1].seq


def journal_checkpoints() -> list[Checkpoint]:
    return [
        Checkpoint(
            tree_size=c.tree_size,
            root_hash=c.root_hash,
            created_at=c.created_at,
            signature=c.signature,
            public_key=c.public_key,
        )
        for c in AuditCheckpoint.objects.order_by("tree_size", "id")
    ]


def head_seq() -> int:
    head = AuditHead.objects.filter(pk=1).first()
    return head.seq if head else 0


# --- the journal screen and its export (issue 4, item 5) --------------------------------------

# An export holds at most this many entries (the newest that match); the screen says so.
EXPORT_MAX_ROWS = 100_000
EXPORT_CHUNK = 1000


def event_search(
    *,
    actor: Viewer,
    actor_contains: str = "",
    organization_id: int | None = None,
    event: str = "",
    since: datetime | None = None,
    until: datetime | None = None,
    upto_seq: int | None = None,
) -> AuditEventQuerySet:
    """The journal as `actor` may see it, narrowed by the screen's filters, newest first.
    `since` is inclusive, `until` exclusive; `upto_seq` fixes an export's snapshot."""
    qs = event_list(actor=actor)
    if actor_contains:
        qs = qs.filter(
            Q(actor_label__icontains=actor_contains) | Q(actor__email__icontains=actor_contains)
        )
    if organization_id is not None:
        qs = qs.filter(organization_id=organization_id)
    if event:
        qs = qs.filter(event=event)
    if since is not None:
        qs = qs.filter(at__gte=since)
    if until is not None:
        qs = qs.filter(at__lt=until)
    if upto_seq is not None:
        qs = qs.filter(seq__lte=upto_seq)
    return qs


def event_page(
    queryset: AuditEventQuerySet, *, before: int | None, limit: int
) -> tuple[list[AuditEvent], int | None]:
    """Keyset page, newest first: the entries below `before` and the cursor for the next
    (older) page, or None on the last page."""
    qs = queryset.order_by("-seq")
    if before is not None:
        qs = qs.filter(seq__lt=before)
    rows = list(qs[: limit + 1])
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, (rows[-1].seq if more and rows else None)


def count_capped(queryset: AuditEventQuerySet, *, cap: int) -> int:
    """How many entries match, counting no further than `cap`."""
    return queryset.order_by()[:cap].count()


def export_rows(queryset: AuditEventQuerySet, *, limit: int) -> Iterator[AuditEvent]:
    """At most `limit` entries, newest first, fetched in keyset chunks so a long export never
    holds one huge result set in memory."""
    remaining = limit
    last: int | None = None
    while remaining > 0:
        qs = queryset.order_by("-seq")
        if last is not None:
            qs = qs.filter(seq__lt=last)
        chunk = list(qs[: min(EXPORT_CHUNK, remaining)])
        if not chunk:
            return
        yield from chunk
        remaining -= len(chunk)
        last = chunk[-1].seq


def chain_entry_for(event: AuditEvent) -> AuditEntry | None:
    """The leaf and chain hash of an entry the caller already obtained through visible_to()."""
    return AuditEntry.objects.filter(seq=event.seq).first()


def target_labels(entries: Iterable[AuditEvent]) -> dict[int, str]:
    """A reader's name for each entry's object, by `seq`: "Incident card INC-000012",
    "User maker@bank.kz", "Organization «Алатау Банк» АҚ", or the kind and number ("Notification
    #5") for objects with no such name or no longer present. One query per kind of object."""
    wanted: dict[str, set[str]] = {}
    listed = [e for e in entries if e.target_type]
    for entry in listed:
        wanted.setdefault(entry.target_type, set()).add(entry.target_id)
    names: dict[tuple[str, str], str] = {}
    kinds: dict[str, str] = {}
    for target_type, ids in wanted.items():
        try:
            model = apps.get_model(target_type)
        except (LookupError, ValueError):
            continue
        kinds[target_type] = capfirst(str(model._meta.verbose_name))
        numeric = [int(i) for i in ids if i.isascii() and i.isdigit() and len(i) <= 18]
        # The base manager: the journal names objects whatever their owners' tenancy rules.
        for pk, obj in model._base_manager.in_bulk(numeric).items():
            name = _object_name(obj)
            if name:
                names[(target_type, str(pk))] = name
    labels: dict[int, str] = {}
    for entry in listed:
        kind = kinds.get(entry.target_type)
        if kind is None:
            labels[entry.seq] = f"{entry.target_type} #{entry.target_id}"
            continue
        name = names.get((entry.target_type, entry.target_id)) or f"#{entry.target_id}"
        labels[entry.seq] = f"{kind} {name}"
    return labels


def _object_name(obj: Model) -> str:
    for attribute in ("reference", "email", "display_name"):
        value = getattr(obj, attribute, None)
        if isinstance(value, str) and value:
            return value
    return ""
