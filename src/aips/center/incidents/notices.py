"""Who hears about an incident card, and when (R67.12, R67.15).

| transition | → state | notified |
|---|---|---|
| request_approval | awaiting approval | the organization's IS-unit heads |
| send_back | draft | the person who asked for approval |
| approve | submitted | the center's administrators and analysts |
| return | returned | the card's creator and the organization's heads (reason, deadline) |
| accept, close | accepted, closed | the card's creator |

Never the person who acted, never anyone inactive or blocked, and organization people only of the
card's own organization. E-mails follow the TLP rule of `services.notify`. The card's deadline
(rework after a return) is registered with the reminder job: creator and heads are reminded."""

from collections.abc import Callable
from typing import Any

from django.urls import reverse
from django.utils.dateformat import format as date_format
from django.utils.translation import gettext_lazy as _

from aips.center.incidents.models import CardState, IncidentCard
from aips.core.permissions import Role
from aips.shared.accounts.models import User
from aips.shared.accounts.selectors import people_to_tell
from aips.shared.notifications.models import ReminderKind
from aips.shared.notifications.reminders import DeadlineSource, register
from aips.shared.notifications.services import Text, notify
from aips.shared.organizations.models import OrganizationKind
from aips.shared.workdays.calendar import ALMATY


def org_heads(card: IncidentCard) -> list[User]:
    return people_to_tell(organization_id=card.organization_id, role=Role.ORG_HEAD)


def center_reviewers() -> list[User]:
    return people_to_tell(
        organization__kind=OrganizationKind.CENTER,
        role__in=[Role.CENTER_ADMIN, Role.CENTER_ANALYST],
    )


def _of_the_card(card: IncidentCard, user_id: int | None) -> list[User]:
    """A maker, only while still in the card's organization."""
    if user_id is None:
        return []
    return people_to_tell(pk=user_id, organization_id=card.organization_id)


def creator_and_heads(card: IncidentCard) -> list[User]:
    return _of_the_card(card, card.created_by_id) + org_heads(card)


def _link(card: IncidentCard) -> str:
    return reverse("incidents:detail", args=[card.pk])


def _deadline(card: IncidentCard) -> str:
    if card.deadline_at is None:
        return ""
    return date_format(card.deadline_at.astimezone(ALMATY), "d.m.Y H:i")


def _params(card: IncidentCard, actor: User | None = None, comment: str = "") -> dict[str, Any]:
    return {
        "ref": card.reference,
        "title": card.title,
        "org": lambda: card.organization.display_name,
        "who": actor.full_name if actor is not None else "",
        "reason": comment,
        "deadline": _deadline(card),
        "version": card.version,
    }


_Rule = tuple[str, Callable[[IncidentCard], list[User]], Any, Any]


def _rule(name: str, card: IncidentCard) -> _Rule | None:
    """(kind, recipients, subject msgid, text msgid) for a transition, or None."""
    if name == "request_approval":
        return (
            "incident.approval_requested",
            org_heads,
            _("AIPS: %(ref)s awaits your approval"),
            _(
                "%(who)s asks you to approve incident card %(ref)s “%(title)s” before it goes "
                "to the center."
            ),
        )
    if name == "send_back":
        return (
            "incident.sent_back",
            lambda c: _of_the_card(c, c.approval_requested_by_id),
            _("AIPS: %(ref)s was sent back to you"),
            _("%(who)s sent incident card %(ref)s “%(title)s” back to you: %(reason)s"),
        )
    if name == "approve":
        return (
            "incident.submitted",
            lambda c: center_reviewers(),
            _("AIPS: incident card %(ref)s from %(org)s"),
            _("%(org)s submitted incident card %(ref)s “%(title)s” to the center.")
            if card.version <= 1
            else _(
                "%(org)s submitted incident card %(ref)s “%(title)s” again after rework "
                "(version %(version)s)."
            ),
        )
    if name == "return":
        return (
            "incident.returned",
            creator_and_heads,
            _("AIPS: %(ref)s returned for rework"),
            _(
                "The center returned incident card %(ref)s “%(title)s” for rework: %(reason)s\n"
                "Submit it again by %(deadline)s (Almaty time)."
            ),
        )
    if name == "accept":
        return (
            "incident.accepted",
            lambda c: _of_the_card(c, c.created_by_id),
            _("AIPS: %(ref)s accepted"),
            _("The center accepted incident card %(ref)s “%(title)s”."),
        )
    if name == "close":
        return (
            "incident.closed",
            lambda c: _of_the_card(c, c.created_by_id),
            _("AIPS: %(ref)s closed"),
            _("The center closed incident card %(ref)s “%(title)s”."),
        )
    return None


def card_transitioned(*, actor: User, card: IncidentCard, name: str, comment: str = "") -> None:
    """Called by incidents.services.card_transition, in its transaction, after the move."""
    rule = _rule(name, card)
    if rule is None:
        return
    kind, recipients, subject, text = rule
    params = _params(card, actor, (comment or "").strip())
    notify(
        users=[u for u in recipients(card) if u.pk != actor.pk],
        kind=kind,
        subject=Text(subject, params),
        text=Text(text, params),
        link=_link(card),
        email=True,
        target=card,
        tlp=card.tlp,
    )


# --- deadline reminders -----------------------------------------------------------------------

# The states in which the card's organization owes the center a (re)submission.
OPEN_DEADLINE_STATES = (CardState.RETURNED, CardState.DRAFT, CardState.AWAITING_APPROVAL)


def _reminder(card: IncidentCard, kind: str) -> tuple[Text, Text]:
    params = _params(card)
    if kind == ReminderKind.AT:
        return (
            Text(_("AIPS: %(ref)s is overdue"), params),
            Text(
                _(
                    "The deadline for incident card %(ref)s “%(title)s” passed at %(deadline)s "
                    "(Almaty time). Submit it to the center as soon as possible."
                ),
                params,
            ),
        )
    return (
        Text(_("AIPS: %(ref)s is due soon"), params),
        Text(
            _(
                "Incident card %(ref)s “%(title)s” must be submitted to the center again by "
                "%(deadline)s (Almaty time)."
            ),
            params,
        ),
    )


CARD_REMINDERS = DeadlineSource(
    name="incidents.card",
    queryset=lambda: IncidentCard.objects.filter(state__in=OPEN_DEADLINE_STATES).select_related(
        "organization"
    ),
    recipients=creator_and_heads,
    message=_reminder,
    link=_link,
    tlp=lambda card: card.tlp,
)


def register_reminders() -> None:
    """Called from this app's AppConfig.ready(): its deadlines join the reminder job."""
    register(CARD_REMINDERS)
