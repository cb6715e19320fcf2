"""The person's own devices in the web: the list (what, when registered, last used) and the
revocation of a lost phone, whose token and sessions stop at once."""

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from aips.core.access import require
from aips.etp.devices import selectors, services
from aips.etp.permissions import EtpPerm
from aips.shared.accounts.sessions import acting_person


@require(EtpPerm.DEVICE_MANAGE)
@never_cache
def device_list(request: HttpRequest) -> HttpResponse:
    devices = selectors.device_list(acting_person(request))[:100]
    return render(request, "etp_devices/list.html", {"devices": devices})


@require(EtpPerm.DEVICE_MANAGE)
@require_POST
def device_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    actor = acting_person(request)
    services.device_revoke(actor=actor, device=selectors.get_device_for(actor, pk))
    messages.success(request, _("Device revoked: it can no longer sign in."))
    return redirect("etp_devices:list")
