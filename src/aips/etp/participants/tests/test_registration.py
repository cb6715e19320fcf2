"""Participants' self-registration with EDS (R57.9), the strong factor at every later sign-in
(R57.10), the password change behind biometrics (R57.11), the security notices (R57.27.10), the
profile and its isolation.

Signatures are real CMS made with keys of a test CA of our own (`TestPki`) valid now; the views
judge them through `identity.eds_clock`, which these tests replace."""

import base64
import re
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from aips.etp.participants.models import EmailConfirmation, ParticipantProfile
from aips.etp.participants.selectors import email_confirmed
from aips.etp.participants.services import bic_error, iban_error
from aips.shared.accounts import identity
from aips.shared.accounts import services as account_services
from aips.shared.accounts.models import IdentityProof, User
from aips.shared.audit.models import AuditEvent, EventType
from aips.shared.eds.keystore import KeyBundle
from aips.shared.eds.testing import TestPki, sign_cms
from aips.shared.eds.types import Purpose, Role
from aips.shared.notifications.models import Notification, OutboxMessage
from aips.shared.organizations.models import Organization, OrganizationKind

IIN_1 = "900101300126"
IIN_2 = "910202400331"
IIN_3 = "850303500442"
COMPANY_BIN = "980400001234"
PASSWORD = "Participant-Pass-2026"

pytestmark = pytest.mark.django_db


@pytest.fixture
def pki(monkeypatch: pytest.MonkeyPatch) -> TestPki:
    """A CA of our own, trusted now: certificates with the IIN, BIN and roles a test needs."""
    test_pki = TestPki()
    clock = identity.EdsClock(trust=test_pki.trust())
    monkeypatch.setattr(identity, "eds_clock", lambda: clock)
    return test_pki


def auth_key(
    pki: TestPki,
    iin: str,
    *,
    bin_: str = "",
    roles: tuple[Role, ...] = (Role.INDIVIDUAL,),
    purpose: Purpose = Purpose.AUTHENTICATION,
) -> KeyBundle:
    return pki.issue(
        iin=iin,
        bin=bin_,
        organization="ТОО «Тест Коллекшн»" if bin_ else "",
        roles=roles,
        purpose=purpose,
    )


def english() -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.cookies["aips_language"] = "en"
    return client


def register(
    key: KeyBundle, *, email: str = "new.bidder@example.kz", client: Client | None = None
) -> Any:
    """The public page as NCALayer uses it: get the challenge, sign it, post the form."""
    client = client or english()
    page = client.get("/register/")
    assert page.status_code == 200
    challenge = base64.b64decode(str(page.context["eds_challenge"]))
    cms = base64.b64encode(sign_cms(challenge, key=key)).decode()
    return client.post(
        "/register/",
        {
            "email": email,
            "phone": "+7 701 555 11 22",
            "password": PASSWORD,
            "password_confirm": PASSWORD,
            "eds_cms": cms,
        },
    )


# --- R57.9: registration with EDS ---------------------------------------------------------------


def test_r57_9_an_individual_registers_with_the_eds_authentication_key(pki: TestPki) -> None:
    response = register(auth_key(pki, IIN_1))
    assert response.status_code == 302, response.content.decode()[:2000]
    assert response["Location"] == reverse("accounts:login")
    user = User.objects.get(email="new.bidder@example.kz")
    assert user.role == "participant"
    assert user.iin == IIN_1
    assert user.iin_bound_by == IdentityProof.EDS
    assert user.check_password(PASSWORD)
    organization = user.organization
    assert organization.kind == OrganizationKind.PARTICIPANT_INDIVIDUAL
    assert organization.bin == IIN_1  # an organization of one holds the IIN
    assert organization.strong_auth_required  # R57.10 from the first sign-in on
    assert ParticipantProfile.objects.get(organization=organization).phone == "+77015551122"
    event = AuditEvent.objects.get(event=EventType.PARTICIPANT_REGISTERED)
    assert event.details["via"] == "eds"
    assert IIN_1 not in str(event.details)  # the journal keeps the IIN masked


