"""End-to-end in a real Chromium: a request's round trip (R67.3.7, R67.11, R67.14, R67.15), each
person in their own browser (separate cookies) against the live server.

Bank A's responsible employee writes a request to bank B and sends it to the head, who approves
it: it is sent. Bank B's IS-unit head accepts it into work (within 1 working day); bank B's
responsible employee writes the answer, the head approves it. Bank A's head returns the answer
as incomplete (3 working days to fix it); bank B fixes it, its head approves it again, and bank
A's responsible employee reads the fixed answer and closes the request."""

import re
from collections.abc import Callable
from typing import Any

import pytest
from django.utils import translation
from playwright.sync_api import Page, expect

from aips.center.inquiries.models import Inquiry, InquiryThread
from aips.demo import USERS
from aips.shared.accounts.models import User
from aips.tests.conftest import sign_in

pytestmark = pytest.mark.browser

PASSWORDS = {u.key: u.password for u in USERS}
SUBJECT = "Mule accounts receiving card-not-present fraud"
FIRST_ANSWER = "We saw transfers to two of the accounts."
FIXED_ANSWER = "We saw transfers to two of the accounts, on 1 and 3 December, 2.4 million KZT."


def _field(page: Page, label: str) -> Any:
    """A form field by its whole label (Django adds a colon), not one that merely contains it."""
    return page.get_by_label(re.compile(rf"^{re.escape(label)}:?$"))


def _open_request(page: Page, reference: str) -> None:
    """Through the menu and the list, as a person would."""
    nav = page.get_by_role("navigation", name="Main menu")
    nav.get_by_role("link", name="Requests", exact=True).click()
    expect(page.get_by_role("heading", name="Requests", exact=True)).to_be_visible()
    page.get_by_role("link", name=reference, exact=True).click()
    expect(page.get_by_role("heading", name=re.compile(f"^{reference}:"))).to_be_visible()


def _press(page: Page, selector: str, label: str) -> None:
    button = page.locator(selector)
    expect(button).to_have_text(label)
    button.click()
    page.wait_for_load_state()


