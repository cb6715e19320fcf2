"""Writes of the EDS module: storing a verified signature as evidence."""

import hashlib

from django.db import transaction

from aips.core.actors import Actor
from aips.shared.accounts.models import User
from aips.shared.audit.models import EventType
from aips.shared.audit.services import record
from aips.shared.eds.certificates import parse_certificate
from aips.shared.eds.models import RevocationRecord, Signature
from aips.shared.eds.types import Purpose, Verification
from aips.shared.eds.verify import purpose_allows


@transaction.atomic
def signature_store(*, actor: Actor, verification: Verification, cms: bytes) -> Signature:
    """Keep a signature that `verify_cms` accepted, with its chain and revocation evidence.
    The caller verified it in this request; nothing here checks it again."""
    signer = verification.signer
    signature = Signature.objects.create(
        purpose=_purpose(verification),
        cms=cms,
        content_sha256=hashlib.sha256(verification.content).hexdigest(),
        signer_iin=signer.iin,
        signer_bin=signer.bin,
        signer_common_name=signer.common_name[:255],
        signer_organization=signer.organization[:500],
        signer_roles=sorted(role.value for role in signer.roles),
        certificate_fingerprint=signer.fingerprint_sha256,
        certificate_serial=signer.serial_hex,
        certificate_issuer=signer.issuer[:1000],
        signing_time=verification.signing_time,
        checked_at=verification.checked_at,
        algorithm=verification.algorithm,
        chain=b"".join(verification.chain),
        created_by=actor if isinstance(actor, User) else None,
    )
    for evidence in verification.revocation:
        RevocationRecord.objects.create(
            signature=signature,
            kind=evidence.kind,
            source=evidence.source[:500],
            produced_at=evidence.produced_at,
            der=evidence.der,
            status=evidence.status,
        )
    record(
        actor=actor,
        event=EventType.EDS_SIGNATURE_STORED,
        target=signature,
        organization_id=actor.organization_id,
        details={
            "iin": signer.iin,
            "bin": signer.bin,
            "serial": signer.serial_hex,
            "fingerprint": signer.fingerprint_sha256,
            "algorithm": verification.algorithm,
            "content_sha256": signature.content_sha256,
            "revocation": [f"{e.kind}:{e.status}" for e in verification.revocation],
        },
    )
    return signature


def _purpose(verification: Verification) -> str:
    if verification.purpose is not None:
        return verification.purpose.value
    # Built without verify_cms (a test's fake): a document signature unless the key can only
    # authenticate.
    cert = parse_certificate(verification.signer.certificate_der)
    return (
        Purpose.SIGNING.value
        if purpose_allows(cert, Purpose.SIGNING)
        else Purpose.AUTHENTICATION.value
    )
