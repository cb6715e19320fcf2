"""Opening NCA RK key containers (PKCS#12, `.p12`) without Kalkan.

`cryptography` opens the RSA ones; the GOST ones it refuses (it does not know the KZ key OIDs),
so the bags are decrypted here: the PKCS#12 key derivation (RFC 7292 appendix B) with SHA-1,
3DES for the key bag and 40-bit RC2 (RFC 2268, implemented below because `cryptography` only
has 128-bit RC2) for the certificate bag, then the PKCS#8 key read by hand.

Used by the test signer and by tools; the platform itself never holds anyone's private key.
"""

import hashlib
import hmac
import os
from dataclasses import dataclass, field
from pathlib import Path

from asn1crypto import core, pkcs12
from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.ciphers import Cipher, modes
from cryptography.hazmat.primitives.serialization import load_der_private_key

from aips.shared.eds import algorithms
from aips.shared.eds.certificates import Cert, parse_certificate


class KeystoreError(ValueError):
    """A container that cannot be opened: a wrong password or an unknown format."""


@dataclass(frozen=True)
class KeyBundle:
    """A private key with its certificate: RSA (a `cryptography` key) or GOST (an integer)."""

    certificate: bytes  # DER
    chain: tuple[bytes, ...] = ()  # other certificates in the container, DER
    rsa_key: rsa.RSAPrivateKey | None = field(default=None, repr=False)
    gost_key: int | None = field(default=None, repr=False)

    @property
    def cert(self) -> Cert:
        return parse_certificate(self.certificate)

    @property
    def algorithm(self) -> str:
        if self.rsa_key is not None:
            return "rsa-sha256"
        curve = self.cert.public_key.curve
        return "gost2015-512" if curve is algorithms.CURVE_512A else "gost2015-256"


# --- PKCS#12 key derivation and ciphers --------------------------------------------------------


def _bmp_password(password: str) -> bytes:
    return password.encode("utf-16-be") + b"\x00\x00"


