"""The biometric identification port (R57.9, R57.10, R57.11) driven through the real pages, the
public webhook and the fake provider's scenarios: pass, liveness fail, low match, expired
session, forged, stale and replayed webhooks, the refusal after three failures, the immutable
record, the IIN binding at registration, the second factor at sign-in and the password change."""

import json
import re
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from typing import Any
from unittest import mock

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import DatabaseError, transaction
from django.test import Client
from django.utils import timezone

from aips.conftest import totp_code
from aips.demo import USERS
from aips.shared.accounts.models import IdentityProof, User, UserSession
from aips.shared.audit.models import AuditEvent, EventType
from aips.shared.biometrics import fake, providers, services
from aips.shared.biometrics.models import (
    BiometricCheck,
    BiometricSession,
    CheckResult,
    Purpose,
    SessionState,
)
from aips.shared.biometrics.tests.helpers import (
    IIN_A,
    IIN_B,
    IIN_C,
    bind_iin,
    fake_check,
    passed_password_check,
)
from aips.shared.organizations.models import Organization

PASSWORDS = {person.key: person.password for person in USERS}
EMAILS = {person.key: person.email for person in USERS}
NEW_PASSWORD = "Granite-Meadow-Lantern-7"
WEBHOOK = "/api/v1/biometrics/webhook/fake"


def _session(user: User, purpose: Purpose = Purpose.PASSWORD_CHANGE) -> BiometricSession:
    return services.session_start(actor=user, purpose=purpose)


def _post_webhook(client: Client, headers: dict[str, str], body: bytes) -> Any:
    return client.post(
        WEBHOOK,
        body,
        content_type="application/json",
        headers=dict(headers),
    )


def _events(event: EventType) -> int:
    return AuditEvent.objects.filter(event=event).count()


def _change(client: Client, user: User, **extra: str) -> Any:
    return client.post(
        "/profile/password/",
        {
            "current_password": PASSWORDS["bank_a_maker"],
            "new_password": NEW_PASSWORD,
            "new_password_again": NEW_PASSWORD,
            "code": totp_code(user),
            **extra,
        },
    )


# --- the fake provider's scenarios ------------------------------------------------------------


def test_r57_11_fake_pass_is_recorded_and_decided_by_the_platform(
    personas: dict[str, User], client_as: Callable[[str | None], Client]
) -> None:
    maker = bind_iin(personas["bank_a_maker"])
    client = client_as("bank_a_maker")
    back = fake_check(client, "/biometrics/password/", "pass")
    assert back.status_code == 302
    assert back["Location"] == "/profile/password/"
    check = BiometricCheck.objects.get(user=maker)
    assert (check.result, check.liveness, check.score) == (
        CheckResult.PASSED,
        True,
        Decimal("0.97"),
    )
    assert (check.attempt, check.provider, check.iin) == (1, "fake", IIN_A)
    assert len(check.payload_sha256) == 64
    session = check.session
    assert session.state == SessionState.PASSED
    assert session.decided_at is not None
    assert session.used_at is None
    assert AuditEvent.objects.filter(
        event=EventType.BIOMETRIC_PASSED, target_id=str(maker.pk)
    ).exists()
    page = client.get("/profile/password/")
    assert b'id="biometric-passed"' in page.content


