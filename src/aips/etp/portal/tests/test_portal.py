"""The portal: the public catalogue is the home page, each signed-in person lands on their
workspace, and `GET /api/v1/me` says who the caller is on the ETP."""

from collections.abc import Callable

import pytest
from django.test import Client

from aips.conftest import sign_in
from aips.etp.permissions import EtpPerm
from aips.shared.accounts.models import User


def test_the_catalogue_is_public_and_says_what_the_etp_is(db: None) -> None:
    response = Client(HTTP_ACCEPT_LANGUAGE="en").get("/")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="etp-about"' in html
    assert 'id="no-lots"' in html
    assert 'href="/login/"' in html


@pytest.mark.parametrize(
    ("persona", "duty"),
    [
        ("operator_verifier", "You verify the lots"),
        ("operator_admission", "guarantee deposits"),
        ("seller_a_maker", "You prepare your"),
        ("seller_b_signatory", "You approve your"),
        ("participant_company_1_rep", "You apply to auctions"),
    ],
)
def test_the_workspace_shows_the_role_and_its_duties(
    client_as: Callable[[str | None], Client], personas: dict[str, User], persona: str, duty: str
) -> None:
    html = client_as(persona).get("/workspace/").content.decode()
    assert f'data-role="{personas[persona].role}"' in html
    assert duty in html
    assert personas[persona].organization.display_name in html


def test_r57_8_signing_in_lands_on_the_workspace(personas: dict[str, User]) -> None:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    response = sign_in(
        client, "verifier@etp.example.kz", "Etp-Verifier-2026", personas["operator_verifier"]
    )
    assert response.status_code == 302
    assert response["Location"] == "/workspace/"
    # Signed in, the sign-in page sends the person on to their workspace too.
    assert client.get("/login/")["Location"] == "/workspace/"


def test_api_me_names_the_role_organization_and_permissions(
    client_as: Callable[[str | None], Client], personas: dict[str, User]
) -> None:
    answer = client_as("seller_a_signatory").get("/api/v1/me").json()
    assert answer["role"] == "seller_signatory"
    assert answer["organization"]["kind"] == "bank"
    assert EtpPerm.LOT_APPROVE in answer["permissions"]
    assert EtpPerm.LOT_VERIFY not in answer["permissions"]
    assert Client().get("/api/v1/me").status_code == 401
