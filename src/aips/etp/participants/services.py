"""Writes: a participant's registration with an EDS (R57.9) and the profile's changes.

Registration needs no signed-in actor: the person proves who they are with a signature of the
page's challenge, verified by the platform (`accounts.identity.prove_identity`) before this runs.
The certificate decides the organization: without a BIN, an individual, whose organization of one
is created with the IIN as its `bin`; with a BIN, a legal entity found or created by that BIN, the
signer its representative. One IIN, one account. Every participant organization requires EDS or
biometrics at each sign-in (`strong_auth_required`, R57.10). The e-mail address given at an EDS
registration is confirmed with a single-use link sent to it (`email_confirm`)."""

import re
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from aips.core.access import ensure_perm
from aips.core.actors import Actor, SystemActor
from aips.core.errors import AppError, Conflict, NotFound
from aips.core.identifiers import normalize_phone
from aips.core.validation import Fields
from aips.etp.participants import notices
from aips.etp.participants.models import EmailConfirmation, ParticipantProfile
from aips.etp.permissions import EtpPerm, EtpRole
from aips.shared.accounts import identity
from aips.shared.accounts.models import IdentityProof, Language, User
from aips.shared.accounts.services import hash_secret, invitation_issue
from aips.shared.audit.models import EventType
from aips.shared.audit.services import record
from aips.shared.biometrics.models import BiometricSession
from aips.shared.biometrics.models import Purpose as BiometricPurpose
from aips.shared.biometrics.services import iin_error, session_start
from aips.shared.eds.types import Role, Verification
from aips.shared.notifications.services import enqueue_mail
from aips.shared.organizations.models import Organization, OrganizationKind
from aips.shared.organizations.services import organization_create

# A certificate of a legal entity's employee must say which: without one of these roles nobody
# can tell whether the signer stands for the entity at all.
LEGAL_ROLES = frozenset({Role.HEAD, Role.RIGHT_TO_SIGN, Role.EMPLOYEE})
# Who may join a legal entity someone else registered: those who may sign for it.
SIGNING_ROLES = frozenset({Role.HEAD, Role.RIGHT_TO_SIGN})
_REGISTRAR = "etp:registration"
PARTICIPANT_KINDS = frozenset(
    {OrganizationKind.PARTICIPANT_INDIVIDUAL, OrganizationKind.PARTICIPANT_LEGAL}
)
_BIC = re.compile(r"^[A-Z]{4}KZ[A-Z0-9]{2}([A-Z0-9]{3})?$")


class RegistrationRefused(AppError):
    status = 422
    code = "registration_refused"


# --- the bank account ---------------------------------------------------------------------------


def iban_error(value: str) -> str | None:
    """Why `value` is not a Kazakh IBAN (KZ, two check digits, 16 letters or digits; the ISO 13616
    mod-97 check), or None."""
    if len(value) != 20 or not value.startswith("KZ") or not value.isascii():
        return _("A Kazakh IBAN has 20 characters and starts with KZ.")
    if not value[2:4].isdigit() or not value[4:].isalnum():
        return _("A Kazakh IBAN has 20 characters and starts with KZ.")
    rearranged = value[4:] + value[:4]
    digits = "".join(str(int(ch, 36)) for ch in rearranged)
    if int(digits) % 97 != 1:
        return _("This IBAN's check digits are wrong; check the number for a typo.")
    return None


def bic_error(value: str) -> str | None:
    if not _BIC.match(value):
        return _("A Kazakh bank's BIC has 8 or 11 letters and digits, KZ in the 5th and 6th.")
    return None


# --- registration -------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Account:
    email: str
    password: str
    phone: str
    language: str


def _validate_account(
    *, email: str, password: str | None, phone: str, language: str, f: Fields | None = None
) -> _Account:
    """`password` None: set later, with the invitation link (a registration by biometrics)."""
    f = f or Fields()
    clean_email = f.email("email", email)
    clean_phone = ""
    try:
        clean_phone = normalize_phone(phone or "")
    except ValueError as exc:
        f.add("phone", exc)
    if "email" not in f.errors and User.objects.filter(email=clean_email).exists():
        f.add("email", _("A user with this e-mail already exists."))
    if password is not None:
        try:
            password_validation.validate_password(password, User(email=clean_email))
        except ValidationError as exc:
            for message in exc.messages:
                f.add("password", message)
    clean_language = f.choice("language", language or Language.RU, Language)
    f.raise_if_any()
    return _Account(clean_email, password or "", clean_phone, clean_language)


