"""A lot's lifecycle on the platform's engine: draft → awaiting approval (the seller's
authorised person) → awaiting verification (the operator) → published → withdrawn; the operator
returns it with a reason, the authorised person sends it back to the maker with one."""

from django.utils.translation import gettext_lazy as _

from aips.etp.lots.models import LotState as S
from aips.etp.permissions import EtpPerm
from aips.shared.audit.models import EventType
from aips.shared.workflow.engine import Machine, Transition

LOT_MACHINE = Machine(
    name="lot",
    states=dict(S.choices),
    transitions={
        t.name: t
        for t in [
            Transition(
                name="request_approval",
                label=_("Send to the authorised person for approval"),
                sources=frozenset({S.DRAFT, S.RETURNED}),
                target=S.AWAITING_APPROVAL,
                perm=EtpPerm.LOT_EDIT,
                side="owner",
                event=EventType.LOT_APPROVAL_REQUESTED,
            ),
            Transition(
                name="send_back",
                label=_("Send back to the preparer"),
                sources=frozenset({S.AWAITING_APPROVAL}),
                target=S.DRAFT,
                perm=EtpPerm.LOT_APPROVE,
                side="owner",
                event=EventType.LOT_SENT_BACK,
                needs_comment=True,
                danger=True,
            ),
            Transition(
                name="approve",
                label=_("Approve and send to the operator"),
                sources=frozenset({S.AWAITING_APPROVAL}),
                target=S.AWAITING_VERIFICATION,
                perm=EtpPerm.LOT_APPROVE,
                side="owner",
                event=EventType.LOT_APPROVED,
                submits=True,
            ),
            Transition(
                name="return",
                label=_("Return to the seller"),
                sources=frozenset({S.AWAITING_VERIFICATION}),
                target=S.RETURNED,
                perm=EtpPerm.LOT_VERIFY,
                side="center",
                event=EventType.LOT_RETURNED,
                needs_comment=True,
                danger=True,
            ),
            Transition(
                name="verify",
                label=_("Accept and publish"),
                sources=frozenset({S.AWAITING_VERIFICATION}),
                target=S.PUBLISHED,
                perm=EtpPerm.LOT_VERIFY,
                side="center",
                event=EventType.LOT_PUBLISHED,
            ),
            Transition(
                name="withdraw",
                label=_("Withdraw the lot (the reason is published)"),
                sources=frozenset({S.PUBLISHED}),
                target=S.WITHDRAWN,
                perm=EtpPerm.LOT_APPROVE,
                side="owner",
                event=EventType.LOT_WITHDRAWN,
                needs_comment=True,
                danger=True,
            ),
        ]
    },
)
