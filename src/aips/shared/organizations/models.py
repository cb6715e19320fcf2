"""Organization profiles (R67.3.2, R67.5)."""

from django.db import models
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from aips.core.tenancy import TenantQuerySet


class OrganizationKind(models.TextChoices):
    BANK = "bank", _("Bank")
    NONRESIDENT_BANK_BRANCH = "nonresident_bank_branch", _("Branch of a non-resident bank")
    BANKING_OPERATIONS = (
        "banking_operations",
        _("Organization performing certain banking operations"),
    )
    MICROFINANCE = "microfinance", _("Microfinance organization")
    OTHER_FINANCIAL = "other_financial", _("Other financial organization")
    CENTER = "center", _("Sectoral IS center")
    # The ETP's (docs/decisions/0036-the-etp-as-a-second-product.md): the operator that runs
    # it, and its participants. An individual participant is an organization of one, its `bin`
    # holding the person's IIN, so tenant isolation keeps every participant apart.
    OPERATOR = "operator", _("ETP operator")
    PARTICIPANT_LEGAL = "participant_legal", _("Participant (legal entity)")
    PARTICIPANT_INDIVIDUAL = "participant_individual", _("Participant (individual)")


# The kinds whose organization sees every tenant's rows (`Organization.is_center`): one per
# database, AIPS's center or the ETP's operator.
CROSS_TENANT_KINDS = frozenset({OrganizationKind.CENTER, OrganizationKind.OPERATOR})


class OrganizationStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    SUSPENDED = "suspended", _("Suspended")


class OrganizationQuerySet(TenantQuerySet["Organization"]):
    """The center sees every organization, anyone else only their own."""

    tenant_field = "pk"


class Organization(models.Model):
    name = models.CharField(_("name"), max_length=255)
    name_kk = models.CharField(_("name in Kazakh"), max_length=255, blank=True)
    name_ru = models.CharField(_("name in Russian"), max_length=255, blank=True)
    name_en = models.CharField(_("name in English"), max_length=255, blank=True)
    bin = models.CharField(_("BIN"), max_length=12, unique=True)
    email = models.EmailField(_("e-mail"))
    kind = models.CharField(_("kind"), max_length=32, choices=OrganizationKind.choices)
    status = models.CharField(
        _("status"),
        max_length=16,
        choices=OrganizationStatus.choices,
        default=OrganizationStatus.ACTIVE,
    )
    # Strong identification policy, set by the center (R57.9, R57.10, R57.11).
    strong_auth_required = models.BooleanField(
        _("EDS or biometrics required at sign-in"),
        default=False,
        help_text=_("The organization's people must sign in with EDS or biometrics as a factor."),
    )
    eds_approvals_required = models.BooleanField(
        _("approvals signed with EDS"),
        default=False,
        help_text=_("The IS-unit head's approvals and decisions must carry an EDS signature."),
    )
    eds_password_change_allowed = models.BooleanField(
        _("EDS may confirm a password change"),
        default=False,
        help_text=_(
            "An EDS signature may stand in for the biometric check when changing a password."
        ),
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = OrganizationQuerySet.as_manager()

    class Meta:
        ordering = ["id"]
        verbose_name = _("organization")
        verbose_name_plural = _("organizations")

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        """The name in the reader's language when one was given, else the official name."""
        language = (translation.get_language() or "ru")[:2]
        localized: str = (
            getattr(self, f"name_{language}", "") if language in {"kk", "ru", "en"} else ""
        )
        return localized or self.name

    @property
    def is_center(self) -> bool:
        """Sees every tenant: AIPS's sectoral center, or the ETP's operator (the same role in the
        other product; the name stays so that AIPS's code reads as before)."""
        return self.kind in CROSS_TENANT_KINDS

    @property
    def is_active(self) -> bool:
        return self.status == OrganizationStatus.ACTIVE
