"""A biometric session (one purpose, one person, one provider's client) and the checks the
provider reported for it. Checks are evidence: written once, never changed (biometrics/db.py)."""

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from aips.core.tenancy import TenantQuerySet


class Purpose(models.TextChoices):
    """What the check is for; a passed check serves only its own purpose."""

    REGISTRATION = "registration", _("IIN binding at registration")
    SECOND_FACTOR = "second_factor", _("Second factor at sign-in")
    PASSWORD_CHANGE = "password_change", _("Password change")


class SessionState(models.TextChoices):
    PENDING = "pending", _("Waiting for the check")
    PASSED = "passed", _("Passed")
    EXPIRED = "expired", _("Expired")
    REFUSED = "refused", _("Refused after failed checks")


class CheckResult(models.TextChoices):
    PASSED = "passed", _("Passed")
    LIVENESS_FAILED = "liveness_failed", _("Liveness not confirmed")
    LOW_MATCH = "low_match", _("Face does not match the IIN's record")
    EXPIRED = "expired", _("Session expired")


# Results that count toward the refusal after three failed checks; an expired session does not:
# nobody's face was judged.
FAILURES = (CheckResult.LIVENESS_FAILED, CheckResult.LOW_MATCH)


class Refusal(models.TextChoices):
    """Why a passed check could not do what it was for (the session says so to the person)."""

    NONE = "", _("None")
    IIN_TAKEN = "iin_taken", _("The IIN is bound to another account")
    IIN_DIFFERS = "iin_differs", _("The account is bound to another IIN")


class BiometricSessionQuerySet(TenantQuerySet["BiometricSession"]):
    """A person's biometric sessions are theirs alone."""

    owner_field = "user_id"


class BiometricCheckQuerySet(TenantQuerySet["BiometricCheck"]):
    """A person's check records are theirs alone."""

    owner_field = "user_id"


class BiometricSession(models.Model):
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="biometric_sessions"
    )
    purpose = models.CharField(_("purpose"), max_length=32, choices=Purpose.choices)
    iin = models.CharField(_("IIN"), max_length=12)
    provider = models.CharField(_("provider"), max_length=64)
    provider_session_id = models.CharField(max_length=128)
    client_url = models.CharField(max_length=2000)
    # Where the person's browser goes once the provider's client is done (a local path).
    return_path = models.CharField(max_length=500)
    state = models.CharField(
        _("state"), max_length=16, choices=SessionState.choices, default=SessionState.PENDING
    )
    refusal = models.CharField(max_length=16, choices=Refusal.choices, blank=True, default="")
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    created_at = models.DateTimeField(_("started"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires"))
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    used_at = models.DateTimeField(_("used"), null=True, blank=True)

    objects = BiometricSessionQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "provider_session_id"], name="biometric_session_provider_id"
            )
        ]
        indexes = [models.Index(fields=["user", "purpose", "created_at"])]

    def __str__(self) -> str:
        return f"biometric session {self.public_id}"

    @property
    def is_open(self) -> bool:
        return self.state == SessionState.PENDING and self.expires_at > timezone.now()

    @property
    def last_check(self) -> "BiometricCheck | None":
        return self.checks.order_by("-attempt").first()


class BiometricCheck(models.Model):
    """One result the provider reported, as received. The database refuses UPDATE and DELETE."""

    session = models.ForeignKey(BiometricSession, on_delete=models.PROTECT, related_name="checks")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    purpose = models.CharField(max_length=32, choices=Purpose.choices)
    iin = models.CharField(max_length=12)
    provider = models.CharField(max_length=64)
    # The provider's id of this report: a second delivery of it is a replay.
    event_id = models.CharField(max_length=128)
    attempt = models.PositiveIntegerField()
    result = models.CharField(max_length=16, choices=CheckResult.choices)
    liveness = models.BooleanField(null=True)
    score = models.DecimalField(max_digits=5, decimal_places=4, null=True)
    checked_at = models.DateTimeField()  # when the provider says it checked
    received_at = models.DateTimeField(default=timezone.now)
    payload_sha256 = models.CharField(max_length=64)

    objects = BiometricCheckQuerySet.as_manager()

    class Meta:
        ordering = ["received_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["provider", "event_id"], name="biometric_check_event")
        ]
        indexes = [models.Index(fields=["user", "purpose", "received_at"])]

    def __str__(self) -> str:
        return f"biometric check #{self.pk} ({self.result})"

    @property
    def failed(self) -> bool:
        return self.result in FAILURES
