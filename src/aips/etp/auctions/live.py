"""The live view's change signal: when a transaction that changed an auction commits, a
PostgreSQL NOTIFY on the channel `etp_auction` with `<auction id>:<sequence>`, which the
server-sent events server (auctions/sse.py, `etp live`) fans out to the auction's open pages.
The sequence (the bid chain's length at the change) only names the change: the servers read the
state anew for it.
On SQLite nothing is sent: the live page polls the state API there."""

from django.db import connection

from aips.etp.auctions.models import Auction

CHANNEL = "etp_auction"


def _notify(auction_id: int, sequence: int) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_notify(%s, %s)", [CHANNEL, f"{auction_id}:{sequence}"])


def changed(auction: Auction) -> None:
    """The auction's public state changed (a bid, a start, a round, a close): tell the live
    servers once the change is committed. A rolled-back change tells no one."""
    if connection.vendor != "postgresql":
        return
    # NOTIFY is transactional: PostgreSQL sends it when the change commits and drops it when
    # the change rolls back, so it goes out in the change's own transaction (no second one).
    _notify(auction.pk, auction.bid_count)


def parse(payload: str) -> tuple[int, int] | None:
    """`<auction id>:<sequence>` back into numbers; None for anything else."""
    head, _, tail = payload.partition(":")
    if not head.isdigit() or not tail.isdigit():
        return None
    return int(head), int(tail)


def live_events_url(auction_id: int) -> str:
    """The auction's event stream for its live page, or "" when no live server is configured
    (AIPS_ETP_LIVE_URL) or the database is not PostgreSQL: the page polls then."""
    from django.conf import settings
    from django.utils.translation import get_language

    base = str(getattr(settings, "AIPS_ETP_LIVE_URL", ""))
    if not base or connection.vendor != "postgresql":
        return ""
    return f"{base}/auctions/{auction_id}/events?lang={get_language() or settings.LANGUAGE_CODE}"
