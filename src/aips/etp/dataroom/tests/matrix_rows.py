"""The data room's rows of the ETP's authorization matrix (R57.5, R57.3.2): company 1 is admitted
to seller A's published lot (its room shows the NDA first: the download goes back to it, the
API answers 409); participant 1's application is still pending and participant 2 has none (404,
as if the room did not exist); seller A and the operator's verifier, admission officer and
auditor enter without an NDA; seller B gets 404; the operator's administrator holds no
`dataroom:view` (403)."""

from typing import Any

from aips.etp.tests.matrix import SELLER_A, SELLER_B, Row, only

ENTER = ("operator_verifier", "operator_admission", "operator_auditor", *SELLER_A)
NOT_IN = {
    **dict.fromkeys(SELLER_B, 404),
    "participant_person_1": 404,
    "participant_person_2": 404,
}
ADMITTED = "participant_company_1_rep"


def room(o: dict[str, Any]) -> dict[str, Any]:
    return {"pk": o["lot_published"].pk}


def api_room(o: dict[str, Any]) -> dict[str, Any]:
    return {"lot_id": o["lot_published"].pk}


ROWS: list[Row] = [
    Row("etp_dataroom:room", "GET", only(200, (*ENTER, ADMITTED), **NOT_IN), kwargs=room),
    Row(
        "etp_dataroom:nda_accept",
        "POST",
        # The seller and the operator need no NDA (a message, back to the room).
        only(302, (*ENTER, ADMITTED), **NOT_IN),
        kwargs=room,
    ),
    Row(
        "etp_dataroom:file",
        "GET",
        only(200, ENTER, **NOT_IN, **{ADMITTED: 302}),  # before the NDA: back to it
        kwargs=lambda o: {"pk": o["lot_published"].pk, "file_id": o["dataroom_file"].pk},
    ),
    Row(
        "api:dataroom_get",
        "GET",
        only(200, ENTER, anon=401, **NOT_IN, **{ADMITTED: 409}),
        kwargs=api_room,
        api=True,
    ),
    Row(
        "api:dataroom_nda_get",
        "GET",
        only(200, (*ENTER, ADMITTED), anon=401, **NOT_IN),
        kwargs=api_room,
        api=True,
    ),
    Row(
        "api:dataroom_nda_accept",
        "POST",
        # Not the text shown (409 nda_changed); the seller and the operator: nda_not_needed.
        only(409, (*ENTER, ADMITTED), anon=401, **NOT_IN),
        kwargs=api_room,
        data={"nda_sha256": "0" * 64},
        api=True,
    ),
]