def test_r57_9_a_legal_entitys_head_registers_it(pki: TestPki) -> None:
    key = auth_key(pki, IIN_2, bin_=COMPANY_BIN, roles=(Role.HEAD,))
    assert register(key, email="head@collection.example.kz").status_code == 302
    user = User.objects.get(email="head@collection.example.kz")
    assert user.iin == IIN_2
    organization = user.organization
    assert organization.kind == OrganizationKind.PARTICIPANT_LEGAL
    assert organization.bin == COMPANY_BIN
    assert organization.strong_auth_required


def test_r57_9_a_second_representative_joins_only_with_signing_rights(pki: TestPki) -> None:
    head = auth_key(pki, IIN_2, bin_=COMPANY_BIN, roles=(Role.HEAD,))
    assert register(head, email="head@collection.example.kz").status_code == 302
    employee = auth_key(pki, IIN_3, bin_=COMPANY_BIN, roles=(Role.EMPLOYEE,))
    refused = register(employee, email="clerk@collection.example.kz")
    assert refused.status_code == 422
    assert "right to sign" in refused.content.decode()
    assert not User.objects.filter(email="clerk@collection.example.kz").exists()
    signatory = auth_key(pki, IIN_3, bin_=COMPANY_BIN, roles=(Role.RIGHT_TO_SIGN,))
    assert register(signatory, email="signatory@collection.example.kz").status_code == 302
    joined = User.objects.get(email="signatory@collection.example.kz")
    assert joined.organization == Organization.objects.get(bin=COMPANY_BIN)


def test_r57_9_a_signing_key_cannot_register(pki: TestPki) -> None:
    response = register(auth_key(pki, IIN_1, purpose=Purpose.SIGNING))
    assert response.status_code == 422
    assert "cannot be used for this purpose" in response.content.decode()
    assert not User.objects.filter(iin=IIN_1).exists()
    assert AuditEvent.objects.filter(event=EventType.PARTICIPANT_REGISTRATION_REFUSED).exists()


def test_r57_9_one_iin_one_account(pki: TestPki) -> None:
    assert register(auth_key(pki, IIN_1)).status_code == 302
    again = register(auth_key(pki, IIN_1), email="second.try@example.kz")
    assert again.status_code == 422
    assert "already registered" in again.content.decode()
    assert User.objects.filter(iin=IIN_1).count() == 1


def test_r57_9_a_certificate_of_an_unknown_ca_is_refused(pki: TestPki) -> None:
    stranger = TestPki(name="SOMEONE ELSE'S CA")
    response = register(auth_key(stranger, IIN_1))
    assert response.status_code == 422
    assert "trusted certification authority" in response.content.decode()
    assert not Organization.objects.filter(bin=IIN_1).exists()


def test_r57_9_a_legal_entity_without_a_role_oid_is_refused(pki: TestPki) -> None:
    key = auth_key(pki, IIN_2, bin_=COMPANY_BIN, roles=(Role.EMPLOYEE_OF_LEGAL_ENTITY,))
    response = register(key)
    assert response.status_code == 422
    assert "not your role in it" in response.content.decode()
    assert not Organization.objects.filter(bin=COMPANY_BIN).exists()


def test_r57_9_registration_without_a_signature_is_refused(pki: TestPki) -> None:
    client = english()
    client.get("/register/")
    response = client.post(
        "/register/",
        {
            "email": "a@example.kz",
            "phone": "+77015551122",
            "password": PASSWORD,
            "password_confirm": PASSWORD,
        },
    )
    assert response.status_code == 422
    assert not User.objects.filter(email="a@example.kz").exists()


