"""`{% lot_dataroom lot_id %}`: a link to the lot's data room for those who may enter it (an
admitted participant, the seller, the operator's readers); nothing for anyone else."""

from typing import Any

from django import template

from aips.etp.dataroom import selectors
from aips.etp.lots.models import Lot
from aips.shared.accounts.models import User

register = template.Library()


@register.inclusion_tag("etp_dataroom/_link.html", takes_context=True)
def lot_dataroom(context: dict[str, Any], lot_id: int) -> dict[str, Any]:
    request = context.get("request")
    user = getattr(request, "user", None)
    if not isinstance(user, User) or not user.is_authenticated:
        return {"lot_id": None}
    lot = Lot.objects.filter(pk=lot_id).first()
    if lot is None or selectors.entry_of(user, lot) is None:
        return {"lot_id": None}
    return {"lot_id": lot_id}
