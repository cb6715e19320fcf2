"""`{% lot_procedure lot %}`: a lot's announced schedule and deposit on its public page."""

from typing import Any

from django import template

from aips.etp.applications import selectors

register = template.Library()


@register.inclusion_tag("etp_applications/_procedure.html")
def lot_procedure(lot_id: int, currency: str) -> dict[str, Any]:
    """On the public lot page (the lot is already public there)."""
    procedure = selectors.procedure_of(lot_id)
    return {
        "procedure": procedure,
        "currency": currency,
        "applicants": selectors.applicant_count(procedure) if procedure else None,
    }
