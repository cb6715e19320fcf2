"""The attachment row every item type with files shares. Abstract on purpose: each owner keeps
its own table and foreign keys (PROTECT to its item), so ids, URLs and the platform's freedom
from product imports stay intact (docs/decisions/0002-attachments-abstract-model.md)."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class ScanStatus(models.TextChoices):
    """Where a stored file is in the anti-virus scan (R57.12). Only "clean" is ever served."""

    PENDING = "pending", _("Awaiting the anti-virus scan")
    CLEAN = "clean", _("Scanned: no malware found")
    INFECTED = "infected", _("Quarantined: malware found")
    FAILED = "failed", _("Scan failed; it will be retried")


# Rows stored before scanning existed say "not_scanned"; the worker scans them like "pending".
NOT_SCANNED = "not_scanned"
UNSETTLED = (NOT_SCANNED, ScanStatus.PENDING, ScanStatus.FAILED)


class StoredFile(models.Model):
    """A file stored outside the web root under its SHA-256; served only as a download."""

    file_name = models.CharField(max_length=255)
    content_type = models.CharField(max_length=100)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    # A `ScanStatus` value, copied by the worker from the content's `ContentScan` for lists and
    # the API; the download gate reads `ContentScan` itself (web.py). No choices here: the field
    # lives in each owner's table, and the legacy default stays "not_scanned".
    scan_status = models.CharField(max_length=16, default=NOT_SCANNED)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        abstract = True
        ordering = ["id"]

    def __str__(self) -> str:
        return self.file_name


class ContentScan(models.Model):
    """The anti-virus verdict on one stored content. Identical bytes are stored once under their
    SHA-256, so they are scanned once and every owner's row with that SHA-256 shares the verdict.
    Platform-internal: no tenant's data, never listed to anyone (docs/domains/files.md)."""

    sha256 = models.CharField(max_length=64, unique=True)
    status = models.CharField(
        max_length=16, choices=ScanStatus.choices, default=ScanStatus.PENDING, db_index=True
    )
    signature = models.CharField(max_length=255, blank=True)  # what clamd found
    engine = models.CharField(max_length=255, blank=True)  # clamd's VERSION at the scan
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now, db_index=True)
    last_error = models.CharField(max_length=500, blank=True)
    scanned_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects: "models.Manager[ContentScan]" = models.Manager()

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.sha256[:12]} {self.status}"
