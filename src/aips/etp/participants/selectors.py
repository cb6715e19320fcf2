"""Reads: a participant's profile, through the tenant choke point (a participant its own, the
operator's admission staff and auditor every one, nobody else any)."""

from django.http import Http404

from aips.core.actors import Actor
from aips.etp.participants.models import ParticipantProfile
from aips.etp.participants.services import PARTICIPANT_KINDS
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
