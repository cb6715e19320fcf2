"""EDS in sign-in and registration (R57.9, R57.10): password + EDS is a complete two-factor
sign-in, an account is bound to an IIN only by an EDS signature (invitation, security page,
first sign-in), and the strong-factor policy refuses TOTP where EDS or biometrics is required.

Signatures are real CMS: the NCA RK test keys judged at their pinned moment (`NCA_TEST_TIME`
against `nca_test_trust()`), and keys of a test CA of our own (`TestPki`) valid now. The views
judge signatures through `identity.eds_clock`, which these tests replace."""

import base64
import re
import time
from collections.abc import Callable
from typing import Any

import pytest
from axes.models import AccessAttempt
from django.core import mail
from django.test import Client
from django.utils import timezone

from aips.conftest import totp_code
from aips.demo import USERS
from aips.shared.accounts import identity, services
from aips.shared.accounts.models import IdentityProof, Invitation, User, UserSession
from aips.shared.audit.models import AuditEvent, EventType
from aips.shared.eds.keystore import KeyBundle
from aips.shared.eds.testing import (
    NCA_TEST_TIME,
    TestPki,
    nca_key,
    nca_test_trust,
    sign_cms,
)
from aips.shared.eds.tests.fake_ncalayer import NCA_AUTH_IIN, NCA_AUTH_KEY, NCA_AUTH_TIME
from aips.shared.eds.types import Purpose, Role
from aips.shared.notifications.services import drain_outbox
from aips.shared.organizations import services as org_services

EMAILS = {u.key: u.email for u in USERS}
PASSWORDS = {u.key: u.password for u in USERS}


# --- keys and the clock the views judge signatures by -------------------------------------------


def pin_nca(monkeypatch: pytest.MonkeyPatch, at: Any = NCA_TEST_TIME) -> None:
    """Judge signatures as NCA's test PKI stood at `at` (its keys have expired since)."""
    clock = identity.EdsClock(trust=nca_test_trust(), at=at)
    monkeypatch.setattr(identity, "eds_clock", lambda: clock)


@pytest.fixture
def nca_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    """The moment NCA's test authentication key was valid and not yet revoked."""
    pin_nca(monkeypatch, NCA_AUTH_TIME)


@pytest.fixture
def pki(monkeypatch: pytest.MonkeyPatch) -> TestPki:
    """A CA of our own, trusted now: certificates with the IIN, BIN and roles a test needs."""
    test_pki = TestPki()
    clock = identity.EdsClock(trust=test_pki.trust())
    monkeypatch.setattr(identity, "eds_clock", lambda: clock)
    return test_pki


def auth_key(pki: TestPki, iin: str, bin_: str = "", roles: tuple[Role, ...] = ()) -> KeyBundle:
    return pki.issue(
        iin=iin,
        bin=bin_,
        roles=roles or (Role.INDIVIDUAL,),
        purpose=Purpose.AUTHENTICATION,
    )


def sign(challenge_b64: str, key: KeyBundle, *, at: Any = None) -> str:
    """What NCALayer returns for a page's challenge: a CMS with the content attached."""
    cms = sign_cms(base64.b64decode(challenge_b64), key=key, signing_time=at)
    return base64.b64encode(cms).decode()


def bind_iin(user: User, iin: str) -> None:
    """As if bound earlier (the binding itself is tested through its pages below)."""
    User.objects.filter(pk=user.pk).update(
        iin=iin, iin_bound_at=timezone.now(), iin_bound_by=IdentityProof.EDS
    )


def password_step(key: str) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.cookies["aips_language"] = "en"
    response = client.post("/login/", {"email": EMAILS[key], "password": PASSWORDS[key]})
    assert response.status_code == 302, response.status_code
    return client


def verify_page(client: Client) -> tuple[Any, str]:
    page = client.get("/login/verify/")
    assert page.status_code == 200, page.status_code
    return page, str(page.context["eds_challenge"])


