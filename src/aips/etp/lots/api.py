"""The lots' API: the seller's lots (create, change, loan tape, lifecycle), the operator's reads
and decisions, and the public read of published lots without sign-in (the public card only:
no debtor's data, a portfolio's aggregates)."""

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from django.conf import settings
from django.http import HttpRequest
from ninja import File, Query, Router, Schema, Status
from pydantic import Field

from aips.core.access import public
from aips.core.numbers import AmountKzt, Count, Id
from aips.core.ratelimit import hit
from aips.core.request_context import client_ip
from aips.etp.lots import selectors, services
from aips.etp.lots.lifecycle import LOT_MACHINE
from aips.etp.lots.models import Lot
from aips.etp.permissions import EtpPerm
from aips.shared.accounts.api_auth import api_auth
from aips.shared.accounts.sessions import acting_person
from aips.shared.files.schemas import NonEmptyFile
from aips.shared.workflow.api_schemas import transition_names

router = Router(tags=["lots"])

Kind = Literal["claim", "portfolio", "real_estate", "vehicle", "equipment", "other"]
State = Literal[
    "draft", "awaiting_approval", "awaiting_verification", "returned", "published", "withdrawn"
]
Text = Annotated[str, Field(max_length=300)]
LongText = Annotated[str, Field(max_length=20000)]
Identifier = Annotated[str, Field(max_length=12)]


class PublicLotOut(Schema):
    """The public card: nothing of a debtor, a portfolio's aggregates only."""

    id: int
    reference: str
    state: State
    kind: Kind
    title: str
    description: str
    region: str
    seller: str
    start_price: Decimal
    currency: str
    debtor_type: str
    retail: bool
    principal: Decimal | None
    interest: Decimal | None
    penalties: Decimal | None
    total_debt: Decimal | None
    days_overdue: int | None
    court_status: str
    address: str
    area: Decimal | None
    cadastral_number: str
    make: str
    vehicle_year: int | None
    vin: str
    aggregates: dict[str, Any]
    published_at: datetime | None
    correction_until: datetime | None
    withdrawn_at: datetime | None
    withdrawal_reason: str


class PublicVersionOut(Schema):
    number: int
    at: datetime
    snapshot: dict[str, Any]


class PublicLotDetailOut(PublicLotOut):
    versions: list[PublicVersionOut]


class PartyOut(Schema):
    role: str
    identifier: str
    name: str


class LotOut(PublicLotOut):
    """The seller's and the operator's view: the public card plus the private data."""

    organization_id: int
    version: int
    agreement_number: str
    agreement_date: date | None
    parties: list[PartyOut]


class LotIn(Schema):
    kind: Kind
    title: Text
    description: LongText = ""
    region: Annotated[str, Field(max_length=100)]
    start_price: AmountKzt
    currency: Literal["KZT", "USD", "EUR"] = "KZT"
    debtor_type: Literal["", "individual", "legal"] = ""
    retail: bool = False
    principal: AmountKzt | None = None
    interest: AmountKzt | None = None
    penalties: AmountKzt | None = None
    days_overdue: Count | None = None
    court_status: Literal["", "none", "pending", "judgment", "enforcement"] = ""
    agreement_number: Annotated[str, Field(max_length=64)] = ""
    agreement_date: date | None = None
    borrower_identifier: Identifier = ""
    borrower_name: Text = ""
    guarantor_identifiers: Annotated[list[Identifier], Field(max_length=50)] = []
    address: Text = ""
    area: AmountKzt | None = None
    cadastral_number: Annotated[str, Field(max_length=64)] = ""
    make: Annotated[str, Field(max_length=100)] = ""
    vehicle_year: Count | None = None
    vin: Annotated[str, Field(max_length=17)] = ""


