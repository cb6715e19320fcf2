"""E-mail through the outbox, in-app notifications, and marking them read.

Delivery is at least once: `enqueue_mail` writes a row in the caller's transaction, so a change
that rolls back sends nothing and a change that commits cannot lose its e-mail; `drain_outbox`
(the worker's "outbox" job) sends due rows and marks them. A worker that dies after the SMTP
server accepted a message but before its transaction commits sends that message again.

Claiming: `drain_outbox` locks the due rows it takes with SELECT … FOR UPDATE SKIP LOCKED, so on
PostgreSQL several drains (two workers, a worker and a test) each get different rows and never
wait for one another. SQLite has no row locks: Django leaves the clause out there, and the
settings open every transaction with BEGIN IMMEDIATE, which takes the database's single write
lock, so a second drain waits for the first to commit and then finds the rows already sent. On
SQLite that lock is held while mail is being sent, which is why a drain stops after
OUTBOX_TIME_BUDGET seconds and SMTP connections get a timeout.
"""

import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Final, Protocol

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.mail import EmailMessage, get_connection
from django.db import models, transaction
from django.utils import timezone, translation
from django.utils.functional import Promise

from aips.core.access import ensure_perm
from aips.core.actors import Actor, Person, SystemActor
from aips.core.branding import site_text
from aips.core.logging import get_logger
from aips.core.permissions import Perm
from aips.shared.audit.models import EventType
from aips.shared.audit.services import NewEvent, record, record_many
from aips.shared.notifications.models import Notification, OutboxMessage, OutboxStatus

log = get_logger("aips.shared.notifications")

# Backoff after a failed attempt n (1, 2, …): BASE · 2^(n-1), at most CAP; after MAX_ATTEMPTS
# failures the message is marked failed: 1+2+4+8+16+32+60 min ≈ 2 hours of retrying.
OUTBOX_MAX_ATTEMPTS: Final = 8
OUTBOX_BACKOFF_BASE: Final = timedelta(minutes=1)
OUTBOX_BACKOFF_CAP: Final = timedelta(hours=1)
# A drain stops taking new messages after this many seconds (the rest wait for the next tick).
OUTBOX_TIME_BUDGET: Final = 5.0
# An SMTP connection without its own timeout (EMAIL_TIMEOUT unset) gets this one.
SMTP_TIMEOUT_SECONDS: Final = 10
# Sent messages are kept this long (without their body), then removed.
OUTBOX_KEEP_SENT: Final = timedelta(days=30)
# TLP 2.0 levels whose e-mails say only "sign in to read" (no title, no content).
WITHHELD_TLP: Final = frozenset({"AMBER", "AMBER+STRICT", "RED"})


# --- texts in the recipient's language ------------------------------------------------------


@dataclass(frozen=True)
class Text:
    """A message to be rendered in each recipient's language: `msgid % params`, evaluated under
    `translation.override`. Give the msgid with gettext_lazy (so makemessages finds it); a param
    may be a lazy string or a callable (e.g. `lambda: org.display_name`), also evaluated there."""

    msgid: str | Promise
    params: Mapping[str, Any] = field(default_factory=dict)

    def render_all(self) -> dict[str, str]:
        """The text in every language AIPS speaks, for `Notification.texts`."""
        return {code: self.render(code) for code, _name in settings.LANGUAGES}

    def render(self, language: str) -> str:
        with translation.override(language):
            values = {k: _value(v) for k, v in self.params.items()}
            try:
                return _format(str(self.msgid), values)
            except (KeyError, ValueError, TypeError):
                # A translation with a broken placeholder must not stop the change that
                # notifies: fall back to the English source text.
                log.warning("notifications.bad_translation", language=language)
        with translation.override(None):
            return _format(str(self.msgid), values)


def _format(template: str, values: dict[str, Any]) -> str:
    return template % values if values else template


def _value(value: Any) -> Any:
    if isinstance(value, Promise):
        return str(value)
    if callable(value):
        return _value(value())
    return value


def email_withheld(tlp: str | None) -> bool:
    """TLP:AMBER, AMBER+STRICT and RED content never leaves AIPS by e-mail."""
    if not tlp:
        return False
    level = tlp.strip().upper().removeprefix("TLP:")
    return level in WITHHELD_TLP


def absolute_url(link: str) -> str:
    if link.startswith(("http://", "https://")):
        return link
    return settings.AIPS_BASE_URL.rstrip("/") + link


# --- the outbox -----------------------------------------------------------------------------


