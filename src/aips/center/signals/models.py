"""Signals (R67.3.6, R67.8) and what is derived from them: hourly rollups for dashboards and
per-organization indicator sightings (counted by the worker, derive.py), and cross-organization
correlation findings.

On PostgreSQL the signal table is partitioned by month of `observed_at` (migration 0002); the
idempotency key (organization, signal id, observed at) includes the partition key, as
PostgreSQL requires of a unique index on a partitioned table."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from aips.center.signals.schema import Kind, Severity
from aips.core.permissions import Perm
from aips.core.tenancy import TenantQuerySet

KIND_LABELS = {
    Kind.IDS: _("IDS/IPS"),
    Kind.WAF: _("WAF"),
    Kind.ENDPOINT: _("Endpoint protection"),
    Kind.MALWARE: _("Malicious code received"),
    Kind.PHISHING: _("Phishing message"),
    Kind.SCAN: _("Network scan"),
    Kind.BRUTE_FORCE: _("Password guessing"),
    Kind.SPRAYING: _("Password spraying"),
}
KIND_CHOICES = [(k.value, KIND_LABELS[k]) for k in Kind]
SEVERITY_LABELS = {
    Severity.INFO: _("Info"),
    Severity.LOW: _("Low"),
    Severity.MEDIUM: _("Medium"),
    Severity.HIGH: _("High"),
    Severity.CRITICAL: _("Critical"),
}
SEVERITY_CHOICES = [(n, SEVERITY_LABELS[s]) for n, s in enumerate(Severity)]


class SignalQuerySet(TenantQuerySet["Signal"]):
    """An organization sees its own signals; the center sees all (R67.4)."""

    view_perm = Perm.SIGNAL_VIEW


class Signal(models.Model):
    seq = models.BigAutoField(primary_key=True)
    organization = models.ForeignKey(
        "organizations.Organization", on_delete=models.PROTECT, related_name="+", db_index=False
    )
    module = models.ForeignKey(
        "integrations.IntegrationModule", on_delete=models.PROTECT, related_name="+", db_index=False
    )
    signal_id = models.UUIDField()
    kind = models.CharField(_("kind"), max_length=16, choices=KIND_CHOICES)
    observed_at = models.DateTimeField(_("observed"))
    received_at = models.DateTimeField(_("received"))
    severity = models.PositiveSmallIntegerField(_("severity"), choices=SEVERITY_CHOICES)
    product = models.CharField(_("product"), max_length=128)
    vendor = models.CharField(_("vendor"), max_length=128)
    product_version = models.CharField(max_length=128, blank=True)
    sensor = models.CharField(_("sensor"), max_length=128, blank=True)
    rule_id = models.CharField(max_length=128, blank=True)
    rule_name = models.CharField(_("rule"), max_length=512, blank=True)
    src_ip = models.GenericIPAddressField(_("source"), null=True, blank=True)
    src_port = models.PositiveIntegerField(null=True, blank=True)
    dst_ip = models.GenericIPAddressField(_("destination"), null=True, blank=True)
    dst_port = models.PositiveIntegerField(null=True, blank=True)
    protocol = models.CharField(max_length=16, blank=True)
    direction = models.CharField(max_length=8, blank=True)
    count = models.PositiveIntegerField(default=1)
    first_seen = models.DateTimeField(null=True, blank=True)
    last_seen = models.DateTimeField(null=True, blank=True)
    # The signal's main non-address indicator (a file hash, URL, sender), for pivoting.
    ioc = models.CharField(max_length=512, blank=True)
    details = models.JSONField(default=dict)

    objects = SignalQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "signal_id", "observed_at"], name="signal_idempotency"
            )
        ]
        indexes = [
            models.Index(fields=["organization", "-observed_at", "-seq"], name="signal_org_feed"),
            models.Index(fields=["-observed_at", "-seq"], name="signal_feed"),
            models.Index(fields=["src_ip", "-observed_at"], name="signal_src_ip"),
            models.Index(fields=["ioc", "-observed_at"], name="signal_ioc"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.signal_id}"


class SignalRollupQuerySet(TenantQuerySet["SignalRollup"]):
    view_perm = Perm.SIGNAL_VIEW


class SignalRollup(models.Model):
    """Signals per hour × organization × module × kind: accepted ones counted by the worker from
    the stored signals (derive.py), duplicates and rejected items by the ingest answer; so
    dashboards and module health never scan raw signals."""

    bucket = models.DateTimeField()
    organization = models.ForeignKey(
        "organizations.Organization", on_delete=models.PROTECT, related_name="+"
    )
    module = models.ForeignKey(
        "integrations.IntegrationModule", on_delete=models.PROTECT, related_name="+"
    )
    # "" for items rejected before their kind was known.
    kind = models.CharField(max_length=16, blank=True)
    accepted = models.PositiveBigIntegerField(default=0)
    duplicates = models.PositiveBigIntegerField(default=0)
    rejected = models.PositiveBigIntegerField(default=0)

    objects = SignalRollupQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["bucket", "organization", "module", "kind"], name="signal_rollup_key"
            )
        ]
        indexes = [
            models.Index(fields=["organization", "bucket"], name="signal_rollup_org"),
            # The center's dashboards and histogram sum a day or a week of every organization's
            # rollups; covering them makes that an index-only scan on PostgreSQL (measured over
            # 10M signals: 174 ms to 14 ms for the totals by kind).
            models.Index(
                fields=["bucket"],
                include=["organization", "kind", "accepted"],
                name="signal_rollup_dashboard",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.bucket:%Y-%m-%d %H}:00 {self.kind}"


class IndicatorType(models.TextChoices):
    IP = "ip", _("IP address")
    DOMAIN = "domain", _("Domain")
    URL = "url", _("URL")
    HASH = "hash", _("File hash")
    EMAIL = "email", _("Sender address")


class IndicatorSightingQuerySet(TenantQuerySet["IndicatorSighting"]):
    view_perm = Perm.SIGNAL_VIEW


class IndicatorSighting(models.Model):
    """How often one organization's signals carried one indicator, and when (R67.8)."""

    type = models.CharField(max_length=8, choices=IndicatorType.choices)
    value = models.CharField(max_length=512)
    organization = models.ForeignKey(
        "organizations.Organization", on_delete=models.PROTECT, related_name="+"
    )
    count = models.PositiveBigIntegerField(default=0)
    first_seen = models.DateTimeField()
    last_seen = models.DateTimeField()

    objects = IndicatorSightingQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["type", "value", "organization"], name="indicator_sighting_key"
            )
        ]
        # No index on last_seen: every batch updates it, and an index on it would make each
        # of those updates non-HOT. The worker's correlation scan reads the table instead.

    def __str__(self) -> str:
        return f"{self.type}:{self.value}"


