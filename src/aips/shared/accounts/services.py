"""Every change to accounts, invitations, new-user requests and tokens, each with its audit
event in the same transaction."""

import hashlib
import secrets
from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from aips.core.access import ensure_perm
from aips.core.actors import Actor, SystemActor
from aips.core.branding import site_text
from aips.core.errors import AppError, Forbidden, NotFound, ValidationFailed
from aips.core.identifiers import normalize_phones
from aips.core.listing import clean_query, spec_named
from aips.core.permissions import Perm, active_table
from aips.core.validation import Fields
from aips.shared.accounts import identity
from aips.shared.accounts.models import (
    ApiToken,
    IdentityProof,
    Invitation,
    Language,
    SavedFilter,
    User,
    UserRequest,
    UserRequestStatus,
)
from aips.shared.accounts.security_notices import security_notice
from aips.shared.accounts.sessions import end_all_sessions
from aips.shared.audit.models import EventType
from aips.shared.audit.services import record
from aips.shared.eds.types import EdsRefused, Refusal, Verification
from aips.shared.mfa.services import reset_all_factors
from aips.shared.notifications.services import enqueue_mail
from aips.shared.organizations.models import Organization

TOKEN_PREFIX = "aips_"  # noqa: S105 - a public marker, not a secret
_UNSET: Any = object()


def hash_secret(raw: str) -> str:
    # The secrets are 256-bit random values, so a plain SHA-256 is enough (no stretching needed).
    return hashlib.sha256(raw.encode()).hexdigest()


@dataclass
class _Person:
    email: str
    surname: str
    given_name: str
    patronymic: str
    position: str
    phones: list[str]
    language: str
    role: str


def _validate_person(
    person: _Person,
    organization: Organization | None,
    *,
    instance: User | None,
    f: Fields | None = None,
) -> _Person:
    f = f or Fields()
    try:
        phones = normalize_phones(list(person.phones or []))
    except ValueError as exc:
        f.add("phones", exc)
        phones = []
    else:
        if not phones:
            f.add("phones", _("Give at least one contact phone."))
    clean = _Person(
        email=f.email("email", person.email),
        surname=f.required_text("surname", person.surname, max_length=150),
        given_name=f.required_text("given_name", person.given_name, max_length=150),
        patronymic=f.optional_text("patronymic", person.patronymic, max_length=150),
        position=f.required_text("position", person.position, max_length=255),
        phones=phones,
        language=f.choice("language", person.language, Language),
        role=person.role,
    )
    # The roles of the product this deployment serves (core/permissions.py: active_table()).
    table = active_table()
    if person.role not in table.grants:
        f.add("role", _("“%(value)s” is not one of the allowed values.") % {"value": person.role})
    elif organization is not None:
        cross_tenant = person.role in table.cross_tenant_roles
        kinds = table.role_kinds.get(person.role)
        if cross_tenant != organization.is_center:
            f.add(
                "role",
                site_text("role_cross_tenant") if cross_tenant else site_text("role_tenant"),
            )
        elif kinds is not None and organization.kind not in kinds:
            f.add("role", _("This role does not belong to this kind of organization."))
    if "email" not in f.errors:
        clash = User.objects.filter(email=clean.email)
        if instance is not None:
            clash = clash.exclude(pk=instance.pk)
        if clash.exists():
            f.add("email", _("A user with this e-mail already exists."))
    f.raise_if_any()
    return clean


def _resolve_organization(
    actor: Actor, organization_id: int | None, f: Fields
) -> Organization | None:
    if organization_id is None:
        f.add("organization", _("This field is required."))
        return None
    org = Organization.objects.visible_to(actor).filter(pk=organization_id).first()
    if org is None:
        f.add("organization", _("No such organization."))
    return org


