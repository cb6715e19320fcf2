"""The loan tape of a portfolio lot: a CSV file, one row per loan, read and checked row by row.
Every error names its row (the header is row 1) and its column, so the seller fixes the file in
one pass. XLSX is not read: no spreadsheet library is installed (save the sheet as CSV)."""

import csv
import io
from dataclasses import dataclass, field
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


def parse(data: bytes, *, retail_min_overdue: int | None) -> Tape:
    """Read a tape; `retail_min_overdue`: the rule for retail loans (None: no such rule)."""
    tape = Tape()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        tape.errors.append(_("The loan tape must be a CSV file in UTF-8."))
        return tape
    sample = text[:4096]
    delimiter = ";" if sample.count(";") > sample.count(",") else ","
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    try:
        header = [h.strip().lower() for h in next(reader)]
    except (StopIteration, csv.Error):
        tape.errors.append(_("The loan tape is empty."))
        return tape
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        tape.errors.append(
            _("Row 1: the columns %(columns)s are missing.") % {"columns": ", ".join(missing)}
        )
        return tape
    index = {name: header.index(name) for name in COLUMNS if name in header}
    try:
        for number, cells in enumerate(reader, start=2):
            if not any(c.strip() for c in cells):
                continue
            if number - 1 > MAX_ROWS:
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
    except csv.Error as exc:
        tape.errors.append(_("The file is not a readable CSV: %(error)s") % {"error": exc})
    if not tape.loans and not tape.errors:
        tape.errors.append(_("The loan tape has no loans."))
    return tape
