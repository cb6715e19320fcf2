"""The data room's fixtures: the demo's published claim (seller A's, with its borrower and
guarantor), a procedure on it and applications in the state a test asks for, and room files
made here (a real PDF and workbook, a CSV tape, an image)."""

import io
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from aips.etp.applications.models import Application, Deposit, Procedure
from aips.etp.lots.models import Lot, LotFile, LotKind, LotState
from aips.shared.accounts.models import User
from aips.shared.eds.models import Signature
from aips.shared.files.services import stored_fields


def pdf_bytes(pages: int = 2) -> bytes:
    from pypdf import PdfWriter

    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(width=595, height=842)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def xlsx_bytes() -> bytes:
    from openpyxl import Workbook

    workbook = Workbook()
    workbook.active.title = "loans"
    workbook.active.append(["loan_id", "borrower_iin"])
    workbook.active.append(["L-1", "801122500204"])
    workbook.create_sheet("summary")["A1"] = "total"
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


TAPE = b"loan_id,borrower_iin,borrower_name\r\nL-1,801122500204,Omarova Dana Serikovna\r\n"


def claim_lot() -> Lot:
    lot: Lot = Lot.objects.get(state=LotState.PUBLISHED, kind=LotKind.CLAIM)
    return lot


def add_file(lot: Lot, name: str, content: bytes, purpose: str = "document") -> LotFile:
    file: LotFile = LotFile.objects.create(
        lot=lot,
        purpose=purpose,
        uploaded_by_id=lot.created_by_id,
        **stored_fields(SimpleUploadedFile(name, content)),
    )
    return file


def _procedure(lot: Lot, announcer: User) -> Procedure:
    now = timezone.now()
    procedure: Procedure
    procedure, _created = Procedure.objects.get_or_create(
        lot=lot,
        defaults={
            "application_deadline": now + timedelta(days=10),
            "auction_start": now + timedelta(days=12),
            "deposit_percent": 10,
            "deposit_amount": lot.start_price / 10,
            "announced_by": announcer,
            "announced_at": now,
        },
    )
    return procedure


@pytest.fixture
def application_in(personas: dict[str, User]) -> Callable[..., Application]:
    """An application of `persona`'s organization to `lot`'s procedure, in `state`. Stored
    directly: the applications' tests prove the signing and admission; here only the state
    matters."""

    def make(persona: str, state: str = "admitted", lot: Lot | None = None) -> Application:
        person = personas[persona]
        procedure = _procedure(lot or claim_lot(), personas["operator_admin"])
        now = timezone.now()
        signature = Signature.objects.create(
            purpose="signing",
            cms=b"test",
            content_sha256="0" * 64,
            signer_iin=person.organization.bin,
            signer_common_name="test",
            certificate_fingerprint="0" * 64,
            certificate_serial="01",
            certificate_issuer="test",
            checked_at=now,
            algorithm="test",
            chain=b"",
        )
        application: Application = Application.objects.create(
            procedure=procedure,
            organization=person.organization,
            submitted_by=person,
            submitted_at=now,
            document=b"{}",
            signature=signature,
            state=state,
        )
        Deposit.objects.create(
            application=application,
            amount=procedure.deposit_amount,
            state="held" if state == "admitted" else "expected",
        )
        return application

    return make


@pytest.fixture
def room_files() -> Callable[[Lot], dict[str, LotFile]]:
    def make(lot: Lot) -> dict[str, LotFile]:
        return {
            "pdf": add_file(lot, "agreement.pdf", pdf_bytes()),
            "xlsx": add_file(lot, "schedule.xlsx", xlsx_bytes()),
            "csv": add_file(lot, "tape.csv", TAPE, purpose="tape"),
            "png": add_file(lot, "collateral.png", b"\x89PNG\r\n\x1a\nnot really"),
            "broken": add_file(lot, "broken.pdf", b"%PDF-1.7\nthis is not a PDF at all"),
        }

    return make


def stamped_pdf_texts(content: bytes) -> tuple[list[list[str]], Any]:
    """Each page's annotation texts, and the document's metadata."""
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(content))
    pages = [
        [str(a.get_object().get("/Contents", "")) for a in page.get("/Annots", [])]
        for page in reader.pages
    ]
    return pages, reader.metadata
