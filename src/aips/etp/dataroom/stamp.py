"""Stamping a data room file with its reader's identity and the time of the download: pure
functions from the original bytes and a `Stamp` to the bytes sent, nothing read or written
elsewhere.

- PDF (pypdf): a visible FreeText annotation at the foot of every page with the whole stamp, a
  line of the stamp's ASCII part written into every page's content (an annotation is easy to
  delete, the page's text is not), and the document's metadata (`/Subject` and `/ETPStamp`).
- XLSX (openpyxl): the header and footer of every sheet and a custom document property
  `ETP stamp`. openpyxl rewrites the workbook: values, formulas and formatting stay; charts and
  images may not.
- CSV and TXT: a first line `# <stamp>` (after a UTF-8 byte order mark, if any).
- Anything else, and a file that cannot be stamped (a corrupt PDF or workbook): a ZIP with the
  original file as it is and `STAMP.txt`, the stamp also as the archive's comment.
"""

import io
import re
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import PurePath
from typing import Final, Literal

Method = Literal["pdf", "xlsx", "text", "zip"]

TEXT_SUFFIXES: Final = frozenset({".csv", ".txt"})
STAMP_NAME: Final = "STAMP.txt"
XLSX_PROPERTY: Final = "ETP stamp"
PDF_KEY: Final = "/ETPStamp"
# Excel refuses a header or footer section longer than 255 characters.
_HEADER_LIMIT = 250
# A workbook unpacking to more than this is not opened (a ZIP bomb): it is wrapped instead.
XLSX_MAX_UNPACKED = 200 * 2**20
_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029]+")


class StampError(Exception):
    """The file could not be stamped in its own format (the caller wraps it in a ZIP)."""


def _clean(value: str) -> str:
    """One line: no control characters (a name cannot break the stamp into lines)."""
    return _CONTROL.sub(" ", value).strip()


@dataclass(frozen=True)
class Stamp:
    """Who downloaded which lot's file, and when (UTC), under which download id."""

    lot: str  # the lot's reference, LOT-000123
    reader: str  # the person's full name
    email: str
    organization: str  # the organization's name
    identifier: str  # its BIN (an individual participant: the IIN)
    at: datetime
    download_id: str

    @property
    def at_iso(self) -> str:
        return self.at.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")

    def text(self) -> str:
        """The stamp in one line."""
        return " | ".join(
            _clean(part)
            for part in (
                f"ETP data room {self.lot}",
                f"{self.organization} BIN/IIN {self.identifier}",
                f"{self.reader} <{self.email}>",
                f"{self.at_iso}",
                f"download {self.download_id}",
            )
        )

    def ascii_text(self) -> str:
        """The parts of the stamp that are ASCII in every case (no names): for a PDF page's own
        text, which is drawn with a standard font."""
        return (
            " | ".join(
                (
                    f"ETP data room {_clean(self.lot)}",
                    f"BIN/IIN {_clean(self.identifier)}",
                    _clean(self.email),
                    self.at_iso,
                    f"download {_clean(self.download_id)}",
                )
            )
            .encode("ascii", "replace")
            .decode("ascii")
        )

    def lines(self) -> list[str]:
        """The stamp as `STAMP.txt` holds it."""
        return [
            "ETP data room download",
            f"Lot: {_clean(self.lot)}",
            f"Organization: {_clean(self.organization)}",
            f"BIN/IIN: {_clean(self.identifier)}",
            f"Reader: {_clean(self.reader)}",
            f"E-mail: {_clean(self.email)}",
            f"Time (UTC): {self.at_iso}",
            f"Download id: {_clean(self.download_id)}",
        ]


@dataclass(frozen=True)
class Stamped:
    content: bytes
    file_name: str
    method: Method


def stamp_file(content: bytes, file_name: str, stamp: Stamp) -> Stamped:
    """The stamped file in its own format when it is a PDF, XLSX, CSV or TXT file, else (or
    when that fails) the original in a ZIP with `STAMP.txt`."""
    suffix = PurePath(file_name).suffix.lower()
    try:
        if suffix == ".pdf":
            return Stamped(stamp_pdf(content, stamp), file_name, "pdf")
        if suffix == ".xlsx":
            return Stamped(stamp_xlsx(content, stamp), file_name, "xlsx")
        if suffix in TEXT_SUFFIXES:
            return Stamped(stamp_text(content, stamp), file_name, "text")
    except StampError:
        pass
    return Stamped(wrap_zip(content, file_name, stamp), f"{file_name}.zip", "zip")


def stamp_text(content: bytes, stamp: Stamp) -> bytes:
    """A first comment line; the original bytes follow unchanged."""
    bom = b"\xef\xbb\xbf"
    head = bom if content.startswith(bom) else b""
    newline = b"\r\n" if b"\r\n" in content[:65536] else b"\n"
    return head + b"# " + stamp.text().encode("utf-8") + newline + content[len(head) :]


def _pdf_text_string(text: str) -> bytes:
    escaped = text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
    return b"(" + escaped.encode("latin-1", "replace") + b")"


