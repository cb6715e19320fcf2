"""Template tags for pages that list stored files: the banner shown when anti-virus scanning is
not configured, and a file's scan state next to its name (R57.12)."""

from typing import Any

from django import template

from aips.shared.files.models import NOT_SCANNED, ScanStatus
from aips.shared.files.selectors import scanning_configured

register = template.Library()


@register.inclusion_tag("files/_scan_banner.html")
def antivirus_banner() -> dict[str, Any]:
    """`{% antivirus_banner %}`: a notice on pages with files while no scanner is configured."""
    return {"configured": scanning_configured()}


@register.inclusion_tag("files/_scan_state.html")
def scan_state(stored: Any) -> dict[str, Any]:
    """`{% scan_state file %}`: nothing for a clean file, else why it cannot be downloaded."""
    status = getattr(stored, "scan_status", "") or ScanStatus.PENDING
    if status == NOT_SCANNED or status not in ScanStatus.values:
        status = ScanStatus.PENDING
    return {"status": status, "label": ScanStatus(status).label}
