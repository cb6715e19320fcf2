"""A lot and what hangs on it: the parties of its claims (private), its files (photos, documents,
the loan tape). Significant changes are versions on the workflow engine's `Version` table."""

from typing import Any

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from aips.core.actors import Actor
from aips.core.tenancy import TenantQuerySet
from aips.etp.permissions import EtpPerm
from aips.shared.files.models import StoredFile
from aips.shared.workflow.models import WorkflowItem


class LotKind(models.TextChoices):
    CLAIM = "claim", _("Right of claim on a loan")
    PORTFOLIO = "portfolio", _("Loan portfolio")
    REAL_ESTATE = "real_estate", _("Real estate")
    VEHICLE = "vehicle", _("Vehicle")
    EQUIPMENT = "equipment", _("Equipment")
    OTHER = "other", _("Other property")


COLLATERAL_KINDS = frozenset(
    {LotKind.REAL_ESTATE, LotKind.VEHICLE, LotKind.EQUIPMENT, LotKind.OTHER}
)


class LotState(models.TextChoices):
    DRAFT = "draft", _("Draft")
    AWAITING_APPROVAL = "awaiting_approval", _("Awaiting the authorised person's approval")
    AWAITING_VERIFICATION = "awaiting_verification", _("Awaiting the operator's verification")
    RETURNED = "returned", _("Returned by the operator")
    PUBLISHED = "published", _("Published")
    WITHDRAWN = "withdrawn", _("Withdrawn")


# The seller's form opens for these (a published lot: corrections, frozen after the window).
EDITABLE_STATES_FOR_FORM = frozenset({LotState.DRAFT, LotState.RETURNED, LotState.PUBLISHED})
# What participants and the public see: published lots and withdrawn ones (with the reason).
PUBLIC_STATES = frozenset({LotState.PUBLISHED, LotState.WITHDRAWN})
# The operator sees a lot once the seller's authorised person has approved it.
OPERATOR_STATES = frozenset(
    {LotState.AWAITING_VERIFICATION, LotState.RETURNED, LotState.PUBLISHED, LotState.WITHDRAWN}
)


class DebtorType(models.TextChoices):
    INDIVIDUAL = "individual", _("Individual")
    LEGAL = "legal", _("Legal entity")


class CourtStatus(models.TextChoices):
    NONE = "none", _("No court proceedings")
    PENDING = "pending", _("In court")
    JUDGMENT = "judgment", _("Court judgment obtained")
    ENFORCEMENT = "enforcement", _("Enforcement proceedings")


class Currency(models.TextChoices):
    KZT = "KZT", "KZT"
    USD = "USD", "USD"
    EUR = "EUR", "EUR"


class LotQuerySet(TenantQuerySet["Lot"]):
    """A seller sees its own lots in every state; the operator every lot once approved by the
    seller; participants none here (they read `public()`, the published projection)."""

    view_perm = EtpPerm.LOT_VIEW

    def center_scope(self, actor: Actor) -> "LotQuerySet":
        return self.filter(models.Q(state__in=OPERATOR_STATES) | models.Q(version__gte=1))

    def public(self) -> "LotQuerySet":
        return self.filter(state__in=PUBLIC_STATES)


class Lot(WorkflowItem):
    kind = models.CharField(_("asset type"), max_length=16, choices=LotKind.choices)
    title = models.CharField(_("title"), max_length=300)
    description = models.TextField(_("description"), blank=True)
    region = models.CharField(_("region"), max_length=100)
    start_price = models.DecimalField(_("start price"), max_digits=18, decimal_places=2)
    currency = models.CharField(
        _("currency"), max_length=3, choices=Currency.choices, default=Currency.KZT
    )
    # A right of claim: public figures; the agreement and the debtor are private (LotParty).
    agreement_number = models.CharField(_("agreement number"), max_length=64, blank=True)
    agreement_date = models.DateField(_("agreement date"), null=True, blank=True)
    debtor_type = models.CharField(
        _("debtor type"), max_length=16, choices=DebtorType.choices, blank=True
    )
    retail = models.BooleanField(_("retail loan"), default=False)
    principal = models.DecimalField(
        _("principal"), max_digits=18, decimal_places=2, null=True, blank=True
    )
    interest = models.DecimalField(
        _("interest"), max_digits=18, decimal_places=2, null=True, blank=True
    )
    penalties = models.DecimalField(
        _("penalties"), max_digits=18, decimal_places=2, null=True, blank=True
    )
    days_overdue = models.PositiveIntegerField(_("days overdue"), null=True, blank=True)
    court_status = models.CharField(
        _("court status"), max_length=16, choices=CourtStatus.choices, blank=True
    )
    # Collateral.
    address = models.CharField(_("address"), max_length=300, blank=True)
    area = models.DecimalField(
        _("area, m²"), max_digits=12, decimal_places=2, null=True, blank=True
    )
    cadastral_number = models.CharField(_("cadastral number"), max_length=64, blank=True)
    make = models.CharField(_("make and model"), max_length=100, blank=True)
    vehicle_year = models.PositiveIntegerField(_("year of manufacture"), null=True, blank=True)
    vin = models.CharField(_("VIN"), max_length=17, blank=True)
    # A portfolio: the loan tape's aggregates, computed on upload and shown publicly.
    aggregates = models.JSONField(default=dict, blank=True)
    published_at = models.DateTimeField(_("published"), null=True, blank=True)
    correction_until = models.DateTimeField(_("corrections until"), null=True, blank=True)
    # The version the operator published; later versions are the corrections shown publicly.
    published_version = models.PositiveIntegerField(default=0)
    withdrawal_reason = models.TextField(_("reason for withdrawal"), blank=True)
    withdrawn_at = models.DateTimeField(_("withdrawn"), null=True, blank=True)

    objects = LotQuerySet.as_manager()

    class Meta:
        ordering = ["-id"]
        verbose_name = _("lot")
        verbose_name_plural = _("lots")
        indexes = [
            models.Index(fields=["state", "published_at"], name="etp_lot_public"),
            # The catalogue's two orders: a page reads the first rows of one of these in order
            # and filters as it goes, rather than sorting every public lot.
            models.Index(fields=["published_at", "id"], name="etp_lot_published"),
            models.Index(fields=["start_price", "id"], name="etp_lot_price"),
        ]

    def __str__(self) -> str:
        return f"{self.reference} {self.title}"

    @property
    def reference(self) -> str:
        return f"LOT-{self.pk:06d}" if self.pk else "LOT-new"

    @property
    def state_label(self) -> str:
        return str(LotState(self.state).label)

    @property
    def kind_label(self) -> str:
        return str(LotKind(self.kind).label)

    @property
    def total_debt(self) -> Any:
        parts = [self.principal, self.interest, self.penalties]
        if all(p is None for p in parts):
            return None
        return sum((p for p in parts if p is not None), start=0)