def stamp_pdf(content: bytes, stamp: Stamp) -> bytes:
    """Every page: the ASCII stamp as page text and the full stamp as a FreeText annotation
    along its foot; the metadata: `/Subject` and `/ETPStamp`. Raises StampError on a file
    pypdf cannot read or write (corrupt, encrypted)."""
    from pypdf import PageObject, PdfReader, PdfWriter
    from pypdf.annotations import FreeText
    from pypdf.generic import (
        DecodedStreamObject,
        DictionaryObject,
        NameObject,
        NumberObject,
    )

    if not content.startswith(b"%PDF"):
        raise StampError("not a PDF")
    try:
        reader = PdfReader(io.BytesIO(content), strict=False)
        if reader.is_encrypted:
            raise StampError("encrypted")
        writer = PdfWriter(clone_from=reader)
        if not writer.pages:
            raise StampError("no pages")
        full, line = stamp.text(), stamp.ascii_text()
        for number, page in enumerate(writer.pages):
            box = page.mediabox
            left, bottom = float(box.left), float(box.bottom)
            width = float(box.width)
            overlay = PageObject.create_blank_page(width=width, height=float(box.height))
            stream = DecodedStreamObject()
            stream.set_data(
                b"q BT /ETPStampFont 6 Tf 0.35 g "
                + f"{left + 12:.2f} {bottom + 4:.2f} Td ".encode()
                + _pdf_text_string(line)
                + b" Tj ET Q"
            )
            font = DictionaryObject(
                {
                    NameObject("/Type"): NameObject("/Font"),
                    NameObject("/Subtype"): NameObject("/Type1"),
                    NameObject("/BaseFont"): NameObject("/Helvetica"),
                    NameObject("/Encoding"): NameObject("/WinAnsiEncoding"),
                }
            )
            overlay[NameObject("/Resources")] = DictionaryObject(
                {NameObject("/Font"): DictionaryObject({NameObject("/ETPStampFont"): font})}
            )
            overlay[NameObject("/Contents")] = stream
            page.merge_page(overlay)
            annotation = FreeText(
                text=full,
                rect=(left + 10, bottom + 12, left + max(width - 10, 20), bottom + 30),
                font="Helvetica",
                font_size="6pt",
                font_color="555555",
                border_color=None,
                background_color=None,
            )
            annotation[NameObject("/F")] = NumberObject(4)  # print the annotation too
            writer.add_annotation(page_number=number, annotation=annotation)
        writer.add_metadata({"/Subject": full, PDF_KEY: full})
        out = io.BytesIO()
        writer.write(out)
    except StampError:
        raise
    except Exception as exc:  # pypdf raises many kinds on a damaged file
        raise StampError(str(exc)) from exc
    return out.getvalue()


def stamp_xlsx(content: bytes, stamp: Stamp) -> bytes:
    """The header and footer of every sheet and the custom property `ETP stamp`. Raises
    StampError on a file openpyxl cannot read."""
    from openpyxl import load_workbook
    from openpyxl.packaging.custom import StringProperty

    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
        if unpacked > XLSX_MAX_UNPACKED:
            raise StampError("the workbook unpacks too large")
        workbook = load_workbook(io.BytesIO(content))
    except StampError:
        raise
    except Exception as exc:  # openpyxl and zipfile raise many kinds
        raise StampError(str(exc)) from exc
    full = stamp.text()
    # "&" starts a code in a header: "&&" is the character itself.
    header = full.replace("&", "&&")[:_HEADER_LIMIT]
    for sheet in workbook.worksheets:
        for part in (sheet.oddHeader, sheet.evenHeader, sheet.firstHeader):
            part.center.text = header
        for part in (sheet.oddFooter, sheet.evenFooter, sheet.firstFooter):
            part.center.text = header
    props = workbook.custom_doc_props
    if XLSX_PROPERTY in props.names:
        del props[XLSX_PROPERTY]
    props.append(StringProperty(name=XLSX_PROPERTY, value=full))
    out = io.BytesIO()
    try:
        workbook.save(out)
    except Exception as exc:  # as above
        raise StampError(str(exc)) from exc
    return out.getvalue()


def wrap_zip(content: bytes, file_name: str, stamp: Stamp) -> bytes:
    """The original file as it is, `STAMP.txt` beside it, the stamp as the archive's comment."""
    name = PurePath(file_name).name or "file"
    if name == STAMP_NAME:
        name = f"original-{name}"
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.comment = stamp.text().encode("utf-8")[:65535]
        info = zipfile.ZipInfo(name, date_time=_zip_time(stamp.at))
        info.compress_type = zipfile.ZIP_DEFLATED
        archive.writestr(info, content)
        note = zipfile.ZipInfo(STAMP_NAME, date_time=_zip_time(stamp.at))
        note.compress_type = zipfile.ZIP_DEFLATED
        archive.writestr(note, "\n".join(stamp.lines()) + "\n")
    return out.getvalue()


def _zip_time(at: datetime) -> tuple[int, int, int, int, int, int]:
    moment = at.astimezone(UTC)
    moment = max(moment, datetime(1980, 1, 1, tzinfo=UTC))
    return (moment.year, moment.month, moment.day, moment.hour, moment.minute, moment.second)
