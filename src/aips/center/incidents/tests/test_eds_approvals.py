"""EDS-signed approval of an incident card (issue 16, item 4; R67.12 with R57.9/R57.10): the
IS-unit head signs the canonical form of exactly the version approved (its content and its
files' digests) with NCALayer; the signature is verified, stored with the version, shown on the
card and exported as a bundle that `aips eds verify` checks; an organization may require it."""

import base64
import io
import json
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.test import Client

from aips.center.incidents import services
from aips.center.incidents.models import CardState, IncidentCard
from aips.conftest import card_data
from aips.core.errors import AppError, ValidationFailed
from aips.shared.accounts.models import User
from aips.shared.audit.models import AuditEvent, EventType
from aips.shared.eds.testing import NCA_TEST_TIME_RSA, nca_key, sign_cms
from aips.shared.eds.types import EdsRefused, Purpose
from aips.shared.organizations import services as organization_services
from aips.shared.workflow.models import SignedAct
from aips.shared.workflow.tests.eds_helpers import (
    OTHER_IIN,
    Eds,
    bind_iin,
    eds_world,
    judge_at,
)


@pytest.fixture
def eds(personas: dict[str, User], settings: Any, tmp_path: Path) -> Eds:
    return eds_world(settings, tmp_path, personas["bank_a_head"])


def _card_awaiting(personas: dict[str, User]) -> IncidentCard:
    maker = personas["bank_a_maker"]
    card = services.card_create(actor=maker, **card_data())
    services.attachment_add(
        actor=maker,
        card=card,
        upload=SimpleUploadedFile("ids-alert.txt", b"alert tcp any any", "text/plain"),
    )
    return services.card_transition(actor=maker, card=card, name="request_approval")


def _document(head: User, card: IncidentCard, comment: str = "") -> bytes:
    document = services.card_document(actor=head, card=card, name="approve", comment=comment)
    assert document is not None
    return document.to_bytes()


def _require_eds(personas: dict[str, User]) -> None:
    organization_services.organization_update(
        actor=personas["center_admin"],
        organization=personas["bank_a_head"].organization,
        eds_approvals_required=True,
    )


def test_r67_12_eds_signed_approval_is_stored_with_the_version_and_shown(
    personas: dict[str, User], eds: Eds, client_as: Callable[[str | None], Client]
) -> None:
    head = personas["bank_a_head"]
    card = _card_awaiting(personas)
    data = _document(head, card)
    card = services.card_transition(
        actor=head, card=card, name="approve", eds_signature=eds.sign(data)
    )
    assert card.state == CardState.SUBMITTED
    act = SignedAct.objects.get(object_id=card.pk, act="approve")
    assert bytes(act.document) == data
    assert act.version is not None
    assert act.version.number == 1 == card.version
    assert act.signature.signer_iin == eds.iin
    assert act.signed_by_id == head.pk
    # The canonical form: sorted keys, the version's content and each file's stored digest.
    tree = json.loads(data)
    assert list(tree) == sorted(tree)
    assert tree["item"] == {"kind": "incident_card", "id": card.pk, "reference": card.reference}
    assert tree["version"]["number"] == 1
    assert tree["version"]["content"]["title"] == card.title
    [attachment] = card.attachments.all()
    assert tree["files"] == [
        {"name": "ids-alert.txt", "size": attachment.size, "sha256": attachment.sha256}
    ]
    assert tree["decision"] == {"name": "approve", "reason": ""}
    assert tree["signer"]["iin"] == eds.iin
    assert tree["organization"]["bin"] == head.organization.bin
    submitted = AuditEvent.objects.get(event=EventType.INCIDENT_SUBMITTED, target_id=str(card.pk))
    assert submitted.details["eds"]["iin"] == eds.iin
    for persona in ("bank_a_head", "bank_a_viewer", "center_analyst"):
        page = client_as(persona).get(f"/incidents/{card.pk}/")
        text = page.content.decode()
        assert 'id="signatures"' in text, persona
        assert f"IIN {eds.iin}" in text
        assert "certificate valid, not revoked at signing time" in text
        assert f"/incidents/{card.pk}/signatures/{act.pk}/bundle.zip" in text


def test_r67_12_page_offers_the_document_to_ncalayer(
    personas: dict[str, User], eds: Eds, client_as: Callable[[str | None], Client]
) -> None:
    head = personas["bank_a_head"]
    card = _card_awaiting(personas)
    text = client_as("bank_a_head").get(f"/incidents/{card.pk}/").content.decode()
    data = base64.b64encode(_document(head, card)).decode()
    assert f'data-ncalayer-data="{data}"' in text
    assert 'data-ncalayer-purpose="signing"' in text
    assert 'name="eds_signature"' in text
    assert 'data-transition="approve"' in text  # not required: the plain button stays
    # The maker cannot approve, so is offered nothing to sign.
    maker_page = client_as("bank_a_maker").get(f"/incidents/{card.pk}/").content.decode()
    assert "data-ncalayer-data" not in maker_page


