"""EDS-signed acts on requests (issue 16, item 4; R67.11, R67.14): the requester's head approving
the request, an addressee's head accepting or declining it and approving the answer, each signed
over the canonical form of the version concerned (with its files' digests and the reason),
stored with it, shown to whoever sees the act, exported, and mandatory when required."""

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from aips.center.inquiries import services
from aips.center.inquiries.models import Inquiry, InquiryState, InquiryThread, ThreadState
from aips.center.inquiries.tests.factories import inquiry_data, thread_of
from aips.core.errors import AppError
from aips.shared.accounts.models import User
from aips.shared.eds.types import EdsRefused
from aips.shared.organizations import services as organization_services
from aips.shared.workflow.models import SignedAct
from aips.shared.workflow.tests.eds_helpers import Eds, bind_iin, eds_world

B_HEAD_IIN = "790303500333"


@pytest.fixture
def eds(personas: dict[str, User], settings: Any, tmp_path: Path) -> Eds:
    world = eds_world(settings, tmp_path, personas["bank_a_head"])
    bind_iin(personas["bank_b_head"], world.pki, B_HEAD_IIN)
    return world


def _awaiting(personas: dict[str, User]) -> Inquiry:
    """Bank A's request to bank B with a file, waiting for bank A's head."""
    maker = personas["bank_a_maker"]
    inquiry = services.inquiry_create(
        actor=maker,
        **inquiry_data(addressee_ids=[personas["bank_b_head"].organization_id]),
    )
    services.attachment_add(
        actor=maker,
        inquiry=inquiry,
        upload=SimpleUploadedFile("domains.txt", b"phish.example.com", "text/plain"),
    )
    return services.inquiry_transition(actor=maker, inquiry=inquiry, name="request_approval")


def _signed_approval(personas: dict[str, User], eds: Eds) -> Inquiry:
    head = personas["bank_a_head"]
    inquiry = _awaiting(personas)
    document = services.inquiry_document(actor=head, inquiry=inquiry, name="approve")
    assert document is not None
    return services.inquiry_transition(
        actor=head, inquiry=inquiry, name="approve", eds_signature=eds.sign(document.to_bytes())
    )


def _thread_signature(
    head: User, thread: InquiryThread, name: str, eds: Eds, key: Any, comment: str = ""
) -> str:
    document = services.thread_document(actor=head, thread=thread, name=name, comment=comment)
    assert document is not None
    return eds.sign(document.to_bytes(), key)


def test_r67_11_head_signs_the_request_with_its_files(
    personas: dict[str, User], eds: Eds, client_as: Callable[[str | None], Client]
) -> None:
    inquiry = _signed_approval(personas, eds)
    assert inquiry.state == InquiryState.SENT
    act = SignedAct.objects.get(act="approve")
    tree = json.loads(bytes(act.document))
    assert tree["item"]["kind"] == "request"
    assert tree["version"]["number"] == 1
    assert [f["name"] for f in tree["files"]] == ["domains.txt"]
    assert act.version is not None
    assert act.version.number == 1
    # The requester and the center see who approved it; the addressee does not.
    assert (
        f"IIN {eds.iin}"
        in client_as("bank_a_viewer").get(f"/requests/{inquiry.pk}/").content.decode()
    )
    assert (
        f"IIN {eds.iin}"
        in client_as("center_analyst").get(f"/requests/{inquiry.pk}/").content.decode()
    )
    assert (
        f"IIN {eds.iin}"
        not in client_as("bank_b_head").get(f"/requests/{inquiry.pk}/").content.decode()
    )
    bundle = f"/requests/{inquiry.pk}/signatures/{act.pk}/bundle.zip"
    assert client_as("bank_b_head").get(bundle).status_code == 404
    assert client_as("bank_a_head").get(bundle).status_code == 200


