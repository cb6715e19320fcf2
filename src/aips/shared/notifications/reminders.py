"""Deadline reminders (R67.15): the worker's "reminders" job.

Each item type with a `deadline_at` (a WorkflowItem) registers a `DeadlineSource`: which of its
items have a live deadline, who must act on one, and what to tell them. Each domain registers its
sources from its own AppConfig.ready() (its notices.py: incident cards, alerts, requests); this
module imports none of them.

Two reminders per deadline, each sent once:

* "before": once the deadline falls on today or on the next working day (Kazakhstan calendar,
  Almaty time), i.e. from 00:00 of the last working day before the deadline's day. A deadline
  ends at 23:59:59 on its day, so this leaves at least one whole working day, and a weekend or a
  holiday in between never eats the warning (returned on Friday 11 December 2026, due Thursday
  the 17th: the reminder comes on Tuesday the 15th, because Wednesday the 16th is a holiday). A
  deadline set already inside that window gets its "before" reminder at the next run.
* "at": once the deadline has passed (overdue). An item already overdue when first seen gets only
  this one.

`ReminderSent` (item, deadline, kind) is unique, so re-runs and concurrent workers never send a
reminder twice, and a new deadline (the card returned again) arms both reminders again."""

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Final

from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, models, transaction
from django.utils import timezone

from aips.core.actors import SystemActor
from aips.core.logging import get_logger
from aips.shared.audit.models import EventType
from aips.shared.audit.services import NewEvent, record_many
from aips.shared.notifications.models import ReminderKind, ReminderSent
from aips.shared.notifications.services import Text, notify
from aips.shared.workdays.calendar import deadline_info

log = get_logger("aips.shared.notifications.reminders")

# Deadlines further away than this cannot be "within one working day" (the longest run of days
# off in Kazakhstan is far shorter), so they are not even loaded.
HORIZON: Final = timedelta(days=15)


@dataclass(frozen=True)
class DeadlineSource:
    """One item type whose deadlines are watched."""

    name: str
    # Items whose deadline is live (someone still has to act); deadline_at IS NOT NULL is added.
    queryset: Callable[[], models.QuerySet[Any]]
    # The people who must act, already limited to the item's own organization (or the center).
    recipients: Callable[[Any], Iterable[Any]]
    # (subject, text) for ReminderKind.BEFORE / ReminderKind.AT.
    message: Callable[[Any, str], tuple[Text, Text]]
    link: Callable[[Any], str]
    tlp: Callable[[Any], str | None] = field(default=lambda item: getattr(item, "tlp", None))


_SOURCES: dict[str, DeadlineSource] = {}


def register(source: DeadlineSource) -> None:
    """Idempotent: registering the same name again replaces the entry."""
    _SOURCES[source.name] = source


def sources() -> list[DeadlineSource]:
    return list(_SOURCES.values())


def due_kind(deadline: datetime, now: datetime) -> str | None:
    """Which reminder a deadline calls for at `now`, if any."""
    info = deadline_info(deadline, now)
    if info.overdue:
        return ReminderKind.AT.value
    if info.working_days_left <= 1:
        return ReminderKind.BEFORE.value
    return None


@transaction.atomic
def send_deadline_reminders(*, now: datetime | None = None) -> int:
    """Send every reminder that is due and not yet sent; returns how many items were reminded."""
    now = now or timezone.now()
    actor = SystemActor(label="worker")
    count = 0
    journal: list[NewEvent] = []  # one append of every reminder sent, in order, at the end
    for source in sources():
        items = list(
            source.queryset().filter(deadline_at__isnull=False, deadline_at__lte=now + HORIZON)
        )
        if not items:
            continue
        content_type = ContentType.objects.get_for_model(items[0])
        done = set(
            ReminderSent.objects.filter(
                content_type=content_type, object_id__in=[i.pk for i in items]
            ).values_list("object_id", "deadline_at", "kind")
        )
        for item in items:
            if (item.pk, item.deadline_at, ReminderKind.AT.value) in done:
                continue  # both reminders of this deadline are behind us
            kind = due_kind(item.deadline_at, now)
            if kind is None or (item.pk, item.deadline_at, kind) in done:
                continue
            try:
                with transaction.atomic():
                    ReminderSent.objects.create(
                        content_type=content_type,
                        object_id=item.pk,
                        deadline_at=item.deadline_at,
                        kind=kind,
                    )
            except IntegrityError:
                continue  # another run got there first
            subject, text = source.message(item, kind)
            sent = notify(
                users=source.recipients(item),
                kind=f"deadline.{kind}",
                subject=subject,
                text=text,
                link=source.link(item),
                email=True,
                target=item,
                tlp=source.tlp(item),
            )
            journal.append(
                NewEvent(
                    actor=actor,
                    event=EventType.DEADLINE_REMINDER_SENT,
                    target=item,
                    organization_id=getattr(item, "organization_id", None),
                    details={
                        "kind": kind,
                        "deadline": item.deadline_at.isoformat(),
                        "recipients": [n.user_id for n in sent],
                    },
                )
            )
            log.info("reminder.sent", source=source.name, item=item.pk, kind=kind)
            count += 1
    record_many(journal)
    return count
