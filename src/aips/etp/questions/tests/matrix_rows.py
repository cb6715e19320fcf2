"""The questions' and complaints' rows of the ETP's authorization matrix: participant 1's
question and complaint about seller A's published lot. Seller B gets 404 for them, other
participants 404 for the unpublished complaint; roles without the permission 403; the public
complaints page answers everyone."""

from typing import Any

from aips.etp.tests.matrix import PARTICIPANTS, SELLER_A, SELLER_B, Row, only, statuses

QUESTION_VIEWERS = ("operator_verifier", "operator_auditor", *SELLER_A, *SELLER_B, *PARTICIPANTS)
COMPLAINT_VIEWERS = ("operator_auditor", *SELLER_A, *SELLER_B, *PARTICIPANTS)
OTHERS_404 = {
    **dict.fromkeys(SELLER_B, 404),
    "participant_person_2": 404,
    "participant_company_1_rep": 404,
}


def question(o: dict[str, Any]) -> dict[str, Any]:
    return {"pk": o["question"].pk}


def complaint(o: dict[str, Any]) -> dict[str, Any]:
    return {"pk": o["complaint"].pk}


ROWS: list[Row] = [
    Row(
        "etp_questions:ask",
        "POST",
        only(302, PARTICIPANTS),
        kwargs=lambda o: {"pk": o["lot_published"].pk},
        data={"text": "matrix"},
    ),
    Row("etp_questions:list", "GET", only(200, QUESTION_VIEWERS)),
    Row(
        "etp_questions:answer",
        "POST",
        only(302, ("operator_verifier", *SELLER_A), **dict.fromkeys(SELLER_B, 404)),
        kwargs=question,
        data={"answer": "matrix"},
    ),
    Row("etp_questions:public_complaints", "GET", statuses(200)),
    Row("api:public_complaints", "GET", statuses(200), api=True),
    Row(
        "api:public_lot_questions",
        "GET",
        statuses(200),
        kwargs=lambda o: {"lot_id": o["lot_published"].pk},
        api=True,
    ),
    Row("etp_questions:complaint_list", "GET", only(200, COMPLAINT_VIEWERS)),
    Row("etp_questions:complaint_create", "GET", only(200, PARTICIPANTS)),
    Row(
        "etp_questions:complaint_detail",
        "GET",
        only(200, COMPLAINT_VIEWERS, **OTHERS_404),
        kwargs=complaint,
    ),
    Row(
        "etp_questions:complaint_file",
        "GET",
        only(200, COMPLAINT_VIEWERS, **OTHERS_404),
        kwargs=lambda o: {"pk": o["complaint"].pk, "file_id": o["complaint"].files.get().pk},
    ),
    Row(
        "etp_questions:complaint_answer",
        "POST",
        only(302, ()),
        kwargs=complaint,
        data={"outcome": "rejected", "answer": "matrix"},
    ),
]
