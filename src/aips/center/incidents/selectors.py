from typing import Any

from django.db.models import Count, Q
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from aips.center.incidents.models import Attachment, CardState, IncidentCard, IncidentCardQuerySet
from aips.core.access import has_perm
from aips.core.actors import Actor, Viewer
from aips.core.permissions import Perm
from aips.core.search import (
    HitGroup,
    Indicator,
    TextIndex,
    TextQuery,
    item_group,
    json_string,
    text_group,
    words_match,
)
from aips.core.worklist import Tile, TileRow, WorkGroup, WorkItem, count_of
from aips.shared.workflow import signing
from aips.shared.workflow.engine import versions_of
from aips.shared.workflow.models import Comment, SignedAct, Version


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


def signatures(*, actor: Viewer, card: IncidentCard) -> list[SignedAct]:
    """The card's EDS-signed approvals: for whoever may see the card (its organization and,
    once submitted, the center)."""
    return signing.signatures_of(actor, card)


def get_signature_for(actor: Viewer, card: IncidentCard, pk: int) -> SignedAct:
    return signing.signed_act_in(signatures(actor=actor, card=card), pk)


def versions(card: IncidentCard) -> list[Version]:
    return list(versions_of(card))


# --- the home page's work queue (core.worklist) -------------------------------------------------


def _card_item(card: IncidentCard, action: Any, arrived: Any) -> WorkItem:
    return WorkItem(
        kind=_("Incident card"),
        ref=card.reference,
        title=card.title,
        url=reverse("incidents:detail", args=[card.pk]),
        action=action,
        deadline=card.deadline_at,
        arrived_at=arrived,
        organization=card.organization.display_name,
    )


def _most_urgent(qs: IncidentCardQuerySet, limit: int) -> list[IncidentCard]:
    """Oldest deadline first (overdue ones lead), then the longest waiting; at most `limit`.

    The order of `deadline_at ASC NULLS LAST, updated_at, id`, read as two slices (with a
    deadline, then without) that each follow the `incident_queue` indexes: SQLite cannot read
    NULLS LAST from an index, so one query sorted every card in the state (thousands at the
    center) to return twenty. Both slices keep `deadline_at` first in their order, constant in
    the second, so that PostgreSQL too sees the index order match."""
    qs = qs.select_related("organization")
    order = ("deadline_at", "updated_at", "id")
    cards = list(qs.filter(deadline_at__isnull=False).order_by(*order)[:limit])
    if len(cards) < limit:
        rest = qs.filter(deadline_at__isnull=True).order_by(*order)
        cards += list(rest[: limit - len(cards)])
    return cards


def _group(
    key: str, label: Any, qs: IncidentCardQuerySet, url: str, action: Any, limit: int
) -> WorkGroup:
    cards = _most_urgent(qs, limit)
    return WorkGroup(
        key=key,
        label=label,
        count=count_of(list(cards), limit, qs.count),
        url=url,
        items=[_card_item(c, action, c.updated_at) for c in cards],
    )


def work_for(actor: Actor, limit: int) -> list[WorkGroup]:
    """What waits for this person's next step on incident cards (R67.12, R67.15): the head
    approves (not a card they sent themselves), the maker fixes a returned or sent-back card,
    the center accepts or returns a submitted one."""
    base = IncidentCard.objects.visible_to(actor)
    lst = reverse("incidents:list")
    groups = []
    if actor.is_center:
        if has_perm(actor, Perm.INCIDENT_REVIEW):
            groups.append(
                _group(
                    "incidents.review",
                    _("Incident cards to accept or return"),
                    base.filter(state=CardState.SUBMITTED),
                    f"{lst}?state={CardState.SUBMITTED}",
                    _("Accept or return"),
                    limit,
                )
            )
        return groups
    if actor.organization_id is None:
        return groups
    own = base.filter(organization_id=actor.organization_id)
    if has_perm(actor, Perm.INCIDENT_APPROVE):
        groups.append(
            _group(
                "incidents.approve",
                _("Incident cards to approve"),
                own.filter(state=CardState.AWAITING_APPROVAL).exclude(
                    approval_requested_by_id=actor.pk
                ),
                f"{lst}?state={CardState.AWAITING_APPROVAL}",
                _("Approve or send back"),
                limit,
            )
        )
    if has_perm(actor, Perm.INCIDENT_EDIT):
        mine = Q(created_by_id=actor.pk) | Q(approval_requested_by_id=actor.pk)
        if has_perm(actor, Perm.INCIDENT_APPROVE):
            mine = Q()  # the head answers for every returned card of the organization
        groups.append(
            _group(
                "incidents.fix",
                _("Incident cards returned to fix"),
                own.filter(state=CardState.RETURNED).filter(mine),
                f"{lst}?state={CardState.RETURNED}",
                _("Fix and resubmit"),
                limit,
            )
        )
        groups.append(
            _group(
                "incidents.sent_back",
                _("Incident cards sent back by the head"),
                own.filter(state=CardState.DRAFT, approval_requested_by_id=actor.pk),
                f"{lst}?state={CardState.DRAFT}",
                _("Fix and send for approval"),
                limit,
            )
        )
    return groups


