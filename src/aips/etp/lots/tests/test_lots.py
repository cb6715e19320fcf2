"""Lots: isolation between sellers (R57.5), the maker → signatory → operator → published flow,
returns with reasons, the correction window, the trading rules, the loan tape, withdrawal, and
that no debtor's data reaches a public page or the public API."""

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from aips.core.errors import AppError, Forbidden, ValidationFailed
from aips.demo_etp import DEMO_DEBTORS, DEMO_GUARANTORS
from aips.etp.lots import selectors, services
from aips.etp.lots.models import Lot, LotState
from aips.shared.accounts.models import User
from aips.shared.audit.models import AuditEvent

Personas = dict[str, User]
ClientAs = Callable[[str | None], Client]

CLAIM: dict[str, Any] = {
    "kind": "claim",
    "title": "Consumer loan",
    "region": "Almaty",
    "start_price": "500000",
    "debtor_type": "individual",
    "retail": True,
    "principal": "800000",
    "days_overdue": 120,
    "agreement_number": "A-1",
    "borrower_identifier": "750312400107",
    "borrower_name": "Seitkali Aidos Nurlanovich",
    "guarantor_identifiers": ["600101400704"],
}


def _published(personas: Personas, **data: Any) -> Lot:
    lot = services.lot_create(actor=personas["seller_a_maker"], **{**CLAIM, **data})
    services.lot_submit(actor=personas["seller_a_maker"], lot=lot)
    services.lot_approve(actor=personas["seller_a_signatory"], lot=lot)
    return services.lot_verify(actor=personas["operator_verifier"], lot=lot)


@pytest.mark.django_db
def test_r57_5_seller_b_cannot_see_or_change_seller_a_lots(
    personas: Personas, client_as: ClientAs
) -> None:
    lot = services.lot_create(actor=personas["seller_a_maker"], **CLAIM)
    other = client_as("seller_b_maker")
    assert other.get(f"/manage/lots/{lot.pk}/").status_code == 404
    assert other.get(f"/manage/lots/{lot.pk}/edit/").status_code == 404
    assert other.get(f"/api/v1/lots/{lot.pk}").status_code == 404
    assert (
        other.patch(
            f"/api/v1/lots/{lot.pk}", {"title": "mine"}, content_type="application/json"
        ).status_code
        == 404
    )
    assert lot.pk not in {row["id"] for row in other.get("/api/v1/lots").json()}
    assert other.get(f"/lots/{lot.pk}/").status_code == 404  # not published
    with pytest.raises(Forbidden):
        services.lot_update(actor=personas["seller_b_maker"], lot=lot, title="mine")
    # The operator does not see a draft either: only what the seller's signatory approved.
    assert client_as("operator_verifier").get(f"/manage/lots/{lot.pk}/").status_code == 404
    assert client_as("seller_a_signatory").get(f"/manage/lots/{lot.pk}/").status_code == 200


@pytest.mark.django_db
def test_r57_5_maker_signatory_operator_publish_with_returns(
    personas: Personas, client_as: ClientAs
) -> None:
    maker = client_as("seller_a_maker")
    response = maker.post("/api/v1/lots", CLAIM, content_type="application/json")
    assert response.status_code == 201, response.content
    lot_id = response.json()["id"]
    url = f"/api/v1/lots/{lot_id}/transitions"
    # The maker cannot approve; the signatory cannot be skipped.
    assert (
        maker.post(f"{url}/request_approval", {}, content_type="application/json").status_code
        == 200
    )
    assert maker.post(f"{url}/approve", {}, content_type="application/json").status_code == 403
    signatory = client_as("seller_a_signatory")
    assert signatory.post(f"{url}/approve", {}, content_type="application/json").status_code == 200
    verifier = client_as("operator_verifier")
    # A return needs a reason; the reason is shown to the seller.
    assert verifier.post(f"{url}/return", {}, content_type="application/json").status_code == 422
    reason = "Attach the loan agreement."
    assert (
        verifier.post(f"{url}/return", {"comment": reason}, content_type="application/json").json()[
            "state"
        ]
        == "returned"
    )
    assert reason in maker.get(f"/manage/lots/{lot_id}/").content.decode()
    maker.post(f"{url}/request_approval", {}, content_type="application/json")
    signatory.post(f"{url}/approve", {}, content_type="application/json")
    body = verifier.post(f"{url}/verify", {}, content_type="application/json").json()
    assert body["state"] == "published"
    assert body["published_at"]
    assert body["correction_until"]
    assert client_as(None).get(f"/lots/{lot_id}/").status_code == 200
    events = set(AuditEvent.objects.filter(target_id=str(lot_id)).values_list("event", flat=True))
    assert {"lot:created", "lot:approval_requested", "lot:approved", "lot:returned"} <= events
    assert "lot:published" in events


