"""Requests (R67.3.7, R67.11, R67.14, R67.15): the requester's maker-checker, one thread per
addressee with its own clocks, answers approved by the addressee's head, returns for
incompleteness, and the protected channel (parties only; restricted views audited)."""

import time
from collections.abc import Callable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from aips.center.inquiries import selectors, services
from aips.center.inquiries.models import Inquiry, InquiryThread
from aips.center.inquiries.tests.factories import (
    center_inquiry,
    inquiry_data,
    sent_inquiry,
    thread_of,
)
from aips.core.access import REAUTH_SESSION_KEY
from aips.core.errors import AppError, Forbidden, ValidationFailed
from aips.shared.accounts.models import User
from aips.shared.audit.models import AuditEvent, EventType
from aips.shared.notifications.models import Notification, OutboxMessage

ALMATY = ZoneInfo("Asia/Almaty")


def _ids(personas: dict[str, User]) -> dict[str, int]:
    return {
        "center": personas["center_admin"].organization_id,
        "bank_a": personas["bank_a_head"].organization_id,
        "bank_b": personas["bank_b_head"].organization_id,
        "mfo": personas["mfo_head"].organization_id,
    }


def _freeze(monkeypatch: pytest.MonkeyPatch, moment: datetime) -> None:
    # The engine and the services share django.utils.timezone: one patch moves both clocks.
    monkeypatch.setattr("aips.shared.workflow.engine.timezone.now", lambda: moment)


def _move(who: User, thread: InquiryThread, name: str, comment: str = "") -> InquiryThread:
    return services.thread_transition(actor=who, thread=thread, name=name, comment=comment)


def _answer(who: User, thread: InquiryThread, text: str) -> InquiryThread:
    return services.answer_update(actor=who, thread=thread, answer=text)


@pytest.fixture
def third(personas: dict[str, User]) -> User:
    """The head of a third bank, made here: a party to nothing."""
    from aips.shared.accounts import services as account_services
    from aips.shared.organizations import services as organization_services

    admin = personas["center_admin"]
    org = organization_services.organization_create(
        actor=admin,
        name='JSC "Third Bank"',
        bin="990840001239",
        email="soc@thirdbank.example.kz",
        kind="bank",
    )
    return account_services.user_create(
        actor=admin,
        email="head@thirdbank.example.kz",
        surname="Uchinshi",
        given_name="Aidar",
        position="CISO",
        organization_id=org.pk,
        phones=["8 701 555 44 33"],
        role="org_head",
    )


def _client(user: User) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.cookies["aips_language"] = "en"
    client.force_login(user)
    session = client.session
    session[REAUTH_SESSION_KEY] = time.time()
    session.save()
    return client


# --- the full lifecycle, for each kind of addressee ------------------------------------------


def test_r67_3_7_r67_11_r67_14_r67_15_lifecycle_of_a_request_to_the_center(
    personas: dict[str, User],
) -> None:
    ids = _ids(personas)
    maker, head = personas["bank_a_maker"], personas["bank_a_head"]
    analyst, admin = personas["center_analyst"], personas["center_admin"]
    inquiry = services.inquiry_create(
        actor=maker, **inquiry_data(addressee_ids=[ids["center"]], category="regulatory")
    )
    assert inquiry.state == "draft"
    assert not InquiryThread.objects.filter(inquiry=inquiry).exists()
    # R67.11: with management's agreement: the maker cannot send it.
    inquiry = services.inquiry_transition(actor=maker, inquiry=inquiry, name="request_approval")
    with pytest.raises(Forbidden):
        services.inquiry_transition(actor=maker, inquiry=inquiry, name="approve")
    inquiry = services.inquiry_transition(actor=head, inquiry=inquiry, name="approve")
    assert inquiry.state == "sent"
    assert inquiry.version == 1
    thread = thread_of(inquiry, ids["center"])
    assert thread.state == "received"
    assert thread.deadline_at is not None
    # R67.14: the center accepts (no head of its own), writes and sends the answer directly.
    thread = _move(analyst, thread, "accept")
    assert thread.state == "accepted"
    assert thread.responded_by == analyst
    with pytest.raises(ValidationFailed):
        _move(analyst, thread, "answer_direct")  # nothing written yet
    with pytest.raises(Forbidden):
        _move(analyst, thread, "request_approval")  # the center has no head to ask
    thread = _answer(analyst, thread, "Report such domains through an incident card.")
    thread = _move(analyst, thread, "answer_direct")
    assert thread.state == "answered"
    assert thread.deadline_at is None
    # R67.15: the requester returns an incomplete answer; 3 working days to fix it.
    with pytest.raises(ValidationFailed):
        _move(maker, thread, "return_answer")
    thread = _move(maker, thread, "return_answer", "Which incident type?")
    assert thread.state == "answer_returned"
    assert thread.deadline_reason == "rework"
    # The center does not return its own answer.
    with pytest.raises(Forbidden):
        _move(admin, thread, "center_return_answer", "no")
    thread = _answer(admin, thread, "Type 2 of R67.12: unauthorized access.")
    thread = _move(admin, thread, "answer_direct")
    assert thread.version == 2
    thread = _move(head, thread, "close")
    assert thread.state == "closed"
    events = list(
        AuditEvent.objects.filter(event__startswith="request:").values_list("event", flat=True)
    )
    for event in (
        EventType.REQUEST_CREATED,
        EventType.REQUEST_APPROVAL_REQUESTED,
        EventType.REQUEST_SENT,
        EventType.REQUEST_ACCEPTED,
        EventType.REQUEST_ANSWER_UPDATED,
        EventType.REQUEST_ANSWERED,
        EventType.REQUEST_ANSWER_RETURNED,
        EventType.REQUEST_CLOSED,
    ):
        assert event in events, event


