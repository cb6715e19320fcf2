"""`{% lot_auction_results lot_id currency %}`: the signed protocols of a lot's auctions on its
public page (the lot is already public there): the winner as "Participant N", the price and the
protocol's JSON, PDF and CMS."""

import json
from typing import Any

from django import template

from aips.etp.auctions.models import Protocol

register = template.Library()


@register.inclusion_tag("etp_auctions/results/_public.html")
def lot_auction_results(lot_id: int, currency: str) -> dict[str, Any]:
    protocols = Protocol.objects.filter(
        auction__procedure__lot_id=lot_id, signature__isnull=False
    ).select_related("auction")
    items = []
    for signed in protocols.order_by("auction__attempt"):
        data = json.loads(bytes(signed.document))
        items.append(
            {
                "auction": signed.auction,
                "winner": data["winner"]["participant"],
                "amount": data["winner"]["amount"],
                "signed_at": signed.signed_at,
            }
        )
    return {"protocols": items, "currency": currency}
