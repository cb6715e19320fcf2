"""What confirms a password change (R57.11): a fresh passed biometric check of the person, or,
where the person's organization allows it (`Organization.eds_password_change_allowed`), an EDS
signature by the certificate of the IIN bound to the account. The person's usual second factor
(TOTP or a security key) is asked for as well, by the page (accounts.views.password_change)."""

from django.db import transaction
from django.utils.translation import gettext as _

from aips.core.errors import Forbidden
from aips.shared.accounts import identity
from aips.shared.accounts import services as account_services
from aips.shared.accounts.models import User
from aips.shared.audit.models import EventType
from aips.shared.audit.services import record
from aips.shared.biometrics import services
from aips.shared.biometrics.models import BiometricSession, Purpose
from aips.shared.eds.types import EdsRefused, Refusal, Verification
from aips.shared.eds.types import Purpose as EdsPurpose
from aips.shared.eds.verify import verify_cms

# The challenge's use in the session (accounts.identity.issue_challenge / take_challenge).
EDS_USE = "password_change"


def eds_allowed(user: User) -> bool:
    """May an EDS signature stand in for the biometric check for this person?"""
    return bool(user.iin) and bool(user.organization.eds_password_change_allowed)


def verify_eds(*, user: User, cms: str, challenge: bytes | None) -> Verification:
    """The person's signature of the challenge, with the authentication key or the signing key,
    by the certificate of the IIN bound to the account. Raises EdsRefused or ChallengeExpired."""
    try:
        verification = identity.prove_identity(cms=cms, challenge=challenge, user=user)
    except EdsRefused as exc:
        if exc.reason != Refusal.WRONG_KEY_USAGE or challenge is None:
            raise
        # Not an authentication key: a signing key of the same person confirms a change as well.
        clock = identity.eds_clock()
        verification = verify_cms(
            identity.decode_cms(cms),
            purpose=EdsPurpose.SIGNING,
            data=challenge,
            at=clock.at,
            trust=clock.trust,
        )
        if verification.content != challenge:
            raise EdsRefused(
                Refusal.CONTENT_MISMATCH, "the signed content is not the challenge"
            ) from exc
    identity.signer_must_be(verification, user)
    return verification


@transaction.atomic
def password_change_confirmed(
    *,
    actor: User,
    current_password: str,
    new_password: str,
    check: BiometricSession | None = None,
    eds: Verification | None = None,
) -> None:
    """Change the password on the strength of a passed biometric check (spent here, once) or a
    verified EDS signature; if the new password is refused, the check stays unspent."""
    if check is not None:
        services.check_use(actor=actor, session=check, purpose=Purpose.PASSWORD_CHANGE)
        details = {"via": "biometrics", "session": str(check.public_id)}
    elif eds is not None and eds_allowed(actor):
        identity.signer_must_be(eds, actor)
        details = {"via": "eds", **identity.evidence(eds)}
    else:
        raise Forbidden(_("Confirm the change with a biometric check first."))
    account_services.password_change(
        actor=actor, current_password=current_password, new_password=new_password
    )
    record(
        actor=actor,
        event=EventType.PASSWORD_CHANGE_CONFIRMED,
        target=actor,
        organization_id=actor.organization_id,
        details=details,
    )
