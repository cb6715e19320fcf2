"""The audit journal. This is the seam: services append one row per state change in the same
transaction. The tamper-evident hash chain, checkpoints and archiving arrive with the audit issue;
they build on this table and on `audit.services.record`."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class EventType(models.TextChoices):
    LOGIN_SUCCEEDED = "auth:login_succeeded", _("Signed in")
    LOGIN_FAILED = "auth:login_failed", _("Sign-in failed")
    LOGGED_OUT = "auth:logged_out", _("Signed out")
    ORGANIZATION_CREATED = "organization:created", _("Organization created")
    ORGANIZATION_UPDATED = "organization:updated", _("Organization changed")
    USER_CREATED = "user:created", _("User created")
    USER_UPDATED = "user:updated", _("User changed")
    USER_INVITED = "user:invited", _("Invitation sent")
    USER_ACTIVATED = "user:activated", _("Invitation accepted")
    USER_LANGUAGE_CHANGED = "user:language_changed", _("Language changed")
    USER_REQUEST_CREATED = "user_request:created", _("New-user request submitted")
    USER_REQUEST_APPROVED = "user_request:approved", _("New-user request approved")
    USER_REQUEST_REJECTED = "user_request:rejected", _("New-user request rejected")
    TOKEN_CREATED = "token:created", _("API token created")
    TOKEN_REVOKED = "token:revoked", _("API token revoked")
    LOCKED_OUT = "auth:locked_out", _("Locked out after failed attempts")
    LOCKOUT_CLEARED = "auth:lockout_cleared", _("Lockout lifted")
    MFA_FAILED = "mfa:failed", _("Second factor failed")
    MFA_ENROLLED = "mfa:enrolled", _("Authenticator app registered")
    MFA_REMOVED = "mfa:removed", _("Second factor removed")
    MFA_RESET = "mfa:reset", _("Second factors reset by an administrator")
    WEBAUTHN_REGISTERED = "mfa:webauthn_registered", _("Security key registered")
    RECOVERY_CODES_GENERATED = "mfa:recovery_codes_generated", _("Recovery codes generated")
    RECOVERY_CODE_USED = "mfa:recovery_code_used", _("Recovery code used")
    USER_BLOCKED = "user:blocked", _("User blocked")
    USER_UNBLOCKED = "user:unblocked", _("User unblocked")
    SESSION_ENDED = "auth:session_ended", _("Session ended")
    SESSION_EXPIRED = "auth:session_expired", _("Session expired")
    REAUTHENTICATED = "auth:reauthenticated", _("Identity confirmed again")
    PASSWORD_CHANGED = "auth:password_changed", _("Password changed")
    PASSWORD_RESET_REQUESTED = "auth:password_reset_requested", _("Password reset requested")
    PASSWORD_RESET_DONE = "auth:password_reset_done", _("Password reset")


class AuditEvent(models.Model):
    at = models.DateTimeField(auto_now_add=True, db_index=True)
    event = models.CharField(max_length=64, choices=EventType.choices, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    actor_label = models.CharField(max_length=255, blank=True)
    organization = models.ForeignKey(
        "organizations.Organization",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    target_type = models.CharField(max_length=64, blank=True)
    target_id = models.CharField(max_length=64, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=512, blank=True)
    request_id = models.CharField(max_length=64, blank=True)
    details = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"#{self.pk} {self.event}"
