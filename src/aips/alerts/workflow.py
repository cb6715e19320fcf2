"""The alert's lifecycle on the shared engine (R67.10, R67.15): an organization's alert goes
maker → IS-unit head → center, which returns it (3 working days) or publishes it; the center's
own alerts are published directly."""

from django.utils.translation import gettext_lazy as _

from aips.alerts.models import AlertState
from aips.audit.models import EventType
from aips.core.permissions import Perm
from aips.workflow.engine import Machine, Transition

S = AlertState

ALERT_MACHINE = Machine(
    name="alert",
    states=dict(AlertState.choices),
    transitions={
        t.name: t
        for t in [
            Transition(
                name="request_approval",
                label=_("Send to the head for approval"),
                sources=frozenset({S.DRAFT, S.RETURNED}),
                target=S.AWAITING_APPROVAL,
                perm=Perm.ALERT_EDIT,
                side="owner",
                event=EventType.ALERT_APPROVAL_REQUESTED,
                keeps_deadline=True,
            ),
            Transition(
                name="approve",
                label=_("Approve and submit to the center"),
                sources=frozenset({S.AWAITING_APPROVAL}),
                target=S.SUBMITTED,
                perm=Perm.ALERT_APPROVE,
                side="owner",
                event=EventType.ALERT_SUBMITTED,
                submits=True,
            ),
            Transition(
                name="send_back",
                label=_("Send back to the author"),
                sources=frozenset({S.AWAITING_APPROVAL}),
                target=S.DRAFT,
                perm=Perm.ALERT_APPROVE,
                side="owner",
                event=EventType.ALERT_SENT_BACK,
                needs_comment=True,
                keeps_deadline=True,
                danger=True,
            ),
            Transition(
                name="return",
                label=_("Return for rework (3 working days)"),
                sources=frozenset({S.SUBMITTED}),
                target=S.RETURNED,
                perm=Perm.ALERT_PUBLISH,
                side="center",
                event=EventType.ALERT_RETURNED,
                needs_comment=True,
                deadline_days=3,
                deadline_reason="rework",
                danger=True,
            ),
            Transition(
                name="publish",
                label=_("Publish to organizations"),
                sources=frozenset({S.SUBMITTED}),
                target=S.PUBLISHED,
                perm=Perm.ALERT_PUBLISH,
                side="center",
                event=EventType.ALERT_PUBLISHED,
            ),
            # The center's own alert: "owner" side + a permission only center staff hold.
            Transition(
                name="publish_direct",
                label=_("Publish to organizations"),
                sources=frozenset({S.DRAFT}),
                target=S.PUBLISHED,
                perm=Perm.ALERT_PUBLISH,
                side="owner",
                event=EventType.ALERT_PUBLISHED,
                submits=True,
            ),
        ]
    },
)
