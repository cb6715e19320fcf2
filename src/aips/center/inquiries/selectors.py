"""Reads of requests, always through `visible_to` (R67.4): a missing request and one that is not
yours are the same 404."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Count, F, Q
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from aips.center.inquiries.models import (
    WAITING_ON_ADDRESSEE,
    Inquiry,
    InquiryAttachment,
    InquiryQuerySet,
    InquiryState,
    InquiryThread,
    ThreadQuerySet,
    ThreadState,
)
from aips.core.access import has_perm
from aips.core.actors import Actor
from aips.core.permissions import Perm
from aips.core.search import HitGroup, Indicator, TextIndex, TextQuery, item_group, text_group
from aips.core.worklist import Tile, TileRow, WorkGroup, WorkItem, count_of
from aips.shared.organizations.models import Organization, OrganizationStatus
from aips.shared.workdays.calendar import deadline_info
from aips.shared.workflow import signing
from aips.shared.workflow.engine import versions_of
from aips.shared.workflow.models import Comment, SignedAct, Version

BOXES = ("sent", "received")


def inquiry_list(
    *,
    actor: Actor,
    box: str = "",
    state: str = "",
    category: str = "",
    organization_id: int | None = None,
    overdue: bool = False,
    query: str = "",
) -> InquiryQuerySet:
    """`box`: "sent" (the actor's organization's requests) or "received" (addressed to it)."""
    qs = Inquiry.objects.visible_to(actor).select_related("organization")
    own = actor.organization_id
    if box in BOXES and own is None:
        qs = qs.none()  # the system neither sends nor receives requests
    elif box == "sent" and own is not None:
        qs = qs.filter(organization_id=own)
    elif box == "received" and own is not None:
        qs = qs.filter(
            pk__in=InquiryThread.objects.filter(organization_id=own).values("inquiry_id")
        )
    if state:
        qs = qs.filter(state=state)
    if category:
        qs = qs.filter(category=category)
    if organization_id is not None:
        # The requester or one of the addressees.
        qs = qs.filter(
            Q(organization_id=organization_id)
            | Q(
                pk__in=InquiryThread.objects.filter(organization_id=organization_id).values(
                    "inquiry_id"
                )
            )
        )
    if overdue:
        now = timezone.now()
        late_threads = InquiryThread.objects.visible_to(actor).filter(
            state__in=WAITING_ON_ADDRESSEE, deadline_at__lt=now
        )
        qs = qs.filter(Q(deadline_at__lt=now) | Q(pk__in=late_threads.values("inquiry_id")))
    if query:
        qs = qs.filter(Q(subject__icontains=query) | Q(body__icontains=query))
    return qs.order_by("-id")


def get_inquiry_for(actor: Actor, pk: int) -> Inquiry:
    """404 for a missing request and for one the actor may not see, alike."""
    try:
        return Inquiry.objects.visible_to(actor).select_related("organization").get(pk=pk)
    except Inquiry.DoesNotExist as exc:
        raise Http404 from exc


def threads(*, actor: Actor, inquiry: Inquiry) -> ThreadQuerySet:
    """The requester and the center see every addressee's thread; an addressee only its own."""
    return (
        InquiryThread.objects.visible_to(actor)
        .filter(inquiry=inquiry)
        .select_related("organization", "inquiry", "answered_by", "responded_by")
        .order_by("id")
    )


def get_thread_for(actor: Actor, inquiry_pk: int, pk: int) -> InquiryThread:
    try:
        return (
            InquiryThread.objects.visible_to(actor)
            .select_related("inquiry", "inquiry__organization", "organization")
            .get(pk=pk, inquiry_id=inquiry_pk)
        )
    except InquiryThread.DoesNotExist as exc:
        raise Http404 from exc


def own_threads(*, actor: Actor, inquiry_ids: list[int]) -> dict[int, InquiryThread]:
    """The actor's organization's thread of each of these requests (the list page)."""
    if actor.organization_id is None:
        return {}
    rows = InquiryThread.objects.visible_to(actor).filter(
        inquiry_id__in=inquiry_ids, organization_id=actor.organization_id
    )
    return {t.inquiry_id: t for t in rows}


def sent_threads(*, actor: Actor, inquiry_ids: list[int]) -> dict[int, list[InquiryThread]]:
    """Every visible thread of each of these requests (the requester's and the center's list)."""
    out: dict[int, list[InquiryThread]] = {}
    rows = (
        InquiryThread.objects.visible_to(actor)
        .filter(inquiry_id__in=inquiry_ids)
        .select_related("organization")
        .order_by("id")
    )
    for thread in rows:
        out.setdefault(thread.inquiry_id, []).append(thread)
    return out


