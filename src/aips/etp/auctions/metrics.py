"""Auction timers for /metrics (registered by EtpAuctionsConfig): how many auctions are scheduled
and running, how soon the next running one ends, and how late the server's clock is in closing
those past their end. Counts and seconds only: no lot, seller or bidder in any label."""

from collections.abc import Iterator

from django.db.models import Count, Min, Q
from prometheus_client.core import GaugeMetricFamily, Metric

from aips.etp.auctions import clock
from aips.etp.auctions.models import Auction, AuctionState

_OPEN = (AuctionState.SCHEDULED, AuctionState.RUNNING)


def auction_metrics() -> Iterator[Metric]:
    now = clock.now()  # the server's clock that moves the auctions
    running = Q(state=AuctionState.RUNNING)
    row = Auction.objects.filter(state__in=_OPEN).aggregate(
        scheduled=Count("id", filter=Q(state=AuctionState.SCHEDULED)),
        running=Count("id", filter=running),
        next_end=Min("ends_at", filter=running & Q(ends_at__gt=now)),
        overdue_end=Min("ends_at", filter=running & Q(ends_at__lte=now)),
        late_start=Min("starts_at", filter=Q(state=AuctionState.SCHEDULED, starts_at__lte=now)),
    )
    auctions = GaugeMetricFamily(
        "aips_etp_auctions", "Auctions not yet over, by state.", labels=["state"]
    )
    auctions.add_metric(["scheduled"], row["scheduled"])
    auctions.add_metric(["running"], row["running"])
    yield auctions
    next_end = GaugeMetricFamily(
        "aips_etp_auction_next_end_seconds",
        "Seconds until the next running auction ends (absent when none runs).",
    )
    if row["next_end"] is not None:
        next_end.add_metric([], (row["next_end"] - now).total_seconds())
    yield next_end
    close_lag = GaugeMetricFamily(
        "aips_etp_auction_close_lag_seconds",
        "Seconds the oldest running auction is past its end without being closed (0 = none).",
    )
    late = (now - row["overdue_end"]).total_seconds() if row["overdue_end"] else 0.0
    close_lag.add_metric([], max(0.0, late))
    yield close_lag
    start_lag = GaugeMetricFamily(
        "aips_etp_auction_start_lag_seconds",
        "Seconds the oldest scheduled auction is past its start without running (0 = none).",
    )
    late = (now - row["late_start"]).total_seconds() if row["late_start"] else 0.0
    start_lag.add_metric([], max(0.0, late))
    yield start_lag