class LotPatch(Schema):
    kind: Kind | None = None
    title: Text | None = None
    description: LongText | None = None
    region: Annotated[str, Field(max_length=100)] | None = None
    start_price: AmountKzt | None = None
    currency: Literal["KZT", "USD", "EUR"] | None = None
    debtor_type: Literal["", "individual", "legal"] | None = None
    retail: bool | None = None
    principal: AmountKzt | None = None
    interest: AmountKzt | None = None
    penalties: AmountKzt | None = None
    days_overdue: Count | None = None
    court_status: Literal["", "none", "pending", "judgment", "enforcement"] | None = None
    agreement_number: Annotated[str, Field(max_length=64)] | None = None
    agreement_date: date | None = None
    borrower_identifier: Identifier | None = None
    borrower_name: Text | None = None
    guarantor_identifiers: Annotated[list[Identifier], Field(max_length=50)] | None = None
    address: Text | None = None
    area: AmountKzt | None = None
    cadastral_number: Annotated[str, Field(max_length=64)] | None = None
    make: Annotated[str, Field(max_length=100)] | None = None
    vehicle_year: Count | None = None
    vin: Annotated[str, Field(max_length=17)] | None = None


class LotTransitionIn(Schema):
    comment: Annotated[str, Field(max_length=10000)] = ""


def _out(request: HttpRequest, lot: Lot) -> dict[str, Any]:
    user = acting_person(request)
    return {
        **selectors.public_card(lot),
        "organization_id": lot.organization_id,
        "version": lot.version,
        "agreement_number": lot.agreement_number,
        "agreement_date": lot.agreement_date,
        "parties": [
            {"role": p.role, "identifier": p.identifier, "name": p.name}
            for p in selectors.lot_parties(actor=user, lot=lot)
        ],
    }


@router.get(
    "/lots",
    response=list[LotOut],
    operation_id="lots_list",
    auth=api_auth(EtpPerm.LOT_VIEW),
    summary="The lots the caller works on (a seller its own, the operator every approved one)",
)
def lots_list(request: HttpRequest, state: State | None = None) -> Any:
    lots = selectors.lot_list(actor=acting_person(request), state=state or "")[:500]
    return [_out(request, lot) for lot in lots]


@router.post(
    "/lots", response={201: LotOut}, operation_id="lots_create", auth=api_auth(EtpPerm.LOT_EDIT)
)
def lots_create(request: HttpRequest, payload: LotIn) -> Any:
    lot = services.lot_create(actor=acting_person(request), **payload.dict())
    return Status(201, _out(request, lot))


@router.get(
    "/lots/{lot_id}", response=LotOut, operation_id="lots_get", auth=api_auth(EtpPerm.LOT_VIEW)
)
def lots_get(request: HttpRequest, lot_id: Id) -> Any:
    return _out(request, selectors.get_lot_for(acting_person(request), lot_id))


@router.patch(
    "/lots/{lot_id}",
    response=LotOut,
    operation_id="lots_update",
    auth=api_auth(EtpPerm.LOT_EDIT),
)
def lots_update(request: HttpRequest, lot_id: Id, payload: LotPatch) -> Any:
    """Before approval: any field. Published: within the correction window every change is a
    new version; after it the significant fields answer 422 (frozen)."""
    user = acting_person(request)
    lot = selectors.get_lot_for(user, lot_id)
    changes = payload.dict(exclude_unset=True)
    return _out(request, services.lot_update(actor=user, lot=lot, **changes))


@router.post(
    "/lots/{lot_id}/tape",
    response=LotOut,
    operation_id="lots_tape_upload",
    auth=api_auth(EtpPerm.LOT_EDIT),
)
def lots_tape_upload(request: HttpRequest, lot_id: Id, file: File[NonEmptyFile]) -> Any:
    """A portfolio's loan tape: CSV (UTF-8) or XLSX (its first sheet), told apart by content.
    A bad tape answers 422 with one message per error in `fields.file`, each naming its row
    and column; an unreadable workbook answers 422 too."""
    user = acting_person(request)
    lot = selectors.get_lot_for(user, lot_id)
    return _out(request, services.lot_tape_upload(actor=user, lot=lot, upload=file))


@router.post(
    "/lots/{lot_id}/transitions/{name}",
    response=LotOut,
    operation_id="lots_transition",
    auth=api_auth(EtpPerm.LOT_VIEW),
)
def lots_transition(
    request: HttpRequest,
    lot_id: Id,
    name: Annotated[str, transition_names(LOT_MACHINE)],
    payload: LotTransitionIn,
) -> Any:
    """request_approval, approve, send_back (comment), verify, return (comment), withdraw
    (comment: the published reason)."""
    user = acting_person(request)
    lot = selectors.get_lot_for(user, lot_id)
    moved = services.lot_transition(actor=user, lot=lot, name=name, comment=payload.comment)
    return _out(request, moved)