def get_attachment_for(actor: Actor, inquiry_pk: int, pk: int) -> InquiryAttachment:
    try:
        return (
            InquiryAttachment.objects.visible_to(actor)
            .select_related("inquiry", "thread")
            .get(pk=pk, inquiry_id=inquiry_pk)
        )
    except InquiryAttachment.DoesNotExist as exc:
        raise Http404 from exc


def attachments(*, actor: Actor, inquiry: Inquiry) -> list[InquiryAttachment]:
    """The request's own files (not the answers')."""
    return list(
        InquiryAttachment.objects.visible_to(actor).filter(inquiry=inquiry, thread__isnull=True)
    )


def answer_attachments(*, actor: Actor, thread: InquiryThread) -> list[InquiryAttachment]:
    return list(InquiryAttachment.objects.visible_to(actor).filter(thread=thread))


def timeline(*, actor: Actor, inquiry: Inquiry) -> list[Comment]:
    """The request's own comments (send-back and return reasons, notes): for the requester's
    organization and the center, never for the addressees, who talk in their threads."""
    if not (actor.is_center or actor.organization_id == inquiry.organization_id):
        return []
    return list(Comment.objects.for_item(inquiry).visible_to(actor).select_related("author"))


def thread_timeline(*, actor: Actor, thread: InquiryThread) -> list[Comment]:
    """The clarification thread; the caller has established the thread's visibility."""
    return list(Comment.objects.for_item(thread).visible_to(actor).select_related("author"))


def versions(item: Inquiry | InquiryThread) -> list[Version]:
    return list(versions_of(item))


def signatures(*, actor: Actor, inquiry: Inquiry) -> list[SignedAct]:
    """The EDS-signed acts on a request: its head's approval (for the requester's organization
    and the center, like its timeline) and each visible thread's acceptance, refusal and
    approved answers (for whoever sees the thread)."""
    items: list[Any] = list(threads(actor=actor, inquiry=inquiry))
    if actor.is_center or actor.organization_id == inquiry.organization_id:
        items.insert(0, inquiry)
    return signing.signatures_of(actor, *items)


def get_signature_for(actor: Actor, inquiry: Inquiry, pk: int) -> SignedAct:
    return signing.signed_act_in(signatures(actor=actor, inquiry=inquiry), pk)


def answer_for(*, actor: Actor, thread: InquiryThread) -> str | None:
    """The addressee reads its working copy; everyone else the answer as its head last approved
    it (None before the first approval), never a fix in progress."""
    if actor.organization_id == thread.organization_id:
        return thread.answer
    sent = versions_of(thread).last()
    return str(sent.snapshot.get("answer", "")) if sent is not None else None


def addressee_choices(*, actor: Actor) -> list[tuple[int, str]]:
    """Whom a request may go to (R67.11): the center and every active organization, except the
    requester itself. Only names are listed: choosing an addressee is the one place where an
    organization learns which other organizations are connected."""
    rows = Organization.objects.filter(status=OrganizationStatus.ACTIVE)
    if actor.organization_id is not None:
        rows = rows.exclude(pk=actor.organization_id)
    ordered = sorted(rows, key=lambda o: (not o.is_center, o.display_name.casefold()))
    return [(o.pk, o.display_name) for o in ordered]


# --- the center's deadline overview (issue 7, item 4) ---------------------------------------------

ON_TIME, DUE_SOON, OVERDUE, STOPPED = "on_time", "due_soon", "overdue", "stopped"


@dataclass(frozen=True)
class DeadlineRow:
    inquiry: Inquiry
    thread: InquiryThread | None  # None: the request itself, in rework at its requester
    deadline_at: datetime | None
    status: str


def deadline_status(deadline: datetime | None, waiting: bool, now: datetime) -> str:
    """On time, due soon (the deadline is today or on the next working day, as the reminders
    count), overdue; "stopped" when nobody owes anything (answered, declined, closed)."""
    if not waiting or deadline is None:
        return STOPPED
    info = deadline_info(deadline, now)
    if info.overdue:
        return OVERDUE
    if info.working_days_left <= 1:
        return DUE_SOON
    return ON_TIME


