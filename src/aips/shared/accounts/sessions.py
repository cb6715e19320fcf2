"""Session mechanics: the password step leaves a short-lived "pre-authentication" in the session;
only a passed second factor turns it into a Django login (R57.8). Sessions expire when idle and
absolutely, are listed per user and can be ended one by one or all at once (R57.7)."""

import time
from importlib import import_module

from django.conf import settings
from django.contrib.auth import login, logout
from django.contrib.sessions.backends.base import SessionBase
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from aips.core import request_context
from aips.core.access import REAUTH_SESSION_KEY
from aips.core.actors import Person, acting
from aips.core.errors import Forbidden
from aips.shared.accounts.identity import STRONG_FACTORS, is_strong_factor_required
from aips.shared.accounts.models import User, UserSession
from aips.shared.accounts.security_notices import security_notice
from aips.shared.audit.models import EventType
from aips.shared.audit.services import record

PREAUTH = "aips_preauth"
AUTH_AT = "aips_auth_at"
REAUTH_AT = REAUTH_SESSION_KEY
LAST_SEEN = "aips_last_seen"
_TOUCH_EVERY = 60


def _store(session_key: str) -> SessionBase:
    engine = import_module(settings.SESSION_ENGINE)
    return engine.SessionStore(session_key=session_key)  # type: ignore[no-any-return]


def acting_person(request: HttpRequest) -> User:
    """The signed-in person of a view or API operation guarded by `require`/`api_auth`, for the
    services that record who did it (an author, a creator, an uploader). Both guards refuse an
    anonymous caller first and integration modules never reach those operations, so the
    Forbidden is a guard that does not fire in practice."""
    actor = acting(request)
    if not isinstance(actor, User):
        raise Forbidden()
    return actor


def start_preauth(request: HttpRequest, user: User, next_url: str = "") -> None:
    request.session.cycle_key()
    request.session[PREAUTH] = {"uid": user.pk, "at": time.time(), "next": next_url}


def drop_preauth(request: HttpRequest) -> None:
    request.session.pop(PREAUTH, None)


def preauth_user(request: HttpRequest) -> User | None:
    """The user who passed the password step in this session in the last few minutes."""
    data = request.session.get(PREAUTH)
    if (
        not isinstance(data, dict)
        or time.time() - float(data.get("at", 0)) > settings.AIPS_PREAUTH_SECONDS
    ):
        return None
    user = User.objects.select_related("organization").filter(pk=int(data.get("uid") or 0)).first()
    return user if user is not None and user.can_sign_in else None


def preauth_next(request: HttpRequest) -> str:
    data = request.session.get(PREAUTH) or {}
    return str(data.get("next") or "")


@transaction.atomic
def sign_in(request: HttpRequest, user: User, *, second_factor: str) -> None:
    """Both factors passed: a fresh session key, bookkeeping row and audit event. Every way in
    (TOTP, recovery code, security key, EDS, biometrics) ends here, so this is where a strong
    factor is enforced for the people who must use one (R57.10)."""
    if second_factor not in STRONG_FACTORS and is_strong_factor_required(user):
        raise Forbidden(_("Your organization requires EDS or biometrics to sign in."))
    request.session.pop(PREAUTH, None)
    login(request, user, backend="aips.shared.accounts.backends.EmailBackend")
    now = time.time()
    request.session[AUTH_AT] = now
    request.session[REAUTH_AT] = now
    request.session[LAST_SEEN] = now
    request.session.save()
    ctx = request_context.current()
    UserSession.objects.create(
        user=user,
        session_key=request.session.session_key or "",
        last_seen_at=timezone.now(),
        ip=ctx.ip if ctx else None,
        user_agent=ctx.user_agent if ctx else "",
        second_factor=second_factor,
    )
    User.objects.filter(pk=user.pk).update(last_login=timezone.now())
    record(
        actor=user,
        event=EventType.LOGIN_SUCCEEDED,
        target=user,
        organization_id=user.organization_id,
        details={"second_factor": second_factor},
    )
    security_notice(user=user, event="sign_in", factor=second_factor)


@transaction.atomic
def sign_out(request: HttpRequest, *, event: EventType = EventType.LOGGED_OUT) -> None:
    user = request.user
    key = request.session.session_key
    if isinstance(user, User):
        record(actor=user, event=event, target=user, organization_id=user.organization_id)
    if key:
        UserSession.objects.filter(session_key=key).delete()
    logout(request)


def confirm_identity(request: HttpRequest, user: User, *, factor: str = "") -> None:
    """Password and second factor given again: sensitive actions are open for a while."""
    request.session[REAUTH_AT] = time.time()
    with transaction.atomic():
        record(
            actor=user,
            event=EventType.REAUTHENTICATED,
            target=user,
            organization_id=user.organization_id,
            details={"factor": factor} if factor else None,
        )


def touch(request: HttpRequest) -> bool:
    """Idle and absolute limits. Returns False when the session has just been ended."""
    session = request.session
    now = time.time()
    auth_at = session.get(AUTH_AT)
    last = session.get(LAST_SEEN)
    if auth_at is None:
        # A session made outside sign_in (tests' force_login): start its clocks now.
        session[AUTH_AT] = session[LAST_SEEN] = now
        return True
    if now - float(last or auth_at) > settings.AIPS_SESSION_IDLE_SECONDS or (
        now - float(auth_at) > settings.SESSION_COOKIE_AGE
    ):
        sign_out(request, event=EventType.SESSION_EXPIRED)
        return False
    if last is None or now - float(last) > _TOUCH_EVERY:
        session[LAST_SEEN] = now
        if session.session_key:
            # Bookkeeping for the "my sessions" page, not a state change worth an audit event.
            UserSession.objects.filter(session_key=session.session_key).update(
                last_seen_at=timezone.now()
            )
    return True


@transaction.atomic
def end_session(*, actor: User, user_session: UserSession) -> None:
    _store(user_session.session_key).delete()
    UserSession.objects.filter(pk=user_session.pk).delete()
    record(
        actor=actor,
        event=EventType.SESSION_ENDED,
        target=user_session.user,
        organization_id=user_session.user.organization_id,
        details={"ip": user_session.ip, "started": user_session.created_at.isoformat()},
    )


def end_other_sessions(user: Person, *, keep: str) -> int:
    """After a password change, every other browser of this user signs in again."""
    rows = list(UserSession.objects.filter(user_id=user.pk).exclude(session_key=keep))
    for row in rows:
        _store(row.session_key).delete()
    UserSession.objects.filter(pk__in=[r.pk for r in rows]).delete()
    return len(rows)


def end_all_sessions(user: Person) -> int:
    """Called inside blocking/reset services: every browser of this user is signed out now."""
    rows = list(UserSession.objects.filter(user_id=user.pk))
    for row in rows:
        _store(row.session_key).delete()
    UserSession.objects.filter(user_id=user.pk).delete()
    return len(rows)
