"""The bid chain (R57.17): each bid's hash covers its fields and the previous bid's hash.

    hash_n = SHA-256("aips-etp-bid/v1\\n" || canonical_json(fields_n, prev_hash = hash_{n-1}))

with hash_0 = 64 zeros, sequence numbers 1, 2, … without gaps, and the auction's row holding the
last hash and the count (so a removed last bid is caught too). The audit journal records the
head at the close (`auction:closed`), which its signed checkpoints then cover."""

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from aips.etp.auctions.models import ZERO_HASH, Auction, Bid
from aips.shared.eds.canonical import canonical_json

TAG = b"aips-etp-bid/v1\n"


def _at(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _money(value: Decimal) -> str:
    return f"{value:.2f}"


def fields(bid: Bid) -> dict[str, Any]:
    """The exact content a bid's hash covers."""
    return {
        "auction": bid.auction_id,
        "sequence": bid.sequence,
        "application": bid.application_id,
        "organization": bid.organization_id,
        "placed_by": bid.placed_by_id,
        "amount": _money(bid.amount),
        "seen_price": _money(bid.seen_price),
        "phase": bid.phase,
        "accepted": bool(bid.accepted),
        "refusal": bid.refusal,
        "at": _at(bid.at),
        "prev_hash": bid.prev_hash,
    }


def bid_hash(bid: Bid) -> str:
    return hashlib.sha256(TAG + canonical_json(fields(bid))).hexdigest()


@dataclass(frozen=True)
class Break:
    auction_id: int
    sequence: int  # the first bid that does not check (or the count after the last good one)
    reason: str

    def __str__(self) -> str:
        return f"auction {self.auction_id}: bid {self.sequence}: {self.reason}"


def verify_auction(auction: Auction) -> Break | None:
    """Recompute one auction's chain from its first bid; the first break, or None."""
    previous = ZERO_HASH
    expected = 0
    for bid in Bid.objects.filter(auction=auction).order_by("sequence").iterator():
        expected += 1
        if bid.sequence != expected:
            return Break(auction.pk, expected, "missing")
        if bid.prev_hash != previous:
            return Break(auction.pk, bid.sequence, "does not follow the bid before it")
        if bid_hash(bid) != bid.hash:
            return Break(auction.pk, bid.sequence, "content changed")
        previous = bid.hash
    if expected != auction.bid_count or previous != auction.head_hash:
        return Break(auction.pk, expected + 1, "the chain's head does not match the auction")
    return None


def verify_all() -> Iterator[tuple[Auction, Break | None]]:
    for auction in Auction.objects.order_by("pk").iterator():
        yield auction, verify_auction(auction)
