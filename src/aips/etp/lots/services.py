"""Every change to lots: create and edit (the seller's maker), the loan tape and files, the
lifecycle on the platform's engine (approval, verification, publication, withdrawal) and the
corrections after publication — each with its audit event in the same transaction.

The trading rules (aips.etp.lots.rules) are checked when a lot is saved and again at every step
towards publication, so a rule that changes meanwhile (a moratorium) still holds."""

from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from aips.core.access import ensure_perm
from aips.core.actors import Actor
from aips.core.errors import AppError, Forbidden, ValidationFailed
from aips.core.identifiers import bin_error
from aips.core.validation import Fields
from aips.etp.lots import rules, tape
from aips.etp.lots.lifecycle import LOT_MACHINE
from aips.etp.lots.models import (
    CourtStatus,
    Currency,
    DebtorType,
    FilePurpose,
    Lot,
    LotChange,
    LotChangeKind,
    LotFile,
    LotKind,
    LotParty,
    LotState,
    PartyRole,
)
from aips.etp.lots.notices import lot_transitioned
from aips.etp.lots.selectors import form_values
from aips.etp.permissions import EtpPerm
from aips.shared.accounts.models import User
from aips.shared.audit.models import EventType
from aips.shared.audit.services import record
from aips.shared.files import services as file_services
from aips.shared.workflow import engine
from aips.shared.workflow.models import Version

