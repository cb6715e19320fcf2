"""Bank statements in SWIFT MT940: the credit entries (`:61:` with the mark C) confirm the
deposits their `:86:` text names (APP-000123) with the right amount and, when the text carries a
12-digit BIN/IIN, the participant's; debits and reversals are ignored and counted; a statement
read twice confirms nothing twice; an unreadable one answers 422 naming its line and field."""

from collections.abc import Callable
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from aips.core.errors import ValidationFailed
from aips.etp.applications import services
from aips.etp.applications.models import Application, DepositState
from aips.etp.applications.tests.test_applications import announce, apply, bind
from aips.shared.accounts.models import User
from aips.shared.audit.models import AuditEvent
from aips.shared.eds.testing import TestPki

pytestmark = pytest.mark.django_db

# Written by hand for these tests after the mt-940 library's documented examples (its README and
# the SWIFT MT940 layout it cites): the basic header block {1:}, the application header {2:} and
# the text block {4:} with :20: (reference), :25: (account), :28C: (statement number),
# :60F: (opening balance), :61:/:86: pairs (entries and their details), :62F: (closing balance).
# The entries: line 6 the deposit (credit, with the reference and the payer's BIN), line 8 a
# bank fee (debit), line 10 a payment naming no application, line 12 a reversal of a credit.
STATEMENT = """{{1:F01KCJBKZKXAXXX0000000000}}{{2:O940KCJBKZKXAXXXN}}{{4:
:20:STMT20261201
:25:KZ86125KZT5004100100
:28C:00001/001
:60F:C261130KZT1000000,00
:61:2612011201C{amount}NTRFNONREF//BANK0001
:86:Deposit {reference} for the auction, payer {payer} {name}
:61:2612011201D2000,00NCHGNONREF
:86:Bank fee
:61:2612011201C5000,00NTRFNONREF//BANK0002
:86:Payment for services 990140000000
:61:2612011201RC{amount}NTRFNONREF//BANK0003
:86:Reversal {reference} payer {payer}
:62F:C261201KZT1003000,00
-}}
"""


@pytest.fixture
def submitted(personas: dict[str, User], at: Any, pki: TestPki) -> Application:
    person = personas["participant_person_1"]
    return apply(person, announce(personas), bind(person, pki, person.organization.bin))


def statement(application: Application, **changes: Any) -> bytes:
    values = {
        "amount": str(application.deposit.amount).replace(".", ","),
        "reference": application.reference,
        "payer": application.organization.bin,
        "name": "Askar Serikbayev",
        **changes,
    }
    return STATEMENT.format(**values).encode()


def test_is_mt940_by_content() -> None:
    assert services.is_mt940(":20:X\n:25:Y\n")
    assert services.is_mt940("\n{1:F01BANK}{4:\n")
    assert services.is_mt940("header\n:61:2612011201C1,00\n")
    assert not services.is_mt940("date,amount,payer,purpose\n")


def test_an_mt940_statement_confirms_the_matching_deposit(
    personas: dict[str, User], submitted: Application
) -> None:
    officer = personas["operator_admission"]
    result = services.deposit_statement_import(actor=officer, content=statement(submitted))
    assert result.format == "mt940"
    assert result.confirmed == [submitted.reference]
    assert result.unmatched == [10]  # the payment naming no application
    assert result.ignored == 2  # the fee (D) and the reversal (RC)
    submitted.deposit.refresh_from_db()
    assert submitted.deposit.state == DepositState.CONFIRMED
    assert "line 6" in submitted.deposit.bank_reference
    assert "STMT20261201" in submitted.deposit.bank_reference
    # Read again: the deposit is named as already received, not confirmed twice.
    again = services.deposit_statement_import(actor=officer, content=statement(submitted))
    assert again.confirmed == []
    assert again.already == [submitted.reference]
    assert AuditEvent.objects.filter(event="deposit:confirmed").count() == 1


def test_another_payer_or_amount_does_not_match(
    personas: dict[str, User], submitted: Application
) -> None:
    officer = personas["operator_admission"]
    for changes in ({"payer": "990240000001"}, {"amount": "1,00"}):
        result = services.deposit_statement_import(
            actor=officer, content=statement(submitted, **changes)
        )
        assert result.confirmed == []
        assert 6 in result.unmatched
    submitted.deposit.refresh_from_db()
    assert submitted.deposit.state == DepositState.EXPECTED


def test_without_a_payer_the_reference_and_amount_match(
    personas: dict[str, User], submitted: Application
) -> None:
    content = statement(submitted, payer="unknown")
    result = services.deposit_statement_import(
        actor=personas["operator_admission"], content=content
    )
    assert result.confirmed == [submitted.reference]


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (":61:2613011201C150,00NTRF", "Line 6, field :61:: not a date"),
        (":61:2612011201X150,00NTRF", "Line 6, field :61:: not a statement line"),
        (":61:2612011201C150NTRF", "Line 6, field :61:: not an amount"),
    ],
)
def test_a_bad_statement_line_is_named(
    personas: dict[str, User], submitted: Application, line: str, expected: str
) -> None:
    text = statement(submitted).decode().splitlines()
    text[5] = line
    with pytest.raises(ValidationFailed) as refused:
        services.deposit_statement_import(
            actor=personas["operator_admission"], content="\n".join(text).encode()
        )
    assert expected in " ".join(refused.value.fields["file"])
    submitted.deposit.refresh_from_db()
    assert submitted.deposit.state == DepositState.EXPECTED


def test_garbage_is_refused(personas: dict[str, User], submitted: Application) -> None:
    officer = personas["operator_admission"]
    for garbage in (
        b"{1:F01\x00\x01 nothing here",
        b":20:X\n:60F:garbage\n",
        b"\xff\xfe\x00 binary",
        b"just text, no columns",
    ):
        with pytest.raises(ValidationFailed) as refused:
            services.deposit_statement_import(actor=officer, content=garbage)
        assert refused.value.fields["file"]
    with pytest.raises(ValidationFailed) as refused:
        services.deposit_statement_import(actor=officer, content=b":20:X\n:60F:garbage\n")
    assert "Line 2, field :60F:" in refused.value.fields["file"][0]
    assert not AuditEvent.objects.filter(event="deposit:confirmed").exists()


def test_the_statement_page_and_api_take_mt940(
    personas: dict[str, User],
    client_as: Callable[[str | None], Client],
    submitted: Application,
) -> None:
    officer = client_as("operator_admission")
    page = officer.post(
        reverse("etp_applications:statement"),
        {"file": SimpleUploadedFile("day.sta", statement(submitted))},
    )
    assert page.status_code == 200
    text = page.content.decode()
    assert submitted.reference in text
    assert "Entries ignored (debits and reversals): 2" in text
    bad = statement(submitted).decode().replace(":61:2612011201C", ":61:2699011201C", 1)
    response = officer.post(
        "/api/v1/deposits/statement",
        {"file": SimpleUploadedFile("day.sta", bad.encode())},
    )
    assert response.status_code == 422
    assert "Line 6, field :61:" in response.json()["error"]["fields"]["file"][0]
