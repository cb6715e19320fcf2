"""R67.3.1: the responsible employee, "an employee of a financial organization whose duties
include processing information in AIPS", is the role `org_responsible`: an organization's role
(never the center's) that prepares and reads the organization's information but approves nothing.
Its behaviour is covered where it acts: the authorization matrix (personas bank_a_maker,
bank_b_maker) and the maker → head flows of incident cards, alerts and requests."""

from typing import Any

from django.utils import translation

from aips.core.permissions import ROLE_PERMISSIONS, Perm, Role

PROCESSING = {
    Perm.INCIDENT_VIEW,
    Perm.INCIDENT_EDIT,
    Perm.INCIDENT_COMMENT,
    Perm.ALERT_VIEW,
    Perm.ALERT_EDIT,
    Perm.ALERT_PROCESS,
    Perm.REQUEST_VIEW,
    Perm.REQUEST_EDIT,
    Perm.REQUEST_COMMENT,
    Perm.SIGNAL_VIEW,
}
# The IS-unit head's agreement (R67.10–R67.12) and everything of the center's.
NEVER = {
    Perm.INCIDENT_APPROVE,
    Perm.ALERT_APPROVE,
    Perm.REQUEST_APPROVE,
    Perm.ALERT_PUBLISH,
    Perm.INCIDENT_REVIEW,
    Perm.USER_CREATE,
    Perm.AUDIT_VIEW,
    Perm.PATCH_VIEW,
}


def test_r67_3_1_the_responsible_employee_processes_information_and_approves_nothing() -> None:
    role = Role.ORG_RESPONSIBLE
    with translation.override("en"):
        assert role.label == "Responsible employee"
    assert not role.is_center_role
    grants = ROLE_PERMISSIONS[role]
    assert grants >= PROCESSING
    assert not grants & NEVER


def test_r67_3_1_the_demo_responsible_employees_belong_to_financial_organizations(
    personas: dict[str, Any],
) -> None:
    for key in ("bank_a_maker", "bank_b_maker"):
        person = personas[key]
        assert person.role == Role.ORG_RESPONSIBLE
        assert not person.organization.is_center
        assert person.organization.kind in {
            "bank",
            "nonresident_bank_branch",
            "banking_operations",
            "microfinance",
            "other_financial",
        }
