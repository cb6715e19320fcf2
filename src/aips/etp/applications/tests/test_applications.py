"""Procedures, EDS-signed applications, deposits and admission (R57.5 isolation, the
borrower/guarantor rule, the server's deadline)."""

import base64
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from aips.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from aips.etp.applications import selectors, services
from aips.etp.applications.models import (
    Application,
    ApplicationState,
    DepositState,
    Procedure,
)
from aips.etp.applications.tests.conftest import NOW
from aips.etp.lots.models import Lot, LotKind, LotState
from aips.shared.accounts import services as account_services
from aips.shared.accounts.models import User
from aips.shared.audit.models import AuditEvent
from aips.shared.eds import verify
from aips.shared.eds.keystore import KeyBundle
from aips.shared.eds.testing import TestPki, sign_cms
from aips.shared.eds.types import EdsRefused, Purpose

pytestmark = pytest.mark.django_db


GUARANTOR = "600101400704"  # the demo claim's guarantor


def bind(person: User, pki: TestPki, iin: str) -> KeyBundle:
    """Bind `iin` as an EDS sign-in would; return the person's signing key."""
    if person.iin != iin:
        auth = pki.issue(iin=iin, purpose=Purpose.AUTHENTICATION)
        proof = verify.verify_cms(
            sign_cms(b"bind", key=auth, detached=True),
            purpose=Purpose.AUTHENTICATION,
            data=b"bind",
            trust=pki.trust(),
        )
        account_services.iin_bind(actor=person, user=person, eds=proof)
    return pki.issue(iin=iin, purpose=Purpose.SIGNING)


def claim_lot() -> Lot:
    lot: Lot = Lot.objects.get(state=LotState.PUBLISHED, kind=LotKind.CLAIM)
    return lot


def announce(personas: dict[str, User], lot: Lot | None = None) -> Procedure:
    return services.procedure_announce(
        actor=personas["operator_auctioneer"],
        lot=lot or claim_lot(),
        application_deadline=NOW + timedelta(days=10),
        auction_start=NOW + timedelta(days=12),
    )


def apply(
    person: User, procedure: Procedure, key: KeyBundle, moment: datetime = NOW
) -> Application:
    document = services.application_document(procedure=procedure, actor=person, moment=moment)
    signature = base64.b64encode(sign_cms(document, key=key, detached=True)).decode()
    return services.application_submit(
        actor=person, procedure=procedure, moment=moment, eds_signature=signature
    )


def test_procedure_deposit_is_a_percentage_of_the_start_price(
    personas: dict[str, User], at: Any, settings: Any
) -> None:
    settings.AIPS_ETP_DEPOSIT_PERCENT = 10
    lot = claim_lot()
    procedure = announce(personas, lot)
    assert procedure.deposit_amount == (lot.start_price / 10).quantize(Decimal("0.01"))
    assert isinstance(procedure.deposit_amount, Decimal)
    assert procedure.kind == "ascending"
    assert AuditEvent.objects.filter(event="procedure:announced").exists()
    with pytest.raises(Conflict):
        announce(personas, lot)  # one procedure per lot


def test_r57_5_only_the_operator_announces(personas: dict[str, User], at: Any) -> None:
    for name in ("operator_admission", "seller_a_signatory", "participant_person_1"):
        with pytest.raises(Forbidden):
            services.procedure_announce(
                actor=personas[name],
                lot=claim_lot(),
                application_deadline=NOW + timedelta(days=1),
                auction_start=NOW + timedelta(days=2),
            )


def test_procedure_schedule_is_checked(personas: dict[str, User], at: Any) -> None:
    with pytest.raises(ValidationFailed):
        services.procedure_announce(
            actor=personas["operator_admin"],
            lot=claim_lot(),
            application_deadline=NOW - timedelta(minutes=1),
            auction_start=NOW + timedelta(days=2),
        )
    with pytest.raises(ValidationFailed):
        services.procedure_announce(
            actor=personas["operator_admin"],
            lot=claim_lot(),
            application_deadline=NOW + timedelta(days=2),
            auction_start=NOW + timedelta(days=1),
        )


def test_a_participant_applies_with_a_signed_application(
    personas: dict[str, User], at: Any, pki: TestPki
) -> None:
    person = personas["participant_person_1"]
    key = bind(person, pki, person.organization.bin)
    procedure = announce(personas)
    application = apply(person, procedure, key)
    assert application.state == ApplicationState.SUBMITTED
    assert application.signature.signer_iin == person.organization.bin
    assert bytes(application.document) == services.application_document(
        procedure=procedure, actor=person, moment=NOW
    )
    assert application.deposit.state == DepositState.EXPECTED
    assert application.deposit.amount == procedure.deposit_amount
    assert AuditEvent.objects.filter(event="application:submitted").exists()
    with pytest.raises(Conflict):
        apply(person, procedure, key)  # one application per participant


def test_r57_9_an_unconfirmed_e_mail_address_may_not_apply(
    personas: dict[str, User], at: Any, pki: TestPki
) -> None:
    """A participant registered with EDS applies only once the link sent to its address is
    followed: the notices of admission and the auction go there."""
    from aips.etp.participants.models import EmailConfirmation

    person = personas["participant_person_1"]
    key = bind(person, pki, person.organization.bin)
    procedure = announce(personas)
    pending = EmailConfirmation.objects.create(
        user=person, email=person.email, token_hash="0" * 64, sent_at=NOW, expires_at=NOW
    )
    with pytest.raises(Conflict) as refused:
        apply(person, procedure, key)
    assert refused.value.code == "email_unconfirmed"
    assert not Application.objects.filter(procedure=procedure).exists()
    EmailConfirmation.objects.filter(pk=pending.pk).update(confirmed_at=NOW)
    assert apply(person, procedure, key).state == ApplicationState.SUBMITTED


