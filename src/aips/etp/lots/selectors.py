"""Reads of lots. The working reads start from `Lot.objects.visible_to(actor)` (a seller its own,
the operator what sellers have approved); the public reads go through `public_card`, the one
projection participants and visitors get, which holds no debtor's data: no parties, no
agreement, no loan tape — a portfolio shows its aggregates only."""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any, cast

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.utils import timezone

from aips.core import fulltext
from aips.core.actors import Actor
from aips.core.errors import NotFound
from aips.core.search import TextIndex
from aips.etp.lots.lifecycle import LOT_MACHINE
from aips.etp.lots.models import (
    CourtStatus,
    DebtorType,
    FilePurpose,
    Lot,
    LotChange,
    LotFile,
    LotKind,
    LotParty,
    LotQuerySet,
    LotState,
    PartyRole,
)
from aips.shared.organizations.models import Organization
from aips.shared.workflow.engine import Transition, versions_of
from aips.shared.workflow.models import Comment, Version

# What the catalogue's text search reads (core keeps the engine's index: FTS5 kept by triggers on
# SQLite, a GIN tsvector index on PostgreSQL, made after every `migrate`). The public text of a
# lot only: a debtor's data is never in the title or the description, and `LotParty` is never
# indexed.
LOT_TEXT = TextIndex(Lot, ("title", "description"))

# The public projection: these fields and nothing else (no agreement, no debtor, no tape).
PUBLIC_CARD_FIELDS = (
    "kind",
    "title",
    "description",
    "region",
    "start_price",
    "currency",
    "debtor_type",
    "retail",
    "principal",
    "interest",
    "penalties",
    "days_overdue",
    "court_status",
    "address",
    "area",
    "cadastral_number",
    "make",
    "vehicle_year",
    "vin",
)


def lot_list(*, actor: Actor, state: str = "") -> LotQuerySet:
    lots = Lot.objects.visible_to(actor).select_related("organization")
    if state:
        lots = lots.filter(state=state)
    return lots


def verification_queue(*, actor: Actor) -> LotQuerySet:
    """The operator's queue: lots the sellers approved, oldest first."""
    return lot_list(actor=actor, state=LotState.AWAITING_VERIFICATION).order_by("submitted_at")


def get_lot_for(actor: Actor, pk: int) -> Lot:
    lot = lot_list(actor=actor).filter(pk=pk).first()
    if lot is None:
        raise NotFound()
    return lot


def lot_parties(*, actor: Actor, lot: Lot) -> list[LotParty]:
    """The borrower and guarantors: the seller's and the operator's eyes only."""
    return list(LotParty.objects.visible_to(actor).filter(lot=lot))


def lot_files(*, actor: Actor, lot: Lot) -> list[LotFile]:
    return list(LotFile.objects.visible_to(actor).filter(lot=lot).exclude(purpose="tape_old"))


def get_lot_file_for(actor: Actor, lot: Lot, file_id: int) -> LotFile:
    found = LotFile.objects.visible_to(actor).filter(lot=lot, pk=file_id).first()
    if found is None:
        raise NotFound()
    return found


def public_photos(lot: Lot) -> list[LotFile]:
    """A public lot's photos (documents and the loan tape stay with the seller and operator)."""
    return list(LotFile.objects.filter(lot=lot, purpose=FilePurpose.PHOTO))


def get_public_photo(lot: Lot, file_id: int) -> LotFile:
    found = LotFile.objects.filter(lot=lot, pk=file_id, purpose=FilePurpose.PHOTO).first()
    if found is None:
        raise NotFound()
    return found


def lot_actions(*, actor: Actor, lot: Lot) -> list[Transition]:
    return LOT_MACHINE.allowed(actor, lot)


def lot_reasons(*, lot: Lot) -> list[Comment]:
    """Return and send-back reasons (the lot is already the reader's)."""
    return list(
        Comment.objects.filter(
            content_type=ContentType.objects.get_for_model(Lot), object_id=lot.pk
        ).select_related("author")
    )


def lot_versions(*, lot: Lot) -> list[Version]:
    return list(versions_of(lot))