def deadline_overview(
    *, actor: Actor, status: str = "", organization_id: int | None = None, state: str = ""
) -> list[DeadlineRow]:
    """Every thread of every request the actor sees (the center: all sent ones), and every
    request in rework, with its deadline status; overdue first, then by deadline."""
    now = timezone.now()
    rows: list[DeadlineRow] = []
    thread_qs = InquiryThread.objects.visible_to(actor).select_related(
        "inquiry", "inquiry__organization", "organization"
    )
    if organization_id is not None:
        thread_qs = thread_qs.filter(
            Q(organization_id=organization_id) | Q(inquiry__organization_id=organization_id)
        )
    if state:
        thread_qs = thread_qs.filter(state=state)
    for thread in thread_qs:
        waiting = thread.waiting_on_addressee and thread.inquiry.state == InquiryState.SENT
        rows.append(
            DeadlineRow(
                thread.inquiry,
                thread,
                thread.deadline_at,
                deadline_status(thread.deadline_at, waiting, now),
            )
        )
    if not state:
        rework = (
            Inquiry.objects.visible_to(actor)
            .filter(deadline_at__isnull=False, version__gte=1)
            .exclude(state=InquiryState.SENT)
            .select_related("organization")
        )
        if organization_id is not None:
            rework = rework.filter(organization_id=organization_id)
        for inquiry in rework:
            rows.append(
                DeadlineRow(
                    inquiry,
                    None,
                    inquiry.deadline_at,
                    deadline_status(inquiry.deadline_at, True, now),
                )
            )
    if status:
        rows = [r for r in rows if r.status == status]
    order = {OVERDUE: 0, DUE_SOON: 1, ON_TIME: 2, STOPPED: 3}
    far = datetime.max.replace(tzinfo=now.tzinfo)
    rows.sort(key=lambda r: (order[r.status], r.deadline_at or far, -r.inquiry.pk))
    return rows


# --- the home page's work queue (core.worklist) -------------------------------------------------


def _thread_group(
    key: str, label: Any, qs: ThreadQuerySet, url: str, action: Any, limit: int, side: str
) -> WorkGroup:
    threads = list(
        qs.select_related("inquiry", "organization", "inquiry__organization").order_by(
            F("deadline_at").asc(nulls_last=True), "received_at", "id"
        )[:limit]
    )
    return WorkGroup(
        key=key,
        label=label,
        count=count_of(list(threads), limit, qs.count),
        url=url,
        items=[
            WorkItem(
                kind=_("Request"),
                ref=t.inquiry.reference,
                title=t.inquiry.subject,
                url=reverse("inquiries:detail", args=[t.inquiry_id]),
                action=action,
                deadline=t.deadline_at,
                arrived_at=t.received_at if side == "addressee" else t.answered_at,
                organization=(
                    t.inquiry.organization if side == "addressee" else t.organization
                ).display_name,
            )
            for t in threads
        ],
    )


def _inquiry_group(
    key: str, label: Any, qs: InquiryQuerySet, url: str, action: Any, limit: int
) -> WorkGroup:
    rows = list(qs.order_by(F("deadline_at").asc(nulls_last=True), "updated_at", "id")[:limit])
    return WorkGroup(
        key=key,
        label=label,
        count=count_of(list(rows), limit, qs.count),
        url=url,
        items=[
            WorkItem(
                kind=_("Request"),
                ref=i.reference,
                title=i.subject,
                url=reverse("inquiries:detail", args=[i.pk]),
                action=action,
                deadline=i.deadline_at,
                arrived_at=i.updated_at,
            )
            for i in rows
        ],
    )


def work_for(actor: Actor, limit: int) -> list[WorkGroup]:
    """Requests waiting for this person (R67.11, R67.14, R67.15). As an addressee: the head (or
    the center) accepts or declines within 1 working day, the maker answers within 10, the head
    approves the answer. As the requester: the head approves the request, the maker fixes a
    returned one, and an answer waits to be closed or returned."""
    lst = reverse("inquiries:list")
    groups: list[WorkGroup] = []
    org = actor.organization_id
    if org is None:
        return groups
    threads = InquiryThread.objects.visible_to(actor)
    to_us = threads.filter(organization_id=org, inquiry__state=InquiryState.SENT)
    received = f"{lst}?box=received"
    if has_perm(actor, Perm.REQUEST_HANDLE):
        groups.append(
            _thread_group(
                "requests.accept",
                _("Requests to accept or decline"),
                to_us.filter(state=ThreadState.RECEIVED),
                received,
                _("Accept or decline"),
                limit,
                "addressee",
            )
        )
    if has_perm(actor, Perm.REQUEST_EDIT):
        groups.append(
            _thread_group(
                "requests.answer",
                _("Requests to answer"),
                to_us.filter(state__in=[ThreadState.ACCEPTED, ThreadState.ANSWER_RETURNED]),
                received,
                _("Write the answer"),
                limit,
                "addressee",
            )
        )
    if has_perm(actor, Perm.REQUEST_APPROVE):
        groups.append(
            _thread_group(
                "requests.approve_answer",
                _("Answers to approve"),
                to_us.filter(state=ThreadState.ANSWER_AWAITING_APPROVAL).exclude(
                    approval_requested_by_id=actor.pk
                ),
                received,
                _("Approve or send back the answer"),
                limit,
                "addressee",
            )
        )
    if has_perm(actor, Perm.REQUEST_EDIT) and not actor.is_center:
        groups.append(
            _thread_group(
                "requests.close",
                _("Answers to close or return"),
                threads.filter(inquiry__organization_id=org, state=ThreadState.ANSWERED),
                f"{lst}?box=sent",
                _("Close or return the answer"),
                limit,
                "requester",
            )
        )
    own = Inquiry.objects.visible_to(actor).filter(organization_id=org)
    if has_perm(actor, Perm.REQUEST_APPROVE):
        groups.append(
            _inquiry_group(
                "requests.approve",
                _("Requests to approve"),
                own.filter(state=InquiryState.AWAITING_APPROVAL).exclude(
                    approval_requested_by_id=actor.pk
                ),
                f"{lst}?box=sent&state={InquiryState.AWAITING_APPROVAL}",
                _("Approve or send back"),
                limit,
            )
        )
    if has_perm(actor, Perm.REQUEST_EDIT) and not actor.is_center:
        mine = Q() if has_perm(actor, Perm.REQUEST_APPROVE) else Q(created_by_id=actor.pk)
        groups.append(
            _inquiry_group(
                "requests.fix",
                _("Requests returned to fix"),
                own.filter(state=InquiryState.RETURNED).filter(mine),
                f"{lst}?box=sent&state={InquiryState.RETURNED}",
                _("Fix and resend"),
                limit,
            )
        )
    return groups