@pytest.mark.django_db
def test_retail_claim_overdue_90_days_or_less_is_refused(personas: Personas) -> None:
    with pytest.raises(ValidationFailed) as refused:
        services.lot_create(actor=personas["seller_a_maker"], **{**CLAIM, "days_overdue": 90})
    assert "days_overdue" in refused.value.fields
    # A legal entity's loan is not retail: no such rule.
    lot = services.lot_create(
        actor=personas["seller_a_maker"],
        **{**CLAIM, "debtor_type": "legal", "retail": False, "days_overdue": 10},
    )
    assert lot.state == LotState.DRAFT


@pytest.mark.django_db
def test_retail_claim_refused_during_the_moratorium(personas: Personas, settings: Any) -> None:
    today = timezone.localdate()
    settings.AIPS_ETP_MORATORIUM = f"{today - timedelta(days=1)}..{today + timedelta(days=1)}"
    with pytest.raises(ValidationFailed) as refused:
        services.lot_create(actor=personas["seller_a_maker"], **CLAIM)
    assert "retail" in refused.value.fields
    settings.AIPS_ETP_MORATORIUM = "none"
    services.lot_create(actor=personas["seller_a_maker"], **CLAIM)


@pytest.mark.django_db
def test_correction_window_versions_then_freezes(personas: Personas, client_as: ClientAs) -> None:
    lot = _published(personas)
    maker = personas["seller_a_maker"]
    first = lot.version
    lot = services.lot_update(actor=maker, lot=lot, start_price="450000")
    assert lot.version == first + 1
    versions = selectors.public_versions(lot)
    assert [v["snapshot"]["start_price"] for v in versions] == ["500000.00", "450000.00"]
    page = client_as(None).get(f"/lots/{lot.pk}/").content.decode()
    assert "450000.00" in page
    assert "500000.00" in page
    # After the window: significant fields frozen, the description may still change.
    Lot.objects.filter(pk=lot.pk).update(correction_until=timezone.now() - timedelta(minutes=1))
    with pytest.raises(ValidationFailed) as frozen:
        services.lot_update(actor=maker, lot=lot, start_price="100000")
    assert "start_price" in frozen.value.fields
    response = client_as("seller_a_maker").patch(
        f"/api/v1/lots/{lot.pk}", {"principal": "1"}, content_type="application/json"
    )
    assert response.status_code == 422
    assert "principal" in response.json()["error"]["fields"]
    lot = services.lot_update(actor=maker, lot=lot, description="Photos added.")
    assert Lot.objects.get(pk=lot.pk).start_price == 450000


TAPE_HEADER = (
    "loan_id,borrower_iin,borrower_name,guarantor_iins,region,principal,interest,penalties,"
    "days_overdue\n"
)