def _issue_invitation(*, actor: Actor, user: User, eds_required: bool | None = None) -> str:
    """A new single-use link; older ones stop working. `eds_required` None keeps what the last
    invitation asked for (a reminder asks for the same)."""
    raw = secrets.token_urlsafe(32)
    if eds_required is None:
        last = Invitation.objects.filter(user=user).order_by("-id").first()
        eds_required = bool(last and last.eds_required)
    Invitation.objects.filter(user=user, used_at__isnull=True).update(expires_at=timezone.now())
    Invitation.objects.create(
        user=user,
        token_hash=hash_secret(raw),
        created_by=actor if isinstance(actor, User) else None,
        expires_at=timezone.now() + timedelta(hours=settings.AIPS_INVITATION_HOURS),
        eds_required=eds_required,
    )
    link = settings.AIPS_BASE_URL + reverse("accounts:invitation_accept", args=[raw])
    language = user.language
    # Queued in this transaction; `aips worker` sends it after commit, with retries.
    with translation.override(language):
        enqueue_mail(
            to=user.email,
            subject=site_text("invitation_subject"),
            body=site_text("invitation_body")
            % {"hours": settings.AIPS_INVITATION_HOURS, "link": link},
            language=language,
        )
    record(
        actor=actor,
        event=EventType.USER_INVITED,
        target=user,
        organization_id=user.organization_id,
        details={"expires_hours": settings.AIPS_INVITATION_HOURS, "eds_required": eds_required},
    )
    return raw


@transaction.atomic
def invitation_issue(*, actor: Actor, user: User) -> str:
    """A single-use link for an account made outside `user_create` (a product's
    self-registration): with it the person proves the IIN and sets the first password. Returns
    the raw token (also e-mailed to the person)."""
    return _issue_invitation(actor=actor, user=user)


def _insert_user(person: _Person, organization: Organization) -> User:
    user = User(organization=organization, **person.__dict__)
    user.set_unusable_password()
    try:
        with transaction.atomic():
            user.save()
    except IntegrityError as exc:
        raise ValidationFailed.field("email", _("A user with this e-mail already exists.")) from exc
    return user


@transaction.atomic
def user_create(
    *,
    actor: Actor,
    email: str,
    surname: str,
    given_name: str,
    position: str,
    organization_id: int | None,
    phones: list[str],
    role: str,
    language: str = Language.RU,
    patronymic: str = "",
    eds_required: bool = False,
) -> User:
    """The center creates a personal account (R67.6, R57.6); the person gets an invitation, which
    with `eds_required` is accepted only with an EDS signature that binds the IIN (R57.9)."""
    ensure_perm(actor, Perm.USER_CREATE)
    f = Fields()
    org = _resolve_organization(actor, organization_id, f)
    person = _validate_person(
        _Person(email, surname, given_name, patronymic, position, phones, language, role),
        org,
        instance=None,
        f=f,
    )
    assert org is not None  # _validate_person raised otherwise  # noqa: S101
    user = _insert_user(person, org)
    record(
        actor=actor,
        event=EventType.USER_CREATED,
        target=user,
        organization_id=org.pk,
        details={"email": user.email, "role": user.role},
    )
    _issue_invitation(actor=actor, user=user, eds_required=bool(eds_required))
    return user