def test_r67_3_7_r67_11_r67_14_r67_15_lifecycle_of_a_request_to_one_organization(
    personas: dict[str, User], client_as: Callable[[str | None], Client]
) -> None:
    ids = _ids(personas)
    b_head, b_maker = personas["bank_b_head"], personas["bank_b_maker"]
    inquiry = sent_inquiry(personas, [ids["bank_b"]])
    thread = thread_of(inquiry, ids["bank_b"])
    # R67.14: accepting is the head's act (the management's agreement), not the maker's.
    with pytest.raises(Forbidden):
        _move(b_maker, thread, "accept")
    thread = _move(b_head, thread, "accept", "We will check our gateways.")
    assert [c.body for c in selectors.thread_timeline(actor=b_head, thread=thread)] == [
        "We will check our gateways."
    ]
    thread = _answer(b_maker, thread, "Seen twice, from 203.0.113.9.")
    thread = _move(b_maker, thread, "request_approval")
    # Before the head approves, the requester does not see the draft answer.
    a_view = client_as("bank_a_head").get(f"/api/v1/requests/{inquiry.pk}").json()
    assert a_view["threads"][0]["answer"] is None
    with pytest.raises(Forbidden):
        _move(b_maker, thread, "approve")
    thread = _move(b_head, thread, "send_back", "Add the dates.")
    assert thread.state == "accepted"
    thread = _answer(b_maker, thread, "Seen on 1 and 3 December, from 203.0.113.9.")
    thread = _move(b_maker, thread, "request_approval")
    thread = _move(b_head, thread, "approve")
    assert thread.state == "answered"
    assert thread.answered_by == b_head
    a_view = client_as("bank_a_maker").get(f"/api/v1/requests/{inquiry.pk}").json()
    assert a_view["threads"][0]["answer"] == "Seen on 1 and 3 December, from 203.0.113.9."
    # R67.15: the center too may return an incomplete answer.
    thread = _move(personas["center_analyst"], thread, "center_return_answer", "Which senders?")
    assert thread.state == "answer_returned"
    _answer(b_maker, thread, "Fix in progress, not approved")
    a_view = client_as("bank_a_maker").get(f"/api/v1/requests/{inquiry.pk}").json()
    # The requester keeps reading the answer as approved, not the fix in progress.
    assert a_view["threads"][0]["answer"] == "Seen on 1 and 3 December, from 203.0.113.9."
    thread = _move(b_maker, thread, "request_approval")
    thread = _move(b_head, thread, "approve")
    thread = _move(personas["bank_a_maker"], thread, "return_answer", "And the subjects?")
    thread = _answer(b_maker, thread, "Senders a@x.example, b@x.example; subject “Invoice”.")
    thread = _move(b_maker, thread, "request_approval")
    thread = _move(b_head, thread, "approve")
    thread = _move(personas["bank_a_maker"], thread, "close")
    assert thread.state == "closed"
    assert thread.version == 3


def test_r67_3_7_r67_14_the_center_sends_a_request_directly_to_organizations(
    personas: dict[str, User],
) -> None:
    ids = _ids(personas)
    inquiry = center_inquiry(personas, [ids["bank_a"], ids["bank_b"]])
    assert inquiry.state == "sent"
    a = thread_of(inquiry, ids["bank_a"])
    a = _move(personas["bank_a_head"], a, "accept")
    a = _answer(personas["bank_a_maker"], a, "No such traffic.")
    a = _move(personas["bank_a_maker"], a, "request_approval")
    a = _move(personas["bank_a_head"], a, "approve")
    # The center is the requester here: it returns through return_answer, not the review one.
    with pytest.raises(Forbidden):
        _move(personas["center_analyst"], a, "center_return_answer", "x")
    a = _move(personas["center_analyst"], a, "close")
    assert a.state == "closed"
    with pytest.raises(Forbidden):
        services.inquiry_transition(
            actor=personas["bank_a_maker"],
            inquiry=services.inquiry_create(
                actor=personas["bank_a_maker"], **inquiry_data(addressee_ids=[ids["center"]])
            ),
            name="send_direct",
        )


