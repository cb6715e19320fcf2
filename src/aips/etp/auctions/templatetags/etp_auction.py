"""`{% lot_auction lot_id currency %}`: a lot's auction attempts on its public page (schedule,
state, a link to the live page). `{% auction_schedule_link lot %}`: on the lot's management
page, the auctioneer's button to schedule the procedure's auction (or a link to it)."""

from typing import Any

from django import template

from aips.core.access import has_perm
from aips.etp.applications import selectors as application_selectors
from aips.etp.auctions import selectors
from aips.etp.permissions import EtpPerm

register = template.Library()


@register.inclusion_tag("etp_auctions/_lot_auction.html")
def lot_auction(lot_id: int, currency: str) -> dict[str, Any]:
    """On the public lot page (the lot is already public there)."""
    return {"auctions": selectors.lot_auctions(lot_id), "currency": currency}


@register.inclusion_tag("etp_auctions/_schedule_link.html", takes_context=True)
def auction_schedule_link(context: template.Context, lot: Any) -> dict[str, Any]:
    request = context.get("request")
    user = getattr(request, "user", None)
    show = (
        user is not None
        and user.is_authenticated
        and has_perm(user, EtpPerm.AUCTION_RUN)
        and lot.state == "published"
        and application_selectors.procedure_of(lot.pk) is not None
    )
    auctions = selectors.lot_auctions(lot.pk) if show else []
    return {"show": show, "lot_id": lot.pk, "auction": auctions[0] if auctions else None}
