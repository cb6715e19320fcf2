"""The procedures' settings (docs/domains/etp.md, "Applications and deposits")."""

from decimal import Decimal

from django.conf import settings


def deposit_percent() -> Decimal:
    """The deposit as a percentage of the start price, fixed when a procedure is announced."""
    return Decimal(str(getattr(settings, "AIPS_ETP_DEPOSIT_PERCENT", 10)))


def show_applicant_count() -> bool:
    """Whether the public and participants see how many applied (off: it invites collusion)."""
    return bool(getattr(settings, "AIPS_ETP_SHOW_APPLICANT_COUNT", False))
