"""The tamper-evident audit journal (R57.17): every state change appends one entry in the same
transaction. See audit/verifier.py for the hashing and audit/db.py for the database guards."""

from datetime import UTC
from typing import Any

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from aips.core.permissions import Perm
from aips.core.tenancy import TenantQuerySet


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
    FILTER_SAVED = "list:filter_saved", _("List filter saved")
    FILTER_DELETED = "list:filter_deleted", _("Saved list filter deleted")
    LIST_EXPORTED = "list:exported", _("List exported")
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
    EDS_SIGNIN_SUCCEEDED = "auth:eds_succeeded", _("EDS signature accepted at sign-in")
    EDS_SIGNIN_FAILED = "auth:eds_failed", _("EDS signature refused at sign-in")
    IIN_BOUND = "user:iin_bound", _("IIN bound to the account")
    IIN_BIND_REFUSED = "user:iin_bind_refused", _("Binding an IIN refused")
    IIN_UNBOUND = "user:iin_unbound", _("IIN binding undone")
    BIOMETRIC_STARTED = "biometrics:session_started", _("Biometric identification started")
    BIOMETRIC_PASSED = "biometrics:check_passed", _("Biometric check passed")
    BIOMETRIC_FAILED = "biometrics:check_failed", _("Biometric check failed")
    BIOMETRIC_REFUSED = "biometrics:refused", _("Biometric identification refused after failures")
    BIOMETRIC_USED = "biometrics:check_used", _("Biometric check used")
    BIOMETRIC_WEBHOOK_REFUSED = "biometrics:webhook_refused", _("Biometric webhook refused")
    # The ETP's participants (aips.etp.participants).
    PARTICIPANT_REGISTERED = "participant:registered", _("Participant registered")
    PARTICIPANT_REGISTRATION_REFUSED = (
        "participant:registration_refused",
        _("Participant registration refused"),
    )
    PARTICIPANT_PROFILE_UPDATED = "participant:profile_updated", _("Participant profile changed")
    PARTICIPANT_EMAIL_CONFIRMED = "participant:email_confirmed", _("Participant e-mail confirmed")
    PASSWORD_CHANGE_CONFIRMED = (
        "auth:password_change_confirmed",
        _("Password change confirmed by biometrics or EDS"),
    )
    AUDIT_EXPORTED = "audit:exported", _("Audit journal exported")
    EDS_BUNDLE_EXPORTED = "eds:bundle_exported", _("EDS signature bundle exported")
    EDS_SIGNATURE_STORED = "eds:signature_stored", _("Verified EDS signature stored")
    COMMENT_ADDED = "comment:added", _("Comment added")
    ALERT_CREATED = "alert:created", _("Alert created")
    ALERT_UPDATED = "alert:updated", _("Alert changed")
    ALERT_APPROVAL_REQUESTED = "alert:approval_requested", _("Alert sent for approval")
    ALERT_SENT_BACK = "alert:sent_back", _("Alert sent back by the head")
    ALERT_SUBMITTED = "alert:submitted", _("Alert submitted to the center")
    ALERT_RETURNED = "alert:returned", _("Alert returned for rework")
    ALERT_PUBLISHED = "alert:published", _("Alert published")
    ALERT_ACCEPTED = "alert:accepted", _("Alert recommendations accepted")
    ALERT_DECLINED = "alert:declined", _("Alert recommendations declined")
    ALERT_PROCESSED = "alert:processed", _("Alert processed")
    ALERT_VIEWED = "alert:viewed", _("Restricted alert viewed")
    ALERT_BATCH_STARTED = "alert:batch_started", _("CSAF batch import started")
    ALERT_BATCH_FINISHED = "alert:batch_finished", _("CSAF batch import finished")
    # Threat-intelligence exchange (aips.center.exchange).
    FEED_RESTRICTED_SERVED = (
        "exchange:restricted_served",
        _("Restricted alerts handed out by a feed"),
    )
    TAXII_SUBMITTED = "exchange:taxii_submitted", _("STIX objects added over TAXII")
    PARTNER_SOURCE_SET = "exchange:partner_source_set", _("TAXII partner source added or changed")
    PARTNER_POLLED = "exchange:partner_polled", _("TAXII partner collection polled")
    THREAT_TYPE_SET = "threat_type:set", _("Threat type added or changed")
    ALERT_COMPLIANCE_EXPORTED = "alert:compliance_exported", _("Alert compliance exported")
    CALENDAR_DAY_SET = "calendar:day_set", _("Calendar day set")
    CALENDAR_DAY_REMOVED = "calendar:day_removed", _("Calendar day removed")
    INCIDENT_CREATED = "incident:created", _("Incident card created")
    INCIDENT_UPDATED = "incident:updated", _("Incident card changed")
    INCIDENT_APPROVAL_REQUESTED = (
        "incident:approval_requested",
        _("Incident card sent for approval"),
    )
    INCIDENT_SENT_BACK = "incident:sent_back", _("Incident card sent back by the head")
    INCIDENT_SUBMITTED = "incident:submitted", _("Incident card submitted to the center")
    INCIDENT_RETURNED = "incident:returned", _("Incident card returned for rework")
    INCIDENT_ACCEPTED = "incident:accepted", _("Incident card accepted")
    INCIDENT_CLOSED = "incident:closed", _("Incident card closed")
    INCIDENT_VIEWED = "incident:viewed", _("Restricted incident card viewed")
    # The ETP's lots (aips.etp.lots).
    LOT_CREATED = "lot:created", _("Lot created")
    LOT_UPDATED = "lot:updated", _("Lot changed")
    LOT_APPROVAL_REQUESTED = "lot:approval_requested", _("Lot sent for approval")
    LOT_SENT_BACK = "lot:sent_back", _("Lot sent back by the authorised person")
    LOT_APPROVED = "lot:approved", _("Lot approved and sent to the operator")
    LOT_RETURNED = "lot:returned", _("Lot returned by the operator")
    LOT_PUBLISHED = "lot:published", _("Lot verified and published")
    LOT_WITHDRAWN = "lot:withdrawn", _("Lot withdrawn")
    LOT_FILE_ADDED = "lot:file_added", _("File added to a lot")
    LOT_FILE_DOWNLOADED = "lot:file_downloaded", _("File of a lot downloaded")
    # The ETP's procedures, applications and deposits (aips.etp.applications).
    PROCEDURE_ANNOUNCED = "procedure:announced", _("Trading procedure announced")
    APPLICATION_SUBMITTED = "application:submitted", _("Application submitted")
    APPLICATION_ADMITTED = "application:admitted", _("Participant admitted")
    APPLICATION_REFUSED = "application:refused", _("Participant refused admission")
    DEPOSIT_CONFIRMED = "deposit:confirmed", _("Deposit received")
    DEPOSIT_RETURNED = "deposit:returned", _("Deposit returned")
    # The ETP's questions and complaints (aips.etp.questions).
    QUESTION_ASKED = "question:asked", _("Question on a lot asked")
    QUESTION_ANSWERED = "question:answered", _("Question on a lot answered")
    COMPLAINT_FILED = "complaint:filed", _("Complaint filed")
    COMPLAINT_ANSWERED = "complaint:answered", _("Complaint answered")
    COMPLAINT_FILE_DOWNLOADED = "complaint:file_downloaded", _("File of a complaint downloaded")
    # The ETP's data room (aips.etp.dataroom).
    DATAROOM_NDA_ACCEPTED = "dataroom:nda_accepted", _("Data room NDA accepted")
    DATAROOM_OPENED = "dataroom:opened", _("Data room opened")
    DATAROOM_FILE_DOWNLOADED = "dataroom:file_downloaded", _("Data room file downloaded")
    # The ETP's mobile devices (aips.etp.devices).
    DEVICE_REGISTERED = "device:registered", _("Mobile device registered")
    DEVICE_REVOKED = "device:revoked", _("Mobile device revoked")
    DEVICE_REFUSED = "device:refused", _("Mobile device refused")
    # The ETP's auctions (aips.etp.auctions); the bids are their own chain (auctions/chain.py).
    AUCTION_SCHEDULED = "auction:scheduled", _("Auction scheduled")
    AUCTION_STARTED = "auction:started", _("Auction started")
    AUCTION_CLOSED = "auction:closed", _("Auction closed")
    AUCTION_UNSUCCESSFUL = "auction:unsuccessful", _("Auction declared unsuccessful")
    AUCTION_RESULTS = "auction:results", _("Auction results recorded")
    AUCTION_PROTOCOL_SIGNED = "auction:protocol_signed", _("Auction protocol signed")
    AUCTION_OUTCOME = "auction:outcome", _("Auction's contracting ended")
    CONTRACT_OFFERED = "contract:offered", _("Contract offered")
    CONTRACT_SIGNED = "contract:signed", _("Contract signed by the buyer")
    CONTRACT_PAID = "contract:paid", _("Payment under the contract confirmed")
    CONTRACT_REFUSED = "contract:refused", _("Contract refused by the buyer")
    CONTRACT_LAPSED = "contract:lapsed", _("Contract deadline missed")
    DEPOSIT_RETAINED = "deposit:retained", _("Deposit retained")
    REQUEST_CREATED = "request:created", _("Request created")
    REQUEST_UPDATED = "request:updated", _("Request changed")
    REQUEST_APPROVAL_REQUESTED = "request:approval_requested", _("Request sent for approval")
    REQUEST_SENT_BACK = "request:sent_back", _("Request sent back by the head")
    REQUEST_SENT = "request:sent", _("Request sent to its addressees")
    REQUEST_RETURNED = "request:returned", _("Request returned for incompleteness")
    REQUEST_ACCEPTED = "request:accepted", _("Request accepted into work")
    REQUEST_DECLINED = "request:declined", _("Request declined")
    REQUEST_ANSWER_UPDATED = "request:answer_updated", _("Answer to a request changed")
    REQUEST_ANSWER_APPROVAL_REQUESTED = (
        "request:answer_approval_requested",
        _("Answer to a request sent for approval"),
    )
    REQUEST_ANSWER_SENT_BACK = "request:answer_sent_back", _("Answer sent back by the head")
    REQUEST_ANSWERED = "request:answered", _("Request answered")
    REQUEST_ANSWER_RETURNED = "request:answer_returned", _("Answer returned as incomplete")
    REQUEST_CLOSED = "request:closed", _("Request closed")
    REQUEST_VIEWED = "request:viewed", _("Restricted request viewed")
    INTEGRATION_REGISTERED = "integration:registered", _("Integration module registered")
    INTEGRATION_UPDATED = "integration:updated", _("Integration module changed")
    INTEGRATION_TOKEN_ISSUED = "integration:token_issued", _("Agent token issued")
    INTEGRATION_REVOKED = "integration:revoked", _("Integration module credentials revoked")
    INTEGRATION_CERT_ISSUED = "integration:cert_issued", _("Agent client certificate issued")
    INTEGRATION_CA_CREATED = "integration:ca_created", _("Integration module CA created")
    CORRELATION_FOUND = "correlation:found", _("Cross-organization correlation found")
    CORRELATION_PROMOTED = "correlation:promoted", _("Correlation turned into a draft alert")
    CORRELATION_DISMISSED = "correlation:dismissed", _("Correlation dismissed")
    CORRELATION_LINKED = "correlation:linked", _("Correlation linked to an existing alert")
    CORRELATION_MERGED = "correlation:merged", _("Correlation merged into an older finding")
    SIGNALS_ARCHIVED = "signals:archived", _("Signals archived")
    ATTACHMENT_ADDED = "attachment:added", _("Attachment added")
    ATTACHMENT_DOWNLOADED = "attachment:downloaded", _("Attachment downloaded")
    # The anti-virus scan of stored files (aips.shared.files.scanning, R57.12).
    FILE_QUARANTINED = "file:quarantined", _("Malware found: file quarantined")
    FILE_SCAN_FAILED = "file:scan_failed", _("Anti-virus scan of a file failed")
    AUDIT_ARCHIVED = "audit:archived", _("Audit entries archived")
    AUDIT_ARCHIVE_PRUNED = "audit:archive_pruned", _("Expired audit archives removed")
    # Backups and their drills (aips.shared.backups, R57.15, R57.16).
    BACKUP_CREATED = "backup:created", _("Backup written")
    BACKUP_PRUNED = "backup:pruned", _("Expired backups removed")
    BACKUP_RESTORED = "backup:restored", _("Backup restored")
    BACKUP_DRILL = "backup:drill", _("Restore drill run")
    UPGRADE_DRILL = "backup:upgrade_drill", _("Upgrade drill run")
    PATCH_SCAN_IMPORTED = "patch:scan_imported", _("Dependency vulnerability scan imported")
    NOTIFICATIONS_READ = "notification:read", _("Notifications marked as read")
    DEADLINE_REMINDER_SENT = "deadline:reminder_sent", _("Deadline reminder sent")
    MAIL_FAILED = "mail:failed", _("E-mail could not be delivered")


