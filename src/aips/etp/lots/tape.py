"""The loan tape of a portfolio lot: a CSV file or an XLSX workbook (its first sheet), one row
per loan, read and checked row by row. Every error names its row (the header is row 1) and its
column, so the seller fixes the file in one pass.

The content decides the format, not the name: a ZIP (`PK\\x03\\x04`) is read as XLSX, anything
else as CSV; a file named `.xlsx` that is no ZIP is refused. Before openpyxl opens a workbook its
ZIP directory is checked (at most `MAX_XLSX_MEMBERS` members and `MAX_XLSX_UNCOMPRESSED` bytes
unpacked, as declared: Python's zipfile never inflates a member past its declared size), so a
ZIP bomb is refused unread. Cells are read as values (`data_only`: a formula gives the value the
spreadsheet program saved with it; a formula without one is an error of its row). Numbers may be
numeric cells or text; an IIN or BIN given as a number must still have its 12 digits (a number
loses the leading zero: the column must be formatted as text)."""

import csv
import io
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils.translation import gettext as _

from aips.core.identifiers import bin_error

COLUMNS = (
    "loan_id",
    "borrower_iin",
    "borrower_name",
    "guarantor_iins",
    "region",
    "principal",
    "interest",
    "penalties",
    "days_overdue",
)
REQUIRED = ("loan_id", "borrower_iin", "region", "principal", "days_overdue")
MAX_ROWS = 100_000
MAX_ERRORS = 200
ZIP_MAGIC = b"PK\x03\x04"
# A tape of MAX_ROWS loans unpacks to some 40 MB of sheet XML; a ZIP claiming more is refused.
MAX_XLSX_UNCOMPRESSED = 200 * 1024 * 1024
MAX_XLSX_MEMBERS = 1000
# The last row a spreadsheet can hold: a sheet claiming rows past it is not read on.
MAX_SHEET_ROW = 1_048_576
IDENTIFIER_COLUMNS = ("borrower_iin", "guarantor_iins")


@dataclass
class Loan:
    borrower: str
    borrower_name: str
    guarantors: list[str]
    region: str
    debt: Decimal
    days_overdue: int


@dataclass
class Tape:
    loans: list[Loan] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    # Cells already reported by the reader (row, column): the checks do not report them again.
    reported: set[tuple[int, str]] = field(default_factory=set)

    def aggregates(self) -> dict[str, Any]:
        """What the public sees of a portfolio: totals, never a loan."""
        total = sum((loan.debt for loan in self.loans), start=Decimal(0))
        by_region: dict[str, dict[str, Any]] = {}
        for loan in self.loans:
            entry = by_region.setdefault(loan.region, {"count": 0, "debt": Decimal(0)})
            entry["count"] += 1
            entry["debt"] += loan.debt
        count = len(self.loans)
        return {
            "count": count,
            "total_debt": str(total),
            "average_days_overdue": (
                round(sum(loan.days_overdue for loan in self.loans) / count) if count else 0
            ),
            "by_region": {
                region: {"count": v["count"], "debt": str(v["debt"])}
                for region, v in sorted(by_region.items())
            },
        }


def _error(tape: Tape, row: int, column: str, message: str) -> None:
    if (row, column) in tape.reported:
        return
    if len(tape.errors) < MAX_ERRORS:
        tape.errors.append(
            _("Row %(row)d, column “%(column)s”: %(message)s")
            % {"row": row, "column": column, "message": message}
        )


def _amount(tape: Tape, row: int, column: str, raw: str, *, required: bool) -> Decimal:
    text = raw.strip().replace(" ", "").replace(",", ".")
    if not text:
        if required:
            _error(tape, row, column, _("This field is required."))
        return Decimal(0)
    try:
        value = Decimal(text)
    except InvalidOperation:
        _error(tape, row, column, _("Enter an amount, for example 150000.00."))
        return Decimal(0)
    if not value.is_finite() or value < 0 or value >= Decimal(10) ** 16:
        _error(tape, row, column, _("Enter an amount, 0 or more."))
        return Decimal(0)
    return value


class _Unreadable(Exception):
    """The file is not a workbook openpyxl can read; the message is the seller's."""