@transaction.atomic
def user_update(
    *,
    actor: Actor,
    user: User,
    email: str = _UNSET,
    surname: str = _UNSET,
    given_name: str = _UNSET,
    patronymic: str = _UNSET,
    position: str = _UNSET,
    organization_id: int = _UNSET,
    phones: list[str] = _UNSET,
    language: str = _UNSET,
    role: str = _UNSET,
    is_active: bool = _UNSET,
) -> User:
    ensure_perm(actor, Perm.USER_UPDATE)
    target = User.objects.select_for_update().get(pk=user.pk)
    f = Fields()
    org = target.organization
    if organization_id is not _UNSET and organization_id != target.organization_id:
        org = _resolve_organization(actor, organization_id, f)  # type: ignore[assignment]
    given: dict[str, Any] = {
        "email": email,
        "surname": surname,
        "given_name": given_name,
        "patronymic": patronymic,
        "position": position,
        "phones": phones,
        "language": language,
        "role": role,
    }
    current = _Person(**{k: getattr(target, k) for k in given})
    proposed = _Person(**{k: getattr(current, k) if v is _UNSET else v for k, v in given.items()})
    clean = _validate_person(proposed, org, instance=target, f=f)
    changes: dict[str, list[Any]] = {
        fld.name: [getattr(current, fld.name), getattr(clean, fld.name)]
        for fld in fields(_Person)
        if getattr(current, fld.name) != getattr(clean, fld.name)
    }
    if org is not None and org.pk != target.organization_id:
        changes["organization_id"] = [target.organization_id, org.pk]
        target.organization = org
    if is_active is not _UNSET and bool(is_active) != target.is_active:
        if target.pk == actor.pk and not is_active:
            raise ValidationFailed.field("is_active", _("You cannot deactivate yourself."))
        changes["is_active"] = [target.is_active, bool(is_active)]
        target.is_active = bool(is_active)
    if not changes:
        return target
    for name in given:
        setattr(target, name, getattr(clean, name))
    try:
        with transaction.atomic():
            target.save()
    except IntegrityError as exc:
        raise ValidationFailed.field("email", _("A user with this e-mail already exists.")) from exc
    record(
        actor=actor,
        event=EventType.USER_UPDATED,
        target=target,
        organization_id=target.organization_id,
        details={"changes": changes},
    )
    return target


@transaction.atomic
def user_reinvite(*, actor: Actor, user: User) -> None:
    """A fresh invitation for someone who has not set a password yet; older links stop working."""
    ensure_perm(actor, Perm.USER_UPDATE)
    if user.has_usable_password():
        raise AppError(_("This user has already set a password."), code="already_active")
    _issue_invitation(actor=actor, user=user)


def invitation_lookup(raw_token: str) -> Invitation:
    invitation = (
        Invitation.objects.select_related("user", "user__organization")
        .filter(token_hash=hash_secret(raw_token))
        .first()
    )
    if invitation is None or not invitation.is_usable or not invitation.user.is_active:
        raise NotFound(site_text("invitation_expired"))
    return invitation


@transaction.atomic
def invitation_accept(*, raw_token: str, password: str, eds: Verification | None = None) -> User:
    """The person sets the first password. With `eds` (a verified signature of the person's
    challenge, `identity.prove_identity`), the certificate's IIN is bound to the account in the
    same transaction; an invitation that requires EDS, or an organization that requires a strong
    factor, is accepted only so (R57.9)."""
    invitation = invitation_lookup(raw_token)
    invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
    if not invitation.is_usable:
        raise NotFound(site_text("invitation_expired"))
    user = invitation.user
    if (
        eds is None
        and not user.iin
        and (invitation.eds_required or identity.is_strong_factor_required(user))
    ):
        raise ValidationFailed.field("eds", _("Sign with your EDS to finish the registration."))
    try:
        password_validation.validate_password(password, user)
    except ValidationError as exc:
        raise ValidationFailed(fields={"password": list(exc.messages)}) from exc
    user.set_password(password)
    user.save(update_fields=["password", "updated_at"])
    invitation.used_at = timezone.now()
    invitation.save(update_fields=["used_at"])
    record(
        actor=user,
        event=EventType.USER_ACTIVATED,
        target=user,
        organization_id=user.organization_id,
        details={"eds": eds is not None},
    )
    if eds is not None:
        iin_bind(actor=user, user=user, eds=eds)
    return user


@transaction.atomic
def user_set_initial_password(*, actor: SystemActor, user: User, password: str) -> None:
    """Operators only (demo data, first admin): set a password without an invitation."""
    if not isinstance(actor, SystemActor):
        raise AppError(_("Only the command line may set passwords directly."), status=403)
    try:
        password_validation.validate_password(password, user)
    except ValidationError as exc:
        raise ValidationFailed(fields={"password": list(exc.messages)}) from exc
    user.set_password(password)
    user.save(update_fields=["password", "updated_at"])
    Invitation.objects.filter(user=user, used_at__isnull=True).update(used_at=timezone.now())
    record(
        actor=actor,
        event=EventType.USER_ACTIVATED,
        target=user,
        organization_id=user.organization_id,
        details={"via": "cli"},
    )


