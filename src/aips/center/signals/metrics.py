"""Signal ingest figures for /metrics (registered by SignalsConfig): a per-process counter of
items by outcome, counted as each batch is taken (`rate()` over it is the ingest rate), and the
current hour's totals from the rollups, right whichever process answers. Counts only: no
organization, module or indicator in any label."""

from collections.abc import Iterator
from datetime import timedelta

from django.db.models import Sum
from django.utils import timezone
from prometheus_client.core import GaugeMetricFamily, Metric

from aips.center.signals.models import SignalRollup
from aips.center.signals.selectors import counts_lag
from aips.core.metrics import process_counter

INGESTED = process_counter(
    "aips_signals_ingested",
    "Signal items taken by the ingest API, by outcome (accepted, duplicate, rejected).",
    ["outcome"],
)


def count_batch(*, accepted: int, duplicates: int, rejected: int) -> None:
    INGESTED.labels("accepted").inc(accepted)
    INGESTED.labels("duplicate").inc(duplicates)
    INGESTED.labels("rejected").inc(rejected)


def signal_metrics() -> Iterator[Metric]:
    # Buckets start on the hour: after now - 2 h are the current hour's and the previous one's.
    row = SignalRollup.objects.filter(bucket__gt=timezone.now() - timedelta(hours=2)).aggregate(
        accepted=Sum("accepted"), duplicates=Sum("duplicates"), rejected=Sum("rejected")
    )
    family = GaugeMetricFamily(
        "aips_signals_recent",
        "Signal items in the current and the previous hourly rollup, by outcome (all modules).",
        labels=["outcome"],
    )
    family.add_metric(["accepted"], int(row["accepted"] or 0))
    family.add_metric(["duplicate"], int(row["duplicates"] or 0))
    family.add_metric(["rejected"], int(row["rejected"] or 0))
    yield family
    lag = counts_lag()
    yield GaugeMetricFamily(
        "aips_signal_counts_behind_signals",
        "Signals stored but not yet counted in the sightings and rollups (the worker's job).",
        value=lag.signals,
    )
    yield GaugeMetricFamily(
        "aips_signal_counts_behind_seconds",
        "Age of the oldest signal not yet counted in the sightings and rollups (0 when current).",
        value=lag.seconds(timezone.now()),
    )
