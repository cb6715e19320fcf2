"""Threat alerts (R67.3.3, R67.10) and vulnerability alerts (R67.3.5), broadcast to financial
organizations, each of which acknowledges: accept or decline within 1 working day, then mark
processed once the recommendations are applied (R67.13)."""

from django.conf import settings
from django.db import models
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from aips.core.actors import Actor
from aips.core.permissions import Perm
from aips.core.tenancy import TenantQuerySet
from aips.core.tlp import RESTRICTED_TLP, Tlp
from aips.shared.workflow.models import WorkflowItem


class AlertKind(models.TextChoices):
    THREAT = "threat", _("Threat alert")
    VULNERABILITY = "vulnerability", _("Vulnerability alert")


class ThreatLevel(models.TextChoices):
    LOW = "low", _("Low")
    MEDIUM = "medium", _("Medium")
    HIGH = "high", _("High")
    CRITICAL = "critical", _("Critical")


class AlertState(models.TextChoices):
    DRAFT = "draft", _("Draft")
    AWAITING_APPROVAL = "awaiting_approval", _("Awaiting the head's approval")
    SUBMITTED = "submitted", _("Submitted to the center")
    RETURNED = "returned", _("Returned for rework")
    PUBLISHED = "published", _("Published")


class ThreatType(models.Model):
    """The managed list of threat types, seeded from ENISA's reference incident taxonomy."""

    code = models.CharField(max_length=64, unique=True)
    name_en = models.CharField(max_length=200)
    name_ru = models.CharField(max_length=200)
    name_kk = models.CharField(max_length=200)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        language = (translation.get_language() or "en")[:2]
        return str(getattr(self, f"name_{language}", "") or self.name_en)


class AlertQuerySet(TenantQuerySet["Alert"]):
    """The center sees its own drafts and everything submitted or published; an organization sees
    its own alerts and the published ones it received."""

    view_perm = Perm.ALERT_VIEW

    def center_scope(self, actor: Actor) -> "AlertQuerySet":
        return self.filter(
            models.Q(organization_id=actor.organization_id)
            | models.Q(state__in=[AlertState.SUBMITTED, AlertState.RETURNED, AlertState.PUBLISHED])
            | models.Q(version__gte=1)
        )

    def organization_scope(self, actor: Actor) -> "AlertQuerySet":
        return self.filter(
            models.Q(organization_id=actor.organization_id)
            | models.Q(
                state=AlertState.PUBLISHED, recipients__organization_id=actor.organization_id
            )
        ).distinct()