@transaction.atomic
def user_set_language(*, actor: User, language: str) -> None:
    if language not in Language.values:
        raise ValidationFailed.field("language", _("Unknown language."))
    if actor.language == language:
        return
    old = actor.language
    User.objects.filter(pk=actor.pk).update(language=language)
    actor.language = language
    record(
        actor=actor,
        event=EventType.USER_LANGUAGE_CHANGED,
        target=actor,
        organization_id=actor.organization_id,
        details={"changes": {"language": [old, language]}},
    )


@transaction.atomic
def login_succeeded(*, user: User) -> None:
    User.objects.filter(pk=user.pk).update(last_login=timezone.now())
    record(
        actor=user,
        event=EventType.LOGIN_SUCCEEDED,
        target=user,
        organization_id=user.organization_id,
    )


@transaction.atomic
def login_failed(*, email: str) -> None:
    # The e-mail is recorded as typed, so probes for accounts are visible to the center.
    record(
        actor=None,
        event=EventType.LOGIN_FAILED,
        actor_label=email[:255],
        details={"email": email[:255]},
    )


@transaction.atomic
def logged_out(*, user: User) -> None:
    record(
        actor=user, event=EventType.LOGGED_OUT, target=user, organization_id=user.organization_id
    )


# --- new-user requests (an organization asks, the center decides) ---------------------------


@transaction.atomic
def user_request_create(
    *,
    actor: User,
    email: str,
    surname: str,
    given_name: str,
    position: str,
    phones: list[str],
    role: str,
    language: str = Language.RU,
    patronymic: str = "",
) -> UserRequest:
    ensure_perm(actor, Perm.USER_REQUEST_CREATE)
    f = Fields()
    person = _Person(email, surname, given_name, patronymic, position, phones, language, role)
    if UserRequest.objects.filter(
        email=(email or "").strip().lower(), status=UserRequestStatus.PENDING
    ).exists():
        f.add("email", _("A request for this e-mail is already waiting for the center."))
    clean = _validate_person(person, actor.organization, instance=None, f=f)
    request = UserRequest.objects.create(
        organization=actor.organization, requested_by=actor, **clean.__dict__
    )
    record(
        actor=actor,
        event=EventType.USER_REQUEST_CREATED,
        target=request,
        organization_id=actor.organization_id,
        details={"email": request.email, "role": request.role},
    )
    return request


def _pending(request: UserRequest) -> UserRequest:
    locked = UserRequest.objects.select_for_update().get(pk=request.pk)
    if locked.status != UserRequestStatus.PENDING:
        raise AppError(
            _("This request has already been decided."), code="already_decided", status=409
        )
    return locked


@transaction.atomic
def user_request_approve(*, actor: User, request: UserRequest) -> User:
    ensure_perm(actor, Perm.USER_REQUEST_DECIDE)
    locked = _pending(request)
    person = _Person(
        locked.email,
        locked.surname,
        locked.given_name,
        locked.patronymic,
        locked.position,
        locked.phones,
        locked.language,
        locked.role,
    )
    clean = _validate_person(person, locked.organization, instance=None)
    user = _insert_user(clean, locked.organization)
    locked.status = UserRequestStatus.APPROVED
    locked.decided_by = actor
    locked.decided_at = timezone.now()
    locked.created_user = user
    locked.save()
    record(
        actor=actor,
        event=EventType.USER_REQUEST_APPROVED,
        target=locked,
        organization_id=locked.organization_id,
        details={"user_id": user.pk},
    )
    record(
        actor=actor,
        event=EventType.USER_CREATED,
        target=user,
        organization_id=user.organization_id,
        details={"email": user.email, "role": user.role, "user_request_id": locked.pk},
    )
    _issue_invitation(actor=actor, user=user)
    return user


