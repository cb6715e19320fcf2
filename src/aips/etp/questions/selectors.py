"""Reads of questions and complaints. The working lists start from `visible_to`; the public
reads (a lot's answered questions, the published complaints) return only what the public may
see — the text, the answer and the dates, never the asker."""

from datetime import datetime
from typing import Any

from aips.core.actors import Actor
from aips.core.errors import NotFound
from aips.etp.applications import clock
from aips.etp.applications.models import Procedure
from aips.etp.lots.models import LotState
from aips.etp.questions.models import (
    Complaint,
    ComplaintFile,
    ComplaintQuerySet,
    Question,
    QuestionQuerySet,
)


def questions_closed_at(lot_id: int, now: datetime | None = None) -> datetime | None:
    """When questions on the lot closed: its procedure's application deadline once that has
    passed on the server's clock (`applications.clock`), else None (open; a lot without a
    procedure takes questions until one is announced and its deadline passes)."""
    deadline = (
        Procedure.objects.filter(lot_id=lot_id)
        .values_list("application_deadline", flat=True)
        .first()
    )
    if deadline is None:
        return None
    return deadline if (now or clock.now()) >= deadline else None


def question_list(*, actor: Actor) -> QuestionQuerySet:
    return Question.objects.visible_to(actor).select_related("lot")


def public_questions(lot_id: int) -> list[dict[str, Any]]:
    """A published or withdrawn lot's answered questions, the asker left out."""
    rows = (
        Question.objects.answered()
        .filter(lot_id=lot_id, lot__state__in=[LotState.PUBLISHED, LotState.WITHDRAWN])
        .order_by("asked_at", "id")
    )
    return [
        {"text": q.text, "asked_at": q.asked_at, "answer": q.answer, "answered_at": q.answered_at}
        for q in rows
    ]


def complaint_list(*, actor: Actor) -> ComplaintQuerySet:
    return Complaint.objects.visible_to(actor).select_related("lot")


def get_complaint_for(actor: Actor, pk: int) -> Complaint:
    try:
        return complaint_list(actor=actor).get(pk=pk)
    except Complaint.DoesNotExist as exc:
        raise NotFound() from exc


def complaint_files(*, actor: Actor, complaint: Complaint) -> list[ComplaintFile]:
    return list(ComplaintFile.objects.visible_to(actor).filter(complaint=complaint))


def get_complaint_file_for(actor: Actor, complaint: Complaint, file_id: int) -> ComplaintFile:
    item: ComplaintFile | None = (
        ComplaintFile.objects.visible_to(actor).filter(complaint=complaint, pk=file_id).first()
    )
    if item is None:
        raise NotFound()
    return item


def public_complaints() -> list[dict[str, Any]]:
    """The answered complaints, the complainant left out."""
    rows = Complaint.objects.published().select_related("lot").order_by("-answered_at", "-id")
    return [
        {
            "reference": c.reference,
            "lot": c.lot.reference if c.lot else "",
            "lot_id": c.lot_id,
            "text": c.text,
            "filed_at": c.filed_at,
            "outcome": c.outcome_label,
            "answer": c.answer,
            "answered_at": c.answered_at,
        }
        for c in rows
    ]
