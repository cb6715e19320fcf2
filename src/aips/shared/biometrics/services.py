"""Writes: start a session, take a provider's report (decide, record, bind the IIN at
registration), use a passed check once. The decision is the platform's: a check passes only with
liveness confirmed and a match score at or above AIPS_BIOMETRIC_MATCH_PERCENT, whatever the
provider concluded; AIPS_BIOMETRIC_MAX_FAILURES failed checks for one purpose within
AIPS_BIOMETRIC_FAILURE_WINDOW_MINUTES refuse that purpose until the window has passed."""

import hashlib
import math
import uuid
from collections.abc import Mapping
from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from aips.core.actors import SystemActor
from aips.core.errors import AppError, Conflict, ValidationFailed
from aips.core.identifiers import bin_check_digit
from aips.shared.accounts.models import IdentityProof, User
from aips.shared.audit.models import EventType
from aips.shared.audit.services import record
from aips.shared.biometrics.models import (
    FAILURES,
    BiometricCheck,
    BiometricSession,
    CheckResult,
    Purpose,
    Refusal,
    SessionState,
)
from aips.shared.biometrics.providers import (
    BiometricsUnavailable,
    NoProvider,
    Report,
    WebhookRefused,
    get_provider,
)


class BiometricsRefused(AppError):
    """Too many failed checks for this purpose: the person waits out the window."""

    status = 429
    code = "biometrics_refused"


def iin_error(value: str) -> str | None:
    """Why `value` is not an IIN (12 digits, the mod-11 check digit), or None."""
    if len(value) != 12 or not value.isascii() or not value.isdigit():
        return _("An IIN has exactly 12 digits.")
    expected = bin_check_digit(value[:11])
    if expected is None or expected != int(value[11]):
        return _("This IIN's check digit is wrong; check the number for a typo.")
    return None


def _window_start() -> datetime:
    return timezone.now() - timedelta(minutes=settings.AIPS_BIOMETRIC_FAILURE_WINDOW_MINUTES)


def _recent_failures(user: User, purpose: str) -> list[datetime]:
    return list(
        BiometricCheck.objects.filter(
            user=user, purpose=purpose, result__in=FAILURES, received_at__gte=_window_start()
        )
        .order_by("-received_at")
        .values_list("received_at", flat=True)
    )


def refused_minutes(user: User, purpose: str) -> int:
    """Minutes until this person may try this purpose again; 0 when they may now."""
    failures = _recent_failures(user, purpose)
    limit = settings.AIPS_BIOMETRIC_MAX_FAILURES
    if len(failures) < limit:
        return 0
    # Free again once the oldest of the last `limit` failures leaves the window.
    until = failures[limit - 1] + timedelta(minutes=settings.AIPS_BIOMETRIC_FAILURE_WINDOW_MINUTES)
    return max(1, math.ceil((until - timezone.now()).total_seconds() / 60))


def refused_message(minutes: int) -> str:
    return ngettext(
        "Too many failed biometric checks. Try again in %(minutes)d minute.",
        "Too many failed biometric checks. Try again in %(minutes)d minutes.",
        minutes,
    ) % {"minutes": minutes}


@transaction.atomic
def session_start(*, actor: User, purpose: Purpose, iin: str = "") -> BiometricSession:
    """Open a session at the provider for `actor` (signed in, between password and second
    factor, or invited). Registration checks the IIN typed in; the other purposes the IIN the
    account is bound to."""
    provider = get_provider()
    if isinstance(provider, NoProvider):
        raise BiometricsUnavailable()
    if purpose == Purpose.REGISTRATION:
        iin = (iin or "").strip()
        if (problem := iin_error(iin)) is not None:
            raise ValidationFailed.field("iin", problem)
        if actor.iin and actor.iin != iin:
            raise ValidationFailed.field("iin", _("Your account is already bound to another IIN."))
    else:
        iin = actor.iin
        if not iin:
            raise AppError(
                _("Your account has no IIN bound yet: bind it with EDS or biometrics first."),
                code="iin_not_bound",
                status=409,
            )
    if minutes := refused_minutes(actor, purpose):
        raise BiometricsRefused(refused_message(minutes))
    public_id = uuid.uuid4()
    base = settings.AIPS_BASE_URL
    path = reverse("biometrics:session", kwargs={"public_id": public_id})
    started = provider.start_session(
        purpose=str(purpose),
        iin=iin,
        reference=str(public_id),
        callback_url=base + reverse("api:biometrics_webhook", kwargs={"provider": provider.name}),
        return_url=base + path,
    )
    now = timezone.now()
    session = BiometricSession.objects.create(
        public_id=public_id,
        user=actor,
        purpose=purpose,
        iin=iin,
        provider=provider.name,
        provider_session_id=started.provider_session_id,
        client_url=started.client_url,
        return_path=path,
        created_at=now,
        expires_at=now + timedelta(minutes=settings.AIPS_BIOMETRIC_SESSION_MINUTES),
    )
    record(
        actor=actor,
        event=EventType.BIOMETRIC_STARTED,
        target=session,
        organization_id=actor.organization_id,
        details={"purpose": str(purpose), "provider": provider.name},
    )
    return session


