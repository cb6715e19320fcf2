"""The data room (R57.3.2: a debtor's personal data only to those who need it; R57.5: access to
the extent of one's role; R57.17: every opening and download in the journal). An admitted
participant sees nothing before its organization accepts the NDA, then the parties, the
agreement and the documents, each download stamped; a participant not admitted (pending,
refused, or without an application) and another seller get 404; the lot's seller and the
operator's readers enter without an NDA."""

import hashlib
import io
import zipfile
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from aips.core.errors import Conflict, NotFound
from aips.demo_etp import DEMO_GUARANTORS
from aips.etp.dataroom import services
from aips.etp.dataroom.models import NdaAcceptance
from aips.etp.dataroom.nda import NDA_VERSION, nda_sha256, nda_text
from aips.etp.dataroom.tests.conftest import TAPE, add_file, claim_lot, stamped_pdf_texts
from aips.etp.lots.models import Lot, LotParty, LotState
from aips.shared.accounts.models import User
from aips.shared.audit.models import AuditEvent

pytestmark = pytest.mark.django_db

ClientAs = Callable[[str | None], Client]
P1 = "participant_person_1"


def _room(lot: Lot) -> str:
    return f"/lots/{lot.pk}/dataroom/"


def _file(lot: Lot, file_id: int) -> str:
    return f"/lots/{lot.pk}/dataroom/files/{file_id}/"


def _events(name: str, lot: Lot) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(event=name, details__lot=lot.pk).order_by("seq"))


def _debtor_ids(lot: Lot) -> list[str]:
    return list(LotParty.objects.filter(lot=lot).values_list("identifier", flat=True))


def test_r57_3_2_an_admitted_participant_accepts_the_nda_then_reads_and_downloads(
    personas: dict[str, User],
    client_as: ClientAs,
    application_in: Callable[..., Any],
    room_files: Callable[[Lot], dict[str, Any]],
) -> None:
    lot = claim_lot()
    files = room_files(lot)
    application_in(P1)
    person = personas[P1]
    client = client_as(P1)
    ids = _debtor_ids(lot)
    assert ids  # the demo claim has a borrower and a guarantor

    # Before the NDA: its text and the button, nothing of the loan file.
    page = client.get(_room(lot))
    text = page.content.decode()
    assert page.status_code == 200
    assert 'id="nda"' in text
    assert lot.reference in text
    for identifier in ids:
        assert identifier not in text
    assert lot.agreement_number not in text
    assert "agreement.pdf" not in text
    before = client.get(_file(lot, files["pdf"].pk))
    assert before.status_code == 302
    assert before["Location"] == _room(lot)
    assert not _events("dataroom:opened", lot)
    assert not _events("dataroom:file_downloaded", lot)

    # Acceptance: the text read (its hash), for the organization, journaled.
    digest = nda_sha256(nda_text(lot))
    assert f"<code>{digest}</code>" in text
    response = client.post(f"/lots/{lot.pk}/dataroom/nda/", {"nda_sha256": digest})
    assert response.status_code == 302
    acceptance = NdaAcceptance.objects.get(lot=lot, organization=person.organization)
    assert (acceptance.accepted_by, acceptance.nda_sha256) == (person, digest)
    assert (acceptance.nda_version, acceptance.nda_language) == (NDA_VERSION, "en")
    (accepted,) = _events("dataroom:nda_accepted", lot)
    assert accepted.details["nda_sha256"] == digest
    assert accepted.actor_id == person.pk

    # The room: parties, agreement, documents; the opening journaled each time.
    text = client.get(_room(lot)).content.decode()
    for identifier in ids:
        assert identifier in text
    assert lot.agreement_number in text
    for name in ("agreement.pdf", "schedule.xlsx", "tape.csv", "collateral.png"):
        assert name in text
    client.get(_room(lot))
    opened = _events("dataroom:opened", lot)
    assert len(opened) == 2
    assert opened[0].details["as"] == "participant"

    # Downloads: attachments, never cached or sniffed, stamped, journaled with both hashes.
    pdf = client.get(_file(lot, files["pdf"].pk))
    assert pdf.status_code == 200
    assert pdf["Content-Disposition"].startswith("attachment;")
    assert 'filename="agreement.pdf"' in pdf["Content-Disposition"]
    assert pdf["Cache-Control"] == "no-store"
    assert pdf["X-Content-Type-Options"] == "nosniff"
    pages, metadata = stamped_pdf_texts(pdf.content)
    organization = person.organization
    for annotations in pages:
        assert any(organization.bin in a and person.email in a for a in annotations)
    assert organization.display_name in metadata["/Subject"]
    (downloaded,) = _events("dataroom:file_downloaded", lot)
    assert downloaded.details["file_id"] == files["pdf"].pk
    assert downloaded.details["sha256"] == files["pdf"].sha256
    assert downloaded.details["stamped_sha256"] == hashlib.sha256(pdf.content).hexdigest()
    assert downloaded.details["download_id"] == pdf["X-Download-Id"]
    assert downloaded.details["download_id"] in metadata["/Subject"]
    assert downloaded.details["stamp"] == "pdf"

    from openpyxl import load_workbook

    xlsx = client.get(_file(lot, files["xlsx"].pk))
    workbook = load_workbook(io.BytesIO(xlsx.content))
    assert organization.bin in workbook.custom_doc_props["ETP stamp"].value
    assert all(organization.bin in ws.oddHeader.center.text for ws in workbook.worksheets)

    csv = client.get(_file(lot, files["csv"].pk))
    first, rest = csv.content.split(b"\r\n", 1)
    assert first.startswith(b"# ETP data room ")
    assert person.email.encode() in first
    assert rest == TAPE

    png = client.get(_file(lot, files["png"].pk))
    assert 'filename="collateral.png.zip"' in png["Content-Disposition"]
    with zipfile.ZipFile(io.BytesIO(png.content)) as archive:
        assert archive.read("collateral.png") == b"\x89PNG\r\n\x1a\nnot really"
        assert organization.bin in archive.read("STAMP.txt").decode()

    # A damaged PDF is not an error: the ZIP wrapper.
    broken = client.get(_file(lot, files["broken"].pk))
    assert broken.status_code == 200
    assert 'filename="broken.pdf.zip"' in broken["Content-Disposition"]
    methods = [e.details["stamp"] for e in _events("dataroom:file_downloaded", lot)]
    assert methods == ["pdf", "xlsx", "text", "zip", "zip"]