def test_r57_28_1_registration_is_rate_limited(pki: TestPki, settings: Any) -> None:
    settings.AIPS_AUTH_RATE_IP = "1/m"
    from django.core.cache import cache

    cache.clear()
    assert register(auth_key(pki, IIN_1)).status_code == 302
    limited = register(auth_key(pki, IIN_2), email="other@example.kz")
    assert limited.status_code == 429
    assert 1 <= int(limited["Retry-After"]) <= 60
    cache.clear()


# --- R57.10: the strong factor at every sign-in -------------------------------------------------


def test_r57_10_r57_27_10_after_registration_sign_in_needs_eds_and_is_announced(
    pki: TestPki,
) -> None:
    key = auth_key(pki, IIN_1)
    assert register(key).status_code == 302
    user = User.objects.get(iin=IIN_1)
    client = english()
    first = client.post("/login/", {"email": user.email, "password": PASSWORD})
    assert first.status_code == 302
    page = client.get("/login/verify/")
    assert page.context["strong_required"]
    refused = client.post("/login/verify/", {"code": "123456"})  # a TOTP code is not enough
    assert refused.status_code == 401
    assert "requires EDS or biometrics" in refused.content.decode()
    assert not Notification.objects.filter(user_id=user.pk, kind="security.sign_in").exists()
    challenge = base64.b64decode(str(client.get("/login/verify/").context["eds_challenge"]))
    cms = base64.b64encode(sign_cms(challenge, key=key)).decode()
    done = client.post("/login/verify/", {"eds_cms": cms})
    assert done.status_code == 302
    assert done["Location"] == reverse("etp_portal:workspace")
    # R57.27.10: the sign-in is announced in the app and by e-mail.
    assert Notification.objects.filter(user_id=user.pk, kind="security.sign_in").exists()
    assert OutboxMessage.objects.filter(to=user.email, subject__contains="Sign-in").exists()


# --- R57.11: the password change needs biometrics -----------------------------------------------


def test_r57_11_a_participants_password_change_needs_a_biometric_check(
    client_as: Any, personas: dict[str, User]
) -> None:
    person = personas["participant_person_1"]
    client = client_as("participant_person_1")
    response = client.post(
        reverse("accounts:password_change"),
        {
            "current_password": "Nurlan-Bidder-2026",
            "new_password": "Another-Strong-Pass-2026",
            "new_password_again": "Another-Strong-Pass-2026",
            "code": "000000",
        },
    )
    assert response.status_code == 422
    person.refresh_from_db()
    assert not person.check_password("Another-Strong-Pass-2026")


# --- R57.27.10: notices of a password change, a recovery and a phone change ---------------------


def test_r57_27_10_a_password_change_is_announced(personas: dict[str, User]) -> None:
    person = personas["participant_person_2"]
    account_services.password_change(
        actor=person, current_password="Aliya-Bidder-2026", new_password="Brand-New-Pass-2026!"
    )
    notice = Notification.objects.get(user_id=person.pk, kind="security.password_changed")
    assert "password" in notice.texts["en"]
    assert OutboxMessage.objects.filter(to=person.email).exists()


def test_r57_27_10_a_password_recovery_is_announced(personas: dict[str, User]) -> None:
    from django.contrib.auth.tokens import default_token_generator
    from django.utils.encoding import force_bytes
    from django.utils.http import urlsafe_base64_encode

    person = personas["participant_person_2"]
    account_services.password_reset_confirm(
        uidb64=urlsafe_base64_encode(force_bytes(person.pk)),
        token=default_token_generator.make_token(person),
        new_password="Recovered-Pass-2026!",
    )
    assert Notification.objects.filter(
        user_id=person.pk, kind="security.password_recovered"
    ).exists()


