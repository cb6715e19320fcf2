"""The applications' rows of the ETP's authorization matrix (R57.5): participant 1's application
is participant 1's (the other participants get 404, as if it did not exist); the operator's
admission officer and auditor read it; sellers hold no application permission (403). Only the
admission officer confirms deposits and admits (the auditor reads, 403 on a step)."""

from typing import Any

from aips.etp.tests.matrix import PARTICIPANTS, Row, only

READERS = ("operator_admission", "operator_auditor", "participant_person_1")
OTHERS_404 = {"participant_person_2": 404, "participant_company_1_rep": 404}


def mine(o: dict[str, Any]) -> dict[str, Any]:
    return {"pk": o["application"].pk}


def published(o: dict[str, Any]) -> dict[str, Any]:
    return {"pk": o["lot_published"].pk}


ROWS: list[Row] = [
    Row("etp_applications:apply", "GET", only(200, PARTICIPANTS), kwargs=published),
    Row("etp_applications:announce", "GET", only(200, ("operator_admin",)), kwargs=published),
    Row(
        "etp_applications:list",
        "GET",
        only(200, (*READERS, "participant_person_2", "participant_company_1_rep")),
    ),
    Row(
        "api:applications_list",
        "GET",
        only(200, (*READERS, "participant_person_2", "participant_company_1_rep"), anon=401),
        api=True,
    ),
    Row(
        "api:applications_get",
        "GET",
        only(200, READERS, anon=401, **OTHERS_404),
        kwargs=lambda o: {"application_id": o["application"].pk},
        api=True,
    ),
    # The steps over the API: the permission is checked before anything else (403, anonymous
    # 401); the one who may passes to the service, whose answer the matrix objects fix: the lot
    # already has its procedure (409), participant 1's deposit is awaited (admit and return
    # 409), an empty body is 422.
    Row(
        "api:applications_procedure_announce",
        "POST",
        only(409, ("operator_admin",), anon=401),
        kwargs=lambda o: {"lot_id": o["lot_published"].pk},
        data={
            "application_deadline": "2099-01-10T18:00:00+05:00",
            "auction_start": "2099-01-12T11:00:00+05:00",
        },
        api=True,
    ),
    Row(
        "api:applications_document",
        "GET",
        only(200, PARTICIPANTS, anon=401),
        kwargs=lambda o: {"lot_id": o["lot_published"].pk},
        api=True,
    ),
    Row(
        "api:applications_submit",
        "POST",
        only(422, PARTICIPANTS, anon=401),
        kwargs=lambda o: {"lot_id": o["lot_published"].pk},
        data={},
        api=True,
    ),
    Row(
        "api:applications_deposit_confirm",
        "POST",
        only(200, ("operator_admission",), anon=401),
        kwargs=lambda o: {"application_id": o["application"].pk},
        api=True,
    ),
    Row(
        "api:applications_admit",
        "POST",
        only(409, ("operator_admission",), anon=401),
        kwargs=lambda o: {"application_id": o["application"].pk},
        api=True,
    ),
    Row(
        "api:applications_refuse",
        "POST",
        only(200, ("operator_admission",), anon=401),
        kwargs=lambda o: {"application_id": o["application"].pk},
        data={"reason": "matrix"},
        api=True,
    ),
    Row(
        "api:applications_deposit_return",
        "POST",
        only(409, ("operator_admission",), anon=401),
        kwargs=lambda o: {"application_id": o["application"].pk},
        api=True,
    ),
    Row(
        "api:deposits_statement",
        "POST",
        only(422, ("operator_admission",), anon=401),
        data={},
        api=True,
    ),
    Row("etp_applications:statement", "GET", only(200, ("operator_admission",))),
    Row("etp_applications:detail", "GET", only(200, READERS, **OTHERS_404), kwargs=mine),
    Row(
        "etp_applications:act",
        "POST",
        # The step is refused for all but the admission officer (403 after the redirect would
        # hide it, so the service's Forbidden answers 403 itself).
        only(
            302,
            ("operator_admission",),
            operator_auditor=403,
            participant_person_1=403,
            **OTHERS_404,
        ),
        kwargs=lambda o: {"pk": o["application"].pk, "name": "confirm_deposit"},
    ),
]