def test_r57_3_2_the_nda_binds_the_organization_and_its_text_is_checked(
    personas: dict[str, User], application_in: Callable[..., Any]
) -> None:
    lot = claim_lot()
    application_in(P1)
    person = personas[P1]
    with pytest.raises(Conflict) as changed:
        services.nda_accept(actor=person, lot=lot, shown_sha256="f" * 64)
    assert changed.value.code == "nda_changed"
    assert not NdaAcceptance.objects.exists()
    first = services.nda_accept(actor=person, lot=lot)
    again = services.nda_accept(actor=person, lot=lot)
    assert first.pk == again.pk
    assert len(_events("dataroom:nda_accepted", lot)) == 1
    with pytest.raises(Conflict) as not_needed:
        services.nda_accept(actor=personas["seller_a_maker"], lot=lot)
    assert not_needed.value.code == "nda_not_needed"
    with pytest.raises(NotFound):
        services.nda_accept(actor=personas["participant_person_2"], lot=lot)


@pytest.mark.parametrize("state", ["submitted", "refused", None])
def test_r57_5_a_participant_not_admitted_gets_404(
    state: str | None,
    client_as: ClientAs,
    application_in: Callable[..., Any],
    room_files: Callable[[Lot], dict[str, Any]],
) -> None:
    lot = claim_lot()
    files = room_files(lot)
    if state is not None:
        application_in(P1, state)
    application_in("participant_company_1_rep")  # someone else is admitted
    client = client_as(P1)
    assert client.get(_room(lot)).status_code == 404
    assert client.post(f"/lots/{lot.pk}/dataroom/nda/").status_code == 404
    assert client.get(_file(lot, files["pdf"].pk)).status_code == 404
    assert client.get(f"/api/v1/lots/{lot.pk}/dataroom").status_code == 404
    assert not NdaAcceptance.objects.exists()  # nothing written for them
    public = client.get(f"/lots/{lot.pk}/").content.decode()
    assert 'id="dataroom-link"' not in public


def test_r57_5_another_participants_acceptance_opens_nothing_for_me(
    personas: dict[str, User], client_as: ClientAs, application_in: Callable[..., Any]
) -> None:
    lot = claim_lot()
    application_in(P1)
    application_in("participant_person_2")
    services.nda_accept(actor=personas[P1], lot=lot)
    # Participant 2 is admitted too, but its organization has not accepted: the NDA page.
    page = client_as("participant_person_2").get(_room(lot)).content.decode()
    assert 'id="nda"' in page
    for identifier in _debtor_ids(lot):
        assert identifier not in page


def test_r57_5_the_public_is_sent_to_sign_in_and_never_sees_a_link(
    client_as: ClientAs, application_in: Callable[..., Any], room_files: Callable[..., Any]
) -> None:
    lot = claim_lot()
    files = room_files(lot)
    anon = client_as(None)
    for url in (_room(lot), _file(lot, files["pdf"].pk)):
        response = anon.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/login/")
    assert anon.get(f"/api/v1/lots/{lot.pk}/dataroom").status_code == 401
    assert 'id="dataroom-link"' not in anon.get(f"/lots/{lot.pk}/").content.decode()


