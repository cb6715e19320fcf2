"""Notices of applications and deposits, in-app and by e-mail, in the recipient's language: the
participant hears of its application's receipt, its deposit, the admission decision (a refusal
with its reason) and the deposit's return; the admission officers of an arriving application."""

from typing import Any

import pytest
from django.conf import settings

from aips.etp.applications import services
from aips.etp.applications.models import Application
from aips.etp.applications.tests.test_applications import announce, apply, bind
from aips.shared.accounts.models import User
from aips.shared.eds.testing import TestPki
from aips.shared.notifications.models import Notification, OutboxMessage

pytestmark = pytest.mark.django_db


def kinds(user: User, application: Application) -> list[str]:
    return list(
        Notification.objects.filter(user=user, object_id=application.pk)
        .filter(kind__startswith="etp.application.")
        .order_by("id")
        .values_list("kind", flat=True)
    )


@pytest.fixture
def submitted(personas: dict[str, User], at: Any, pki: TestPki) -> Application:
    person = personas["participant_person_1"]
    return apply(person, announce(personas), bind(person, pki, person.organization.bin))


def test_an_application_is_acknowledged_and_the_officers_told(
    personas: dict[str, User], submitted: Application
) -> None:
    person = personas["participant_person_1"]
    assert kinds(person, submitted) == ["etp.application.submitted"]
    assert kinds(personas["operator_admission"], submitted) == ["etp.application.arrived"]
    # Nobody else: not another participant, not the seller, not other operator people.
    for name in ("participant_person_2", "seller_a_maker", "operator_verifier", "operator_admin"):
        assert kinds(personas[name], submitted) == []
    receipt = Notification.objects.get(user=person, kind="etp.application.submitted")
    assert submitted.reference in receipt.texts["en"]
    assert str(submitted.deposit.amount) in receipt.texts["en"]
    assert set(receipt.texts) == {code for code, _name in settings.LANGUAGES}
    assert receipt.link == f"/applications/{submitted.pk}/"
    assert OutboxMessage.objects.filter(to=person.email, subject__contains=submitted.reference)
    assert OutboxMessage.objects.filter(to=personas["operator_admission"].email).exists()


def test_each_admission_step_tells_the_participant(
    personas: dict[str, User], submitted: Application
) -> None:
    person = personas["participant_person_1"]
    officer = personas["operator_admission"]
    services.deposit_confirm(actor=officer, deposit=submitted.deposit)
    services.application_admit(actor=officer, application=submitted)
    services.deposit_return(actor=officer, deposit=submitted.deposit)
    assert kinds(person, submitted) == [
        "etp.application.submitted",
        "etp.application.deposit_confirmed",
        "etp.application.admitted",
        "etp.application.deposit_returned",
    ]
    # The officer who acted is not told of their own steps.
    assert kinds(officer, submitted) == ["etp.application.arrived"]
    mails = OutboxMessage.objects.filter(to=person.email, subject__contains=submitted.reference)
    assert mails.count() == 4


def test_a_refusal_carries_its_reason_in_every_language(
    personas: dict[str, User], submitted: Application
) -> None:
    person = personas["participant_person_1"]
    services.application_refuse(
        actor=personas["operator_admission"], application=submitted, reason="No power of attorney"
    )
    notice = Notification.objects.get(user=person, kind="etp.application.refused")
    for code, _name in settings.LANGUAGES:
        assert "No power of attorney" in notice.texts[code]
        assert submitted.reference in notice.texts[code]
    mail = OutboxMessage.objects.filter(to=person.email).order_by("-id").first()
    assert mail is not None
    assert "No power of attorney" in mail.body