@transaction.atomic
def user_request_reject(*, actor: User, request: UserRequest, comment: str) -> UserRequest:
    ensure_perm(actor, Perm.USER_REQUEST_DECIDE)
    f = Fields()
    text = f.required_text("comment", comment, max_length=2000)
    f.raise_if_any()
    locked = _pending(request)
    locked.status = UserRequestStatus.REJECTED
    locked.decided_by = actor
    locked.decided_at = timezone.now()
    locked.decision_comment = text
    locked.save()
    record(
        actor=actor,
        event=EventType.USER_REQUEST_REJECTED,
        target=locked,
        organization_id=locked.organization_id,
        details={"comment": text},
    )
    return locked


# --- personal API tokens -----------------------------------------------------------------------


@transaction.atomic
def token_create(
    *, actor: User, name: str, expires_at: datetime | None = None
) -> tuple[ApiToken, str]:
    """Returns the token and its secret, which is shown once and never stored."""
    ensure_perm(actor, Perm.TOKEN_MANAGE)
    f = Fields()
    clean_name = f.required_text("name", name, max_length=100)
    if expires_at is not None and expires_at <= timezone.now():
        f.add("expires_at", _("The expiry must be in the future."))
    f.raise_if_any()
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=actor,
        name=clean_name,
        prefix=raw[: len(TOKEN_PREFIX) + 6],
        token_hash=hash_secret(raw),
        expires_at=expires_at,
    )
    record(
        actor=actor,
        event=EventType.TOKEN_CREATED,
        target=token,
        organization_id=actor.organization_id,
        details={"name": clean_name, "prefix": token.prefix},
    )
    return token, raw


@transaction.atomic
def token_revoke(*, actor: User, token: ApiToken) -> None:
    ensure_perm(actor, Perm.TOKEN_MANAGE)
    locked = ApiToken.objects.visible_to(actor).select_for_update().get(pk=token.pk)
    if locked.revoked_at is not None:
        return
    locked.revoked_at = timezone.now()
    locked.save(update_fields=["revoked_at"])
    record(
        actor=actor,
        event=EventType.TOKEN_REVOKED,
        target=locked,
        organization_id=actor.organization_id,
        details={"prefix": locked.prefix},
    )


def token_authenticate(raw: str) -> User | None:
    """The user behind a bearer token, or None. Marks the token used at most once a minute."""
    if not raw.startswith(TOKEN_PREFIX) or len(raw) > 100:
        return None
    token = (
        ApiToken.objects.select_related("user", "user__organization")
        .filter(token_hash=hash_secret(raw))
        .first()
    )
    if token is None or not token.is_usable:
        return None
    user = token.user
    if not user.can_sign_in:
        return None
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > timedelta(minutes=1):
        # Bookkeeping, not a state change worth an audit event.
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return user


# --- account security: blocking, lockout, second-factor reset, passwords (R57.7, R57.11) -------


def _security_target(actor: Actor, user: User) -> User:
    """Center admins act on anyone, an organization's head on its own people only."""
    ensure_perm(actor, Perm.USER_SECURITY)
    target = User.objects.visible_to(actor).select_for_update().filter(pk=user.pk).first()
    if target is None:
        raise NotFound()
    if target.pk == actor.pk:
        raise AppError(_("You cannot do this to your own account."), code="self", status=409)
    return target


def _reason(reason: str) -> str:
    f = Fields()
    text = f.required_text("reason", reason, max_length=2000)
    f.raise_if_any()
    return text


@transaction.atomic
def user_block(*, actor: Actor, user: User, reason: str) -> User:
    """Blocks at once: open sessions end and API tokens stop working (R57.7)."""
    text = _reason(reason)
    target = _security_target(actor, user)
    if target.is_blocked:
        return target
    target.blocked_at = timezone.now()
    target.blocked_reason = text
    target.save(update_fields=["blocked_at", "blocked_reason", "updated_at"])
    ended = end_all_sessions(target)
    record(
        actor=actor,
        event=EventType.USER_BLOCKED,
        target=target,
        organization_id=target.organization_id,
        details={"reason": text, "sessions_ended": ended},
    )
    return target