def _organization_for(eds: Verification, email: str) -> Organization:
    """The participant organization this certificate stands for, created when new."""
    signer = eds.signer
    registrar = SystemActor(label=_REGISTRAR)
    if not signer.bin:
        name = signer.common_name or f"{signer.surname} {signer.given_name}".strip()
        return _individual(iin=signer.iin, name=name, email=email)
    if not signer.roles & LEGAL_ROLES:
        raise RegistrationRefused(
            _(
                "The certificate names an organization but not your role in it (head, signing "
                "rights or employee). Use your legal entity's EDS for employees."
            ),
            code="legal_role_missing",
        )
    existing = Organization.objects.select_for_update().filter(bin=signer.bin).first()
    if existing is None:
        return organization_create(
            actor=registrar,
            name=signer.organization or signer.bin,
            bin=signer.bin,
            email=email,
            kind=OrganizationKind.PARTICIPANT_LEGAL,
            strong_auth_required=True,
        )
    if existing.kind != OrganizationKind.PARTICIPANT_LEGAL:
        raise RegistrationRefused(
            _("This BIN belongs to an organization that is not a participant of the ETP."),
            code="bin_not_participant",
        )
    if not signer.roles & SIGNING_ROLES:
        raise RegistrationRefused(
            _(
                "This legal entity is already registered: another representative joins it only "
                "with an EDS of its head or of a person with the right to sign."
            ),
            code="signing_role_missing",
        )
    return existing


def _individual(*, iin: str, name: str, email: str) -> Organization:
    """The organization of one for `iin`: new, or one whose registration by biometrics never
    passed. Nobody has proved that IIN, so a new registration for it (with an EDS, or a new
    biometric check) takes the organization over and the pending accounts stop, their
    invitation links with them: a stranger who typed someone's IIN cannot hold it hostage."""
    existing = Organization.objects.select_for_update().filter(bin=iin).first()
    if existing is None:
        return organization_create(
            actor=SystemActor(label=_REGISTRAR),
            name=name or iin,
            bin=iin,
            email=email,
            kind=OrganizationKind.PARTICIPANT_INDIVIDUAL,
            strong_auth_required=True,
        )
    if (
        existing.kind != OrganizationKind.PARTICIPANT_INDIVIDUAL
        or User.objects.filter(organization=existing).exclude(iin="").exists()
    ):
        raise RegistrationRefused(
            _("A participant with this IIN is already registered. Sign in instead."),
            code="iin_registered",
        )
    pending = list(
        User.objects.filter(organization=existing, is_active=True).values_list("pk", flat=True)
    )
    if pending:
        User.objects.filter(pk__in=pending).update(is_active=False, updated_at=timezone.now())
        record(
            actor=SystemActor(label=_REGISTRAR),
            event=EventType.PARTICIPANT_REGISTRATION_REFUSED,
            target=existing,
            organization_id=existing.pk,
            details={"reason": "superseded_pending", "users": pending},
        )
    return existing


def _refuse_taken_iin(iin: str) -> None:
    if User.objects.filter(iin=iin).exists():
        raise RegistrationRefused(
            _(
                "An account with this IIN is already registered (one person, one account). "
                "Sign in, or recover your password."
            ),
            code="iin_registered",
        )


@transaction.atomic
def participant_register(
    *, eds: Verification, email: str, password: str, phone: str, language: str = Language.RU
) -> User:
    """A new participant's account from a verified EDS signature of the registration challenge
    (R57.9): role `participant`, the certificate's IIN bound, the organization requiring EDS or
    biometrics at every sign-in (R57.10). Raises ValidationFailed (fields) or
    RegistrationRefused."""
    signer = eds.signer
    account = _validate_account(email=email, password=password, phone=phone, language=language)
    if not signer.iin:
        raise RegistrationRefused(_("The certificate does not carry an IIN."), code="no_iin")
    _refuse_taken_iin(signer.iin)
    organization = _organization_for(eds, account.email)
    legal = organization.kind == OrganizationKind.PARTICIPANT_LEGAL
    user = User(
        organization=organization,
        email=account.email,
        surname=signer.surname or signer.common_name or "-",
        given_name=signer.given_name or "-",
        position=(_("Representative") if legal else ""),
        phones=[account.phone],
        language=account.language,
        role=EtpRole.PARTICIPANT,
        iin=signer.iin,
        iin_bound_at=timezone.now(),
        iin_bound_by=IdentityProof.EDS,
    )
    user.set_password(account.password)
    try:
        with transaction.atomic():
            user.save()
    except IntegrityError as exc:  # the same e-mail or IIN registered at the same moment
        raise Conflict(_("This e-mail or IIN was registered just now. Sign in instead.")) from exc
    _profile, created = ParticipantProfile.objects.get_or_create(
        organization=organization, defaults={"phone": account.phone}
    )
    _confirmation_send(user)
    record(
        actor=user,
        event=EventType.PARTICIPANT_REGISTERED,
        target=user,
        organization_id=organization.pk,
        details={
            "via": "eds",
            "kind": organization.kind,
            "organization_new": created,
            "eds": identity.evidence(eds),
        },
    )
    return user