def test_r57_27_10_a_change_of_the_registered_phone_is_announced(
    client_as: Any, personas: dict[str, User]
) -> None:
    person = personas["participant_company_1_rep"]
    client = client_as("participant_company_1_rep")
    url = reverse("etp_participants:profile")
    data = {"phone": "+77015550001", "address": "Astana", "iban": "", "bic": ""}
    assert client.post(url, data).status_code == 302
    assert not Notification.objects.filter(user_id=person.pk, kind="etp.phone_changed").exists()
    assert client.post(url, {**data, "phone": "+77015550002"}).status_code == 302
    notice = Notification.objects.get(user_id=person.pk, kind="etp.phone_changed")
    assert "0001" in notice.texts["en"]
    assert "0002" in notice.texts["en"]
    # The e-mail is in the person's language: found by the new number's masked tail, not a word.
    assert OutboxMessage.objects.filter(to=person.email, body__contains="0002").exists()
    assert AuditEvent.objects.filter(event=EventType.PARTICIPANT_PROFILE_UPDATED).exists()


def test_security_notices_are_off_unless_the_setting_says_so(
    personas: dict[str, User], settings: Any
) -> None:
    settings.AIPS_SECURITY_NOTICES = False
    person = personas["participant_person_2"]
    account_services.password_change(
        actor=person, current_password="Aliya-Bidder-2026", new_password="Brand-New-Pass-2026!"
    )
    assert not Notification.objects.filter(user_id=person.pk, kind__startswith="security.")


# --- the profile ---------------------------------------------------------------------------------


def test_the_refund_account_must_be_a_valid_kazakh_iban(
    client_as: Any, personas: dict[str, User]
) -> None:
    client = client_as("participant_person_1")
    url = reverse("etp_participants:profile")
    bad = client.post(
        url, {"phone": "+77015550001", "iban": "KZ00125KZT5004100100", "bic": "HSBKKZKX"}
    )
    assert bad.status_code == 422
    assert "check digits" in bad.content.decode()
    good = client.post(
        url, {"phone": "+77015550001", "iban": "kz86 125K ZT50 0410 0100", "bic": "hsbkkzkx"}
    )
    assert good.status_code == 302
    profile = ParticipantProfile.objects.get(
        organization=personas["participant_person_1"].organization
    )
    assert (profile.iban, profile.bic) == ("KZ86125KZT5004100100", "HSBKKZKX")


def test_iban_and_bic_rules() -> None:
    assert iban_error("KZ86125KZT5004100100") is None
    assert iban_error("KZ86125KZT500410010") is not None  # 19 characters
    assert iban_error("DE89370400440532013000") is not None  # not Kazakh
    assert iban_error("KZ87125KZT5004100100") is not None  # checksum
    assert bic_error("HSBKKZKX") is None
    assert bic_error("CASPKZKAXXX") is None
    assert bic_error("HSBKRUKX") is not None


def test_participant_isolation_another_participants_profile_is_404(
    client_as: Any, personas: dict[str, User]
) -> None:
    client_as("participant_person_1").post(
        reverse("etp_participants:profile"), {"phone": "+77015550001"}
    )
    profile = ParticipantProfile.objects.get(
        organization=personas["participant_person_1"].organization
    )
    detail = reverse("etp_participants:detail", kwargs={"pk": profile.pk})
    assert client_as("participant_person_1").get(detail).status_code == 200
    assert client_as("participant_person_2").get(detail).status_code == 404
    assert client_as("participant_company_1_rep").get(detail).status_code == 404
    assert client_as("operator_admission").get(detail).status_code == 200
    assert client_as("seller_a_maker").get(detail).status_code == 403


def test_a_signed_in_person_is_sent_from_the_registration_page_to_the_workspace(
    client_as: Any,
) -> None:
    response = client_as("participant_person_1").get("/register/")
    assert response.status_code == 302


# --- R57.9: registration by biometrics ----------------------------------------------------------


def _biometric_registration(client: Client, scenario: str, *, iin: str = IIN_3) -> Any:
    """The form, the fake provider's page with a scenario, back to the session page."""
    started = client.post(
        "/register/biometrics/",
        {
            "iin": iin,
            "surname": "Сапарова",
            "given_name": "Гүлнар",
            "email": "bio.bidder@example.kz",
            "phone": "+77015553344",
        },
    )
    assert started.status_code == 302, started.content.decode()[:2000]
    fake_url = started["Location"]
    assert fake_url.startswith("/biometrics/fake/"), fake_url
    clicked = client.post(fake_url, {"scenario": scenario})
    assert clicked["Location"].startswith("/biometrics/sessions/"), clicked["Location"]
    return client.get(clicked["Location"])


