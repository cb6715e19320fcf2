"""Requests as the tests make them: through the services, as the people would."""

from typing import Any

from aips.center.inquiries import services
from aips.center.inquiries.models import Inquiry, InquiryThread
from aips.shared.accounts.models import User


def inquiry_data(**overrides: Any) -> dict[str, Any]:
    """A complete request (R67.3.7); give `addressee_ids`."""
    data: dict[str, Any] = {
        "subject": "Phishing domains imitating our internet bank",
        "body": "Have you seen these domains in your mail gateways? Which senders used them?",
        "category": "indicators",
        "tlp": "GREEN",
        "addressee_ids": [],
    }
    data.update(overrides)
    return data


def sent_inquiry(
    personas: dict[str, User], addressee_ids: list[int], *, bank: str = "bank_a", **overrides: Any
) -> Inquiry:
    """An organization's request, written by its maker and approved (so sent) by its head."""
    maker, head = personas[f"{bank}_maker"], personas[f"{bank}_head"]
    inquiry = services.inquiry_create(
        actor=maker, **inquiry_data(addressee_ids=addressee_ids, **overrides)
    )
    services.inquiry_transition(actor=maker, inquiry=inquiry, name="request_approval")
    return services.inquiry_transition(actor=head, inquiry=inquiry, name="approve")


def center_inquiry(
    personas: dict[str, User], addressee_ids: list[int], **overrides: Any
) -> Inquiry:
    """The center's own request, sent directly by its analyst."""
    analyst = personas["center_analyst"]
    inquiry = services.inquiry_create(
        actor=analyst, **inquiry_data(addressee_ids=addressee_ids, **overrides)
    )
    return services.inquiry_transition(actor=analyst, inquiry=inquiry, name="send_direct")


def thread_of(inquiry: Inquiry, organization_id: int) -> InquiryThread:
    return InquiryThread.objects.get(inquiry=inquiry, organization_id=organization_id)
