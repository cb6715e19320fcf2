"""The ETP's test session (`pytest --ds=aips.settings_etp src/aips/etp`; `make test-sqlite` runs
it after AIPS's). The world is built once per session exactly as AIPS's is (src/aips/conftest.py:
`personas`, `client_as`, `matrix_objects`, the rollback per test); this module only says what it
holds: the ETP's demo people (aips/demo_etp.py) and the authorization matrix's objects.

Personas: operator_admin, operator_verifier, operator_admission, operator_auctioneer,
operator_complaints, operator_auditor, seller_a_maker, seller_a_signatory, seller_b_maker,
seller_b_signatory, participant_person_1, participant_person_2, participant_company_1_rep."""

from collections.abc import Callable, Mapping
from typing import Any

import pytest
from django.conf import settings
from django.utils import timezone

from aips.shared.accounts.models import User
from aips.shared.organizations.models import Organization

# The browser fixtures (a real Chromium against the live server) for the ETP's browser tests.
from aips.tests.conftest import (  # noqa: F401
    _allow_async_unsafe,
    browser,
    page,
    steps,
)

if getattr(settings, "AIPS_PRODUCT", "aips") != "etp":
    raise pytest.UsageError(
        "the ETP's tests run on its settings: pytest --ds=aips.settings_etp src/aips/etp"
    )


def _load_etp_world() -> Mapping[str, User]:
    from aips.demo_etp import load_demo

    return load_demo()


@pytest.fixture(scope="session")
def world_loader() -> Callable[[], Mapping[str, User]]:
    return _load_etp_world


@pytest.fixture(scope="session")
def matrix_builder() -> Callable[[dict[str, User]], dict[str, Any]]:
    return _build_matrix_objects


@pytest.fixture
def orgs(personas: dict[str, User]) -> dict[str, Organization]:
    return {
        "operator": personas["operator_admin"].organization,
        "seller_a": personas["seller_a_maker"].organization,
        "seller_b": personas["seller_b_maker"].organization,
        "person_1": personas["participant_person_1"].organization,
        "person_2": personas["participant_person_2"].organization,
        "company_1": personas["participant_company_1_rep"].organization,
    }


def _build_matrix_objects(personas: dict[str, User]) -> dict[str, Any]:
    """What the ETP's matrix requests as every persona: participant 1's own things (a token, an
    authenticator, a signed-in browser, a saved filter, a notification: nobody else may reach
    them, the operator included) and seller A's lot preparer as the account the operator's
    administrator manages."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from aips.etp.participants import services as participant_services
    from aips.shared.accounts import services as account_services
    from aips.shared.accounts.models import SavedFilter, UserSession
    from aips.shared.notifications.services import Text, notify

    owner = personas["participant_person_1"]
    token, _raw = account_services.token_create(actor=owner, name="matrix")
    session = UserSession.objects.create(
        user=owner, session_key="e" * 32, last_seen_at=timezone.now()
    )
    saved, _created = SavedFilter.objects.get_or_create(
        user=owner, list_name="lots", name="matrix", defaults={"query_string": ""}
    )
    (notification,) = notify(
        users=[owner],
        kind="etp.matrix",
        subject=Text("matrix"),
        text=Text("matrix"),
        link="/workspace/",
        email=False,
    )
    return {
        **personas,
        "token": token,
        # Participants sign in with EDS or biometrics (the demo gives them no TOTP): an
        # authenticator of their own still belongs to nobody else.
        "device": TOTPDevice.objects.create(user=owner, name="matrix", key="0" * 40),
        "session": session,
        "saved_filter": saved,
        "notification": notification,
        "managed_user": personas["seller_a_maker"],
        "participant_profile": participant_services.profile_update(
            actor=owner, phone="+77010000001", address="Almaty", iban="", bic=""
        ),
        **(lots := _matrix_lots(personas)),
        **_matrix_questions(owner, lots["lot_published"]),
        **_matrix_applications(personas, lots["lot_published"]),
        "mobile_device": _matrix_mobile_device(owner),
        **_matrix_dataroom(personas, lots["lot_published"]),
        **_matrix_auctions(personas, lots["lot_published"]),
        **_matrix_auction_results(personas, lots["lot_published"]),
    }


def _matrix_auctions(personas: dict[str, User], lot: Any) -> dict[str, Any]:
    """A running ascending auction on the procedure of seller A's published lot (company 1
    admitted, participant 1 not)."""
    from datetime import timedelta

    from aips.etp.applications.models import Procedure
    from aips.etp.auctions.models import Auction

    now = timezone.now()
    auction = Auction.objects.create(
        procedure=Procedure.objects.get(lot=lot),
        rule="ascending",
        start_price=lot.start_price,
        min_step=1,
        state="running",
        starts_at=now - timedelta(minutes=1),
        ends_at=now + timedelta(days=1),
        created_at=now,
    )
    return {"auction": auction}


def _matrix_auction_results(personas: dict[str, User], lot: Any) -> dict[str, Any]:
    """A closed second attempt on seller A's published lot won by company 1, with its results,
    a signed protocol (placeholder signature and PDF) and company 1's contract awaiting its
    signature (auctions/tests/matrix_rows_results.py)."""
    from aips.etp.auctions.tests.matrix_rows_results import build

    return build(personas, lot)


def _matrix_applications(personas: dict[str, User], lot: Any) -> dict[str, Any]:
    """Participant 1's application (deposit awaited) in a procedure on seller A's published
    lot. Stored directly: the signature is a placeholder row, the matrix checks who reaches
    the pages, not EDS (applications/tests prove the signing)."""
    from datetime import timedelta

    from aips.etp.applications.models import Application, Deposit, Procedure
    from aips.shared.eds.models import Signature

    owner = personas["participant_person_1"]
    now = timezone.now()
    procedure = Procedure.objects.create(
        lot=lot,
        application_deadline=now + timedelta(days=10),
        auction_start=now + timedelta(days=12),
        deposit_percent=10,
        deposit_amount=lot.start_price / 10,
        announced_by=personas["operator_admin"],
        announced_at=now,
    )
    signature = Signature.objects.create(
        purpose="signing",
        cms=b"matrix",
        content_sha256="0" * 64,
        signer_iin=owner.organization.bin,
        signer_common_name="matrix",
        certificate_fingerprint="0" * 64,
        certificate_serial="01",
        certificate_issuer="matrix",
        checked_at=now,
        algorithm="matrix",
        chain=b"",
    )
    application = Application.objects.create(
        procedure=procedure,
        organization=owner.organization,
        submitted_by=owner,
        submitted_at=now,
        document=b"{}",
        signature=signature,
    )
    Deposit.objects.create(application=application, amount=procedure.deposit_amount)
    return {"application": application}


def _matrix_dataroom(personas: dict[str, User], lot: Any) -> dict[str, Any]:
    """Company 1 admitted (without the NDA yet) to the procedure on seller A's published lot,
    beside participant 1's pending application, and a document in the lot's data room."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from aips.etp.applications.models import Application, Deposit, Procedure
    from aips.etp.lots.models import LotFile
    from aips.shared.files.services import stored_fields

    procedure = Procedure.objects.get(lot=lot)
    pending = Application.objects.get(procedure=procedure)
    rep = personas["participant_company_1_rep"]
    admitted = Application.objects.create(
        procedure=procedure,
        organization=rep.organization,
        submitted_by=rep,
        submitted_at=pending.submitted_at,
        document=b"{}",
        signature=pending.signature,
        state="admitted",
    )
    Deposit.objects.create(application=admitted, amount=procedure.deposit_amount, state="held")
    document = LotFile.objects.create(
        lot=lot,
        purpose="document",
        uploaded_by=personas["seller_a_maker"],
        **stored_fields(SimpleUploadedFile("room.pdf", b"matrix data room")),
    )
    return {"dataroom_application": admitted, "dataroom_file": document}


