"""Signal counts per integration module, from the hourly rollups: the source that
aips.center.integrations' health pages read (registered by SignalsConfig). The rollups are read by
module id, not through their own visible_to(): who may see a module (auditors too) may see its
counts, which carry no signal content."""

from datetime import datetime

from django.db.models import Q, Sum

from aips.center.integrations.traffic import TrafficSource
from aips.center.signals.models import SignalRollup


def per_module(
    module_ids: list[int], start_1h: datetime, start_24h: datetime
) -> dict[int, dict[str, int]]:
    rows = (
        SignalRollup.objects.filter(module_id__in=module_ids, bucket__gte=start_24h)
        .values("module_id")
        .annotate(
            accepted_24h=Sum("accepted"),
            rejected_24h=Sum("rejected"),
            duplicates_24h=Sum("duplicates"),
            accepted_1h=Sum("accepted", filter=Q(bucket__gte=start_1h)),
            rejected_1h=Sum("rejected", filter=Q(bucket__gte=start_1h)),
        )
    )
    counts: dict[int, dict[str, int]] = {
        row["module_id"]: {
            "accepted_1h": int(row["accepted_1h"] or 0),
            "rejected_1h": int(row["rejected_1h"] or 0),
            "accepted_24h": int(row["accepted_24h"] or 0),
            "rejected_24h": int(row["rejected_24h"] or 0),
            "duplicates_24h": int(row["duplicates_24h"] or 0),
        }
        for row in rows
    }
    return counts


def per_hour(module_id: int, start: datetime) -> dict[datetime, tuple[int, int, int]]:
    rows = (
        SignalRollup.objects.filter(module_id=module_id, bucket__gte=start)
        .values("bucket")
        .annotate(a=Sum("accepted"), r=Sum("rejected"), d=Sum("duplicates"))
    )
    return {
        row["bucket"]: (int(row["a"] or 0), int(row["r"] or 0), int(row["d"] or 0)) for row in rows
    }


SOURCE = TrafficSource(per_module=per_module, per_hour=per_hour)