def failures(email: str) -> int:
    return sum(a.failures_since_start for a in AccessAttempt.objects.filter(username=email))


# --- R57.10: password + EDS ----------------------------------------------------------------------


def test_r57_10_password_and_eds_is_a_two_factor_sign_in(
    personas: dict[str, User], nca_clock: None
) -> None:
    maker = personas["bank_a_maker"]
    bind_iin(maker, NCA_AUTH_IIN)
    client = password_step("bank_a_maker")
    page, challenge = verify_page(client)
    html = page.content.decode()
    assert 'data-ncalayer-purpose="authentication"' in html
    assert f'data-ncalayer-data="{challenge}"' in html
    assert "aips/ncalayer.js" in html
    key = nca_key(NCA_AUTH_KEY)
    response = client.post("/login/verify/", {"eds_cms": sign(challenge, key, at=NCA_AUTH_TIME)})
    assert response.status_code == 302, response.content.decode()[:2000]
    assert response["Location"] == "/"
    assert client.get("/").status_code == 200
    assert UserSession.objects.get(user=maker).second_factor == "eds"
    accepted = AuditEvent.objects.get(event=EventType.EDS_SIGNIN_SUCCEEDED, actor=maker)
    assert accepted.details["iin"].endswith(NCA_AUTH_IIN[-4:])
    assert NCA_AUTH_IIN not in str(accepted.details)  # the journal keeps the IIN masked
    assert accepted.details["algorithm"] == "rsa-sha256"
    signed_in = AuditEvent.objects.get(event=EventType.LOGIN_SUCCEEDED, actor=maker)
    assert signed_in.details == {"second_factor": "eds"}


def test_r57_10_eds_alone_is_the_second_step_for_a_person_without_totp(
    personas: dict[str, User], pki: TestPki
) -> None:
    """An EDS-bound person without an authenticator goes to the second step, not to TOTP set-up."""
    maker = personas["bank_a_maker"]
    from django_otp.plugins.otp_totp.models import TOTPDevice

    TOTPDevice.objects.filter(user=maker).delete()
    bind_iin(maker, "900101300111")
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    first = client.post(
        "/login/", {"email": EMAILS["bank_a_maker"], "password": PASSWORDS["bank_a_maker"]}
    )
    assert first["Location"] == "/login/verify/"
    assert client.get("/login/enroll/")["Location"] == "/login/verify/"
    page, challenge = verify_page(client)
    assert not page.context["has_codes"]
    response = client.post(
        "/login/verify/", {"eds_cms": sign(challenge, auth_key(pki, "900101300111"))}
    )
    assert response["Location"] == "/"


def test_r57_10_the_challenge_is_single_use(personas: dict[str, User], pki: TestPki) -> None:
    maker = personas["bank_a_maker"]
    bind_iin(maker, "900101300111")
    key = auth_key(pki, "900101300111")
    client = password_step("bank_a_maker")
    _page, challenge = verify_page(client)
    cms = sign(challenge, key)
    assert client.post("/login/verify/", {"eds_cms": cms})["Location"] == "/"
    client.post("/logout/")
    # The same signature again, in a new sign-in: the challenge it signs is gone.
    client = password_step("bank_a_maker")
    verify_page(client)
    replay = client.post("/login/verify/", {"eds_cms": cms})
    assert replay.status_code == 401
    assert "different data" in replay.content.decode()
    assert AuditEvent.objects.filter(
        event=EventType.EDS_SIGNIN_FAILED, actor=maker, details__reason="content_mismatch"
    ).exists()
    # And a page that issued nothing (or a challenge already taken) accepts nothing.
    client = password_step("bank_a_maker")
    nothing = client.post("/login/verify/", {"eds_cms": cms})
    assert nothing.status_code == 401
    assert "expired or was already used" in nothing.content.decode()


