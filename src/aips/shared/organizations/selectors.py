from django.http import Http404

from aips.core.actors import Viewer
from aips.shared.organizations.models import Organization, OrganizationQuerySet


def organization_list(*, actor: Viewer) -> OrganizationQuerySet:
    return Organization.objects.visible_to(actor).order_by("id")


def get_organization_for(actor: Viewer, pk: int) -> Organization:
    """404 both for a missing organization and for one the actor may not see."""
    try:
        return Organization.objects.visible_to(actor).get(pk=pk)
    except Organization.DoesNotExist as exc:
        raise Http404 from exc
