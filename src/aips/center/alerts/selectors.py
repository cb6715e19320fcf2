from datetime import timedelta
from typing import Any

from django.db.models import Count, F, Q
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from aips.center.alerts.models import (
    Alert,
    AlertKind,
    AlertQuerySet,
    AlertRecipient,
    AlertState,
    RecipientQuerySet,
    RecipientStatus,
    ThreatType,
)
from aips.core.access import has_perm
from aips.core.actors import Actor
from aips.core.permissions import Perm
from aips.core.search import (
    HitGroup,
    Indicator,
    TextIndex,
    TextQuery,
    item_group,
    json_string,
    text_group,
)
from aips.core.tlp import RESTRICTED_TLP
from aips.core.worklist import Tile, TileRow, WorkGroup, WorkItem, count_of
from aips.shared.workflow import signing
from aips.shared.workflow.models import Comment, SignedAct


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


def signatures(*, actor: Actor, alert: Alert) -> list[SignedAct]:
    """The EDS-signed acts on an alert: its organization's approval (for that organization and
    the center, like its timeline: the receiving organizations learn nothing of who approved
    it), and the acknowledgements the reader may see (an organization its own, the center
    every organization's)."""
    items: list[Any] = list(recipients(actor=actor, alert=alert))
    if actor.is_center or actor.organization_id == alert.organization_id:
        items.insert(0, alert)
    return signing.signatures_of(actor, *items)


def get_signature_for(actor: Actor, alert: Alert, pk: int) -> SignedAct:
    return signing.signed_act_in(signatures(actor=actor, alert=alert), pk)


def all_threat_types() -> list[ThreatType]:
    """For the center admins' list, retired ones included."""
    return list(ThreatType.objects.order_by("code"))


# --- the home page's work queue (core.worklist) -------------------------------------------------


def _alert_item(alert: Alert, action: Any, deadline: Any, arrived: Any, org: str = "") -> WorkItem:
    return WorkItem(
        kind=alert.get_kind_display(),
        ref=alert.reference,
        title=alert.title,
        url=reverse("alerts:detail", args=[alert.pk]),
        action=action,
        deadline=deadline,
        arrived_at=arrived,
        organization=org,
    )


def _alerts_group(
    key: str, label: Any, qs: AlertQuerySet, url: str, action: Any, limit: int
) -> WorkGroup:
    alerts = list(
        qs.select_related("organization").order_by(
            F("deadline_at").asc(nulls_last=True), "updated_at", "id"
        )[:limit]
    )
    return WorkGroup(
        key=key,
        label=label,
        count=count_of(list(alerts), limit, qs.count),
        url=url,
        items=[
            _alert_item(a, action, a.deadline_at, a.updated_at, a.organization.display_name)
            for a in alerts
        ],
    )


def _recipients_group(
    key: str, label: Any, qs: RecipientQuerySet, url: str, action: Any, limit: int
) -> WorkGroup:
    rows = list(
        qs.select_related("alert").order_by(
            F("deadline_at").asc(nulls_last=True), "delivered_at", "id"
        )[:limit]
    )
    return WorkGroup(
        key=key,
        label=label,
        count=count_of(list(rows), limit, qs.count),
        url=url,
        items=[_alert_item(r.alert, action, r.deadline_at, r.delivered_at) for r in rows],
    )


def work_for(actor: Actor, limit: int) -> list[WorkGroup]:
    """Alerts waiting for this person (R67.10, R67.13, R67.15): the head accepts or declines a
    received alert within 1 working day and approves the organization's own; the maker fixes a
    returned one and marks accepted recommendations processed; the center publishes or returns."""
    lst = reverse("alerts:list")
    groups: list[WorkGroup] = []
    base = Alert.objects.visible_to(actor)
    if actor.is_center:
        if has_perm(actor, Perm.ALERT_PUBLISH):
            groups.append(
                _alerts_group(
                    "alerts.publish",
                    _("Alerts to publish or return"),
                    base.filter(state=AlertState.SUBMITTED),
                    f"{lst}?state={AlertState.SUBMITTED}",
                    _("Publish or return"),
                    limit,
                )
            )
        return groups
    org = actor.organization_id
    if org is None:
        return groups
    own = base.filter(organization_id=org)
    received = AlertRecipient.objects.visible_to(actor).filter(
        organization_id=org, alert__state=AlertState.PUBLISHED
    )
    if has_perm(actor, Perm.ALERT_ACKNOWLEDGE):
        groups.append(
            _recipients_group(
                "alerts.acknowledge",
                _("Alerts to accept or decline"),
                received.filter(status=RecipientStatus.DELIVERED),
                f"{lst}?state={AlertState.PUBLISHED}",
                _("Accept or decline"),
                limit,
            )
        )
    if has_perm(actor, Perm.ALERT_PROCESS):
        groups.append(
            _recipients_group(
                "alerts.process",
                _("Accepted alerts to mark processed"),
                received.filter(status=RecipientStatus.ACCEPTED),
                f"{lst}?state={AlertState.PUBLISHED}",
                _("Apply and mark processed"),
                limit,
            )
        )
    if has_perm(actor, Perm.ALERT_APPROVE):
        groups.append(
            _alerts_group(
                "alerts.approve",
                _("Alerts to approve"),
                own.filter(state=AlertState.AWAITING_APPROVAL).exclude(
                    approval_requested_by_id=actor.pk
                ),
                f"{lst}?state={AlertState.AWAITING_APPROVAL}",
                _("Approve or send back"),
                limit,
            )
        )
    if has_perm(actor, Perm.ALERT_EDIT):
        mine = Q() if has_perm(actor, Perm.ALERT_APPROVE) else Q(created_by_id=actor.pk)
        groups.append(
            _alerts_group(
                "alerts.fix",
                _("Alerts returned to fix"),
                own.filter(state=AlertState.RETURNED).filter(mine),
                f"{lst}?state={AlertState.RETURNED}",
                _("Fix and resubmit"),
                limit,
            )
        )
    return groups


