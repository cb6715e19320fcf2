"""A registered device (the app on one phone, bound to one person and one device key), the
single-use challenges the app signs, and the mobile sign-ins (each a short session with the
geolocation or the fact that the person refused it, R57.27.11). Secrets (the device token, the
session token) are kept only as SHA-256 digests."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from aips.core.tenancy import TenantQuerySet


class Platform(models.TextChoices):
    ANDROID = "android", "Android"
    IOS = "ios", "iOS"


class Proof(models.TextChoices):
    """The strong sign-in that registered the device (R57.10)."""

    EDS = "eds", _("EDS")
    BIOMETRICS = "biometrics", _("Biometrics")


class ChallengeUse(models.TextChoices):
    REGISTER = "register", _("Device registration")
    SESSION = "session", _("Mobile sign-in")


class GeoStatus(models.TextChoices):
    GRANTED = "granted", _("Location given")
    REFUSED = "refused", _("Location refused by the person")
    UNAVAILABLE = "unavailable", _("Location unavailable on the device")


class MobileChallengeQuerySet(TenantQuerySet["MobileChallenge"]):
    """Challenges belong to nobody until used: no person or organization sees them."""

    tenant_field = None


class DeviceQuerySet(TenantQuerySet["Device"]):
    """A person's devices are theirs alone (the operator included sees only its own)."""

    owner_field = "user_id"


class MobileSignInQuerySet(TenantQuerySet["MobileSignIn"]):
    owner_field = "user_id"


class MobileChallenge(models.Model):
    nonce = models.CharField(max_length=64, unique=True)
    use = models.CharField(max_length=16, choices=ChallengeUse.choices)
    # The exact bytes the app signs (with the device key, and for registration with EDS).
    data = models.BinaryField()
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    objects = MobileChallengeQuerySet.as_manager()

    class Meta:
        indexes = [models.Index(fields=["expires_at"])]

    def __str__(self) -> str:
        return f"mobile challenge {self.nonce[:8]}…"


class Device(models.Model):
    user_id: int
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="mobile_devices"
    )
    name = models.CharField(_("name"), max_length=100)
    platform = models.CharField(_("platform"), max_length=16, choices=Platform.choices)
    client_id = models.CharField(_("app"), max_length=200)
    # The device's public key (EC P-256, SubjectPublicKeyInfo DER) and its SHA-256.
    public_key = models.BinaryField()
    key_sha256 = models.CharField(max_length=64, unique=True)
    attestation_verifier = models.CharField(max_length=100)
    proof = models.CharField(_("registered with"), max_length=16, choices=Proof.choices)
    token_sha256 = models.CharField(max_length=64, unique=True)
    token_prefix = models.CharField(max_length=12)
    app_version = models.CharField(_("app version"), max_length=32)
    created_at = models.DateTimeField(_("registered"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires"))
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)

    objects = DeviceQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"device {self.name} ({self.token_prefix}…)"

    @property
    def is_usable(self) -> bool:
        return self.revoked_at is None and self.expires_at > timezone.now()


class MobileSignIn(models.Model):
    """One sign-in from a registered device, and the session it opened."""

    device_id: int
    user_id: int
    device = models.ForeignKey(Device, on_delete=models.PROTECT, related_name="sign_ins")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    token_sha256 = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    app_version = models.CharField(max_length=32)
    geo_status = models.CharField(max_length=16, choices=GeoStatus.choices)
    latitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    accuracy_m = models.PositiveIntegerField(null=True, blank=True)

    objects = MobileSignInQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "created_at"])]

    def __str__(self) -> str:
        return f"mobile sign-in #{self.pk}"