def test_an_application_after_the_deadline_is_refused(
    personas: dict[str, User], at: Any, pki: TestPki
) -> None:
    person = personas["participant_person_1"]
    key = bind(person, pki, person.organization.bin)
    procedure = announce(personas)
    at["now"] = procedure.application_deadline + timedelta(seconds=1)
    with pytest.raises(Conflict) as refused:
        apply(person, procedure, key, moment=at["now"] - timedelta(minutes=5))
    assert refused.value.code == "deadline_passed"
    assert not Application.objects.filter(procedure=procedure).exists()


def test_a_stale_or_foreign_signature_is_refused(
    personas: dict[str, User], at: Any, pki: TestPki
) -> None:
    person = personas["participant_person_1"]
    key = bind(person, pki, person.organization.bin)
    procedure = announce(personas)
    with pytest.raises(ValidationFailed):
        apply(person, procedure, key, moment=NOW - timedelta(hours=2))
    stranger = pki.issue(iin="900202400222", purpose=Purpose.SIGNING)
    with pytest.raises(EdsRefused):
        apply(person, procedure, stranger)  # not the person's bound IIN
    assert not Application.objects.filter(procedure=procedure).exists()


def test_a_guarantor_of_the_lot_may_not_apply(
    personas: dict[str, User], at: Any, pki: TestPki
) -> None:
    person = personas["participant_person_2"]
    organization = person.organization
    organization.bin = GUARANTOR
    organization.save(update_fields=["bin"])
    # The demo binds the person's own IIN: the organization's BIN makes it a party.
    key = bind(person, pki, person.iin or GUARANTOR)
    procedure = announce(personas)
    with pytest.raises(Conflict) as refused:
        apply(person, procedure, key)
    assert refused.value.code == "party_of_lot"


def test_r57_5_a_participant_sees_only_its_own_applications(
    personas: dict[str, User], at: Any, pki: TestPki
) -> None:
    person = personas["participant_person_1"]
    key = bind(person, pki, person.organization.bin)
    application = apply(person, announce(personas), key)
    assert selectors.get_application_for(person, application.pk) == application
    for name in ("participant_person_2", "participant_company_1_rep", "seller_a_maker"):
        with pytest.raises(NotFound):
            selectors.get_application_for(personas[name], application.pk)
    assert selectors.get_application_for(personas["operator_admission"], application.pk)


def test_applicant_count_is_hidden_by_default(
    personas: dict[str, User], at: Any, pki: TestPki, settings: Any
) -> None:
    person = personas["participant_person_1"]
    procedure = announce(personas)
    apply(person, procedure, bind(person, pki, person.organization.bin))
    assert selectors.applicant_count(procedure) is None
    settings.AIPS_ETP_SHOW_APPLICANT_COUNT = True
    assert selectors.applicant_count(procedure) == 1


def test_admission_needs_a_received_deposit(
    personas: dict[str, User], at: Any, pki: TestPki
) -> None:
    person = personas["participant_person_1"]
    officer = personas["operator_admission"]
    application = apply(person, announce(personas), bind(person, pki, person.organization.bin))
    with pytest.raises(Conflict):
        services.application_admit(actor=officer, application=application)
    with pytest.raises(Forbidden):
        services.deposit_confirm(actor=person, deposit=application.deposit)
    services.deposit_confirm(actor=officer, deposit=application.deposit)
    services.application_admit(actor=officer, application=application)
    application.refresh_from_db()
    assert application.state == ApplicationState.ADMITTED
    assert application.deposit.state == DepositState.HELD
    steps = [label for label, _when in selectors.timeline(application)]
    assert len(steps) == 3
    services.deposit_return(actor=officer, deposit=application.deposit)
    application.deposit.refresh_from_db()
    assert application.deposit.state == DepositState.RETURNED


def test_refusal_needs_a_reason(personas: dict[str, User], at: Any, pki: TestPki) -> None:
    person = personas["participant_person_1"]
    officer = personas["operator_admission"]
    application = apply(person, announce(personas), bind(person, pki, person.organization.bin))
    with pytest.raises(ValidationFailed):
        services.application_refuse(actor=officer, application=application, reason=" ")
    services.application_refuse(actor=officer, application=application, reason="Documents")
    application.refresh_from_db()
    assert application.state == ApplicationState.REFUSED
    assert AuditEvent.objects.filter(event="application:refused").exists()


def test_a_bank_statement_confirms_matching_deposits(
    personas: dict[str, User], at: Any, pki: TestPki
) -> None:
    person = personas["participant_person_1"]
    officer = personas["operator_admission"]
    application = apply(person, announce(personas), bind(person, pki, person.organization.bin))
    payer = person.organization.bin
    bad = f"date;amount;payer;purpose\n2026-13-01;x;123;{application.reference}\n".encode()
    with pytest.raises(ValidationFailed) as refused:
        services.deposit_statement_import(actor=officer, content=bad)
    message = str(refused.value.fields)
    assert "Row 2, column date" in message
    assert "Row 2, column amount" in message
    good = (
        "date,amount,payer,purpose\n"
        f"2026-12-01,{application.deposit.amount},{payer},Deposit {application.reference}\n"
        f"2026-12-01,5.00,{payer},something else\n"
    ).encode()
    result = services.deposit_statement_import(actor=officer, content=good)
    assert result.confirmed == [application.reference]
    assert result.unmatched == [3]
    application.deposit.refresh_from_db()
    assert application.deposit.state == DepositState.CONFIRMED