def test_r57_10_the_challenge_expires(personas: dict[str, User], pki: TestPki) -> None:
    maker = personas["bank_a_maker"]
    bind_iin(maker, "900101300111")
    client = password_step("bank_a_maker")
    _page, challenge = verify_page(client)
    session = client.session
    challenges = session[identity.CHALLENGE_SESSION_KEY]
    challenges["login"]["at"] = time.time() - 301
    session[identity.CHALLENGE_SESSION_KEY] = challenges
    session.save()
    late = client.post(
        "/login/verify/", {"eds_cms": sign(challenge, auth_key(pki, "900101300111"))}
    )
    assert late.status_code == 401
    assert "expired or was already used" in late.content.decode()
    assert client.get("/").status_code == 302


def test_r57_10_a_signing_key_cannot_sign_in(
    personas: dict[str, User], monkeypatch: pytest.MonkeyPatch
) -> None:
    """NCA's signing key (nonRepudiation, e-mail protection) is for documents; sign-in takes the
    authentication key (client auth)."""
    pin_nca(monkeypatch, NCA_TEST_TIME)
    maker = personas["bank_a_maker"]
    key = nca_key("individual_valid_2015")  # GOST 34.10-2015/512
    bind_iin(maker, key.cert.iin)
    client = password_step("bank_a_maker")
    _page, challenge = verify_page(client)
    response = client.post("/login/verify/", {"eds_cms": sign(challenge, key, at=NCA_TEST_TIME)})
    assert response.status_code == 401
    assert "cannot be used for this purpose" in response.content.decode()
    assert failures(maker.email) == 1
    assert client.get("/").status_code == 302


def test_r57_10_someone_elses_eds_is_refused(personas: dict[str, User], nca_clock: None) -> None:
    maker = personas["bank_a_maker"]
    bind_iin(maker, "900101300111")
    client = password_step("bank_a_maker")
    _page, challenge = verify_page(client)
    key = nca_key(NCA_AUTH_KEY)
    response = client.post("/login/verify/", {"eds_cms": sign(challenge, key, at=NCA_AUTH_TIME)})
    assert response.status_code == 401
    assert "belongs to another person" in response.content.decode()
    assert AuditEvent.objects.filter(
        event=EventType.EDS_SIGNIN_FAILED, actor=maker, details__reason="iin_mismatch"
    ).exists()
    assert failures(maker.email) == 1


def test_r57_10_an_employee_certificate_of_another_organization_is_refused(
    personas: dict[str, User], pki: TestPki
) -> None:
    maker = personas["bank_a_maker"]
    bind_iin(maker, "900101300111")
    other_bin = personas["bank_b_maker"].organization.bin
    client = password_step("bank_a_maker")
    _page, challenge = verify_page(client)
    foreign = auth_key(pki, "900101300111", other_bin, (Role.EMPLOYEE_OF_LEGAL_ENTITY,))
    refused = client.post("/login/verify/", {"eds_cms": sign(challenge, foreign)})
    assert refused.status_code == 401
    assert "another organization (BIN does not match)" in refused.content.decode()
    # The same person's certificate as an employee of their own bank signs them in.
    _page, challenge = verify_page(client)
    own = auth_key(pki, "900101300111", maker.organization.bin, (Role.EMPLOYEE_OF_LEGAL_ENTITY,))
    assert client.post("/login/verify/", {"eds_cms": sign(challenge, own)})["Location"] == "/"


def test_r57_10_a_revoked_certificate_is_refused(
    personas: dict[str, User], monkeypatch: pytest.MonkeyPatch
) -> None:
    """NCA's test authentication key after NCA revoked it (its CRL says so)."""
    pin_nca(monkeypatch, NCA_TEST_TIME)
    maker = personas["bank_a_maker"]
    key = nca_key(NCA_AUTH_KEY)
    bind_iin(maker, key.cert.iin)
    client = password_step("bank_a_maker")
    _page, challenge = verify_page(client)
    response = client.post("/login/verify/", {"eds_cms": sign(challenge, key, at=NCA_TEST_TIME)})
    assert response.status_code == 401
    assert "has been revoked" in response.content.decode()


