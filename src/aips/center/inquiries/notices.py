"""Who hears about a request, and when (R67.11, R67.14, R67.15).

The request (the requester's side):

| transition | notified |
|---|---|
| request_approval | the requester's IS-unit heads |
| send_back | the person who asked for approval |
| approve, send_direct | every addressee's people who act (`inquiry_sent`) |
| return | the request's creator and the requester's heads (reason, deadline) |

One addressee's thread:

| transition | notified |
|---|---|
| accept, decline | the request's creator and the requester's heads |
| request_approval | the addressee's IS-unit heads |
| send_back | the person who asked for approval |
| approve, answer_direct | the request's creator and the requester's heads |
| return_answer, center_return_answer | who prepared and sent the answer; the addressee's heads |
| close | the addressee's heads |

"The people who act" in an organization are its IS-unit heads and responsible employees; in the
center (which has no head) its administrators and analysts. Never the person who acted, never
anyone inactive or blocked. E-mails follow the TLP rule of `services.notify`: for TLP:AMBER and
above only "sign in to read". Deadlines are registered with the reminder job: each waiting thread
(its addressee's heads, or the people who act while the answer is written) and each request in
rework (its creator and heads)."""

from collections.abc import Callable
from typing import Any

from django.urls import reverse
from django.utils.dateformat import format as date_format
from django.utils.translation import gettext_lazy as _

from aips.center.inquiries.models import (
    WAITING_ON_ADDRESSEE,
    Inquiry,
    InquiryState,
    InquiryThread,
    ThreadState,
)
from aips.core.permissions import Role
from aips.shared.accounts.models import User
from aips.shared.accounts.selectors import people_to_tell
from aips.shared.notifications.models import ReminderKind
from aips.shared.notifications.reminders import DeadlineSource, register
from aips.shared.notifications.services import Text, notify
from aips.shared.organizations.models import Organization, OrganizationKind
from aips.shared.workdays.calendar import ALMATY

CENTER_ACTORS = [Role.CENTER_ADMIN, Role.CENTER_ANALYST]


def _is_center(organization_id: int) -> bool:
    return Organization.objects.filter(pk=organization_id, kind=OrganizationKind.CENTER).exists()


def deciders(organization_id: int) -> list[User]:
    """Who decides for an organization: its IS-unit heads; in the center, its admins/analysts."""
    if _is_center(organization_id):
        return people_to_tell(organization_id=organization_id, role__in=CENTER_ACTORS)
    return people_to_tell(organization_id=organization_id, role=Role.ORG_HEAD)


def handlers(organization_id: int) -> list[User]:
    """Who works on requests there: the deciders and the responsible employees."""
    if _is_center(organization_id):
        return deciders(organization_id)
    return people_to_tell(
        organization_id=organization_id, role__in=[Role.ORG_HEAD, Role.ORG_RESPONSIBLE]
    )


def _of(organization_id: int, *user_ids: int | None) -> list[User]:
    """These people, only while they are still in that organization."""
    ids = [pk for pk in user_ids if pk is not None]
    return people_to_tell(pk__in=ids, organization_id=organization_id) if ids else []


def requester_people(inquiry: Inquiry) -> list[User]:
    return _of(inquiry.organization_id, inquiry.created_by_id) + deciders(inquiry.organization_id)


def _local(moment: Any) -> str:
    return date_format(moment.astimezone(ALMATY), "d.m.Y H:i") if moment else ""


def _link(inquiry_id: int) -> str:
    return reverse("inquiries:detail", args=[inquiry_id])


def _params(
    inquiry: Inquiry, thread: InquiryThread | None, actor: User | None, comment: str
) -> Any:
    item: Any = thread if thread is not None else inquiry
    return {
        "ref": inquiry.reference,
        "subject": inquiry.subject,
        "from": lambda: inquiry.organization.display_name,
        "to": (lambda: thread.organization.display_name) if thread is not None else "",
        "who": actor.full_name if actor is not None else "",
        "reason": comment,
        "deadline": _local(item.deadline_at),
    }


def _send(
    actor: User,
    users: list[User],
    kind: str,
    subject: Any,
    text: Any,
    params: Any,
    inquiry: Inquiry,
    target: Any,
) -> None:
    notify(
        users=[u for u in users if u.pk != actor.pk],
        kind=kind,
        subject=Text(subject, params),
        text=Text(text, params),
        link=_link(inquiry.pk),
        email=True,
        target=target,
        tlp=inquiry.tlp,
    )


