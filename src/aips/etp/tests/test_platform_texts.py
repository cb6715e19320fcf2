"""The platform's pages and e-mails speak as the ETP when the ETP serves them (R57.26.1): the
sign-in steps, the profile and security pages, the error pages, the notifications and the
e-mails name the ETP and its operator, never AIPS or the sectoral IS center, in kk, ru and en;
their links use the ETP's address. AIPS's new-user requests are not mounted on the ETP."""

import importlib
import re
from collections.abc import Callable
from typing import Any

import pytest
from django.conf import settings
from django.core import mail
from django.shortcuts import render
from django.test import Client, RequestFactory
from django.urls import NoReverseMatch, reverse
from django.utils import translation

from aips.core.actors import SystemActor
from aips.core.branding import site_text
from aips.core.errors import ValidationFailed
from aips.core.views import handler500
from aips.demo_etp import USERS
from aips.etp.permissions import EtpRole
from aips.shared.accounts import services as account_services
from aips.shared.accounts.models import User
from aips.shared.biometrics.tests.helpers import bind_iin
from aips.shared.notifications.services import Text, drain_outbox, notify

LANGUAGES = ["kk", "ru", "en"]
# AIPS's name in each language, the sectoral center's wording, and "the center" alone (the
# National certification center of the EDS pages is another one).
FOREIGN = re.compile(
    r"AIPS|АИПС|АСОИ|ААӨЖ|sectoral|отраслев|салалық"
    r"|(?<!certification )cent(er|re)|(?<!удостоверяющего )центр|(?<!куәландырушы )орталы",
    re.IGNORECASE,
)
PASSWORDS = {user.key: user.password for user in USERS}


def _foreign(text: str) -> list[str]:
    # Only what a person reads: the text between tags and the attributes people see, not URLs,
    # class names or the inline data of scripts.
    visible = re.sub(r"<(script|style)\b.*?</\1>", " ", text, flags=re.DOTALL)
    shown = re.findall(r'(?:title|aria-label|placeholder|alt|content)="([^"]*)"', visible)
    visible = re.sub(r"<[^>]*>", " ", visible)
    readable = " ".join(" ".join([visible, *shown]).split())
    return [readable[max(m.start() - 60, 0) : m.end() + 20] for m in FOREIGN.finditer(readable)]


def _assert_etp(page: Any, language: str, where: str) -> None:
    html = page.content.decode() if hasattr(page, "content") else str(page)
    if hasattr(page, "content"):
        assert f'<html lang="{language}">' in html, (where, language)
    assert not _foreign(html), (where, language, _foreign(html))


def _browser(language: str) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    return client


def _signed_in(client_as: Callable[[str | None], Client], key: str, language: str) -> Client:
    client = client_as(key)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    return client


def test_every_platform_sentence_has_the_etps_words() -> None:
    aips_settings = importlib.import_module("aips.settings")
    assert set(settings.AIPS_SITE_TEXTS) == set(aips_settings.AIPS_SITE_TEXTS)
    for language in LANGUAGES:
        with translation.override(language):
            for key in settings.AIPS_SITE_TEXTS:
                assert not FOREIGN.findall(site_text(key)), (key, language)
    # AIPS keeps its own wording.
    with translation.override("en"):
        assert str(aips_settings.AIPS_SITE_TEXTS["back_to_site"]) == "Back to AIPS"


@pytest.mark.parametrize("language", LANGUAGES)
def test_r57_26_1_sign_in_steps_speak_as_the_etp(
    personas: dict[str, User], language: str, django_capture_on_commit_callbacks: Any
) -> None:
    _assert_etp(_browser(language).get("/login/"), language, "login")
    _assert_etp(_browser(language).get("/password-reset/"), language, "password reset")
    # The second step of a demo person, who has a TOTP device.
    person = personas["seller_a_maker"]
    client = _browser(language)
    assert client.post("/login/", {"email": person.email, "password": PASSWORDS["seller_a_maker"]})[
        "Location"
    ] == ("/login/verify/")
    _assert_etp(client.get("/login/verify/"), language, "verify")
    # A new person: the invitation e-mail, then the enrolment of a second factor.
    with django_capture_on_commit_callbacks(execute=True):
        newcomer = account_services.user_create(
            actor=personas["operator_admin"],
            organization_id=person.organization_id,
            email=f"newcomer.{language}@alataubank.example.kz",
            surname="Abenov",
            given_name="Ruslan",
            position="Analyst",
            phones=["8 701 222 33 44"],
            role=EtpRole.SELLER_MAKER,
            language=language,
        )
    mail.outbox.clear()
    drain_outbox()
    (invitation,) = [m for m in mail.outbox if m.to == [newcomer.email]]
    _assert_mail(invitation, "invitation", language)
    token = re.search(r"/invite/([\w-]+)/", str(invitation.body))
    assert token is not None
    password = "Quiet-River-Stone-91"
    client = _browser(language)
    client.post(f"/invite/{token.group(1)}/", {"password": password, "password_again": password})
    assert client.post("/login/", {"email": newcomer.email, "password": password})["Location"] == (
        "/login/enroll/"
    )
    enrol = client.get("/login/enroll/")
    assert enrol.status_code == 200
    _assert_etp(enrol, language, "enrol")
    # The password reset e-mail.
    User.objects.filter(pk=person.pk).update(language=language)
    mail.outbox.clear()
    _browser(language).post("/password-reset/", {"email": person.email})
    drain_outbox()
    (reset,) = [m for m in mail.outbox if m.to == [person.email]]
    _assert_mail(reset, "password reset", language)


