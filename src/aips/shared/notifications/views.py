from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from aips.core.access import require
from aips.core.actors import acting
from aips.core.permissions import Perm
from aips.shared.notifications import selectors, services

PAGE_SIZE = 200


@require(Perm.DASHBOARD_VIEW)
@require_GET
def notification_list(request: HttpRequest) -> HttpResponse:
    """Everyone signed in: their own notifications, newest first."""
    items = list(selectors.notification_list(actor=request.user)[: PAGE_SIZE + 1])
    return render(
        request,
        "notifications/list.html",
        {
            "items": items[:PAGE_SIZE],
            "more": len(items) > PAGE_SIZE,
            "page_size": PAGE_SIZE,
        },
    )


@require(Perm.DASHBOARD_VIEW)
@require_POST
def notification_read(request: HttpRequest, pk: int) -> HttpResponse:
    """Mark one read; with `open`, go on to what it is about."""
    item = selectors.get_notification_for(request.user, pk)
    services.notification_mark_read(actor=acting(request), notification=item)
    if (
        request.POST.get("open")
        and item.link.startswith("/")
        and url_has_allowed_host_and_scheme(item.link, allowed_hosts=None)
    ):
        return redirect(item.link)
    return redirect("notifications:list")


@require(Perm.DASHBOARD_VIEW)
@require_POST
def notification_read_all(request: HttpRequest) -> HttpResponse:
    services.notification_mark_all_read(actor=acting(request))
    return redirect("notifications:list")
