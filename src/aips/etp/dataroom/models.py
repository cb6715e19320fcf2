"""A participant organization's acceptance of a lot's non-disclosure agreement: one per lot and
organization, with who accepted, when, and the exact text (its version, language and SHA-256)."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from aips.core.actors import Actor
from aips.core.tenancy import TenantQuerySet
from aips.etp.lots.models import Lot
from aips.etp.permissions import EtpPerm
from aips.shared.organizations.models import Organization


class NdaAcceptanceQuerySet(TenantQuerySet["NdaAcceptance"]):
    """A participant sees its own organization's acceptances; the operator all of them."""

    view_perm = EtpPerm.DATAROOM_VIEW

    def center_scope(self, actor: Actor) -> "NdaAcceptanceQuerySet":
        return self.all()


class NdaAcceptance(models.Model):
    lot = models.ForeignKey(Lot, on_delete=models.PROTECT, related_name="+", verbose_name=_("lot"))
    # The participant: a legal entity (BIN) or an individual's organization of one (IIN).
    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="+", verbose_name=_("participant")
    )
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    accepted_at = models.DateTimeField(_("accepted"))
    # The text the person read: its version, the language it was shown in and its SHA-256.
    nda_version = models.CharField(max_length=16)
    nda_language = models.CharField(max_length=8)
    nda_sha256 = models.CharField(max_length=64)

    objects = NdaAcceptanceQuerySet.as_manager()
    lot_id: int
    organization_id: int
    accepted_by_id: int

    class Meta:
        ordering = ["-id"]
        verbose_name = _("NDA acceptance")
        verbose_name_plural = _("NDA acceptances")
        constraints = [
            models.UniqueConstraint(
                fields=["lot", "organization"], name="etp_dataroom_one_nda_per_participant"
            )
        ]

    def __str__(self) -> str:
        return f"NDA {self.lot_id}/{self.organization_id}"
