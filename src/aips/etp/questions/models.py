"""A question on a lot and a complaint to the operator. Both belong to the asking participant's
organization (`organization`); the lot's seller also sees the ones about its lots, the operator
all of them. The asker's identity never leaves these rows for a public page."""

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from aips.core.actors import Actor
from aips.core.tenancy import TenantQuerySet
from aips.etp.lots.models import Lot
from aips.etp.permissions import EtpPerm
from aips.shared.accounts.models import User
from aips.shared.files.models import StoredFile
from aips.shared.organizations.models import Organization


class QuestionQuerySet(TenantQuerySet["Question"]):
    """A participant sees its own questions, a seller those about its lots, the operator all."""

    view_perm = EtpPerm.QUESTION_VIEW

    def organization_scope(self, actor: Actor) -> "QuestionQuerySet":
        return self.filter(
            models.Q(organization_id=actor.organization_id)
            | models.Q(lot__organization_id=actor.organization_id)
        )

    def answered(self) -> "QuestionQuerySet":
        return self.exclude(answered_at=None)


class Question(models.Model):
    lot = models.ForeignKey(
        Lot, on_delete=models.PROTECT, related_name="questions", verbose_name=_("lot")
    )
    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="+", verbose_name=_("participant")
    )
    asked_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    text = models.TextField(_("question"))
    asked_at = models.DateTimeField(default=timezone.now)
    due_at = models.DateTimeField(_("answer due"))
    answer = models.TextField(_("answer"), blank=True)
    answered_by = models.ForeignKey(
        User, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    answered_at = models.DateTimeField(null=True, blank=True)

    objects = QuestionQuerySet.as_manager()
    # The foreign keys' columns, for the type checker (its Django settings are AIPS's).
    lot_id: int
    organization_id: int
    asked_by_id: int
    answered_by_id: int | None

    class Meta:
        ordering = ["-asked_at", "-id"]
        verbose_name = _("question")
        verbose_name_plural = _("questions")

    def __str__(self) -> str:
        return f"question {self.pk}"

    @property
    def overdue(self) -> bool:
        return self.answered_at is None and timezone.now() > self.due_at


class ComplaintOutcome(models.TextChoices):
    UPHELD = "upheld", _("Upheld")
    REJECTED = "rejected", _("Rejected")


class ComplaintQuerySet(TenantQuerySet["Complaint"]):
    """The complainant sees its own complaints, a seller those about its lots, the operator all;
    everyone reads the answered ones through `published()`."""

    view_perm = EtpPerm.COMPLAINT_VIEW

    def organization_scope(self, actor: Actor) -> "ComplaintQuerySet":
        return self.filter(
            models.Q(organization_id=actor.organization_id)
            | models.Q(lot__organization_id=actor.organization_id)
        )

    def published(self) -> "ComplaintQuerySet":
        return self.exclude(answered_at=None)


class Complaint(models.Model):
    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="+", verbose_name=_("complainant")
    )
    filed_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    # Empty: a complaint about the procedure rather than one lot.
    lot = models.ForeignKey(
        Lot,
        on_delete=models.PROTECT,
        related_name="complaints",
        null=True,
        blank=True,
        verbose_name=_("lot"),
    )
    text = models.TextField(_("complaint"))
    filed_at = models.DateTimeField(default=timezone.now)
    due_at = models.DateTimeField(_("answer due"))
    outcome = models.CharField(
        _("decision"), max_length=16, choices=ComplaintOutcome.choices, blank=True
    )
    answer = models.TextField(_("reasoning"), blank=True)
    answered_by = models.ForeignKey(
        User, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    answered_at = models.DateTimeField(null=True, blank=True)

    objects = ComplaintQuerySet.as_manager()
    # The foreign keys' columns, for the type checker (its Django settings are AIPS's).
    lot_id: int | None
    organization_id: int
    filed_by_id: int
    answered_by_id: int | None

    class Meta:
        ordering = ["-filed_at", "-id"]
        verbose_name = _("complaint")
        verbose_name_plural = _("complaints")

    def __str__(self) -> str:
        return f"complaint {self.pk}"

    @property
    def reference(self) -> str:
        return f"C-{self.pk}"

    @property
    def overdue(self) -> bool:
        return self.answered_at is None and timezone.now() > self.due_at

    @property
    def outcome_label(self) -> str:
        return str(ComplaintOutcome(self.outcome).label) if self.outcome else ""


class ComplaintFileQuerySet(TenantQuerySet["ComplaintFile"]):
    """A complaint's files go with the complaint: whoever sees it sees them."""

    view_perm = EtpPerm.COMPLAINT_VIEW

    def organization_scope(self, actor: Actor) -> "ComplaintFileQuerySet":
        return self.filter(complaint__in=Complaint.objects.visible_to(actor))


class ComplaintFile(StoredFile):
    """A file attached to a complaint (stored under its SHA-256; never public)."""

    complaint = models.ForeignKey(Complaint, on_delete=models.PROTECT, related_name="files")

    objects = ComplaintFileQuerySet.as_manager()
    complaint_id: int