class AuditEventQuerySet(TenantQuerySet["AuditEvent"]):
    """Auditors and the center's administrators see the whole journal; an organization's head
    only its own organization's entries; nobody else anything."""

    view_perm = Perm.AUDIT_VIEW


class AuditEvent(models.Model):
    """One journal entry's content. Immutable: the database refuses UPDATE, and DELETE is allowed
    only for entries already sealed into an archive segment (see audit/db.py)."""

    seq = models.BigIntegerField(primary_key=True)
    at = models.DateTimeField(db_index=True)
    event = models.CharField(max_length=64, db_index=True)
    actor_kind = models.CharField(max_length=16)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    actor_label = models.CharField(max_length=255, blank=True)
    organization = models.ForeignKey(
        "organizations.Organization",
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    target_type = models.CharField(max_length=64, blank=True)
    target_id = models.CharField(max_length=64, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=512, blank=True)
    request_id = models.CharField(max_length=64, blank=True)
    details = models.JSONField(default=dict, blank=True)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["seq"]
        indexes = [models.Index(fields=["organization", "seq"])]

    def __str__(self) -> str:
        return f"#{self.seq} {self.event}"

    @property
    def event_label(self) -> str:
        try:
            return str(EventType(self.event).label)
        except ValueError:
            return self.event

    def payload(self) -> dict[str, Any]:
        """The exact content the leaf hash covers."""
        at = self.at.astimezone(UTC)
        return {
            "seq": self.seq,
            "at": at.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            "event": self.event,
            "actor_kind": self.actor_kind,
            "actor_id": self.actor_id,
            "actor_label": self.actor_label,
            "organization_id": self.organization_id,
            "target_type": self.target_type,
            "target_id": self.target_id,
            "ip": self.ip,
            "user_agent": self.user_agent,
            "request_id": self.request_id,
            "details": self.details,
        }


class AuditEntry(models.Model):
    """The hash chain: never updated or deleted, so it stays checkable after archiving."""

    seq = models.BigIntegerField(primary_key=True)
    leaf_hash = models.CharField(max_length=64)
    chain_hash = models.CharField(max_length=64)

    class Meta:
        ordering = ["seq"]

    def __str__(self) -> str:
        return f"entry {self.seq}"


class AuditHead(models.Model):
    """The last sequence number and chain hash; its row lock makes one writer at a time."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    seq = models.BigIntegerField(default=0)
    chain_hash = models.CharField(max_length=64, default="0" * 64)

    def __str__(self) -> str:
        return f"head at {self.seq}"


class AuditCheckpoint(models.Model):
    """A signed Merkle tree head (RFC 9162 style) over the first `tree_size` entries."""

    tree_size = models.BigIntegerField()
    root_hash = models.CharField(max_length=64)
    created_at = models.CharField(max_length=32)  # the exact signed text, UTC ISO 8601
    public_key = models.CharField(max_length=64)  # base64 raw Ed25519
    signature = models.CharField(max_length=128)  # base64

    class Meta:
        ordering = ["tree_size", "id"]

    def __str__(self) -> str:
        return f"checkpoint at {self.tree_size}"


class AuditSegment(models.Model):
    """An archived, sealed range of entries whose content left the database."""

    first_seq = models.BigIntegerField()
    last_seq = models.BigIntegerField()
    file_name = models.CharField(max_length=255)
    file_sha256 = models.CharField(max_length=64)
    manifest_sha256 = models.CharField(max_length=64)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["first_seq"]

    def __str__(self) -> str:
        return f"segment {self.first_seq}-{self.last_seq}"
