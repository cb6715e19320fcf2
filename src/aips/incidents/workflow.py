"""The incident card's lifecycle (R67.12, R67.15) on the shared engine:
draft → awaiting approval → submitted → (returned → awaiting approval → submitted …) → accepted
→ closed."""

from django.utils.translation import gettext_lazy as _

from aips.audit.models import EventType
from aips.core.permissions import Perm
from aips.incidents.models import CardState
from aips.workflow.engine import Machine, Transition

S = CardState

CARD_MACHINE = Machine(
    name="incident",
    states=dict(CardState.choices),
    transitions={
        t.name: t
        for t in [
            Transition(
                name="request_approval",
                label=_("Send to the head for approval"),
                sources=frozenset({S.DRAFT, S.RETURNED}),
                target=S.AWAITING_APPROVAL,
                perm=Perm.INCIDENT_EDIT,
                side="owner",
                event=EventType.INCIDENT_APPROVAL_REQUESTED,
                keeps_deadline=True,
            ),
            Transition(
                name="approve",
                label=_("Approve and submit to the center"),
                sources=frozenset({S.AWAITING_APPROVAL}),
                target=S.SUBMITTED,
                perm=Perm.INCIDENT_APPROVE,
                side="owner",
                event=EventType.INCIDENT_SUBMITTED,
                submits=True,
            ),
            Transition(
                name="send_back",
                label=_("Send back to the author"),
                sources=frozenset({S.AWAITING_APPROVAL}),
                target=S.DRAFT,
                perm=Perm.INCIDENT_APPROVE,
                side="owner",
                event=EventType.INCIDENT_SENT_BACK,
                needs_comment=True,
                keeps_deadline=True,
                danger=True,
            ),
            Transition(
                name="return",
                label=_("Return for rework (3 working days)"),
                sources=frozenset({S.SUBMITTED}),
                target=S.RETURNED,
                perm=Perm.INCIDENT_REVIEW,
                side="center",
                event=EventType.INCIDENT_RETURNED,
                needs_comment=True,
                deadline_days=3,
                deadline_reason="rework",
                danger=True,
            ),
            Transition(
                name="accept",
                label=_("Accept"),
                sources=frozenset({S.SUBMITTED}),
                target=S.ACCEPTED,
                perm=Perm.INCIDENT_REVIEW,
                side="center",
                event=EventType.INCIDENT_ACCEPTED,
            ),
            Transition(
                name="close",
                label=_("Close"),
                sources=frozenset({S.ACCEPTED}),
                target=S.CLOSED,
                perm=Perm.INCIDENT_REVIEW,
                side="center",
                event=EventType.INCIDENT_CLOSED,
            ),
        ]
    },
)