@pytest.mark.parametrize(
    ("scenario", "result"),
    [("liveness_fail", CheckResult.LIVENESS_FAILED), ("low_match", CheckResult.LOW_MATCH)],
)
def test_r57_11_failed_checks_are_recorded_and_the_person_may_retry(
    personas: dict[str, User],
    client_as: Callable[[str | None], Client],
    scenario: str,
    result: CheckResult,
) -> None:
    maker = bind_iin(personas["bank_a_maker"])
    client = client_as("bank_a_maker")
    page = fake_check(client, "/biometrics/password/", scenario)
    assert page.status_code == 200
    assert b"Try again" in page.content
    check = BiometricCheck.objects.get(user=maker)
    assert check.result == result
    assert check.session.state == SessionState.PENDING  # the provider's client may try again
    assert _events(EventType.BIOMETRIC_FAILED) == 1
    # No passed check: the password stays.
    assert _change(client, maker).status_code == 422
    maker.refresh_from_db()
    assert maker.check_password(PASSWORDS["bank_a_maker"])
    # A second attempt in the same session passes.
    fake_url = f"/biometrics/fake/{check.session.provider_session_id}/"
    client.post(fake_url, {"scenario": "pass"})
    session = BiometricSession.objects.get(pk=check.session_id)
    assert (session.state, session.attempts) == (SessionState.PASSED, 2)
    assert list(session.checks.values_list("attempt", flat=True)) == [1, 2]


def test_r57_11_the_match_threshold_is_the_platforms(
    personas: dict[str, User], settings: Any
) -> None:
    maker = bind_iin(personas["bank_a_maker"])
    session = _session(maker)

    def report(score: str) -> tuple[dict[str, str], bytes]:
        body = json.dumps(
            {
                "event_id": f"evt-{score}",
                "session_id": session.provider_session_id,
                "status": "completed",
                "liveness": True,
                "score": score,
                "checked_at": int(timezone.now().timestamp()),
            }
        ).encode()
        return providers.signed_headers(providers.webhook_secret("fake"), body), body

    headers, body = report("0.80")
    assert services.webhook_receive(provider_name="fake", headers=headers, body=body).result == (
        CheckResult.LOW_MATCH
    )
    settings.AIPS_BIOMETRIC_MATCH_PERCENT = 75
    headers, body = report("0.801")
    check = services.webhook_receive(provider_name="fake", headers=headers, body=body)
    assert check.result == CheckResult.PASSED


def test_r57_11_expired_session(
    personas: dict[str, User], client_as: Callable[[str | None], Client]
) -> None:
    maker = bind_iin(personas["bank_a_maker"])
    client = client_as("bank_a_maker")
    page = fake_check(client, "/biometrics/password/", "expired")
    assert page.status_code == 200
    assert b"has expired" in page.content
    session = BiometricSession.objects.get(user=maker)
    assert session.state == SessionState.EXPIRED
    assert session.checks.get().result == CheckResult.EXPIRED
    # Nobody's face was judged: an expiry does not count toward the refusal.
    assert services.refused_minutes(maker, Purpose.PASSWORD_CHANGE) == 0
    # A report that arrives after the platform's own deadline is an expiry too.
    late = _session(maker)
    BiometricSession.objects.filter(pk=late.pk).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    headers, body = fake.webhook_for(late.provider_session_id, fake.Scenario.PASS)
    check = services.webhook_receive(provider_name="fake", headers=headers, body=body)
    assert check.result == CheckResult.EXPIRED
    late.refresh_from_db()
    assert late.state == SessionState.EXPIRED
    assert _change(client, maker).status_code == 422


# --- the webhook: signed, fresh, once ---------------------------------------------------------


def test_r57_11_forged_webhook_is_refused_and_audited(personas: dict[str, User]) -> None:
    maker = bind_iin(personas["bank_a_maker"])
    session = _session(maker)
    headers, body = fake.webhook_for(
        session.provider_session_id, fake.Scenario.PASS, secret=b"not the provider's key"
    )
    response = _post_webhook(Client(), headers, body)
    assert response.status_code == 401
    error = response.json()["error"]
    assert set(error) == {"code", "message", "fields", "request_id"}
    assert error["code"] == "webhook_forged"
    # Unsigned, and signed over another body, alike.
    assert _post_webhook(Client(), {}, body).status_code == 401
    good_headers, _body = fake.webhook_for(session.provider_session_id, fake.Scenario.PASS)
    tampered = body.replace(b'"completed"', b'"completed" ')
    assert _post_webhook(Client(), good_headers, tampered).status_code == 401
    assert not BiometricCheck.objects.exists()
    session.refresh_from_db()
    assert (session.state, session.attempts) == (SessionState.PENDING, 0)
    refused = AuditEvent.objects.filter(event=EventType.BIOMETRIC_WEBHOOK_REFUSED)
    assert refused.count() == 3
    assert refused.first().details["reason"] == "forged"  # type: ignore[union-attr]


