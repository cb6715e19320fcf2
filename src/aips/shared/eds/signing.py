"""Making CMS SignedData the way NCALayer does: one signer identified by issuer and serial, the
signer's certificate included, signed attributes content type, signing time and message digest;
RSA with SHA-256 (sha256WithRSAEncryption) or GOST 34.10-2015 with Streebog in NCA's layout.

The platform never signs for a person (their key stays in NCALayer); this serves tests, the
fake NCALayer and tools.
"""

from datetime import UTC, datetime

from asn1crypto import cms, core, x509

from aips.shared.eds import algorithms
from aips.shared.eds.keystore import KeyBundle


def signature_algorithm(key: KeyBundle) -> tuple[str, str]:
    """(signature algorithm OID, digest name) for the key."""
    if key.rsa_key is not None:
        return algorithms.SHA256_RSA, "sha256"
    curve = key.cert.public_key.curve
    if curve is algorithms.CURVE_512A:
        return algorithms.GOST2015_512_SIGNATURE, "streebog512"
    return algorithms.GOST2015_256_SIGNATURE, "streebog256"


def sign_message(key: KeyBundle, message: bytes) -> bytes:
    """Sign `message` (it is hashed here) with the key's algorithm."""
    if key.rsa_key is not None:
        return algorithms.rsa_sign(key.rsa_key, "sha256", message)
    if key.gost_key is None:
        raise ValueError("the bundle holds no private key")
    curve = key.cert.public_key.curve
    if curve is None:
        raise ValueError("GOST certificate without a curve")
    _oid, digest_name = signature_algorithm(key)
    return algorithms.gost_sign(curve, key.gost_key, algorithms.digest(message, digest_name))


def _time(moment: datetime) -> cms.Time:
    moment = moment.astimezone(UTC).replace(microsecond=0)
    if 1950 <= moment.year < 2050:
        return cms.Time({"utc_time": moment})
    return cms.Time({"generalized_time": moment})


def sign_cms(
    content: bytes,
    *,
    key: KeyBundle,
    detached: bool = False,
    signing_time: datetime | None = None,
) -> bytes:
    """A DER CMS SignedData over `content`, as NCALayer's `createCMSSignatureFromBase64` makes."""
    sig_oid, digest_name = signature_algorithm(key)
    digest_oid = algorithms.DIGEST_OIDS[digest_name]
    cert = x509.Certificate.load(key.certificate)
    attributes = cms.CMSAttributes(
        [
            {"type": "content_type", "values": ["data"]},
            {"type": "signing_time", "values": [_time(signing_time or datetime.now(UTC))]},
            {"type": "message_digest", "values": [algorithms.digest(content, digest_name)]},
        ]
    )
    signature = sign_message(key, attributes.dump())
    digest_algorithm = cms.DigestAlgorithm({"algorithm": digest_oid, "parameters": core.Null()})
    signer = cms.SignerInfo(
        {
            "version": "v1",
            "sid": cms.SignerIdentifier(
                {
                    "issuer_and_serial_number": {
                        "issuer": cert.issuer,
                        "serial_number": cert.serial_number,
                    }
                }
            ),
            "digest_algorithm": digest_algorithm,
            "signed_attrs": attributes,
            "signature_algorithm": {"algorithm": sig_oid, "parameters": core.Null()},
            "signature": signature,
        }
    )
    encap: dict[str, object] = {"content_type": "data"}
    if not detached:
        encap["content"] = content
    signed_data = cms.SignedData(
        {
            "version": "v1",
            "digest_algorithms": [digest_algorithm],
            "encap_content_info": encap,
            "certificates": [cert],
            "signer_infos": [signer],
        }
    )
    return bytes(cms.ContentInfo({"content_type": "signed_data", "content": signed_data}).dump())
