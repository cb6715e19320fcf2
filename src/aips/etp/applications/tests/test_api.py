"""The applications' steps over the API, as on the pages: announce, the canonical form, apply with
the EDS signature, confirm the deposit, admit, refuse, return, import a statement. Each: success,
the wrong role 403, an object the caller may not see 404, bad input 4xx naming the field."""

import base64
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from aips.etp.applications.models import Application, DepositState, Procedure
from aips.etp.applications.tests.conftest import NOW
from aips.etp.applications.tests.test_applications import announce, apply, bind, claim_lot
from aips.etp.lots.models import Lot, LotState
from aips.shared.accounts.models import User
from aips.shared.eds.testing import TestPki, sign_cms

pytestmark = pytest.mark.django_db

JSON = "application/json"


def error(response: Any) -> dict[str, Any]:
    body: dict[str, Any] = response.json()["error"]
    assert set(body) == {"code", "message", "fields", "request_id"}
    return body


def post(client: Client, url: str, body: dict[str, Any] | None = None) -> Any:
    return client.post(url, body or {}, content_type=JSON)


@pytest.fixture
def submitted(personas: dict[str, User], at: Any, pki: TestPki) -> Application:
    person = personas["participant_person_1"]
    return apply(person, announce(personas), bind(person, pki, person.organization.bin))


def test_announce_over_the_api(
    personas: dict[str, User], client_as: Callable[[str | None], Client], at: Any
) -> None:
    lot = claim_lot()
    url = f"/api/v1/lots/{lot.pk}/procedure"
    body = {
        "application_deadline": (NOW + timedelta(days=10)).isoformat(),
        "auction_start": (NOW + timedelta(days=12)).isoformat(),
    }
    # The wrong role: 403 before the body is read.
    assert post(client_as("operator_admission"), url, body).status_code == 403
    assert post(client_as("participant_person_1"), url, body).status_code == 403
    auctioneer = client_as("operator_auctioneer")
    # Bad input: a time without its offset, an auction before the deadline; fields named.
    naive = post(auctioneer, url, {**body, "auction_start": "2026-12-12T11:00:00"})
    assert naive.status_code == 422
    assert "auction_start" in error(naive)["fields"]
    early = post(auctioneer, url, {**body, "auction_start": (NOW + timedelta(days=1)).isoformat()})
    assert early.status_code == 422
    assert list(error(early)["fields"]) == ["auction_start"]
    # A seller's draft is not the operator's to see: 404.
    draft = Lot.objects.filter(state=LotState.DRAFT).first()
    assert draft is not None
    assert post(auctioneer, f"/api/v1/lots/{draft.pk}/procedure", body).status_code == 404
    response = post(auctioneer, url, body)
    assert response.status_code == 201, response.content
    out = response.json()
    procedure = Procedure.objects.get(lot=lot)
    assert out["id"] == procedure.pk
    assert out["deposit_amount"] == str(procedure.deposit_amount)
    again = post(auctioneer, url, body)
    assert again.status_code == 409
    assert error(again)["code"] == "conflict"


def test_apply_over_the_api(
    personas: dict[str, User],
    client_as: Callable[[str | None], Client],
    at: Any,
    pki: TestPki,
) -> None:
    person = personas["participant_person_1"]
    key = bind(person, pki, person.organization.bin)
    procedure = announce(personas)
    client = client_as("participant_person_1")
    doc_url = f"/api/v1/lots/{procedure.lot_id}/application-document"
    url = f"/api/v1/lots/{procedure.lot_id}/applications"
    assert client_as("operator_admission").get(doc_url).status_code == 403
    assert client_as("seller_a_maker").get(doc_url).status_code == 403
    draft = Lot.objects.filter(state=LotState.DRAFT).first()
    assert draft is not None
    assert client.get(f"/api/v1/lots/{draft.pk}/application-document").status_code == 404
    offered = client.get(doc_url).json()
    assert offered["procedure_id"] == procedure.pk
    assert offered["iin_bound"] is True
    document = base64.b64decode(offered["document"])
    assert f'"procedure_id":{procedure.pk}'.encode() in document
    signature = base64.b64encode(sign_cms(document, key=key, detached=True)).decode()
    body = {"moment": offered["moment"], "eds_signature": signature}
    assert post(client_as("operator_admission"), url, body).status_code == 403
    assert post(client, f"/api/v1/lots/{draft.pk}/applications", body).status_code == 404
    missing = post(client, url, {"eds_signature": signature})
    assert missing.status_code == 422
    assert "moment" in error(missing)["fields"]
    garbage = post(client, url, {**body, "eds_signature": "not base64!"})
    assert garbage.status_code == 422
    assert error(garbage)["code"].startswith("eds_")
    assert "eds_signature" in error(garbage)["fields"]
    # A signature over another document (another moment) is not this application's.
    other = post(client, url, {**body, "moment": (NOW - timedelta(minutes=1)).isoformat()})
    assert other.status_code == 422
    assert "eds_signature" in error(other)["fields"]
    response = post(client, url, body)
    assert response.status_code == 201, response.content
    out = response.json()
    assert out["state"] == "submitted"
    assert out["deposit_state"] == "expected"
    assert Application.objects.filter(pk=out["id"], organization=person.organization).exists()
    duplicate = post(client, url, body)
    assert duplicate.status_code == 409
    at["now"] = procedure.application_deadline + timedelta(seconds=1)
    late = post(client_as("participant_person_2"), url, body)
    assert late.status_code == 409
    assert error(late)["code"] == "deadline_passed"


