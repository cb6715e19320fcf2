"""The demo participants sign in as R57.10 requires: their organizations accept only EDS or
biometrics, their IINs are bound, and on a local run (`make run`, the fake biometric provider)
a newcomer signs in with the printed password and the fake provider's "Pass". A TOTP code is
refused; the printed sign-in table says how each person signs in."""

import io
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from aips.demo_etp import PARTICIPANT_IINS, USERS, command, demo_totp_secret, load_demo
from aips.shared.accounts.models import User, UserSession
from aips.shared.organizations.models import Organization

pytestmark = pytest.mark.django_db

PASSWORDS = {person.key: person.password for person in USERS}


def _password_step(person: User) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.cookies["aips_language"] = "en"
    response = client.post("/login/", {"email": person.email, "password": PASSWORDS[_key(person)]})
    assert response["Location"] == reverse("accounts:login_verify")
    return client


def _key(person: User) -> str:
    return next(user.key for user in USERS if user.email == person.email)


@pytest.mark.parametrize("key", sorted(PARTICIPANT_IINS))
def test_r57_10_a_demo_participant_signs_in_with_the_password_and_biometrics(
    personas: dict[str, User], key: str, settings: Any
) -> None:
    settings.AIPS_BIOMETRIC_PROVIDER = "fake"  # what `make run` uses without HTTPS
    person = personas[key]
    assert person.organization.strong_auth_required
    assert person.iin == PARTICIPANT_IINS[key]
    assert not TOTPDevice.objects.filter(user=person).exists()
    client = _password_step(person)
    page = client.get("/login/verify/")
    assert page.context["strong_required"]
    assert not page.context["has_codes"]  # no code field: a code is not enough
    assert "Sign in with biometrics" in page.text
    started = client.post("/biometrics/sign-in/")
    assert started["Location"].startswith("/biometrics/fake/"), started["Location"]
    fake_page = client.get(started["Location"])
    assert person.iin[-4:] in fake_page.text  # the provider checks the bound IIN
    clicked = client.post(started["Location"], {"scenario": "pass"})
    done = client.get(clicked["Location"])
    assert done.status_code == 302
    assert done["Location"] == reverse("etp_portal:workspace")
    assert UserSession.objects.get(user=person).second_factor == "biometrics"
    assert client.get("/workspace/").status_code == 200


def test_r57_10_a_demo_participant_cannot_sign_in_with_a_code(personas: dict[str, User]) -> None:
    person = personas["participant_company_1_rep"]
    client = _password_step(person)
    refused = client.post("/login/verify/", {"code": "123456"})
    assert refused.status_code == 401
    assert "requires EDS or biometrics" in refused.text
    assert client.session.get("_auth_user_id") is None


def test_the_demo_sign_in_table_says_how_each_person_signs_in(
    personas: dict[str, User],
) -> None:
    # A demo loaded before participants had to use a strong factor is brought up to date.
    person = personas["participant_person_2"]
    Organization.objects.filter(pk=person.organization_id).update(strong_auth_required=False)
    User.objects.filter(pk=person.pk).update(iin="", iin_bound_at=None, iin_bound_by="")
    out = io.StringIO()
    command(out)
    person.refresh_from_db()
    assert person.iin == PARTICIPANT_IINS["participant_person_2"]
    assert Organization.objects.get(pk=person.organization_id).strong_auth_required
    lines = {user.key: line for user in USERS for line in out.getvalue().splitlines()
             if user.email in line}  # fmt: skip
    for user in USERS:
        if user.key in PARTICIPANT_IINS:
            assert f"biometrics, IIN {PARTICIPANT_IINS[user.key]}" in lines[user.key]
            assert "TOTP" not in lines[user.key]
        else:
            assert f"TOTP {demo_totp_secret(user.email)}" in lines[user.key]
        assert user.password in lines[user.key]
    assert "Sign in with biometrics" in out.getvalue()
    # Loading again changes nothing.
    assert load_demo()["participant_person_2"].iin == person.iin
