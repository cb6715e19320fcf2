"""The two machines of a request on the shared engine (R67.11, R67.14, R67.15).

The request (`INQUIRY_MACHINE`, the requester's side): the engine's maker-checker half, with
"submitted" called "sent": maker → IS-unit head → sent to every addressee; the center may return
it for incompleteness (3 working days) before any addressee has taken it up. The center's own
request is sent directly (`send_direct`), as the center publishes its own alerts.

Each addressee's thread (`THREAD_MACHINE`): received → accepted (10 working days to answer) or
declined (with a reason), within 1 working day; the answer goes maker → IS-unit head → answered
(the center, which has no head, answers directly); the requester or the center may return an
incomplete answer (3 working days); the requester closes the thread.

Sides: "owner" on a thread is the addressee (the thread's organization); the requester's moves
carry side "requester", which the engine admits only for the organization a thread names in
`requester_organization_id` (the request's author)."""

from dataclasses import replace

from django.utils.translation import gettext_lazy as _

from aips.center.inquiries.models import InquiryState, ThreadState
from aips.core.permissions import Perm
from aips.shared.audit.models import EventType
from aips.shared.workflow.engine import Machine, Side, Transition, maker_checker

S = InquiryState
T = ThreadState
# See the module docstring: checked by the service, not by the engine.
REQUESTER: Side = "requester"


def _as_sent(transition: Transition) -> Transition:
    """maker_checker() calls the approved state "submitted" (to the center); a request is
    "sent" (to its addressees, who may be organizations)."""
    if transition.name == "approve":
        return replace(transition, target=S.SENT, label=_("Approve and send"))
    if transition.name == "return":
        return replace(
            transition,
            sources=frozenset({S.SENT}),
            label=_("Return for incompleteness (3 working days)"),
        )
    return transition


INQUIRY_MACHINE = Machine(
    name="inquiry",
    states=dict(InquiryState.choices),
    transitions={
        t.name: t
        for t in [
            *(
                _as_sent(t)
                for t in maker_checker(
                    edit=Perm.REQUEST_EDIT,
                    approve=Perm.REQUEST_APPROVE,
                    review=Perm.REQUEST_REVIEW,
                    requested=EventType.REQUEST_APPROVAL_REQUESTED,
                    submitted=EventType.REQUEST_SENT,
                    sent_back=EventType.REQUEST_SENT_BACK,
                    returned=EventType.REQUEST_RETURNED,
                )
            ),
            # The center's own request: "owner" side + a permission only center staff hold.
            Transition(
                name="send_direct",
                label=_("Send to the addressees"),
                sources=frozenset({S.DRAFT}),
                target=S.SENT,
                perm=Perm.REQUEST_REVIEW,
                side="owner",
                event=EventType.REQUEST_SENT,
                submits=True,
            ),
        ]
    },
)

THREAD_MACHINE = Machine(
    name="inquiry_thread",
    states=dict(ThreadState.choices),
    transitions={
        t.name: t
        for t in [
            # R67.14: the IS-unit head's acceptance is the management's agreement (as for alerts).
            Transition(
                name="accept",
                label=_("Accept into work (10 working days to answer)"),
                sources=frozenset({T.RECEIVED}),
                target=T.ACCEPTED,
                perm=Perm.REQUEST_HANDLE,
                side="owner",
                event=EventType.REQUEST_ACCEPTED,
                deadline_days=10,
                deadline_reason="answer",
                confirm=True,
            ),
            Transition(
                name="decline",
                label=_("Decline"),
                sources=frozenset({T.RECEIVED}),
                target=T.DECLINED,
                perm=Perm.REQUEST_HANDLE,
                side="owner",
                event=EventType.REQUEST_DECLINED,
                needs_comment=True,
                danger=True,
                confirm=True,
            ),
            Transition(
                name="request_approval",
                label=_("Send the answer to the head for approval"),
                sources=frozenset({T.ACCEPTED, T.ANSWER_RETURNED}),
                target=T.ANSWER_AWAITING_APPROVAL,
                perm=Perm.REQUEST_EDIT,
                side="owner",
                event=EventType.REQUEST_ANSWER_APPROVAL_REQUESTED,
                keeps_deadline=True,
            ),
            Transition(
                name="approve",
                label=_("Approve and send the answer"),
                sources=frozenset({T.ANSWER_AWAITING_APPROVAL}),
                target=T.ANSWERED,
                perm=Perm.REQUEST_APPROVE,
                side="owner",
                event=EventType.REQUEST_ANSWERED,
                submits=True,
            ),
            Transition(
                name="send_back",
                label=_("Send the answer back to its author"),
                sources=frozenset({T.ANSWER_AWAITING_APPROVAL}),
                target=T.ACCEPTED,
                perm=Perm.REQUEST_APPROVE,
                side="owner",
                event=EventType.REQUEST_ANSWER_SENT_BACK,
                needs_comment=True,
                keeps_deadline=True,
                danger=True,
            ),
            # The center's own thread (a request to the regulator): it has no IS-unit head, so
            # its staff answer directly: "owner" side + a permission only center staff hold.
            Transition(
                name="answer_direct",
                label=_("Send the answer"),
                sources=frozenset({T.ACCEPTED, T.ANSWER_RETURNED}),
                target=T.ANSWERED,
                perm=Perm.REQUEST_REVIEW,
                side="owner",
                event=EventType.REQUEST_ANSWERED,
                submits=True,
            ),
            # R67.15: an incomplete answer goes back, 3 working days to fix it.
            Transition(
                name="return_answer",
                label=_("Return the answer as incomplete (3 working days)"),
                sources=frozenset({T.ANSWERED}),
                target=T.ANSWER_RETURNED,
                perm=Perm.REQUEST_EDIT,
                side=REQUESTER,
                event=EventType.REQUEST_ANSWER_RETURNED,
                needs_comment=True,
                deadline_days=3,
                deadline_reason="rework",
                danger=True,
            ),
            Transition(
                name="center_return_answer",
                label=_("Return the answer as incomplete (3 working days)"),
                sources=frozenset({T.ANSWERED}),
                target=T.ANSWER_RETURNED,
                perm=Perm.REQUEST_REVIEW,
                side="center",
                event=EventType.REQUEST_ANSWER_RETURNED,
                needs_comment=True,
                deadline_days=3,
                deadline_reason="rework",
                danger=True,
            ),
            Transition(
                name="close",
                label=_("Close: the answer is complete"),
                sources=frozenset({T.ANSWERED}),
                target=T.CLOSED,
                perm=Perm.REQUEST_EDIT,
                side=REQUESTER,
                event=EventType.REQUEST_CLOSED,
                confirm=True,
            ),
        ]
    },
)
