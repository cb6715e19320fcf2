"""Android Key Attestation (R57.28.3, decision 0043), verified offline: the device key is made in
the Android Keystore with `setAttestationChallenge(attestation_common.binding(client_id,
challenge_id))`, and the app sends the key's certificate chain (`KeyStore.getCertificateChain`,
leaf first) as `android-key:<base64 DER>.<base64 DER>…`.

The chain must end at one of Google's hardware attestation root keys (embedded below), and the
leaf's KeyDescription (OID 1.3.6.1.4.1.11129.2.1.17, Google's "Verifying hardware-backed key
pairs with key attestation") must say: our challenge; a TEE or StrongBox; a key generated in it;
our package and signing certificate; verified boot, a locked bootloader. The attested key is the
device key itself, so the leaf's public key must be the one being registered.

Revocation: Google's status list (https://android.googleapis.com/attestation/status) is read from
a file the operator refreshes (AIPS_ETP_ANDROID_STATUS_FILE), never fetched while verifying."""

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from asn1crypto import core, parser
from cryptography import x509
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone

from aips.etp.devices import config
from aips.etp.devices.attestation import Attestation
from aips.etp.devices.attestation_common import (
    b64decode,
    binding,
    load_der_certificate,
    load_pem_file,
    refuse,
    spki,
    verify_chain,
)
from aips.etp.devices.keys import key_sha256

TOKEN_PREFIX = "android-key:"  # noqa: S105 - a token's kind, not a secret
KEY_DESCRIPTION_OID = x509.ObjectIdentifier("1.3.6.1.4.1.11129.2.1.17")
MAX_CHAIN = 8

