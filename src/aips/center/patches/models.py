"""The last dependency scans and the vulnerabilities they listed. Not tenant data: the platform's
own software, seen by holders of `patch:view` (the center's administrators and auditors)."""

import calendar
from datetime import date

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from aips.core.permissions import Perm
from aips.core.tenancy import TenantQuerySet

# R57.13: security updates are installed within one month of the vendor publishing them.
DEADLINE_MONTHS = 1


def add_months(day: date, months: int) -> date:
    """The same day `months` calendar months later, or that month's last day (31.01 → 28.02)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return day.replace(
        year=year, month=month, day=min(day.day, calendar.monthrange(year, month)[1])
    )


class ScanQuerySet(TenantQuerySet["DependencyScan"]):
    """No organization owns a scan: holders of patch:view (center roles only) see all of them,
    organizations none (the base's rule for `tenant_field = None`)."""

    tenant_field = None
    view_perm = Perm.PATCH_VIEW


class VulnerabilityQuerySet(TenantQuerySet["KnownVulnerability"]):
    """As ScanQuerySet."""

    tenant_field = None
    view_perm = Perm.PATCH_VIEW


class DependencyScan(models.Model):
    scanned_at = models.DateTimeField(_("scanned at"))
    imported_at = models.DateTimeField(_("imported at"), auto_now_add=True)
    source = models.CharField(_("source"), max_length=255)
    tool = models.CharField(_("tool"), max_length=100)
    dependencies = models.PositiveIntegerField(_("dependencies"), default=0)
    vulnerabilities = models.PositiveIntegerField(_("vulnerabilities"), default=0)
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("imported by"),
    )

    objects = ScanQuerySet.as_manager()

    class Meta:
        ordering = ["-scanned_at", "-id"]
        verbose_name = _("dependency scan")
        verbose_name_plural = _("dependency scans")

    def __str__(self) -> str:
        return f"scan {self.scanned_at:%Y-%m-%d %H:%M} ({self.vulnerabilities})"


class KnownVulnerability(models.Model):
    """One vulnerability of one locked version of a package. A later scan that no longer lists
    it (the package was upgraded or the advisory withdrawn) marks it resolved."""

    package = models.CharField(_("package"), max_length=200)
    version = models.CharField(_("version"), max_length=100)
    vuln_id = models.CharField(_("vulnerability"), max_length=100)
    aliases = models.JSONField(_("aliases"), default=list)
    fix_versions = models.JSONField(_("fixed in"), default=list)
    fix_published = models.DateField(_("fix published"), null=True, blank=True)
    description = models.TextField(_("description"), blank=True)
    locks = models.JSONField(_("lock files"), default=list)
    first_seen = models.DateField(_("first seen"))
    last_scan = models.ForeignKey(
        DependencyScan, on_delete=models.PROTECT, related_name="+", verbose_name=_("last scan")
    )
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)

    objects = VulnerabilityQuerySet.as_manager()

    class Meta:
        ordering = ["package", "vuln_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["package", "version", "vuln_id"], name="patches_vuln_unique"
            )
        ]
        verbose_name = _("known vulnerability")
        verbose_name_plural = _("known vulnerabilities")

    def __str__(self) -> str:
        return f"{self.package} {self.version} {self.vuln_id}"

    @property
    def clock_start(self) -> date | None:
        """The deadline runs from the fix's publication; when the scan could not tell that date,
        from the day the vulnerability was first seen (never later than the truth would be).
        No fixing release yet: no clock."""
        if not self.fix_versions:
            return None
        return self.fix_published or self.first_seen

    @property
    def deadline(self) -> date | None:
        start = self.clock_start
        return add_months(start, DEADLINE_MONTHS) if start is not None else None
