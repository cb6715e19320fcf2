"""The applications' pages: the operator announces, the lot page shows the schedule and deposit
(not the applicant count), a participant applies with EDS and sees its timeline; another
participant's application is 404 (R57.5)."""

import base64
import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from aips.etp.applications import services
from aips.etp.applications.models import Application, Procedure
from aips.etp.applications.tests.conftest import NOW
from aips.etp.applications.tests.test_applications import bind, claim_lot
from aips.shared.accounts.models import User
from aips.shared.eds.testing import TestPki, sign_cms

pytestmark = pytest.mark.django_db


def test_r57_5_the_operator_announces_and_the_lot_page_shows_the_deposit(
    personas: dict[str, User], client_as: Callable[[str | None], Client], at: Any
) -> None:
    lot = claim_lot()
    url = reverse("etp_applications:announce", kwargs={"pk": lot.pk})
    response = client_as("operator_admin").post(
        url,
        {"application_deadline": "2026-12-10T18:00", "auction_start": "2026-12-12T11:00"},
    )
    assert response.status_code == 302
    procedure = Procedure.objects.get(lot=lot)
    page = client_as(None).get(reverse("etp_lots:public_detail", kwargs={"pk": lot.pk}))
    text = page.content.decode()
    assert 'id="procedure"' in text
    assert str(procedure.deposit_amount) in text
    assert "Applications</dt>" not in text  # the applicant count is off by default


def test_r57_5_a_participant_applies_on_the_page_and_others_get_404(
    personas: dict[str, User],
    client_as: Callable[[str | None], Client],
    at: Any,
    pki: TestPki,
) -> None:
    person = personas["participant_person_1"]
    key = bind(person, pki, person.organization.bin)
    procedure = services.procedure_announce(
        actor=personas["operator_auctioneer"],
        lot=claim_lot(),
        application_deadline=NOW + timedelta(days=10),
        auction_start=NOW + timedelta(days=12),
    )
    client = client_as("participant_person_1")
    url = reverse("etp_applications:apply", kwargs={"pk": procedure.lot_id})
    page = client.get(url).content.decode()
    document = base64.b64decode(re.search(r'data-ncalayer-data="([^"]+)"', page)[1])  # type: ignore[index]
    moment = re.search(r'name="moment" value="([^"]+)"', page)[1]  # type: ignore[index]
    signature = base64.b64encode(sign_cms(document, key=key, detached=True)).decode()
    response = client.post(url, {"moment": moment, "eds_signature": signature})
    application = Application.objects.get(procedure=procedure, organization=person.organization)
    assert response.status_code == 302
    assert response["Location"] == reverse("etp_applications:detail", kwargs={"pk": application.pk})
    detail = reverse("etp_applications:detail", kwargs={"pk": application.pk})
    assert 'id="timeline"' in client.get(detail).content.decode()
    for other in ("participant_person_2", "participant_company_1_rep"):
        assert client_as(other).get(detail).status_code == 404
        listing = client_as(other).get(reverse("etp_applications:list")).content.decode()
        assert application.reference not in listing
        api = client_as(other).get(f"/api/v1/applications/{application.pk}")
        assert api.status_code == 404
        assert client_as(other).get("/api/v1/applications").json() == []
    mine = client.get(f"/api/v1/applications/{application.pk}").json()
    assert mine["deposit_state"] == "expected"
    assert mine["reference"] == application.reference


def test_a_bank_statement_page_names_bad_rows(
    client_as: Callable[[str | None], Client],
) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    bad = SimpleUploadedFile("s.csv", b"date,amount,payer,purpose\n2026-01-01,-5,1,x\n")
    response = client_as("operator_admission").post(
        reverse("etp_applications:statement"), {"file": bad}
    )
    assert response.status_code == 422
    assert "Row 2, column amount" in response.content.decode()


def test_the_operators_lot_page_links_to_the_announcement(
    personas: dict[str, User], client_as: Callable[[str | None], Client], at: Any
) -> None:
    lot = claim_lot()
    detail = reverse("etp_lots:detail", kwargs={"pk": lot.pk})
    announce = reverse("etp_applications:announce", kwargs={"pk": lot.pk})
    assert announce in client_as("operator_admin").get(detail).content.decode()
    assert announce in client_as("operator_auctioneer").get(detail).content.decode()
    # Without procedure:manage there is no link.
    assert announce not in client_as("operator_verifier").get(detail).content.decode()
    seller = client_as("seller_a_maker").get(detail)
    assert seller.status_code != 200 or announce not in seller.content.decode()
    services.procedure_announce(
        actor=personas["operator_auctioneer"],
        lot=lot,
        application_deadline=NOW + timedelta(days=10),
        auction_start=NOW + timedelta(days=12),
    )
    assert announce not in client_as("operator_admin").get(detail).content.decode()
