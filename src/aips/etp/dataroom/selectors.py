"""Reads of the data room. Who may enter a lot's room (`entry_of`): the operator's people holding
`dataroom:view` (verifiers, admission officers, auditors), the lot's seller, and a participant
whose organization's application to the lot's procedure is admitted; the room opens to such a
participant only after its organization accepted the NDA. Anyone else gets 404 (`get_room_lot`),
as if the room did not exist. Only published and withdrawn lots have a room."""

from typing import Literal

from aips.core.actors import has_perm
from aips.core.errors import Conflict, NotFound
from aips.etp.applications.models import Application, ApplicationState
from aips.etp.dataroom.models import NdaAcceptance
from aips.etp.lots.models import PUBLIC_STATES, FilePurpose, Lot, LotFile, LotParty
from aips.etp.permissions import EtpPerm
from aips.shared.accounts.models import User

Entry = Literal["operator", "seller", "participant"]
ROOM_PURPOSES = (FilePurpose.DOCUMENT, FilePurpose.TAPE)


def entry_of(actor: User, lot: Lot) -> Entry | None:
    """How the actor enters the lot's room, or None when it may not."""
    if not actor.is_authenticated or not has_perm(actor, EtpPerm.DATAROOM_VIEW):
        return None
    if lot.state not in PUBLIC_STATES:
        return None
    if actor.is_center:
        return "operator"
    if actor.organization_id is None:
        return None
    if actor.organization_id == lot.organization_id:
        return "seller"
    admitted = Application.objects.filter(
        procedure__lot=lot,
        organization_id=actor.organization_id,
        state=ApplicationState.ADMITTED,
    ).exists()
    return "participant" if admitted else None


def get_room_lot(actor: User, pk: int) -> tuple[Lot, Entry]:
    """The lot whose room the actor may enter, and how; NotFound otherwise."""
    lot = Lot.objects.select_related("organization").filter(pk=pk).first()
    entry = entry_of(actor, lot) if lot is not None else None
    if lot is None or entry is None:
        raise NotFound()
    return lot, entry


def acceptance_of(actor: User, lot: Lot) -> NdaAcceptance | None:
    """The actor's organization's acceptance of the lot's NDA."""
    return (
        NdaAcceptance.objects.visible_to(actor)
        .filter(lot=lot, organization_id=actor.organization_id)
        .select_related("accepted_by")
        .first()
    )


def is_open_to(actor: User, lot: Lot, entry: Entry) -> bool:
    """The seller and the operator need no NDA; a participant needs its organization's."""
    return entry != "participant" or acceptance_of(actor, lot) is not None


def ensure_open(actor: User, lot: Lot, entry: Entry) -> None:
    if not is_open_to(actor, lot, entry):
        from django.utils.translation import gettext as _

        raise Conflict(_("Accept the non-disclosure agreement first."), code="nda_required")


def room_files(lot: Lot) -> list[LotFile]:
    """The lot's documents and loan tape (its photos are public anyway)."""
    return list(LotFile.objects.filter(lot=lot, purpose__in=ROOM_PURPOSES).order_by("id"))


def get_room_file(lot: Lot, file_id: int) -> LotFile:
    found = LotFile.objects.filter(lot=lot, pk=file_id, purpose__in=ROOM_PURPOSES).first()
    if found is None:
        raise NotFound()
    return found


def room_parties(lot: Lot) -> list[LotParty]:
    """The borrowers and guarantors (a claim's or every loan's of a portfolio's tape)."""
    return list(LotParty.objects.filter(lot=lot).order_by("id"))