# Google's hardware attestation roots (https://developer.android.com/privacy-and-security/
# security-key-attestation#root_certificate, https://android.googleapis.com/attestation/root).
# Trusted by their public keys: the RSA-4096 key of the roots with subject
# serialNumber=f92009e853b6b045 (re-issued 2016, 2019, 2021, 2022 with the same key; the 2022
# certificate below, SHA-256 cedb1cb6…0dfc), and the ECDSA P-384 "Key Attestation CA1" of 2025
# (SHA-256 6d9db4ce…bcc0). A test checks both fingerprints.
GOOGLE_HARDWARE_ATTESTATION_ROOTS = b"""\
-----BEGIN CERTIFICATE-----
MIIFHDCCAwSgAwIBAgIJAPHBcqaZ6vUdMA0GCSqGSIb3DQEBCwUAMBsxGTAXBgNV
BAUTEGY5MjAwOWU4NTNiNmIwNDUwHhcNMjIwMzIwMTgwNzQ4WhcNNDIwMzE1MTgw
NzQ4WjAbMRkwFwYDVQQFExBmOTIwMDllODUzYjZiMDQ1MIICIjANBgkqhkiG9w0B
AQEFAAOCAg8AMIICCgKCAgEAr7bHgiuxpwHsK7Qui8xUFmOr75gvMsd/dTEDDJdS
Sxtf6An7xyqpRR90PL2abxM1dEqlXnf2tqw1Ne4Xwl5jlRfdnJLmN0pTy/4lj4/7
tv0Sk3iiKkypnEUtR6WfMgH0QZfKHM1+di+y9TFRtv6y//0rb+T+W8a9nsNL/ggj
nar86461qO0rOs2cXjp3kOG1FEJ5MVmFmBGtnrKpa73XpXyTqRxB/M0n1n/W9nGq
C4FSYa04T6N5RIZGBN2z2MT5IKGbFlbC8UrW0DxW7AYImQQcHtGl/m00QLVWutHQ
oVJYnFPlXTcHYvASLu+RhhsbDmxMgJJ0mcDpvsC4PjvB+TxywElgS70vE0XmLD+O
JtvsBslHZvPBKCOdT0MS+tgSOIfga+z1Z1g7+DVagf7quvmag8jfPioyKvxnK/Eg
sTUVi2ghzq8wm27ud/mIM7AY2qEORR8Go3TVB4HzWQgpZrt3i5MIlCaY504LzSRi
igHCzAPlHws+W0rB5N+er5/2pJKnfBSDiCiFAVtCLOZ7gLiMm0jhO2B6tUXHI/+M
RPjy02i59lINMRRev56GKtcd9qO/0kUJWdZTdA2XoS82ixPvZtXQpUpuL12ab+9E
aDK8Z4RHJYYfCT3Q5vNAXaiWQ+8PTWm2QgBR/bkwSWc+NpUFgNPN9PvQi8WEg5Um
AGMCAwEAAaNjMGEwHQYDVR0OBBYEFDZh4QB8iAUJUYtEbEf/GkzJ6k8SMB8GA1Ud
IwQYMBaAFDZh4QB8iAUJUYtEbEf/GkzJ6k8SMA8GA1UdEwEB/wQFMAMBAf8wDgYD
VR0PAQH/BAQDAgIEMA0GCSqGSIb3DQEBCwUAA4ICAQB8cMqTllHc8U+qCrOlg3H7
174lmaCsbo/bJ0C17JEgMLb4kvrqsXZs01U3mB/qABg/1t5Pd5AORHARs1hhqGIC
W/nKMav574f9rZN4PC2ZlufGXb7sIdJpGiO9ctRhiLuYuly10JccUZGEHpHSYM2G
tkgYbZba6lsCPYAAP83cyDV+1aOkTf1RCp/lM0PKvmxYN10RYsK631jrleGdcdkx
oSK//mSQbgcWnmAEZrzHoF1/0gso1HZgIn0YLzVhLSA/iXCX4QT2h3J5z3znluKG
1nv8NQdxei2DIIhASWfu804CA96cQKTTlaae2fweqXjdN1/v2nqOhngNyz1361mF
mr4XmaKH/ItTwOe72NI9ZcwS1lVaCvsIkTDCEXdm9rCNPAY10iTunIHFXRh+7KPz
lHGewCq/8TOohBRn0/NNfh7uRslOSZ/xKbN9tMBtw37Z8d2vvnXq/YWdsm1+JLVw
n6yYD/yacNJBlwpddla8eaVMjsF6nBnIgQOf9zKSe06nSTqvgwUHosgOECZJZ1Eu
zbH4yswbt02tKtKEFhx+v+OTge/06V+jGsqTWLsfrOCNLuA8H++z+pUENmpqnnHo
vaI47gC+TNpkgYGkkBT6B/m/U01BuOBBTzhIlMEZq9qkDWuM2cA5kW5V3FJUcfHn
w1IdYIg2Wxg7yHcQZemFQg==
-----END CERTIFICATE-----

-----BEGIN CERTIFICATE-----
MIICIjCCAaigAwIBAgIRAISp0Cl7DrWK5/8OgN52BgUwCgYIKoZIzj0EAwMwUjEc
MBoGA1UEAwwTS2V5IEF0dGVzdGF0aW9uIENBMTEQMA4GA1UECwwHQW5kcm9pZDET
MBEGA1UECgwKR29vZ2xlIExMQzELMAkGA1UEBhMCVVMwHhcNMjUwNzE3MjIzMjE4
WhcNMzUwNzE1MjIzMjE4WjBSMRwwGgYDVQQDDBNLZXkgQXR0ZXN0YXRpb24gQ0Ex
MRAwDgYDVQQLDAdBbmRyb2lkMRMwEQYDVQQKDApHb29nbGUgTExDMQswCQYDVQQG
EwJVUzB2MBAGByqGSM49AgEGBSuBBAAiA2IABCPaI3FO3z5bBQo8cuiEas4HjqCt
G/mLFfRT0MsIssPBEEU5Cfbt6sH5yOAxqEi5QagpU1yX4HwnGb7OtBYpDTB57uH5
Eczm34A5FNijV3s0/f0UPl7zbJcTx6xwqMIRq6NCMEAwDwYDVR0TAQH/BAUwAwEB
/zAOBgNVHQ8BAf8EBAMCAQYwHQYDVR0OBBYEFFIyuyz7RkOb3NaBqQ5lZuA0QepA
MAoGCCqGSM49BAMDA2gAMGUCMETfjPO/HwqReR2CS7p0ZWoD/LHs6hDi422opifH
EUaYLxwGlT9SLdjkVpz0UUOR5wIxAIoGyxGKRHVTpqpGRFiJtQEOOTp/+s1GcxeY
uR2zh/80lQyu9vAFCj6E4AXc+osmRg==
-----END CERTIFICATE-----

"""

SECURITY_LEVELS = {0: "software", 1: "tee", 2: "strongbox"}
VERIFIED_BOOT_STATES = {0: "verified", 1: "self_signed", 2: "unverified", 3: "failed"}
ORIGIN_GENERATED = 0
# AuthorizationList tags (KeyMint's Tag numbers without their type bits).
TAG_ORIGIN = 702
TAG_ROOT_OF_TRUST = 704
TAG_ATTESTATION_APPLICATION_ID = 709


