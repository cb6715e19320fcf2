"""Personal user accounts (R67.6, R57.6), invitations, new-user requests and API tokens."""

from typing import Any, ClassVar

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from aips.core.permissions import ROLE_LABELS, Role, active_table
from aips.core.tenancy import TenantQuerySet
from aips.shared.organizations.models import Organization


class Language(models.TextChoices):
    KK = "kk", "Қазақша"
    RU = "ru", "Русский"
    EN = "en", "English"


# The migration state of `role` (AIPS's roles). Which roles exist is the active product's table
# (core/permissions.py: `active_table()`), checked by the services and offered by the forms
# (`role_choices`); the column holds any product's role, so the ETP needs no migration of it.
ROLE_CHOICES = [(r.value, ROLE_LABELS[r]) for r in Role]


def role_choices() -> list[tuple[str, Any]]:
    """The roles of the product this deployment serves, with their labels."""
    return list(active_table().choices())


class IdentityProof(models.TextChoices):
    """How a person's IIN was proven to the platform (R57.9)."""

    EDS = "eds", _("EDS signature")
    BIOMETRICS = "biometrics", _("Biometric identification")


class UserQuerySet(TenantQuerySet["User"]):
    """The center sees every account; an organization's users only their own organization's."""


# The queryset's methods (visible_to) on the manager, without writing them a second time.
UserManager = BaseUserManager.from_queryset(UserQuerySet)


class User(AbstractBaseUser):
    email = models.EmailField(_("e-mail"), unique=True)
    surname = models.CharField(_("surname"), max_length=150)
    given_name = models.CharField(_("given name"), max_length=150)
    patronymic = models.CharField(_("patronymic"), max_length=150, blank=True)
    position = models.CharField(_("position"), max_length=255)
    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="users", verbose_name=_("organization")
    )
    phones = models.JSONField(_("contact phones"), default=list)
    language = models.CharField(
        _("preferred language"), max_length=2, choices=Language.choices, default=Language.RU
    )
    role = models.CharField(_("role"), max_length=32, choices=ROLE_CHOICES)
    is_active = models.BooleanField(_("active"), default=True)
    blocked_at = models.DateTimeField(_("blocked at"), null=True, blank=True)
    blocked_reason = models.TextField(_("reason for blocking"), blank=True)
    # The person's IIN, bound only by proof: an EDS signature whose certificate carries it, or a
    # biometric check by the provider (R57.9). Empty until then; never typed in by hand.
    iin = models.CharField(_("IIN"), max_length=12, blank=True, default="")
    iin_bound_at = models.DateTimeField(_("IIN bound at"), null=True, blank=True)
    iin_bound_by = models.CharField(
        _("IIN bound by"), max_length=16, choices=IdentityProof.choices, blank=True, default=""
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    class Meta:
        ordering = ["id"]
        constraints = [
            # One IIN, one account: the IIN is how an EDS sign-in finds the person.
            models.UniqueConstraint(
                fields=["iin"], condition=~models.Q(iin=""), name="accounts_user_iin_unique"
            )
        ]
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self) -> str:
        return self.full_name

    @property
    def full_name(self) -> str:
        return " ".join(p for p in (self.surname, self.given_name, self.patronymic) if p)

    @property
    def is_center(self) -> bool:
        """Sees every tenant: a role of AIPS's center, or of the ETP's operator."""
        return self.role in active_table().cross_tenant_roles

    @property
    def actor_kind(self) -> str:
        """A person, as the audit journal and `core.actors.Actor` name it."""
        return "user"

    @property
    def is_blocked(self) -> bool:
        return self.blocked_at is not None

    @property
    def can_sign_in(self) -> bool:
        """One rule for passwords, sessions and tokens alike."""
        return self.is_active and not self.is_blocked and self.organization.is_active

    @property
    def role_label(self) -> str:
        return active_table().label(self.role)