def _assert_mail(message: Any, where: str, language: str) -> None:
    text = f"{message.subject}\n{message.body}"
    assert not FOREIGN.findall(text), (where, language, FOREIGN.findall(text))
    links = re.findall(r"https?://\S+", str(message.body))
    assert links, where
    assert all(link.startswith(settings.AIPS_BASE_URL) for link in links), (where, links)


@pytest.mark.parametrize("language", LANGUAGES)
def test_r57_26_1_signed_in_platform_pages_speak_as_the_etp(
    personas: dict[str, User], client_as: Callable[[str | None], Client], language: str
) -> None:
    maker = _signed_in(client_as, "seller_a_maker", language)
    for path in ("/profile/", "/profile/security/", "/notifications/", "/no-such-page/"):
        _assert_etp(maker.get(path), language, path)
    _assert_etp(maker.get("/profile/password/"), language, "password change")
    denied = _signed_in(client_as, "participant_person_1", language).get("/users/")
    assert denied.status_code == 403
    _assert_etp(denied, language, "403")
    # The fake biometric provider's page (local runs and the demo).
    bind_iin(personas["seller_a_maker"])
    started = maker.post("/biometrics/password/")
    assert started["Location"].startswith("/biometrics/fake/"), started["Location"]
    _assert_etp(maker.get(started["Location"]), language, "fake biometrics")
    # The pages rendered outside a view's normal path: 429 and 500.
    request = RequestFactory().get("/login/")
    request.user = personas["seller_a_maker"]
    with translation.override(language):
        _assert_etp(render(request, "core/429.html", {"status": 429}), language, "429")
        _assert_etp(handler500(request), language, "500")


@pytest.mark.parametrize("language", LANGUAGES)
def test_r57_26_1_notification_mails_name_the_etp_and_link_to_it(
    personas: dict[str, User], language: str
) -> None:
    person = personas["seller_a_signatory"]
    User.objects.filter(pk=person.pk).update(language=language)
    person.refresh_from_db()
    drain_outbox()  # what the world queued before
    mail.outbox.clear()
    for tlp in (None, "red"):  # in full, and "sign in to read" for TLP:RED
        notify(
            users=[person],
            kind="test",
            subject=Text("Lot 7"),
            text=Text("Lot 7 waits for your approval."),
            link="/workspace/",
            email=True,
            tlp=tlp,
        )
    drain_outbox()
    sent = sorted((m for m in mail.outbox if m.to == [person.email]), key=lambda m: len(m.body))
    assert len(sent) == 2
    for message in sent:
        _assert_mail(message, "notification", language)
    assert any("/workspace/" in m.body for m in sent)
    assert any("/notifications/" in m.body for m in sent)


def test_r57_5_role_mismatch_names_the_operator(personas: dict[str, User]) -> None:
    seller = personas["seller_a_maker"].organization_id
    operator = personas["operator_admin"].organization_id
    for role, org in ((EtpRole.OPERATOR_VERIFIER, seller), (EtpRole.SELLER_MAKER, operator)):
        with translation.override("en"), pytest.raises(ValidationFailed) as refused:
            account_services.user_create(
                actor=SystemActor(label="test"),
                email=f"{role}@example.kz",
                surname="Test",
                given_name="Person",
                position="Tester",
                organization_id=org,
                phones=["8 701 123 45 67"],
                role=role,
            )
        message = " ".join(str(m) for m in refused.value.fields["role"])
        assert "operator" in message
        assert not FOREIGN.findall(message), message


def test_aips_new_user_requests_are_not_mounted_on_the_etp() -> None:
    for name in ("user_request_list", "user_request_create"):
        with pytest.raises(NoReverseMatch):
            reverse(f"accounts:{name}")
    assert reverse("accounts:user_list") == "/users/"
