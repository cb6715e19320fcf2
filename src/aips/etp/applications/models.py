"""A lot's trading procedure, the participants' applications for it and their deposits."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from aips.core.actors import Actor
from aips.core.tenancy import TenantQuerySet
from aips.etp.lots.models import Lot
from aips.etp.permissions import EtpPerm
from aips.shared.eds.models import Signature
from aips.shared.organizations.models import Organization


class AuctionKind(models.TextChoices):
    ASCENDING = "ascending", _("Ascending auction")


class ProcedureQuerySet(TenantQuerySet["Procedure"]):
    """The schedule is public once announced (read through the public lot); the working read
    follows the lot's own visibility."""

    tenant_field = "lot__organization"
    view_perm = EtpPerm.LOT_VIEW


class Procedure(models.Model):
    lot = models.OneToOneField(Lot, on_delete=models.PROTECT, related_name="procedure")
    kind = models.CharField(
        _("auction kind"), max_length=16, choices=AuctionKind.choices, default=AuctionKind.ASCENDING
    )
    application_deadline = models.DateTimeField(_("applications until"))
    auction_start = models.DateTimeField(_("auction starts"))
    # Fixed at announcement: a later change of the setting never moves a running procedure.
    deposit_percent = models.DecimalField(_("deposit, %"), max_digits=5, decimal_places=2)
    deposit_amount = models.DecimalField(_("deposit"), max_digits=18, decimal_places=2)
    announced_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    announced_at = models.DateTimeField(_("announced"))

    objects = ProcedureQuerySet.as_manager()
    lot_id: int

    class Meta:
        ordering = ["-id"]
        verbose_name = _("procedure")
        verbose_name_plural = _("procedures")

    def __str__(self) -> str:
        return f"PRC-{self.pk:06d}" if self.pk else "PRC-new"


class ApplicationState(models.TextChoices):
    SUBMITTED = "submitted", _("Submitted")
    ADMITTED = "admitted", _("Admitted")
    REFUSED = "refused", _("Refused")


class ApplicationQuerySet(TenantQuerySet["Application"]):
    """A participant's organization sees its own applications, nobody else's (R57.5); the
    operator's people holding `application:view` see all of them."""

    view_perm = EtpPerm.APPLICATION_VIEW

    def center_scope(self, actor: Actor) -> "ApplicationQuerySet":
        return self.all()


class Application(models.Model):
    procedure = models.ForeignKey(Procedure, on_delete=models.PROTECT, related_name="applications")
    # The participant: a legal entity (BIN) or an individual's organization of one (IIN).
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    submitted_at = models.DateTimeField(_("submitted"))
    # The exact bytes signed (the canonical form) and the stored, verified signature.
    document = models.BinaryField()
    signature = models.ForeignKey(Signature, on_delete=models.PROTECT, related_name="+")
    state = models.CharField(
        _("state"),
        max_length=16,
        choices=ApplicationState.choices,
        default=ApplicationState.SUBMITTED,
    )
    refusal_reason = models.TextField(_("reason for refusal"), blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
    )
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)

    objects = ApplicationQuerySet.as_manager()
    procedure_id: int
    organization_id: int
    deposit: "Deposit"

    class Meta:
        ordering = ["-id"]
        verbose_name = _("application")
        verbose_name_plural = _("applications")
        constraints = [
            models.UniqueConstraint(
                fields=["procedure", "organization"], name="etp_application_one_per_participant"
            )
        ]

    def __str__(self) -> str:
        return self.reference

    @property
    def reference(self) -> str:
        return f"APP-{self.pk:06d}" if self.pk else "APP-new"

    @property
    def state_label(self) -> str:
        return str(ApplicationState(self.state).label)


class DepositState(models.TextChoices):
    EXPECTED = "expected", _("Expected")
    CONFIRMED = "confirmed", _("Received")
    HELD = "held", _("Held")
    RETURNED = "returned", _("Returned")
    RETAINED = "retained", _("Retained")


class DepositQuerySet(TenantQuerySet["Deposit"]):
    tenant_field = "application__organization"
    view_perm = EtpPerm.APPLICATION_VIEW

    def center_scope(self, actor: Actor) -> "DepositQuerySet":
        return self.all()


class Deposit(models.Model):
    application = models.OneToOneField(
        Application, on_delete=models.PROTECT, related_name="deposit"
    )
    amount = models.DecimalField(_("amount"), max_digits=18, decimal_places=2)
    state = models.CharField(
        _("state"), max_length=16, choices=DepositState.choices, default=DepositState.EXPECTED
    )
    # Where the confirmation came from: empty (confirmed by hand) or the statement's row.
    bank_reference = models.CharField(_("bank statement"), max_length=200, blank=True)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
    )
    confirmed_at = models.DateTimeField(_("received"), null=True, blank=True)
    closed_at = models.DateTimeField(_("returned or retained"), null=True, blank=True)

    objects = DepositQuerySet.as_manager()

    class Meta:
        ordering = ["-id"]
        verbose_name = _("deposit")
        verbose_name_plural = _("deposits")

    def __str__(self) -> str:
        return f"deposit of {self.application.reference}"

    @property
    def state_label(self) -> str:
        return str(DepositState(self.state).label)