def test_r67_3_7_r67_11_r67_14_r67_15_send_approve_accept_answer_return_fix(
    personas: dict[str, User],
    page: Page,
    new_page: Callable[[], Page],
    steps: Any,
) -> None:
    a_maker, a_head = personas["bank_a_maker"], personas["bank_a_head"]
    b_maker, b_head = personas["bank_b_maker"], personas["bank_b_head"]
    bank_b = b_head.organization
    with translation.override("en"):
        bank_b_name = bank_b.display_name

    # 1. Bank A's maker writes the request to bank B and sends it to the head.
    steps.page = page
    sign_in(page, steps, a_maker, PASSWORDS["bank_a_maker"])
    with steps("R67.3.7 bank A's maker writes a request to bank B"):
        nav = page.get_by_role("navigation", name="Main menu")
        nav.get_by_role("link", name="Requests", exact=True).click()
        page.get_by_role("link", name="New request").click()
        expect(page.get_by_role("heading", name="New request")).to_be_visible()
        _field(page, "Subject").fill(SUBJECT)
        _field(page, "Category").select_option(label="Fraud and unsanctioned transfers")
        _field(page, "Confidentiality (TLP)").select_option("AMBER")
        _field(page, "Text of the request").fill("Did these accounts receive transfers from you?")
        page.get_by_label(bank_b_name, exact=True).check()
        with page.expect_response(
            lambda r: r.request.method == "POST" and "/new/" in r.url
        ) as posted:
            page.get_by_role("button", name="Save draft").click()
        assert posted.value.status == 302, "the form was refused"
        page.wait_for_load_state()
        inquiry = Inquiry.objects.get(subject=SUBJECT)
        reference = inquiry.reference
        expect(page.get_by_role("heading", name=f"{reference}: {SUBJECT}")).to_be_visible()
        expect(page.locator("#request-state")).to_have_text("Draft")
        expect(page.locator("#request-addressees")).to_have_text(bank_b_name)
    with steps("R67.11 bank A's maker sends it to the head"):
        _press(page, 'button[data-transition="request_approval"]', "Send to the head for approval")
        expect(page.locator("#request-state")).to_have_text("Awaiting the head's approval")
        expect(page.locator('button[data-transition="approve"]')).to_have_count(0)

    # 2. Bank A's head approves: the request is sent.
    a_head_page = new_page()
    steps.page = a_head_page
    sign_in(a_head_page, steps, a_head, PASSWORDS["bank_a_head"])
    with steps("R67.11 bank A's head approves and sends"):
        _open_request(a_head_page, reference)
        _press(a_head_page, 'button[data-transition="approve"]', "Approve and send")
        expect(a_head_page.locator("#request-state")).to_have_text("Sent")
        thread_block = a_head_page.locator(f'section.thread[data-organization="{bank_b.bin}"]')
        expect(thread_block.locator("[data-thread-state]")).to_have_text("Received")
        expect(thread_block.locator(".deadline")).to_be_visible()

    # 3. Bank B's head accepts it into work, with a comment.
    b_head_page = new_page()
    steps.page = b_head_page
    sign_in(b_head_page, steps, b_head, PASSWORDS["bank_b_head"])
    thread = InquiryThread.objects.get(inquiry=inquiry, organization=bank_b)
    block = f"#thread-{thread.pk}"
    with steps("R67.14 bank B's head accepts the request into work"):
        _open_request(b_head_page, reference)
        expect(b_head_page.locator("#request-body")).to_contain_text("Did these accounts")
        expect(b_head_page.locator(f"{block} [data-thread-state]")).to_have_text("Received")
        b_head_page.locator(f"#comment-{thread.pk}-accept").fill("We are checking.")
        b_head_page.locator(
            f'{block} form:has(button[data-thread-transition="accept"]) input[name="confirm"]'
        ).check()
        _press(
            b_head_page,
            f'{block} button[data-thread-transition="accept"]',
            "Accept into work (10 working days to answer)",
        )
        expect(b_head_page.locator(f"{block} [data-thread-state]")).to_have_text(
            "Accepted into work"
        )
        expect(b_head_page.locator(block)).to_contain_text("We are checking.")

    # 4. Bank B's maker writes the answer and sends it to the head, who approves it.
    b_maker_page = new_page()
    steps.page = b_maker_page
    sign_in(b_maker_page, steps, b_maker, PASSWORDS["bank_b_maker"])
    with steps("R67.14 bank B's maker writes the answer"):
        _open_request(b_maker_page, reference)
        b_maker_page.locator(f"{block} [data-answer-edit]").click()
        _field(b_maker_page, "Answer").fill(FIRST_ANSWER)
        b_maker_page.get_by_role("button", name="Save the answer").click()
        expect(b_maker_page.locator(f"{block} [data-answer]")).to_have_text(FIRST_ANSWER)
        _press(
            b_maker_page,
            f'{block} button[data-thread-transition="request_approval"]',
            "Send the answer to the head for approval",
        )
        expect(b_maker_page.locator(f"{block} [data-thread-state]")).to_have_text(
            "Answer awaiting the head's approval"
        )
    steps.page = b_head_page
    with steps("R67.14 bank B's head approves the answer"):
        b_head_page.reload()
        _press(
            b_head_page,
            f'{block} button[data-thread-transition="approve"]',
            "Approve and send the answer",
        )
        expect(b_head_page.locator(f"{block} [data-thread-state]")).to_have_text("Answered")

    # 5. Bank A's head reads the answer and returns it as incomplete.
    steps.page = a_head_page
    with steps("R67.15 bank A's head returns the answer as incomplete"):
        a_head_page.reload()
        expect(a_head_page.locator(f"{block} [data-answer]")).to_have_text(FIRST_ANSWER)
        a_head_page.locator(f"#comment-{thread.pk}-return_answer").fill("When, and how much?")
        _press(
            a_head_page,
            f'{block} button[data-thread-transition="return_answer"]',
            "Return the answer as incomplete (3 working days)",
        )
        expect(a_head_page.locator(f"{block} [data-thread-state]")).to_have_text(
            "Answer returned for rework"
        )
        expect(a_head_page.locator(f"{block} .deadline")).to_be_visible()

    # 6. Bank B fixes the answer; its head approves it again.
    steps.page = b_maker_page
    with steps("R67.15 bank B's maker fixes the answer"):
        b_maker_page.reload()
        expect(b_maker_page.locator(block)).to_contain_text("When, and how much?")
        b_maker_page.locator(f"{block} [data-answer-edit]").click()
        _field(b_maker_page, "Answer").fill(FIXED_ANSWER)
        b_maker_page.get_by_role("button", name="Save the answer").click()
        _press(
            b_maker_page,
            f'{block} button[data-thread-transition="request_approval"]',
            "Send the answer to the head for approval",
        )
    steps.page = b_head_page
    with steps("R67.15 bank B's head approves the fixed answer"):
        b_head_page.reload()
        _press(
            b_head_page,
            f'{block} button[data-thread-transition="approve"]',
            "Approve and send the answer",
        )
        expect(b_head_page.locator(f"{block} [data-thread-state]")).to_have_text("Answered")

    # 7. Bank A's maker reads the fixed answer and closes the request.
    steps.page = page
    with steps("R67.14 bank A's maker reads the fixed answer and closes"):
        page.reload()
        expect(page.locator(f"{block} [data-answer]")).to_have_text(FIXED_ANSWER)
        page.locator(
            f'{block} form:has(button[data-thread-transition="close"]) input[name="confirm"]'
        ).check()
        _press(
            page,
            f'{block} button[data-thread-transition="close"]',
            "Close: the answer is complete",
        )
        expect(page.locator(f"{block} [data-thread-state]")).to_have_text("Closed")

    thread.refresh_from_db()
    assert thread.state == "closed"
    assert thread.version == 2
    assert thread.answer == FIXED_ANSWER
    assert thread.responded_by == b_head
    assert thread.answered_by == b_head
