"""Who hears about questions and complaints (in-app and by e-mail), never the person who acted:

| event | notified |
|---|---|
| question asked | the lot's seller (maker and signatory) and the operator's lot verifiers |
| question answered | the asker |
| complaint filed | the operator's complaints officers |
| complaint answered | the complainant |"""

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from aips.etp.permissions import EtpRole
from aips.etp.questions.models import Complaint, Question
from aips.shared.accounts.models import User
from aips.shared.accounts.selectors import people_to_tell
from aips.shared.notifications.services import Text, notify


def question_asked(*, actor: User, question: Question) -> None:
    lot = question.lot
    sellers = people_to_tell(
        organization_id=lot.organization_id,
        role__in=[EtpRole.SELLER_MAKER, EtpRole.SELLER_SIGNATORY],
    )
    verifiers = people_to_tell(organization__kind="operator", role=EtpRole.OPERATOR_VERIFIER)
    notify(
        users=[u for u in sellers + verifiers if u.pk != actor.pk],
        kind="etp.question.asked",
        subject=Text(_("A question on lot %(lot)s"), {"lot": lot.reference}),
        text=Text(
            _("A participant asked a question on lot %(lot)s; answer it by %(due)s."),
            {"lot": lot.reference, "due": question.due_at.date().isoformat()},
        ),
        link=reverse("etp_questions:list"),
        email=True,
        target=question,
    )


def question_answered(*, actor: User, question: Question) -> None:
    notify(
        users=[u for u in people_to_tell(pk=question.asked_by_id) if u.pk != actor.pk],
        kind="etp.question.answered",
        subject=Text(
            _("Your question on lot %(lot)s is answered"), {"lot": question.lot.reference}
        ),
        text=Text(_("The answer is on the lot's page.")),
        link=reverse("etp_lots:public_detail", args=[question.lot_id]),
        email=True,
        target=question,
    )


def complaint_filed(*, actor: User, complaint: Complaint) -> None:
    officers = people_to_tell(organization__kind="operator", role=EtpRole.OPERATOR_COMPLAINTS)
    notify(
        users=[u for u in officers if u.pk != actor.pk],
        kind="etp.complaint.filed",
        subject=Text(_("Complaint %(ref)s filed"), {"ref": complaint.reference}),
        text=Text(
            _("A participant filed complaint %(ref)s; answer it by %(due)s."),
            {"ref": complaint.reference, "due": complaint.due_at.date().isoformat()},
        ),
        link=reverse("etp_questions:complaint_detail", args=[complaint.pk]),
        email=True,
        target=complaint,
    )


def complaint_answered(*, actor: User, complaint: Complaint) -> None:
    notify(
        users=[u for u in people_to_tell(pk=complaint.filed_by_id) if u.pk != actor.pk],
        kind="etp.complaint.answered",
        subject=Text(_("Your complaint %(ref)s is answered"), {"ref": complaint.reference}),
        text=Text(_("The decision and its reasons are on the complaint's page.")),
        link=reverse("etp_questions:complaint_detail", args=[complaint.pk]),
        email=True,
        target=complaint,
    )