def center_tiles(actor: Actor) -> list[Tile]:
    """The center's incoming today and overdue rework by organization."""
    if not actor.is_center or not has_perm(actor, Perm.INCIDENT_VIEW):
        return []
    now = timezone.now()
    today = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
    base = IncidentCard.objects.visible_to(actor)
    lst = reverse("incidents:list")
    incoming = base.filter(submitted_at__gte=today).count()
    # One grouped read gives both the total and the top five (at most one row per
    # organization). `isnull=False` changes no result (`< now` is never true of NULL) but bounds
    # the range on both sides, so SQLite reads the few cards with a deadline through its index
    # instead of walking every card in organization order to spare the GROUP BY a sort.
    by_organization = list(
        base.filter(deadline_at__isnull=False, deadline_at__lt=now)
        .values("organization_id", "organization__name")
        .annotate(n=Count("id"))
        .order_by("-n", "organization__name")
    )
    rows = [
        TileRow(
            label=str(r["organization__name"]),
            value=int(r["n"]),
            url=f"{lst}?overdue=on&organization={r['organization_id']}",
        )
        for r in by_organization[:5]
    ]
    return [
        Tile(
            key="incidents.incoming",
            title=_("Incident cards submitted today"),
            value=incoming,
            url=f"{lst}?state={CardState.SUBMITTED}",
            order=10,
        ),
        Tile(
            key="incidents.overdue",
            title=_("Incident cards overdue"),
            value=sum(int(r["n"]) for r in by_organization),
            url=f"{lst}?overdue=on",
            note=_("By organization:") if rows else "",
            rows=rows,
            order=20,
        ),
    ]


# --- search (core.search) -----------------------------------------------------------------------

# The card's text, the title first (core/fulltext.py builds the engine's index of it).
CARD_TEXT = TextIndex(
    IncidentCard,
    ("title", "affected_systems", "attack_source", "attack_vector", "impact", "measures"),
)


def _cards(qs: IncidentCardQuerySet, limit: int) -> HitGroup:
    return item_group(
        qs,
        key="incidents",
        label=_("Incident cards"),
        detail="incidents:detail",
        listing="incidents:list",
        limit=limit,
    )


def search_reference(actor: Actor, prefix: str, pk: int) -> str | None:
    if prefix != "INC" or not IncidentCard.objects.visible_to(actor).filter(pk=pk).exists():
        return None
    return reverse("incidents:detail", args=[pk])


def search_text(actor: Actor, query: TextQuery, limit: int) -> list[HitGroup]:
    if not has_perm(actor, Perm.INCIDENT_VIEW):
        return []
    named = query.named("INC")
    return [
        text_group(
            IncidentCard.objects.visible_to(actor),
            index=CARD_TEXT,
            query=query,
            named=Q(pk__in=named) if named else None,
            key="incidents",
            label=_("Incident cards"),
            detail="incidents:detail",
            listing="incidents:list",
            limit=limit,
        )
    ]


def search_indicator(actor: Actor, indicator: Indicator, limit: int) -> list[HitGroup]:
    """The cards listing the indicator (or CVE id), or naming it in their text."""
    if not has_perm(actor, Perm.INCIDENT_VIEW):
        return []
    held = json_string(indicator.value)
    match = Q(cve_ids__icontains=held) if indicator.type == "cve" else Q(indicators__icontains=held)
    match |= words_match(indicator.value, ("attack_source", "attack_vector", "impact"))
    return [_cards(IncidentCard.objects.visible_to(actor).filter(match), limit)]