def test_r67_14_addressee_head_signs_accepting_and_the_answer(
    personas: dict[str, User], eds: Eds, client_as: Callable[[str | None], Client]
) -> None:
    inquiry = _signed_approval(personas, eds)
    b_head, b_maker = personas["bank_b_head"], personas["bank_b_maker"]
    thread = thread_of(inquiry, b_head.organization_id)
    b_key = eds.pki.issue(iin=B_HEAD_IIN)
    page = client_as("bank_b_head").get(f"/requests/{inquiry.pk}/").content.decode()
    assert f'data-eds-sign="{thread.pk}-accept"' in page
    signature = _thread_signature(b_head, thread, "accept", eds, b_key, "We will check.")
    thread = services.thread_transition(
        actor=b_head,
        thread=thread,
        name="accept",
        comment="We will check.",
        eds_signature=signature,
    )
    assert thread.state == ThreadState.ACCEPTED
    accepted = SignedAct.objects.get(act="accept")
    assert json.loads(bytes(accepted.document))["decision"]["reason"] == "We will check."
    assert accepted.version is not None
    assert accepted.version.number == inquiry.version
    services.answer_update(actor=b_maker, thread=thread, answer="Seen twice, senders attached.")
    services.answer_attachment_add(
        actor=b_maker,
        thread=thread,
        upload=SimpleUploadedFile("senders.csv", b"a@example.com", "text/csv"),
    )
    thread = services.thread_transition(actor=b_maker, thread=thread, name="request_approval")
    signature = _thread_signature(b_head, thread, "approve", eds, b_key)
    thread = services.thread_transition(
        actor=b_head, thread=thread, name="approve", eds_signature=signature
    )
    assert thread.state == ThreadState.ANSWERED
    answer = SignedAct.objects.get(act="approve_answer")
    tree = json.loads(bytes(answer.document))
    assert tree["version"]["content"] == {"answer": "Seen twice, senders attached."}
    assert [f["name"] for f in tree["files"]] == ["senders.csv"]
    # Thread acts are shown to the requester too (the answer is sent), and to the center.
    api = client_as("bank_a_head").get(f"/api/v1/requests/{inquiry.pk}/signatures").json()
    assert {s["act"] for s in api} == {"approve", "accept", "approve_answer"}
    assert {
        s["act"]
        for s in client_as("bank_b_head").get(f"/api/v1/requests/{inquiry.pk}/signatures").json()
    } == {"accept", "approve_answer"}


def test_r67_14_declining_signs_its_reason_and_others_keys_are_refused(
    personas: dict[str, User], eds: Eds
) -> None:
    inquiry = _signed_approval(personas, eds)
    b_head = personas["bank_b_head"]
    thread = thread_of(inquiry, b_head.organization_id)
    # Bank A's head's key is not bank B's head's.
    wrong = _thread_signature(b_head, thread, "decline", eds, eds.key, "Not ours.")
    with pytest.raises(EdsRefused) as refused:
        services.thread_transition(
            actor=b_head, thread=thread, name="decline", comment="Not ours.", eds_signature=wrong
        )
    assert refused.value.code == "eds_iin_mismatch"
    b_key = eds.pki.issue(iin=B_HEAD_IIN)
    signature = _thread_signature(b_head, thread, "decline", eds, b_key, "Not ours.")
    services.thread_transition(
        actor=b_head, thread=thread, name="decline", comment="Not ours.", eds_signature=signature
    )
    assert SignedAct.objects.get(act="decline").object_id == thread.pk
    # The requester cannot ask for the addressee's document (nor its draft answer).
    assert (
        services.thread_document(actor=personas["bank_a_head"], thread=thread, name="decline")
        is None
    )


def test_r67_11_r67_14_mandatory_setting_refuses_unsigned_acts(
    personas: dict[str, User], eds: Eds, client_as: Callable[[str | None], Client]
) -> None:
    head = personas["bank_a_head"]
    organization_services.organization_update(
        actor=personas["center_admin"], organization=head.organization, eds_approvals_required=True
    )
    inquiry = _awaiting(personas)
    with pytest.raises(AppError) as refused:
        services.inquiry_transition(actor=head, inquiry=inquiry, name="approve")
    assert refused.value.code == "eds_required"
    api = client_as("bank_a_head").post(
        f"/api/v1/requests/{inquiry.pk}/transitions/approve", {}, content_type="application/json"
    )
    assert api.status_code == 422
    assert api.json()["error"]["code"] == "eds_required"
    inquiry = _signed_approval(personas, eds)
    # Bank B has no such rule: its head accepts without a signature.
    thread = thread_of(inquiry, personas["bank_b_head"].organization_id)
    services.thread_transition(actor=personas["bank_b_head"], thread=thread, name="accept")