# --- the provider's report ---------------------------------------------------------------------


def webhook_receive(
    *, provider_name: str, headers: Mapping[str, str], body: bytes
) -> BiometricCheck:
    """Authenticate a webhook with the configured provider's adapter, then record and decide.
    A refused webhook (forged, stale, replayed, for an unknown or decided session) is audited in
    its own transaction and raised; it never counts as a check."""
    provider = get_provider()
    try:
        if isinstance(provider, NoProvider) or provider_name != provider.name:
            raise WebhookRefused("unknown_provider", _("No such provider."), status=404)
        report = provider.verify_webhook(headers, body)
        return _apply(provider.name, report, body)
    except WebhookRefused as exc:
        _webhook_refused(provider_name=provider_name, reason=exc.reason, body=body)
        raise


@transaction.atomic
def _webhook_refused(*, provider_name: str, reason: str, body: bytes) -> None:
    record(
        actor=SystemActor(label=f"biometrics:{provider_name[:64]}"),
        event=EventType.BIOMETRIC_WEBHOOK_REFUSED,
        details={
            "provider": provider_name[:64],
            "reason": reason,
            "body_sha256": hashlib.sha256(body).hexdigest(),
        },
    )


def _result(report: Report, session: BiometricSession, now: datetime) -> CheckResult:
    if not report.completed or session.expires_at <= now:
        return CheckResult.EXPIRED
    if not report.liveness:
        return CheckResult.LIVENESS_FAILED
    threshold = Decimal(settings.AIPS_BIOMETRIC_MATCH_PERCENT) / 100
    if report.score is None or report.score < threshold:
        return CheckResult.LOW_MATCH
    return CheckResult.PASSED


@transaction.atomic
def _apply(provider_name: str, report: Report, body: bytes) -> BiometricCheck:
    session = (
        BiometricSession.objects.select_for_update(of=("self",))
        .select_related("user", "user__organization")
        .filter(provider=provider_name, provider_session_id=report.provider_session_id)
        .first()
    )
    if session is None:
        raise WebhookRefused("unknown_session", _("No such session."), status=404)
    if BiometricCheck.objects.filter(provider=provider_name, event_id=report.event_id).exists():
        raise WebhookRefused("replayed", _("This webhook was already received."), status=409)
    if session.state != SessionState.PENDING:
        raise WebhookRefused("decided", _("This session is already decided."), status=409)
    now = timezone.now()
    result = _result(report, session, now)
    session.attempts += 1
    try:
        with transaction.atomic():
            check = BiometricCheck.objects.create(
                session=session,
                user=session.user,
                purpose=session.purpose,
                iin=session.iin,
                provider=provider_name,
                event_id=report.event_id,
                attempt=session.attempts,
                result=result,
                liveness=report.liveness,
                score=report.score,
                checked_at=report.checked_at,
                received_at=now,
                payload_sha256=hashlib.sha256(body).hexdigest(),
            )
    except IntegrityError as exc:  # the same event delivered twice at once
        raise WebhookRefused(
            "replayed", _("This webhook was already received."), status=409
        ) from exc
    user = session.user
    details = {
        "purpose": session.purpose,
        "provider": provider_name,
        "result": str(result),
        "score": str(report.score) if report.score is not None else None,
        "attempt": session.attempts,
        "check": check.pk,
    }
    fields = ["attempts"]
    if result == CheckResult.PASSED:
        session.state, session.decided_at = SessionState.PASSED, now
        fields += ["state", "decided_at"]
        record(
            actor=SystemActor(label=f"biometrics:{provider_name}"),
            event=EventType.BIOMETRIC_PASSED,
            target=user,
            organization_id=user.organization_id,
            details=details,
        )
        if session.purpose == Purpose.REGISTRATION:
            session.refusal = _bind_iin(session)
            fields.append("refusal")
    else:
        record(
            actor=SystemActor(label=f"biometrics:{provider_name}"),
            event=EventType.BIOMETRIC_FAILED,
            target=user,
            organization_id=user.organization_id,
            details=details,
        )
        if result == CheckResult.EXPIRED:
            session.state, session.decided_at = SessionState.EXPIRED, now
            fields += ["state", "decided_at"]
        elif len(_recent_failures(user, session.purpose)) >= settings.AIPS_BIOMETRIC_MAX_FAILURES:
            session.state, session.decided_at = SessionState.REFUSED, now
            fields += ["state", "decided_at"]
            record(
                actor=SystemActor(label=f"biometrics:{provider_name}"),
                event=EventType.BIOMETRIC_REFUSED,
                target=user,
                organization_id=user.organization_id,
                details={
                    "purpose": session.purpose,
                    "failures": settings.AIPS_BIOMETRIC_MAX_FAILURES,
                },
            )
    session.save(update_fields=fields)
    return check


