"""The attachment row every item type with files shares. Abstract on purpose: each owner keeps
its own table and foreign keys (PROTECT to its item), so ids, URLs and the platform's freedom
from product imports stay intact (docs/decisions/0002-attachments-abstract-model.md)."""

from django.conf import settings
from django.db import models


class StoredFile(models.Model):
    """A file stored outside the web root under its SHA-256; served only as a download."""

    file_name = models.CharField(max_length=255)
    content_type = models.CharField(max_length=100)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    # The anti-virus seam: a later issue scans files and fills this in.
    scan_status = models.CharField(max_length=16, default="not_scanned")
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        abstract = True
        ordering = ["id"]

    def __str__(self) -> str:
        return self.file_name
