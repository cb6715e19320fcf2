"""A sent request's overall status follows its threads (docs/domains/inquiries.md)."""

from collections.abc import Callable

import pytest
from django.test import Client

from aips.center.inquiries import services
from aips.center.inquiries.models import overall_state
from aips.center.inquiries.tests.factories import sent_inquiry, thread_of
from aips.shared.accounts.models import User


@pytest.mark.parametrize(
    ("state", "threads", "shown"),
    [
        ("draft", [], "draft"),
        ("returned", ["received"], "returned"),
        ("sent", [], "sent"),
        ("sent", ["received", "closed"], "sent"),
        ("sent", ["answer_returned", "answered"], "sent"),
        ("sent", ["answered", "declined"], "answered"),
        ("sent", ["closed", "answered"], "answered"),
        ("sent", ["closed", "declined"], "closed"),
        ("sent", ["closed"], "closed"),
        ("sent", ["declined", "declined"], "declined"),
    ],
)
def test_r67_11_overall_state_rule(state: str, threads: list[str], shown: str) -> None:
    code, label = overall_state(state, threads)
    assert code == shown
    assert label


def test_r67_11_request_is_closed_once_its_only_thread_is(
    personas: dict[str, User], client_as: Callable[[str | None], Client]
) -> None:
    bank_b = personas["bank_b_head"].organization_id
    inquiry = sent_inquiry(personas, [bank_b])
    thread = thread_of(inquiry, bank_b)
    head, maker = personas["bank_b_head"], personas["bank_b_maker"]

    def move(who: User, name: str) -> None:
        nonlocal thread
        thread = services.thread_transition(actor=who, thread=thread, name=name, comment="ok")

    def shown(key: str) -> tuple[str, str]:
        client = client_as(key)
        listed = client.get("/requests/").content.decode()
        detail = client.get(f"/requests/{inquiry.pk}/").content.decode()
        marker = 'id="request-state" data-overall="'
        code = detail.split(marker, 1)[1].split('"', 1)[0]
        return code, listed

    assert shown("bank_a_head")[0] == "sent"
    move(head, "accept")
    thread = services.answer_update(actor=maker, thread=thread, answer="Nothing seen.")
    move(maker, "request_approval")
    move(head, "approve")
    code, listed = shown("bank_a_head")
    assert code == "answered"
    assert 'data-overall="answered">Answered<' in listed
    move(personas["bank_a_maker"], "close")
    code, listed = shown("bank_a_head")
    assert code == "closed"
    assert 'data-overall="closed">Closed<' in listed
    # The addressee sees the same, judged by its own thread.
    assert shown("bank_b_head")[0] == "closed"