def test_r57_9_an_individual_registers_by_biometrics_through_the_provider() -> None:
    client = english()
    back = _biometric_registration(client, "pass")
    assert back.status_code == 302
    assert back["Location"].startswith("/invite/")
    user = User.objects.get(email="bio.bidder@example.kz")
    assert (user.iin, user.iin_bound_by) == (IIN_3, IdentityProof.BIOMETRICS)
    assert user.role == "participant"
    assert user.organization.bin == IIN_3
    assert user.organization.strong_auth_required
    assert not user.has_usable_password()
    # The invitation page then sets the password, no EDS needed: the IIN is bound.
    accepted = client.post(back["Location"], {"password": PASSWORD, "password_again": PASSWORD})
    assert accepted.status_code == 302
    user.refresh_from_db()
    assert user.check_password(PASSWORD)


def test_r57_9_a_failed_biometric_registration_binds_nothing_and_eds_takes_it_over(
    pki: TestPki,
) -> None:
    _biometric_registration(english(), "low_match")
    pending = User.objects.get(email="bio.bidder@example.kz")
    assert pending.iin == ""
    # Nobody proved the IIN: whoever proves it with an EDS takes the organization of one over.
    assert register(auth_key(pki, IIN_3), email="real.owner@example.kz").status_code == 302
    owner = User.objects.get(email="real.owner@example.kz")
    assert owner.organization == pending.organization
    pending.refresh_from_db()
    assert not pending.is_active


def test_r57_9_biometric_registration_refuses_a_registered_iin(pki: TestPki) -> None:
    assert register(auth_key(pki, IIN_3)).status_code == 302
    refused = english().post(
        "/register/biometrics/",
        {
            "iin": IIN_3,
            "surname": "Сапарова",
            "given_name": "Гүлнар",
            "email": "bio.bidder@example.kz",
            "phone": "+77015553344",
        },
    )
    assert refused.status_code == 422
    assert "already registered" in refused.content.decode()
    assert not User.objects.filter(email="bio.bidder@example.kz").exists()


# --- R57.9: the e-mail address of an EDS registration is confirmed by a link ---------------------


def _confirmation_link(email: str) -> str:
    message = OutboxMessage.objects.filter(to=email).order_by("-id").first()
    assert message is not None
    found = re.search(r"https?://[^/\s]+(/register/confirm/[\w-]+/)", message.body)
    assert found is not None, message.body
    return found.group(1)


def _signed_in_client(user: User) -> Client:
    client = english()
    client.force_login(user)
    return client


def test_r57_9_an_eds_registration_sends_a_confirmation_link_and_holds_applications(
    pki: TestPki,
) -> None:
    assert register(auth_key(pki, IIN_1)).status_code == 302
    user = User.objects.get(iin=IIN_1)
    message = OutboxMessage.objects.get(to=user.email, subject__contains="confirm")
    assert "48 hours" in message.body
    row = EmailConfirmation.objects.get(user=user)
    assert row.confirmed_at is None
    assert len(row.token_hash) == 64
    assert row.token_hash not in message.body  # only the token's hash is stored
    assert not email_confirmed(user)
    assert not email_confirmed(user.organization)
    # The workspace says so and offers the link again.
    workspace = _signed_in_client(user).get(reverse("etp_portal:workspace"))
    assert workspace.status_code == 200
    assert 'id="email-confirm-banner"' in workspace.content.decode()
    link = _confirmation_link(user.email)
    page = english().get(link)
    assert page.status_code == 200
    assert user.email in page.content.decode()
    assert EmailConfirmation.objects.get(user=user).confirmed_at is None  # a look spends nothing
    done = english().post(link)
    assert done.status_code == 200
    assert 'id="email-confirm-done"' in done.content.decode()
    assert email_confirmed(user)
    assert email_confirmed(user.organization)
    event = AuditEvent.objects.get(event=EventType.PARTICIPANT_EMAIL_CONFIRMED)
    assert event.actor_id == user.pk
    banner = _signed_in_client(user).get(reverse("etp_portal:workspace"))
    assert 'id="email-confirm-banner"' not in banner.content.decode()
    # Single use: the link is spent.
    again = english().post(link)
    assert again.status_code == 410
    assert "already used" in again.content.decode()
    assert AuditEvent.objects.filter(event=EventType.PARTICIPANT_EMAIL_CONFIRMED).count() == 1


