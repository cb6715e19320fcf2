"""Every change to questions and complaints: asking and answering a question on a lot, filing
and answering a complaint. Each checks its permission, sets its deadline on the platform's
working-day calendar and writes its audit event in the same transaction."""

from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from aips.core.access import ensure_perm
from aips.core.errors import AppError, NotFound, ValidationFailed
from aips.core.templatetags.aips_format import when_text
from aips.etp.applications import clock
from aips.etp.lots.models import Lot, LotState
from aips.etp.permissions import EtpPerm
from aips.etp.questions import notices, selectors
from aips.etp.questions.models import Complaint, ComplaintFile, ComplaintOutcome, Question
from aips.shared.accounts.models import User
from aips.shared.audit.models import EventType
from aips.shared.audit.services import record
from aips.shared.files.services import stored_fields
from aips.shared.workdays.calendar import add_working_days

MAX_TEXT = 5000


class QuestionsClosed(AppError):
    status = 409
    code = "questions_closed"


def _text(field: str, value: str) -> str:
    value = value.strip()
    if not value:
        raise ValidationFailed.field(field, _("This field is required."))
    if len(value) > MAX_TEXT:
        raise ValidationFailed.field(field, _("At most 5000 characters."))
    return value


def _days(name: str, default: int) -> int:
    return int(getattr(settings, name, default))


def _published_lot(pk: int) -> Lot:
    try:
        lot: Lot = Lot.objects.get(pk=pk, state=LotState.PUBLISHED)
    except Lot.DoesNotExist as exc:
        raise NotFound() from exc
    return lot


@transaction.atomic
def question_ask(*, actor: User, lot_id: int, text: str) -> Question:
    """A participant's question on a published lot; due in AIPS_ETP_QUESTION_ANSWER_DAYS
    working days. Questions close with the application deadline of the lot's procedure (the
    server's clock, `applications.clock`): after it, 409 `questions_closed`."""
    ensure_perm(actor, EtpPerm.QUESTION_ASK)
    lot = _published_lot(lot_id)
    now = clock.now()
    closed_at = selectors.questions_closed_at(lot.pk, now)
    if closed_at is not None:
        raise QuestionsClosed(
            _("Questions on this lot closed on %(moment)s, with the application deadline.")
            % {"moment": when_text(closed_at)}
        )
    question: Question = Question.objects.create(
        lot=lot,
        organization_id=actor.organization_id,
        asked_by=actor,
        text=_text("text", text),
        asked_at=now,
        due_at=add_working_days(now, _days("AIPS_ETP_QUESTION_ANSWER_DAYS", 2)),
    )
    record(
        actor=actor,
        event=EventType.QUESTION_ASKED,
        target=question,
        organization_id=actor.organization_id,
        details={"lot": lot.pk},
    )
    notices.question_asked(actor=actor, question=question)
    return question


@transaction.atomic
def question_answer(*, actor: User, question_id: int, answer: str) -> Question:
    """The lot's seller or the operator answers; the answer is then public on the lot's page."""
    ensure_perm(actor, EtpPerm.QUESTION_ANSWER)
    try:
        question = (
            Question.objects.visible_to(actor)
            .select_for_update()
            .select_related("lot")
            .get(pk=question_id)
        )
    except Question.DoesNotExist as exc:
        raise NotFound() from exc
    if question.answered_at is not None:
        raise AppError(_("The question is already answered."), code="already_answered", status=409)
    question.answer = _text("answer", answer)
    question.answered_by = actor
    question.answered_at = timezone.now()
    question.save(update_fields=["answer", "answered_by", "answered_at"])
    record(
        actor=actor,
        event=EventType.QUESTION_ANSWERED,
        target=question,
        organization_id=question.organization_id,
        details={"lot": question.lot_id, "overdue": question.answered_at > question.due_at},
    )
    notices.question_answered(actor=actor, question=question)
    return question


@transaction.atomic
def complaint_file(
    *,
    actor: User,
    text: str,
    lot_id: int | None = None,
    files: "list[UploadedFile[Any]] | None" = None,
) -> Complaint:
    """A participant's complaint to the operator, about a published or withdrawn lot or the
    procedure (no lot); due in AIPS_ETP_COMPLAINT_ANSWER_DAYS working days."""
    ensure_perm(actor, EtpPerm.COMPLAINT_FILE)
    lot = None
    if lot_id is not None:
        lot = Lot.objects.public().filter(pk=lot_id).first()
        if lot is None:
            raise ValidationFailed.field("lot", _("No such published lot."))
    now = timezone.now()
    complaint: Complaint = Complaint.objects.create(
        organization_id=actor.organization_id,
        filed_by=actor,
        lot=lot,
        text=_text("text", text),
        filed_at=now,
        due_at=add_working_days(now, _days("AIPS_ETP_COMPLAINT_ANSWER_DAYS", 5)),
    )
    stored = [
        ComplaintFile.objects.create(complaint=complaint, uploaded_by=actor, **stored_fields(f))
        for f in files or []
    ]
    record(
        actor=actor,
        event=EventType.COMPLAINT_FILED,
        target=complaint,
        organization_id=actor.organization_id,
        details={"lot": lot_id, "files": [f.sha256 for f in stored]},
    )
    notices.complaint_filed(actor=actor, complaint=complaint)
    return complaint


@transaction.atomic
def complaint_answer(*, actor: User, complaint_id: int, outcome: str, answer: str) -> Complaint:
    """The operator's decision (upheld or rejected) with its reasons; published at once."""
    ensure_perm(actor, EtpPerm.COMPLAINT_ANSWER)
    try:
        complaint = Complaint.objects.visible_to(actor).select_for_update().get(pk=complaint_id)
    except Complaint.DoesNotExist as exc:
        raise NotFound() from exc
    if complaint.answered_at is not None:
        raise AppError(_("The complaint is already answered."), code="already_answered", status=409)
    if outcome not in ComplaintOutcome.values:
        raise ValidationFailed.field("outcome", _("Choose upheld or rejected."))
    complaint.outcome = outcome
    complaint.answer = _text("answer", answer)
    complaint.answered_by = actor
    complaint.answered_at = timezone.now()
    complaint.save(update_fields=["outcome", "answer", "answered_by", "answered_at"])
    record(
        actor=actor,
        event=EventType.COMPLAINT_ANSWERED,
        target=complaint,
        organization_id=complaint.organization_id,
        details={"outcome": outcome, "overdue": complaint.answered_at > complaint.due_at},
    )
    notices.complaint_answered(actor=actor, complaint=complaint)
    return complaint


@transaction.atomic
def complaint_file_downloaded(*, actor: User, item: ComplaintFile) -> None:
    """Each opening of a complaint's file is journaled (written before it is sent)."""
    record(
        actor=actor,
        event=EventType.COMPLAINT_FILE_DOWNLOADED,
        target=item.complaint,
        organization_id=item.complaint.organization_id,
        details={"file_id": item.pk, "sha256": item.sha256},
    )
