"""Deadline reminders for alerts (R67.13, R67.15).

* An organization's copy of a published alert (`AlertRecipient`) that is still only delivered
  must be accepted or declined within 1 working day: the organization's IS-unit heads, who
  answer for it, are reminded before and at the deadline. Answering clears `deadline_at`.
* An organization's own alert returned by the center for rework (3 working days): its author
  and heads are reminded, as for incident cards.

E-mails follow the TLP rule of `services.notify` (AMBER and RED: only "sign in to read")."""

from typing import Any

from django.urls import reverse
from django.utils.dateformat import format as date_format
from django.utils.translation import gettext_lazy
from django.utils.translation import gettext_lazy as _

from aips.center.alerts.models import Alert, AlertRecipient, AlertState, RecipientStatus
from aips.core.actors import Actor
from aips.core.permissions import Role
from aips.shared.accounts.models import User
from aips.shared.accounts.selectors import people_to_tell
from aips.shared.notifications.models import ReminderKind
from aips.shared.notifications.reminders import DeadlineSource, register
from aips.shared.notifications.services import Text, notify
from aips.shared.organizations.models import OrganizationKind
from aips.shared.workdays.calendar import ALMATY


def _local(moment: Any) -> str:
    return date_format(moment.astimezone(ALMATY), "d.m.Y H:i") if moment else ""


# --- moves before publication ---------------------------------------------------------------


def alert_transitioned(*, actor: Actor, alert: Alert, name: str, comment: str = "") -> None:
    """Before publication, whoever must act next hears of it, as for incident cards. Called by
    alerts.services.alert_transition, in its transaction, after the move."""

    params = {"ref": alert.reference, "title": alert.title, "comment": comment}
    if name == "request_approval":
        users = people_to_tell(organization_id=alert.organization_id, role=Role.ORG_HEAD)
        text = gettext_lazy("Alert %(ref)s “%(title)s” is waiting for your approval.")
    elif name == "approve":
        users = people_to_tell(
            organization__kind=OrganizationKind.CENTER,
            role__in=[Role.CENTER_ADMIN, Role.CENTER_ANALYST],
        )
        text = gettext_lazy("Alert %(ref)s “%(title)s” was submitted for publication.")
    elif name in ("return", "send_back"):
        users = people_to_tell(pk=alert.created_by_id, organization_id=alert.organization_id)
        text = gettext_lazy("Alert %(ref)s “%(title)s” was sent back: %(comment)s")
    else:
        return
    notify(
        users=[u for u in users if u.pk != actor.pk],
        kind=f"alert.{name}",
        subject=Text(gettext_lazy("AIPS: alert %(ref)s"), {"ref": alert.reference}),
        text=Text(text, params),
        link=f"/alerts/{alert.pk}/",
        email=True,
        target=alert,
        tlp=alert.tlp,
    )


# --- acknowledgements (R67.13) ---------------------------------------------------------------


def recipient_heads(recipient: AlertRecipient) -> list[User]:
    """The receiving organization's IS-unit heads: they accept or decline (ALERT_ACKNOWLEDGE)."""
    return people_to_tell(organization_id=recipient.organization_id, role=Role.ORG_HEAD)


def _recipient_link(recipient: AlertRecipient) -> str:
    return reverse("alerts:detail", args=[recipient.alert_id])


def _recipient_reminder(recipient: AlertRecipient, kind: str) -> tuple[Text, Text]:
    alert = recipient.alert
    params = {
        "ref": alert.reference,
        "title": alert.title,
        "deadline": _local(recipient.deadline_at),
    }
    if kind == ReminderKind.AT:
        return (
            Text(_("AIPS: alert %(ref)s is not answered"), params),
            Text(
                _(
                    "The deadline to accept or decline the recommendations of alert %(ref)s "
                    "“%(title)s” passed at %(deadline)s (Almaty time). Answer it as soon as "
                    "possible: the center sees the delay."
                ),
                params,
            ),
        )
    return (
        Text(_("AIPS: answer alert %(ref)s by %(deadline)s"), params),
        Text(
            _(
                "Accept or decline the recommendations of alert %(ref)s “%(title)s” by "
                "%(deadline)s (Almaty time)."
            ),
            params,
        ),
    )


RECIPIENT_REMINDERS = DeadlineSource(
    name="alerts.recipient",
    queryset=lambda: AlertRecipient.objects.filter(
        status=RecipientStatus.DELIVERED, alert__state=AlertState.PUBLISHED
    ).select_related("alert", "organization"),
    recipients=recipient_heads,
    message=_recipient_reminder,
    link=_recipient_link,
    tlp=lambda recipient: recipient.alert.tlp,
)


# --- rework of an organization's own alert (R67.15) ----------------------------------------------

# The states in which the alert's organization owes the center a resubmission.
OPEN_DEADLINE_STATES = (AlertState.RETURNED, AlertState.DRAFT, AlertState.AWAITING_APPROVAL)


def author_and_heads(alert: Alert) -> list[User]:
    author = (
        people_to_tell(pk=alert.created_by_id, organization_id=alert.organization_id)
        if alert.created_by_id
        else []
    )
    return author + people_to_tell(organization_id=alert.organization_id, role=Role.ORG_HEAD)


def _alert_reminder(alert: Alert, kind: str) -> tuple[Text, Text]:
    params = {
        "ref": alert.reference,
        "title": alert.title,
        "deadline": _local(alert.deadline_at),
    }
    if kind == ReminderKind.AT:
        return (
            Text(_("AIPS: alert %(ref)s is overdue"), params),
            Text(
                _(
                    "The deadline for alert %(ref)s “%(title)s” passed at %(deadline)s (Almaty "
                    "time). Submit it to the center as soon as possible."
                ),
                params,
            ),
        )
    return (
        Text(_("AIPS: alert %(ref)s is due soon"), params),
        Text(
            _(
                "Alert %(ref)s “%(title)s” must be submitted to the center again by "
                "%(deadline)s (Almaty time)."
            ),
            params,
        ),
    )


REWORK_REMINDERS = DeadlineSource(
    name="alerts.rework",
    queryset=lambda: Alert.objects.filter(state__in=OPEN_DEADLINE_STATES).select_related(
        "organization"
    ),
    recipients=author_and_heads,
    message=_alert_reminder,
    link=lambda alert: reverse("alerts:detail", args=[alert.pk]),
    tlp=lambda alert: alert.tlp,
)


def register_reminders() -> None:
    """Called from this app's AppConfig.ready(): its deadlines join the reminder job."""
    register(RECIPIENT_REMINDERS)
    register(REWORK_REMINDERS)