def test_r57_11_stale_webhook_is_refused(personas: dict[str, User]) -> None:
    maker = bind_iin(personas["bank_a_maker"])
    session = _session(maker)
    old = timezone.now().timestamp() - 3600
    headers, body = fake.webhook_for(session.provider_session_id, fake.Scenario.PASS, at=old)
    response = _post_webhook(Client(), headers, body)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "webhook_stale"
    assert not BiometricCheck.objects.exists()


def test_r57_11_replayed_webhook_is_refused_and_not_counted_twice(
    personas: dict[str, User],
) -> None:
    maker = bind_iin(personas["bank_a_maker"])
    session = _session(maker)
    headers, body = fake.webhook_for(session.provider_session_id, fake.Scenario.LIVENESS_FAIL)
    first = _post_webhook(Client(), headers, body)
    assert first.status_code == 200, first.content
    assert first.json() == {"accepted": True, "result": "liveness_failed", "attempt": 1}
    again = _post_webhook(Client(), headers, body)
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "webhook_replayed"
    assert BiometricCheck.objects.count() == 1
    session.refresh_from_db()
    assert session.attempts == 1
    assert len(services._recent_failures(maker, Purpose.PASSWORD_CHANGE)) == 1
    assert AuditEvent.objects.filter(
        event=EventType.BIOMETRIC_WEBHOOK_REFUSED, details__reason="replayed"
    ).exists()


def test_r57_11_webhook_for_no_such_session_or_provider(personas: dict[str, User]) -> None:
    headers, body = fake.webhook_for("fake-no-such", fake.Scenario.PASS)
    assert _post_webhook(Client(), headers, body).status_code == 404
    response = Client().post(
        "/api/v1/biometrics/webhook/acme", body, content_type="application/json", headers=headers
    )
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "webhook_unknown_provider"
    malformed = b'{"event_id": 5}'
    signed = providers.signed_headers(providers.webhook_secret("fake"), malformed)
    assert _post_webhook(Client(), signed, malformed).status_code == 400


def test_r57_11_a_decided_session_takes_no_more_reports(personas: dict[str, User]) -> None:
    maker = bind_iin(personas["bank_a_maker"])
    session = _session(maker)
    for scenario, status in ((fake.Scenario.PASS, 200), (fake.Scenario.LOW_MATCH, 409)):
        headers, body = fake.webhook_for(session.provider_session_id, scenario)
        assert _post_webhook(Client(), headers, body).status_code == status
    assert BiometricCheck.objects.get().result == CheckResult.PASSED


# --- three failures ---------------------------------------------------------------------------


def test_r57_11_three_failed_checks_refuse_and_are_audited(
    personas: dict[str, User], client_as: Callable[[str | None], Client]
) -> None:
    maker = bind_iin(personas["bank_a_maker"])
    client = client_as("bank_a_maker")
    page = fake_check(client, "/biometrics/password/", "liveness_fail")
    session = BiometricSession.objects.get(user=maker)
    fake_url = f"/biometrics/fake/{session.provider_session_id}/"
    client.post(fake_url, {"scenario": "low_match"})
    assert _events(EventType.BIOMETRIC_REFUSED) == 0
    client.post(fake_url, {"scenario": "liveness_fail"})
    session.refresh_from_db()
    assert session.state == SessionState.REFUSED
    assert _events(EventType.BIOMETRIC_REFUSED) == 1
    page = client.get(session.return_path)
    assert b"Too many failed biometric checks" in page.content
    # A "pass" now is refused: the session is decided.
    client.post(fake_url, {"scenario": "pass"})
    session.refresh_from_db()
    assert session.state == SessionState.REFUSED
    # A new session for the same purpose is refused until the window has passed.
    refused = client.post("/biometrics/password/")
    assert refused.status_code == 302
    assert refused["Location"] == "/profile/password/"
    assert BiometricSession.objects.filter(user=maker).count() == 1
    page = client.get("/profile/password/")
    assert b"Too many failed biometric checks. Try again in 30 minutes." in page.content
    # Other purposes are not refused.
    assert _session(maker, Purpose.SECOND_FACTOR).state == SessionState.PENDING
    later = timezone.now() + timedelta(minutes=31)
    with mock.patch("aips.shared.biometrics.services.timezone.now", return_value=later):
        assert services.refused_minutes(maker, Purpose.PASSWORD_CHANGE) == 0
        assert _session(maker).state == SessionState.PENDING