def parse(data: bytes, *, retail_min_overdue: int | None, name: str = "") -> Tape:
    """Read a tape; `retail_min_overdue`: the rule for retail loans (None: no such rule);
    `name` the file's name (only to refuse an `.xlsx` that is no workbook)."""
    tape = Tape()
    if data.startswith(ZIP_MAGIC):
        try:
            _check_zip(data)
            _read_xlsx(tape, data, retail_min_overdue)
        except _Unreadable as exc:
            tape.loans.clear()
            tape.errors[:] = [str(exc)]
        return tape
    if name.lower().endswith((".xlsx", ".xlsm")):
        tape.errors.append(_("The file is not an XLSX workbook: save it again as XLSX or CSV."))
        return tape
    _read_csv(tape, data, retail_min_overdue)
    return tape


def _read_csv(tape: Tape, data: bytes, retail_min_overdue: int | None) -> None:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        tape.errors.append(_("The loan tape must be a CSV file in UTF-8."))
        return
    sample = text[:4096]
    delimiter = ";" if sample.count(";") > sample.count(",") else ","
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    try:
        header = next(reader)
    except (StopIteration, csv.Error):
        tape.errors.append(_("The loan tape is empty."))
        return
    try:
        _check_rows(tape, header, enumerate(reader, start=2), retail_min_overdue)
    except csv.Error as exc:
        tape.errors.append(_("The file is not a readable CSV: %(error)s") % {"error": exc})