@transaction.atomic
def participant_register_biometric(
    *,
    iin: str,
    surname: str,
    given_name: str,
    email: str,
    phone: str,
    language: str = Language.RU,
) -> tuple[BiometricSession, str]:
    """An individual registers by biometric identification (R57.9): the account (role
    `participant`, no password, no IIN yet) in a new organization of one for the typed IIN, an
    invitation link, and the provider's registration session for that IIN. A passed check binds
    the IIN (`biometrics/services.py::_bind_iin`); the person then sets the password with the
    link (`accounts:invitation_accept`, also e-mailed). Returns the session and the link's
    token. Until the check passes the account cannot sign in: its organization requires EDS or
    biometrics, and both need the bound IIN (R57.10)."""
    f = Fields()
    iin = (iin or "").strip()
    if (problem := iin_error(iin)) is not None:
        f.add("iin", problem)
    clean_surname = f.required_text("surname", surname, max_length=150)
    clean_given = f.required_text("given_name", given_name, max_length=150)
    account = _validate_account(email=email, password=None, phone=phone, language=language, f=f)
    _refuse_taken_iin(iin)
    organization = _individual(iin=iin, name=f"{clean_surname} {clean_given}", email=account.email)
    user = User(
        organization=organization,
        email=account.email,
        surname=clean_surname,
        given_name=clean_given,
        position="",
        phones=[account.phone],
        language=account.language,
        role=EtpRole.PARTICIPANT,
    )
    user.set_unusable_password()
    try:
        with transaction.atomic():
            user.save()
    except IntegrityError as exc:
        raise Conflict(_("This e-mail or IIN was registered just now. Sign in instead.")) from exc
    ParticipantProfile.objects.update_or_create(
        organization=organization, defaults={"phone": account.phone}
    )
    record(
        actor=user,
        event=EventType.PARTICIPANT_REGISTERED,
        target=user,
        organization_id=organization.pk,
        details={"via": "biometrics", "kind": organization.kind, "iin": identity.mask_iin(iin)},
    )
    token = invitation_issue(actor=SystemActor(label=_REGISTRAR), user=user)
    session = session_start(actor=user, purpose=BiometricPurpose.REGISTRATION, iin=iin)
    return session, token


def registration_refused(*, reason: str) -> None:
    """A refused attempt in the journal (its own transaction: the attempt's rolled back)."""
    with transaction.atomic():
        record(
            actor=None,
            event=EventType.PARTICIPANT_REGISTRATION_REFUSED,
            target=None,
            organization_id=None,
            actor_label=_REGISTRAR,
            details={"reason": reason[:64]},
        )


# --- the e-mail address -------------------------------------------------------------------------


class ConfirmationRefused(AppError):
    """A confirmation link that is unknown (garbled, or replaced by a newer one), spent or
    expired: a page that says so, never a 5xx."""

    status = 404
    code = "confirmation_link_invalid"


def confirm_hours() -> int:
    return int(getattr(settings, "AIPS_ETP_EMAIL_CONFIRM_HOURS", 48))


def _confirmation_send(user: User) -> EmailConfirmation:
    """A new single-use link for the person's address (replacing any earlier one), e-mailed in
    their language. Only the token's SHA-256 is kept."""
    raw = secrets.token_urlsafe(32)
    now = timezone.now()
    hours = confirm_hours()
    row, _created = EmailConfirmation.objects.update_or_create(
        user=user,
        defaults={
            "email": user.email,
            "token_hash": hash_secret(raw),
            "sent_at": now,
            "expires_at": now + timedelta(hours=hours),
            "confirmed_at": None,
        },
    )
    link = settings.AIPS_BASE_URL.rstrip("/") + reverse(
        "etp_participants:email_confirm", kwargs={"token": raw}
    )
    language = user.language or settings.LANGUAGE_CODE
    with translation.override(language):
        enqueue_mail(
            to=user.email,
            subject=_("ETP: confirm your e-mail address"),
            body=_(
                "You registered as a participant of the ETP. To confirm that this e-mail address "
                "is yours, open this link within %(hours)d hours:\n\n%(link)s\n\nUntil then you "
                "can sign in, but you cannot submit applications. If you did not register, "
                "ignore this e-mail."
            )
            % {"hours": hours, "link": link},
            language=language,
        )
    return row