def form_values(lot: Lot) -> dict[str, Any]:
    """A lot's values as the seller enters them (its parties included): the seller's form."""
    values: dict[str, Any] = {name: getattr(lot, name) for name in PUBLIC_CARD_FIELDS}
    values["agreement_number"] = lot.agreement_number
    values["agreement_date"] = lot.agreement_date
    values.update(borrower_identifier="", borrower_name="", guarantor_identifiers=[])
    if lot.kind == LotKind.CLAIM:
        parties = list(LotParty.objects.filter(lot=lot))
        borrower = next((p for p in parties if p.role == PartyRole.BORROWER), None)
        values["borrower_identifier"] = borrower.identifier if borrower else ""
        values["borrower_name"] = borrower.name if borrower else ""
        values["guarantor_identifiers"] = [
            p.identifier for p in parties if p.role == PartyRole.GUARANTOR
        ]
    return values


def parties_of(lot: Lot) -> set[str]:
    """The IIN/BINs that may not apply for this lot (its borrowers and guarantors). A system
    read for the applications' check, never shown."""
    return set(LotParty.objects.filter(lot=lot).values_list("identifier", flat=True))


# The public side: published and withdrawn lots, as their public card.


def public_lots() -> LotQuerySet:
    return Lot.objects.public().select_related("organization").order_by("-published_at", "-id")


def get_public_lot(pk: int) -> Lot:
    lot = public_lots().filter(pk=pk).first()
    if lot is None:
        raise NotFound()
    return lot


def public_card(lot: Lot) -> dict[str, Any]:
    """Everything the public may know of a lot, and nothing more."""
    card: dict[str, Any] = {name: getattr(lot, name) for name in PUBLIC_CARD_FIELDS}
    card.update(
        id=lot.pk,
        reference=lot.reference,
        state=lot.state,
        state_label=lot.state_label,
        kind_label=lot.kind_label,
        debtor_type_label=str(DebtorType(lot.debtor_type).label) if lot.debtor_type else "",
        court_status_label=str(CourtStatus(lot.court_status).label) if lot.court_status else "",
        seller=lot.organization.display_name,
        published_at=lot.published_at,
        correction_until=lot.correction_until,
        withdrawn_at=lot.withdrawn_at,
        withdrawal_reason=lot.withdrawal_reason,
        total_debt=lot.total_debt if lot.kind == LotKind.CLAIM else None,
        aggregates=lot.aggregates if lot.kind == LotKind.PORTFOLIO else {},
    )
    return card


def public_versions(lot: Lot) -> list[dict[str, Any]]:
    """The published version and every correction after it (public fields only)."""
    return [
        {"number": v.number, "at": v.created_at, "snapshot": v.snapshot}
        for v in versions_of(lot).filter(number__gte=max(lot.published_version, 1))
    ]


# The catalogue's filters: one parse for the page and the public API, tolerant of any input (an
# unknown or malformed value is no filter, never an error).


@dataclass(frozen=True)
class CatalogueFilters:
    kind: str = ""
    region: str = ""
    price_from: Decimal | None = None
    price_to: Decimal | None = None
    seller: int | None = None
    state: str = ""
    published_from: date | None = None
    published_to: date | None = None
    q: str = ""

    @classmethod
    def from_query(cls, query: Mapping[str, Any]) -> "CatalogueFilters":
        def text(name: str, size: int = 100) -> str:
            raw = str(query.get(name) or "")
            return "".join(ch for ch in raw if ch >= " " and not 0xD800 <= ord(ch) <= 0xDFFF)[
                :size
            ].strip()

        def amount(name: str) -> Decimal | None:
            try:
                value = Decimal(text(name, 30).replace(" ", "").replace(",", "."))
            except InvalidOperation:
                return None
            return value if value.is_finite() and abs(value) < Decimal(10) ** 16 else None

        def day(name: str) -> date | None:
            try:
                return date.fromisoformat(text(name, 10))
            except ValueError:
                return None

        seller = text("seller", 12)
        kind, state = text("kind", 16), text("state", 16)
        return cls(
            kind=kind if kind in LotKind.values else "",
            region=text("region"),
            price_from=amount("price_from"),
            price_to=amount("price_to"),
            seller=int(seller) if seller.isdigit() else None,
            state=state if state in (LotState.PUBLISHED, LotState.WITHDRAWN) else "",
            published_from=day("published_from"),
            published_to=day("published_to"),
            q=text("q", 200),
        )


