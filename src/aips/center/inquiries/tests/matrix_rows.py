"""This domain's rows of the authorization matrix (core/tests/test_authorization_matrix.py).

Bank A's objects: its request to the center, sent (with a file, and the center's thread), its
own draft, and the center's request to bank A (bank A's thread, received). Bank B is a third
party to all of them: 404 where it holds the permission, 403 where its role lacks it."""

from typing import Any

from aips.core.tests.matrix import CENTER, Row, only, statuses

EDITORS = (
    "center_admin",
    "center_analyst",
    "bank_a_head",
    "bank_a_maker",
    "bank_b_head",
    "bank_b_maker",
)
EDITORS_A = ("bank_a_head", "bank_a_maker")
COMMENTERS_A = ("center_admin", "center_analyst", "bank_a_head", "bank_a_maker")
B_404 = {"bank_b_head": 404, "bank_b_maker": 404}
# Bank A's draft: the center never sees an organization's drafts.
DRAFT_404 = {"center_admin": 404, "center_analyst": 404, **B_404}
SENT = lambda o: {"pk": o["inquiry_sent"].pk}  # noqa: E731
DRAFT = lambda o: {"pk": o["inquiry_draft"].pk}  # noqa: E731
API_SENT = lambda o: {"request_id": o["inquiry_sent"].pk}  # noqa: E731
API_DRAFT = lambda o: {"request_id": o["inquiry_draft"].pk}  # noqa: E731


def THREAD_A(o: dict[str, Any]) -> dict[str, Any]:
    return {"pk": o["inquiry_to_a"].pk, "tid": o["inquiry_thread_a"].pk}


def API_THREAD_A(o: dict[str, Any]) -> dict[str, Any]:
    return {"request_id": o["inquiry_to_a"].pk, "thread_id": o["inquiry_thread_a"].pk}


