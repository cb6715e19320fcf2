from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from aips.core.access import public, require
from aips.core.actors import acting
from aips.core.permissions import Perm
from aips.etp.portal import selectors


@public
def catalogue(request: HttpRequest) -> HttpResponse:
    """The home page: what the ETP is and the published lots, for everyone, signed in or not."""
    return render(request, "etp_portal/catalogue.html", {"lots": selectors.published_lots()})


@require(Perm.DASHBOARD_VIEW)
def workspace(request: HttpRequest) -> HttpResponse:
    """Where a signed-in person lands: their role and what it does on the platform."""
    actor = acting(request)
    return render(
        request, "etp_portal/workspace.html", {"duties": selectors.role_duties(actor.role)}
    )