def _matrix_mobile_device(owner: User) -> Any:
    """Participant 1's registered phone (stored directly: devices/tests prove registration)."""
    from datetime import timedelta

    from aips.etp.devices.models import Device

    now = timezone.now()
    return Device.objects.create(
        user=owner,
        name="matrix phone",
        platform="android",
        client_id="kz.etp.mobile.demo",
        public_key=b"matrix",
        key_sha256="0" * 64,
        attestation_verifier="fake",
        proof="eds",
        token_sha256="1" * 64,
        token_prefix="etpd_matrix",
        app_version="1.0.0",
        created_at=now,
        expires_at=now + timedelta(days=1),
    )


def _matrix_questions(owner: User, lot: Any) -> dict[str, Any]:
    """Participant 1's question and (unanswered, so unpublished) complaint on seller A's
    published lot."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from aips.etp.questions import services as question_services

    return {
        "question": question_services.question_ask(actor=owner, lot_id=lot.pk, text="matrix?"),
        "complaint": question_services.complaint_file(
            actor=owner,
            lot_id=lot.pk,
            text="matrix complaint",
            files=[SimpleUploadedFile("c.pdf", b"matrix complaint file")],
        ),
    }


def _matrix_lots(personas: dict[str, User]) -> dict[str, Any]:
    """Seller A's demo lots (aips/demo_etp.py): a draft (its maker's to change), one awaiting
    the operator's verification (with a document) and a published one; seller B's withdrawn lot
    (with a photo). The files are stored again here: the world's files live in the world's
    scratch directory, the matrix's in its own."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from aips.etp.lots.models import Lot, LotFile
    from aips.shared.files.services import stored_fields

    mine = Lot.objects.filter(organization_id=personas["seller_a_maker"].organization_id)
    pending = mine.filter(state="awaiting_verification").first()
    withdrawn = Lot.objects.filter(state="withdrawn").first()
    for lot, purpose, name in ((pending, "document", "m.pdf"), (withdrawn, "photo", "m.png")):
        upload = SimpleUploadedFile(name, b"matrix " + name.encode())
        LotFile.objects.create(
            lot=lot,
            purpose=purpose,
            uploaded_by=personas["seller_a_maker"],
            **stored_fields(upload),
        )
    return {
        "lot_draft": mine.filter(state="draft").first(),
        "lot_pending": pending,
        "lot_published": mine.filter(state="published").first(),
        "lot_withdrawn": withdrawn,
    }