@pytest.mark.django_db
def test_loan_tape_bad_rows_named_good_tape_gives_aggregates(
    personas: Personas, client_as: ClientAs
) -> None:
    lot = services.lot_create(
        actor=personas["seller_a_maker"],
        kind="portfolio",
        title="Portfolio",
        region="Almaty",
        start_price="1000000",
        retail=True,
    )
    maker = client_as("seller_a_maker")
    bad = (
        TAPE_HEADER
        + "L-1,750312400107,A,,Almaty,100000,0,0,200\n"
        + "L-2,123,B,,Almaty,abc,0,0,200\n"
        + "L-3,801122500204,C,,,5000,0,0,30\n"
    )
    response = maker.post(
        f"/api/v1/lots/{lot.pk}/tape",
        {"file": SimpleUploadedFile("tape.csv", bad.encode(), "text/csv")},
    )
    assert response.status_code == 422
    errors = " ".join(response.json()["error"]["fields"]["file"])
    assert "Row 3" in errors
    assert "borrower_iin" in errors
    assert "principal" in errors
    assert "Row 4" in errors
    assert "region" in errors
    assert "days_overdue" in errors
    page = maker.post(
        f"/manage/lots/{lot.pk}/tape/",
        {"file": SimpleUploadedFile("tape.csv", bad.encode(), "text/csv")},
    )
    assert page.status_code == 422
    assert "Row 3" in page.content.decode()
    good = (
        TAPE_HEADER
        + "L-1,750312400107,A,600101400704,Almaty,100000,10000,0,200\n"
        + "L-2,801122500204,B,,Astana,300000,0,0,400\n"
    )
    response = maker.post(
        f"/api/v1/lots/{lot.pk}/tape",
        {"file": SimpleUploadedFile("tape.csv", good.encode(), "text/csv")},
    )
    assert response.status_code == 200, response.content
    aggregates = response.json()["aggregates"]
    assert aggregates["count"] == 2
    assert aggregates["total_debt"] == "410000"
    assert aggregates["average_days_overdue"] == 300
    assert set(aggregates["by_region"]) == {"Almaty", "Astana"}
    assert selectors.parties_of(Lot.objects.get(pk=lot.pk)) == {
        "750312400107",
        "600101400704",
        "801122500204",
    }


@pytest.mark.django_db
def test_parties_of_a_claim_are_its_borrower_and_guarantors(personas: Personas) -> None:
    lot = services.lot_create(actor=personas["seller_a_maker"], **CLAIM)
    assert selectors.parties_of(lot) == {"750312400107", "600101400704"}


@pytest.mark.django_db
def test_withdrawal_reason_is_public(personas: Personas, client_as: ClientAs) -> None:
    lot = _published(personas)
    with pytest.raises(ValidationFailed):
        services.lot_withdraw(actor=personas["seller_a_signatory"], lot=lot, reason="")
    with pytest.raises(Forbidden):
        services.lot_withdraw(actor=personas["seller_b_signatory"], lot=lot, reason="x")
    services.lot_withdraw(actor=personas["seller_a_signatory"], lot=lot, reason="Repaid in full.")
    assert "Repaid in full." in client_as(None).get(f"/lots/{lot.pk}/").content.decode()
    body = client_as(None).get(f"/api/v1/public/lots/{lot.pk}").json()
    assert body["state"] == "withdrawn"
    assert body["withdrawal_reason"] == "Repaid in full."
    with pytest.raises(AppError):
        services.lot_update(actor=personas["seller_a_maker"], lot=lot, title="again")


