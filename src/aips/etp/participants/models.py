"""A participant's profile: one per participant organization (an individual's organization of
one, or a legal entity), holding the contacts and the bank account deposits are refunded to; and
the confirmation of a self-registered participant's e-mail address."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from aips.core.tenancy import TenantQuerySet
from aips.etp.permissions import EtpPerm
from aips.shared.accounts.models import User
from aips.shared.organizations.models import Organization


class ParticipantProfileQuerySet(TenantQuerySet["ParticipantProfile"]):
    """A participant sees its own profile; the operator's admission staff see every one."""

    tenant_field = "organization"
    view_perm = EtpPerm.PARTICIPANT_VIEW


class ParticipantProfile(models.Model):
    organization = models.OneToOneField(
        Organization,
        on_delete=models.PROTECT,
        related_name="participant_profile",
        verbose_name=_("participant"),
    )
    # The registered phone: a change of it is announced to the participant (R57.27.10).
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    address = models.CharField(_("address"), max_length=500, blank=True)
    iban = models.CharField(_("IBAN for deposit refunds"), max_length=20, blank=True)
    bic = models.CharField(_("bank BIC"), max_length=11, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ParticipantProfileQuerySet.as_manager()

    class Meta:
        ordering = ["id"]
        verbose_name = _("participant profile")
        verbose_name_plural = _("participant profiles")

    def __str__(self) -> str:
        return f"participant profile {self.pk}"


class EmailConfirmation(models.Model):
    """The e-mail address a participant registered with EDS, until the link sent to it is
    followed. Only the SHA-256 of the link's token is stored; a new link replaces the old one and
    a followed link is spent (`token_hash` emptied). An account without a row proved its address
    another way (an invitation link: a registration by biometrics, an account made by the
    operator) and counts as confirmed (`selectors.email_confirmed`)."""

    user = models.OneToOneField(
        User, on_delete=models.CASCADE, related_name="etp_email_confirmation"
    )
    email = models.EmailField(max_length=254)
    token_hash = models.CharField(max_length=64, blank=True, db_index=True)
    sent_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    confirmed_at = models.DateTimeField(null=True, blank=True)

    objects: "models.Manager[EmailConfirmation]" = models.Manager()

    class Meta:
        ordering = ["id"]
        verbose_name = _("e-mail confirmation")
        verbose_name_plural = _("e-mail confirmations")

    def __str__(self) -> str:
        return f"e-mail confirmation {self.pk}"

    @property
    def confirmed(self) -> bool:
        return self.confirmed_at is not None
