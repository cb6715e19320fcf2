"""The e-mail outbox, in-app notifications and the record of deadline reminders already sent.

* `OutboxMessage`: every e-mail AIPS sends is first a row here, written in the transaction of the
  change that causes it; `aips worker` sends it (services.drain_outbox) and retries with backoff.
* `Notification`: a message for one person, shown on /notifications/ and counted in the menu.
  Its text is rendered at creation in every language AIPS speaks (`texts`), and each reader
  sees the one of the language they read in (`shown_text`).
* `ReminderSent`: one row per (item, deadline, kind) so a reminder goes out once, and a changed
  deadline arms new ones."""

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from aips.core.tenancy import TenantQuerySet


class OutboxStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")


class OutboxMessage(models.Model):
    """One e-mail to one address. No `visible_to`: nobody reads the outbox through the UI; only
    the worker (and the tests) touch it."""

    to = models.EmailField(_("to"))
    subject = models.CharField(_("subject"), max_length=300)
    # Emptied once sent: the body may carry a single-use link (invitation, password reset).
    body = models.TextField(_("body"), blank=True)
    language = models.CharField(_("language"), max_length=8, blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=OutboxStatus.choices, default=OutboxStatus.QUEUED
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        verbose_name = _("outgoing e-mail")
        verbose_name_plural = _("outgoing e-mails")
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="notif_outbox_due_idx"),
        ]

    def __str__(self) -> str:
        return f"outbox #{self.pk} ({self.status})"


class NotificationQuerySet(TenantQuerySet["Notification"]):
    """One's own notifications only, for every role, the center included."""

    owner_field = "user_id"

    def unread(self) -> "NotificationQuerySet":
        return self.filter(read_at__isnull=True)


class Notification(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    # What happened, machine-readable: "incident.returned", "deadline.before", …
    kind = models.CharField(_("kind"), max_length=64)
    # In the recipient's language when the notification was made: the e-mail's text, and what
    # rows made before `texts` existed show.
    text = models.TextField(_("text"))
    # {"kk": …, "ru": …, "en": …}: the same text in each language, so a page in Kazakh shows it
    # in Kazakh whatever language was active (or preferred) when it was made.
    texts = models.JSONField(_("texts"), default=dict, blank=True)
    link = models.CharField(_("link"), max_length=500, blank=True)
    content_type = models.ForeignKey(
        ContentType, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    object_id = models.PositiveBigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    read_at = models.DateTimeField(_("read"), null=True, blank=True)

    objects = NotificationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        indexes = [
            models.Index(fields=["user", "-created_at"], name="notif_user_recent_idx"),
            # The menu's unread count: one index-only look per page.
            models.Index(
                fields=["user"],
                condition=models.Q(read_at__isnull=True),
                name="notif_user_unread_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"notification #{self.pk} {self.kind}"

    @property
    def is_read(self) -> bool:
        return self.read_at is not None

    @property
    def shown_text(self) -> str:
        """The text in the language of the page being rendered."""
        language = (translation.get_language() or "").split("-")[0]
        texts = self.texts if isinstance(self.texts, dict) else {}
        return str(texts.get(language) or self.text)


class ReminderKind(models.TextChoices):
    BEFORE = "before", _("Before the deadline")
    AT = "at", _("At the deadline")


class ReminderSent(models.Model):
    """A deadline reminder that went out. The deadline is part of the key: when an item gets a
    new deadline (returned again), its reminders are armed again."""

    content_type = models.ForeignKey(ContentType, on_delete=models.CASCADE, related_name="+")
    object_id = models.PositiveBigIntegerField()
    deadline_at = models.DateTimeField()
    kind = models.CharField(max_length=16, choices=ReminderKind.choices)
    sent_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["content_type", "object_id", "deadline_at", "kind"],
                name="notif_reminder_once",
            )
        ]

    def __str__(self) -> str:
        return f"reminder {self.kind} for {self.content_type_id}:{self.object_id}"