# What a seller may set. The first group is public (and versioned); parties are private.
PUBLIC_FIELDS = (
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
PRIVATE_FIELDS = (
    "agreement_number",
    "agreement_date",
    "borrower_identifier",
    "borrower_name",
    "guarantor_identifiers",
)
FIELDS = PUBLIC_FIELDS + PRIVATE_FIELDS
# Frozen once the correction window after publication has passed: what a bidder prices.
SIGNIFICANT_FIELDS = frozenset(PUBLIC_FIELDS) - {"title", "description"}
EDITABLE = frozenset({LotState.DRAFT, LotState.RETURNED})
_DECIMALS = ("start_price", "principal", "interest", "penalties", "area")
_KIND_FIELDS = {
    LotKind.CLAIM: (
        "debtor_type",
        "retail",
        "principal",
        "interest",
        "penalties",
        "days_overdue",
        "court_status",
        "agreement_number",
        "agreement_date",
        "borrower_identifier",
        "borrower_name",
        "guarantor_identifiers",
    ),
    LotKind.PORTFOLIO: ("retail",),
    LotKind.REAL_ESTATE: ("address", "area", "cadastral_number"),
    LotKind.VEHICLE: ("make", "vehicle_year", "vin"),
    LotKind.EQUIPMENT: (),
    LotKind.OTHER: (),
}
_BLANK: dict[str, Any] = {
    "debtor_type": "",
    "retail": False,
    "principal": None,
    "interest": None,
    "penalties": None,
    "days_overdue": None,
    "court_status": "",
    "address": "",
    "area": None,
    "cadastral_number": "",
    "make": "",
    "vehicle_year": None,
    "vin": "",
    "agreement_number": "",
    "agreement_date": None,
    "borrower_identifier": "",
    "borrower_name": "",
    "guarantor_identifiers": [],
}


def now() -> Any:
    """The services' clock (one seam for tests)."""
    return timezone.now()


def _decimal(f: Fields, name: str, value: Any, *, required: bool) -> Decimal | None:
    if value in (None, ""):
        if required:
            f.add(name, _("This field is required."))
        return None
    try:
        number = Decimal(str(value).replace(" ", "").replace(",", "."))
    except InvalidOperation:
        f.add(name, _("Enter an amount, for example 150000.00."))
        return None
    if not number.is_finite() or number < 0 or number >= Decimal(10) ** 16:
        f.add(name, _("Enter an amount, 0 or more."))
        return None
    return number.quantize(Decimal("0.01"))


def _integer(f: Fields, name: str, value: Any, *, required: bool) -> int | None:
    if value in (None, ""):
        if required:
            f.add(name, _("This field is required."))
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 10**6:
        f.add(name, _("Enter a whole number, 0 or more."))
        return None
    return value


def _retail_rules(f: Fields, *, kind: str, retail: bool, days: int | None, today: date) -> None:
    """The trading rules for retail loan claims: overdue long enough and no moratorium."""
    if kind not in (LotKind.CLAIM, LotKind.PORTFOLIO) or not retail:
        return
    if rules.in_moratorium(today):
        f.add(
            "retail",
            _("Retail loan claims may not be put up for sale during the moratorium."),
        )
    minimum = rules.retail_min_overdue_days()
    if kind == LotKind.CLAIM and days is not None and days <= minimum:
        f.add(
            "days_overdue",
            _("A retail loan may be sold only when overdue more than %(n)d days.") % {"n": minimum},
        )


def _clean(data: dict[str, Any]) -> dict[str, Any]:
    """Validate a whole lot; every problem at once, by field."""
    f = Fields()
    out: dict[str, Any] = dict(_BLANK)
    kind = f.choice("kind", data.get("kind") or "", LotKind)
    out["kind"] = kind
    out["title"] = f.required_text("title", data.get("title") or "", max_length=300)
    out["description"] = f.optional_text("description", data.get("description"), max_length=20000)
    out["region"] = f.required_text("region", data.get("region") or "", max_length=100)
    out["currency"] = f.choice("currency", data.get("currency") or Currency.KZT, Currency)
    out["start_price"] = _decimal(f, "start_price", data.get("start_price"), required=True)
    if out["start_price"] is not None and out["start_price"] <= 0:
        f.add("start_price", _("The start price must be more than zero."))
    wanted = _KIND_FIELDS.get(kind, ())  # type: ignore[call-overload]
    if kind == LotKind.CLAIM:
        out["debtor_type"] = f.choice("debtor_type", data.get("debtor_type") or "", DebtorType)
        out["court_status"] = f.choice(
            "court_status", data.get("court_status") or CourtStatus.NONE, CourtStatus
        )
        out["principal"] = _decimal(f, "principal", data.get("principal"), required=True)
        for name in ("interest", "penalties"):
            out[name] = _decimal(f, name, data.get(name), required=False)
        out["days_overdue"] = _integer(f, "days_overdue", data.get("days_overdue"), required=True)
        out["agreement_number"] = f.required_text(
            "agreement_number", data.get("agreement_number") or "", max_length=64
        )
        agreement_date = data.get("agreement_date")
        if agreement_date is not None and not isinstance(agreement_date, date):
            f.add("agreement_date", _("Enter a date."))
            agreement_date = None
        out["agreement_date"] = agreement_date
        borrower = (data.get("borrower_identifier") or "").strip()
        problem = bin_error(borrower) if borrower else _("This field is required.")
        if problem:
            f.add("borrower_identifier", problem)
        out["borrower_identifier"] = borrower
        out["borrower_name"] = f.optional_text(
            "borrower_name", data.get("borrower_name"), max_length=300
        )
        guarantors = [
            str(g).strip() for g in data.get("guarantor_identifiers") or [] if str(g).strip()
        ]
        for guarantor in guarantors:
            problem = bin_error(guarantor)
            if problem:
                f.add("guarantor_identifiers", f"{guarantor}: {problem}")
        if len(guarantors) > 50:
            f.add("guarantor_identifiers", _("At most %(n)d guarantors.") % {"n": 50})
        out["guarantor_identifiers"] = guarantors
    if "retail" in wanted:
        out["retail"] = bool(data.get("retail"))
        if kind == LotKind.CLAIM and out["debtor_type"] == DebtorType.LEGAL and out["retail"]:
            f.add("retail", _("A retail loan is a loan to an individual."))
    if kind == LotKind.REAL_ESTATE:
        out["address"] = f.required_text("address", data.get("address") or "", max_length=300)
        out["area"] = _decimal(f, "area", data.get("area"), required=True)
        out["cadastral_number"] = f.required_text(
            "cadastral_number", data.get("cadastral_number") or "", max_length=64
        )
    if kind == LotKind.VEHICLE:
        out["make"] = f.required_text("make", data.get("make") or "", max_length=100)
        out["vehicle_year"] = _integer(f, "vehicle_year", data.get("vehicle_year"), required=True)
        year = out["vehicle_year"]
        if year is not None and not 1900 <= year <= now().year + 1:
            f.add("vehicle_year", _("Enter a year between 1900 and next year."))
        vin = (data.get("vin") or "").strip().upper()
        if vin and (len(vin) != 17 or not vin.isalnum() or set(vin) & set("IOQ")):
            f.add("vin", _("A VIN has 17 letters and digits (no I, O or Q)."))
        out["vin"] = vin
    _retail_rules(
        f,
        kind=kind,
        retail=out["retail"],
        days=out["days_overdue"],
        today=timezone.localdate(now()),
    )
    f.raise_if_any()
    return out


def snapshot(lot: Any) -> dict[str, Any]:
    """What a version keeps: the public fields only (versions are shown publicly)."""
    data: dict[str, Any] = {}
    for name in PUBLIC_FIELDS:
        value = getattr(lot, name)
        data[name] = str(value) if isinstance(value, Decimal) else value
    if lot.kind == LotKind.PORTFOLIO:
        data["aggregates"] = lot.aggregates
    return data


def _set_claim_parties(lot: Lot, clean: dict[str, Any]) -> None:
    if lot.kind == LotKind.PORTFOLIO:
        return  # a portfolio's parties come from its loan tape
    LotParty.objects.filter(lot=lot).delete()
    if lot.kind != LotKind.CLAIM:
        return
    LotParty.objects.create(
        lot=lot,
        role=PartyRole.BORROWER,
        identifier=clean["borrower_identifier"],
        name=clean["borrower_name"],
    )
    LotParty.objects.bulk_create(
        LotParty(lot=lot, role=PartyRole.GUARANTOR, identifier=g)
        for g in dict.fromkeys(clean["guarantor_identifiers"])
    )


def _model_fields(clean: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in clean.items() if k not in PRIVATE_FIELDS[2:]}


@transaction.atomic
def lot_create(*, actor: User, **data: Any) -> Lot:
    """A draft lot of the actor's own organization (the seller's maker)."""
    ensure_perm(actor, EtpPerm.LOT_EDIT)
    if actor.is_center:
        raise Forbidden()
    unknown = set(data) - set(FIELDS)
    if unknown:
        raise ValidationFailed(fields={name: [_("Unknown field.")] for name in sorted(unknown)})
    clean = _clean(data)
    lot: Lot = Lot.objects.create(
        organization_id=actor.organization_id,
        created_by=actor,
        state=LotState.DRAFT,
        **_model_fields(clean),
    )
    _set_claim_parties(lot, clean)
    record(
        actor=actor,
        event=EventType.LOT_CREATED,
        target=lot,
        organization_id=lot.organization_id,
        details={"kind": lot.kind},
    )
    return lot


def _lock_own(actor: Actor, lot: Lot) -> Lot:
    ensure_perm(actor, EtpPerm.LOT_EDIT)
    locked: Lot = Lot.objects.select_for_update().get(pk=lot.pk)
    if actor.organization_id != locked.organization_id:
        raise Forbidden()
    return locked


@transaction.atomic
def lot_update(*, actor: User, lot: Lot, **changes: Any) -> Lot:
    """Edit a draft or returned lot; or correct a published one. Within the correction window
    every change to a published lot is a new version, shown on its public page; after it, the
    significant fields are frozen and only the title and description may still change."""
    locked = _lock_own(actor, lot)
    unknown = set(changes) - set(FIELDS)
    if unknown:
        raise ValidationFailed(fields={name: [_("Unknown field.")] for name in sorted(unknown)})
    published = locked.state == LotState.PUBLISHED
    if locked.state not in EDITABLE and not published:
        raise AppError(
            _("Only a draft, a returned or a published lot can be changed."),
            code="not_editable",
            status=409,
        )
    before = form_values(locked)
    merged = {**before, **changes}
    if published:
        changed = {k for k in changes if merged[k] != before[k]}
        if changed & set(PRIVATE_FIELDS):
            raise ValidationFailed(
                fields={
                    k: [_("The loan's parties cannot change after publication.")]
                    for k in sorted(changed & set(PRIVATE_FIELDS))
                }
            )
        frozen = sorted(changed & SIGNIFICANT_FIELDS)
        if frozen and locked.correction_until is not None and now() > locked.correction_until:
            raise ValidationFailed(
                fields={
                    k: [_("The correction window has passed: this field is frozen.")]
                    for k in frozen
                }
            )
    clean = _clean(merged)
    if published and clean["kind"] != locked.kind:
        raise ValidationFailed.field("kind", _("A published lot keeps its asset type."))
    for name, value in _model_fields(clean).items():
        setattr(locked, name, value)
    if locked.kind != LotKind.PORTFOLIO:
        locked.aggregates = {}
    locked.save()
    if not published:
        _set_claim_parties(locked, clean)
    after = snapshot(locked)
    if published:
        locked.version += 1
        locked.save(update_fields=["version", "updated_at"])
        Version.objects.create(
            content_type=ContentType.objects.get_for_model(Lot),
            object_id=locked.pk,
            number=locked.version,
            snapshot=after,
            submitted_by_id=actor.pk,
        )
        # The public change feed: a correction of a published lot, in this transaction.
        LotChange.objects.create(lot=locked, kind=LotChangeKind.CORRECTED)
    record(
        actor=actor,
        event=EventType.LOT_UPDATED,
        target=locked,
        organization_id=locked.organization_id,
        details={
            "fields": sorted(k for k in changes if merged[k] != before[k]),
            "correction": published,
            "version": locked.version if published else None,
        },
    )
    return locked


@transaction.atomic
def lot_tape_upload(*, actor: User, lot: Lot, upload: "UploadedFile[Any]") -> Lot:
    """A portfolio's loan tape: checked row by row (every error names its row and column); a
    good tape replaces the previous one, its borrowers and guarantors become the lot's parties
    and its aggregates the lot's public figures."""
    locked = _lock_own(actor, lot)
    if locked.kind != LotKind.PORTFOLIO:
        raise ValidationFailed.field("file", _("Only a loan portfolio has a loan tape."))
    if locked.state not in EDITABLE:
        raise AppError(
            _("Only a draft or a returned lot can be changed."), code="not_editable", status=409
        )
    # The content decides how the tape is read (a ZIP is a workbook); the name only has to say
    # it is one of the two.
    if not (upload.name or "").lower().endswith((".csv", ".xlsx")):
        raise ValidationFailed.field("file", _("Upload the loan tape as a CSV or XLSX file."))
    if (upload.size or 0) > file_services.MAX_ATTACHMENT_BYTES:
        raise ValidationFailed.field("file", _("The file is too large."))
    data = b"".join(upload.chunks())
    upload.seek(0)
    parsed = tape.parse(
        data,
        retail_min_overdue=rules.retail_min_overdue_days() if locked.retail else None,
        name=upload.name or "",
    )
    if parsed.errors:
        raise ValidationFailed(fields={"file": parsed.errors})
    stored = file_services.stored_fields(upload)
    LotFile.objects.filter(lot=locked, purpose=FilePurpose.TAPE).update(purpose="tape_old")
    tape_file = LotFile.objects.create(
        lot=locked, purpose=FilePurpose.TAPE, uploaded_by=actor, **stored
    )
    LotParty.objects.filter(lot=locked).delete()
    parties: dict[tuple[str, str], str] = {}
    for loan in parsed.loans:
        parties.setdefault((PartyRole.BORROWER, loan.borrower), loan.borrower_name)
        for guarantor in loan.guarantors:
            parties.setdefault((PartyRole.GUARANTOR, guarantor), "")
    LotParty.objects.bulk_create(
        LotParty(lot=locked, role=role, identifier=identifier, name=name)
        for (role, identifier), name in parties.items()
    )
    locked.aggregates = parsed.aggregates()
    locked.save(update_fields=["aggregates", "updated_at"])
    record(
        actor=actor,
        event=EventType.LOT_FILE_ADDED,
        target=locked,
        organization_id=locked.organization_id,
        details={
            "purpose": "tape",
            "file_id": tape_file.pk,
            "sha256": tape_file.sha256,
            "loans": len(parsed.loans),
        },
    )
    return locked


@transaction.atomic
def lot_file_add(*, actor: User, lot: Lot, upload: "UploadedFile[Any]", purpose: str) -> LotFile:
    """A photo or a document of a lot, stored under its SHA-256."""
    locked = _lock_own(actor, lot)
    if purpose not in (FilePurpose.PHOTO, FilePurpose.DOCUMENT):
        raise ValidationFailed.field("purpose", _("Choose a photo or a document."))
    if locked.state not in EDITABLE:
        raise AppError(
            _("Only a draft or a returned lot can be changed."), code="not_editable", status=409
        )
    if purpose == FilePurpose.PHOTO and not (upload.name or "").lower().endswith(
        (".jpg", ".jpeg", ".png")
    ):
        raise ValidationFailed.field("file", _("A photo is a JPEG or PNG file."))
    stored = file_services.stored_fields(upload)
    item: LotFile = LotFile.objects.create(lot=locked, purpose=purpose, uploaded_by=actor, **stored)
    record(
        actor=actor,
        event=EventType.LOT_FILE_ADDED,
        target=locked,
        organization_id=locked.organization_id,
        details={"purpose": purpose, "file_id": item.pk, "sha256": item.sha256},
    )
    return item


@transaction.atomic
def lot_file_downloaded(*, actor: Actor, lot_file: LotFile) -> None:
    """Who opened which file of a lot (a loan tape names debtors): written before it is sent."""
    record(
        actor=actor,
        event=EventType.LOT_FILE_DOWNLOADED,
        target=lot_file.lot,
        organization_id=lot_file.lot.organization_id,
        details={"file_id": lot_file.pk, "purpose": lot_file.purpose, "sha256": lot_file.sha256},
    )


def _check_rules(lot: Lot) -> None:
    """Before each step towards publication: the lot is complete and the rules still hold."""
    _clean(form_values(lot))
    if lot.kind == LotKind.PORTFOLIO and not lot.aggregates:
        raise ValidationFailed.field("file", _("Upload the loan tape first."))


@transaction.atomic
def lot_transition(*, actor: User, lot: Lot, name: str, comment: str = "") -> Lot:
    """Move a lot along its lifecycle (the engine checks the permission, the side, the state and
    the reason); publication opens the correction window, withdrawal publishes its reason."""
    moved = engine.apply(
        actor=actor, item=lot, machine=LOT_MACHINE, name=name, comment=comment, snapshot=snapshot
    )
    assert isinstance(moved, Lot)  # noqa: S101 - the engine returns the item it was given
    if name in ("request_approval", "approve", "verify"):
        # After the engine's checks (who, which side, which state), so a refusal is not a
        # validation message; a failure here rolls the step back.
        _check_rules(moved)
    lot_transitioned(actor=actor, lot=moved, name=name, comment=comment)
    if name == "verify":
        moved.published_at = now()
        moved.correction_until = moved.published_at + rules.correction_window()
        moved.published_version = moved.version
        moved.save(update_fields=["published_at", "correction_until", "published_version"])
        LotChange.objects.create(lot=moved, kind=LotChangeKind.PUBLISHED)
    elif name == "withdraw":
        moved.withdrawal_reason = comment.strip()
        moved.withdrawn_at = now()
        moved.save(update_fields=["withdrawal_reason", "withdrawn_at"])
        LotChange.objects.create(lot=moved, kind=LotChangeKind.WITHDRAWN)
    return moved


@transaction.atomic
def lot_submit(*, actor: User, lot: Lot) -> Lot:
    return lot_transition(actor=actor, lot=lot, name="request_approval")


@transaction.atomic
def lot_approve(*, actor: User, lot: Lot) -> Lot:
    return lot_transition(actor=actor, lot=lot, name="approve")


@transaction.atomic
def lot_send_back(*, actor: User, lot: Lot, reason: str) -> Lot:
    return lot_transition(actor=actor, lot=lot, name="send_back", comment=reason)


@transaction.atomic
def lot_verify(*, actor: User, lot: Lot) -> Lot:
    return lot_transition(actor=actor, lot=lot, name="verify")


@transaction.atomic
def lot_return(*, actor: User, lot: Lot, reason: str) -> Lot:
    return lot_transition(actor=actor, lot=lot, name="return", comment=reason)


@transaction.atomic
def lot_withdraw(*, actor: User, lot: Lot, reason: str) -> Lot:
    return lot_transition(actor=actor, lot=lot, name="withdraw", comment=reason)
