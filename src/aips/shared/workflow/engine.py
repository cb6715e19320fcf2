"""The shared workflow engine (R67.10–R67.15): maker → IS-unit head → center.

An item type declares a `Machine` — its states and named transitions, each with the permission
it needs, which side acts (the owning organization or the center), whether a comment is required,
and what it does to the deadline. `apply()` is the one service that moves any item: it checks all
of that, records the audit event, the comment and (on submission) a version, in one transaction."""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from django.contrib.contenttypes.models import ContentType
from django.db import models, transaction
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from aips.core.access import ensure_perm, has_perm
from aips.core.actors import Actor, Person
from aips.core.errors import AppError, Forbidden, ValidationFailed
from aips.core.permissions import Perm, Permission
from aips.shared.audit.models import EventType
from aips.shared.audit.services import record
from aips.shared.workdays.calendar import add_working_days as add
from aips.shared.workflow.models import Comment, StateChange, Version, WorkflowItem

# "requester": an item answered on behalf of another organization (a request's thread) names
# that organization in `requester_organization_id`; only its people take these steps.
Side = Literal["owner", "center", "requester"]


@dataclass(frozen=True)
class Transition:
    name: str
    label: Promise | str
    sources: frozenset[str]
    target: str
    # A product's permission (AIPS's `Perm`, the ETP's `EtpPerm`).
    perm: Permission
    side: Side
    event: EventType
    needs_comment: bool = False
    # Working days from now to the new deadline (R67.13–R67.15), or None to clear it.
    deadline_days: int | None = None
    deadline_reason: str = ""
    keeps_deadline: bool = False
    submits: bool = False  # stores a version and the submission time
    danger: bool = False
    # Cannot be undone (accept, close, decline): the page asks for an explicit confirmation.
    confirm: bool = False


@dataclass(frozen=True)
class Machine:
    name: str
    states: dict[str, Promise | str]
    transitions: dict[str, Transition] = field(default_factory=dict)

    def allowed(self, actor: Actor, item: WorkflowItem) -> list[Transition]:
        return [t for t in self.transitions.values() if _refusal(actor, item, t) is None]


def _refusal(actor: Actor, item: WorkflowItem, transition: Transition) -> str | None:
    if not has_perm(actor, transition.perm):
        return "perm"
    if transition.side == "owner" and actor.organization_id != item.organization_id:
        return "side"
    if transition.side == "center" and not actor.is_center:
        return "side"
    if transition.side == "requester" and actor.organization_id != getattr(
        item, "requester_organization_id", object()
    ):
        return "side"
    if transition.side not in ("owner", "center", "requester"):
        return "side"  # an undeclared side admits nobody
    if item.state not in transition.sources:
        return "state"
    return None


def add_working_days(start: datetime, days: int) -> datetime:
    result: datetime = add(start, days)
    return result


def apply(
    *,
    actor: Person,
    item: WorkflowItem,
    machine: Machine,
    name: str,
    comment: str = "",
    snapshot: Callable[[WorkflowItem], dict[str, Any]] | None = None,
    details: dict[str, Any] | None = None,
) -> WorkflowItem:
    """Move `item` along transition `name`; raises Forbidden / AppError(409) / ValidationFailed."""
    with transaction.atomic():
        transition = machine.transitions.get(name)
        if transition is None:
            raise AppError(_("Unknown action."), code="unknown_transition", status=404)
        locked: WorkflowItem = (
            type(item).objects.select_for_update().get(pk=item.pk)  # type: ignore[attr-defined]
        )
        refusal = _refusal(actor, locked, transition)
        if refusal in ("perm", "side"):
            raise Forbidden()
        if refusal == "state":
            raise AppError(
                _("This action is not possible in the current status."),
                code="invalid_transition",
                status=409,
            )
        text = (comment or "").strip()
        if transition.needs_comment and not text:
            raise ValidationFailed.field("comment", _("Give a reason."))
        previous = locked.state
        now = timezone.now()
        locked.state = transition.target
        # People are written by id: the engine names them without importing the accounts app.
        if transition.name == "request_approval":
            locked.approval_requested_by_id = actor.pk
        if transition.deadline_days is not None:
            locked.deadline_at = add_working_days(now, transition.deadline_days)
            locked.deadline_reason = transition.deadline_reason
        elif not transition.keeps_deadline:
            locked.deadline_at = None
            locked.deadline_reason = ""
        if transition.submits:
            locked.version += 1
            locked.submitted_at = now
            Version.objects.create(
                content_type=ContentType.objects.get_for_model(locked),
                object_id=locked.pk,
                number=locked.version,
                snapshot=snapshot(locked) if snapshot else {},
                submitted_by_id=actor.pk,
            )
        locked.save()
        StateChange.objects.create(
            content_type=ContentType.objects.get_for_model(locked),
            object_id=locked.pk,
            transition=transition.name,
            from_state=previous,
            to_state=transition.target,
            actor_id=actor.pk,
            at=now,
        )
        if text:
            Comment.objects.create(
                content_type=ContentType.objects.get_for_model(locked),
                object_id=locked.pk,
                author_id=actor.pk,
                body=text,
                transition=transition.name,
            )
        record(
            actor=actor,
            event=transition.event,
            target=locked,
            organization_id=locked.organization_id,
            details={
                "transition": transition.name,
                "from": previous,
                "to": transition.target,
                "comment": text,
                "deadline": locked.deadline_at.isoformat() if locked.deadline_at else None,
                **(details or {}),
            },
        )
        return locked


