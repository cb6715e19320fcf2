"""The providers' webhook (R57.9-R57.11): public, signed by the provider (no session, no CSRF),
throttled per address, refused with the one JSON error shape when forged, stale or replayed."""

from typing import Any

from django.conf import settings
from django.http import HttpRequest
from ninja import Router, Schema
from ninja.throttling import AnonRateThrottle

from aips.core.access import public
from aips.shared.biometrics import services

router = Router(tags=["biometrics"])


class WebhookOut(Schema):
    accepted: bool
    result: str
    attempt: int


@router.post(
    "/webhook/{provider}",
    auth=None,
    response={200: WebhookOut},
    operation_id="biometrics_webhook",
    url_name="biometrics_webhook",
    summary="A biometric provider reports a check",
    description=(
        "Called by the configured biometric identification provider, not by people. The body is "
        "the provider's report; the adapter checks its signature (the fake provider: HMAC-SHA256 "
        "over `<X-Biometric-Timestamp>.<body>` in `X-Biometric-Signature: sha256=<hex>`, within "
        "a few minutes). A forged or stale webhook answers 401, a replayed one 409; both are "
        "audited and never counted as a check."
    ),
    throttle=[AnonRateThrottle(settings.AIPS_BIOMETRIC_WEBHOOK_RATE)],
)
@public
def webhook(request: HttpRequest, provider: str) -> Any:
    check = services.webhook_receive(
        provider_name=provider[:64], headers=request.headers, body=request.body
    )
    return {"accepted": True, "result": check.result, "attempt": check.attempt}
