"""The incident card's lifecycle (R67.12, R67.15) on the shared engine:
draft → awaiting approval → submitted → (returned → awaiting approval → submitted …) → accepted
→ closed."""

from django.utils.translation import gettext_lazy as _

from aips.center.incidents.models import CardState
from aips.core.permissions import Perm
from aips.shared.audit.models import EventType
from aips.shared.workflow.engine import Machine, Transition, maker_checker

S = CardState

CARD_MACHINE = Machine(
    name="incident",
    states=dict(CardState.choices),
    transitions={
        t.name: t
        for t in [
            *maker_checker(
                edit=Perm.INCIDENT_EDIT,
                approve=Perm.INCIDENT_APPROVE,
                review=Perm.INCIDENT_REVIEW,
                requested=EventType.INCIDENT_APPROVAL_REQUESTED,
                submitted=EventType.INCIDENT_SUBMITTED,
                sent_back=EventType.INCIDENT_SENT_BACK,
                returned=EventType.INCIDENT_RETURNED,
            ),
            Transition(
                name="accept",
                label=_("Accept"),
                sources=frozenset({S.SUBMITTED}),
                target=S.ACCEPTED,
                perm=Perm.INCIDENT_REVIEW,
                side="center",
                event=EventType.INCIDENT_ACCEPTED,
                confirm=True,
            ),
            Transition(
                name="close",
                label=_("Close"),
                sources=frozenset({S.ACCEPTED}),
                target=S.CLOSED,
                perm=Perm.INCIDENT_REVIEW,
                side="center",
                event=EventType.INCIDENT_CLOSED,
                confirm=True,
            ),
        ]
    },
)