def inquiry_sent(
    *, actor: User, inquiry: Inquiry, threads: list[InquiryThread], again: bool
) -> None:
    """Each addressee's people who act hear of the request, with their own deadline."""
    text = (
        _(
            "%(from)s sent request %(ref)s “%(subject)s” again after rework. Accept it into "
            "work or decline it by %(deadline)s (Almaty time)."
        )
        if again
        else _(
            "%(from)s sent you request %(ref)s “%(subject)s”. Accept it into work or decline "
            "it by %(deadline)s (Almaty time)."
        )
    )
    for thread in threads:
        _send(
            actor,
            handlers(thread.organization_id),
            "request.received",
            _("AIPS: request %(ref)s from %(from)s"),
            text,
            _params(inquiry, thread, actor, ""),
            inquiry,
            thread,
        )


_Rule = tuple[str, Callable[[], list[User]], Any, Any]


def _inquiry_rule(name: str, inquiry: Inquiry) -> _Rule | None:
    if name == "request_approval":
        return (
            "request.approval_requested",
            lambda: deciders(inquiry.organization_id),
            _("AIPS: request %(ref)s awaits your approval"),
            _("%(who)s asks you to approve request %(ref)s “%(subject)s” before it is sent."),
        )
    if name == "send_back":
        return (
            "request.sent_back",
            lambda: _of(inquiry.organization_id, inquiry.approval_requested_by_id),
            _("AIPS: request %(ref)s was sent back to you"),
            _("%(who)s sent request %(ref)s “%(subject)s” back to you: %(reason)s"),
        )
    if name == "return":
        return (
            "request.returned",
            lambda: requester_people(inquiry),
            _("AIPS: request %(ref)s returned for rework"),
            _(
                "The center returned request %(ref)s “%(subject)s” as incomplete: %(reason)s\n"
                "Send it again by %(deadline)s (Almaty time)."
            ),
        )
    return None


def inquiry_transitioned(*, actor: User, inquiry: Inquiry, name: str, comment: str = "") -> None:
    """Called by inquiries.services.inquiry_transition, in its transaction, after the move."""
    rule = _inquiry_rule(name, inquiry)
    if rule is None:
        return
    kind, recipients, subject, text = rule
    params = _params(inquiry, None, actor, (comment or "").strip())
    _send(actor, recipients(), kind, subject, text, params, inquiry, inquiry)


def _thread_rule(name: str, thread: InquiryThread) -> _Rule | None:
    inquiry = thread.inquiry
    if name == "accept":
        return (
            "request.accepted",
            lambda: requester_people(inquiry),
            _("AIPS: %(to)s accepted %(ref)s"),
            _(
                "%(to)s accepted request %(ref)s “%(subject)s” into work; the answer is due by "
                "%(deadline)s (Almaty time)."
            ),
        )
    if name == "decline":
        return (
            "request.declined",
            lambda: requester_people(inquiry),
            _("AIPS: %(to)s declined %(ref)s"),
            _("%(to)s declined request %(ref)s “%(subject)s”: %(reason)s"),
        )
    if name == "request_approval":
        return (
            "request.answer_approval_requested",
            lambda: deciders(thread.organization_id),
            _("AIPS: the answer to %(ref)s awaits your approval"),
            _("%(who)s asks you to approve the answer to request %(ref)s “%(subject)s”."),
        )
    if name == "send_back":
        return (
            "request.answer_sent_back",
            lambda: _of(thread.organization_id, thread.approval_requested_by_id),
            _("AIPS: the answer to %(ref)s was sent back to you"),
            _("%(who)s sent the answer to request %(ref)s “%(subject)s” back to you: %(reason)s"),
        )
    if name in ("approve", "answer_direct"):
        return (
            "request.answered",
            lambda: requester_people(inquiry),
            _("AIPS: %(to)s answered %(ref)s"),
            _("%(to)s answered request %(ref)s “%(subject)s”."),
        )
    if name in ("return_answer", "center_return_answer"):
        return (
            "request.answer_returned",
            lambda: (
                _of(thread.organization_id, thread.approval_requested_by_id, thread.answered_by_id)
                + deciders(thread.organization_id)
            ),
            _("AIPS: the answer to %(ref)s was returned"),
            _(
                "The answer to request %(ref)s “%(subject)s” was returned as incomplete: "
                "%(reason)s\nFix it by %(deadline)s (Almaty time)."
            ),
        )
    if name == "close":
        return (
            "request.closed",
            lambda: deciders(thread.organization_id),
            _("AIPS: request %(ref)s closed"),
            _("%(from)s closed request %(ref)s “%(subject)s”: the answer is complete."),
        )
    return None


