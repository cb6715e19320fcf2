"""What every operation of the mobile API checks before anything else, and what every answer
carries (a router decorator in the `view` mode, so it wraps authentication and the error
answers too):

- `X-Client-Id`: one of `AIPS_ETP_MOBILE_CLIENT_IDS` (R57.28.3), else 403 `client_unknown`;
- `X-App-Version` (`1`, `1.4`, `1.4.2`…): below `AIPS_ETP_MOBILE_MIN_VERSION` → 426
  `update_required`, the app is blocked until updated (R57.27.4); below
  `AIPS_ETP_MOBILE_LATEST_VERSION` → served, with `X-Update-Available: <latest>` (R57.27.3);
- `X-Device-Integrity`: `ok`, or what the app's checks found (`rooted`, `jailbroken`,
  `remote_control`, `hooked`, `emulator`, `debugger`, comma-separated) → 403
  `device_compromised`, journaled (R57.27.2; past AIPS_AUTH_RATE_IP refusals per address, 429);
- every answer, refusals included: `Cache-Control: no-store` (R57.27.7)."""

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _

from aips.core import ratelimit
from aips.core.api_errors import error_response
from aips.core.request_context import client_ip
from aips.etp.devices import config

COMPROMISED = frozenset(
    {"rooted", "jailbroken", "remote_control", "hooked", "emulator", "debugger"}
)
_VERSION = re.compile(r"^\d{1,6}(\.\d{1,6}){0,3}$")
Version = tuple[int, ...]


@dataclass(frozen=True)
class MobileClient:
    client_id: str
    version: str
    update_available: str  # the latest version when this one is older, else ""


def parse_version(text: str) -> Version | None:
    text = (text or "").strip()
    if not _VERSION.match(text):
        return None
    parts = tuple(int(p) for p in text.split("."))
    return parts + (0,) * (4 - len(parts))


def _setting_version(name: str, text: str) -> Version:
    value = parse_version(text)
    if value is None:
        raise ImproperlyConfigured(f"{name} is not a version like 1.4.2")
    return value


def mobile_client(request: HttpRequest) -> MobileClient:
    """The app the gate admitted for this request."""
    client: MobileClient = request.mobile_client  # type: ignore[attr-defined]
    return client


def _refusal(request: HttpRequest) -> HttpResponse | None:
    from aips.etp.devices import services

    client_id = request.headers.get("X-Client-Id", "")
    if client_id not in config.client_ids():
        return error_response(
            request, 403, _("This app is not registered with the ETP."), code="client_unknown"
        )
    raw_version = request.headers.get("X-App-Version", "")
    version = parse_version(raw_version)
    if version is None:
        return error_response(
            request,
            400,
            _("Some fields are not valid."),
            fields={"X-App-Version": [_("Send the app's version, like 1.4.2.")]},
        )
    latest = config.latest_version()
    if version < _setting_version("AIPS_ETP_MOBILE_MIN_VERSION", config.min_version()):
        return error_response(
            request,
            426,
            _("This version of the app is no longer supported. Update the app to continue."),
            code="update_required",
            headers={"X-Update-Required": latest},
        )
    findings = {f.strip() for f in request.headers.get("X-Device-Integrity", "").split(",")}
    findings.discard("")
    if not findings or not findings <= COMPROMISED | {"ok"}:
        return error_response(
            request,
            400,
            _("Some fields are not valid."),
            fields={"X-Device-Integrity": [_("Send ok or what the app's checks found.")]},
        )
    if findings & COMPROMISED:
        # Each refusal is journaled; an address that keeps sending them is answered 429 instead,
        # so nobody can flood the journal (AIPS_AUTH_RATE_IP per address).
        try:
            ratelimit.hit(
                "etp-mobile-refused", client_ip(request) or "-", settings.AIPS_AUTH_RATE_IP
            )
        except ratelimit.RateLimited as exc:
            return error_response(
                request, 429, exc.message, headers={"Retry-After": str(exc.retry_after)}
            )
        services.device_refused(
            client_id=client_id, version=raw_version, findings=sorted(findings & COMPROMISED)
        )
        return error_response(
            request,
            403,
            _(
                "The ETP does not serve a device whose system is modified or that is being "
                "controlled remotely. Remove the cause and try again."
            ),
            code="device_compromised",
        )
    newer = version < _setting_version("AIPS_ETP_MOBILE_LATEST_VERSION", latest)
    request.mobile_client = MobileClient(  # type: ignore[attr-defined]
        client_id=client_id, version=raw_version.strip(), update_available=latest if newer else ""
    )
    return None


def _gated_answer(request: HttpRequest, answer: Callable[[], HttpResponse]) -> HttpResponse:
    response = _refusal(request) or answer()
    response["Cache-Control"] = "no-store"
    response["Pragma"] = "no-cache"
    client = getattr(request, "mobile_client", None)
    if isinstance(client, MobileClient) and client.update_available:
        response["X-Update-Available"] = client.update_available
    return response


def mobile_gate(run: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    @functools.wraps(run)
    def gated(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return _gated_answer(request, lambda: run(request, *args, **kwargs))

    return gated


def bearer_token(request: HttpRequest) -> str:
    """The bearer token as ninja's `HttpBearer` reads it ("" when there is none)."""
    parts = request.headers.get("Authorization", "").split(" ")
    if len(parts) < 2 or parts[0].lower() != "bearer":
        return ""
    return " ".join(parts[1:])


def is_mobile_request(request: HttpRequest) -> bool:
    """A request that bears a mobile session's token (`etpm_…`)."""
    from aips.etp.devices.selectors import SESSION_TOKEN_PREFIX

    return bearer_token(request).startswith(SESSION_TOKEN_PREFIX)


def mobile_aware(run: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """For an operation outside `/mobile/…` that the app also calls (`decorate_view`): a request
    bearing a mobile session's token passes the same gate and its answer is marked `no-store`;
    any other request (a personal token, the web session, nobody) is left as it is."""

    @functools.wraps(run)
    def gated(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not is_mobile_request(request):
            return run(request, *args, **kwargs)
        return _gated_answer(request, lambda: run(request, *args, **kwargs))

    return gated
