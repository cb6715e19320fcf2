"""The stamp of a downloaded data room file (`dataroom/stamp.py`), format by format, read back
with the same libraries: PDF (every page's annotation and text, the metadata), XLSX (every
sheet's header and footer, the custom property), CSV/TXT (a first `#` line), anything else or a
damaged file (a ZIP with the original and STAMP.txt)."""

import io
import zipfile
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from aips.etp.dataroom.stamp import (
    PDF_KEY,
    STAMP_NAME,
    XLSX_PROPERTY,
    Stamp,
    stamp_file,
    stamp_text,
    wrap_zip,
)
from aips.etp.dataroom.tests.conftest import pdf_bytes, stamped_pdf_texts, xlsx_bytes

STAMP = Stamp(
    lot="LOT-000042",
    reader="Сәрсенова Айгүл\nМаратқызы",
    email="aigul@collect.example.kz",
    organization="ТОО «Коллект & Партнёры»",
    identifier="990840000101",
    at=datetime(2026, 12, 5, 9, 30, 15, 123456, tzinfo=timezone(timedelta(hours=5))),
    download_id="0123456789abcdef0123456789abcdef",
)


def test_r57_3_2_the_stamp_names_the_reader_the_organization_and_the_utc_time() -> None:
    text = STAMP.text()
    assert "\n" not in text  # a name cannot break the stamp into lines
    for part in (
        "LOT-000042",
        "ТОО «Коллект & Партнёры»",
        "BIN/IIN 990840000101",
        "Сәрсенова Айгүл Маратқызы",
        "aigul@collect.example.kz",
        "2026-12-05T04:30:15Z",
        "download 0123456789abcdef0123456789abcdef",
    ):
        assert part in text
    assert STAMP.ascii_text().isascii()
    assert "990840000101" in STAMP.ascii_text()


def test_r57_3_2_a_pdf_is_stamped_on_every_page_and_in_its_metadata() -> None:
    result = stamp_file(pdf_bytes(pages=3), "agreement.pdf", STAMP)
    assert (result.method, result.file_name) == ("pdf", "agreement.pdf")
    pages, metadata = stamped_pdf_texts(result.content)
    assert len(pages) == 3
    for annotations in pages:
        assert STAMP.text() in annotations
    assert metadata["/Subject"] == STAMP.text()
    assert metadata[PDF_KEY] == STAMP.text()
    from pypdf import PdfReader

    for page in PdfReader(io.BytesIO(result.content)).pages:
        assert STAMP.ascii_text() in page.extract_text()


def test_r57_3_2_a_damaged_pdf_falls_back_to_the_zip() -> None:
    broken = b"%PDF-1.7\nnot a PDF after all"
    result = stamp_file(broken, "broken.pdf", STAMP)
    assert (result.method, result.file_name) == ("zip", "broken.pdf.zip")
    with zipfile.ZipFile(io.BytesIO(result.content)) as archive:
        assert archive.read("broken.pdf") == broken
        assert "990840000101" in archive.read(STAMP_NAME).decode()
    assert stamp_file(b"plain text", "renamed.pdf", STAMP).method == "zip"


def test_r57_3_2_a_workbook_is_stamped_in_every_sheet_and_a_property() -> None:
    from openpyxl import load_workbook

    result = stamp_file(xlsx_bytes(), "schedule.xlsx", STAMP)
    assert result.method == "xlsx"
    workbook = load_workbook(io.BytesIO(result.content))
    assert workbook.custom_doc_props[XLSX_PROPERTY].value == STAMP.text()
    assert [ws.title for ws in workbook.worksheets] == ["loans", "summary"]
    # "&" is doubled in a header, where a single one starts a code.
    header = STAMP.text().replace("&", "&&")
    for sheet in workbook.worksheets:
        assert sheet.oddHeader.center.text == header
        assert sheet.oddFooter.center.text == header
    assert workbook["loans"]["B2"].value == "801122500204"  # the content is unchanged
    assert stamp_file(b"PK\x03\x04 broken", "x.xlsx", STAMP).method == "zip"


def test_a_workbook_that_unpacks_too_large_is_wrapped_not_opened(monkeypatch: Any) -> None:
    from aips.etp.dataroom import stamp

    monkeypatch.setattr(stamp, "XLSX_MAX_UNPACKED", 100)
    result = stamp_file(xlsx_bytes(), "schedule.xlsx", STAMP)
    assert (result.method, result.file_name) == ("zip", "schedule.xlsx.zip")


def test_r57_3_2_a_csv_starts_with_a_comment_line() -> None:
    tape = b"\xef\xbb\xbfloan_id,borrower_iin\r\nL-1,801122500204\r\n"
    result = stamp_file(tape, "tape.csv", STAMP)
    assert result.method == "text"
    assert result.content.startswith(b"\xef\xbb\xbf# ETP data room LOT-000042")
    first, rest = result.content[3:].split(b"\r\n", 1)
    assert first.decode() == "# " + STAMP.text()
    assert rest == tape[3:]
    assert stamp_text(b"a\nb\n", STAMP).endswith(b"\na\nb\n")
    assert stamp_file(b"notes", "notes.txt", STAMP).method == "text"


def test_r57_3_2_anything_else_is_zipped_with_stamp_txt_and_a_comment() -> None:
    original = b"\x89PNG\r\n\x1a\nimage"
    result = stamp_file(original, "photo.png", STAMP)
    assert (result.method, result.file_name) == ("zip", "photo.png.zip")
    with zipfile.ZipFile(io.BytesIO(result.content)) as archive:
        assert sorted(archive.namelist()) == [STAMP_NAME, "photo.png"]
        assert archive.read("photo.png") == original
        note = archive.read(STAMP_NAME).decode()
        assert "Time (UTC): 2026-12-05T04:30:15Z" in note
        assert "Reader: Сәрсенова Айгүл Маратқызы" in note
        assert archive.comment.decode() == STAMP.text()
    # A file called STAMP.txt does not hide behind the stamp.
    with zipfile.ZipFile(io.BytesIO(wrap_zip(b"x", "STAMP.txt", STAMP))) as archive:
        assert sorted(archive.namelist()) == [STAMP_NAME, "original-STAMP.txt"]


def test_stamp_time_is_utc_whatever_the_zone() -> None:
    assert STAMP.at_iso == "2026-12-05T04:30:15Z"
    utc = Stamp(**{**STAMP.__dict__, "at": datetime(2026, 1, 1, tzinfo=UTC)})
    assert utc.at_iso == "2026-01-01T00:00:00Z"
