"""XLSX loan tapes: the same columns and row-numbered errors as CSV, numbers as numeric cells or
text, an IIN stored as a number that lost its leading zero refused by row, formulas by their
saved value, empty trailing rows ignored, the content (not the name) deciding the format, and a
damaged, foreign or bomb-sized file answering 422, never 500."""

import io
import zipfile
from collections.abc import Callable
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from openpyxl import Workbook

from aips.etp.lots import selectors, services, tape
from aips.etp.lots.models import Lot
from aips.shared.accounts.models import User

Personas = dict[str, User]
ClientAs = Callable[[str | None], Client]

HEADER = list(tape.COLUMNS)
# 050312500107 is a valid IIN with a leading zero: as a number it becomes 50312500107.
ZERO_IIN = "050312500107"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _xlsx(*rows: list[Any], sheets: int = 1, trailing_empty: int = 0) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for row in [HEADER, *rows]:
        sheet.append(row)
    for n in range(trailing_empty):
        sheet.cell(row=len(rows) + 2 + n, column=1, value=None)
        sheet.cell(row=len(rows) + 2 + n, column=2, value="   ")
    for n in range(1, sheets):
        book.create_sheet(f"Other {n}").append(["nothing", "here"])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _parse(data: bytes, name: str = "tape.xlsx") -> tape.Tape:
    return tape.parse(data, retail_min_overdue=90, name=name)


def test_numbers_as_cells_or_text_give_the_same_loans() -> None:
    numeric = _xlsx(
        ["L-1", 750312400107, "A", "600101400704", "Almaty", 100000, 10000.5, 0, 200],
        ["L-2", ZERO_IIN, "B", "", "Astana", "300 000,25", "", None, "400"],
        trailing_empty=50,
        sheets=2,
    )
    parsed = _parse(numeric)
    assert parsed.errors == []
    assert [loan.borrower for loan in parsed.loans] == ["750312400107", ZERO_IIN]
    assert parsed.loans[0].guarantors == ["600101400704"]
    assert str(parsed.loans[0].debt) == "110000.5"
    assert str(parsed.loans[1].debt) == "300000.25"
    assert [loan.days_overdue for loan in parsed.loans] == [200, 400]
    assert parsed.aggregates()["count"] == 2


def test_bad_rows_are_named_as_in_csv() -> None:
    parsed = _parse(
        _xlsx(
            ["L-1", "750312400107", "A", "", "Almaty", 100000, 0, 0, 200],
            ["L-2", "123", "B", "", "Almaty", "abc", 0, 0, 200],
            ["L-3", "801122500204", "C", "", "", 5000, 0, 0, 30],
        )
    )
    errors = " ".join(parsed.errors)
    assert "Row 3, column “borrower_iin”" in errors
    assert "Row 3, column “principal”" in errors
    assert "Row 4, column “region”" in errors
    assert "Row 4, column “days_overdue”" in errors
    assert "Row 2" not in errors
    missing = _parse(_xlsx_header_only(["loan_id", "region"]))
    assert missing.errors == [
        "Row 1: the columns borrower_iin, principal, days_overdue are missing."
    ]


def _xlsx_header_only(header: list[str]) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(header)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_an_iin_stored_as_a_number_must_keep_its_12_digits() -> None:
    parsed = _parse(
        _xlsx(
            ["L-1", int(ZERO_IIN), "A", "", "Almaty", 100, 0, 0, 200],
            ["L-2", "750312400107", "B", int(ZERO_IIN), "Almaty", 100, 0, 0, 200],
            ["L-3", 750312400107.0, "C", "", "Almaty", 100, 0, 0, 200],
        )
    )
    assert parsed.errors == [
        "Row 2, column “borrower_iin”: An IIN or BIN must be 12 digits; format the column as text.",
        "Row 3, column “guarantor_iins”: An IIN or BIN must be 12 digits; format the column as "
        "text.",
    ]


def test_a_formula_counts_by_its_saved_value_and_without_one_is_an_error_of_its_row() -> None:
    parsed = _parse(
        _xlsx(
            ["L-1", "750312400107", "A", "", "Almaty", "=1000+500", 0, 0, 200],
            ["L-2", "801122500204", "B", "", "Astana", 100, 0, 0, 200],
        )
    )
    # openpyxl saves no computed value: the seller is told what to do, once, for that cell.
    assert parsed.errors == [
        "Row 2, column “principal”: A formula without a saved value: enter the value, or open "
        "the file in a spreadsheet program and save it again."
    ]
    # A formula saved with its value (as a spreadsheet program saves it) counts by the value.
    saved = _with_cached_value(_xlsx(["L-1", "750312400107", "A", "", "Almaty", "=1000+500"]))
    saved_row = _parse(saved)
    assert "principal" not in " ".join(saved_row.errors)