def center_tiles(actor: Actor) -> list[Tile]:
    """Requests received by the center today, and overdue answers by addressee."""
    if not actor.is_center or not has_perm(actor, Perm.REQUEST_VIEW):
        return []
    center = actor.organization_id or 0
    now = timezone.now()
    today = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
    threads = InquiryThread.objects.visible_to(actor)
    deadlines = reverse("inquiries:deadlines")
    overdue = threads.filter(deadline_at__lt=now, state__in=WAITING_ON_ADDRESSEE)
    by_org = (
        overdue.values("organization_id", "organization__name")
        .annotate(n=Count("id"))
        .order_by("-n", "organization__name")[:5]
    )
    return [
        Tile(
            key="requests.incoming",
            title=_("Requests received by the center today"),
            value=threads.filter(organization_id=center, received_at__gte=today).count(),
            url=f"{reverse('inquiries:list')}?box=received",
            order=15,
        ),
        Tile(
            key="requests.overdue",
            title=_("Requests overdue"),
            value=overdue.count(),
            url=f"{deadlines}?status=overdue",
            note=_("By addressee:") if by_org else "",
            rows=[
                TileRow(
                    label=str(r["organization__name"]),
                    value=int(r["n"]),
                    url=f"{deadlines}?status=overdue&organization={r['organization_id']}",
                )
                for r in by_org
            ],
            order=25,
        ),
    ]


# --- search (core.search) -----------------------------------------------------------------------

# The request's text, the subject first (core/fulltext.py builds the engine's index of it).
REQUEST_TEXT = TextIndex(Inquiry, ("subject", "body"))


def _inquiries(qs: InquiryQuerySet, limit: int) -> HitGroup:
    return item_group(
        qs,
        key="inquiries",
        label=_("Requests"),
        detail="inquiries:detail",
        listing="inquiries:list",
        limit=limit,
        title="subject",
    )


def search_reference(actor: Actor, prefix: str, pk: int) -> str | None:
    if prefix != "REQ" or not Inquiry.objects.visible_to(actor).filter(pk=pk).exists():
        return None
    return reverse("inquiries:detail", args=[pk])


def search_text(actor: Actor, query: TextQuery, limit: int) -> list[HitGroup]:
    if not has_perm(actor, Perm.REQUEST_VIEW):
        return []
    named = query.named("REQ")
    return [
        text_group(
            Inquiry.objects.visible_to(actor),
            index=REQUEST_TEXT,
            query=query,
            named=Q(pk__in=named) if named else None,
            key="inquiries",
            label=_("Requests"),
            detail="inquiries:detail",
            listing="inquiries:list",
            limit=limit,
        )
    ]


def search_indicator(actor: Actor, indicator: Indicator, limit: int) -> list[HitGroup]:
    """A request holds no list of indicators: it holds one when its text names it."""
    if not has_perm(actor, Perm.REQUEST_VIEW):
        return []
    match = Q(subject__icontains=indicator.value) | Q(body__icontains=indicator.value)
    return [_inquiries(Inquiry.objects.visible_to(actor).filter(match), limit)]