def _check_zip(data: bytes) -> None:
    """The ZIP's directory, before openpyxl reads a byte of it: an XLSX's parts, a bounded
    number of members and a bounded unpacked size."""
    unreadable = _("The file is not a readable XLSX workbook: save it again as XLSX or CSV.")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError, EOFError) as exc:
        raise _Unreadable(unreadable) from exc
    names = {m.filename for m in members}
    if "[Content_Types].xml" not in names or "xl/workbook.xml" not in names:
        raise _Unreadable(unreadable)
    if len(members) > MAX_XLSX_MEMBERS or sum(m.file_size for m in members) > (
        MAX_XLSX_UNCOMPRESSED
    ):
        raise _Unreadable(
            _("The workbook unpacks to more than %(mb)d MB: upload the loans as CSV.")
            % {"mb": MAX_XLSX_UNCOMPRESSED // 2**20}
        )


def _read_xlsx(tape: Tape, data: bytes, retail_min_overdue: int | None) -> None:
    from openpyxl import load_workbook  # a large import, only for the tapes that need it

    try:
        # openpyxl raises many kinds of errors on a damaged workbook (KeyError, ValueError,
        # zipfile's, XML parse errors, TypeError...): every one is the same answer to the seller.
        values = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        # Formulas are looked at only in a workbook that has some (a second, lazy read).
        formulas = (
            load_workbook(io.BytesIO(data), read_only=True, data_only=False)
            if _has_formulas(data)
            else None
        )
        try:
            if not values.worksheets:
                raise _Unreadable(_("The workbook has no sheet."))
            rows = values.worksheets[0].iter_rows(values_only=True)
            texts = None if formulas is None else formulas.worksheets[0].iter_rows(values_only=True)
            header_cells = next(rows, None)
            if texts is not None:
                next(texts, None)
            if header_cells is None:
                tape.errors.append(_("The loan tape is empty."))
                return
            header = [_text(v) for v in header_cells]
            columns = [h.strip().lower() for h in header]
            _check_rows(tape, header, _sheet_rows(tape, rows, texts, columns), retail_min_overdue)
        finally:
            values.close()
            if formulas is not None:
                formulas.close()
    except _Unreadable:
        raise
    except Exception as exc:
        raise _Unreadable(
            _("The file is not a readable XLSX workbook: save it again as XLSX or CSV.")
        ) from exc


def _has_formulas(data: bytes) -> bool:
    """Whether a sheet holds a formula (`<f>` elements), read in pieces from the ZIP."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for member in archive.infolist():
            if not member.filename.startswith("xl/worksheets/"):
                continue
            tail = b""
            with archive.open(member) as part:
                while chunk := part.read(1 << 20):
                    window = tail + chunk
                    if b"<f>" in window or b"<f " in window or b"<f/>" in window:
                        return True
                    tail = window[-4:]
    return False


def _bad_identifier(value: Any) -> bool:
    """A number where an IIN or BIN belongs that is not 12 digits (a lost leading zero)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    return not float(value).is_integer() or len(str(int(value))) != 12


def _sheet_rows(
    tape: Tape,
    rows: Iterator[tuple[Any, ...]],
    formulas: Iterator[tuple[Any, ...]] | None,
    columns: list[str],
) -> Iterator[tuple[int, list[str]]]:
    """The sheet's rows after the header as text cells (row 2 on). A formula without a saved
    value, or an IIN given as a number without its 12 digits, is an error of its row and
    column (and the checks do not report that cell again)."""
    for number, cells in enumerate(rows, start=2):
        if number > MAX_SHEET_ROW:
            break
        written = next(formulas, ()) if formulas is not None else ()
        texts = []
        for position, value in enumerate(cells):
            name = columns[position] if position < len(columns) else f"#{position + 1}"
            source = written[position] if position < len(written) else None
            if value is None and isinstance(source, str) and source.startswith("="):
                _error(
                    tape,
                    number,
                    name,
                    _(
                        "A formula without a saved value: enter the value, or open the file in "
                        "a spreadsheet program and save it again."
                    ),
                )
                tape.reported.add((number, name))
            elif name in IDENTIFIER_COLUMNS and _bad_identifier(value):
                _error(
                    tape,
                    number,
                    name,
                    _("An IIN or BIN must be 12 digits; format the column as text."),
                )
                tape.reported.add((number, name))
            texts.append(_text(value))
        yield number, texts


def _text(value: Any) -> str:
    """A cell's value as the CSV would hold it: numbers without exponent or a trailing `.0`."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e18:
            return str(int(value))
        return format(Decimal(repr(value)), "f")
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    return str(value)


def _check_rows(
    tape: Tape,
    header: list[str],
    rows: Iterable[tuple[int, list[str]]],
    retail_min_overdue: int | None,
) -> None:
    """The loans of numbered rows of text cells under `header` (row 1)."""
    header = [h.strip().lower() for h in header]
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        tape.errors.append(
            _("Row 1: the columns %(columns)s are missing.") % {"columns": ", ".join(missing)}
        )
        return
    index = {name: header.index(name) for name in COLUMNS if name in header}
    loans = 0
    for number, cells in rows:
        if not any(c.strip() for c in cells):
            continue
        loans += 1
        if loans > MAX_ROWS:
            tape.errors.append(_("At most %(n)d loans in one tape.") % {"n": MAX_ROWS})
            break
        row = {name: (cells[i] if i < len(cells) else "") for name, i in index.items()}
        for name in ("loan_id", "region"):
            if not row[name].strip():
                _error(tape, number, name, _("This field is required."))
        borrower = row["borrower_iin"].strip()
        problem = bin_error(borrower)
        if problem:
            _error(tape, number, "borrower_iin", problem)
        guarantors = [g.strip() for g in row.get("guarantor_iins", "").split("|") if g.strip()]
        for guarantor in guarantors:
            problem = bin_error(guarantor)
            if problem:
                _error(tape, number, "guarantor_iins", problem)
        debt = _amount(tape, number, "principal", row["principal"], required=True)
        for name in ("interest", "penalties"):
            debt += _amount(tape, number, name, row.get(name, ""), required=False)
        raw_days = row["days_overdue"].strip()
        days = 0
        if not raw_days.isdigit() or len(raw_days) > 6:
            _error(tape, number, "days_overdue", _("Enter a whole number of days, 0 or more."))
        else:
            days = int(raw_days)
            if retail_min_overdue is not None and days <= retail_min_overdue:
                _error(
                    tape,
                    number,
                    "days_overdue",
                    _("A retail loan may be sold only when overdue more than %(n)d days.")
                    % {"n": retail_min_overdue},
                )
        tape.loans.append(
            Loan(
                borrower=borrower,
                borrower_name=row.get("borrower_name", "").strip()[:300],
                guarantors=guarantors,
                region=row["region"].strip()[:100],
                debt=debt,
                days_overdue=days,
            )
        )
    if not tape.loans and not tape.errors:
        tape.errors.append(_("The loan tape has no loans."))
