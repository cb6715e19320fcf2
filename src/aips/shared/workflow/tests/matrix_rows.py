"""The authorization matrix's rows for EDS-signed approvals and decisions (issue 16, item 4;
core/tests/test_authorization_matrix.py).

Bank A's signed acts: its head's signed approval of a card, its head's signed acceptance of the
center's TLP:GREEN alert, and its head's signed approval of a request to the center. Bank B is a
third party: 404 where it holds the permission, 403 where its role lacks it."""

from typing import Any

from aips.core.tests.matrix import BANK_A, CENTER, Row, only, statuses

B_404 = {"bank_b_head": 404, "bank_b_maker": 404}
CENTER_200 = dict.fromkeys(CENTER, 200)
BANK_A_200 = dict.fromkeys(BANK_A, 200)


def matrix_objects(personas: dict[str, Any]) -> dict[str, Any]:
    """The signed acts, made as a head's signature would be (verified against a test CA of the
    matrix's own; the acts themselves through the same `signing.keep` the services use)."""
    from django.db import transaction

    from aips.center.alerts import selectors as alert_selectors
    from aips.center.alerts import services as alert_services
    from aips.center.incidents import services as incident_services
    from aips.center.inquiries import services as inquiry_services
    from aips.center.inquiries.tests.factories import inquiry_data, thread_of
    from aips.conftest import card_data, published_alert
    from aips.shared.eds.canonical import ActDocument
    from aips.shared.eds.testing import TestPki, sign_cms
    from aips.shared.eds.types import Purpose
    from aips.shared.eds.verify import verify_cms
    from aips.shared.workflow import signing

    pki = TestPki()
    maker, head = personas["bank_a_maker"], personas["bank_a_head"]
    key = pki.issue(iin="850101300111", purpose=Purpose.SIGNING)

    def signed(document: ActDocument | None) -> signing.Checked:
        assert document is not None
        data = document.to_bytes()
        cms = sign_cms(data, key=key, detached=True)
        verification = verify_cms(cms, purpose=Purpose.SIGNING, data=data, trust=pki.trust())
        return signing.Checked(verification=verification, cms=cms, document=data)

    card = incident_services.card_create(actor=maker, **card_data(title="Signed card"))
    card = incident_services.card_transition(actor=maker, card=card, name="request_approval")
    card_checked = signed(incident_services.card_document(actor=head, card=card, name="approve"))
    card = incident_services.card_transition(actor=head, card=card, name="approve")

    alert = published_alert(personas, title="Alert accepted with EDS")
    recipient = alert_selectors.recipient_for(head, alert)
    assert recipient is not None
    alert_checked = signed(alert_services.alert_document(actor=head, alert=alert, name="accept"))
    recipient = alert_services.recipient_accept(actor=head, recipient=recipient)

    center_id = personas["center_admin"].organization_id
    inquiry = inquiry_services.inquiry_create(
        actor=maker, **inquiry_data(addressee_ids=[center_id], subject="Signed request")
    )
    inquiry = inquiry_services.inquiry_transition(
        actor=maker, inquiry=inquiry, name="request_approval"
    )
    inquiry_checked = signed(
        inquiry_services.inquiry_document(actor=head, inquiry=inquiry, name="approve")
    )
    inquiry = inquiry_services.inquiry_transition(actor=head, inquiry=inquiry, name="approve")
    thread = thread_of(inquiry, center_id)

    with transaction.atomic():
        card_act = signing.keep(actor=head, checked=card_checked, item=card, act="approve")
        alert_act = signing.keep(
            actor=head, checked=alert_checked, item=recipient, act="accept", version_of=alert
        )
        inquiry_act = signing.keep(actor=head, checked=inquiry_checked, item=inquiry, act="approve")
    assert card_act
    assert alert_act
    assert inquiry_act
    return {
        "eds_card": card,
        "eds_card_act": card_act,
        "eds_alert": alert,
        "eds_alert_recipient": recipient,
        "eds_alert_act": alert_act,
        "eds_inquiry": inquiry,
        "eds_inquiry_thread": thread,
        "eds_inquiry_act": inquiry_act,
    }