class PartyRole(models.TextChoices):
    BORROWER = "borrower", _("Borrower")
    GUARANTOR = "guarantor", _("Guarantor")


class LotPartyQuerySet(TenantQuerySet["LotParty"]):
    """Debtors and guarantors: the seller's and the operator's eyes only, never the public's."""

    tenant_field = "lot__organization"
    view_perm = EtpPerm.LOT_VIEW

    def center_scope(self, actor: Actor) -> "LotPartyQuerySet":
        return self.filter(lot__in=Lot.objects.visible_to(actor))


class LotParty(models.Model):
    """A borrower or guarantor of a lot's loan (or of a loan in its tape): who may not bid."""

    lot = models.ForeignKey(Lot, on_delete=models.CASCADE, related_name="parties")
    role = models.CharField(max_length=16, choices=PartyRole.choices)
    identifier = models.CharField(_("IIN/BIN"), max_length=12)
    name = models.CharField(_("name"), max_length=300, blank=True)

    objects = LotPartyQuerySet.as_manager()

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["identifier"], name="etp_lot_party_identifier")]

    def __str__(self) -> str:
        return f"{self.role} #{self.pk}"


class FilePurpose(models.TextChoices):
    PHOTO = "photo", _("Photo")
    DOCUMENT = "document", _("Document")
    TAPE = "tape", _("Loan tape")


class LotFileQuerySet(TenantQuerySet["LotFile"]):
    tenant_field = "lot__organization"
    view_perm = EtpPerm.LOT_VIEW

    def center_scope(self, actor: Actor) -> "LotFileQuerySet":
        return self.filter(lot__in=Lot.objects.visible_to(actor))


class LotFile(StoredFile):
    """A lot's photo, document or loan tape (stored under its SHA-256)."""

    lot = models.ForeignKey(Lot, on_delete=models.PROTECT, related_name="files")
    purpose = models.CharField(max_length=16, choices=FilePurpose.choices)

    objects = LotFileQuerySet.as_manager()


class LotChangeKind(models.TextChoices):
    PUBLISHED = "published", _("Published")
    CORRECTED = "corrected", _("Corrected")
    WITHDRAWN = "withdrawn", _("Withdrawn")
    # The lot's procedure and auctions (lots/feed.py; the auctions' entries: auctions/
    # live_notices.py).
    SCHEDULED = "scheduled", _("Procedure announced")
    AUCTION_SCHEDULED = "auction_scheduled", _("Auction scheduled")
    AUCTION_STARTED = "auction_started", _("Auction started")
    AUCTION_CLOSED = "auction_closed", _("Auction closed")
    AUCTION_UNSUCCESSFUL = "auction_unsuccessful", _("Auction unsuccessful")
    REPEAT_SCHEDULED = "repeat_scheduled", _("Repeat auction scheduled")


class LotChange(models.Model):
    """One public change of a lot, appended by the services in the change's own transaction:
    the public change feed reads these in id order (docs/domains/etp.md, "Catalogue"). Public
    by nature: it names the lot, what happened and, in `data`, the public figures of a schedule
    or a result (dates, prices, a reason), never a person, a participant or a debtor."""

    lot = models.ForeignKey(Lot, on_delete=models.PROTECT, related_name="public_changes")
    kind = models.CharField(max_length=24, choices=LotChangeKind.choices)
    at = models.DateTimeField(default=timezone.now)
    data = models.JSONField(default=dict, blank=True)
    lot_id: int

    objects: "models.Manager[LotChange]" = models.Manager()

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.kind} {self.lot_id} #{self.pk}"