def test_r57_5_the_seller_and_the_operator_enter_without_an_nda_another_seller_404(
    personas: dict[str, User], client_as: ClientAs, room_files: Callable[..., Any]
) -> None:
    lot = claim_lot()
    files = room_files(lot)
    for persona in ("seller_a_maker", "seller_a_signatory", "operator_verifier"):
        client = client_as(persona)
        page = client.get(_room(lot)).content.decode()
        assert 'id="parties"' in page, persona
        assert client.get(_file(lot, files["csv"].pk)).status_code == 200
        assert 'id="dataroom-link"' in client.get(f"/lots/{lot.pk}/").content.decode()
    seller = {e.details["as"] for e in _events("dataroom:opened", lot)}
    assert seller == {"seller", "operator"}
    for persona in ("seller_b_maker", "seller_b_signatory"):
        assert client_as(persona).get(_room(lot)).status_code == 404
        assert client_as(persona).get(_file(lot, files["pdf"].pk)).status_code == 404
    # Roles without the data room at all: the operator's administrator.
    assert client_as("operator_admin").get(_room(lot)).status_code == 403


def test_r57_5_only_published_or_withdrawn_lots_have_a_room(
    personas: dict[str, User], client_as: ClientAs
) -> None:
    draft = Lot.objects.filter(
        organization_id=personas["seller_a_maker"].organization_id, state=LotState.DRAFT
    ).first()
    assert draft is not None
    assert client_as("seller_a_maker").get(_room(draft)).status_code == 404


def test_a_file_of_another_lot_or_a_photo_is_not_in_the_room(
    personas: dict[str, User], client_as: ClientAs, room_files: Callable[..., Any]
) -> None:
    lot = claim_lot()
    room_files(lot)
    other = Lot.objects.filter(state=LotState.WITHDRAWN).first()
    assert other is not None
    foreign = add_file(other, "other.pdf", b"other")
    photo = add_file(lot, "photo.png", b"photo", purpose="photo")
    client = client_as("operator_verifier")
    assert client.get(_file(lot, foreign.pk)).status_code == 404
    assert client.get(_file(lot, photo.pk)).status_code == 404
    assert client.get(_file(lot, 999999)).status_code == 404


def test_r57_3_2_the_api_answers_409_before_the_nda_then_the_loan_file(
    personas: dict[str, User], client_as: ClientAs, application_in: Callable[..., Any]
) -> None:
    lot = claim_lot()
    application_in(P1)
    client = client_as(P1)
    url = f"/api/v1/lots/{lot.pk}/dataroom"
    before = client.get(url)
    assert before.status_code == 409
    assert before.json()["error"]["code"] == "nda_required"
    nda = client.get(f"{url}/nda").json()
    assert nda["accepted_at"] is None
    assert nda["sha256"] == nda_sha256(nda["text"])
    bad = client.post(f"{url}/nda", {"nda_sha256": "x"}, content_type="application/json")
    assert bad.status_code == 422
    accepted = client.post(
        f"{url}/nda", {"nda_sha256": nda["sha256"]}, content_type="application/json"
    )
    assert accepted.status_code == 200
    assert accepted.json()["accepted_at"]
    room = client.get(url).json()
    assert room["access"] == "participant"
    assert room["agreement_number"] == lot.agreement_number
    assert {p["identifier"] for p in room["parties"]} == set(_debtor_ids(lot))
    assert set(DEMO_GUARANTORS) & {p["identifier"] for p in room["parties"]}
    assert _events("dataroom:opened", lot)[-1].details["channel"] == "api"
    assert client_as("participant_person_2").get(url).status_code == 404
    assert client_as("seller_b_maker").get(url).status_code == 404
    assert client_as("seller_a_maker").get(url).json()["access"] == "seller"


def test_the_link_appears_on_the_lot_page_and_the_application_page(
    client_as: ClientAs, application_in: Callable[..., Any]
) -> None:
    lot = claim_lot()
    application = application_in(P1)
    client = client_as(P1)
    assert 'id="dataroom-link"' in client.get(f"/lots/{lot.pk}/").content.decode()
    detail = client.get(f"/applications/{application.pk}/").content.decode()
    assert f'href="{_room(lot)}"' in detail


def test_a_portfolio_room_lists_its_tape_and_every_loan_party(
    personas: dict[str, User], client_as: ClientAs, application_in: Callable[..., Any]
) -> None:
    portfolio = Lot.objects.get(state=LotState.PUBLISHED, kind="portfolio")
    tape = add_file(portfolio, "tape.csv", TAPE, purpose="tape")
    application_in(P1, lot=portfolio)
    services.nda_accept(actor=personas[P1], lot=portfolio)
    client = client_as(P1)
    page = client.get(_room(portfolio)).content.decode()
    assert "Loan tape" in page
    for identifier in _debtor_ids(portfolio):
        assert identifier in page
    response = client.get(_file(portfolio, tape.pk))
    assert response.content.startswith(b"# ETP data room " + portfolio.reference.encode())


def test_a_missing_stored_file_is_404_not_500(
    personas: dict[str, User], client_as: ClientAs
) -> None:
    lot = claim_lot()
    lost = add_file(lot, "lost.pdf", b"lost bytes")
    from aips.shared.files.selectors import stored_path

    path = stored_path(lost)
    assert path is not None
    path.unlink()
    assert client_as("operator_auditor").get(_file(lot, lost.pk)).status_code == 404
