"""The alert form's TLP help says exactly who receives and who reads (decision 0029)."""

from collections.abc import Callable

from django.test import Client

from aips.center.alerts.forms import AlertForm
from aips.core.permissions import Role
from aips.shared.accounts.models import User


def test_r67_13_tlp_help_names_the_readers_the_code_names(
    personas: dict[str, User], client_as: Callable[[str | None], Client]
) -> None:
    help_text = str(AlertForm.base_fields["tlp"].help_text)
    assert "TLP:CLEAR and TLP:GREEN go to every active organization" in help_text
    assert "TLP:AMBER, TLP:AMBER+STRICT and TLP:RED only to the organizations" in help_text
    # services.alert_publish names both roles as readers (decision 0029), and so must the text.
    assert {personas["bank_a_head"].role, personas["bank_a_maker"].role} == {
        Role.ORG_HEAD,
        Role.ORG_RESPONSIBLE,
    }
    assert "IS-unit heads and responsible employees" in help_text
    assert "shown only to their IS-unit heads." not in help_text
    page = client_as("center_analyst").get("/alerts/new/").content.decode()
    assert "heads and responsible employees they have when the alert is published" in page