def pkcs12_kdf(password: str, salt: bytes, iterations: int, purpose: int, size: int) -> bytes:
    """RFC 7292 B.2 with SHA-1 (purpose 1 key, 2 IV, 3 MAC key)."""
    u, v = 20, 64
    pw = _bmp_password(password) if password else b""
    d = bytes([purpose]) * v

    def stretch(data: bytes) -> bytes:
        if not data:
            return b""
        length = v * ((len(data) + v - 1) // v)
        return (data * (length // len(data) + 1))[:length]

    i = bytearray(stretch(salt) + stretch(pw))
    out = b""
    while len(out) < size:
        a = d + bytes(i)
        for _ in range(iterations):
            a = hashlib.sha1(a).digest()  # noqa: S324 - the PKCS#12 format fixes SHA-1
        out += a
        b = stretch(a)
        b_int = int.from_bytes(b, "big")
        for j in range(0, len(i), v):
            block = int.from_bytes(i[j : j + v], "big")
            i[j : j + v] = ((block + b_int + 1) % (1 << (8 * v))).to_bytes(v, "big")
    _ = u
    return out[:size]


def _unpad(data: bytes, block: int) -> bytes:
    if not data or len(data) % block:
        raise KeystoreError("bad padding")
    pad = data[-1]
    if not 1 <= pad <= block or data[-pad:] != bytes([pad]) * pad:
        raise KeystoreError("bad padding (wrong password?)")
    return data[:-pad]


def _tripledes_decrypt(password: str, salt: bytes, iterations: int, data: bytes) -> bytes:
    key = pkcs12_kdf(password, salt, iterations, 1, 24)
    iv = pkcs12_kdf(password, salt, iterations, 2, 8)
    decryptor = Cipher(TripleDES(key), modes.CBC(iv)).decryptor()
    return _unpad(decryptor.update(data) + decryptor.finalize(), 8)


# RFC 2268 section 2: PITABLE, a permutation of 0..255 derived from the digits of pi.
_RC2_PI = bytes.fromhex(
    "d978f9c419ddb5ed28e9fd794aa0d89dc67e37832b76538e624c6488448bfba2"
    "179a59f587b34f1361456d8d09817d32bd8f40eb86b77b0bf09521225c6b4e82"
    "54d66593ce60b21c7356c014a78cf1dc1275ca1f3bbee4d1423dd430a33cb626"
    "6fbf0eda4669075727f21d9bbc944303f811c7f690ef3ee706c3d52fc8661ed7"
    "08e8eade8052eef784aa72ac354d6a2a961ad2715a1549744b9fd05e0418a4ec"
    "c2e0416e0f51cbcc2491af50a1f47039997c3a8523b8b47afc02365b25559731"
    "2d5dfa98e38a92ae05df2910676cbac9d300e6cfe19ea82c6316013f58e289a9"
    "0d38341bab33ffb0bb480c5fb9b1cd2ec5f3db47e5a59c770aa62068fe7fc1ad"
)


def rc2_decrypt_cbc(key: bytes, effective_bits: int, iv: bytes, data: bytes) -> bytes:
    """RC2 (RFC 2268) in CBC mode; only decryption, only for opening old PKCS#12 bags."""
    pitable = _RC2_PI
    t = len(key)
    t8 = (effective_bits + 7) // 8
    tm = 255 % (1 << (8 + effective_bits - 8 * t8))
    buf = bytearray(key) + bytearray(128 - t)
    for i in range(t, 128):
        buf[i] = pitable[(buf[i - 1] + buf[i - t]) % 256]
    buf[128 - t8] = pitable[buf[128 - t8] & tm]
    for i in range(127 - t8, -1, -1):
        buf[i] = pitable[buf[i + 1] ^ buf[i + t8]]
    k = [buf[2 * i] + 256 * buf[2 * i + 1] for i in range(64)]

    def rol(x: int, n: int) -> int:
        return ((x << n) | (x >> (16 - n))) & 0xFFFF

    def ror(x: int, n: int) -> int:
        return ((x >> n) | (x << (16 - n))) & 0xFFFF

    def decrypt_block(block: bytes) -> bytes:
        r = [block[2 * i] + 256 * block[2 * i + 1] for i in range(4)]
        j = 63

        def r_mix() -> None:
            nonlocal j
            for i in (3, 2, 1, 0):
                r[i] = ror(r[i], (1, 2, 3, 5)[i])
                r[i] = (
                    r[i]
                    - k[j]
                    - (r[(i - 1) % 4] & r[(i - 2) % 4])
                    - ((~r[(i - 1) % 4]) & r[(i - 3) % 4])
                ) & 0xFFFF
                j -= 1

        def r_mash() -> None:
            for i in (3, 2, 1, 0):
                r[i] = (r[i] - k[r[(i - 1) % 4] & 63]) & 0xFFFF

        for _ in range(5):
            r_mix()
        r_mash()
        for _ in range(6):
            r_mix()
        r_mash()
        for _ in range(5):
            r_mix()
        return b"".join(x.to_bytes(2, "little") for x in r)

    if len(data) % 8:
        raise KeystoreError("RC2 data is not a whole number of blocks")
    out = bytearray()
    prev = iv
    for off in range(0, len(data), 8):
        block = data[off : off + 8]
        plain = decrypt_block(block)
        out += bytes(a ^ b for a, b in zip(plain, prev, strict=True))
        prev = block
    return bytes(out)


def _rc2_40_decrypt(password: str, salt: bytes, iterations: int, data: bytes) -> bytes:
    key = pkcs12_kdf(password, salt, iterations, 1, 5)
    iv = pkcs12_kdf(password, salt, iterations, 2, 8)
    return _unpad(rc2_decrypt_cbc(key, 40, iv, data), 8)


def _pbe_decrypt(algorithm: core.Sequence, data: bytes, password: str) -> bytes:
    name = algorithm["algorithm"].native
    params = algorithm["parameters"]
    salt, iterations = params["salt"].native, params["iterations"].native
    if iterations > 1_000_000:
        raise KeystoreError("too many iterations")
    if name == "pkcs12_sha1_tripledes_3key":
        return _tripledes_decrypt(password, salt, iterations, data)
    if name == "pkcs12_sha1_rc2_40":
        return _rc2_40_decrypt(password, salt, iterations, data)
    raise KeystoreError(f"unsupported PKCS#12 encryption {name}")


# --- Opening a container ---------------------------------------------------------------------


class _GostPrivateKeyInfo(core.Sequence):  # type: ignore[misc]  # asn1crypto is untyped
    _fields = [
        ("version", core.Integer),
        ("private_key_algorithm", core.Sequence),
        ("private_key", core.OctetString),
        ("attributes", core.Any, {"implicit": 0, "optional": True}),
    ]


def _gost_private_value(raw: bytes, size: int) -> int:
    """The private key inside PKCS#8 as NCA writes it: an OCTET STRING or INTEGER wrapped in the
    OCTET STRING, or bare little-endian bytes."""
    try:
        inner = core.load(raw)
    except ValueError:
        inner = None
    if isinstance(inner, core.Integer):
        return int(inner.native)
    if isinstance(inner, core.OctetString):
        return int.from_bytes(inner.native, "little")
    if len(raw) == size:
        return int.from_bytes(raw, "little")
    raise KeystoreError("unknown GOST private key encoding")


def load_pkcs12(path_or_bytes: str | os.PathLike[str] | bytes, password: str) -> KeyBundle:
    """Open an NCA RK `.p12` (RSA or GOST 34.10-2015) and return its key and certificates."""
    data = path_or_bytes if isinstance(path_or_bytes, bytes) else Path(path_or_bytes).read_bytes()
    try:
        return _load(data, password)
    except KeystoreError:
        raise
    except Exception as exc:  # asn1crypto raises many kinds on bad input
        raise KeystoreError(f"cannot read the container: {exc}") from exc


def _load(data: bytes, password: str) -> KeyBundle:
    pfx = pkcs12.Pfx.load(data)
    auth_safe = pfx["auth_safe"]
    if auth_safe["content_type"].native != "data":
        raise KeystoreError("only password-integrity containers are supported")
    safe_der = auth_safe["content"].native
    mac_data = pfx["mac_data"]
    if mac_data:
        digest_name = mac_data["mac"]["digest_algorithm"]["algorithm"].native
        if digest_name != "sha1":
            raise KeystoreError(f"unsupported MAC {digest_name}")
        mac_key = pkcs12_kdf(
            password, mac_data["mac_salt"].native, mac_data["iterations"].native, 3, 20
        )
        expected = hmac.new(mac_key, safe_der, "sha1").digest()
        if not hmac.compare_digest(expected, mac_data["mac"]["digest"].native):
            raise KeystoreError("wrong password")
    key_infos: list[bytes] = []
    certificates: list[bytes] = []
    for content_info in pkcs12.AuthenticatedSafe.load(safe_der):
        kind = content_info["content_type"].native
        if kind == "data":
            contents = content_info["content"].native
        elif kind == "encrypted_data":
            enc = content_info["content"]["encrypted_content_info"]
            contents = _pbe_decrypt(
                enc["content_encryption_algorithm"], enc["encrypted_content"].native, password
            )
        else:
            continue
        for bag in pkcs12.SafeContents.load(contents):
            bag_id = bag["bag_id"].native
            if bag_id == "pkcs8_shrouded_key_bag":
                value = bag["bag_value"]
                key_infos.append(
                    _pbe_decrypt(
                        value["encryption_algorithm"], value["encrypted_data"].native, password
                    )
                )
            elif bag_id == "key_bag":
                key_infos.append(bag["bag_value"].dump())
            elif bag_id == "cert_bag" and bag["bag_value"]["cert_id"].native == "x509":
                certificates.append(bag["bag_value"]["cert_value"].parsed.dump())
    if len(key_infos) != 1 or not certificates:
        raise KeystoreError("expected one key and its certificate")
    return _bundle(key_infos[0], certificates)


def _bundle(key_info: bytes, certificates: list[bytes]) -> KeyBundle:
    info = _GostPrivateKeyInfo.load(key_info)
    alg_oid = info["private_key_algorithm"][0].dotted
    if alg_oid == algorithms.RSA_ENCRYPTION:
        private = load_der_private_key(key_info, password=None)
        if not isinstance(private, rsa.RSAPrivateKey):
            raise KeystoreError("not an RSA key")
        numbers = private.public_key().public_numbers()
        for der in certificates:
            public = parse_certificate(der).public_key
            if public.rsa_numbers == (numbers.n, numbers.e):
                others = tuple(c for c in certificates if c != der)
                return KeyBundle(certificate=der, chain=others, rsa_key=private)
        raise KeystoreError("no certificate matches the key")
    curve = algorithms.KEY_CURVES.get(alg_oid)
    if curve is None:
        raise KeystoreError(f"unsupported key algorithm {alg_oid}")
    value = _gost_private_value(info["private_key"].native, curve.size)
    point = algorithms.gost_public_key(curve, value)
    for der in certificates:
        if parse_certificate(der).public_key.point == point:
            others = tuple(c for c in certificates if c != der)
            return KeyBundle(certificate=der, chain=others, gost_key=value)
    raise KeystoreError("no certificate matches the key")