def _start_of(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def catalogue(filters: CatalogueFilters) -> LotQuerySet:
    """The public lots the filters keep (unordered: the page and the API each order them)."""
    lots = Lot.objects.public().select_related("organization")
    exact = {
        "kind": filters.kind,
        "region": filters.region,
        "state": filters.state,
        "organization_id": filters.seller,
    }
    lots = lots.filter(**{k: v for k, v in exact.items() if v not in ("", None)})
    if filters.price_from is not None:
        lots = lots.filter(start_price__gte=filters.price_from)
    if filters.price_to is not None:
        lots = lots.filter(start_price__lte=filters.price_to)
    if filters.published_from is not None:
        lots = lots.filter(published_at__gte=_start_of(filters.published_from))
    if filters.published_to is not None:
        lots = lots.filter(published_at__lt=_start_of(filters.published_to + timedelta(days=1)))
    if filters.q:
        lots = text_filtered(lots, filters.q)
    return lots


_FEW_MATCHES = 500


def text_filtered(lots: LotQuerySet, q: str) -> LotQuerySet:
    """Lots holding every word of `q`, each word a prefix of a word of the title or description
    (the platform's full-text index, `LOT_TEXT`); when no lot the other filters keep holds the
    words, parts of words, any case (`fulltext.contained`), as the platform's search falls
    back. Quotes, `*`, operators and brackets are only text: the seam quotes every term."""
    words = fulltext.clean_words(q.split())
    if not words:
        return lots  # no letter or digit: no filter, as any other malformed value
    # The seam filters and annotates the queryset it is given: still a LotQuerySet.
    parts = cast(LotQuerySet, fulltext.contained(lots, LOT_TEXT, words))
    found = cast(LotQuerySet | None, fulltext.ranked(lots, LOT_TEXT, words))
    if found is None:
        return parts
    if connection.vendor == "postgresql":
        # PostgreSQL cannot count a prefix term's matches ahead (`'heli':*` is no word of its
        # statistics): guessing thousands, it reads the newest lots in order and computes each
        # one's vector until a page is full — every lot's, when the word is rare. So the few
        # matches are read first, from the index, and the page sorts just those; only a common
        # word (more than `_FEW_MATCHES`) is filtered as the newest lots are read, and then a
        # page fills within the first few thousand.
        few = list(found.order_by().values_list("pk", flat=True)[: _FEW_MATCHES + 1])
        if not few:
            return parts
        return lots.filter(pk__in=few) if len(few) <= _FEW_MATCHES else found
    return found if found.exists() else parts


def catalogue_choices() -> dict[str, list[tuple[Any, str]]]:
    """The regions and sellers that have public lots, for the catalogue's filter form."""
    public = Lot.objects.public()
    regions = public.order_by("region").values_list("region", flat=True).distinct()
    sellers = public.order_by().values_list("organization_id", flat=True).distinct()
    orgs = Organization.objects.filter(pk__in=list(sellers))
    return {
        "regions": [(r, r) for r in regions],
        "sellers": sorted(((o.pk, o.display_name) for o in orgs), key=lambda p: p[1]),
    }


def public_feed(*, since: int, limit: int) -> list[LotChange]:
    """The public changes after `since`, oldest first. A change is served only once it is
    `AIPS_ETP_FEED_SETTLE_SECONDS` old: ids come from the database's sequence in insertion
    order, not commit order, so a change still committing could otherwise land behind a cursor
    a reader already holds and be skipped. The services write a change row at the end of a short
    transaction, well within the settle delay (and SQLite commits one writer at a time)."""
    settled = timezone.now() - timedelta(
        seconds=int(getattr(settings, "AIPS_ETP_FEED_SETTLE_SECONDS", 5))
    )
    return list(
        LotChange.objects.filter(pk__gt=since, at__lte=settled)
        .select_related("lot")
        .order_by("id")[:limit]
    )
