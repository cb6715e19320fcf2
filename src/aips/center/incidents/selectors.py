from django.db.models import Q
from django.http import Http404
from django.utils import timezone

from aips.center.incidents.models import Attachment, IncidentCard, IncidentCardQuerySet
from aips.core.actors import Viewer
from aips.shared.workflow.engine import versions_of
from aips.shared.workflow.models import Comment, Version


def card_list(
    *,
    actor: Viewer,
    kind: str = "",
    state: str = "",
    organization_id: int | None = None,
    overdue: bool = False,
    query: str = "",
) -> IncidentCardQuerySet:
    qs = IncidentCard.objects.visible_to(actor).select_related("organization")
    if kind:
        qs = qs.filter(kind=kind)
    if state:
        qs = qs.filter(state=state)
    if organization_id is not None:
        qs = qs.filter(organization_id=organization_id)
    if overdue:
        qs = qs.filter(deadline_at__lt=timezone.now())
    if query:
        qs = qs.filter(Q(title__icontains=query) | Q(affected_systems__icontains=query))
    return qs.order_by("-id")


def get_card_for(actor: Viewer, pk: int) -> IncidentCard:
    """404 for a missing card and for one the actor may not see, alike."""
    try:
        return IncidentCard.objects.visible_to(actor).select_related("organization").get(pk=pk)
    except IncidentCard.DoesNotExist as exc:
        raise Http404 from exc


def get_attachment_for(actor: Viewer, card_pk: int, pk: int) -> Attachment:
    try:
        return (
            Attachment.objects.visible_to(actor).select_related("card").get(pk=pk, card_id=card_pk)
        )
    except Attachment.DoesNotExist as exc:
        raise Http404 from exc


def timeline(*, actor: Viewer, card: IncidentCard) -> list[Comment]:
    return list(Comment.objects.for_item(card).visible_to(actor).select_related("author"))


def versions(card: IncidentCard) -> list[Version]:
    return list(versions_of(card))
