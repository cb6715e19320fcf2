"""The grouped main menu (issue 15, item 6): only the sections a person may open, in groups, the
current one marked with aria-current — the page itself "page", a page below it "true"."""

import re
from collections.abc import Callable

import pytest
from django.test import Client

from aips.shared.accounts.models import User


def _current(html: str) -> list[tuple[str, str, str]]:
    return re.findall(r'<a href="([^"]+)" aria-current="(page|true)">([^<]+)', html)


def _groups(html: str) -> list[str]:
    return re.findall(r'<span class="menu-group-label" id="[^"]+">([^<]+)</span>', html)


@pytest.mark.django_db
def test_center_admin_sees_four_groups_and_the_current_section(
    client_as: Callable[[str | None], Client], personas: dict[str, User]
) -> None:
    client = client_as("center_admin")
    html = client.get("/audit/").content.decode()
    assert _groups(html) == ["My work", "Information exchange", "Monitoring", "Administration"]
    assert _current(html) == [("/audit/", "page", "Audit journal")]
    assert '<span class="menu-here">· Audit journal</span>' in html
    # The longest matching address wins: a finding is under Correlations, not Signals.
    html = client.get("/signals/findings/").content.decode()
    assert _current(html) == [("/signals/findings/", "page", "Correlations")]
    # A page below a section marks the section as "true"; home is current only on itself.
    html = client.get("/profile/security/").content.decode()
    assert _current(html) == [("/profile/", "true", "My profile")]
    assert _current(client.get("/").content.decode()) == [("/", "page", "Overview")]


@pytest.mark.django_db
def test_bank_maker_sees_only_permitted_sections(
    client_as: Callable[[str | None], Client], personas: dict[str, User]
) -> None:
    html = client_as("bank_a_maker").get("/alerts/").content.decode()
    assert _current(html) == [("/alerts/", "page", "Alerts")]
    assert 'href="/audit/"' not in html
    assert 'href="/users/"' not in html
    assert ">My organization<" in html
    assert ">Organizations<" not in html


@pytest.mark.django_db
def test_anonymous_pages_have_no_menu(client_as: Callable[[str | None], Client]) -> None:
    html = client_as(None).get("/login/").content.decode()
    assert 'class="mainnav"' not in html