def test_r57_7_r57_10_failed_eds_counts_toward_lockout(
    personas: dict[str, User], pki: TestPki
) -> None:
    maker = personas["bank_a_maker"]
    bind_iin(maker, "900101300111")
    client = password_step("bank_a_maker")
    stranger = auth_key(pki, "900101300999")
    last = None
    for _ in range(5):
        _page, challenge = verify_page(client)
        last = client.post("/login/verify/", {"eds_cms": sign(challenge, stranger)})
    assert last is not None
    assert last.status_code == 429
    assert services.is_locked_out(maker.email)


def test_r57_10_garbage_instead_of_a_signature_is_refused_not_a_server_error(
    personas: dict[str, User], pki: TestPki
) -> None:
    bind_iin(personas["bank_a_maker"], "900101300111")
    client = password_step("bank_a_maker")
    for junk in ("not base64 at all!", base64.b64encode(b"\x30\x03\x02\x01\x01").decode()):
        verify_page(client)
        response = client.post("/login/verify/", {"eds_cms": junk})
        assert response.status_code == 401
        assert "could not be read" in response.content.decode()


# --- R57.10: the strong-factor policy ------------------------------------------------------------


def test_r57_10_strong_auth_refuses_totp_and_accepts_eds(
    personas: dict[str, User], pki: TestPki
) -> None:
    maker = personas["bank_a_maker"]
    org_services.organization_update(
        actor=personas["center_admin"], organization=maker.organization, strong_auth_required=True
    )
    bind_iin(maker, "900101300111")
    client = password_step("bank_a_maker")
    page, challenge = verify_page(client)
    assert page.context["strong_required"]
    assert not page.context["has_codes"]
    assert 'autocomplete="one-time-code"' not in page.content.decode()
    refused = client.post("/login/verify/", {"code": totp_code(maker)})
    assert refused.status_code == 401
    assert "requires EDS or biometrics" in refused.content.decode()
    assert client.get("/").status_code == 302
    assert failures(maker.email) == 0  # nothing was checked, nothing counts
    _page, challenge = verify_page(client)
    done = client.post(
        "/login/verify/", {"eds_cms": sign(challenge, auth_key(pki, "900101300111"))}
    )
    assert done["Location"] == "/"


def test_r57_10_the_global_setting_requires_a_strong_factor_of_organizations_only(
    personas: dict[str, User], settings: Any
) -> None:
    settings.AIPS_STRONG_AUTH_REQUIRED = True
    assert identity.is_strong_factor_required(personas["bank_b_head"])
    assert not identity.is_strong_factor_required(personas["center_admin"])
    client = password_step("bank_b_head")
    refused = client.post("/login/verify/", {"code": totp_code(personas["bank_b_head"])})
    assert refused.status_code == 401
    center = password_step("center_admin")
    assert (
        center.post("/login/verify/", {"code": totp_code(personas["center_admin"])})["Location"]
        == "/"
    )


def test_r57_10_sign_in_itself_refuses_a_weak_factor_where_a_strong_one_is_required(
    personas: dict[str, User], settings: Any, rf: Any
) -> None:
    """Whatever view calls it (TOTP, security key, EDS, biometrics), sessions.sign_in checks."""
    from django.contrib.sessions.backends.db import SessionStore

    from aips.core.errors import Forbidden
    from aips.shared.accounts import sessions

    settings.AIPS_STRONG_AUTH_REQUIRED = True
    request = rf.get("/")
    request.session = SessionStore()
    with pytest.raises(Forbidden):
        sessions.sign_in(request, personas["bank_a_maker"], second_factor="totp")
    sessions.sign_in(request, personas["bank_a_maker"], second_factor="biometrics")


