"""The alert's lifecycle on the shared engine (R67.10, R67.15): an organization's alert goes
maker → IS-unit head → center, which returns it (3 working days) or publishes it; the center's
own alerts are published directly."""

from django.utils.translation import gettext_lazy as _

from aips.center.alerts.models import AlertState
from aips.core.permissions import Perm
from aips.shared.audit.models import EventType
from aips.shared.workflow.engine import Machine, Transition, maker_checker

S = AlertState

ALERT_MACHINE = Machine(
    name="alert",
    states=dict(AlertState.choices),
    transitions={
        t.name: t
        for t in [
            *maker_checker(
                edit=Perm.ALERT_EDIT,
                approve=Perm.ALERT_APPROVE,
                review=Perm.ALERT_PUBLISH,
                requested=EventType.ALERT_APPROVAL_REQUESTED,
                submitted=EventType.ALERT_SUBMITTED,
                sent_back=EventType.ALERT_SENT_BACK,
                returned=EventType.ALERT_RETURNED,
            ),
            Transition(
                name="publish",
                label=_("Publish to organizations"),
                sources=frozenset({S.SUBMITTED}),
                target=S.PUBLISHED,
                perm=Perm.ALERT_PUBLISH,
                side="center",
                event=EventType.ALERT_PUBLISHED,
                confirm=True,
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
                confirm=True,
            ),
        ]
    },
)