def confirmation_for_token(token: str) -> EmailConfirmation:
    """The pending confirmation a link's token stands for; ConfirmationRefused (404 unknown, 410
    spent or expired) otherwise. Reads only: the link page shows it before the person confirms."""
    raw = (token or "").strip()
    row = None
    if raw and len(raw) <= 128 and raw.isascii():
        row = (
            EmailConfirmation.objects.select_related("user")
            .filter(token_hash=hash_secret(raw))
            .first()
        )
    if row is None or not row.user.is_active or row.email != row.user.email:
        raise ConfirmationRefused(
            _(
                "This confirmation link is not valid: it is mistyped, or a newer link was sent. "
                "Use the newest e-mail, or sign in and ask for a new link."
            )
        )
    if row.confirmed_at is not None:
        raise ConfirmationRefused(
            _("This link was already used: your e-mail address is confirmed."),
            code="confirmation_link_used",
            status=410,
        )
    if row.expires_at <= timezone.now():
        raise ConfirmationRefused(
            _("This confirmation link has expired. Sign in and ask for a new link."),
            code="confirmation_link_expired",
            status=410,
        )
    return row


@transaction.atomic
def email_confirm(*, token: str) -> User:
    """Follows a confirmation link: the address is confirmed once, within
    AIPS_ETP_EMAIL_CONFIRM_HOURS of sending. Journaled `participant:email_confirmed`."""
    found = confirmation_for_token(token)
    row = EmailConfirmation.objects.select_for_update().select_related("user").get(pk=found.pk)
    if row.token_hash != found.token_hash or row.confirmed_at is not None:  # a race: re-judge
        confirmation_for_token(token)
    now = timezone.now()
    row.confirmed_at = now
    row.save(update_fields=["confirmed_at"])
    user: User = row.user
    record(
        actor=user,
        event=EventType.PARTICIPANT_EMAIL_CONFIRMED,
        target=user,
        organization_id=user.organization_id,
        details={"sent_at": row.sent_at.isoformat()},
    )
    return user


@transaction.atomic
def email_confirmation_resend(*, actor: User) -> EmailConfirmation:
    """A new link for the signed-in person whose address is still unconfirmed (the earlier link
    stops working). The view rate-limits it."""
    row = EmailConfirmation.objects.select_for_update().filter(user_id=actor.pk).first()
    if row is None or row.confirmed_at is not None:
        raise AppError(
            _("Your e-mail address is already confirmed."),
            code="email_already_confirmed",
            status=409,
        )
    return _confirmation_send(actor)


# --- the profile --------------------------------------------------------------------------------


@transaction.atomic
def profile_update(
    *, actor: Actor, phone: str, address: str, iban: str, bic: str
) -> ParticipantProfile:
    """The acting participant's own contacts and refund account (made on the first save); nobody
    else changes them. A new registered phone is announced to the participant's people
    (R57.27.10)."""
    ensure_perm(actor, EtpPerm.PARTICIPANT_PROFILE)
    organization = (
        Organization.objects.visible_to(actor).filter(pk=actor.organization_id).first()
        if actor.organization_id is not None
        else None
    )
    if organization is None or organization.kind not in PARTICIPANT_KINDS:
        raise NotFound(_("No such participant profile."))
    ParticipantProfile.objects.get_or_create(organization=organization)
    locked = ParticipantProfile.objects.select_for_update().get(organization=organization)
    f = Fields()
    clean_phone = ""
    try:
        clean_phone = normalize_phone(phone or "")
    except ValueError as exc:
        f.add("phone", exc)
    clean_address = f.optional_text("address", address, max_length=500)
    clean_iban = "".join((iban or "").split()).upper()
    if clean_iban and (problem := iban_error(clean_iban)):
        f.add("iban", problem)
    clean_bic = (bic or "").strip().upper()
    if clean_bic and (problem := bic_error(clean_bic)):
        f.add("bic", problem)
    if bool(clean_iban) != bool(clean_bic):
        f.add("bic" if clean_iban else "iban", _("Give both the IBAN and the bank's BIC."))
    f.raise_if_any()
    old_phone = locked.phone
    changed = [
        name
        for name, value in (
            ("phone", clean_phone),
            ("address", clean_address),
            ("iban", clean_iban),
            ("bic", clean_bic),
        )
        if getattr(locked, name) != value
    ]
    if not changed:
        return locked
    locked.phone, locked.address, locked.iban, locked.bic = (
        clean_phone,
        clean_address,
        clean_iban,
        clean_bic,
    )
    locked.save(update_fields=[*changed, "updated_at"])
    record(
        actor=actor,
        event=EventType.PARTICIPANT_PROFILE_UPDATED,
        target=locked,
        organization_id=organization.pk,
        details={"changed": changed},
    )
    if "phone" in changed and old_phone:  # a first phone is no change to warn of
        notices.phone_changed(profile=locked, old_phone=old_phone)
    return locked
