from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from aips.center.patches import selectors
from aips.center.patches.models import DEADLINE_MONTHS
from aips.core.access import require
from aips.core.permissions import Perm


@require(Perm.PATCH_VIEW)
@require_GET
def report(request: HttpRequest) -> HttpResponse:
    """R57.13: what must be patched by when, from the last stored scan (no network needed)."""
    today = timezone.localdate()
    rows = selectors.patch_rows(actor=request.user, today=today)
    return render(
        request,
        "patches/report.html",
        {
            "scan": selectors.latest_scan(actor=request.user),
            "rows": rows,
            "overdue": sum(1 for r in rows if r.overdue),
            "resolved": selectors.recently_resolved(actor=request.user),
            "today": today,
            "months": DEADLINE_MONTHS,
        },
    )
