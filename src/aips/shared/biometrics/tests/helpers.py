"""Test helpers for a biometric check through the real pages and the fake provider; the
password-change tests of accounts and mfa use them too."""

from typing import Any

from django.test import Client
from django.utils import timezone

from aips.shared.accounts.models import IdentityProof, User

# Valid IINs (the mod-11 check digit holds) that belong to nobody real.
IIN_A = "900101300007"
IIN_B = "880502400017"
IIN_C = "751215500020"


def bind_iin(user: User, iin: str = IIN_A) -> User:
    """As if the person had already proven their IIN (the binding itself is tested on its own)."""
    User.objects.filter(pk=user.pk).update(
        iin=iin, iin_bound_at=timezone.now(), iin_bound_by=IdentityProof.BIOMETRICS
    )
    user.refresh_from_db()
    return user


def fake_check(client: Client, start_url: str, scenario: str = "pass", **data: Any) -> Any:
    """Start a check with a POST to `start_url`, press a scenario's button on the fake
    provider's page and follow the browser back to the session page. Returns that answer."""
    started = client.post(start_url, data)
    assert started.status_code == 302, started.status_code
    fake_url = started["Location"]
    assert fake_url.startswith("/biometrics/fake/"), fake_url
    assert client.get(fake_url).status_code == 200
    clicked = client.post(fake_url, {"scenario": scenario})
    assert clicked.status_code == 302, clicked.status_code
    assert clicked["Location"].startswith("/biometrics/sessions/"), clicked["Location"]
    return client.get(clicked["Location"])


def passed_password_check(client: Client, user: User) -> None:
    """A fresh passed check for a password change in this browser (R57.11)."""
    if not user.iin:
        bind_iin(user)
    back = fake_check(client, "/biometrics/password/")
    assert back.status_code == 302, back.status_code
    assert back["Location"] == "/profile/password/", back["Location"]