# --- the immutable record ---------------------------------------------------------------------


def test_r57_11_the_check_record_cannot_be_changed_or_deleted(
    personas: dict[str, User], client_as: Callable[[str | None], Client]
) -> None:
    bind_iin(personas["bank_a_maker"])
    fake_check(client_as("bank_a_maker"), "/biometrics/password/", "low_match")
    check = BiometricCheck.objects.get()
    with pytest.raises(DatabaseError), transaction.atomic():
        BiometricCheck.objects.filter(pk=check.pk).update(result=CheckResult.PASSED)
    check.score = Decimal("0.99")
    with pytest.raises(DatabaseError), transaction.atomic():
        check.save()
    with pytest.raises(DatabaseError), transaction.atomic():
        BiometricCheck.objects.filter(pk=check.pk).delete()
    check.refresh_from_db()
    assert (check.result, check.score) == (CheckResult.LOW_MATCH, Decimal("0.41"))


def test_r57_11_checks_are_not_editable_in_any_form() -> None:
    from aips.shared.biometrics import services as writes

    # No service changes a check; only the webhook's handler creates them.
    source = writes.__loader__.get_source(writes.__name__) or ""  # type: ignore[union-attr]
    assert "BiometricCheck.objects.create(" in source
    assert not re.search(r"check\.(save|delete)\(|BiometricCheck\.objects\.[a-z_]*update", source)


# --- password change (R57.11) -----------------------------------------------------------------


def test_r57_11_password_change_is_refused_without_a_biometric_check(
    personas: dict[str, User], client_as: Callable[[str | None], Client]
) -> None:
    maker = bind_iin(personas["bank_a_maker"])
    client = client_as("bank_a_maker")
    response = _change(client, maker)
    assert response.status_code == 422
    assert b"Confirm it is you with a biometric check first." in response.content
    maker.refresh_from_db()
    assert maker.check_password(PASSWORDS["bank_a_maker"])
    # The authenticator code was not spent on a change that could not happen.
    passed_password_check(client, maker)
    assert _change(client, maker).status_code == 302


def test_r57_11_password_change_after_a_check_is_single_use(
    personas: dict[str, User], client_as: Callable[[str | None], Client]
) -> None:
    maker = personas["bank_a_maker"]
    client = client_as("bank_a_maker")
    passed_password_check(client, maker)
    done = _change(client, maker, code=totp_code(maker, step_offset=1))
    assert done.status_code == 302
    assert done["Location"] == "/profile/security/"
    maker.refresh_from_db()
    assert maker.check_password(NEW_PASSWORD)
    session = BiometricSession.objects.get(user=maker)
    assert session.used_at is not None
    assert AuditEvent.objects.filter(
        event=EventType.PASSWORD_CHANGE_CONFIRMED, details__via="biometrics"
    ).exists()
    assert _events(EventType.BIOMETRIC_USED) == 1
    # The same check does not confirm a second change.
    again = client.post(
        "/profile/password/",
        {
            "current_password": NEW_PASSWORD,
            "new_password": "Another-Steppe-Orbit-93",
            "new_password_again": "Another-Steppe-Orbit-93",
            "code": totp_code(maker, step_offset=2),
        },
    )
    assert again.status_code == 422
    maker.refresh_from_db()
    assert maker.check_password(NEW_PASSWORD)


