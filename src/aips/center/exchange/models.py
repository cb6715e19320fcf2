"""The exchange's own state: partners' TAXII collections the center polls into draft alerts
(with what was already taken from each), and the status of STIX objects an organization added
to its TAXII submissions collection. The feeds themselves are read from the alerts."""

import uuid
from typing import Self

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from aips.core.actors import Actor
from aips.core.permissions import Perm
from aips.core.tenancy import TenantQuerySet


class PollStatus(models.TextChoices):
    NEVER = "never", _("Not polled yet")
    OK = "ok", _("Succeeded")
    FAILED = "failed", _("Failed")


class PartnerSourceQuerySet(TenantQuerySet["PartnerSource"]):
    """The center's configuration: no organization has a source of its own."""

    tenant_field = None
    view_perm = Perm.EXCHANGE_PARTNERS


class PartnerSource(models.Model):
    """A partner's TAXII 2.1 collection. The credential (a password or a token the partner
    issued) must be sent as it is, so it cannot be hashed like AIPS's own secrets: it is kept
    encrypted (`credentials.py`), is never shown again, and only `credential_hint` is."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    api_root_url = models.CharField(_("API root URL"), max_length=500)
    collection_id = models.CharField(_("collection id"), max_length=100)
    username = models.CharField(_("user name"), max_length=200, blank=True)
    credential = models.TextField(blank=True)
    credential_hint = models.CharField(max_length=16, blank=True)
    poll_minutes = models.PositiveIntegerField(_("poll interval, minutes"), default=60)
    enabled = models.BooleanField(_("enabled"), default=True)
    # The drafts are this person's (alerts.services.alert_create needs a person with
    # alert:edit): whoever last saved the source.
    import_as = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    # The partner's X-TAXII-Date-Added-Last of the last page taken: the next added_after.
    added_after = models.DateTimeField(null=True, blank=True)
    next_poll_at = models.DateTimeField(null=True, blank=True, db_index=True)
    last_poll_at = models.DateTimeField(_("last poll"), null=True, blank=True)
    last_status = models.CharField(
        _("last status"), max_length=16, choices=PollStatus.choices, default=PollStatus.NEVER
    )
    last_error = models.TextField(_("last error"), blank=True)
    last_counts = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = PartnerSourceQuerySet.as_manager()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ImportedObjectQuerySet(TenantQuerySet["ImportedObject"]):
    tenant_field = None
    view_perm = Perm.EXCHANGE_PARTNERS


class ImportedObject(models.Model):
    """A partner object already taken (STIX id and `modified`), so a later poll that sees it
    again makes no second draft; a new version (a later `modified`) is new."""

    source = models.ForeignKey(PartnerSource, on_delete=models.CASCADE, related_name="+")
    stix_id = models.CharField(max_length=200)
    modified = models.CharField(max_length=40)
    alert = models.ForeignKey(
        "alerts.Alert", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ImportedObjectQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["source", "stix_id", "modified"], name="exchange_imported_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.stix_id}@{self.modified}"


class SubmissionStatusQuerySet(TenantQuerySet["SubmissionStatus"]):
    """A TAXII status is its poster organization's alone: the center too sees only its own."""

    def center_scope(self, actor: Actor) -> Self:
        return self.filter(organization_id=actor.organization_id)


class SubmissionStatus(models.Model):
    """TAXII 2.1's status resource for one `POST …/objects/`: counts and, per object, its id,
    version and what became of it."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organization = models.ForeignKey(
        "organizations.Organization", on_delete=models.PROTECT, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    successes = models.JSONField(default=list, blank=True)
    failures = models.JSONField(default=list, blank=True)
    pendings = models.JSONField(default=list, blank=True)

    objects = SubmissionStatusQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return str(self.id)