class FindingState(models.TextChoices):
    OPEN = "open", pgettext_lazy("finding status", "Open")
    PROMOTED = "promoted", _("Draft alert created")
    DISMISSED = "dismissed", _("Dismissed")
    LINKED = "linked", _("Linked to an existing alert")
    MERGED = "merged", _("Merged into another finding")


class CorrelationFindingQuerySet(TenantQuerySet["CorrelationFinding"]):
    """Findings span organizations, so they are the center's alone: with no `tenant_field`, an
    organization sees none of them."""

    tenant_field = None
    view_perm = Perm.CORRELATION_VIEW


class CorrelationFinding(models.Model):
    """Indicators seen at ≥ N organizations within the window that arrived together (in the
    same signals): one candidate threat alert. `type`/`value` name the group's lead indicator
    (the one seen at the most organizations when the finding opened); `indicators` holds the
    whole group, the lead included."""

    type = models.CharField(max_length=8, choices=IndicatorType.choices)
    value = models.CharField(max_length=512)
    state = models.CharField(
        _("status"), max_length=16, choices=FindingState.choices, default=FindingState.OPEN
    )
    organization_count = models.PositiveIntegerField(_("organizations"))
    signal_count = models.PositiveBigIntegerField(_("signals"))
    organization_ids = models.JSONField(default=list)
    first_seen = models.DateTimeField()
    last_seen = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    alert = models.ForeignKey(
        "alerts.Alert", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Set when a later correlation run found this finding's group and an older open finding's
    # to be one: this one is closed and its indicators moved to the older one.
    merged_into = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="merged_findings"
    )

    objects = CorrelationFindingQuerySet.as_manager()

    class Meta:
        ordering = ["-last_seen"]
        indexes = [models.Index(fields=["type", "value", "state"], name="finding_indicator")]

    def __str__(self) -> str:
        return f"{self.type}:{self.value}"


class FindingIndicator(models.Model):
    """One indicator of a finding's group. A table rather than a JSON list, so that the worker
    finds the finding holding an indicator through an index on both databases."""

    finding = models.ForeignKey(
        CorrelationFinding, on_delete=models.CASCADE, related_name="indicators"
    )
    type = models.CharField(max_length=8, choices=IndicatorType.choices)
    value = models.CharField(max_length=512)
    organization_count = models.PositiveIntegerField(default=0)
    signal_count = models.PositiveBigIntegerField(default=0)
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-organization_count", "type", "value"]
        constraints = [
            models.UniqueConstraint(
                fields=["finding", "type", "value"], name="finding_indicator_key"
            )
        ]
        indexes = [models.Index(fields=["type", "value"], name="finding_indicator_value")]

    def __str__(self) -> str:
        return f"{self.type}:{self.value}"


class ArchivedMonth(models.Model):
    """A month of signals moved out of the online store (R57.17: 3 months online)."""

    month = models.DateField(unique=True)
    path = models.CharField(max_length=500)
    rows = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    archived_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-month"]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m}"


class DerivePosition(models.Model):
    """How far the worker has derived sightings and rollups from the signals: every signal with
    `seq` up to `seq` is counted, none above it (derive.py). One row, "counts"; moved in the
    same transaction as the counts it stands for."""

    name = models.CharField(max_length=32, primary_key=True)
    seq = models.BigIntegerField(default=0)
    updated_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.name}: {self.seq}"