class Invitation(models.Model):
    """A single-use link to set the first password; only the token's hash is stored."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="invitations")
    token_hash = models.CharField(max_length=64, unique=True)
    created_by = models.ForeignKey(User, null=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    # Set by the inviting administrator: accepting takes an EDS signature too, whose
    # certificate's IIN is bound to the account (R57.9).
    eds_required = models.BooleanField(_("EDS required at registration"), default=False)

    def __str__(self) -> str:
        return f"invitation #{self.pk}"

    @property
    def is_usable(self) -> bool:
        return self.used_at is None and self.expires_at > timezone.now()


class UserRequestStatus(models.TextChoices):
    PENDING = "pending", _("Awaiting the center")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")


class UserRequestQuerySet(TenantQuerySet["UserRequest"]):
    pass


class UserRequest(models.Model):
    """An organization's IS-unit head asks the center for a new account (R67.6: the organization
    provides the data, the center creates the account)."""

    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    requested_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    email = models.EmailField(_("e-mail"))
    surname = models.CharField(_("surname"), max_length=150)
    given_name = models.CharField(_("given name"), max_length=150)
    patronymic = models.CharField(_("patronymic"), max_length=150, blank=True)
    position = models.CharField(_("position"), max_length=255)
    phones = models.JSONField(_("contact phones"), default=list)
    language = models.CharField(_("preferred language"), max_length=2, choices=Language.choices)
    role = models.CharField(_("role"), max_length=32, choices=ROLE_CHOICES)
    status = models.CharField(
        _("status"),
        max_length=16,
        choices=UserRequestStatus.choices,
        default=UserRequestStatus.PENDING,
    )
    decided_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_comment = models.TextField(_("comment"), blank=True)
    created_user = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = UserRequestQuerySet.as_manager()

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{self.surname} {self.given_name} ({self.email})"

    @property
    def full_name(self) -> str:
        return " ".join(p for p in (self.surname, self.given_name, self.patronymic) if p)

    @property
    def role_label(self) -> str:
        return active_table().label(self.role)


class ApiTokenQuerySet(TenantQuerySet["ApiToken"]):
    """Personal tokens are only ever their owner's business."""

    owner_field = "user_id"


class ApiToken(models.Model):
    """A personal API token `aips_…`: shown once, only its SHA-256 is kept."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(_("name"), max_length=100)
    prefix = models.CharField(max_length=16)
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(_("expires"), null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{self.prefix}…"

    @property
    def is_usable(self) -> bool:
        if self.revoked_at is not None:
            return False
        return self.expires_at is None or self.expires_at > timezone.now()


class UserSessionQuerySet(TenantQuerySet["UserSession"]):
    """One's own sessions only: ending someone else's goes through blocking."""

    owner_field = "user_id"


class UserSession(models.Model):
    """A signed-in browser: lets a user see and end their sessions, and blocking end them all."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="sessions")
    session_key = models.CharField(max_length=40, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_seen_at = models.DateTimeField()
    ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=512, blank=True)
    second_factor = models.CharField(max_length=16, blank=True)

    objects = UserSessionQuerySet.as_manager()

    class Meta:
        ordering = ["-last_seen_at"]

    def __str__(self) -> str:
        return f"session of {self.user_id} from {self.ip}"


class SavedFilterQuerySet(TenantQuerySet["SavedFilter"]):
    """A saved filter is its owner's alone, the center's people included."""

    owner_field = "user_id"


class SavedFilter(models.Model):
    """A person's named query string for one list (`core.listing`): sort, text and filters."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="saved_filters")
    list_name = models.CharField(max_length=32)
    name = models.CharField(_("name"), max_length=100)
    query_string = models.CharField(max_length=1000)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = SavedFilterQuerySet.as_manager()

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "list_name", "name"], name="saved_filter_unique_name"
            )
        ]

    def __str__(self) -> str:
        return f"{self.list_name}: {self.name}"
