"""Who hears about a lot, and when (in-app and by e-mail):

| transition | notified |
|---|---|
| request_approval | the seller's authorised signatories |
| send_back | the lot's preparer (with the reason) |
| approve | the operator's lot verifiers |
| return | the lot's preparer and the seller's signatories (with the reason) |
| verify (published) | the lot's preparer and the seller's signatories |

Never the person who acted (people_to_tell leaves out the inactive and blocked)."""

from collections.abc import Callable

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from aips.etp.lots.models import Lot
from aips.etp.permissions import EtpRole
from aips.shared.accounts.models import User
from aips.shared.accounts.selectors import people_to_tell
from aips.shared.notifications.services import Text, notify


def _signatories(lot: Lot) -> list[User]:
    return people_to_tell(organization_id=lot.organization_id, role=EtpRole.SELLER_SIGNATORY)


def _preparer(lot: Lot) -> list[User]:
    return people_to_tell(pk=lot.created_by_id, organization_id=lot.organization_id)


def _verifiers() -> list[User]:
    return people_to_tell(organization__kind="operator", role=EtpRole.OPERATOR_VERIFIER)


_SUBJECTS = {
    "request_approval": _("Lot %(lot)s awaits your approval"),
    "send_back": _("Lot %(lot)s was sent back to you"),
    "approve": _("Lot %(lot)s awaits verification"),
    "return": _("Lot %(lot)s was returned by the operator"),
    "verify": _("Lot %(lot)s is published"),
}


def lot_transitioned(*, actor: User, lot: Lot, name: str, comment: str = "") -> None:
    recipients: Callable[[Lot], list[User]] | None = {
        "request_approval": _signatories,
        "send_back": _preparer,
        "approve": lambda lot: _verifiers(),
        "return": lambda lot: _preparer(lot) + _signatories(lot),
        "verify": lambda lot: _preparer(lot) + _signatories(lot),
    }.get(name)
    if recipients is None:
        return
    params = {"lot": lot.reference, "title": lot.title, "reason": comment.strip() or "—"}
    notify(
        users=[u for u in recipients(lot) if u.pk != actor.pk],
        kind=f"etp.lot.{name}",
        subject=Text(_SUBJECTS[name], params),
        text=Text(_("%(lot)s “%(title)s”. Reason, if given: %(reason)s"), params),
        link=reverse("etp_lots:detail", args=[lot.pk]),
        email=True,
        target=lot,
    )
