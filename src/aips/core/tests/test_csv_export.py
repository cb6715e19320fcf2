"""CSV exports cannot carry a formula into a spreadsheet (R57.28.4; issue 13.7), whichever list
separator the spreadsheet splits on: `,` (en), `;` (the ru-KZ and kk-KZ default), or tab."""

import csv
import io
import re
from collections.abc import Callable
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from aips.conftest import published_alert
from aips.core.csv_export import TRIGGERS, csv_row, csv_safe, csv_writer, neutralize
from aips.shared.accounts.models import User
from aips.shared.audit.tests.test_ui import add_entry, body

DDE = "x;=cmd|' /C calc'!A0"
HOSTILE = [
    DDE,
    "=1+1",
    "@SUM(A1)",
    "-2",
    "+1",
    "\t=1+1",
    "\r=1+1",
    "a,=1+1",
    'a; "=1+1"',
    "a\n@SUM(A1)",
    "a\t-2",
    "＝1+1",
    "ok;\t=1",
]


def _pieces(text: str) -> list[str]:
    """Every cell any reader could make of the file: split on each list separator and line
    break, ignoring quotes, and drop what a reader trims before it looks at a cell."""
    return [piece.lstrip(' "') for piece in re.split(r"[,;\t\r\n]", text)]


def _assert_no_formula(text: str) -> None:
    for piece in _pieces(text):
        assert not piece or piece[0] not in TRIGGERS, repr(piece)
    for delimiter in (",", ";", "\t"):
        try:
            rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
        except csv.Error:
            # Python's reader gives up on some mis-split lines; the split above covered them.
            assert delimiter != ","
            continue
        for row in rows:
            for cell in row:
                stripped = cell.lstrip(' "')
                assert not stripped or stripped[0] not in TRIGGERS, (delimiter, repr(cell))


@pytest.mark.parametrize("value", HOSTILE)
def test_r57_28_4_every_possible_cell_start_is_neutralized(value: str) -> None:
    safe = csv_safe(value)
    _assert_no_formula(safe)
    # Nothing is lost: removing the apostrophes put before triggers gives the text back.
    assert re.sub(r"'(?=[=+\-@\t\r＝＋－＠])", "", safe) == value


def test_r57_28_4_the_reported_title_is_quoted_and_split_safely() -> None:
    assert neutralize(DDE) == "x;'=cmd|' /C calc'!A0"
    buffer = io.StringIO()
    csv_writer(buffer).writerow(csv_row(["A-1", DDE, 3]))
    line = buffer.getvalue()
    assert line == '"A-1","x;\'=cmd|\' /C calc\'!A0","3"\r\n'
    # Excel with `;` as its list separator (ru/kk): the cell after `;` is text, not =cmd.
    assert line.split(";")[1].startswith("'=cmd")
    _assert_no_formula(line)


def test_r57_28_4_plain_text_and_our_numbers_stay_as_they_are() -> None:
    for text in ["plain", "A-1", "Ransomware: 2024-05-01", "e-mail a@b.kz", "x = y", "", "'"]:
        assert csv_safe(text) == text
    # Numbers the application writes (ids, sequence numbers, counts) stay numbers, negative ones
    # too; the same characters as text from a user are neutralized.
    assert csv_safe(-2) == "-2"
    assert csv_safe(Decimal("-1.50")) == "-1.50"
    assert csv_safe(-0.5) == "-0.5"
    assert csv_safe("-2") == "'-2"
    assert csv_safe(True) == "True"
    assert csv_safe(None) == ""


def test_r57_28_4_alert_compliance_export_neutralizes_hostile_titles(
    personas: dict[str, User], client_as: Callable[[str | None], Client]
) -> None:
    for title in HOSTILE:
        published_alert(personas, title=f"Alert {title}" if title[0] in "\t\r" else title)
    response = client_as("center_analyst").get(reverse("alerts:compliance_csv"))
    assert response.status_code == 200
    text = response.content.decode("utf-8-sig")
    _assert_no_formula(text)
    titles = {row["title"] for row in csv.DictReader(io.StringIO(text))}
    assert "x;'=cmd|' /C calc'!A0" in titles
    assert "'=1+1" in titles
    assert "'@SUM(A1)" in titles
    # Every field is quoted, so a separator inside a title never splits it for a `,` reader.
    assert all(line.startswith('"') for line in text.split("\r\n") if line)


def test_r57_28_4_audit_export_neutralizes_every_text_column(
    client_as: Callable[[str | None], Client], personas: dict[str, User]
) -> None:
    for label in HOSTILE:
        add_entry(label, details={"note": label})
    response = client_as("auditor").get("/audit/export/", {"event": "user:updated"})
    assert response.status_code == 200
    text = body(response).lstrip("\ufeff")
    _assert_no_formula(text)
    rows = list(csv.DictReader(io.StringIO(text)))
    labels = {row["actor_label"] for row in rows}
    assert "x;'=cmd|' /C calc'!A0" in labels
    assert "'-2" in labels
    # The sequence numbers are the journal's own: written as plain numbers.
    assert all(row["seq"].isdigit() for row in rows)
