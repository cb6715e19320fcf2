"""Reads: a participant's profile, through the tenant choke point (a participant its own, the
operator's admission staff and auditor every one, nobody else any); whether a participant's
e-mail address is confirmed."""

from django.http import Http404

from aips.core.actors import Actor
from aips.etp.participants.models import EmailConfirmation, ParticipantProfile
from aips.etp.participants.services import PARTICIPANT_KINDS
from aips.shared.accounts.models import User
from aips.shared.organizations.models import Organization


def get_profile_for(actor: Actor, pk: int) -> ParticipantProfile:
    profile = (
        ParticipantProfile.objects.visible_to(actor)
        .select_related("organization")
        .filter(pk=pk)
        .first()
    )
    if profile is None:
        raise Http404
    return profile


def own_profile(actor: Actor) -> ParticipantProfile:
    """The acting participant's profile; an empty, unsaved one before its first save."""
    organization = (
        Organization.objects.visible_to(actor).filter(pk=actor.organization_id).first()
        if actor.organization_id is not None
        else None
    )
    if organization is None or organization.kind not in PARTICIPANT_KINDS:
        raise Http404
    profile = ParticipantProfile.objects.visible_to(actor).filter(organization=organization).first()
    return profile or ParticipantProfile(organization=organization)


def _pending(users: list[int]) -> set[int]:
    return set(
        EmailConfirmation.objects.filter(user_id__in=users, confirmed_at__isnull=True).values_list(
            "user_id", flat=True
        )
    )


def email_confirmed(subject: User | Organization) -> bool:
    """A person: whether their e-mail address is confirmed. Only a registration with EDS leaves
    it unconfirmed until the link sent to it is followed; every other account proved its address
    with an invitation link (a registration by biometrics, an account the operator made).
    An organization: whether at least one of its active people has a confirmed address.
    Applications check the submitting person (R57.9)."""
    if isinstance(subject, Organization):
        people = list(
            User.objects.filter(organization=subject, is_active=True).values_list("pk", flat=True)
        )
        return bool(set(people) - _pending(people))
    return subject.pk is not None and not _pending([subject.pk])


def email_confirmation_pending(user: User) -> EmailConfirmation | None:
    """The person's unconfirmed address (for the banner), or None."""
    if user.pk is None:
        return None
    return EmailConfirmation.objects.filter(user_id=user.pk, confirmed_at__isnull=True).first()
