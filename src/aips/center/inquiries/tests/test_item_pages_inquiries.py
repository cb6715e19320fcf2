"""Item pages (issue 15, item 5) on a request: the shared timeline and the confirmation before a
thread's irreversible steps."""

from collections.abc import Callable

from django.test import Client

from aips.center.inquiries.tests.factories import sent_inquiry, thread_of
from aips.shared.accounts.models import User
from aips.shared.organizations.models import Organization


def test_r67_14_decline_without_confirmation_is_refused_and_changes_nothing(
    personas: dict[str, User], client_as: Callable[[str | None], Client]
) -> None:
    bank_b = personas["bank_b_head"].organization_id
    inquiry = sent_inquiry(personas, [bank_b])
    thread = thread_of(inquiry, bank_b)
    b_head = client_as("bank_b_head")
    url = f"/requests/{inquiry.pk}/threads/{thread.pk}/do/decline/"
    refused = b_head.post(url, {"comment": "Not ours to answer."}, follow=True)
    thread.refresh_from_db()
    assert thread.state == "received"
    assert any("I confirm" in str(m) for m in refused.context["messages"])
    b_head.post(url, {"comment": "Not ours to answer.", "confirm": "yes"})
    thread.refresh_from_db()
    assert thread.state == "declined"
    page = b_head.get(f"/requests/{inquiry.pk}/")
    steps = [e for e in page.context["blocks"][0]["page"]["entries"] if e.kind == "step"]
    assert [(e.who, e.transition, e.body) for e in steps] == [
        (personas["bank_b_head"].full_name, "decline", "Not ours to answer.")
    ]


def test_r67_3_7_the_request_timeline_shows_who_sent_it(
    personas: dict[str, User], client_as: Callable[[str | None], Client]
) -> None:
    bank_b = Organization.objects.get(pk=personas["bank_b_head"].organization_id)
    inquiry = sent_inquiry(personas, [bank_b.pk])
    own = client_as("bank_a_maker").get(f"/requests/{inquiry.pk}/").context["entries"]
    assert [(e.who, e.from_label, e.to_label) for e in own if e.kind == "step"] == [
        (personas["bank_a_maker"].full_name, "Draft", "Awaiting the head's approval"),
        (personas["bank_a_head"].full_name, "Awaiting the head's approval", "Sent"),
    ]
    # The addressee sees the request's content, not the requester's own history.
    assert client_as("bank_b_head").get(f"/requests/{inquiry.pk}/").context["entries"] == []
