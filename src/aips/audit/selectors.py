"""Reads of the journal: for people through visible_to(); for verification and export, the whole
stream (operators only, from the command line)."""

from collections.abc import Iterator
from typing import Any

from django.http import Http404

from aips.audit.models import AuditCheckpoint, AuditEntry, AuditEvent, AuditEventQuerySet, AuditHead
from aips.audit.verifier import Checkpoint, Entry

CHUNK = 5000


def event_list(*, actor: Any) -> AuditEventQuerySet:
    return AuditEvent.objects.visible_to(actor).select_related("organization").order_by("-seq")


def get_event_for(actor: Any, seq: int) -> AuditEvent:
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
