"""The shared workflow engine's storage: the state fields every item carries (an abstract base),
and the comment timeline, the record of status changes and submitted versions, which attach to
any item."""

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils.translation import gettext_lazy as _

from aips.core.actors import Actor
from aips.core.tenancy import TenantQuerySet


class WorkflowItem(models.Model):
    """Fields of anything that moves through maker → checker → center (cards, alerts, requests)."""

    organization = models.ForeignKey(
        "organizations.Organization",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("organization"),
    )
    state = models.CharField(_("status"), max_length=32, db_index=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # Who asked the head for approval: the head may not approve their own submission.
    approval_requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    submitted_at = models.DateTimeField(_("submitted"), null=True, blank=True)
    version = models.PositiveIntegerField(default=0)
    deadline_at = models.DateTimeField(_("deadline"), null=True, blank=True, db_index=True)
    deadline_reason = models.CharField(max_length=64, blank=True)

    class Meta:
        abstract = True


class CommentQuerySet(TenantQuerySet["Comment"]):
    """Internal notes are the center's alone; the rest follows the item's own visibility, which
    callers establish first (comments are always read through their item)."""

    tenant_field = None

    def for_item(self, item: models.Model) -> "CommentQuerySet":
        return self.filter(content_type=ContentType.objects.get_for_model(item), object_id=item.pk)

    def organization_scope(self, actor: Actor) -> "CommentQuerySet":
        return self.filter(internal=False)


class Comment(models.Model):
    content_type = models.ForeignKey(ContentType, on_delete=models.PROTECT)
    object_id = models.PositiveBigIntegerField()
    item = GenericForeignKey("content_type", "object_id")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    body = models.TextField(_("comment"))
    internal = models.BooleanField(_("internal note (the center only)"), default=False)
    transition = models.CharField(max_length=32, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = CommentQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["content_type", "object_id"])]

    def __str__(self) -> str:
        return f"comment #{self.pk}"


class Version(models.Model):
    """What was sent to the center each time: the center compares submissions."""

    content_type = models.ForeignKey(ContentType, on_delete=models.PROTECT)
    object_id = models.PositiveBigIntegerField()
    number = models.PositiveIntegerField()
    snapshot = models.JSONField()
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["number"]
        constraints = [
            models.UniqueConstraint(
                fields=["content_type", "object_id", "number"], name="workflow_version_unique"
            )
        ]

    def __str__(self) -> str:
        return f"version {self.number}"


class StateChangeQuerySet(TenantQuerySet["StateChange"]):
    """Read through the item, like comments: callers establish the item's visibility first, and
    whoever may see the item's timeline sees who moved it when."""

    tenant_field = None

    def for_item(self, item: models.Model) -> "StateChangeQuerySet":
        return self.filter(content_type=ContentType.objects.get_for_model(item), object_id=item.pk)

    def organization_scope(self, actor: Actor) -> "StateChangeQuerySet":
        return self.all()


class StateChange(models.Model):
    """One transition of an item (who, when, from → to), written by the engine's apply(). Kept
    with the item rather than read back from the audit journal, whose older entries leave the
    database when they are archived."""

    content_type = models.ForeignKey(ContentType, on_delete=models.PROTECT)
    object_id = models.PositiveBigIntegerField()
    transition = models.CharField(max_length=32)
    from_state = models.CharField(max_length=32)
    to_state = models.CharField(max_length=32)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    at = models.DateTimeField()

    objects = StateChangeQuerySet.as_manager()

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["content_type", "object_id", "at"])]

    def __str__(self) -> str:
        return f"{self.from_state} → {self.to_state}"


class SignedActQuerySet(TenantQuerySet["SignedAct"]):
    """Read through the item, like comments: callers establish the item's visibility (and who
    of its readers may see its signatures) first."""

    tenant_field = None

    def for_item(self, item: models.Model) -> "SignedActQuerySet":
        return self.filter(content_type=ContentType.objects.get_for_model(item), object_id=item.pk)

    def organization_scope(self, actor: Actor) -> "SignedActQuerySet":
        return self.all()


class SignedAct(models.Model):
    """An approval or decision the IS-unit head signed with EDS (issue 16, item 4): the item it
    was taken on (a card, an alert, an organization's copy of an alert, a request or one
    addressee's thread), the decision, the version it covered, the exact canonical bytes signed
    (`eds.canonical`) and the verified signature. Written in the transaction of the act."""

    content_type = models.ForeignKey(ContentType, on_delete=models.PROTECT)
    object_id = models.PositiveBigIntegerField()
    item = GenericForeignKey("content_type", "object_id")
    act = models.CharField(max_length=32)
    version = models.ForeignKey(
        Version, null=True, blank=True, on_delete=models.PROTECT, related_name="signed_acts"
    )
    signature = models.OneToOneField(
        "eds.Signature", on_delete=models.PROTECT, related_name="signed_act"
    )
    document = models.BinaryField()
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    organization = models.ForeignKey(
        "organizations.Organization", on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = SignedActQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["content_type", "object_id"])]

    def __str__(self) -> str:
        return f"signed {self.act} #{self.pk}"