def test_r57_11_a_weak_new_password_leaves_the_check_unspent(
    personas: dict[str, User], client_as: Callable[[str | None], Client]
) -> None:
    maker = personas["bank_a_maker"]
    client = client_as("bank_a_maker")
    passed_password_check(client, maker)
    weak = _change(client, maker, new_password="short", new_password_again="short")
    assert weak.status_code == 422
    assert BiometricSession.objects.get(user=maker).used_at is None


def test_r57_11_a_check_for_another_purpose_or_person_or_too_old_does_not_count(
    personas: dict[str, User], client_as: Callable[[str | None], Client], settings: Any
) -> None:
    maker = bind_iin(personas["bank_a_maker"])
    client = client_as("bank_a_maker")
    # A passed sign-in check, not a password-change one.
    sign_in = _session(maker, Purpose.SECOND_FACTOR)
    headers, body = fake.webhook_for(sign_in.provider_session_id, fake.Scenario.PASS)
    services.webhook_receive(provider_name="fake", headers=headers, body=body)
    assert _change(client, maker).status_code == 422
    # Another browser's passed check is not this browser's.
    other_browser = client_as("bank_a_maker")
    passed_password_check(other_browser, maker)
    assert _change(client, maker, code=totp_code(maker, step_offset=1)).status_code == 422
    # A check older than AIPS_BIOMETRIC_FRESH_MINUTES is stale.
    settings.AIPS_BIOMETRIC_FRESH_MINUTES = 1
    later = timezone.now() + timedelta(minutes=2)
    with mock.patch("aips.shared.biometrics.selectors.timezone.now", return_value=later):
        assert (
            _change(other_browser, maker, code=totp_code(maker, step_offset=2)).status_code == 422
        )
    maker.refresh_from_db()
    assert maker.check_password(PASSWORDS["bank_a_maker"])


def test_r57_11_password_change_without_an_iin_points_to_the_binding(
    personas: dict[str, User], client_as: Callable[[str | None], Client]
) -> None:
    client = client_as("bank_a_maker")
    page = client.get("/profile/password/")
    assert b'href="/biometrics/bind/"' in page.content
    refused = client.post("/biometrics/password/")
    assert refused["Location"] == "/profile/password/"
    assert b"no IIN bound yet" in client.get("/profile/password/").content


def test_r57_11_eds_alternative_only_where_the_organization_allows_it(
    personas: dict[str, User], client_as: Callable[[str | None], Client]
) -> None:
    maker = bind_iin(personas["bank_a_maker"])
    client = client_as("bank_a_maker")
    page = client.get("/profile/password/")
    assert b'id="eds-alternative"' not in page.content
    assert b"data-ncalayer" not in page.content
    # Without the organization's permission a signature in the form is ignored.
    assert _change(client, maker, eds_cms="MIIB").status_code == 422
    Organization.objects.filter(pk=maker.organization_id).update(eds_password_change_allowed=True)
    page = client.get("/profile/password/")
    assert b'id="eds-alternative"' in page.content
    assert b"data-ncalayer" in page.content
    # Allowed, the signature is verified: garbage is refused with the EDS module's reason.
    refused = _change(client, maker, eds_cms="bm90IGEgQ01T")
    assert refused.status_code == 422
    assert b"could not be read" in refused.content or b"Sign again" in refused.content
    maker.refresh_from_db()
    assert maker.check_password(PASSWORDS["bank_a_maker"])


# --- sign-in (R57.10) -------------------------------------------------------------------------


def _password_step(persona: str) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.cookies["aips_language"] = "en"
    response = client.post("/login/", {"email": EMAILS[persona], "password": PASSWORDS[persona]})
    assert response.status_code == 302
    return client