def test_r57_9_r57_10_strong_auth_binds_an_eds_at_sign_in_with_the_code(
    personas: dict[str, User], pki: TestPki
) -> None:
    """Required to use EDS but none bound yet: the code and an EDS signature together bind it."""
    maker = personas["bank_a_maker"]
    org_services.organization_update(
        actor=personas["center_admin"], organization=maker.organization, strong_auth_required=True
    )
    client = password_step("bank_a_maker")
    page, challenge = verify_page(client)
    assert page.context["eds_mode"] == "bind"
    key = auth_key(pki, "900101300222")
    wrong_code = client.post("/login/verify/", {"code": "000000", "eds_cms": sign(challenge, key)})
    assert wrong_code.status_code == 401
    assert not User.objects.get(pk=maker.pk).iin
    _page, challenge = verify_page(client)
    done = client.post(
        "/login/verify/", {"code": totp_code(maker), "eds_cms": sign(challenge, key)}
    )
    assert done["Location"] == "/"
    assert User.objects.get(pk=maker.pk).iin == "900101300222"
    assert UserSession.objects.get(user=maker).second_factor == "eds"


def test_r57_9_first_sign_in_can_bind_an_eds_instead_of_totp(
    personas: dict[str, User], pki: TestPki, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        person = services.user_create(
            actor=personas["center_admin"],
            organization_id=personas["bank_a_head"].organization_id,
            email="eds.person@alataubank.example.kz",
            surname="Abenov",
            given_name="Ruslan",
            position="Analyst",
            phones=["8 701 222 33 44"],
            role="org_viewer",
        )
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    password = "Quiet-River-Stone-91"
    client.post(f"/invite/{invite_token()}/", {"password": password, "password_again": password})
    first = client.post("/login/", {"email": person.email, "password": password})
    assert first["Location"] == "/login/enroll/"
    page = client.get("/login/enroll/")
    challenge = str(page.context["eds_challenge"])
    done = client.post(
        "/login/enroll/", {"eds_cms": sign(challenge, auth_key(pki, "900101300333"))}
    )
    assert done["Location"] == "/"
    person.refresh_from_db()
    assert person.iin == "900101300333"
    assert person.iin_bound_by == IdentityProof.EDS


# --- R57.9: binding an EDS -----------------------------------------------------------------------


def invite_token() -> str:
    drain_outbox()
    match = re.search(r"/invite/([\w-]+)/", str(mail.outbox[-1].body))
    assert match, mail.outbox[-1].body
    return match.group(1)


def test_r57_9_bind_my_eds_from_the_security_page(
    personas: dict[str, User], client_as: Callable[[str | None], Client], pki: TestPki
) -> None:
    maker = personas["bank_a_maker"]
    client = client_as("bank_a_maker")
    security = client.get("/profile/security/")
    assert "/profile/security/eds/" in security.content.decode()
    page = client.get("/profile/security/eds/")
    challenge = str(page.context["eds_challenge"])
    key = auth_key(pki, "900101300444", maker.organization.bin, (Role.EMPLOYEE_OF_LEGAL_ENTITY,))
    done = client.post("/profile/security/eds/", {"eds_cms": sign(challenge, key)})
    assert done["Location"] == "/profile/security/"
    maker.refresh_from_db()
    assert (maker.iin, maker.iin_bound_by) == ("900101300444", IdentityProof.EDS)
    assert maker.iin_bound_at is not None
    event = AuditEvent.objects.get(event=EventType.IIN_BOUND, actor=maker)
    assert event.details["via"] == "eds"
    assert event.details["bin"] == maker.organization.bin
    assert "••••••••0444" in client.get("/profile/security/").content.decode()


def test_r57_9_an_iin_bound_to_another_account_is_refused(
    personas: dict[str, User], client_as: Callable[[str | None], Client], pki: TestPki
) -> None:
    bind_iin(personas["bank_b_maker"], "900101300555")
    client = client_as("bank_a_maker")
    challenge = str(client.get("/profile/security/eds/").context["eds_challenge"])
    refused = client.post(
        "/profile/security/eds/", {"eds_cms": sign(challenge, auth_key(pki, "900101300555"))}
    )
    assert refused.status_code == 422
    assert "already bound to another account" in refused.content.decode()
    assert not User.objects.get(pk=personas["bank_a_maker"].pk).iin
    assert AuditEvent.objects.filter(
        event=EventType.IIN_BIND_REFUSED,
        actor=personas["bank_a_maker"],
        details__reason="iin_taken",
    ).exists()


def test_r57_9_binding_needs_an_authentication_key_and_a_fresh_challenge(
    personas: dict[str, User], client_as: Callable[[str | None], Client], pki: TestPki
) -> None:
    client = client_as("bank_a_maker")
    challenge = str(client.get("/profile/security/eds/").context["eds_challenge"])
    signing = pki.issue(iin="900101300666", purpose=Purpose.SIGNING)
    refused = client.post("/profile/security/eds/", {"eds_cms": sign(challenge, signing)})
    assert refused.status_code == 422
    assert "cannot be used for this purpose" in refused.content.decode()
    # The refusal used the challenge up; the page now holds a new one, which the old one is not.
    again = client.post(
        "/profile/security/eds/", {"eds_cms": sign(challenge, auth_key(pki, "900101300666"))}
    )
    assert again.status_code == 422
    assert "made over different data" in again.content.decode()
    assert not User.objects.get(pk=personas["bank_a_maker"].pk).iin


def test_r57_9_invitation_requiring_eds_binds_the_iin(
    personas: dict[str, User],
    client_as: Callable[[str | None], Client],
    pki: TestPki,
    django_capture_on_commit_callbacks: Any,
) -> None:
    bank_a = personas["bank_a_head"].organization
    with django_capture_on_commit_callbacks(execute=True):
        created = client_as("center_admin").post(
            "/users/new/",
            {
                "organization_id": bank_a.pk,
                "surname": "Omarova",
                "given_name": "Dana",
                "position": "IS analyst",
                "email": "dana.omarova@alataubank.example.kz",
                "phones": "8 701 111 22 33",
                "language": "ru",
                "role": "org_responsible",
                "eds_required": "on",
            },
        )
    assert created.status_code == 302, created.content.decode()[:3000]
    person = User.objects.get(email="dana.omarova@alataubank.example.kz")
    assert Invitation.objects.get(user=person).eds_required
    token = invite_token()
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    page = client.get(f"/invite/{token}/")
    assert page.context["eds_required"]
    html = page.content.decode()
    assert 'id="eds-required"' in html
    assert "data-ncalayer-sign" in html
    password = "Quiet-River-Stone-91"
    # A password alone does not accept an invitation that requires EDS.
    plain = client.post(f"/invite/{token}/", {"password": password, "password_again": password})
    assert plain.status_code == 422
    assert "Sign with your EDS to finish the registration" in plain.content.decode()
    person.refresh_from_db()
    assert not person.has_usable_password()
    challenge = str(plain.context["eds_challenge"])
    key = auth_key(pki, "900101300777", bank_a.bin, (Role.EMPLOYEE_OF_LEGAL_ENTITY,))
    done = client.post(
        f"/invite/{token}/",
        {"password": password, "password_again": password, "eds_cms": sign(challenge, key)},
    )
    assert done["Location"] == "/login/", done.content.decode()[:3000]
    person.refresh_from_db()
    assert person.has_usable_password()
    assert (person.iin, person.iin_bound_by) == ("900101300777", IdentityProof.EDS)
    assert AuditEvent.objects.filter(event=EventType.IIN_BOUND, actor=person).exists()
    # Then password + that EDS signs in, with no authenticator app ever set up.
    first = client.post("/login/", {"email": person.email, "password": password})
    assert first["Location"] == "/login/verify/"
    _page, challenge = verify_page(client)
    assert client.post("/login/verify/", {"eds_cms": sign(challenge, key)})["Location"] == "/"


def test_r57_9_invitation_with_a_foreign_organizations_eds_sets_nothing(
    personas: dict[str, User], pki: TestPki, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        services.user_create(
            actor=personas["center_admin"],
            organization_id=personas["bank_a_head"].organization_id,
            email="optional.eds@alataubank.example.kz",
            surname="Nurlanov",
            given_name="Arman",
            position="Analyst",
            phones=["8 701 222 33 45"],
            role="org_viewer",
        )
    token = invite_token()
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    challenge = str(client.get(f"/invite/{token}/").context["eds_challenge"])
    other_bin = personas["bank_b_head"].organization.bin
    key = auth_key(pki, "900101300888", other_bin, (Role.EMPLOYEE_OF_LEGAL_ENTITY,))
    password = "Quiet-River-Stone-91"
    refused = client.post(
        f"/invite/{token}/",
        {"password": password, "password_again": password, "eds_cms": sign(challenge, key)},
    )
    assert refused.status_code == 422
    assert "BIN does not match" in refused.content.decode()
    person = User.objects.get(email="optional.eds@alataubank.example.kz")
    assert not person.has_usable_password()
    assert not person.iin
    # Without EDS (not required here) the password alone is fine.
    done = client.post(f"/invite/{token}/", {"password": password, "password_again": password})
    assert done["Location"] == "/login/"


# --- who sees which people are EDS-bound -------------------------------------------------------


def test_r57_9_center_admin_and_head_see_who_is_eds_bound(
    personas: dict[str, User], client_as: Callable[[str | None], Client]
) -> None:
    bind_iin(personas["bank_a_maker"], "900101300999")
    for key in ("center_admin", "bank_a_head"):
        client = client_as(key)
        bound = client.get("/users/?eds=bound")
        names = [u.email for u in bound.context["users"]]
        assert names == [personas["bank_a_maker"].email], (key, names)
        unbound = client.get("/users/?eds=unbound")
        assert personas["bank_a_maker"].email not in [u.email for u in unbound.context["users"]]
        assert "IIN bound" in client.get("/users/").content.decode()
        detail = client.get(f"/users/{personas['bank_a_maker'].pk}/").content.decode()
        assert "••••••••0999" in detail
        assert "900101300999" not in detail
    # Bank B's head sees only bank B's people, bound or not.
    assert client_as("bank_b_head").get("/users/?eds=bound").context["users"].count() == 0


def test_r57_10_center_admin_sets_the_strong_factor_policy_in_the_organization_form(
    personas: dict[str, User], client_as: Callable[[str | None], Client]
) -> None:
    bank = personas["bank_a_head"].organization
    client = client_as("center_admin")
    form = client.get(f"/organizations/{bank.pk}/edit/")
    assert 'name="strong_auth_required"' in form.content.decode()
    data = {
        "name": bank.name,
        "bin": bank.bin,
        "email": bank.email,
        "kind": bank.kind,
        "status": bank.status,
        "strong_auth_required": "on",
        "eds_approvals_required": "on",
    }
    response = client.post(f"/organizations/{bank.pk}/edit/", data)
    assert response.status_code == 302, response.content.decode()[:2000]
    bank.refresh_from_db()
    assert bank.strong_auth_required
    assert bank.eds_approvals_required
    assert not bank.eds_password_change_allowed
    event = AuditEvent.objects.filter(event=EventType.ORGANIZATION_UPDATED).latest("seq")
    assert event.details["changes"]["strong_auth_required"] == [False, True]
    assert identity.is_strong_factor_required(User.objects.get(pk=personas["bank_a_maker"].pk))
