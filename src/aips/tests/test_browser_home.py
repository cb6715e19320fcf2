"""End-to-end in a real Chromium: the home page's queue (issue 15, item 1). A card, an alert and
a request reach bank A's IS-unit head, and another three reach the center's analyst, all made
through the services; each person signs in and finds every item in "Waiting for you", with its
statutory deadline (R67.13–R67.15) where one runs, the overdue one first."""

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from django.utils.dateformat import format as date_format
from playwright.sync_api import Locator, Page, expect

from aips.center.alerts import services as alert_services
from aips.center.alerts.models import AlertRecipient, AlertState
from aips.center.incidents import services as incident_services
from aips.center.incidents.models import CardState, IncidentCard
from aips.center.inquiries.models import InquiryThread
from aips.center.inquiries.tests.factories import sent_inquiry, thread_of
from aips.conftest import alert_data, card_data, published_alert, submitted_card
from aips.demo import USERS
from aips.shared.accounts.models import User
from aips.tests.conftest import sign_in

pytestmark = pytest.mark.browser

PASSWORDS = {u.key: u.password for u in USERS}


def _open_home(page: Page) -> Locator:
    page.goto("/")
    expect(page.get_by_role("heading", name="Waiting for you")).to_be_visible()
    return page.locator("ol.home-queue > li")


def _expect_item(queue: Locator, ref: str, deadline: Any, *, overdue: bool = False) -> None:
    """The item is listed; with a deadline, it shows it in the one format, else says none runs."""
    item = queue.filter(has=queue.page.locator(f'a:text-is("{ref}")'))
    expect(item).to_have_count(1)
    if deadline is None:
        expect(item.locator(".deadline")).to_have_count(0)
        expect(item).to_contain_text("no deadline")
        return
    shown = item.locator(".deadline")
    expect(shown.locator("time")).to_contain_text(
        date_format(timezone.localtime(deadline), "d.m.Y H:i")
    )
    if overdue:
        expect(item).to_have_class("is-overdue")
        expect(shown.locator(".badge.overdue")).to_have_text("Overdue")
    else:
        expect(item).not_to_have_class("is-overdue")
        expect(shown.locator(".remaining")).to_contain_text("left")


def test_r67_13_r67_14_r67_15_bank_head_home_queue_card_alert_request(
    personas: dict[str, User], page: Page, steps: Any
) -> None:
    maker, head = personas["bank_a_maker"], personas["bank_a_head"]
    bank_a = head.organization_id
    assert bank_a is not None
    # A card the center returned, fixed and sent to the head again after its rework deadline
    # passed: the head's approval is what is now late.
    card, _attachment = submitted_card(personas)
    card = incident_services.card_transition(
        actor=personas["center_analyst"], card=card, name="return", comment="Add the vector"
    )
    IncidentCard.objects.filter(pk=card.pk).update(deadline_at=timezone.now() - timedelta(hours=3))
    card.refresh_from_db()
    card = incident_services.card_transition(actor=maker, card=card, name="request_approval")
    assert card.state == CardState.AWAITING_APPROVAL
    # R67.13: the center's alert, to be accepted or declined within 1 working day.
    alert = published_alert(personas, title="Skimmers on lobby terminals")
    recipient = AlertRecipient.objects.get(alert=alert, organization_id=bank_a)
    # R67.14: bank B's request to bank A, to be accepted or declined within 1 working day.
    inquiry = sent_inquiry(
        personas, [bank_a], bank="bank_b", subject="Mule accounts opened last week"
    )
    thread = thread_of(inquiry, bank_a)
    assert recipient.deadline_at is not None
    assert thread.deadline_at is not None

    steps.page = page
    sign_in(page, steps, head, PASSWORDS["bank_a_head"])
    with steps("the head's queue holds the card, the alert and the request"):
        queue = _open_home(page)
        _expect_item(queue, card.reference, card.deadline_at, overdue=True)
        _expect_item(queue, alert.reference, recipient.deadline_at)
        _expect_item(queue, inquiry.reference, thread.deadline_at)
    with steps("the overdue card leads the queue, and the counts say so"):
        expect(queue.first).to_have_attribute("data-ref", card.reference)
        expect(page.locator('[data-count="overdue"]')).to_have_text("1 overdue")
        # Both counts are links: the total to the queue, "overdue" to its first (overdue) item.
        expect(page.locator('a[data-count="total"]')).to_have_attribute("href", "#home-queue")
        expect(page.locator('a[data-count="overdue"]')).to_have_attribute("href", "#home-overdue")
        expect(page.locator("#home-overdue")).to_have_attribute("data-ref", card.reference)
        for group in ("incidents.approve", "alerts.acknowledge", "requests.accept"):
            expect(page.locator(f'a[data-group="{group}"]')).to_be_visible()
    with steps("an item's link opens it"):
        queue.first.get_by_role("link", name=card.reference, exact=True).click()
        expect(page.locator("#card-state")).to_have_text("Awaiting the head's approval")


def test_r67_12_r67_14_center_analyst_home_queue_card_alert_request(
    personas: dict[str, User], page: Page, steps: Any
) -> None:
    analyst = personas["center_analyst"]
    center = analyst.organization_id
    assert center is not None
    # R67.12: bank A's card, approved by its head and so submitted to the center.
    card = incident_services.card_create(
        actor=personas["bank_a_maker"], **card_data(title="Card awaiting the center")
    )
    incident_services.card_transition(
        actor=personas["bank_a_maker"], card=card, name="request_approval"
    )
    card = incident_services.card_transition(
        actor=personas["bank_a_head"], card=card, name="approve"
    )
    assert card.state == CardState.SUBMITTED
    # Bank A's own alert, approved by its head: the center publishes or returns it.
    alert = alert_services.alert_create(
        actor=personas["bank_a_maker"], **alert_data(title="Bank A's phishing alert")
    )
    alert_services.alert_transition(
        actor=personas["bank_a_maker"], alert=alert, name="request_approval"
    )
    alert = alert_services.alert_transition(
        actor=personas["bank_a_head"], alert=alert, name="approve"
    )
    assert alert.state == AlertState.SUBMITTED
    # Bank B's request to the regulator, whose acceptance is overdue.
    inquiry = sent_inquiry(
        personas, [center], bank="bank_b", subject="Is this sender on the center's list?"
    )
    InquiryThread.objects.filter(inquiry=inquiry, organization_id=center).update(
        deadline_at=timezone.now() - timedelta(hours=2)
    )
    thread = thread_of(inquiry, center)

    steps.page = page
    sign_in(page, steps, analyst, PASSWORDS["center_analyst"])
    with steps("the analyst's queue holds the card, the alert and the request"):
        queue = _open_home(page)
        _expect_item(queue, inquiry.reference, thread.deadline_at, overdue=True)
        _expect_item(queue, card.reference, card.deadline_at)
        _expect_item(queue, alert.reference, alert.deadline_at)
    with steps("the overdue request leads the queue"):
        expect(queue.first).to_have_attribute("data-ref", inquiry.reference)
        expect(page.locator('[data-count="overdue"]')).to_have_text("1 overdue")
        for group in ("incidents.review", "alerts.publish", "requests.accept"):
            expect(page.locator(f'a[data-group="{group}"]')).to_be_visible()
        expect(page.locator('[data-tile="incidents.incoming"]')).to_be_visible()