ROWS: list[Row] = [
    # --- web UI --------------------------------------------------------------------------
    Row(
        "incidents:signature_bundle",
        "GET",
        statuses(200, anon=302, **B_404),
        kwargs=lambda o: {"pk": o["eds_card"].pk, "sid": o["eds_card_act"].pk},
    ),
    Row(
        "alerts:signature_bundle",
        "GET",
        statuses(200, anon=302, **B_404),
        kwargs=lambda o: {"pk": o["eds_alert"].pk, "sid": o["eds_alert_act"].pk},
    ),
    Row(
        "inquiries:signature_bundle",
        "GET",
        statuses(200, anon=302, **B_404),
        kwargs=lambda o: {"pk": o["eds_inquiry"].pk, "sid": o["eds_inquiry_act"].pk},
    ),
    # --- API -----------------------------------------------------------------------------
    # What a step's signature covers: only the organization that takes the step gets it.
    Row(
        "api:incidents_transition_document",
        "GET",
        statuses(404, anon=401, **BANK_A_200),
        kwargs=lambda o: {"card_id": o["eds_card"].pk, "name": "approve"},
        api=True,
    ),
    Row(
        "api:incidents_signatures",
        "GET",
        statuses(200, anon=401, **B_404),
        kwargs=lambda o: {"card_id": o["eds_card"].pk},
        api=True,
    ),
    Row(
        "api:incidents_signature_bundle",
        "GET",
        statuses(200, anon=401, **B_404),
        kwargs=lambda o: {"card_id": o["eds_card"].pk, "signature_id": o["eds_card_act"].pk},
        api=True,
    ),
    Row(
        "api:alerts_transition_document",
        "GET",
        statuses(404, anon=401, **CENTER_200),
        kwargs=lambda o: {"alert_id": o["eds_alert"].pk, "name": "approve"},
        api=True,
    ),
    Row(
        "api:alerts_answer_document",
        "GET",
        only(200, ("bank_a_head",), anon=401, bank_b_head=404),
        kwargs=lambda o: {
            "alert_id": o["eds_alert"].pk,
            "recipient_id": o["eds_alert_recipient"].pk,
        },
        api=True,
    ),
    Row(
        "api:alerts_signatures",
        "GET",
        statuses(200, anon=401),
        kwargs=lambda o: {"alert_id": o["eds_alert"].pk},
        api=True,
    ),
    Row(
        "api:alerts_signature_bundle",
        "GET",
        statuses(200, anon=401, **B_404),
        kwargs=lambda o: {"alert_id": o["eds_alert"].pk, "signature_id": o["eds_alert_act"].pk},
        api=True,
    ),
    Row(
        "api:requests_transition_document",
        "GET",
        statuses(404, anon=401, **BANK_A_200),
        kwargs=lambda o: {"request_id": o["eds_inquiry"].pk, "name": "approve"},
        api=True,
    ),
    Row(
        "api:requests_thread_transition_document",
        "GET",
        statuses(404, anon=401, **CENTER_200),
        kwargs=lambda o: {
            "request_id": o["eds_inquiry"].pk,
            "thread_id": o["eds_inquiry_thread"].pk,
            "name": "accept",
        },
        api=True,
    ),
    Row(
        "api:requests_signatures",
        "GET",
        statuses(200, anon=401, **B_404),
        kwargs=lambda o: {"request_id": o["eds_inquiry"].pk},
        api=True,
    ),
    Row(
        "api:requests_signature_bundle",
        "GET",
        statuses(200, anon=401, **B_404),
        kwargs=lambda o: {
            "request_id": o["eds_inquiry"].pk,
            "signature_id": o["eds_inquiry_act"].pk,
        },
        api=True,
    ),
]
