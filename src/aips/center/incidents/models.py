"""Incident cards (R67.3.4, R67.12): structured information about an IS incident at a financial
organization, prepared by its responsible employee, approved by its IS-unit head and submitted
to the center."""

from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy as _

from aips.core.actors import Actor
from aips.core.permissions import Perm
from aips.core.tenancy import TenantQuerySet
from aips.core.tlp import RESTRICTED_TLP, Tlp
from aips.shared.files.models import StoredFile
from aips.shared.workflow.engine import EDITABLE_STATES
from aips.shared.workflow.models import WorkflowItem


class IncidentKind(models.TextChoices):
    """Exactly the six incidents of R67.12."""

    VULNERABILITY_EXPLOITED = (
        "vulnerability_exploited",
        _("Exploitation of vulnerabilities in application or system software"),
    )
    UNAUTHORIZED_ACCESS = "unauthorized_access", _("Unauthorized access to an information system")
    DENIAL_OF_SERVICE = (
        "denial_of_service",
        _("Denial-of-service attack on an information system or data network"),
    )
    MALWARE_INFECTION = (
        "malware_infection",
        _("Infection of a server with malware or malicious code"),
    )
    UNSANCTIONED_TRANSFER = (
        "unsanctioned_transfer",
        _("Unsanctioned transfer of money caused by a breach of IS controls"),
    )
    OTHER_OUTAGE = (
        "other_outage",
        _("Other IS incident that stopped information systems for more than one hour"),
    )


class CardState(models.TextChoices):
    DRAFT = "draft", _("Draft")
    AWAITING_APPROVAL = "awaiting_approval", _("Awaiting the head's approval")
    SUBMITTED = "submitted", _("Submitted to the center")
    RETURNED = "returned", _("Returned for rework")
    ACCEPTED = "accepted", _("Accepted by the center")
    CLOSED = "closed", _("Closed")


# What the center sees: nothing before the IS-unit head has approved it.
CENTER_VISIBLE = frozenset(
    {CardState.SUBMITTED, CardState.RETURNED, CardState.ACCEPTED, CardState.CLOSED}
)
# The engine's rule: only a draft or a returned item can be edited.
EDITABLE = EDITABLE_STATES


class IncidentCardQuerySet(TenantQuerySet["IncidentCard"]):
    """The organization sees its own cards in every state; the center sees every organization's
    cards once submitted (never a first draft); nobody else anything."""

    view_perm = Perm.INCIDENT_VIEW

    def center_scope(self, actor: Actor) -> "IncidentCardQuerySet":
        # Once submitted, a card stays in the center's sight even while it is being fixed and
        # re-approved (its rework deadline runs meanwhile, R67.15).
        return self.filter(models.Q(state__in=CENTER_VISIBLE) | models.Q(version__gte=1))


class IncidentCard(WorkflowItem):
    kind = models.CharField(_("type"), max_length=32, choices=IncidentKind.choices)
    title = models.CharField(_("title"), max_length=300)
    detected_at = models.DateTimeField(_("detected at"))
    started_at = models.DateTimeField(_("started at"))
    ended_at = models.DateTimeField(_("ended at"), null=True, blank=True)
    affected_systems = models.TextField(_("affected systems"))
    downtime_minutes = models.PositiveIntegerField(_("downtime, minutes"), null=True, blank=True)
    transfers_count = models.PositiveIntegerField(
        _("unsanctioned transfers, count"), null=True, blank=True
    )
    transfers_amount_kzt = models.DecimalField(
        _("unsanctioned transfers, total in KZT"),
        max_digits=18,
        decimal_places=2,
        null=True,
        blank=True,
    )
    cve_ids = models.JSONField(_("exploited vulnerabilities (CVE)"), default=list, blank=True)
    attack_source = models.TextField(_("attack source"), blank=True)
    attack_vector = models.TextField(_("attack vector"), blank=True)
    indicators = models.JSONField(_("indicators of compromise"), default=list, blank=True)
    impact = models.TextField(_("impact"))
    measures = models.TextField(_("measures taken"))
    tlp = models.CharField(_("confidentiality (TLP)"), max_length=16, choices=Tlp.choices)
    first_submitted_at = models.DateTimeField(_("first submitted"), null=True, blank=True)

    objects = IncidentCardQuerySet.as_manager()

    class Meta:
        ordering = ["-id"]
        verbose_name = _("incident card")
        verbose_name_plural = _("incident cards")
        indexes = [
            # The center's home page counts the cards submitted today (core.worklist).
            models.Index(fields=["submitted_at"], name="incident_submitted_at"),
            # The home queues read the most urgent cards of one state in deadline order
            # (selectors._most_urgent): the center's across organizations, a bank's its own.
            models.Index(fields=["state", "deadline_at", "updated_at"], name="incident_queue"),
            models.Index(
                fields=["organization", "state", "deadline_at", "updated_at"],
                name="incident_org_queue",
            ),
            # The center's overdue cards by organization, read from the index alone (the
            # visibility rule needs state and version).
            models.Index(
                fields=["deadline_at", "organization", "state", "version"], name="incident_overdue"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.reference} {self.title}"

    @property
    def reference(self) -> str:
        return f"INC-{self.pk:06d}" if self.pk else "INC-new"

    @property
    def state_label(self) -> str:
        return str(CardState(self.state).label)

    @property
    def time_to_submit(self) -> Any:
        """R67.12 says "immediately": how long from detection to the first submission."""
        if self.first_submitted_at is None:
            return None
        return self.first_submitted_at - self.detected_at

    @property
    def is_restricted(self) -> bool:
        return self.tlp in RESTRICTED_TLP


class AttachmentQuerySet(TenantQuerySet["Attachment"]):
    """A card's files follow the card, for the center and organizations alike."""

    tenant_field = None

    def center_scope(self, actor: Actor) -> "AttachmentQuerySet":
        return self.filter(card__in=IncidentCard.objects.visible_to(actor))

    def organization_scope(self, actor: Actor) -> "AttachmentQuerySet":
        return self.center_scope(actor)


class Attachment(StoredFile):
    """A file of an incident card (the platform's stored file, owned by the card)."""

    card = models.ForeignKey(IncidentCard, on_delete=models.PROTECT, related_name="attachments")

    objects = AttachmentQuerySet.as_manager()