def test_r67_12_tampered_content_is_refused_and_nothing_moves(
    personas: dict[str, User], eds: Eds
) -> None:
    head = personas["bank_a_head"]
    card = _card_awaiting(personas)
    tampered = _document(head, card).replace(card.title.encode(), b"Nothing happened")
    with pytest.raises(EdsRefused) as refused:
        services.card_transition(
            actor=head, card=card, name="approve", eds_signature=eds.sign(tampered)
        )
    assert refused.value.code == "eds_content_mismatch"
    # A signature over another reason than the one given is refused the same way.
    with pytest.raises(EdsRefused):
        services.card_transition(
            actor=head,
            card=card,
            name="approve",
            comment="Approved as is",
            eds_signature=eds.sign(_document(head, card)),
        )
    card.refresh_from_db()
    assert card.state == CardState.AWAITING_APPROVAL
    assert card.version == 0
    assert not SignedAct.objects.exists()


def test_r67_12_someone_elses_iin_or_organization_is_refused(
    personas: dict[str, User], eds: Eds
) -> None:
    head = personas["bank_a_head"]
    card = _card_awaiting(personas)
    data = _document(head, card)
    stranger = eds.pki.issue(iin=OTHER_IIN, purpose=Purpose.SIGNING)
    with pytest.raises(EdsRefused) as refused:
        services.card_transition(
            actor=head, card=card, name="approve", eds_signature=eds.sign(data, stranger)
        )
    assert refused.value.code == "eds_iin_mismatch"
    other_bin = personas["bank_b_head"].organization.bin
    foreign = eds.pki.issue(iin=eds.iin, bin=other_bin, organization="Other bank")
    with pytest.raises(EdsRefused) as refused:
        services.card_transition(
            actor=head, card=card, name="approve", eds_signature=eds.sign(data, foreign)
        )
    assert refused.value.code == "eds_bin_mismatch"
    # The head's key of their own organization (with its BIN) is accepted.
    own = eds.pki.issue(iin=eds.iin, bin=head.organization.bin, organization="Alatau Bank")
    services.card_transition(
        actor=head, card=card, name="approve", eds_signature=eds.sign(data, own)
    )
    assert SignedAct.objects.get().signature.signer_bin == head.organization.bin


def test_r67_12_an_authentication_key_cannot_sign_an_approval(
    personas: dict[str, User], eds: Eds
) -> None:
    head = personas["bank_a_head"]
    card = _card_awaiting(personas)
    auth = eds.pki.issue(iin=eds.iin, purpose=Purpose.AUTHENTICATION)
    with pytest.raises(EdsRefused) as refused:
        services.card_transition(
            actor=head,
            card=card,
            name="approve",
            eds_signature=eds.sign(_document(head, card), auth),
        )
    assert refused.value.code == "eds_wrong_key_usage"


def test_r67_12_a_head_without_a_bound_iin_cannot_sign(
    personas: dict[str, User], settings: Any, tmp_path: Path
) -> None:
    # bank B's head has no IIN bound; the key itself would verify.
    eds = eds_world(settings, tmp_path, personas["bank_a_head"])
    maker, head = personas["bank_b_maker"], personas["bank_b_head"]
    card = services.card_create(actor=maker, **card_data())
    card = services.card_transition(actor=maker, card=card, name="request_approval")
    document = services.card_document(actor=head, card=card, name="approve")
    assert document is not None
    with pytest.raises(AppError) as refused:
        services.card_transition(
            actor=head, card=card, name="approve", eds_signature=eds.sign(document.to_bytes())
        )
    assert refused.value.code == "eds_iin_not_bound"
    bind_iin(head, eds.pki, OTHER_IIN)
    with pytest.raises(EdsRefused) as garbage:
        services.card_transition(actor=head, card=card, name="approve", eds_signature="not-a-cms")
    assert garbage.value.code == "eds_malformed"


def test_r67_12_a_step_that_is_not_signed_takes_no_signature(
    personas: dict[str, User], eds: Eds
) -> None:
    maker = personas["bank_a_maker"]
    card = services.card_create(actor=maker, **card_data())
    with pytest.raises(ValidationFailed) as refused:
        services.card_transition(
            actor=maker, card=card, name="request_approval", eds_signature=eds.sign(b"x")
        )
    assert "eds_signature" in refused.value.fields


def test_r67_12_mandatory_setting_refuses_an_unsigned_approval_on_the_page_and_the_api(
    personas: dict[str, User], eds: Eds, client_as: Callable[[str | None], Client]
) -> None:
    head = personas["bank_a_head"]
    _require_eds(personas)
    card = _card_awaiting(personas)
    web = client_as("bank_a_head")
    page = web.get(f"/incidents/{card.pk}/").content.decode()
    assert "data-eds-required" in page
    assert 'data-transition="approve"' not in page  # only the signing button is offered
    answer = web.post(f"/incidents/{card.pk}/do/approve/", follow=True)
    assert "requires this decision to be signed with EDS" in answer.content.decode()
    api = web.post(
        f"/api/v1/incidents/{card.pk}/transitions/approve", {}, content_type="application/json"
    )
    assert api.status_code == 422
    assert api.json()["error"]["code"] == "eds_required"
    card.refresh_from_db()
    assert card.state == CardState.AWAITING_APPROVAL
    # Other steps are not affected: the center still accepts without a signature later.
    document = web.get(f"/api/v1/incidents/{card.pk}/transitions/approve/document")
    assert document.status_code == 200
    assert document.json()["required"] is True
    data = base64.b64decode(document.json()["data"])
    assert data == _document(head, card)
    signed = web.post(
        f"/api/v1/incidents/{card.pk}/transitions/approve",
        {"eds_signature": eds.sign(data)},
        content_type="application/json",
    )
    assert signed.status_code == 200, signed.content
    assert signed.json()["state"] == "submitted"
    accepted = client_as("center_analyst").post(
        f"/api/v1/incidents/{card.pk}/transitions/accept", {}, content_type="application/json"
    )
    assert accepted.status_code == 200