class _SecurityLevel(core.Enumerated):  # type: ignore[misc]  # asn1crypto is untyped
    _map = SECURITY_LEVELS


class _VerifiedBootState(core.Enumerated):  # type: ignore[misc]  # asn1crypto is untyped
    _map = VERIFIED_BOOT_STATES


class _KeyDescription(core.Sequence):  # type: ignore[misc]  # asn1crypto is untyped
    """The fields every attestation version has, in the order all of them keep; the two
    AuthorizationLists are read tag by tag (_authorizations), so tags a later KeyMint adds do not
    break the parse."""

    _fields = [
        ("attestation_version", core.Integer),
        ("attestation_security_level", _SecurityLevel),
        ("keymint_version", core.Integer),
        ("keymint_security_level", _SecurityLevel),
        ("attestation_challenge", core.OctetString),
        ("unique_id", core.OctetString),
        ("software_enforced", core.Any),
        ("hardware_enforced", core.Any),
    ]


class _RootOfTrust(core.Sequence):  # type: ignore[misc]  # asn1crypto is untyped
    _fields = [
        ("verified_boot_key", core.OctetString),
        ("device_locked", core.Boolean),
        ("verified_boot_state", _VerifiedBootState),
        ("verified_boot_hash", core.OctetString, {"optional": True}),
    ]


class _PackageInfo(core.Sequence):  # type: ignore[misc]  # asn1crypto is untyped
    _fields = [("package_name", core.OctetString), ("version", core.Integer)]


class _PackageInfos(core.SetOf):  # type: ignore[misc]  # asn1crypto is untyped
    _child_spec = _PackageInfo


class _Digests(core.SetOf):  # type: ignore[misc]  # asn1crypto is untyped
    _child_spec = core.OctetString


class _AttestationApplicationId(core.Sequence):  # type: ignore[misc]  # asn1crypto is untyped
    _fields = [("package_infos", _PackageInfos), ("signature_digests", _Digests)]


@dataclass(frozen=True)
class KeyAttestationResult:
    package: str
    security_level: str
    attestation_version: int


def roots() -> list[x509.Certificate]:
    path = config.android_roots_file()
    if path:
        return load_pem_file(path, setting="AIPS_ETP_ANDROID_ROOTS_FILE")
    return x509.load_pem_x509_certificates(GOOGLE_HARDWARE_ATTESTATION_ROOTS)