def test_r57_10_biometrics_as_the_second_factor_at_sign_in(personas: dict[str, User]) -> None:
    maker = bind_iin(personas["bank_a_maker"])
    client = _password_step("bank_a_maker")
    assert b"Sign in with biometrics" in client.get("/login/verify/").content
    done = fake_check(client, "/biometrics/sign-in/", "pass")
    assert done.status_code == 302
    assert done["Location"] == "/"
    assert client.session.get("_auth_user_id") == str(maker.pk)
    assert UserSession.objects.filter(user=maker, second_factor="biometrics").exists()
    assert AuditEvent.objects.filter(
        event=EventType.LOGIN_SUCCEEDED, details__second_factor="biometrics"
    ).exists()
    assert BiometricSession.objects.get(user=maker).used_at is not None


def test_r57_10_a_failed_biometric_check_does_not_sign_in(personas: dict[str, User]) -> None:
    maker = bind_iin(personas["bank_a_maker"])
    client = _password_step("bank_a_maker")
    page = fake_check(client, "/biometrics/sign-in/", "low_match")
    assert page.status_code == 200
    assert client.session.get("_auth_user_id") is None
    assert client.get("/").status_code == 302
    # Without the password step nothing starts.
    assert Client().post("/biometrics/sign-in/")["Location"] == "/login/"
    # Another browser cannot use this browser's session page.
    session = BiometricSession.objects.get(user=maker)
    assert Client().get(session.return_path).status_code == 404


def test_r57_10_biometric_sign_in_needs_a_bound_iin(personas: dict[str, User]) -> None:
    client = _password_step("bank_a_maker")
    refused = client.post("/biometrics/sign-in/")
    assert refused["Location"] == "/login/verify/"
    assert not BiometricSession.objects.exists()


# --- registration: the IIN binding (R57.9) ----------------------------------------------------


def _invitation(personas: dict[str, User], orgs: dict[str, Organization]) -> tuple[User, str]:
    from aips.shared.accounts import services as account_services

    user = account_services.user_create(
        actor=personas["center_admin"],
        organization_id=orgs["bank_a"].pk,
        email="aigerim.nurlanova@alataubank.example.kz",
        surname="Nurlanova",
        given_name="Aigerim",
        position="SOC analyst",
        phones=["8 701 555 12 34"],
        role="org_responsible",
    )
    token = account_services._issue_invitation(actor=personas["center_admin"], user=user)
    return user, token


def test_r57_9_biometric_binding_at_registration(
    personas: dict[str, User], orgs: dict[str, Organization]
) -> None:
    invited, token = _invitation(personas, orgs)
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    page = client.get(f"/invite/{token}/")
    assert f'href="/biometrics/invite/{token}/"'.encode() in page.content
    assert client.get(f"/biometrics/invite/{token}/").status_code == 200
    wrong = client.post(f"/biometrics/invite/{token}/", {"iin": "900101300008"})
    assert wrong.status_code == 422
    done = fake_check(client, f"/biometrics/invite/{token}/", "pass", iin=IIN_B)
    assert done["Location"] == f"/invite/{token}/"
    invited.refresh_from_db()
    assert (invited.iin, invited.iin_bound_by) == (IIN_B, IdentityProof.BIOMETRICS)
    assert AuditEvent.objects.filter(
        event=EventType.IIN_BOUND, target_id=str(invited.pk), details__via="biometrics"
    ).exists()
    assert b'id="iin-bound"' in client.get(f"/invite/{token}/").content
    # The invitation then sets the password as usual.
    good = "Steppe-Wind-Orbit-42"
    accepted = client.post(f"/invite/{token}/", {"password": good, "password_again": good})
    assert accepted.status_code == 302


def test_r57_9_a_failed_registration_check_binds_nothing(
    personas: dict[str, User], orgs: dict[str, Organization]
) -> None:
    invited, token = _invitation(personas, orgs)
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    fake_check(client, f"/biometrics/invite/{token}/", "low_match", iin=IIN_B)
    invited.refresh_from_db()
    assert invited.iin == ""