@transaction.atomic
def enqueue_mail(*, to: str, subject: str, body: str, language: str = "") -> OutboxMessage:
    """Queue one e-mail in the caller's transaction; the worker sends it after commit."""
    address = (to or "").strip()
    if not address:
        raise ValueError("an e-mail needs a recipient")
    now = timezone.now()
    return OutboxMessage.objects.create(
        to=address,
        # A header must be one line; Django would refuse a newline at send time, forever.
        subject=" ".join(str(subject).split())[:300],
        body=str(body),
        language=(language or translation.get_language() or settings.LANGUAGE_CODE)[:8],
        next_attempt_at=now,
    )


def backoff(attempts: int) -> timedelta:
    """The wait after the `attempts`-th failed attempt."""
    step: timedelta = OUTBOX_BACKOFF_BASE * (2 ** max(0, attempts - 1))
    return min(step, OUTBOX_BACKOFF_CAP)


def _claim(limit: int) -> list[OutboxMessage]:
    """Due messages, locked for this transaction; rows another drain holds are skipped."""
    return list(
        OutboxMessage.objects.select_for_update(skip_locked=True)
        .filter(status=OutboxStatus.QUEUED, next_attempt_at__lte=timezone.now())
        .order_by("next_attempt_at", "id")[: max(0, limit)]
    )


def _connection() -> Any:
    connection = get_connection()
    if hasattr(connection, "timeout") and connection.timeout is None:
        connection.timeout = SMTP_TIMEOUT_SECONDS
    return connection


def _send(message: OutboxMessage, connection: Any) -> None:
    EmailMessage(
        subject=message.subject,
        body=message.body,
        from_email=None,
        to=[message.to],
        headers={"Auto-Submitted": "auto-generated"},
        connection=connection,
    ).send()


@transaction.atomic
def drain_outbox(*, limit: int = 100) -> int:
    """Send due messages; returns how many were sent. A failing message is rescheduled with
    backoff, or marked failed after OUTBOX_MAX_ATTEMPTS; it never stops the others and this
    function never raises because of one."""
    started = time.monotonic()
    connection = _connection()
    sent = 0
    gave_up: list[OutboxMessage] = []
    for message in _claim(limit):
        if time.monotonic() - started > OUTBOX_TIME_BUDGET:
            break  # still queued and due: the next drain takes it
        now = timezone.now()
        message.attempts += 1
        try:
            connection.open()  # once per drain; again after a failure closed it
            _send(message, connection)
        except Exception as exc:  # any failure of one message is that message's alone
            connection.close()  # a broken SMTP session must not fail the next message too
            message.last_error = f"{type(exc).__name__}: {exc}"[:2000]
            if message.attempts >= OUTBOX_MAX_ATTEMPTS:
                message.status = OutboxStatus.FAILED
                gave_up.append(message)
                log.error("outbox.failed", message_id=message.pk, attempts=message.attempts)
            else:
                message.next_attempt_at = now + backoff(message.attempts)
                log.warning(
                    "outbox.retry",
                    message_id=message.pk,
                    attempts=message.attempts,
                    error=message.last_error[:200],
                )
            message.save(update_fields=["attempts", "last_error", "status", "next_attempt_at"])
            continue
        message.status = OutboxStatus.SENT
        message.sent_at = now
        message.body = ""
        message.last_error = ""
        message.save(update_fields=["attempts", "status", "sent_at", "body", "last_error"])
        sent += 1
    connection.close()
    # Audited after the sending, so the journal's head lock is not held during SMTP talk.
    record_many(
        NewEvent(
            actor=SystemActor(label="worker"),
            event=EventType.MAIL_FAILED,
            target=message,
            details={"attempts": message.attempts, "error": message.last_error[:200]},
        )
        for message in gave_up
    )
    return sent


@transaction.atomic
def outbox_purge() -> int:
    """Remove sent messages older than OUTBOX_KEEP_SENT (their bodies are already empty)."""
    cutoff = timezone.now() - OUTBOX_KEEP_SENT
    removed, _by_model = OutboxMessage.objects.filter(
        status=OutboxStatus.SENT, sent_at__lt=cutoff
    ).delete()
    return removed


# --- in-app notifications -------------------------------------------------------------------


class Recipient(Person, Protocol):
    """A person a notification reaches (`accounts.User`, which this leaf may not import): an
    account id, an e-mail address and the language they read in."""

    @property
    def language(self) -> str: ...


def _reachable(user: Recipient) -> bool:
    # A blocked account (accounts.User.blocked_at) hears nothing, like an inactive one.
    return bool(user.pk and user.is_active and getattr(user, "blocked_at", None) is None)


