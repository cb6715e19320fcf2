"""The patch report: open vulnerabilities with their deadline and days left, and the last scan."""

from dataclasses import dataclass
from datetime import date

from aips.center.patches.models import DependencyScan, KnownVulnerability
from aips.core.actors import Viewer


@dataclass(frozen=True)
class PatchRow:
    vulnerability: KnownVulnerability
    deadline: date | None
    days_left: int | None  # negative: overdue by that many days
    # What the deadline counts from: "fix_published", "first_seen" (the fix's date was not
    # known) or "no_fix" (no fixing release yet: watched, no clock).
    basis: str

    @property
    def overdue(self) -> bool:
        return self.days_left is not None and self.days_left < 0

    @property
    def overdue_days(self) -> int:
        return -self.days_left if self.days_left is not None and self.days_left < 0 else 0


def latest_scan(*, actor: Viewer) -> DependencyScan | None:
    return DependencyScan.objects.visible_to(actor).order_by("-scanned_at", "-id").first()


def patch_rows(*, actor: Viewer, today: date) -> list[PatchRow]:
    """Open vulnerabilities, the most urgent first (overdue, then the nearest deadline; those
    without a fix last)."""
    rows = []
    for vuln in KnownVulnerability.objects.visible_to(actor).filter(resolved_at__isnull=True):
        deadline = vuln.deadline
        if not vuln.fix_versions:
            basis = "no_fix"
        elif vuln.fix_published is not None:
            basis = "fix_published"
        else:
            basis = "first_seen"
        rows.append(
            PatchRow(
                vulnerability=vuln,
                deadline=deadline,
                days_left=(deadline - today).days if deadline is not None else None,
                basis=basis,
            )
        )
    return sorted(
        rows,
        key=lambda r: (
            r.deadline is None,
            r.deadline or today,
            r.vulnerability.package,
            r.vulnerability.vuln_id,
        ),
    )


def recently_resolved(*, actor: Viewer, limit: int = 20) -> list[KnownVulnerability]:
    return list(
        KnownVulnerability.objects.visible_to(actor)
        .filter(resolved_at__isnull=False)
        .order_by("-resolved_at", "package")[:limit]
    )