@transaction.atomic
def user_unblock(*, actor: Actor, user: User, reason: str) -> User:
    """Lifts a block and any lockout after failed attempts."""
    from axes.utils import reset as axes_reset

    text = _reason(reason)
    target = _security_target(actor, user)
    cleared = axes_reset(username=target.email)
    was_blocked = target.is_blocked
    target.blocked_at = None
    target.blocked_reason = ""
    target.save(update_fields=["blocked_at", "blocked_reason", "updated_at"])
    if was_blocked:
        record(
            actor=actor,
            event=EventType.USER_UNBLOCKED,
            target=target,
            organization_id=target.organization_id,
            details={"reason": text},
        )
    if cleared or not was_blocked:
        record(
            actor=actor,
            event=EventType.LOCKOUT_CLEARED,
            target=target,
            organization_id=target.organization_id,
            details={"reason": text, "attempts_cleared": cleared},
        )
    return target


@transaction.atomic
def user_reset_second_factors(*, actor: Actor, user: User, reason: str) -> None:
    """For a lost phone or key: the person enrols again at the next sign-in."""
    text = _reason(reason)
    target = _security_target(actor, user)
    reset_all_factors(actor=actor, user=target, reason=text)
    end_all_sessions(target)


def is_locked_out(email: str) -> bool:
    from axes.models import AccessAttempt
    from django.conf import settings as dj_settings

    since = timezone.now() - dj_settings.AXES_COOLOFF_TIME
    attempts = AccessAttempt.objects.filter(username=email.strip().lower(), attempt_time__gte=since)
    failures = sum(int(a.failures_since_start) for a in attempts)
    return failures >= int(dj_settings.AXES_FAILURE_LIMIT)


@transaction.atomic
def password_change(*, actor: User, current_password: str, new_password: str) -> None:
    """The caller has already checked a fresh second factor (R57.11); this checks the rest."""
    f = Fields()
    if not actor.check_password(current_password):
        f.add("current_password", _("The current password is wrong."))
    try:
        password_validation.validate_password(new_password, actor)
    except ValidationError as exc:
        for message in exc.messages:
            f.add("new_password", message)
    f.raise_if_any()
    actor.set_password(new_password)
    actor.save(update_fields=["password", "updated_at"])
    record(
        actor=actor,
        event=EventType.PASSWORD_CHANGED,
        target=actor,
        organization_id=actor.organization_id,
    )
    security_notice(user=actor, event="password_changed")