@transaction.atomic
def notify(
    *,
    users: Iterable[Recipient],
    kind: str,
    subject: Text,
    text: Text,
    link: str,
    email: bool,
    target: models.Model | None = None,
    tlp: str | None = None,
) -> list[Notification]:
    """One in-app notification per person (each in their own language) and, with `email`, one
    queued e-mail each. For TLP:AMBER, AMBER+STRICT and RED (`tlp`) the e-mail carries neither
    the subject nor the text: only "sign in to read". Inactive and blocked people are skipped;
    a person listed twice is notified once. Runs in the caller's transaction.

    No audit event of its own: notifications follow a change that its service already audited
    (deadline reminders are audited by the reminder job)."""
    content_type = ContentType.objects.get_for_model(target) if target is not None else None
    object_id = target.pk if target is not None else None
    withheld = email_withheld(tlp)
    texts = text.render_all()
    made: list[Notification] = []
    seen: set[int] = set()
    for user in users:
        if not _reachable(user) or user.pk in seen:
            continue
        seen.add(user.pk)
        language = user.language or settings.LANGUAGE_CODE
        body = texts.get(language) or text.render(language)
        made.append(
            Notification(
                user_id=user.pk,
                kind=kind,
                text=body,
                texts=texts,
                link=link,
                content_type=content_type,
                object_id=object_id,
            )
        )
        if email and user.email:
            with translation.override(language):
                if withheld:
                    mail_subject = site_text("notification_subject")
                    mail_body = site_text("notification_withheld") % {
                        "link": absolute_url("/notifications/")
                    }
                else:
                    mail_subject = subject.render(language)
                    opening = site_text("notification_open") % {"link": absolute_url(link or "/")}
                    mail_body = f"{body}\n\n{opening}"
            enqueue_mail(to=user.email, subject=mail_subject, body=mail_body, language=language)
    Notification.objects.bulk_create(made)
    return made


@transaction.atomic
def notify_bulk(
    *,
    users: Iterable[Recipient],
    kind: str,
    subject: Text,
    text: Text,
    link: str,
    email: bool,
    target: models.Model | None = None,
    tlp: str | None = None,
) -> int:
    """`notify` for broadcasts (an alert to hundreds of organizations): the texts depend only on
    the language, so each is rendered once per language and every row is inserted in bulk."""
    content_type = ContentType.objects.get_for_model(target) if target is not None else None
    object_id = target.pk if target is not None else None
    withheld = email_withheld(tlp)
    texts = text.render_all()
    rendered: dict[str, tuple[str, str, str]] = {}
    notes: list[Notification] = []
    mails: list[OutboxMessage] = []
    now = timezone.now()
    seen: set[int] = set()
    for user in users:
        if not _reachable(user) or user.pk in seen:
            continue
        seen.add(user.pk)
        language = user.language or settings.LANGUAGE_CODE
        if language not in rendered:
            body = texts.get(language) or text.render(language)
            with translation.override(language):
                if withheld:
                    mail_subject = site_text("notification_subject")
                    mail_body = site_text("notification_withheld") % {
                        "link": absolute_url("/notifications/")
                    }
                else:
                    mail_subject = subject.render(language)
                    opening = site_text("notification_open") % {"link": absolute_url(link or "/")}
                    mail_body = f"{body}\n\n{opening}"
            rendered[language] = (body, " ".join(str(mail_subject).split())[:300], mail_body)
        body, mail_subject, mail_body = rendered[language]
        notes.append(
            Notification(
                user_id=user.pk,
                kind=kind,
                text=body,
                texts=texts,
                link=link,
                content_type=content_type,
                object_id=object_id,
            )
        )
        if email and user.email:
            mails.append(
                OutboxMessage(
                    to=user.email,
                    subject=mail_subject,
                    body=mail_body,
                    language=language[:8],
                    next_attempt_at=now,
                )
            )
    Notification.objects.bulk_create(notes, batch_size=500)
    OutboxMessage.objects.bulk_create(mails, batch_size=500)
    return len(notes)


@transaction.atomic
def notification_mark_read(*, actor: Actor, notification: Notification) -> bool:
    """Mark one of one's own notifications read; False if it already was."""
    ensure_perm(actor, Perm.DASHBOARD_VIEW)
    changed = (
        Notification.objects.visible_to(actor)
        .unread()
        .filter(pk=notification.pk)
        .update(read_at=timezone.now())
    )
    if changed:
        record(
            actor=actor,
            event=EventType.NOTIFICATIONS_READ,
            target=notification,
            organization_id=actor.organization_id,
            details={"count": changed},
        )
    return bool(changed)


@transaction.atomic
def notification_mark_all_read(*, actor: Actor) -> int:
    ensure_perm(actor, Perm.DASHBOARD_VIEW)
    changed = Notification.objects.visible_to(actor).unread().update(read_at=timezone.now())
    if changed:
        record(
            actor=actor,
            event=EventType.NOTIFICATIONS_READ,
            organization_id=actor.organization_id,
            details={"count": changed, "all": True},
        )
    return changed
