"""The data room over the API: the NDA's text, its acceptance, and the room's content (files,
agreement, parties) once open. Whoever may not enter gets 404; an admitted participant before
the NDA gets 409 `nda_required`. Files are downloaded, stamped, from the room's page."""

from datetime import date, datetime
from typing import Any, Literal

from django.http import HttpRequest
from ninja import Router, Schema
from pydantic import Field

from aips.core.numbers import Id
from aips.etp.dataroom import selectors, services
from aips.etp.dataroom.nda import NDA_VERSION, nda_language, nda_sha256, nda_text
from aips.etp.lots.models import Lot
from aips.etp.permissions import EtpPerm
from aips.shared.accounts.api_auth import api_auth
from aips.shared.accounts.models import User
from aips.shared.accounts.sessions import acting_person

router = Router(tags=["dataroom"])


class NdaOut(Schema):
    lot_id: int
    version: str
    language: str
    text: str
    sha256: str
    accepted_at: datetime | None


class NdaIn(Schema):
    # The SHA-256 of the text the caller read (GET …/dataroom/nda).
    nda_sha256: str = Field(min_length=64, max_length=64, pattern="^[0-9a-f]{64}$")


class RoomFileOut(Schema):
    id: int
    purpose: Literal["document", "tape"]
    file_name: str
    size: int
    sha256: str


class PartyOut(Schema):
    role: Literal["borrower", "guarantor"]
    identifier: str
    name: str


class RoomOut(Schema):
    lot_id: int
    reference: str
    access: Literal["operator", "seller", "participant"]
    agreement_number: str
    agreement_date: date | None
    files: list[RoomFileOut]
    parties: list[PartyOut]


def _room(request: HttpRequest, lot_id: int) -> tuple[User, Lot, selectors.Entry]:
    user = acting_person(request)
    lot, entry = selectors.get_room_lot(user, lot_id)
    return user, lot, entry


def _nda(user: User, lot: Lot) -> dict[str, Any]:
    text = nda_text(lot)
    acceptance = selectors.acceptance_of(user, lot)
    return {
        "lot_id": lot.pk,
        "version": NDA_VERSION,
        "language": nda_language(),
        "text": text,
        "sha256": nda_sha256(text),
        "accepted_at": acceptance.accepted_at if acceptance else None,
    }


@router.get(
    "/lots/{lot_id}/dataroom/nda",
    response=NdaOut,
    operation_id="dataroom_nda_get",
    auth=api_auth(EtpPerm.DATAROOM_VIEW),
    summary="The lot's non-disclosure agreement (in the caller's language) and its acceptance",
)
def dataroom_nda_get(request: HttpRequest, lot_id: Id) -> Any:
    user, lot, _entry = _room(request, lot_id)
    return _nda(user, lot)


@router.post(
    "/lots/{lot_id}/dataroom/nda",
    response=NdaOut,
    operation_id="dataroom_nda_accept",
    auth=api_auth(EtpPerm.DATAROOM_VIEW),
    summary="Accept the NDA for the caller's organization (the SHA-256 of the text read)",
)
def dataroom_nda_accept(request: HttpRequest, lot_id: Id, payload: NdaIn) -> Any:
    user, lot, _entry = _room(request, lot_id)
    services.nda_accept(actor=user, lot=lot, shown_sha256=payload.nda_sha256)
    return _nda(user, lot)


@router.get(
    "/lots/{lot_id}/dataroom",
    response=RoomOut,
    operation_id="dataroom_get",
    auth=api_auth(EtpPerm.DATAROOM_VIEW),
    summary="The lot's data room: files, agreement and parties (409 nda_required before the NDA)",
)
def dataroom_get(request: HttpRequest, lot_id: Id) -> Any:
    user, lot, entry = _room(request, lot_id)
    services.room_opened(actor=user, lot=lot, channel="api")
    return {
        "lot_id": lot.pk,
        "reference": lot.reference,
        "access": entry,
        "agreement_number": lot.agreement_number,
        "agreement_date": lot.agreement_date,
        "files": [
            {
                "id": f.pk,
                "purpose": f.purpose,
                "file_name": f.file_name,
                "size": f.size,
                "sha256": f.sha256,
            }
            for f in selectors.room_files(lot)
        ],
        "parties": [
            {"role": p.role, "identifier": p.identifier, "name": p.name}
            for p in selectors.room_parties(lot)
        ],
    }