def _bind_iin(session: BiometricSession) -> str:
    """A passed registration check binds the IIN to the account (R57.9), unless the account is
    bound to another IIN or another account holds this one. Returns the refusal, or ""."""
    user = User.objects.select_for_update().get(pk=session.user_id)
    refusal = ""
    if user.iin and user.iin != session.iin:
        refusal = Refusal.IIN_DIFFERS
    elif User.objects.filter(iin=session.iin).exclude(pk=user.pk).exists():
        refusal = Refusal.IIN_TAKEN
    details = {"session": str(session.public_id), "provider": session.provider, "via": "biometrics"}
    if refusal:
        record(
            actor=SystemActor(label=f"biometrics:{session.provider}"),
            event=EventType.IIN_BIND_REFUSED,
            target=user,
            organization_id=user.organization_id,
            details={**details, "reason": str(refusal)},
        )
        return str(refusal)
    if user.iin == session.iin:
        return ""  # already bound to this IIN: the check confirms it, nothing changes
    user.iin = session.iin
    user.iin_bound_at = timezone.now()
    user.iin_bound_by = IdentityProof.BIOMETRICS
    try:
        with transaction.atomic():
            user.save(update_fields=["iin", "iin_bound_at", "iin_bound_by", "updated_at"])
    except IntegrityError:  # another account took this IIN at the same moment
        record(
            actor=SystemActor(label=f"biometrics:{session.provider}"),
            event=EventType.IIN_BIND_REFUSED,
            target=user,
            organization_id=user.organization_id,
            details={**details, "reason": str(Refusal.IIN_TAKEN)},
        )
        return str(Refusal.IIN_TAKEN)
    record(
        actor=user,
        event=EventType.IIN_BOUND,
        target=user,
        organization_id=user.organization_id,
        details=details,
    )
    return ""


# --- using a passed check ----------------------------------------------------------------------


@transaction.atomic
def check_use(*, actor: User, session: BiometricSession, purpose: Purpose) -> BiometricSession:
    """Spend a passed check on what it was for (a sign-in or a password change): once, within
    AIPS_BIOMETRIC_FRESH_MINUTES of the decision, by the person it checked."""
    locked = BiometricSession.objects.select_for_update().get(pk=session.pk)
    fresh_since = timezone.now() - timedelta(minutes=settings.AIPS_BIOMETRIC_FRESH_MINUTES)
    if (
        locked.user_id != actor.pk
        or locked.purpose != purpose
        or locked.state != SessionState.PASSED
        or locked.used_at is not None
        or locked.decided_at is None
        or locked.decided_at < fresh_since
    ):
        raise Conflict(_("This biometric check cannot be used any more. Start a new one."))
    locked.used_at = timezone.now()
    locked.save(update_fields=["used_at"])
    record(
        actor=actor,
        event=EventType.BIOMETRIC_USED,
        target=actor,
        organization_id=actor.organization_id,
        details={"purpose": str(purpose), "session": str(locked.public_id)},
    )
    return locked
