"""Writes of the public change feed (`LotChange`, read by `selectors.public_feed` and
`GET /api/v1/public/feed`). Every entry is appended by the service that makes the change, in
that change's own transaction, so a change that rolls back leaves no entry and one that commits
cannot lose it.

An entry names the lot, the kind and, in `data`, only public figures: dates, prices, counts, an
outcome's reason. Never a person, a participant (not even "Participant N"), an application, a
debtor or a party of a claim: `append` refuses a key outside `PUBLIC_KEYS`, so a careless caller
fails loudly in its tests instead of publishing an identity.

The lots' own kinds (`published`, `corrected`, `withdrawn`) carry no data; the procedure's
announcement (`scheduled`) is written here, the auctions' kinds by `auctions/live_notices.py`."""

from datetime import UTC, datetime
from decimal import Decimal
from typing import Protocol

from aips.etp.lots.models import Lot, LotChange, LotChangeKind

# Every key a feed entry's `data` may carry (values: ISO times, amounts as strings to the tiyn,
# small integers, codes).
PUBLIC_KEYS = frozenset(
    {
        "procedure_id",
        "auction_kind",
        "application_deadline",
        "auction_start",
        "deposit_percent",
        "deposit_amount",
        "currency",
        "auction_id",
        "attempt",
        "repeat_of",
        "rule",
        "starts_at",
        "ends_at",
        "start_price",
        "min_step",
        "floor_price",
        "extension_minutes",
        "participants",
        "bids",
        "winning_amount",
        "closed_at",
        "reason",
    }
)

FeedValue = str | int | None


def _public(data: dict[str, FeedValue]) -> dict[str, FeedValue]:
    unknown = set(data) - PUBLIC_KEYS
    if unknown:
        raise ValueError(f"not a public feed figure: {sorted(unknown)}")
    return data


def append(
    *, lot: Lot | int, kind: LotChangeKind, data: dict[str, FeedValue] | None = None
) -> LotChange:
    """One feed entry, in the caller's transaction (call it from inside the change's service)."""
    lot_id = lot if isinstance(lot, int) else lot.pk
    change: LotChange = LotChange.objects.create(
        lot_id=lot_id, kind=kind, data=_public(dict(data or {}))
    )
    return change


def iso(moment: datetime) -> str:
    """A moment in UTC, ISO 8601: one spelling whatever zone the moment came in."""
    return moment.astimezone(UTC).isoformat()


def money(amount: Decimal) -> str:
    return f"{amount:.2f}"


class AnnouncedProcedure(Protocol):
    """What the feed reads of a procedure (applications.models.Procedure)."""

    pk: int
    lot: Lot
    kind: str
    application_deadline: datetime
    auction_start: datetime
    deposit_percent: Decimal
    deposit_amount: Decimal


def procedure_announced(procedure: AnnouncedProcedure) -> LotChange:
    """`scheduled`: the procedure is announced with its deadline, auction start and deposit."""
    lot = procedure.lot
    return append(
        lot=lot,
        kind=LotChangeKind.SCHEDULED,
        data={
            "procedure_id": procedure.pk,
            "auction_kind": procedure.kind,
            "application_deadline": iso(procedure.application_deadline),
            "auction_start": iso(procedure.auction_start),
            "deposit_percent": f"{procedure.deposit_percent:.2f}",
            "deposit_amount": money(procedure.deposit_amount),
            "currency": lot.currency,
        },
    )