# The compliance tile looks back this far: a month of publications, whatever the history.
COMPLIANCE_WINDOW_DAYS = 30


def center_tiles(actor: Actor) -> list[Tile]:
    """Acknowledgement compliance at a glance (R67.13): of the answers owed in the last 30
    days, how many came in time, late, or are still missing past their deadline."""
    if not actor.is_center or not has_perm(actor, Perm.ALERT_VIEW):
        return []
    now = timezone.now()
    counts = (
        AlertRecipient.objects.visible_to(actor)
        .filter(delivered_at__gte=now - timedelta(days=COMPLIANCE_WINDOW_DAYS))
        .aggregate(
            owed=Count("id"),
            on_time=Count(
                "id", filter=Q(responded_at__isnull=False, responded_at__lte=F("due_at"))
            ),
            late=Count("id", filter=Q(responded_at__gt=F("due_at"))),
            missing=Count("id", filter=Q(responded_at__isnull=True, due_at__lt=now)),
        )
    )
    decided = counts["on_time"] + counts["late"] + counts["missing"]
    rate = f"{round(100 * counts['on_time'] / decided)}%" if decided else "—"
    url = reverse("alerts:compliance")
    return [
        Tile(
            key="alerts.compliance",
            title=_("Alerts acknowledged on time, 30 days"),
            value=rate,
            url=url,
            rows=[
                TileRow(label=str(_("in time")), value=counts["on_time"], url=url),
                TileRow(label=str(_("late")), value=counts["late"], url=url),
                TileRow(
                    label=str(_("missing past the deadline")), value=counts["missing"], url=url
                ),
            ],
            order=30,
        )
    ]


# --- search (core.search) -----------------------------------------------------------------------

_PREFIXES = {"THR": AlertKind.THREAT, "VUL": AlertKind.VULNERABILITY}
# The alert's text, the title first (core/fulltext.py builds the engine's index of it).
ALERT_TEXT = TextIndex(Alert, ("title", "description"))


def _alerts(qs: AlertQuerySet, limit: int) -> HitGroup:
    return item_group(
        qs,
        key="alerts",
        label=_("Alerts"),
        detail="alerts:detail",
        listing="alerts:list",
        limit=limit,
    )


def content_readable(actor: Actor) -> Q:
    """The alerts whose content (not only the title) the actor may read: `may_read_content`
    as a filter, so a TLP:RED description is never matched for someone who may not read it."""
    if actor.is_center:
        return Q()
    readable = ~Q(tlp__in=RESTRICTED_TLP) | Q(organization_id=actor.organization_id)
    if actor.pk is not None and actor.organization_id is not None:
        named = AlertRecipient.objects.filter(
            organization_id=actor.organization_id, named_users__pk=actor.pk
        ).values("alert_id")
        readable |= Q(pk__in=named)
    return readable


def search_reference(actor: Actor, prefix: str, pk: int) -> str | None:
    kind = _PREFIXES.get(prefix)
    if kind is None or not Alert.objects.visible_to(actor).filter(pk=pk, kind=kind).exists():
        return None
    return reverse("alerts:detail", args=[pk])


def search_text(actor: Actor, query: TextQuery, limit: int) -> list[HitGroup]:
    """Titles for every reader; descriptions only where the reader may read the content."""
    if not has_perm(actor, Perm.ALERT_VIEW):
        return []
    named = Q()
    for prefix, kind in _PREFIXES.items():
        if pks := query.named(prefix):
            named |= Q(pk__in=pks, kind=kind)
    return [
        text_group(
            Alert.objects.visible_to(actor),
            index=ALERT_TEXT,
            query=query,
            named=named or None,
            content=content_readable(actor),
            key="alerts",
            label=_("Alerts"),
            detail="alerts:detail",
            listing="alerts:list",
            limit=limit,
        )
    ]


def search_indicator(actor: Actor, indicator: Indicator, limit: int) -> list[HitGroup]:
    """The alerts listing the indicator (or CVE id) or naming it in their description, among
    those whose content the actor may read."""
    if not has_perm(actor, Perm.ALERT_VIEW):
        return []
    held = json_string(indicator.value)
    match = Q(cve_ids__icontains=held) if indicator.type == "cve" else Q(indicators__icontains=held)
    match |= Q(description__icontains=indicator.value)
    return [_alerts(Alert.objects.visible_to(actor).filter(match & content_readable(actor)), limit)]