def test_r67_12_web_form_posts_the_signature(
    personas: dict[str, User], eds: Eds, client_as: Callable[[str | None], Client]
) -> None:
    head = personas["bank_a_head"]
    card = _card_awaiting(personas)
    answer = client_as("bank_a_head").post(
        f"/incidents/{card.pk}/do/approve/",
        {"eds_signature": eds.sign(_document(head, card))},
    )
    assert answer.status_code == 302
    assert SignedAct.objects.filter(object_id=card.pk).count() == 1
    bad = _card_awaiting(personas)
    refused = client_as("bank_a_head").post(
        f"/incidents/{bad.pk}/do/approve/", {"eds_signature": eds.sign(b"other")}, follow=True
    )
    assert "The signature was made over different data." in refused.content.decode()
    bad.refresh_from_db()
    assert bad.state == CardState.AWAITING_APPROVAL


def test_r67_12_bundle_exports_and_verifies_and_other_tenants_get_404(
    personas: dict[str, User],
    eds: Eds,
    client_as: Callable[[str | None], Client],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    head = personas["bank_a_head"]
    card = _card_awaiting(personas)
    data = _document(head, card)
    services.card_transition(actor=head, card=card, name="approve", eds_signature=eds.sign(data))
    act = SignedAct.objects.get()
    url = f"/incidents/{card.pk}/signatures/{act.pk}/bundle.zip"
    download = client_as("center_analyst").get(url)
    assert download.status_code == 200
    assert download["Content-Type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(download.content)) as bundle:
        assert bundle.read("content.bin") == data
    assert AuditEvent.objects.filter(event=EventType.EDS_BUNDLE_EXPORTED).count() == 1
    for stranger in ("bank_b_head", "bank_b_maker"):
        assert client_as(stranger).get(url).status_code == 404
        api = client_as(stranger).get(f"/api/v1/incidents/{card.pk}/signatures/{act.pk}/bundle")
        assert api.status_code == 404
    api = client_as("bank_a_viewer").get(f"/api/v1/incidents/{card.pk}/signatures")
    assert api.status_code == 200
    [listed] = api.json()
    assert listed["iin"] == eds.iin
    assert listed["act"] == "approve"
    assert listed["version"] == 1
    assert base64.b64decode(listed["document"]) == data
    # The auditor's way: export by the signature's id, then verify the bundle offline.
    path = tmp_path / "bundle.zip"
    call_command("eds", "export", str(act.signature_id), "-o", str(path))
    assert zipfile.ZipFile(path).read("content.bin") == data
    capsys.readouterr()
    call_command("eds", "verify", str(path))  # a refusal would raise CommandError (exit 1)
    report = capsys.readouterr().out
    assert "Result: VALID" in report
    assert f"IIN: {eds.iin}" in report
    assert AuditEvent.objects.filter(event=EventType.EDS_BUNDLE_EXPORTED).count() == 2
    with pytest.raises(CommandError) as unknown:
        call_command("eds", "export", "999999", "-o", str(tmp_path / "none.zip"))
    assert unknown.value.returncode == 1


def test_r67_12_real_nca_key_at_its_pinned_moment(
    personas: dict[str, User], monkeypatch: pytest.MonkeyPatch
) -> None:
    head = personas["bank_a_head"]
    key = nca_key("individual_valid_sign_2004")
    judge_at(monkeypatch, NCA_TEST_TIME_RSA)
    from aips.shared.accounts import services as account_services
    from aips.shared.eds.testing import nca_test_trust
    from aips.shared.eds.verify import verify_cms

    proof = verify_cms(
        sign_cms(b"bind", key=key, detached=True, signing_time=NCA_TEST_TIME_RSA),
        purpose=Purpose.SIGNING,
        data=b"bind",
        at=NCA_TEST_TIME_RSA,
        trust=nca_test_trust(),
    )
    account_services.iin_bind(actor=head, user=head, eds=proof)
    card = _card_awaiting(personas)
    data = _document(head, card)
    cms = sign_cms(data, key=key, detached=True, signing_time=NCA_TEST_TIME_RSA)
    services.card_transition(
        actor=head, card=card, name="approve", eds_signature=base64.b64encode(cms).decode()
    )
    act = SignedAct.objects.get()
    assert act.signature.signer_iin == proof.signer.iin
    assert act.signature.algorithm.startswith("rsa")