def test_r57_9_an_expired_or_garbled_confirmation_link_is_a_clear_page(
    pki: TestPki, settings: Any
) -> None:
    settings.AIPS_ETP_EMAIL_CONFIRM_HOURS = 2
    assert register(auth_key(pki, IIN_1)).status_code == 302
    user = User.objects.get(iin=IIN_1)
    assert "2 hours" in OutboxMessage.objects.get(to=user.email, subject__contains="confirm").body
    link = _confirmation_link(user.email)
    EmailConfirmation.objects.filter(user=user).update(
        expires_at=timezone.now() - timedelta(minutes=1)
    )
    for method in ("get", "post"):
        expired = getattr(english(), method)(link)
        assert expired.status_code == 410
        assert "expired" in expired.content.decode()
    for garbled in ("x", "A" * 43, "%00%ff", "é" * 10, "a" * 500):
        response = english().post(f"/register/confirm/{garbled}/")
        assert response.status_code == 404, garbled
        assert "not valid" in response.content.decode()
    assert not email_confirmed(user)
    assert not AuditEvent.objects.filter(event=EventType.PARTICIPANT_EMAIL_CONFIRMED).exists()


def test_r57_28_1_send_the_link_again_replaces_it_and_is_rate_limited(
    pki: TestPki, settings: Any
) -> None:
    from django.core.cache import cache

    cache.clear()
    settings.AIPS_ETP_EMAIL_CONFIRM_RESEND_RATE = "2/h"
    assert register(auth_key(pki, IIN_1)).status_code == 302
    user = User.objects.get(iin=IIN_1)
    first = _confirmation_link(user.email)
    client = _signed_in_client(user)
    url = reverse("etp_participants:email_confirm_resend")
    sent = client.post(url, follow=True)
    assert sent.status_code == 200
    assert "A new confirmation link is sent" in sent.content.decode()
    second = _confirmation_link(user.email)
    assert second != first
    assert english().get(first).status_code == 404  # replaced by the newer link
    assert client.post(url).status_code == 302
    limited = client.post(url)
    assert limited.status_code == 429
    assert limited["Retry-After"]
    assert english().post(_confirmation_link(user.email)).status_code == 200
    assert email_confirmed(user)
    cache.clear()
    assert "already confirmed" in client.post(url, follow=True).content.decode()


def test_r57_9_a_biometric_registration_and_the_demo_people_count_as_confirmed(
    personas: dict[str, User],
) -> None:
    client = english()
    back = _biometric_registration(client, "pass")
    assert back["Location"].startswith("/invite/")  # the invitation link proves the address
    user = User.objects.get(email="bio.bidder@example.kz")
    assert email_confirmed(user)
    assert email_confirmed(user.organization)
    assert not EmailConfirmation.objects.filter(user=user).exists()
    for key in ("participant_person_1", "participant_person_2", "participant_company_1_rep"):
        assert email_confirmed(personas[key])
        assert email_confirmed(personas[key].organization)
    workspace = _signed_in_client(personas["participant_person_1"]).get("/workspace/")
    assert 'id="email-confirm-banner"' not in workspace.content.decode()
