"""The fake provider: a stand-in with fixed scenarios for tests and the demo. Its "client" is a
page of this app (`/biometrics/fake/<session>/`) with one button per scenario; a click builds the
webhook a real provider would send, signs it with the webhook key and hands it to the same
handler the public webhook URL uses. Tests craft forged and replayed webhooks with
`webhook_for`. Refused behind TLS (providers.check_configuration)."""

import json
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Any

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from aips.shared.biometrics.providers import (
    Report,
    StartedSession,
    report_from,
    signed_headers,
    verify_signed,
    webhook_secret,
)

NAME = "fake"


class Scenario(StrEnum):
    PASS = "pass"  # noqa: S105 - a scenario name, not a password
    LIVENESS_FAIL = "liveness_fail"
    LOW_MATCH = "low_match"
    EXPIRED = "expired"


@dataclass(frozen=True)
class Outcome:
    label: Any
    status: str
    liveness: bool | None
    score: Decimal | None


SCENARIOS: dict[Scenario, Outcome] = {
    Scenario.PASS: Outcome(_("Pass: a live face that matches"), "completed", True, Decimal("0.97")),
    Scenario.LIVENESS_FAIL: Outcome(
        _("Liveness fails: a photo held up to the camera"), "completed", False, None
    ),
    Scenario.LOW_MATCH: Outcome(
        _("Low match: a live face of someone else"), "completed", True, Decimal("0.41")
    ),
    Scenario.EXPIRED: Outcome(_("The session expires"), "expired", None, None),
}


class FakeProvider:
    name = NAME

    def start_session(
        self, *, purpose: str, iin: str, reference: str, callback_url: str, return_url: str
    ) -> StartedSession:
        session_id = f"fake-{secrets.token_urlsafe(18)}"
        return StartedSession(
            provider_session_id=session_id,
            client_url=reverse("biometrics:fake", kwargs={"provider_session_id": session_id}),
        )

    def verify_webhook(self, headers: Mapping[str, str], body: bytes) -> Report:
        return report_from(verify_signed(headers, body, secret=webhook_secret(NAME)))


def webhook_for(
    provider_session_id: str,
    scenario: Scenario,
    *,
    event_id: str = "",
    at: float | None = None,
    secret: bytes | None = None,
) -> tuple[dict[str, str], bytes]:
    """Headers and body of the webhook the fake sends for a scenario (tests pass another
    `secret` to forge one, an old `at` for a stale one, the same `event_id` to replay one)."""
    outcome = SCENARIOS[scenario]
    now = at if at is not None else time.time()
    body = json.dumps(
        {
            "event_id": event_id or f"evt-{secrets.token_hex(12)}",
            "session_id": provider_session_id,
            "status": outcome.status,
            "liveness": outcome.liveness,
            "score": str(outcome.score) if outcome.score is not None else None,
            "checked_at": int(now),
        }
    ).encode()
    key = secret if secret is not None else webhook_secret(NAME)
    return signed_headers(key, body, at=now), body