def thread_transitioned(
    *, actor: User, thread: InquiryThread, name: str, comment: str = ""
) -> None:
    """Called by inquiries.services.thread_transition, in its transaction, after the move."""
    rule = _thread_rule(name, thread)
    if rule is None:
        return
    kind, recipients, subject, text = rule
    params = _params(thread.inquiry, thread, actor, (comment or "").strip())
    _send(actor, recipients(), kind, subject, text, params, thread.inquiry, thread)


# --- deadline reminders -----------------------------------------------------------------------


def thread_recipients(thread: InquiryThread) -> list[User]:
    """Accepting or declining is the deciders' act; an answer is written by the handlers."""
    if thread.state == ThreadState.RECEIVED:
        return deciders(thread.organization_id)
    return handlers(thread.organization_id)


def _thread_reminder(thread: InquiryThread, kind: str) -> tuple[Text, Text]:
    params = _params(thread.inquiry, thread, None, "")
    if thread.state == ThreadState.RECEIVED:
        if kind == ReminderKind.AT:
            return (
                Text(_("AIPS: request %(ref)s is not accepted or declined"), params),
                Text(
                    _(
                        "The deadline to accept or decline request %(ref)s “%(subject)s” passed "
                        "at %(deadline)s (Almaty time). Answer it as soon as possible: the "
                        "center sees the delay."
                    ),
                    params,
                ),
            )
        return (
            Text(_("AIPS: accept or decline request %(ref)s by %(deadline)s"), params),
            Text(
                _(
                    "Accept request %(ref)s “%(subject)s” into work or decline it by "
                    "%(deadline)s (Almaty time)."
                ),
                params,
            ),
        )
    if kind == ReminderKind.AT:
        return (
            Text(_("AIPS: the answer to request %(ref)s is overdue"), params),
            Text(
                _(
                    "The deadline for the answer to request %(ref)s “%(subject)s” passed at "
                    "%(deadline)s (Almaty time). Send it as soon as possible: the center sees "
                    "the delay."
                ),
                params,
            ),
        )
    return (
        Text(_("AIPS: answer request %(ref)s by %(deadline)s"), params),
        Text(
            _("The answer to request %(ref)s “%(subject)s” is due by %(deadline)s (Almaty time)."),
            params,
        ),
    )


THREAD_REMINDERS = DeadlineSource(
    name="inquiries.thread",
    queryset=lambda: InquiryThread.objects.filter(
        state__in=WAITING_ON_ADDRESSEE, inquiry__state=InquiryState.SENT
    ).select_related("inquiry", "inquiry__organization", "organization"),
    recipients=thread_recipients,
    message=_thread_reminder,
    link=lambda thread: _link(thread.inquiry_id),
    tlp=lambda thread: thread.inquiry.tlp,
)

# The states in which the requester owes the center a request sent again (R67.15).
OPEN_DEADLINE_STATES = (InquiryState.RETURNED, InquiryState.DRAFT, InquiryState.AWAITING_APPROVAL)


def _rework_reminder(inquiry: Inquiry, kind: str) -> tuple[Text, Text]:
    params = _params(inquiry, None, None, "")
    if kind == ReminderKind.AT:
        return (
            Text(_("AIPS: request %(ref)s is overdue"), params),
            Text(
                _(
                    "The deadline for request %(ref)s “%(subject)s” passed at %(deadline)s "
                    "(Almaty time). Send it again as soon as possible."
                ),
                params,
            ),
        )
    return (
        Text(_("AIPS: request %(ref)s is due soon"), params),
        Text(
            _("Request %(ref)s “%(subject)s” must be sent again by %(deadline)s (Almaty time)."),
            params,
        ),
    )


REWORK_REMINDERS = DeadlineSource(
    name="inquiries.rework",
    queryset=lambda: Inquiry.objects.filter(state__in=OPEN_DEADLINE_STATES).select_related(
        "organization"
    ),
    recipients=requester_people,
    message=_rework_reminder,
    link=lambda inquiry: _link(inquiry.pk),
    tlp=lambda inquiry: inquiry.tlp,
)


def register_reminders() -> None:
    """Called from this app's AppConfig.ready(): its deadlines join the reminder job."""
    register(THREAD_REMINDERS)
    register(REWORK_REMINDERS)
