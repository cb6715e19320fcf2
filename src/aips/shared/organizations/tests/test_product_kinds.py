"""Organization kinds per product (docs/decisions/0036-the-etp-as-a-second-product.md): the
kinds are the platform's, each product accepts its own (AIPS: banks, MFOs… and the center), and
the one organization that sees every tenant is the center or, on the ETP, the operator."""

import pytest

from aips.core.actors import SystemActor
from aips.core.errors import ValidationFailed
from aips.shared.organizations import services
from aips.shared.organizations.models import Organization, OrganizationKind


@pytest.mark.parametrize(
    "kind",
    [
        OrganizationKind.OPERATOR,
        OrganizationKind.PARTICIPANT_LEGAL,
        OrganizationKind.PARTICIPANT_INDIVIDUAL,
    ],
)
def test_r67_5_aips_holds_no_etp_kind(db: None, kind: str) -> None:
    with pytest.raises(ValidationFailed) as refused:
        services.organization_create(
            actor=SystemActor(label="test"),
            name="Not for AIPS",
            bin="990840001239",
            email="etp@example.kz",
            kind=kind,
        )
    assert "kind" in refused.value.fields


def test_r67_4_the_center_and_the_operator_see_every_tenant() -> None:
    assert Organization(kind=OrganizationKind.CENTER).is_center
    assert Organization(kind=OrganizationKind.OPERATOR).is_center
    for kind in (
        OrganizationKind.BANK,
        OrganizationKind.MICROFINANCE,
        OrganizationKind.PARTICIPANT_LEGAL,
        OrganizationKind.PARTICIPANT_INDIVIDUAL,
    ):
        assert not Organization(kind=kind).is_center, kind
