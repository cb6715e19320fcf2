from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from aips.core.access import public, require
from aips.core.actors import acting
from aips.core.permissions import Perm
from aips.etp.lots.models import LotKind
from aips.etp.lots.selectors import catalogue_choices
from aips.etp.portal import selectors


@public
def catalogue(request: HttpRequest) -> HttpResponse:
    """The home page: what the ETP is and the public lots, for everyone, signed in or not, with
    the filters in the URL (a filtered catalogue is a link to share)."""
    found, filters = selectors.catalogue_page(request.GET)
    return render(
        request,
        "etp_portal/catalogue.html",
        {
            "lots": found.rows,
            "listing": found,
            "filters": filters,
            "kinds": LotKind.choices,
            "choices": catalogue_choices(),
        },
    )


@require(Perm.DASHBOARD_VIEW)
def workspace(request: HttpRequest) -> HttpResponse:
    """Where a signed-in person lands: their role and what it does on the platform."""
    actor = acting(request)
    return render(
        request, "etp_portal/workspace.html", {"duties": selectors.role_duties(actor.role)}
    )