def matrix_objects(personas: dict[str, Any]) -> dict[str, Any]:
    """Bank A's objects of this domain that the matrix requests as every persona."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from aips.center.inquiries import services
    from aips.center.inquiries.tests.factories import center_inquiry, inquiry_data, thread_of

    maker, head = personas["bank_a_maker"], personas["bank_a_head"]
    center_id = personas["center_admin"].organization_id
    bank_a_id = head.organization_id
    sent = services.inquiry_create(actor=maker, **inquiry_data(addressee_ids=[center_id]))
    attachment = services.attachment_add(
        actor=maker,
        inquiry=sent,
        upload=SimpleUploadedFile("domains.txt", b"phish.example.com", "text/plain"),
    )
    services.inquiry_transition(actor=maker, inquiry=sent, name="request_approval")
    sent = services.inquiry_transition(actor=head, inquiry=sent, name="approve")
    draft = services.inquiry_create(
        actor=maker,
        **inquiry_data(addressee_ids=[center_id], subject="Bank A's own draft request"),
    )
    to_a = center_inquiry(personas, [bank_a_id], subject="The center asks bank A")
    return {
        "inquiry_sent": sent,
        "inquiry_attachment": attachment,
        "inquiry_center_thread": thread_of(sent, center_id),
        "inquiry_draft": draft,
        "inquiry_to_a": to_a,
        "inquiry_thread_a": thread_of(to_a, bank_a_id),
    }


ROWS: list[Row] = [
    # --- web UI --------------------------------------------------------------------------
    Row("inquiries:list", "GET", statuses(200, anon=302)),
    Row("inquiries:list_csv", "GET", statuses(200, anon=302)),
    Row("inquiries:create", "GET", only(200, EDITORS)),
    Row("inquiries:deadlines", "GET", only(200, CENTER)),
    Row("inquiries:detail", "GET", statuses(200, anon=302, **B_404), kwargs=SENT),
    Row("inquiries:update", "GET", only(200, EDITORS_A, **DRAFT_404), kwargs=DRAFT),
    Row(
        "inquiries:transition",
        "POST",
        statuses(404, anon=302, bank_a_head=302, bank_a_maker=302, bank_a_viewer=403),
        kwargs=lambda o: {"pk": o["inquiry_draft"].pk, "name": "request_approval"},
    ),
    Row(
        "inquiries:comment",
        "POST",
        only(302, COMMENTERS_A, **B_404),
        kwargs=SENT,
        data={"body": "seen"},
    ),
    Row(
        "inquiries:attachment_upload",
        "POST",
        only(302, EDITORS_A, **DRAFT_404),
        kwargs=DRAFT,
    ),
    Row(
        "inquiries:attachment_download",
        "GET",
        statuses(200, anon=302, **B_404),
        kwargs=lambda o: {"pk": o["inquiry_sent"].pk, "attachment_pk": o["inquiry_attachment"].pk},
    ),
    Row(
        "inquiries:thread_transition",
        "POST",
        # Only the addressee's head accepts (R67.14); the center did not receive this request.
        statuses(403, anon=302, bank_a_head=302, **B_404),
        kwargs=lambda o: {**THREAD_A(o), "name": "accept"},
    ),
    Row(
        "inquiries:thread_answer",
        "GET",
        # Not accepted yet, or not the addressee: back to the request with a message.
        only(302, COMMENTERS_A, **B_404),
        kwargs=THREAD_A,
    ),
    Row(
        "inquiries:thread_comment",
        "POST",
        only(302, COMMENTERS_A, **B_404),
        kwargs=THREAD_A,
        data={"body": "seen"},
    ),
    Row(
        "inquiries:thread_attachment_upload",
        "POST",
        only(302, COMMENTERS_A, **B_404),
        kwargs=THREAD_A,
    ),
    # --- API -----------------------------------------------------------------------------
    Row("api:requests_list", "GET", statuses(200, anon=401), api=True),
    Row("api:requests_create", "POST", only(422, EDITORS, anon=401), data={}, api=True),
    Row("api:requests_get", "GET", statuses(200, anon=401, **B_404), kwargs=API_SENT, api=True),
    Row(
        "api:requests_update",
        "PATCH",
        only(200, EDITORS_A, anon=401, **DRAFT_404),
        kwargs=API_DRAFT,
        data={},
        api=True,
    ),
    Row(
        "api:requests_transition",
        "POST",
        only(200, EDITORS_A, anon=401, other=404, bank_a_viewer=403),
        kwargs=lambda o: {"request_id": o["inquiry_draft"].pk, "name": "request_approval"},
        data={},
        api=True,
    ),
    Row(
        "api:requests_comments",
        "GET",
        statuses(200, anon=401, **B_404),
        kwargs=API_SENT,
        api=True,
    ),
    Row(
        "api:requests_comment_add",
        "POST",
        only(201, COMMENTERS_A, anon=401, **B_404),
        kwargs=API_SENT,
        data={"body": "seen"},
        api=True,
    ),
    Row(
        "api:requests_attachment_add",
        "POST",
        # The file is checked before the request is looked up, so bank B learns nothing.
        only(422, EDITORS, anon=401),
        kwargs=API_DRAFT,
        data={},
        api=True,
    ),
    Row(
        "api:requests_thread_get",
        "GET",
        statuses(200, anon=401, **B_404),
        kwargs=API_THREAD_A,
        api=True,
    ),
    Row(
        "api:requests_answer_update",
        "PUT",
        # Bank A's head and maker: not accepted yet (409); the center: not its thread (403).
        only(409, EDITORS_A, anon=401, **B_404),
        kwargs=API_THREAD_A,
        data={"answer": "x"},
        api=True,
    ),
    Row(
        "api:requests_thread_transition",
        "POST",
        statuses(403, anon=401, bank_a_head=200, **B_404),
        kwargs=lambda o: {**API_THREAD_A(o), "name": "accept"},
        data={},
        api=True,
    ),
    Row(
        "api:requests_thread_comments",
        "GET",
        statuses(200, anon=401, **B_404),
        kwargs=API_THREAD_A,
        api=True,
    ),
    Row(
        "api:requests_thread_comment_add",
        "POST",
        only(201, COMMENTERS_A, anon=401, **B_404),
        kwargs=API_THREAD_A,
        data={"body": "seen"},
        api=True,
    ),
    Row(
        "api:requests_thread_attachment_add",
        "POST",
        only(422, EDITORS, anon=401),
        kwargs=API_THREAD_A,
        data={},
        api=True,
    ),
]
