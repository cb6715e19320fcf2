"""The verifiable bundle of a stored signature: a zip an auditor checks offline with
`aips eds verify` (or OpenSSL, for RSA) without access to the platform.

    content.bin          the signed bytes
    signature.p7s        the CMS (DER) as the signer's software produced it
    chain/NN-*.cer       the certification authorities' certificates, issuer of the signer first
    revocation/NN-*.crl  the CRL and delta CRL the signature was judged with
    revocation/NN-*.ocsp the OCSP answers
    README.txt           how to verify
"""

import hashlib
import io
import re
import zipfile
from datetime import UTC

from django.conf import settings
from django.utils.translation import gettext as _

from aips.core.branding import site_text
from aips.shared.eds.certificates import parse_certificate
from aips.shared.eds.models import RevocationRecord, Signature

_SAFE = re.compile(r"[^A-Za-z0-9._-]+")


def _safe_name(text: str) -> str:
    return _SAFE.sub("_", text).strip("_")[:60] or "certificate"


def export_bundle(signature: Signature, content: bytes) -> bytes:
    """The zip of `signature` over `content` (the caller gives the exact signed bytes; other
    bytes are a programming error, refused before anything is written)."""
    if hashlib.sha256(content).hexdigest() != signature.content_sha256:
        raise ValueError("the content is not the one this signature was stored for")
    moment = signature.checked_at.astimezone(UTC)
    stamp = (
        max(moment.year, 1980),
        moment.month,
        moment.day,
        moment.hour,
        moment.minute,
        moment.second,
    )
    files: list[tuple[str, bytes]] = [
        ("content.bin", content),
        ("signature.p7s", bytes(signature.cms)),
    ]
    chain = signature.chain_certificates
    root_fingerprint = ""
    for index, der in enumerate(chain[1:], start=1):
        cert = parse_certificate(der)
        files.append(
            (f"chain/{index:02d}-{_safe_name(cert.common_name or cert.serial_hex)}.cer", der)
        )
        root_fingerprint = cert.fingerprint_sha256
    records = list(RevocationRecord.objects.filter(signature=signature).order_by("id"))
    for index, record in enumerate(records, start=1):
        suffix = "ocsp" if record.kind == "ocsp" else "crl"
        files.append((f"revocation/{index:02d}-{record.kind}.{suffix}", bytes(record.der)))
    files.append(("README.txt", _readme(signature, root_fingerprint).encode("utf-8")))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in files:
            info = zipfile.ZipInfo(name, date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, data)
    return buffer.getvalue()


def _readme(signature: Signature, root_fingerprint: str) -> str:
    at = signature.checked_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    # Each product's command bears its name (`aips`, `etp`; docs/decisions/0036).
    command = settings.AIPS_PRODUCT
    lines = [
        _("Electronic digital signature bundle"),
        "",
        _("Signer: %(name)s, IIN %(iin)s")
        % {"name": signature.signer_common_name, "iin": signature.signer_iin},
    ]
    if signature.signer_bin:
        lines.append(
            _("Organization: %(org)s, BIN %(bin)s")
            % {"org": signature.signer_organization, "bin": signature.signer_bin}
        )
    lines += [
        _("Certificate: serial %(serial)s, SHA-256 %(fingerprint)s")
        % {
            "serial": signature.certificate_serial,
            "fingerprint": signature.certificate_fingerprint,
        },
        _("Algorithm: %(algorithm)s. Verified at: %(at)s.")
        % {"algorithm": signature.algorithm, "at": at},
        _("SHA-256 of content.bin: %(sha)s") % {"sha": signature.content_sha256},
        "",
        _(
            "Files: content.bin is the signed data, signature.p7s the CMS signature (DER), "
            "chain/ the certificates of the certification authorities, revocation/ the CRLs and "
            "OCSP answers "
            "the signature was checked with."
        ),
        "",
        site_text("eds_verify"),
        f"    {command} eds verify signature.p7s --data content.bin --trust chain/"
        f" --trust revocation/ --at {at}",
        site_text("eds_verify_nca"),
        f"    {command} eds verify bundle.zip",
    ]
    if root_fingerprint:
        lines += [
            "",
            _(
                "Before trusting chain/, compare the root certificate's SHA-256 with the one "
                "NCA RK publishes at pki.gov.kz: %(fingerprint)s"
            )
            % {"fingerprint": root_fingerprint},
        ]
    if signature.algorithm.startswith("rsa"):
        lines += [
            "",
            _("RSA signatures also verify with OpenSSL (the chain only, without revocation):"),
            "    for f in chain/*.cer; do openssl x509 -inform DER -in $f; done > ca.pem",
            f"    openssl cms -verify -inform DER -in signature.p7s -content content.bin "
            "-binary -CAfile ca.pem -partial_chain -purpose any "
            f"-attime {int(signature.checked_at.timestamp())} "
            "-out /dev/null",
        ]
    lines.append("")
    return "\n".join(lines)