class PublicLotsQuery(Schema):
    """The catalogue's filters (an unknown value is no filter) and the cursor: `after` is the
    last id of the page read, the lots come newest id first."""

    kind: Annotated[str, Field(max_length=16)] = ""
    region: Annotated[str, Field(max_length=100)] = ""
    price_from: Annotated[str, Field(max_length=30)] = ""
    price_to: Annotated[str, Field(max_length=30)] = ""
    seller: Annotated[str, Field(max_length=12)] = ""
    state: Annotated[str, Field(max_length=16)] = ""
    published_from: Annotated[str, Field(max_length=10)] = ""
    published_to: Annotated[str, Field(max_length=10)] = ""
    q: Annotated[str, Field(max_length=200)] = ""
    after: Annotated[int, Field(ge=0, le=2**53)] = 0
    limit: Annotated[int, Field(ge=1, le=500)] = 100


class FeedQuery(Schema):
    since: Annotated[int, Field(ge=0, le=2**53)] = 0
    limit: Annotated[int, Field(ge=1, le=1000)] = 100


class FeedChangeOut(Schema):
    seq: int
    kind: Literal[
        "published",
        "corrected",
        "withdrawn",
        "scheduled",
        "auction_scheduled",
        "auction_started",
        "auction_closed",
        "auction_unsuccessful",
        "repeat_scheduled",
    ]
    at: datetime
    lot_id: int
    reference: str
    # The change's public figures (lots/feed.py: dates, prices, a reason; never an identity);
    # empty for published, corrected and withdrawn.
    data: dict[str, str | int | None] = {}


class FeedOut(Schema):
    changes: list[FeedChangeOut]
    # The `since` of the next read: the last change's seq, or the one given when none is new.
    cursor: int


def _public_budget(request: HttpRequest) -> None:
    """The public API's rate limit per client IP (429 in the one error shape)."""
    hit(
        "etp-public-api",
        client_ip(request) or "-",
        str(getattr(settings, "AIPS_ETP_PUBLIC_RATE", "120/m")),
    )


@router.get(
    "/public/lots",
    response=list[PublicLotOut],
    operation_id="public_lots_list",
    auth=None,
    summary="Published and withdrawn lots, without sign-in (no debtor's data)",
)
@public
def public_lots_list(request: HttpRequest, params: Query[PublicLotsQuery]) -> Any:
    """Filters as on the catalogue page; the next page is `after=<the last lot's id>`."""
    _public_budget(request)
    filters = selectors.CatalogueFilters.from_query(params.dict())
    lots = selectors.catalogue(filters)
    if params.after:
        lots = lots.filter(pk__lt=params.after)
    return [selectors.public_card(lot) for lot in lots.order_by("-id")[: params.limit]]


@router.get(
    "/public/feed",
    response=FeedOut,
    operation_id="public_feed",
    auth=None,
    summary="The public changes of lots, procedures and auctions after a cursor",
)
@public
def public_feed(request: HttpRequest, params: Query[FeedQuery]) -> Any:
    """Read with `since=0`, then with the `cursor` each answer gives: every change once, in
    order. A change appears a few seconds after it happened (the settle delay)."""
    _public_budget(request)
    changes = selectors.public_feed(since=params.since, limit=params.limit)
    return {
        "changes": [
            {
                "seq": c.pk,
                "kind": c.kind,
                "at": c.at,
                "lot_id": c.lot_id,
                "reference": c.lot.reference,
                "data": c.data or {},
            }
            for c in changes
        ],
        "cursor": changes[-1].pk if changes else params.since,
    }


@router.get(
    "/public/lots/{lot_id}",
    response=PublicLotDetailOut,
    operation_id="public_lots_get",
    auth=None,
    summary="A published or withdrawn lot and its versions since publication",
)
@public
def public_lots_get(request: HttpRequest, lot_id: Id) -> Any:
    _public_budget(request)
    lot = selectors.get_public_lot(lot_id)
    return {**selectors.public_card(lot), "versions": selectors.public_versions(lot)}
