"""A verified signature kept as evidence: the CMS as received, who signed, the chain and the
revocation answers it was judged with. Rows are written once (`services.signature_store`) and
never changed, so an exported bundle today verifies the same as on the day of signing."""

from typing import Any

from django.conf import settings
from django.db import models

from aips.core.tenancy import TenantQuerySet
from aips.shared.eds.types import Purpose


class ImmutableError(RuntimeError):
    """A stored signature or its evidence was about to change."""


class SignatureQuerySet(TenantQuerySet["Signature"]):
    # The center sees every signature; an organization the ones its people handed in.
    tenant_field = "created_by__organization"

    def update(self, **kwargs: Any) -> int:
        raise ImmutableError("stored signatures are never changed")


class Signature(models.Model):
    purpose = models.CharField(max_length=16, choices=[(p.value, p.value) for p in Purpose])
    cms = models.BinaryField()  # DER, as received
    content_sha256 = models.CharField(max_length=64)  # hex of the signed bytes' SHA-256
    signer_iin = models.CharField(max_length=12)
    signer_bin = models.CharField(max_length=12, blank=True, default="")
    signer_common_name = models.CharField(max_length=255)
    signer_organization = models.CharField(max_length=500, blank=True, default="")
    signer_roles = models.JSONField(default=list)  # role OIDs (eds.types.Role)
    certificate_fingerprint = models.CharField(max_length=64)  # SHA-256 of the DER, hex
    certificate_serial = models.CharField(max_length=80)  # hex
    certificate_issuer = models.CharField(max_length=1000)
    signing_time = models.DateTimeField(null=True, blank=True)  # the signer's claim, if any
    checked_at = models.DateTimeField()  # the moment validity and revocation were judged at
    algorithm = models.CharField(max_length=32)
    chain = models.BinaryField()  # the DER certificates, signer first, concatenated
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )

    objects = SignatureQuerySet.as_manager()

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(fields=["signer_iin"]),
            models.Index(fields=["certificate_fingerprint"]),
        ]

    def __str__(self) -> str:
        return f"{self.signer_common_name} ({self.signer_iin}) {self.checked_at:%Y-%m-%d %H:%M}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise ImmutableError("stored signatures are never changed")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise ImmutableError("stored signatures are never deleted")

    @property
    def chain_certificates(self) -> list[bytes]:
        """The chain split back into DER certificates (each is one self-delimiting SEQUENCE)."""
        return split_der(bytes(self.chain))


class EvidenceQuerySet(TenantQuerySet["RevocationRecord"]):
    tenant_field = "signature__created_by__organization"

    def update(self, **kwargs: Any) -> int:
        raise ImmutableError("stored evidence is never changed")


class RevocationRecord(models.Model):
    """One CRL, delta CRL or OCSP answer a signature was judged with (types.RevocationEvidence)."""

    signature = models.ForeignKey(Signature, on_delete=models.PROTECT, related_name="revocation")
    kind = models.CharField(max_length=16)  # "crl", "delta_crl", "ocsp"
    source = models.CharField(max_length=500)  # file name or URL
    produced_at = models.DateTimeField()
    der = models.BinaryField()
    status = models.CharField(max_length=16)  # "good" or "revoked"

    objects = EvidenceQuerySet.as_manager()

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.kind} {self.source} {self.status}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise ImmutableError("stored evidence is never changed")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise ImmutableError("stored evidence is never deleted")


def split_der(data: bytes) -> list[bytes]:
    """Concatenated DER values back into a list."""
    out = []
    offset = 0
    while offset < len(data):
        if offset + 2 > len(data):
            raise ValueError("truncated DER")
        length = data[offset + 1]
        header = 2
        if length & 0x80:
            count = length & 0x7F
            length = int.from_bytes(data[offset + 2 : offset + 2 + count], "big")
            header += count
        end = offset + header + length
        if end > len(data):
            raise ValueError("truncated DER")
        out.append(data[offset:end])
        offset = end
    return out