@transaction.atomic
def password_reset_request(*, email: str) -> None:
    """Sends a reset link if the account exists and may sign in; says nothing either way."""
    from django.contrib.auth.tokens import default_token_generator
    from django.utils.encoding import force_bytes
    from django.utils.http import urlsafe_base64_encode

    address = (email or "").strip().lower()
    user = User.objects.select_related("organization").filter(email=address).first()
    record(
        actor=None,
        event=EventType.PASSWORD_RESET_REQUESTED,
        target=user,
        organization_id=user.organization_id if user else None,
        actor_label=address[:255],
        details={"known": user is not None},
    )
    if user is None or not user.can_sign_in or not user.has_usable_password():
        return
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    link = settings.AIPS_BASE_URL + reverse("accounts:password_reset_confirm", args=[uid, token])
    language = user.language
    with translation.override(language):
        enqueue_mail(
            to=user.email,
            subject=site_text("reset_subject"),
            body=site_text("reset_body")
            % {"link": link, "minutes": settings.PASSWORD_RESET_TIMEOUT // 60},
            language=language,
        )


def password_reset_user(uidb64: str, token: str) -> User | None:
    from django.contrib.auth.tokens import default_token_generator
    from django.utils.http import urlsafe_base64_decode

    try:
        pk = int(urlsafe_base64_decode(uidb64).decode())
    except (ValueError, UnicodeDecodeError):
        return None
    user = User.objects.select_related("organization").filter(pk=pk).first()
    if user is None or not user.can_sign_in or not default_token_generator.check_token(user, token):
        return None
    return user


@transaction.atomic
def password_reset_confirm(*, uidb64: str, token: str, new_password: str) -> User:
    user = password_reset_user(uidb64, token)
    if user is None:
        raise NotFound(_("This link is not valid any more. Ask for a new one."))
    try:
        password_validation.validate_password(new_password, user)
    except ValidationError as exc:
        raise ValidationFailed(fields={"new_password": list(exc.messages)}) from exc
    user.set_password(new_password)
    user.save(update_fields=["password", "updated_at"])
    end_all_sessions(user)
    record(
        actor=user,
        event=EventType.PASSWORD_RESET_DONE,
        target=user,
        organization_id=user.organization_id,
    )
    security_notice(user=user, event="password_recovered")
    return user


@transaction.atomic
def login_locked_out(*, email: str) -> None:
    record(
        actor=None,
        event=EventType.LOCKED_OUT,
        actor_label=email[:255],
        details={"email": email[:255]},
    )


@transaction.atomic
def second_factor_failed(*, user: User) -> None:
    record(
        actor=user, event=EventType.MFA_FAILED, target=user, organization_id=user.organization_id
    )


# --- saved list filters and list exports (core.listing) -----------------------------------------

SAVED_FILTERS_MAX = 50


@transaction.atomic
def saved_filter_create(
    *, actor: User, list_name: str, name: str, query_string: str
) -> SavedFilter:
    ensure_perm(actor, Perm.PROFILE_VIEW)
    f = Fields()
    spec = spec_named(list_name)
    if spec is None:
        f.add("list_name", _("Unknown list."))
    clean_name = f.required_text("name", name, max_length=100)
    query = clean_query(query_string or "")
    if len(query) > 1000:
        f.add("query_string", _("At most %(n)d characters.") % {"n": 1000})
    mine = SavedFilter.objects.visible_to(actor).filter(list_name=list_name)
    if clean_name and mine.filter(name=clean_name).exists():
        f.add("name", _("You already have a filter with this name."))
    if mine.count() >= SAVED_FILTERS_MAX:
        f.add("name", _("At most %(n)d saved filters per list.") % {"n": SAVED_FILTERS_MAX})
    f.raise_if_any()
    saved = SavedFilter.objects.create(
        user=actor, list_name=list_name, name=clean_name, query_string=query
    )
    record(
        actor=actor,
        event=EventType.FILTER_SAVED,
        target=saved,
        organization_id=actor.organization_id,
        details={"list": list_name, "name": clean_name, "query": query},
    )
    return saved


@transaction.atomic
def saved_filter_delete(*, actor: User, saved: SavedFilter) -> None:
    ensure_perm(actor, Perm.PROFILE_VIEW)
    locked = SavedFilter.objects.visible_to(actor).select_for_update().filter(pk=saved.pk).first()
    if locked is None:
        raise NotFound()
    record(
        actor=actor,
        event=EventType.FILTER_DELETED,
        target=locked,
        organization_id=actor.organization_id,
        details={"list": locked.list_name, "name": locked.name},
    )
    locked.delete()


@transaction.atomic
def list_exported(*, actor: User, list_name: str, query: str, rows: int) -> None:
    """A list left the system as a CSV file: who, which list, which filter, how many rows."""
    record(
        actor=actor,
        event=EventType.LIST_EXPORTED,
        organization_id=actor.organization_id,
        details={"list": list_name, "query": query[:1000], "rows": rows},
    )


# --- identity by EDS (R57.9, R57.10) -------------------------------------------------------------


def _iin_taken() -> AppError:
    return AppError(
        site_text("iin_taken"),
        code="iin_taken",
        status=409,
    )


@transaction.atomic
def iin_bind(*, actor: User, user: User, eds: Verification) -> User:
    """Binds the IIN of a verified EDS certificate to the person's own account (R57.9): when
    accepting the invitation, from the security page, or at the first sign-in. One IIN, one
    account; an account bound to one IIN is never silently moved to another."""
    if actor.pk != user.pk:
        raise Forbidden()
    iin = eds.signer.iin
    if len(iin) != 12 or not iin.isascii() or not iin.isdigit():
        raise EdsRefused(Refusal.NO_IIN, f"IIN {iin!r} is not 12 digits")
    target = User.objects.select_for_update().get(pk=user.pk)
    if target.iin:
        if target.iin == iin:
            return target
        raise AppError(
            _("Your account is already bound to another IIN."), code="iin_mismatch", status=409
        )
    if User.objects.filter(iin=iin).exclude(pk=target.pk).exists():
        raise _iin_taken()
    target.iin = iin
    target.iin_bound_at = timezone.now()
    target.iin_bound_by = IdentityProof.EDS
    try:
        with transaction.atomic():
            target.save(update_fields=["iin", "iin_bound_at", "iin_bound_by", "updated_at"])
    except IntegrityError as exc:
        raise _iin_taken() from exc
    record(
        actor=actor,
        event=EventType.IIN_BOUND,
        target=target,
        organization_id=target.organization_id,
        details={"via": IdentityProof.EDS.value, **identity.evidence(eds)},
    )
    user.iin, user.iin_bound_at, user.iin_bound_by = iin, target.iin_bound_at, IdentityProof.EDS
    return target


@transaction.atomic
def iin_unbind(*, actor: Actor, user: User, reason: str) -> User:
    """Undoes an IIN binding (R57.9), e.g. a wrong person's EDS or a changed certificate: a center
    admin for anyone, an organization's head for its own people. The person's sessions end (they
    rested on that binding); at the next sign-in the person binds an EDS (or biometrics) again."""
    text = _reason(reason)
    target = _security_target(actor, user)
    if not target.iin:
        raise AppError(_("This account is not bound to an IIN."), code="iin_not_bound", status=409)
    previous = {
        "iin": identity.mask_iin(target.iin),
        "bound_by": target.iin_bound_by,
        "bound_at": target.iin_bound_at.isoformat() if target.iin_bound_at else "",
    }
    target.iin = ""
    target.iin_bound_at = None
    target.iin_bound_by = ""
    target.save(update_fields=["iin", "iin_bound_at", "iin_bound_by", "updated_at"])
    ended = end_all_sessions(target)
    record(
        actor=actor,
        event=EventType.IIN_UNBOUND,
        target=target,
        organization_id=target.organization_id,
        details={"reason": text, "sessions_ended": ended, **previous},
    )
    user.iin, user.iin_bound_at, user.iin_bound_by = "", None, ""
    return target


@transaction.atomic
def iin_bind_refused(*, user: User, reason: str, details: dict[str, Any] | None = None) -> None:
    """A refused attempt to bind an EDS, for the journal (the refusal itself rolled back)."""
    record(
        actor=user,
        event=EventType.IIN_BIND_REFUSED,
        target=user,
        organization_id=user.organization_id,
        details={"reason": reason[:64], **(details or {})},
    )


@transaction.atomic
def eds_signin_succeeded(*, user: User, eds: Verification) -> None:
    """Password and EDS passed (R57.10); `sessions.sign_in` then records the sign-in itself."""
    record(
        actor=user,
        event=EventType.EDS_SIGNIN_SUCCEEDED,
        target=user,
        organization_id=user.organization_id,
        details=identity.evidence(eds),
    )


@transaction.atomic
def eds_signin_failed(*, user: User, reason: str, detail: str = "") -> None:
    """An EDS second factor refused; the caller counts it toward lockout like a wrong code."""
    record(
        actor=user,
        event=EventType.EDS_SIGNIN_FAILED,
        target=user,
        organization_id=user.organization_id,
        details={"reason": reason[:64], "detail": detail[:500]},
    )
