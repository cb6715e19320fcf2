"""The public reads of questions and complaints, without sign-in: a lot's answered questions and
the answered complaints — the texts, decisions and dates, never the asker or complainant."""

from datetime import datetime
from typing import Any

from django.http import HttpRequest
from ninja import Router, Schema

from aips.core.access import public
from aips.etp.questions import selectors

router = Router(tags=["questions"])


class PublicQuestionOut(Schema):
    text: str
    asked_at: datetime
    answer: str
    answered_at: datetime


class PublicComplaintOut(Schema):
    reference: str
    lot_id: int | None
    text: str
    filed_at: datetime
    outcome: str
    answer: str
    answered_at: datetime


@router.get(
    "/public/lots/{lot_id}/questions",
    response=list[PublicQuestionOut],
    operation_id="public_lot_questions",
    auth=None,
    summary="A published lot's answered questions, without the askers",
)
@public
def public_lot_questions(request: HttpRequest, lot_id: int) -> Any:
    return selectors.public_questions(lot_id)


@router.get(
    "/public/complaints",
    response=list[PublicComplaintOut],
    operation_id="public_complaints",
    auth=None,
    summary="The answered complaints with the operator's decisions, without the complainants",
)
@public
def public_complaints(request: HttpRequest) -> Any:
    return selectors.public_complaints()