@pytest.mark.django_db
def test_public_pages_and_api_hold_no_debtor_data(personas: Personas, client_as: ClientAs) -> None:
    """Every public page and public API answer of the demo lots, scanned for the debtors' and
    guarantors' IINs and names: never on the public side."""
    anon = client_as(None)
    names = [*DEMO_DEBTORS.values(), *(n for n in DEMO_GUARANTORS.values() if n)]
    secrets = [*DEMO_DEBTORS, *DEMO_GUARANTORS, *names, "CL-2021/0457", "KK-2022/118"]
    public = list(selectors.public_lots())
    assert {lot.kind for lot in public} >= {"claim", "portfolio"}
    answers = [anon.get("/"), anon.get("/api/v1/public/lots"), anon.get("/api/v1/public/feed")]
    # The catalogue's filters and text search answer from the same public projection.
    answers += [anon.get("/?q=loan&kind=claim"), anon.get("/api/v1/public/lots?q=loan")]
    for lot in public:
        answers += [anon.get(f"/lots/{lot.pk}/"), anon.get(f"/api/v1/public/lots/{lot.pk}")]
    for answer in answers:
        assert answer.status_code == 200
        text = answer.content.decode()
        for secret in secrets:
            assert secret not in text, (answer.request["PATH_INFO"], secret)
    # The seller itself does see its debtor (the data is there, just never public).
    claim = next(lot for lot in public if lot.kind == "claim")
    assert (
        "750312400107"
        in client_as("seller_a_maker").get(f"/manage/lots/{claim.pk}/").content.decode()
    )


@pytest.mark.django_db
def test_seller_pages_create_and_queue(personas: Personas, client_as: ClientAs) -> None:
    maker = client_as("seller_a_maker")
    assert maker.get("/manage/lots/new/").status_code == 200
    response = maker.post(
        "/manage/lots/new/",
        {**{k: v for k, v in CLAIM.items() if k != "guarantor_identifiers"}, "retail": "on",
         "currency": "KZT", "court_status": "none", "days_overdue": "30"},
    )  # fmt: skip
    assert response.status_code == 422
    assert "more than 90 days" in response.content.decode()
    response = maker.post(
        "/manage/lots/new/",
        {"kind": "vehicle", "title": "Car", "region": "Almaty", "start_price": "100",
         "currency": "KZT", "make": "Lada", "vehicle_year": "2015"},
    )  # fmt: skip
    assert response.status_code == 302
    queue = client_as("operator_verifier").get("/manage/lots/queue/").content.decode()
    assert "Two-room flat" in queue
    assert client_as("participant_person_1").get("/manage/lots/").status_code == 403


@pytest.mark.django_db
def test_photos_public_documents_private_and_downloads_logged(
    personas: Personas, client_as: ClientAs
) -> None:
    maker = client_as("seller_a_maker")
    lot = services.lot_create(
        actor=personas["seller_a_maker"],
        kind="equipment",
        title="Lathe",
        region="Almaty",
        start_price="1000",
    )
    for purpose, name in (("photo", "lathe.png"), ("document", "passport.pdf")):
        response = maker.post(
            f"/manage/lots/{lot.pk}/files/",
            {"purpose": purpose, "file": SimpleUploadedFile(name, b"bytes of " + name.encode())},
        )
        assert response.status_code == 302
    photo, document = selectors.lot_files(actor=personas["seller_a_maker"], lot=lot)
    assert len(photo.sha256) == 64
    services.lot_submit(actor=personas["seller_a_maker"], lot=lot)
    services.lot_approve(actor=personas["seller_a_signatory"], lot=lot)
    services.lot_verify(actor=personas["operator_verifier"], lot=lot)
    anon = client_as(None)
    page = anon.get(f"/lots/{lot.pk}/").content.decode()
    assert "lathe.png" in page
    assert "passport.pdf" not in page
    assert anon.get(f"/lots/{lot.pk}/photos/{photo.pk}/").status_code == 200
    assert anon.get(f"/lots/{lot.pk}/photos/{document.pk}/").status_code == 404
    response = client_as("operator_verifier").get(f"/manage/lots/{lot.pk}/files/{document.pk}/")
    assert response.status_code == 200
    assert AuditEvent.objects.filter(event="lot:file_downloaded", target_id=str(lot.pk)).exists()
    other = client_as("seller_b_maker").get(f"/manage/lots/{lot.pk}/files/{document.pk}/")
    assert other.status_code == 404