def test_r67_14_several_addressees_progress_independently(
    personas: dict[str, User],
    client_as: Callable[[str | None], Client],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ids = _ids(personas)
    monday = datetime(2026, 12, 7, 10, 0, tzinfo=ALMATY)
    _freeze(monkeypatch, monday)
    inquiry = sent_inquiry(personas, [ids["center"], ids["bank_b"], ids["mfo"]])
    threads = {t.organization_id: t for t in InquiryThread.objects.filter(inquiry=inquiry)}
    assert set(threads) == {ids["center"], ids["bank_b"], ids["mfo"]}
    _freeze(monkeypatch, datetime(2026, 12, 8, 9, 0, tzinfo=ALMATY))
    b = _move(personas["bank_b_head"], threads[ids["bank_b"]], "accept")
    with pytest.raises(ValidationFailed):
        _move(personas["mfo_head"], threads[ids["mfo"]], "decline")
    mfo = _move(personas["mfo_head"], threads[ids["mfo"]], "decline", "Not our business line.")
    center = thread_of(inquiry, ids["center"])
    # Each clock is its own: B has 10 working days from Tuesday, the MFO none, the center still
    # its 1 working day from Monday.
    assert b.deadline_at is not None
    assert b.deadline_at.astimezone(ALMATY).date().isoformat() == "2026-12-23"
    assert mfo.state == "declined"
    assert mfo.deadline_at is None
    assert center.state == "received"
    assert center.deadline_at is not None
    assert center.deadline_at.astimezone(ALMATY).date().isoformat() == "2026-12-08"
    assert inquiry.state == "sent"
    # Every addressee sees its own thread only; the requester and the center see all three.
    b_view = client_as("bank_b_maker").get(f"/api/v1/requests/{inquiry.pk}").json()
    assert [t["organization_id"] for t in b_view["threads"]] == [ids["bank_b"]]
    assert b_view["addressee_ids"] is None
    mfo_client = client_as("mfo_head")
    assert mfo_client.get(f"/api/v1/requests/{inquiry.pk}/threads/{b.pk}").status_code == 404
    assert (
        mfo_client.get(f"/api/v1/requests/{inquiry.pk}/threads/{b.pk}/comments").status_code == 404
    )
    page = mfo_client.get(f"/requests/{inquiry.pk}/")
    assert [blk["thread"].pk for blk in page.context["blocks"]] == [mfo.pk]
    for who in ("bank_a_viewer", "auditor"):
        seen = client_as(who).get(f"/api/v1/requests/{inquiry.pk}").json()
        assert len(seen["threads"]) == 3


# --- deadlines on the Kazakhstan calendar ---------------------------------------------------------


def test_r67_14_r67_15_deadline_edges_across_the_independence_day_holiday(
    personas: dict[str, User], monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = _ids(personas)
    b_head, b_maker = personas["bank_b_head"], personas["bank_b_maker"]
    # Sent on Friday 11 December 2026 in the evening: 1 working day = the end of Monday 14.
    _freeze(monkeypatch, datetime(2026, 12, 11, 18, 30, tzinfo=ALMATY))
    inquiry = sent_inquiry(personas, [ids["bank_b"], ids["mfo"]])
    b = thread_of(inquiry, ids["bank_b"])
    assert b.deadline_at is not None
    due = b.deadline_at.astimezone(ALMATY)
    assert (due.date().isoformat(), due.hour, due.minute) == ("2026-12-14", 23, 59)
    # Accepted on Monday: 10 working days skip Wednesday 16 (Independence Day) and two
    # weekends: the end of Tuesday 29 December.
    _freeze(monkeypatch, datetime(2026, 12, 14, 23, 0, tzinfo=ALMATY))
    b = _move(b_head, b, "accept")
    assert b.deadline_at is not None
    assert b.deadline_at.astimezone(ALMATY).date().isoformat() == "2026-12-29"
    assert not b.late  # accepted within its working day, late in the evening
    # Answered on Tuesday 15 and returned the same day: 3 working days are Thursday 17,
    # Friday 18 and Monday 21 (Wednesday 16 is a holiday).
    _freeze(monkeypatch, datetime(2026, 12, 15, 10, 0, tzinfo=ALMATY))
    b = _answer(b_maker, b, "Nothing seen.")
    b = _move(b_maker, b, "request_approval")
    b = _move(b_head, b, "approve")
    b = _move(personas["bank_a_head"], b, "return_answer", "Check the archive too.")
    assert b.deadline_at is not None
    assert b.deadline_at.astimezone(ALMATY).date().isoformat() == "2026-12-21"
    # The MFO never answered: on Tuesday 15 its thread is overdue, and the center sees it.
    mfo = thread_of(inquiry, ids["mfo"])
    assert mfo.overdue
    rows = selectors.deadline_overview(actor=personas["center_analyst"])
    status = {(r.thread.organization_id if r.thread else None): r.status for r in rows}
    assert status[ids["mfo"]] == "overdue"
    assert status[ids["bank_b"]] == "on_time"
    # Accepting late is allowed; the journal keeps that it was late, and the answer then runs
    # on its own 10-day clock.
    mfo = _move(personas["mfo_head"], mfo, "accept")
    assert mfo.late is False
    accepted = AuditEvent.objects.get(event=EventType.REQUEST_ACCEPTED, target_id=str(mfo.pk))
    assert accepted.details["late"] is True
    # On Monday 21 in the evening B's fix is due today; on Tuesday 22 it is overdue.
    evening = datetime(2026, 12, 21, 20, 0, tzinfo=ALMATY)
    assert selectors.deadline_status(b.deadline_at, True, evening) == "due_soon"
    _freeze(monkeypatch, datetime(2026, 12, 22, 0, 5, tzinfo=ALMATY))
    b.refresh_from_db()
    assert b.overdue
    listed = selectors.inquiry_list(actor=personas["bank_a_head"], overdue=True)
    assert list(listed) == [inquiry]


def test_r67_14_sent_on_the_eve_of_a_holiday_is_due_after_it(
    personas: dict[str, User], monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = _ids(personas)
    # Sent on Tuesday 15 December 2026: Wednesday 16 is Independence Day, so the working day
    # to accept or decline is Thursday 17.
    _freeze(monkeypatch, datetime(2026, 12, 15, 11, 0, tzinfo=ALMATY))
    inquiry = sent_inquiry(personas, [ids["center"]])
    thread = thread_of(inquiry, ids["center"])
    assert thread.deadline_at is not None
    assert thread.deadline_at.astimezone(ALMATY).date().isoformat() == "2026-12-17"


# --- what may not be done --------------------------------------------------------------------

# Who may take each thread transition of bank A's request to bank B, from its source state.
THREAD_ALLOWED = {
    ("received", "accept"): {"bank_b_head"},
    ("received", "decline"): {"bank_b_head"},
    ("accepted", "request_approval"): {"bank_b_head", "bank_b_maker"},
    ("answer_awaiting_approval", "approve"): {"bank_b_head"},
    ("answer_awaiting_approval", "send_back"): {"bank_b_head"},
    ("answered", "return_answer"): {"bank_a_head", "bank_a_maker"},
    ("answered", "center_return_answer"): {"center_admin", "center_analyst"},
    ("answered", "close"): {"bank_a_head", "bank_a_maker"},
}
PEOPLE = [
    "center_admin",
    "center_analyst",
    "auditor",
    "bank_a_head",
    "bank_a_maker",
    "bank_a_viewer",
    "bank_b_head",
    "bank_b_maker",
    "mfo_head",
]


def _thread_at(personas: dict[str, User], state: str) -> InquiryThread:
    ids = _ids(personas)
    inquiry = sent_inquiry(personas, [ids["bank_b"]])
    thread = thread_of(inquiry, ids["bank_b"])
    b_head, b_maker = personas["bank_b_head"], personas["bank_b_maker"]
    if state == "received":
        return thread
    thread = _move(b_head, thread, "accept")
    thread = _answer(b_maker, thread, "The answer.")
    if state == "accepted":
        return thread
    thread = _move(b_maker, thread, "request_approval")
    if state == "answer_awaiting_approval":
        return thread
    return _move(b_head, thread, "approve")


@pytest.mark.parametrize(("state", "name"), sorted(THREAD_ALLOWED))
@pytest.mark.parametrize("who", PEOPLE)
def test_r67_14_r67_15_every_thread_transition_by_every_persona(
    personas: dict[str, User], state: str, name: str, who: str
) -> None:
    thread = _thread_at(personas, state)
    if who in THREAD_ALLOWED[(state, name)]:
        moved = _move(personas[who], thread, name, "reason")
        assert moved.state != state
    else:
        with pytest.raises((Forbidden, AppError)):
            _move(personas[who], thread, name, "reason")
        thread.refresh_from_db()
        assert thread.state == state


@pytest.mark.parametrize(
    ("state", "name", "who"),
    [
        ("received", "request_approval", "bank_b_maker"),
        ("received", "approve", "bank_b_head"),
        ("accepted", "accept", "bank_b_head"),
        ("accepted", "close", "bank_a_head"),
        ("answered", "decline", "bank_b_head"),
        ("answered", "approve", "bank_b_head"),
    ],
)
def test_r67_14_thread_transitions_from_the_wrong_state_are_refused(
    personas: dict[str, User], state: str, name: str, who: str
) -> None:
    thread = _thread_at(personas, state)
    with pytest.raises(AppError) as caught:
        _move(personas[who], thread, name, "x")
    assert caught.value.status == 409


def test_r67_11_request_rules_and_forbidden_moves(personas: dict[str, User]) -> None:
    ids = _ids(personas)
    maker = personas["bank_a_maker"]
    with pytest.raises(ValidationFailed) as caught:
        services.inquiry_create(actor=maker, **inquiry_data(subject=" ", category="gossip"))
    assert set(caught.value.fields) == {"subject", "category", "addressee_ids"}
    with pytest.raises(ValidationFailed) as caught:
        services.inquiry_create(actor=maker, **inquiry_data(addressee_ids=[ids["bank_a"]]))
    assert set(caught.value.fields) == {"addressee_ids"}
    with pytest.raises(ValidationFailed):
        services.inquiry_create(actor=maker, **inquiry_data(addressee_ids=[987654]))
    with pytest.raises(Forbidden):
        services.inquiry_create(
            actor=personas["bank_a_viewer"], **inquiry_data(addressee_ids=[ids["center"]])
        )
    inquiry = sent_inquiry(personas, [ids["bank_b"]])
    # Sent: nothing can be changed any more, and it cannot be sent twice.
    with pytest.raises(AppError) as conflict:
        services.inquiry_update(actor=maker, inquiry=inquiry, subject="Changed")
    assert conflict.value.status == 409
    with pytest.raises(AppError) as again:
        services.inquiry_transition(actor=personas["bank_a_head"], inquiry=inquiry, name="approve")
    assert again.value.status == 409
    # The center sends its own requests directly, without a head.
    own = services.inquiry_create(
        actor=personas["center_analyst"], **inquiry_data(addressee_ids=[ids["bank_a"]])
    )
    with pytest.raises(Forbidden):
        services.inquiry_transition(
            actor=personas["center_analyst"], inquiry=own, name="request_approval"
        )
    # The center cannot send an organization's draft; an organization cannot return a request.
    draft = services.inquiry_create(actor=maker, **inquiry_data(addressee_ids=[ids["center"]]))
    with pytest.raises(Forbidden):
        services.inquiry_transition(
            actor=personas["center_admin"], inquiry=draft, name="send_direct"
        )
    with pytest.raises(Forbidden):
        services.inquiry_transition(
            actor=personas["bank_b_head"], inquiry=inquiry, name="return", comment="x"
        )
    # The center cannot return its own request.
    own = services.inquiry_transition(
        actor=personas["center_analyst"], inquiry=own, name="send_direct"
    )
    with pytest.raises(Forbidden):
        services.inquiry_transition(
            actor=personas["center_admin"], inquiry=own, name="return", comment="x"
        )


def test_r67_15_center_returns_a_request_for_incompleteness(
    personas: dict[str, User],
    client_as: Callable[[str | None], Client],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ids = _ids(personas)
    maker, head, analyst = (
        personas["bank_a_maker"],
        personas["bank_a_head"],
        personas["center_analyst"],
    )
    _freeze(monkeypatch, datetime(2026, 12, 11, 12, 0, tzinfo=ALMATY))
    inquiry = sent_inquiry(personas, [ids["bank_b"], ids["mfo"]])
    with pytest.raises(ValidationFailed):
        services.inquiry_transition(actor=analyst, inquiry=inquiry, name="return")
    inquiry = services.inquiry_transition(
        actor=analyst, inquiry=inquiry, name="return", comment="Give the domains themselves."
    )
    assert inquiry.state == "returned"
    assert inquiry.deadline_at is not None
    assert inquiry.deadline_at.astimezone(ALMATY).date().isoformat() == "2026-12-17"
    # The addressees' clocks stop, and they cannot act or read while the request is fixed.
    b = thread_of(inquiry, ids["bank_b"])
    assert b.deadline_at is None
    assert client_as("bank_b_head").get(f"/requests/{inquiry.pk}/").status_code == 404
    assert client_as("center_admin").get(f"/requests/{inquiry.pk}/").status_code == 200
    with pytest.raises(AppError) as caught:
        _move(personas["bank_b_head"], b, "accept")
    assert caught.value.status == 409
    # The maker fixes the text; the addressees stay as they were.
    with pytest.raises(ValidationFailed):
        services.inquiry_update(actor=maker, inquiry=inquiry, addressee_ids=[ids["bank_b"]])
    services.inquiry_update(actor=maker, inquiry=inquiry, body="phish-kz.example.com, x.example")
    inquiry = services.inquiry_transition(actor=maker, inquiry=inquiry, name="request_approval")
    _freeze(monkeypatch, datetime(2026, 12, 15, 12, 0, tzinfo=ALMATY))
    inquiry = services.inquiry_transition(actor=head, inquiry=inquiry, name="approve")
    assert inquiry.state == "sent"
    assert inquiry.version == 2
    assert inquiry.deadline_at is None
    b = thread_of(inquiry, ids["bank_b"])
    assert b.deadline_at is not None
    assert b.deadline_at.astimezone(ALMATY).date().isoformat() == "2026-12-17"
    assert InquiryThread.objects.filter(inquiry=inquiry).count() == 2
    # (A new sign-in: the frozen clock jumped past the session's lifetime.)
    assert client_as("bank_b_head").get(f"/requests/{inquiry.pk}/").status_code == 200
    # Told twice: when it first came, and again after the rework (in the head's own language).
    assert (
        Notification.objects.filter(user=personas["bank_b_head"], kind="request.received").count()
        == 2
    )
    # Once an addressee has taken it up, the request itself is no longer returned.
    _move(personas["bank_b_head"], b, "accept")
    with pytest.raises(AppError) as taken:
        services.inquiry_transition(actor=analyst, inquiry=inquiry, name="return", comment="x")
    assert taken.value.status == 409
    inquiry.refresh_from_db()
    assert inquiry.state == "sent"


# --- the protected channel -------------------------------------------------------------------


def test_r67_3_7_a_third_organization_gets_404_everywhere(
    personas: dict[str, User], third: User, client_as: Callable[[str | None], Client]
) -> None:
    ids = _ids(personas)
    inquiry = sent_inquiry(personas, [ids["bank_b"]], tlp="AMBER")
    attachment = services.attachment_add(
        actor=personas["bank_a_maker"],
        inquiry=services.inquiry_create(
            actor=personas["bank_a_maker"], **inquiry_data(addressee_ids=[ids["bank_b"]])
        ),
        upload=SimpleUploadedFile("list.txt", b"x", "text/plain"),
    )
    thread = thread_of(inquiry, ids["bank_b"])
    _move(personas["bank_b_head"], thread, "accept")
    services.thread_comment_add(actor=personas["bank_a_maker"], thread=thread, body="Any news?")
    client = _client(third)
    base, tid, aid = f"/requests/{inquiry.pk}", thread.pk, attachment.pk
    draft = attachment.inquiry_id
    for method, url in [
        ("get", f"{base}/"),
        ("get", f"/requests/{draft}/edit/"),
        ("post", f"{base}/do/return/"),
        ("post", f"{base}/comments/"),
        ("post", f"/requests/{draft}/attachments/"),
        ("get", f"/requests/{draft}/attachments/{aid}/"),
        ("post", f"{base}/threads/{tid}/do/accept/"),
        ("get", f"{base}/threads/{tid}/answer/"),
        ("post", f"{base}/threads/{tid}/comments/"),
        ("post", f"{base}/threads/{tid}/attachments/"),
        ("get", f"/api/v1/requests/{inquiry.pk}"),
        ("patch", f"/api/v1/requests/{draft}"),
        ("post", f"/api/v1/requests/{inquiry.pk}/transitions/return"),
        ("get", f"/api/v1/requests/{inquiry.pk}/comments"),
        ("post", f"/api/v1/requests/{inquiry.pk}/comments"),
        ("get", f"/api/v1/requests/{inquiry.pk}/threads/{tid}"),
        ("put", f"/api/v1/requests/{inquiry.pk}/threads/{tid}/answer"),
        ("post", f"/api/v1/requests/{inquiry.pk}/threads/{tid}/transitions/accept"),
        ("get", f"/api/v1/requests/{inquiry.pk}/threads/{tid}/comments"),
        ("post", f"/api/v1/requests/{inquiry.pk}/threads/{tid}/comments"),
    ]:
        if url.startswith("/api/"):
            body = {"body": "x", "answer": "x", "comment": "x"}
            response = getattr(client, method)(url, body, content_type="application/json")
        else:
            response = getattr(client, method)(url, {"body": "x", "comment": "x"})
        assert response.status_code == 404, f"{method} {url}: {response.status_code}"
    assert client.get("/api/v1/requests").json()["items"] == []
    assert client.get("/requests/").context["rows"] == []
    assert not AuditEvent.objects.filter(event=EventType.REQUEST_VIEWED, actor_id=third.pk).exists()
    assert not Notification.objects.filter(user=third).exists()


def test_r67_3_7_an_addressee_never_sees_drafts_or_other_addressees(
    personas: dict[str, User], client_as: Callable[[str | None], Client]
) -> None:
    ids = _ids(personas)
    draft = services.inquiry_create(
        actor=personas["bank_a_maker"], **inquiry_data(addressee_ids=[ids["bank_b"]])
    )
    for who in ("bank_b_head", "center_admin", "auditor"):
        assert client_as(who).get(f"/requests/{draft.pk}/").status_code == 404
    inquiry = sent_inquiry(personas, [ids["bank_b"], ids["center"]])
    page = client_as("bank_b_head").get(f"/requests/{inquiry.pk}/")
    assert page.status_code == 200
    assert page.context["entries"] == []  # the requester's own deliberations
    assert page.context["versions_count"] == 0
    assert b"request-addressees" not in page.content
    center = thread_of(inquiry, ids["center"])
    response = client_as("bank_b_head").get(f"/requests/{inquiry.pk}/#thread-{center.pk}")
    assert center.pk not in [blk["thread"].pk for blk in response.context["blocks"]]


def test_r67_3_7_clarifications_and_internal_notes(
    personas: dict[str, User], client_as: Callable[[str | None], Client]
) -> None:
    ids = _ids(personas)
    inquiry = sent_inquiry(personas, [ids["bank_b"], ids["mfo"]])
    b, mfo = thread_of(inquiry, ids["bank_b"]), thread_of(inquiry, ids["mfo"])
    services.thread_comment_add(actor=personas["bank_b_maker"], thread=b, body="Which period?")
    services.thread_comment_add(actor=personas["bank_a_maker"], thread=b, body="November.")
    services.thread_comment_add(
        actor=personas["center_analyst"], thread=b, body="Same as REQ-1?", internal=True
    )
    with pytest.raises(Forbidden):
        services.thread_comment_add(
            actor=personas["bank_a_maker"], thread=b, body="x", internal=True
        )
    with pytest.raises(Forbidden):
        services.thread_comment_add(actor=personas["mfo_head"], thread=b, body="x")
    with pytest.raises(Forbidden):
        services.comment_add(actor=personas["bank_b_head"], inquiry=inquiry, body="x")
    url = f"/api/v1/requests/{inquiry.pk}/threads/{b.pk}/comments"

    def bodies(who: str) -> list[str]:
        return [c["body"] for c in client_as(who).get(url).json()]

    assert bodies("bank_b_head") == ["Which period?", "November."]
    assert bodies("bank_a_viewer") == ["Which period?", "November."]
    assert bodies("auditor") == ["Which period?", "November.", "Same as REQ-1?"]
    assert client_as("mfo_head").get(url).status_code == 404
    assert mfo.pk != b.pk


def test_r67_3_7_amber_and_stricter_views_are_audited(
    personas: dict[str, User], client_as: Callable[[str | None], Client]
) -> None:
    ids = _ids(personas)
    amber = sent_inquiry(personas, [ids["bank_b"]], tlp="AMBER")
    sent_inquiry(personas, [ids["bank_b"]], tlp="GREEN")
    thread = thread_of(amber, ids["bank_b"])
    client = client_as("bank_b_maker")
    client.get(f"/requests/{amber.pk}/")
    client.get(f"/api/v1/requests/{amber.pk}")
    client.get(f"/api/v1/requests/{amber.pk}/threads/{thread.pk}")
    client.get("/api/v1/requests")
    viewed = AuditEvent.objects.filter(event=EventType.REQUEST_VIEWED)
    # Page, API detail, thread and list each count; the GREEN request is not audited.
    assert viewed.filter(target_id=str(amber.pk)).count() == 4
    assert viewed.count() == 4
    assert set(viewed.values_list("organization_id", flat=True)) == {ids["bank_b"]}


def test_r67_3_7_attachments_of_the_request_and_of_the_answer(
    personas: dict[str, User], client_as: Callable[[str | None], Client]
) -> None:
    ids = _ids(personas)
    maker = personas["bank_a_maker"]
    inquiry = services.inquiry_create(actor=maker, **inquiry_data(addressee_ids=[ids["bank_b"]]))
    with pytest.raises(ValidationFailed):
        services.attachment_add(
            actor=maker, inquiry=inquiry, upload=SimpleUploadedFile("x.exe", b"MZ")
        )
    file = services.attachment_add(
        actor=maker, inquiry=inquiry, upload=SimpleUploadedFile("list.txt", b"<b>x</b>")
    )
    services.inquiry_transition(actor=maker, inquiry=inquiry, name="request_approval")
    services.inquiry_transition(actor=personas["bank_a_head"], inquiry=inquiry, name="approve")
    with pytest.raises(AppError):
        services.attachment_add(
            actor=maker, inquiry=inquiry, upload=SimpleUploadedFile("y.txt", b"y")
        )
    response = client_as("bank_b_head").get(f"/requests/{inquiry.pk}/attachments/{file.pk}/")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/octet-stream"
    assert "sandbox" in response["Content-Security-Policy"]
    thread = _move(personas["bank_b_head"], thread_of(inquiry, ids["bank_b"]), "accept")
    with pytest.raises(Forbidden):
        services.answer_attachment_add(
            actor=maker, thread=thread, upload=SimpleUploadedFile("z.txt", b"z")
        )
    evidence = services.answer_attachment_add(
        actor=personas["bank_b_maker"], thread=thread, upload=SimpleUploadedFile("log.txt", b"l")
    )
    url = f"/requests/{inquiry.pk}/attachments/{evidence.pk}/"
    # The answer's files reach the requester only with the approved answer.
    assert client_as("bank_a_head").get(url).status_code == 404
    assert client_as("bank_b_maker").get(url).status_code == 200
    thread = _answer(personas["bank_b_maker"], thread, "See the log.")
    thread = _move(personas["bank_b_maker"], thread, "request_approval")
    _move(personas["bank_b_head"], thread, "approve")
    assert client_as("bank_a_head").get(url).status_code == 200
    assert AuditEvent.objects.filter(event=EventType.ATTACHMENT_DOWNLOADED).count() == 3


# --- notifications and reminders -------------------------------------------------------------


def test_r67_11_r67_14_the_people_who_act_next_are_notified(personas: dict[str, User]) -> None:
    ids = _ids(personas)
    maker, head = personas["bank_a_maker"], personas["bank_a_head"]
    inquiry = services.inquiry_create(
        actor=maker, **inquiry_data(addressee_ids=[ids["bank_b"], ids["center"]], tlp="AMBER")
    )
    services.inquiry_transition(actor=maker, inquiry=inquiry, name="request_approval")
    assert Notification.objects.filter(user=head, kind="request.approval_requested").exists()
    services.inquiry_transition(actor=head, inquiry=inquiry, name="approve")
    received = set(
        Notification.objects.filter(kind="request.received").values_list("user__email", flat=True)
    )
    assert {
        personas["bank_b_head"].email,
        personas["bank_b_maker"].email,
        personas["center_admin"].email,
        personas["center_analyst"].email,
    } <= received
    assert personas["auditor"].email not in received
    assert personas["bank_a_head"].email not in received
    # TLP:AMBER: the e-mail says only "sign in to read".
    mail = OutboxMessage.objects.filter(to=personas["bank_b_head"].email).latest("id")
    assert inquiry.subject not in mail.subject + mail.body
    assert "/notifications/" in mail.body
    thread = thread_of(inquiry, ids["bank_b"])
    _move(personas["bank_b_head"], thread, "decline", "Out of scope")
    told = Notification.objects.filter(kind="request.declined")
    assert {n.user_id for n in told} == {maker.pk, head.pk}
    assert "Out of scope" in told.first().text  # type: ignore[union-attr]


def test_r67_14_r67_15_deadline_reminders_for_threads_and_rework(
    personas: dict[str, User], monkeypatch: pytest.MonkeyPatch
) -> None:
    from aips.shared.notifications.reminders import send_deadline_reminders, sources

    assert {"inquiries.thread", "inquiries.rework"} <= {s.name for s in sources()}
    ids = _ids(personas)
    _freeze(monkeypatch, datetime(2026, 12, 11, 12, 0, tzinfo=ALMATY))
    sent_inquiry(personas, [ids["bank_b"]])
    # Due Monday 14: the "before" reminder goes to bank B's head on Friday already.
    assert send_deadline_reminders(now=datetime(2026, 12, 11, 13, 0, tzinfo=ALMATY)) == 1
    assert send_deadline_reminders(now=datetime(2026, 12, 11, 14, 0, tzinfo=ALMATY)) == 0
    assert send_deadline_reminders(now=datetime(2026, 12, 15, 9, 0, tzinfo=ALMATY)) == 1
    reminded = Notification.objects.filter(kind__startswith="deadline.")
    assert {n.user_id for n in reminded} == {personas["bank_b_head"].pk}
    # A returned request reminds its own creator and heads.
    other = sent_inquiry(personas, [ids["mfo"]])
    services.inquiry_transition(
        actor=personas["center_analyst"], inquiry=other, name="return", comment="Incomplete"
    )
    assert Inquiry.objects.get(pk=other.pk).deadline_at is not None
    before = Notification.objects.filter(user=personas["bank_a_maker"]).count()
    send_deadline_reminders(now=datetime(2026, 12, 16, 9, 0, tzinfo=ALMATY))
    assert Notification.objects.filter(user=personas["bank_a_maker"]).count() == before + 1


# --- the API and the pages ------------------------------------------------------------------------


def test_r67_11_r67_14_api_round_trip(
    personas: dict[str, User], client_as: Callable[[str | None], Client]
) -> None:
    ids = _ids(personas)
    maker, head = client_as("bank_a_maker"), client_as("bank_a_head")
    body = inquiry_data(addressee_ids=[ids["bank_b"]])
    created = maker.post("/api/v1/requests", body, content_type="application/json")
    assert created.status_code == 201, created.content
    rid = created.json()["id"]
    assert created.json()["reference"].startswith("REQ-")
    bad = maker.post(
        "/api/v1/requests", {**body, "addressee_ids": []}, content_type="application/json"
    )
    assert bad.status_code == 422
    assert "addressee_ids" in bad.json()["error"]["fields"]
    patched = maker.patch(
        f"/api/v1/requests/{rid}", {"subject": "Updated"}, content_type="application/json"
    )
    assert patched.json()["subject"] == "Updated"

    def post(client: Client, url: str, data: dict[str, str] | None = None) -> Any:
        return client.post(url, data or {}, content_type="application/json")

    assert post(maker, f"/api/v1/requests/{rid}/transitions/request_approval").status_code == 200
    sent = post(head, f"/api/v1/requests/{rid}/transitions/approve").json()
    assert sent["state"] == "sent"
    tid = sent["threads"][0]["id"]
    b_head, b_maker = client_as("bank_b_head"), client_as("bank_b_maker")
    base = f"/api/v1/requests/{rid}/threads/{tid}"
    assert post(b_head, f"{base}/transitions/accept").json()["state"] == "accepted"
    answered = b_maker.put(f"{base}/answer", {"answer": "Yes."}, content_type="application/json")
    assert answered.json()["answer"] == "Yes."
    assert post(b_maker, f"{base}/transitions/request_approval").status_code == 200
    assert post(b_head, f"{base}/transitions/approve").json()["state"] == "answered"
    back = post(maker, f"{base}/transitions/return_answer", {"comment": ""})
    assert back.status_code == 422
    assert post(maker, f"{base}/transitions/close").json()["state"] == "closed"
    assert post(b_head, f"{base}/comments", {"body": "Thanks"}).status_code == 201
    assert [c["body"] for c in maker.get(f"{base}/comments").json()][-1] == "Thanks"
    sent_box = maker.get("/api/v1/requests?box=sent").json()["items"]
    received_box = b_head.get("/api/v1/requests?box=received").json()["items"]
    assert [i["id"] for i in sent_box] == [rid] == [i["id"] for i in received_box]
    assert b_head.get("/api/v1/requests?box=sent").json()["items"] == []


def test_r67_11_r67_14_web_flow_and_center_deadline_page(
    personas: dict[str, User], client_as: Callable[[str | None], Client]
) -> None:
    ids = _ids(personas)
    maker, head = client_as("bank_a_maker"), client_as("bank_a_head")
    form = {
        "subject": "Fraudulent transfers to mule accounts",
        "category": "fraud",
        "tlp": "AMBER",
        "body": "Did you see transfers to these accounts?",
        "addressee_ids": [ids["bank_b"], ids["center"]],
    }
    page = maker.get("/requests/new/")
    assert page.status_code == 200
    choices = [pk for pk, _name in page.context["form"].fields["addressee_ids"].choices]
    assert choices[0] == ids["center"]  # the regulator first
    assert ids["bank_a"] not in choices
    missing = maker.post("/requests/new/", {**form, "addressee_ids": []})
    assert missing.status_code == 422
    assert maker.post("/requests/new/", form).status_code == 302
    inquiry = Inquiry.objects.get()
    maker.post(f"/requests/{inquiry.pk}/do/request_approval/")
    head.post(f"/requests/{inquiry.pk}/do/approve/")
    inquiry.refresh_from_db()
    assert inquiry.state == "sent"
    b = thread_of(inquiry, ids["bank_b"])
    b_head, b_maker = client_as("bank_b_head"), client_as("bank_b_maker")
    detail = b_head.get(f"/requests/{inquiry.pk}/")
    assert [a.name for a in detail.context["blocks"][0]["actions"]] == ["accept", "decline"]
    b_head.post(
        f"/requests/{inquiry.pk}/threads/{b.pk}/do/decline/", {"comment": "", "confirm": "yes"}
    )
    b.refresh_from_db()
    assert b.state == "received"  # a decline needs its reason
    b_head.post(f"/requests/{inquiry.pk}/threads/{b.pk}/do/accept/", {"confirm": "yes"})
    assert b_maker.get(f"/requests/{inquiry.pk}/threads/{b.pk}/answer/").status_code == 200
    saved = b_maker.post(f"/requests/{inquiry.pk}/threads/{b.pk}/answer/", {"answer": "No."})
    assert saved.status_code == 302
    b_maker.post(f"/requests/{inquiry.pk}/threads/{b.pk}/do/request_approval/")
    b_head.post(f"/requests/{inquiry.pk}/threads/{b.pk}/do/approve/")
    b.refresh_from_db()
    assert b.state == "answered"
    # The center's overview: bank B answered, the center's own thread waits.
    page = client_as("auditor").get("/requests/deadlines/")
    assert page.status_code == 200
    statuses = {r.thread.organization_id: r.status for r in page.context["rows"] if r.thread}
    # A fresh 1-working-day clock is always "due soon" (today or the next working day).
    assert statuses == {ids["bank_b"]: "stopped", ids["center"]: "due_soon"}
    filtered = client_as("center_admin").get("/requests/deadlines/?status=due_soon")
    assert [r.thread.organization_id for r in filtered.context["rows"]] == [ids["center"]]
    assert client_as("bank_a_head").get("/requests/deadlines/").status_code == 403
    listed = b_head.get("/requests/?box=received")
    assert [row[0].pk for row in listed.context["rows"]] == [inquiry.pk]
    assert b"Requests" in client_as("bank_a_viewer").get("/").content