class Alert(WorkflowItem):
    kind = models.CharField(_("kind"), max_length=16, choices=AlertKind.choices)
    title = models.CharField(_("title"), max_length=300)
    source = models.CharField(_("source"), max_length=300)
    threat_type = models.ForeignKey(
        ThreatType, null=True, blank=True, on_delete=models.PROTECT, verbose_name=_("threat type")
    )
    level = models.CharField(_("threat level"), max_length=16, choices=ThreatLevel.choices)
    tlp = models.CharField(_("confidentiality (TLP)"), max_length=16, choices=Tlp.choices)
    description = models.TextField(_("description"))
    recommendations = models.TextField(_("recommendations"))
    indicators = models.JSONField(_("indicators of compromise"), default=list, blank=True)
    valid_until = models.DateTimeField(_("valid until"), null=True, blank=True)
    # Vulnerability alerts (R67.3.5).
    cve_ids = models.JSONField(_("CVE ids"), default=list, blank=True)
    cvss_vector = models.CharField(_("CVSS vector"), max_length=200, blank=True)
    cvss_version = models.CharField(max_length=8, blank=True)
    cvss_score = models.DecimalField(max_digits=3, decimal_places=1, null=True, blank=True)
    cvss_severity = models.CharField(max_length=16, blank=True)
    affected = models.JSONField(_("affected products"), default=list, blank=True)
    references = models.JSONField(_("references"), default=list, blank=True)
    known_exploited = models.BooleanField(_("known to be exploited"), default=False)
    # A CSAF advisory's `document.tracking` id and version: the same pair is not imported twice
    # into one organization's alerts (a batch skips it as a duplicate).
    csaf_tracking_id = models.CharField(max_length=200, blank=True, db_index=True)
    csaf_version = models.CharField(max_length=50, blank=True)
    # Publishing.
    anonymous = models.BooleanField(
        _("publish without naming the originating organization"), default=False
    )
    published_at = models.DateTimeField(_("published"), null=True, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    objects = AlertQuerySet.as_manager()

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{self.reference} {self.title}"

    @property
    def reference(self) -> str:
        prefix = "THR" if self.kind == AlertKind.THREAT else "VUL"
        return f"{prefix}-{self.pk:06d}" if self.pk else f"{prefix}-new"

    @property
    def state_label(self) -> str:
        return str(AlertState(self.state).label)

    @property
    def is_restricted(self) -> bool:
        return self.tlp in RESTRICTED_TLP


class RecipientStatus(models.TextChoices):
    DELIVERED = "delivered", _("Delivered")
    ACCEPTED = "accepted", _("Recommendations accepted")
    DECLINED = "declined", _("Recommendations declined")
    PROCESSED = "processed", _("Processed")


class RecipientQuerySet(TenantQuerySet["AlertRecipient"]):
    """An organization sees only its own acknowledgement; the center sees all."""

    view_perm = Perm.ALERT_VIEW


class AlertRecipient(models.Model):
    """One organization's copy of a published alert and its acknowledgement (R67.13)."""

    alert = models.ForeignKey(Alert, on_delete=models.PROTECT, related_name="recipients")
    organization = models.ForeignKey(
        "organizations.Organization", on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(
        max_length=16, choices=RecipientStatus.choices, default=RecipientStatus.DELIVERED
    )
    delivered_at = models.DateTimeField()
    # "Within 1 working day" (R67.13); cleared once the organization answers.
    deadline_at = models.DateTimeField(null=True, blank=True, db_index=True)
    due_at = models.DateTimeField()
    responded_at = models.DateTimeField(null=True, blank=True)
    responded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reason = models.TextField(blank=True)
    processed_at = models.DateTimeField(null=True, blank=True)
    processed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # TLP:RED / AMBER+STRICT: only these people of the organization may read the content.
    named_users = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="+")

    objects = RecipientQuerySet.as_manager()

    class Meta:
        ordering = ["alert_id", "organization_id"]
        constraints = [
            models.UniqueConstraint(fields=["alert", "organization"], name="alert_recipient_unique")
        ]

    def __str__(self) -> str:
        return f"{self.alert_id} → {self.organization_id}"

    @property
    def late(self) -> bool:
        """Answered after the deadline, or still unanswered past it."""
        from django.utils import timezone

        answered = self.responded_at
        return (answered or timezone.now()) > self.due_at

    @property
    def status_label(self) -> str:
        return str(RecipientStatus(self.status).label)


class CsafBatchState(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Fetching the advisories")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


class CsafItemState(models.TextChoices):
    PENDING = "pending", _("Waiting")
    IMPORTED = "imported", _("Imported")
    DUPLICATE = "duplicate", _("Already imported")
    FAILED = "failed", _("Failed")


class CsafBatchQuerySet(TenantQuerySet["CsafBatch"]):
    """Everyone, the center included, sees its own organization's batches: a batch only makes
    drafts, which are the organization's own."""

    view_perm = Perm.ALERT_EDIT

    def center_scope(self, actor: Actor) -> "CsafBatchQuerySet":
        if actor.organization_id is None:
            return self.none()  # the system starts no batches
        return self.filter(organization_id=actor.organization_id)


class CsafBatch(models.Model):
    """A ROLIE feed or a provider's metadata (provider-metadata.json) imported as many drafts
    (R67.3.5): the worker fetches the advisories it lists (aips.center.alerts.csaf_batch)."""

    organization = models.ForeignKey(
        "organizations.Organization", on_delete=models.PROTECT, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    # Where the list came from: the URL it was fetched from, or the uploaded file's name.
    source_url = models.CharField(max_length=2000, blank=True)
    file_name = models.CharField(max_length=300, blank=True)
    # "rolie_feed" or "provider_metadata"; empty until the list is read.
    source_kind = models.CharField(max_length=32, blank=True)
    title = models.CharField(max_length=300, blank=True)
    # URLs still to be read for the list of advisories (ROLIE feeds, directory index.txt files).
    pending_sources = models.JSONField(default=list, blank=True)
    state = models.CharField(
        max_length=16, choices=CsafBatchState.choices, default=CsafBatchState.QUEUED
    )
    error = models.TextField(blank=True)
    tlp = models.CharField(max_length=16, choices=Tlp.choices)
    level = models.CharField(max_length=16, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # Taken by a worker reading the batch's lists (cleared when done; stale after a while, so a
    # worker that died does not hold the batch forever).
    claimed_at = models.DateTimeField(null=True, blank=True)

    objects = CsafBatchQuerySet.as_manager()

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["state"], name="alerts_csafbatch_state")]

    def __str__(self) -> str:
        return f"CSAF-{self.pk}"

    @property
    def state_label(self) -> str:
        return str(CsafBatchState(self.state).label)

    @property
    def source(self) -> str:
        return self.source_url or self.file_name


class CsafBatchItem(models.Model):
    """One advisory a batch lists, and what became of it."""

    batch = models.ForeignKey(CsafBatch, on_delete=models.CASCADE, related_name="items")
    url = models.CharField(max_length=2000)
    # The feed's `.sha256` / `.sha512` sidecar link, when it names one.
    hash_url = models.CharField(max_length=2000, blank=True)
    state = models.CharField(
        max_length=16, choices=CsafItemState.choices, default=CsafItemState.PENDING
    )
    reason = models.TextField(blank=True)
    tracking_id = models.CharField(max_length=200, blank=True)
    tracking_version = models.CharField(max_length=50, blank=True)
    alert = models.ForeignKey(
        Alert, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    done_at = models.DateTimeField(null=True, blank=True)
    # Taken by a worker fetching it (as CsafBatch.claimed_at).
    claimed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["batch_id", "id"]
        constraints = [
            models.UniqueConstraint(fields=["batch", "url"], name="alerts_csafitem_unique_url")
        ]

    def __str__(self) -> str:
        return self.url

    @property
    def state_label(self) -> str:
        return str(CsafItemState(self.state).label)