def test_r57_9_an_iin_bound_to_another_account_is_not_bound_twice(
    personas: dict[str, User], client_as: Callable[[str | None], Client]
) -> None:
    bind_iin(personas["bank_a_head"], IIN_C)
    client = client_as("bank_a_maker")
    assert b"Bind my IIN with biometrics" in client.get("/profile/security/").content
    done = fake_check(client, "/biometrics/bind/", "pass", iin=IIN_C)
    assert done["Location"] == "/profile/security/"
    maker = User.objects.get(pk=personas["bank_a_maker"].pk)
    assert maker.iin == ""
    assert AuditEvent.objects.filter(
        event=EventType.IIN_BIND_REFUSED, details__reason="iin_taken"
    ).exists()
    # With the person's own IIN the binding from the security page works.
    done = fake_check(client, "/biometrics/bind/", "pass", iin=IIN_A)
    maker.refresh_from_db()
    assert maker.iin == IIN_A
    assert client.get("/biometrics/bind/")["Location"] == "/profile/security/"


# --- configuration ----------------------------------------------------------------------------


def test_r57_11_provider_off_says_so(
    personas: dict[str, User], client_as: Callable[[str | None], Client], settings: Any
) -> None:
    maker = bind_iin(personas["bank_a_maker"])
    settings.AIPS_BIOMETRIC_PROVIDER = "none"
    client = client_as("bank_a_maker")
    page = client.get("/profile/password/")
    assert b"not available on this installation" in page.content
    assert client.post("/biometrics/password/")["Location"] == "/profile/password/"
    assert not BiometricSession.objects.exists()
    settings.AIPS_BIOMETRIC_PROVIDER = "fake"
    session = _session(maker)
    settings.AIPS_BIOMETRIC_PROVIDER = "none"
    assert client.get(f"/biometrics/fake/{session.provider_session_id}/").status_code == 404
    headers, body = fake.webhook_for(session.provider_session_id, fake.Scenario.PASS)
    assert _post_webhook(Client(), headers, body).status_code == 404


def test_r57_11_the_fake_is_refused_behind_tls_and_real_providers_need_a_key(
    settings: Any,
) -> None:
    settings.HTTPS = True
    settings.DEBUG = False
    settings.AIPS_BIOMETRIC_PROVIDER = "fake"
    with pytest.raises(ImproperlyConfigured):
        providers.check_configuration()
    settings.HTTPS = False
    settings.AIPS_BIOMETRIC_PROVIDER = "aips.shared.biometrics.tests.test_biometrics.AcmeProvider"
    settings.AIPS_BIOMETRIC_WEBHOOK_SECRET = ""
    with pytest.raises(ImproperlyConfigured):
        providers.check_configuration()
    settings.AIPS_BIOMETRIC_WEBHOOK_SECRET = "s3cret-from-the-provider"
    providers.check_configuration()
    assert providers.get_provider().name == "acme"
    settings.AIPS_BIOMETRIC_PROVIDER = "no.such.Provider"
    with pytest.raises(ImproperlyConfigured):
        providers.check_configuration()


class AcmeProvider:
    """A real provider's adapter plugs in by its dotted path (AIPS_BIOMETRIC_PROVIDER)."""

    name = "acme"

    def start_session(
        self, *, purpose: str, iin: str, reference: str, callback_url: str, return_url: str
    ) -> providers.StartedSession:
        return providers.StartedSession(f"acme-{reference}", f"https://id.acme.example/{reference}")

    def verify_webhook(self, headers: Any, body: bytes) -> providers.Report:
        secret = providers.webhook_secret(self.name)
        return providers.report_from(providers.verify_signed(headers, body, secret=secret))


