"""Security headers on every response, static files included, and 405 for TRACE and other
methods AIPS does not serve (R57.26, R57.28; issue 13.8). The same is checked on the real
gunicorn server, with its missing Server banner, in test_tls.py."""

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from aips.shared.accounts.models import User

PAGES = {
    "page": "/login/",
    "api": "/api/v1/health",
    "static": "/static/aips/aips.css",
    "static-js": "/static/aips/webauthn.js",
}


@pytest.fixture
def static_client(settings: Any) -> Client:
    # WhiteNoise reads its settings when the middleware is built, i.e. on a new client's first
    # request; the finders serve the app's static files without a collectstatic run.
    settings.WHITENOISE_USE_FINDERS = True
    settings.WHITENOISE_AUTOREFRESH = True
    return Client(HTTP_ACCEPT_LANGUAGE="en")


def _assert_headers(response: Any) -> None:
    csp = response["Content-Security-Policy"]
    assert "default-src 'self'" in csp
    assert "frame-ancestors 'none'" in csp
    assert "script-src 'self'" in csp
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert "camera=()" in response["Permissions-Policy"]


@pytest.mark.parametrize("kind", sorted(PAGES))
def test_r57_26_security_headers_on_pages_api_and_static_files(
    db: None, static_client: Client, kind: str
) -> None:
    response = static_client.get(PAGES[kind])
    assert response.status_code == 200, kind
    _assert_headers(response)


def test_r57_26_pages_keep_their_own_policy(
    client_as: Callable[[str | None], Client], personas: dict[str, User]
) -> None:
    """The floor only fills gaps: a page's CSP is django-csp's, set once."""
    from csp.utils import build_policy

    response = client_as("bank_a_maker").get("/")
    assert response.status_code == 200
    assert response["Content-Security-Policy"] == build_policy()
    assert response["Content-Security-Policy"].count("default-src") == 1


@pytest.mark.parametrize("method", ["TRACE", "TRACK", "CONNECT", "PROPFIND", "DEBUG"])
@pytest.mark.parametrize("kind", sorted(PAGES))
def test_r57_28_trace_and_unknown_methods_are_405_everywhere(
    db: None, static_client: Client, kind: str, method: str
) -> None:
    response = static_client.generic(
        method, PAGES[kind], HTTP_COOKIE="aips_session=secret-cookie-value"
    )
    assert response.status_code == 405, (method, kind)
    assert "TRACE" not in response["Allow"]
    assert "GET" in response["Allow"]
    assert b"secret-cookie-value" not in response.content
    _assert_headers(response)
    if kind == "api":
        assert response.json()["error"]["code"] == "method_not_allowed"


def test_r57_28_the_methods_aips_serves_still_pass(
    client_as: Callable[[str | None], Client], personas: dict[str, User]
) -> None:
    client = client_as("bank_a_maker")
    assert client.head("/").status_code == 200
    # OPTIONS reaches the application, which answers for itself (ninja: only GET here).
    assert client.options("/api/v1/health")["Allow"] == "GET"
    assert client.get("/api/v1/health").status_code == 200