def test_a_guarantor_is_refused_over_the_api(
    personas: dict[str, User],
    client_as: Callable[[str | None], Client],
    at: Any,
    pki: TestPki,
) -> None:
    from aips.etp.applications.tests.test_applications import GUARANTOR

    person = personas["participant_person_2"]
    person.organization.bin = GUARANTOR
    person.organization.save(update_fields=["bin"])
    key = bind(person, pki, person.iin or GUARANTOR)
    procedure = announce(personas)
    client = client_as("participant_person_2")
    offered = client.get(f"/api/v1/lots/{procedure.lot_id}/application-document").json()
    document = base64.b64decode(offered["document"])
    signature = base64.b64encode(sign_cms(document, key=key, detached=True)).decode()
    response = post(
        client,
        f"/api/v1/lots/{procedure.lot_id}/applications",
        {"moment": offered["moment"], "eds_signature": signature},
    )
    assert response.status_code == 409
    assert error(response)["code"] == "party_of_lot"


def test_admission_steps_over_the_api(
    client_as: Callable[[str | None], Client], submitted: Application
) -> None:
    base = f"/api/v1/applications/{submitted.pk}"
    officer = client_as("operator_admission")
    for name in ("operator_auditor", "participant_person_1", "operator_admin"):
        assert post(client_as(name), f"{base}/deposit/confirm").status_code == 403
        assert post(client_as(name), f"{base}/admit").status_code == 403
        assert post(client_as(name), f"{base}/deposit/return").status_code == 403
    # No such application (the operator sees every participant's: a missing one is 404).
    assert post(officer, "/api/v1/applications/999999/deposit/confirm").status_code == 404
    assert post(officer, "/api/v1/applications/999999/admit").status_code == 404
    assert post(officer, "/api/v1/applications/999999/deposit/return").status_code == 404
    not_received = post(officer, f"{base}/admit")
    assert not_received.status_code == 409
    assert error(not_received)["code"] == "deposit_not_received"
    assert post(officer, f"{base}/deposit/return").status_code == 409
    confirmed = post(officer, f"{base}/deposit/confirm")
    assert confirmed.status_code == 200
    assert confirmed.json()["deposit_state"] == "confirmed"
    assert post(officer, f"{base}/deposit/confirm").status_code == 409
    admitted = post(officer, f"{base}/admit")
    assert admitted.status_code == 200
    assert admitted.json()["state"] == "admitted"
    assert admitted.json()["deposit_state"] == "held"
    returned = post(officer, f"{base}/deposit/return")
    assert returned.status_code == 200
    assert returned.json()["deposit_state"] == "returned"
    assert post(officer, f"{base}/deposit/return").status_code == 409


def test_refusal_over_the_api(
    client_as: Callable[[str | None], Client], submitted: Application
) -> None:
    url = f"/api/v1/applications/{submitted.pk}/refuse"
    officer = client_as("operator_admission")
    assert post(client_as("operator_auditor"), url, {"reason": "x"}).status_code == 403
    assert post(client_as("participant_person_1"), url, {"reason": "x"}).status_code == 403
    assert post(officer, "/api/v1/applications/999999/refuse", {"reason": "x"}).status_code == 404
    blank = post(officer, url, {"reason": "  "})
    assert blank.status_code == 422
    assert list(error(blank)["fields"]) == ["reason"]
    absent = post(officer, url, {})
    assert absent.status_code == 422
    assert "reason" in error(absent)["fields"]
    refused = post(officer, url, {"reason": "Incomplete documents"})
    assert refused.status_code == 200
    assert refused.json()["state"] == "refused"
    assert refused.json()["refusal_reason"] == "Incomplete documents"
    assert post(officer, url, {"reason": "again"}).status_code == 409


def upload(client: Client, content: bytes, name: str = "statement.csv") -> Any:
    return client.post("/api/v1/deposits/statement", {"file": SimpleUploadedFile(name, content)})


def test_statement_over_the_api(
    client_as: Callable[[str | None], Client], submitted: Application
) -> None:
    payer = submitted.organization.bin
    good = (
        "date,amount,payer,purpose\n"
        f"2026-12-01,{submitted.deposit.amount},{payer},Deposit {submitted.reference}\n"
        f"2026-12-01,5.00,{payer},something else\n"
    ).encode()
    assert upload(client_as("operator_auditor"), good).status_code == 403
    assert upload(client_as("participant_person_1"), good).status_code == 403
    officer = client_as("operator_admission")
    bad = upload(officer, b"date,amount,payer,purpose\n2026-13-01,-5,1,x\n")
    assert bad.status_code == 422
    messages = error(bad)["fields"]["file"]
    assert any("Row 2, column date" in m for m in messages)
    assert any("Row 2, column amount" in m for m in messages)
    nothing = officer.post("/api/v1/deposits/statement", {}, content_type=JSON)
    assert nothing.status_code == 422
    response = upload(officer, good)
    assert response.status_code == 200, response.content
    assert response.json() == {
        "format": "csv",
        "confirmed": [submitted.reference],
        "already_received": [],
        "unmatched": [3],
        "ignored": 0,
    }
    submitted.deposit.refresh_from_db()
    assert submitted.deposit.state == DepositState.CONFIRMED
    again = upload(officer, good).json()
    assert again["confirmed"] == []
    assert again["already_received"] == [submitted.reference]