@pytest.mark.django_db
def test_seller_corrects_a_published_lot_through_its_form(
    personas: Personas, client_as: ClientAs
) -> None:
    lot = services.lot_create(
        actor=personas["seller_a_maker"],
        kind="real_estate",
        title="Flat",
        region="Astana",
        start_price="1000000",
        address="Astana, Abay 1",
        area="40",
        cadastral_number="21-1",
    )
    services.lot_submit(actor=personas["seller_a_maker"], lot=lot)
    services.lot_approve(actor=personas["seller_a_signatory"], lot=lot)
    services.lot_verify(actor=personas["operator_verifier"], lot=lot)
    maker = client_as("seller_a_maker")
    form = {
        "kind": "real_estate",
        "title": "Flat",
        "region": "Astana",
        "start_price": "900000",
        "currency": "KZT",
        "address": "Astana, Abay 1",
        "area": "40",
        "cadastral_number": "21-1",
        "guarantor_identifiers": "\r\n",
    }
    assert maker.get(f"/manage/lots/{lot.pk}/edit/").status_code == 200
    assert maker.post(f"/manage/lots/{lot.pk}/edit/", form).status_code == 302
    assert len(selectors.public_versions(Lot.objects.get(pk=lot.pk))) == 2
    Lot.objects.filter(pk=lot.pk).update(correction_until=timezone.now() - timedelta(hours=1))
    response = maker.post(f"/manage/lots/{lot.pk}/edit/", {**form, "start_price": "800000"})
    assert response.status_code == 422
    assert "correction window has passed" in response.content.decode()


@pytest.mark.django_db
def test_editing_a_portfolio_draft_keeps_its_tape_parties(personas: Personas) -> None:
    lot = services.lot_create(
        actor=personas["seller_a_maker"],
        kind="portfolio",
        title="P",
        region="Almaty",
        start_price="1000",
    )
    tape = TAPE_HEADER + "L-1,750312400107,A,,Almaty,100,0,0,200\n"
    services.lot_tape_upload(
        actor=personas["seller_a_maker"],
        lot=lot,
        upload=SimpleUploadedFile("t.csv", tape.encode()),
    )
    services.lot_update(actor=personas["seller_a_maker"], lot=lot, title="P2")
    assert selectors.parties_of(lot) == {"750312400107"}


@pytest.mark.django_db
def test_a_rule_that_changed_meanwhile_stops_publication(personas: Personas, settings: Any) -> None:
    lot = services.lot_create(actor=personas["seller_a_maker"], **CLAIM)
    services.lot_submit(actor=personas["seller_a_maker"], lot=lot)
    services.lot_approve(actor=personas["seller_a_signatory"], lot=lot)
    settings.AIPS_ETP_RETAIL_CLAIM_MIN_OVERDUE_DAYS = 180
    with pytest.raises(ValidationFailed):
        services.lot_verify(actor=personas["operator_verifier"], lot=lot)
    assert Lot.objects.get(pk=lot.pk).state == LotState.AWAITING_VERIFICATION


@pytest.mark.django_db
def test_each_step_tells_the_next_person(personas: Personas) -> None:
    from aips.shared.notifications.models import Notification

    lot = services.lot_create(actor=personas["seller_a_maker"], **CLAIM)
    services.lot_submit(actor=personas["seller_a_maker"], lot=lot)
    assert Notification.objects.filter(
        user=personas["seller_a_signatory"], kind="etp.lot.request_approval"
    ).exists()
    services.lot_approve(actor=personas["seller_a_signatory"], lot=lot)
    assert Notification.objects.filter(
        user=personas["operator_verifier"], kind="etp.lot.approve"
    ).exists()
    services.lot_return(actor=personas["operator_verifier"], lot=lot, reason="Fix the price.")
    assert Notification.objects.filter(
        user=personas["seller_a_maker"], kind="etp.lot.return"
    ).exists()
    assert (
        not Notification.objects.filter(user=personas["seller_b_signatory"], object_id=lot.pk)
        .filter(kind__startswith="etp.lot.")
        .exists()
    )
