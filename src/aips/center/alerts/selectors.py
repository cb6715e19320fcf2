from typing import Any

from django.db.models import Count, F, Q
from django.http import Http404

from aips.center.alerts.models import (
    Alert,
    AlertQuerySet,
    AlertRecipient,
    RecipientQuerySet,
    ThreatType,
)
from aips.core.actors import Actor
from aips.shared.workflow.models import Comment


def alert_list(*, actor: Actor, kind: str = "", state: str = "") -> AlertQuerySet:
    qs = Alert.objects.visible_to(actor).select_related("organization", "threat_type")
    if kind:
        qs = qs.filter(kind=kind)
    if state:
        qs = qs.filter(state=state)
    return qs.order_by("-id")


def get_alert_for(actor: Actor, pk: int) -> Alert:
    try:
        return (
            Alert.objects.visible_to(actor).select_related("organization", "threat_type").get(pk=pk)
        )
    except Alert.DoesNotExist as exc:
        raise Http404 from exc


def recipient_for(actor: Actor, alert: Alert) -> AlertRecipient | None:
    """The actor's own organization's copy of a published alert, if it received one."""
    if actor.organization_id is None:
        return None  # the system receives no alerts
    return (
        AlertRecipient.objects.visible_to(actor)
        .filter(alert=alert, organization_id=actor.organization_id)
        .first()
    )


def get_recipient_for(actor: Actor, alert_pk: int, pk: int) -> AlertRecipient:
    try:
        return (
            AlertRecipient.objects.visible_to(actor)
            .select_related("alert")
            .get(pk=pk, alert_id=alert_pk)
        )
    except AlertRecipient.DoesNotExist as exc:
        raise Http404 from exc


def recipients(*, actor: Actor, alert: Alert) -> RecipientQuerySet:
    return (
        AlertRecipient.objects.visible_to(actor).filter(alert=alert).select_related("organization")
    )


def may_read_content(actor: Actor, alert: Alert) -> bool:
    """TLP:RED and AMBER+STRICT content: the author's organization, the center, and the named
    people of each receiving organization — nobody else, even in a receiving organization."""
    if not alert.is_restricted or actor.is_center or actor.organization_id == alert.organization_id:
        return True
    if actor.pk is None or actor.organization_id is None:
        return False  # only people are named readers
    return AlertRecipient.objects.filter(
        alert=alert, organization_id=actor.organization_id, named_users__pk=actor.pk
    ).exists()


def threat_types() -> list[ThreatType]:
    return list(ThreatType.objects.filter(active=True))


def compliance(*, actor: Actor) -> dict[str, Any]:
    """Published alerts × organizations: status and lateness, and each organization's on-time
    rate (answered within the deadline / delivered)."""
    rows = list(
        AlertRecipient.objects.visible_to(actor)
        .filter(alert__state="published")
        .select_related("alert", "organization")
        .order_by("-alert_id", "organization_id")
    )
    rates = (
        AlertRecipient.objects.visible_to(actor)
        .filter(alert__state="published")
        .values("organization_id", "organization__name")
        .annotate(
            delivered=Count("id"),
            on_time=Count(
                "id",
                filter=Q(responded_at__isnull=False) & Q(responded_at__lte=F("due_at")),
            ),
        )
        .order_by("organization__name")
    )
    return {"rows": rows, "rates": list(rates)}


def own_recipients(*, actor: Actor, alert_ids: list[int]) -> dict[int, AlertRecipient]:
    """The actor's organization's acknowledgement of each of these alerts (the list page)."""
    if actor.organization_id is None:
        return {}
    rows = AlertRecipient.objects.visible_to(actor).filter(
        alert_id__in=alert_ids, organization_id=actor.organization_id
    )
    return {r.alert_id: r for r in rows}


def timeline(*, actor: Actor, alert: Alert) -> list[Any]:
    """The alert's comments (send-back and return reasons): for its own organization and the
    center only, never for the organizations that merely received it."""
    if not (actor.is_center or actor.organization_id == alert.organization_id):
        return []
    return list(Comment.objects.for_item(alert).visible_to(actor).select_related("author"))


def all_threat_types() -> list[ThreatType]:
    """For the center admins' list, retired ones included."""
    return list(ThreatType.objects.order_by("code"))