def revoked_serials() -> set[str]:
    """The serial numbers (lowercase hex) Google lists as revoked or suspended."""
    path = config.android_status_file()
    if not path:
        return set()
    try:
        entries = json.loads(Path(path).read_text())["entries"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ImproperlyConfigured(f"AIPS_ETP_ANDROID_STATUS_FILE: cannot read {path}") from exc
    return {str(serial).lower() for serial in entries}


def _authorizations(value: core.Any) -> dict[int, bytes]:
    """An AuthorizationList (SEQUENCE of [tag] EXPLICIT values) as tag → the inner DER."""
    body = value.contents or b""
    found: dict[int, bytes] = {}
    position = 0
    while position < len(body):
        length = parser.peek(body[position:])
        class_, _method, tag, _header, contents, _trailer = parser.parse(
            body[position : position + length], strict=True
        )
        if class_ != 2:  # context-specific
            raise ValueError("AuthorizationList element is not tagged")
        found[tag] = contents
        position += length
    return found


def _key_description(leaf: x509.Certificate) -> _KeyDescription:
    try:
        extension = leaf.extensions.get_extension_for_oid(KEY_DESCRIPTION_OID).value
    except x509.ExtensionNotFound:
        raise refuse("key_description", "extension missing") from None
    if not isinstance(extension, x509.UnrecognizedExtension):
        raise refuse("key_description", "extension unreadable")
    description: _KeyDescription = _KeyDescription.load(extension.value)
    return description


def _check_application(
    application_id: bytes, *, packages: Sequence[str], digests: Sequence[str]
) -> str:
    parsed = _AttestationApplicationId.load(application_id)
    names = [bytes(info["package_name"].native).decode() for info in parsed["package_infos"]]
    signers = {bytes(d.native).hex() for d in parsed["signature_digests"]}
    package = next((name for name in names if name in packages), None)
    if package is None:
        raise refuse("application", f"package {names} not in AIPS_ETP_ANDROID_PACKAGES")
    if not signers or not signers <= set(digests):
        raise refuse("application", "signer not in AIPS_ETP_ANDROID_SIGNING_CERT_SHA256")
    return package


def verify_key_attestation(
    chain: Sequence[x509.Certificate],
    *,
    challenge: bytes,
    key_sha256_hex: str,
    packages: Sequence[str],
    digests: Sequence[str],
    strongbox_required: bool,
    anchors: Sequence[x509.Certificate],
    revoked: set[str],
    now: datetime,
) -> KeyAttestationResult:
    """Raises AttestationRefused at the first check that fails."""
    verify_chain(chain, anchors=[spki(root) for root in anchors], now=now)
    for position, certificate in enumerate(chain):
        if format(certificate.serial_number, "x") in revoked:
            raise refuse("revoked", f"certificate {position} on Google's status list")
        if position > 0 and any(e.oid == KEY_DESCRIPTION_OID for e in certificate.extensions):
            # Only the key's own certificate may describe it: a KeyDescription higher up is
            # a software keystore posing as a CA.
            raise refuse("key_description", f"in certificate {position}")
    leaf = chain[0]
    if key_sha256(spki(leaf)) != key_sha256_hex.lower():
        raise refuse("key", "the attested key is not the device key")
    try:
        description = _key_description(leaf)
        software = _authorizations(description["software_enforced"])
        hardware = _authorizations(description["hardware_enforced"])
        attestation_level = int(description["attestation_security_level"])
        keymint_level = int(description["keymint_security_level"])
        if description["attestation_challenge"].native != challenge:
            raise refuse("challenge", "not our challenge, app and client")
        lowest = 2 if strongbox_required else 1
        if attestation_level < lowest or keymint_level < lowest:
            raise refuse("security_level", SECURITY_LEVELS.get(attestation_level, "unknown"))
        if TAG_ORIGIN not in hardware or core.Integer.load(hardware[TAG_ORIGIN]).native != 0:
            raise refuse("origin", "the key was not generated in the keystore")
        if TAG_ROOT_OF_TRUST not in hardware:
            raise refuse("root_of_trust", "missing from the hardware-enforced list")
        root_of_trust = _RootOfTrust.load(hardware[TAG_ROOT_OF_TRUST])
        state = int(root_of_trust["verified_boot_state"])
        if state != 0:
            raise refuse("verified_boot", VERIFIED_BOOT_STATES.get(state, "unknown"))
        if root_of_trust["device_locked"].native is not True:
            raise refuse("device_locked", "the bootloader is unlocked")
        application_id = software.get(TAG_ATTESTATION_APPLICATION_ID) or hardware.get(
            TAG_ATTESTATION_APPLICATION_ID
        )
        if application_id is None:
            raise refuse("application", "attestationApplicationId missing")
        package = _check_application(
            core.OctetString.load(application_id).native, packages=packages, digests=digests
        )
        version = int(description["attestation_version"].native)
    except (ValueError, TypeError, KeyError, UnicodeDecodeError) as exc:
        raise refuse("key_description", f"unreadable: {exc}") from None
    return KeyAttestationResult(
        package=package,
        security_level=SECURITY_LEVELS[attestation_level],
        attestation_version=version,
    )


def parse_token(token: str) -> list[x509.Certificate]:
    if not token.startswith(TOKEN_PREFIX):
        raise refuse("token", "not android-key")
    parts = token[len(TOKEN_PREFIX) :].split(".")
    if not 2 <= len(parts) <= MAX_CHAIN:
        raise refuse("token", "chain length")
    return [
        load_der_certificate(b64decode(part, what=f"certificate {i}"), what=f"certificate {i}")
        for i, part in enumerate(parts)
    ]


class KeyAttestationVerifier:
    """`AIPS_ETP_ATTESTATION_VERIFIER=aips.etp.devices.attestation_android.KeyAttestationVerifier`
    for an Android-only deployment; attestation_platforms.PlatformVerifier serves both."""

    name = "android-key"

    def verify(self, *, token: str, client_id: str, key_sha256: str, nonce: str) -> Attestation:
        result = verify_key_attestation(
            parse_token(token),
            challenge=binding(client_id=client_id, nonce=nonce),
            key_sha256_hex=key_sha256,
            packages=config.android_packages(),
            digests=config.android_signing_cert_sha256(),
            strongbox_required=config.android_strongbox_required(),
            anchors=roots(),
            revoked=revoked_serials(),
            now=timezone.now(),
        )
        return Attestation(
            verifier=self.name,
            detail=f"{result.package} {result.security_level} v{result.attestation_version}",
        )