def _with_cached_value(data: bytes) -> bytes:
    """The workbook as Excel would save it: the formula's computed value in its `<v>`."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            content = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                content = content.replace(b"<f>1000+500</f><v />", b"<f>1000+500</f><v>1500</v>")
                content = content.replace(b"<f>1000+500</f><v></v>", b"<f>1000+500</f><v>1500</v>")
            target.writestr(item, content)
    return out.getvalue()


@pytest.mark.parametrize(
    ("data", "name"),
    [
        (b"PK\x03\x04" + b"\x00" * 200, "tape.xlsx"),  # the magic, then nothing of a ZIP
        (b"PK\x03\x04garbage", "tape.csv"),
        (b"loan_id,borrower_iin\n", "tape.xlsx"),  # CSV text with an .xlsx name
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 500, "tape.xlsx"),  # an old .xls
    ],
)
def test_r57_28_4_a_damaged_or_foreign_file_is_refused_clearly(data: bytes, name: str) -> None:
    parsed = _parse(data, name)
    assert parsed.loans == []
    assert len(parsed.errors) == 1
    assert "XLSX" in parsed.errors[0]


def test_r57_28_4_a_zip_that_is_no_workbook_and_a_truncated_workbook_are_refused() -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("hello.txt", "hello")
    assert "not a readable XLSX" in _parse(out.getvalue()).errors[0]
    good = _xlsx(["L-1", "750312400107", "A", "", "Almaty", 100, 0, 0, 200])
    for cut in (len(good) // 3, len(good) // 2, len(good) - 30):
        assert "not a readable XLSX" in _parse(good[:cut]).errors[0], cut
    # A workbook whose sheet is not XML.
    broken = io.BytesIO()
    source = zipfile.ZipFile(io.BytesIO(good))
    with zipfile.ZipFile(broken, "w") as target:
        for item in source.infolist():
            content = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                content = b"<worksheet><sheetData><row r='x'><c r='??'><v>1"
            target.writestr(item, content)
    assert "not a readable XLSX" in _parse(broken.getvalue()).errors[0]


def test_r57_28_4_a_zip_bomb_is_refused_before_it_is_unpacked() -> None:
    good = _xlsx(["L-1", "750312400107", "A", "", "Almaty", 100, 0, 0, 200])
    source = zipfile.ZipFile(io.BytesIO(good))
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            target.writestr(item, source.read(item.filename))
        # 201 MB of zeros packs to some 200 KB.
        with target.open("xl/media/padding.bin", "w", force_zip64=True) as padding:
            chunk = b"\x00" * (1 << 20)
            for _n in range(tape.MAX_XLSX_UNCOMPRESSED // len(chunk) + 1):
                padding.write(chunk)
    data = bomb.getvalue()
    assert len(data) < 2 * 1024 * 1024
    parsed = _parse(data)
    assert parsed.loans == []
    assert parsed.errors == ["The workbook unpacks to more than 200 MB: upload the loans as CSV."]


def test_the_row_limit_is_the_csv_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tape, "MAX_ROWS", 3)
    rows = [["L", "750312400107", "A", "", "Almaty", 100, 0, 0, 200] for _n in range(5)]
    parsed = _parse(_xlsx(*rows))
    assert "At most 3 loans in one tape." in parsed.errors


@pytest.mark.django_db
def test_upload_form_and_api_accept_xlsx_and_refuse_a_corrupt_one(
    personas: Personas, client_as: ClientAs
) -> None:
    lot = services.lot_create(
        actor=personas["seller_a_maker"],
        kind="portfolio",
        title="Portfolio from a workbook",
        region="Almaty",
        start_price="1000000",
        retail=True,
    )
    maker = client_as("seller_a_maker")
    bad = _xlsx(
        ["L-1", int(ZERO_IIN), "A", "", "Almaty", 100000, 0, 0, 200],
        ["L-2", "801122500204", "B", "", "Astana", 100, 0, 0, 10],
    )
    response = maker.post(
        f"/api/v1/lots/{lot.pk}/tape", {"file": SimpleUploadedFile("tape.xlsx", bad, XLSX)}
    )
    assert response.status_code == 422
    errors = " ".join(response.json()["error"]["fields"]["file"])
    assert "Row 2, column “borrower_iin”" in errors
    assert "format the column as text" in errors
    assert "Row 3, column “days_overdue”" in errors
    for corrupt in (b"PK\x03\x04broken", b"not a workbook at all"):
        response = maker.post(
            f"/api/v1/lots/{lot.pk}/tape",
            {"file": SimpleUploadedFile("tape.xlsx", corrupt, XLSX)},
        )
        assert response.status_code == 422, corrupt
        assert "XLSX" in " ".join(response.json()["error"]["fields"]["file"])
    page = maker.post(
        f"/manage/lots/{lot.pk}/tape/", {"file": SimpleUploadedFile("tape.xlsx", bad, XLSX)}
    )
    assert page.status_code == 422
    assert "format the column as text" in page.content.decode()
    good = _xlsx(
        ["L-1", ZERO_IIN, "A", 600101400704, "Almaty", 100000, 10000, 0, 200],
        ["L-2", 801122500204, "B", "", "Astana", "300000", 0, 0, 400],
        trailing_empty=3,
    )
    page = maker.post(
        f"/manage/lots/{lot.pk}/tape/", {"file": SimpleUploadedFile("loans.xlsx", good, XLSX)}
    )
    assert page.status_code == 302
    saved = Lot.objects.get(pk=lot.pk)
    assert saved.aggregates["count"] == 2
    assert saved.aggregates["total_debt"] == "410000"
    assert selectors.parties_of(saved) == {ZERO_IIN, "600101400704", "801122500204"}
    # The content decides: a workbook uploaded under a .csv name is read as the workbook.
    response = maker.post(
        f"/api/v1/lots/{lot.pk}/tape", {"file": SimpleUploadedFile("loans.csv", good, XLSX)}
    )
    assert response.status_code == 200, response.content
    # Neither CSV nor XLSX by name: refused before it is read.
    response = maker.post(
        f"/api/v1/lots/{lot.pk}/tape", {"file": SimpleUploadedFile("loans.ods", good, XLSX)}
    )
    assert response.status_code == 422