@transaction.atomic
def comment_add(
    *, actor: Person, item: WorkflowItem, body: str, internal: bool, perm: Perm
) -> Comment:
    """A comment on the timeline; internal notes only from the center (R67.3.4 center side)."""
    if not has_perm(actor, perm):
        raise Forbidden()
    text = (body or "").strip()
    if not text:
        raise ValidationFailed.field("body", _("Write something first."))
    if len(text) > 10000:
        raise ValidationFailed.field("body", _("At most %(n)d characters.") % {"n": 10000})
    if internal and not actor.is_center:
        raise Forbidden()
    comment = Comment.objects.create(
        content_type=ContentType.objects.get_for_model(item),
        object_id=item.pk,
        author_id=actor.pk,
        body=text,
        internal=internal,
    )
    record(
        actor=actor,
        event=EventType.COMMENT_ADDED,
        target=item,
        organization_id=item.organization_id,
        details={"comment_id": comment.pk, "internal": internal},
    )
    return comment


def versions_of(item: models.Model) -> models.QuerySet[Version]:
    return Version.objects.filter(
        content_type=ContentType.objects.get_for_model(item), object_id=item.pk
    ).order_by("number")


def diff(old: dict[str, Any], new: dict[str, Any]) -> list[tuple[str, Any, Any]]:
    """Field-by-field changes between two submitted versions."""
    return [
        (k, old.get(k), new.get(k)) for k in sorted(set(old) | set(new)) if old.get(k) != new.get(k)
    ]


# What every maker → IS-unit head → center item needs, whatever it is (cards, alerts, requests).
EDITABLE_STATES = frozenset({"draft", "returned"})


def maker_checker(
    *,
    edit: Perm,
    approve: Perm,
    review: Perm,
    requested: EventType,
    submitted: EventType,
    sent_back: EventType,
    returned: EventType,
) -> list[Transition]:
    """The shared first half of a lifecycle (R67.10–R67.12, R67.15): the maker asks the IS-unit
    head, who approves (it goes to the center) or sends it back; the center may return it for
    rework within 3 working days. Item types add their own final steps."""
    return [
        Transition(
            name="request_approval",
            label=gettext_lazy("Send to the head for approval"),
            sources=frozenset({"draft", "returned"}),
            target="awaiting_approval",
            perm=edit,
            side="owner",
            event=requested,
            keeps_deadline=True,
        ),
        Transition(
            name="approve",
            label=gettext_lazy("Approve and submit to the center"),
            sources=frozenset({"awaiting_approval"}),
            target="submitted",
            perm=approve,
            side="owner",
            event=submitted,
            submits=True,
        ),
        Transition(
            name="send_back",
            label=gettext_lazy("Send back to the author"),
            sources=frozenset({"awaiting_approval"}),
            target="draft",
            perm=approve,
            side="owner",
            event=sent_back,
            needs_comment=True,
            keeps_deadline=True,
            danger=True,
        ),
        Transition(
            name="return",
            label=gettext_lazy("Return for rework (3 working days)"),
            sources=frozenset({"submitted"}),
            target="returned",
            perm=review,
            side="center",
            event=returned,
            needs_comment=True,
            deadline_days=3,
            deadline_reason="rework",
            danger=True,
        ),
    ]


def lock_for_edit(
    *,
    actor: Actor,
    item: WorkflowItem,
    perm: Perm,
    fields: tuple[str, ...],
    changes: dict[str, Any],
) -> Any:
    """The checks every "edit the draft" service makes: permission, own organization, a draft
    or returned item, known fields only. Returns the item locked for the update."""
    ensure_perm(actor, perm)
    locked = type(item).objects.select_for_update().get(pk=item.pk)  # type: ignore[attr-defined]
    if actor.organization_id != locked.organization_id:
        raise Forbidden()
    if locked.state not in EDITABLE_STATES:
        raise AppError(
            _("Only a draft or a returned item can be changed."), code="not_editable", status=409
        )
    unknown = set(changes) - set(fields)
    if unknown:
        raise ValidationFailed(fields={name: [_("Unknown field.")] for name in sorted(unknown)})
    return locked