def test_r57_11_a_provider_elsewhere_is_reached_through_the_session_page(
    personas: dict[str, User], client_as: Callable[[str | None], Client], settings: Any
) -> None:
    maker = bind_iin(personas["bank_a_maker"])
    settings.AIPS_BIOMETRIC_PROVIDER = "aips.shared.biometrics.tests.test_biometrics.AcmeProvider"
    settings.AIPS_BIOMETRIC_WEBHOOK_SECRET = "s3cret-from-the-provider"
    client = client_as("bank_a_maker")
    started = client.post("/biometrics/password/")
    session = BiometricSession.objects.get(user=maker)
    assert started["Location"] == session.return_path
    page = client.get(session.return_path)
    assert b"https://id.acme.example/" in page.content
    body = json.dumps(
        {
            "event_id": "acme-1",
            "session_id": session.provider_session_id,
            "status": "completed",
            "liveness": True,
            "score": 0.93,
            "checked_at": int(timezone.now().timestamp()),
        }
    ).encode()
    headers = providers.signed_headers(b"s3cret-from-the-provider", body)
    response = Client().post(
        "/api/v1/biometrics/webhook/acme", body, content_type="application/json", headers=headers
    )
    assert response.status_code == 200, response.content
    assert client.get(session.return_path)["Location"] == "/profile/password/"


# --- the EDS alternative with real signatures -------------------------------------------------


@pytest.fixture
def pki(monkeypatch: pytest.MonkeyPatch) -> Any:
    """A CA of our own, trusted now (as in accounts/tests/test_eds_signin.py)."""
    from aips.shared.accounts import identity
    from aips.shared.eds.testing import TestPki

    test_pki = TestPki()
    clock = identity.EdsClock(trust=test_pki.trust())
    monkeypatch.setattr(identity, "eds_clock", lambda: clock)
    return test_pki


def _signed(client: Client, key: Any) -> str:
    """What NCALayer returns for the password page's challenge."""
    import base64

    from aips.shared.eds.signing import sign_cms

    page = client.get("/profile/password/")
    challenge = str(page.context["eds_challenge"])
    assert challenge
    return base64.b64encode(sign_cms(base64.b64decode(challenge), key=key)).decode()


@pytest.mark.parametrize("purpose", ["authentication", "signing"])
def test_r57_11_eds_signature_confirms_a_change_where_allowed(
    personas: dict[str, User], client_as: Callable[[str | None], Client], pki: Any, purpose: str
) -> None:
    from aips.shared.eds.types import Purpose as EdsPurpose

    maker = bind_iin(personas["bank_a_maker"])
    Organization.objects.filter(pk=maker.organization_id).update(eds_password_change_allowed=True)
    client = client_as("bank_a_maker")
    key = pki.issue(iin=IIN_A, purpose=EdsPurpose(purpose))
    done = _change(client, maker, eds_cms=_signed(client, key))
    assert done.status_code == 302, done.content.decode()[:3000]
    maker.refresh_from_db()
    assert maker.check_password(NEW_PASSWORD)
    confirmed = AuditEvent.objects.get(event=EventType.PASSWORD_CHANGE_CONFIRMED)
    assert confirmed.details["via"] == "eds"
    assert IIN_A not in str(confirmed.details)  # masked
    assert not BiometricSession.objects.exists()


def test_r57_11_someone_elses_eds_does_not_confirm_a_change(
    personas: dict[str, User], client_as: Callable[[str | None], Client], pki: Any
) -> None:
    from aips.shared.eds.types import Purpose as EdsPurpose

    maker = bind_iin(personas["bank_a_maker"])
    Organization.objects.filter(pk=maker.organization_id).update(eds_password_change_allowed=True)
    client = client_as("bank_a_maker")
    other = pki.issue(iin=IIN_B, purpose=EdsPurpose.AUTHENTICATION)
    refused = _change(client, maker, eds_cms=_signed(client, other))
    assert refused.status_code == 422
    assert b"IIN does not match" in refused.content
    # A signature is good for one challenge only.
    key = pki.issue(iin=IIN_A, purpose=EdsPurpose.AUTHENTICATION)
    cms = _signed(client, key)
    assert _change(client, maker, eds_cms=cms).status_code == 302
    maker.refresh_from_db()
    assert maker.check_password(NEW_PASSWORD)
