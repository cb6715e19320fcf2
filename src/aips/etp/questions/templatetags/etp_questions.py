"""`{% lot_questions lot_id %}`: a lot's answered questions and, for a participant, the form to
ask one until the application deadline ("Questions closed on …" after it) — included in the
lots' public page without the lots app knowing about questions."""

from typing import Any

from django import template

from aips.core.access import has_perm
from aips.etp.permissions import EtpPerm
from aips.etp.questions import selectors
from aips.etp.questions.forms import QuestionForm

register = template.Library()


@register.inclusion_tag("etp_questions/_lot_questions.html", takes_context=True)
def lot_questions(context: dict[str, Any], lot_id: int, state: str = "") -> dict[str, Any]:
    request = context.get("request")
    user = getattr(request, "user", None)
    can_ask = bool(
        user is not None and user.is_authenticated and has_perm(user, EtpPerm.QUESTION_ASK)
    )
    closed_at = selectors.questions_closed_at(lot_id) if state == "published" else None
    return {
        "lot_id": lot_id,
        "questions": selectors.public_questions(lot_id),
        "closed_at": closed_at,
        "can_ask": can_ask and state == "published" and closed_at is None,
        "form": QuestionForm(),
        "csrf_token": context.get("csrf_token"),
    }
