"""Digests and signature primitives: RSA (through `cryptography`) and GOST 34.10-2015 with
Streebog (through gostcrypto's curve parameters and hash) in the byte layout of NCA RK.

The NCA layout (Kalkan, NCALayer; pinned by a test on the real test root):
- the signature value is r‖s, each little-endian, each as long as the curve's coordinates;
- the digest enters the computation as a little-endian integer;
- the public key is x‖y, each little-endian, inside an OCTET STRING inside the BIT STRING.
RFC 4491 differs (s‖r big-endian); a verifier written to it refuses every NCA signature.

The curve arithmetic is our own (affine coordinates with Python's modular inverse): gostcrypto's
is correct but several times slower, and GOST 512 is already the slowest thing here.
"""

import hashlib
import secrets
from dataclasses import dataclass
from typing import Final

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.serialization import load_der_public_key
from gostcrypto import gosthash
from gostcrypto.gostsignature import CURVES_R_1323565_1_024_2019 as _GOST_CURVES

# --- Object identifiers -----------------------------------------------------------------------

SHA256: Final = "2.16.840.1.101.3.4.2.1"
SHA384: Final = "2.16.840.1.101.3.4.2.2"
SHA512: Final = "2.16.840.1.101.3.4.2.3"
SHA1: Final = "1.3.14.3.2.26"
STREEBOG256: Final = "1.2.398.3.10.1.3.2"  # GOST 34.11-2015 256, KZ arc
STREEBOG512: Final = "1.2.398.3.10.1.3.3"  # GOST 34.11-2015 512, KZ arc
STREEBOG256_RU: Final = "1.2.643.7.1.1.2.2"
STREEBOG512_RU: Final = "1.2.643.7.1.1.2.3"

RSA_ENCRYPTION: Final = "1.2.840.113549.1.1.1"
SHA256_RSA: Final = "1.2.840.113549.1.1.11"
SHA384_RSA: Final = "1.2.840.113549.1.1.12"
SHA512_RSA: Final = "1.2.840.113549.1.1.13"

GOST2015_256_KEY: Final = "1.2.398.3.10.1.1.2.1"
GOST2015_512_KEY: Final = "1.2.398.3.10.1.1.2.2"
GOST2015_256_PARAMS_A: Final = "1.2.398.3.10.1.1.2.1.1"
GOST2015_512_PARAMS_A: Final = "1.2.398.3.10.1.1.2.2.1"
GOST2015_256_SIGNATURE: Final = "1.2.398.3.10.1.1.2.3.1"
GOST2015_512_SIGNATURE: Final = "1.2.398.3.10.1.1.2.3.2"
GOST2004_KEY: Final = "1.2.398.3.10.1.1.1.1"  # GOST 34.310-2004: not supported (no 34.311-95 hash)
GOST2004_SIGNATURE: Final = "1.2.398.3.10.1.1.1.2"

DIGEST_NAMES: Final = {
    SHA1: "sha1",
    SHA256: "sha256",
    SHA384: "sha384",
    SHA512: "sha512",
    STREEBOG256: "streebog256",
    STREEBOG512: "streebog512",
    STREEBOG256_RU: "streebog256",
    STREEBOG512_RU: "streebog512",
}
DIGEST_OIDS: Final = {
    "sha256": SHA256,
    "sha384": SHA384,
    "sha512": SHA512,
    "streebog256": STREEBOG256,
    "streebog512": STREEBOG512,
}
# Signature algorithm OID → the digest it implies (certificates, CRLs, OCSP).
SIGNATURE_DIGESTS: Final = {
    SHA256_RSA: "sha256",
    SHA384_RSA: "sha384",
    SHA512_RSA: "sha512",
    GOST2015_256_SIGNATURE: "streebog256",
    GOST2015_512_SIGNATURE: "streebog512",
}


class UnsupportedAlgorithm(ValueError):
    """An algorithm this module does not implement (GOST 34.310-2004, RSA-PSS, SHA-1...)."""


def digest(data: bytes, algorithm: str) -> bytes:
    """Hash `data`: "sha256", "sha384", "sha512", "streebog256", "streebog512" or a digest OID.

    Streebog is pure Python (about 7 s per MB): hash a large document once and sign a small
    manifest that carries its hash instead of signing the document itself."""
    name = DIGEST_NAMES.get(algorithm, algorithm)
    if name in ("sha256", "sha384", "sha512"):
        return hashlib.new(name, data).digest()
    if name in ("streebog256", "streebog512"):
        return bytes(gosthash.new(name, data=data).digest())
    raise UnsupportedAlgorithm(f"digest {algorithm}")


# --- GOST 34.10-2015 --------------------------------------------------------------------------


@dataclass(frozen=True)
class Curve:
    name: str
    p: int
    a: int
    b: int
    q: int
    x: int
    y: int
    size: int  # bytes per coordinate

    def add(self, one: "Point", two: "Point") -> "Point":
        if one is None:
            return two
        if two is None:
            return one
        x1, y1 = one
        x2, y2 = two
        p = self.p
        if x1 == x2:
            if (y1 + y2) % p == 0:
                return None
            slope = (3 * x1 * x1 + self.a) * pow(2 * y1, -1, p) % p
        else:
            slope = (y2 - y1) * pow(x2 - x1, -1, p) % p
        x3 = (slope * slope - x1 - x2) % p
        return x3, (slope * (x1 - x3) - y1) % p

    # Jacobian coordinates (X, Y, Z) ~ (X/Z², Y/Z³): one modular inverse per multiplication
    # instead of one per step.
    def _double(self, x: int, y: int, z: int) -> tuple[int, int, int]:
        p = self.p
        if y == 0 or z == 0:
            return 0, 1, 0
        yy = y * y % p
        s = 4 * x * yy % p
        zz = z * z % p
        m = (3 * x * x + self.a * zz * zz) % p
        x3 = (m * m - 2 * s) % p
        return x3, (m * (s - x3) - 8 * yy * yy) % p, 2 * y * z % p

    def _add_affine(self, x1: int, y1: int, z1: int, x2: int, y2: int) -> tuple[int, int, int]:
        p = self.p
        if z1 == 0:
            return x2, y2, 1
        z1z1 = z1 * z1 % p
        h = (x2 * z1z1 - x1) % p
        r = (y2 * z1 * z1z1 - y1) % p
        if h == 0:
            return self._double(x1, y1, z1) if r == 0 else (0, 1, 0)
        hh = h * h % p
        hhh = h * hh % p
        v = x1 * hh % p
        x3 = (r * r - hhh - 2 * v) % p
        return x3, (r * (v - x3) - y1 * hhh) % p, z1 * h % p

    def _affine(self, x: int, y: int, z: int) -> "Point":
        if z == 0:
            return None
        p = self.p
        zi = pow(z, -1, p)
        zi2 = zi * zi % p
        return x * zi2 % p, y * zi2 * zi % p

    def multiply(self, k: int, point: "Point") -> "Point":
        return self.multiply_add(k, point, 0, None)

    def multiply_add(self, k1: int, p1: "Point", k2: int, p2: "Point") -> "Point":
        """k1·P1 + k2·P2 in one pass over the bits (Shamir's trick)."""
        both = self.add(p1, p2) if p1 is not None and p2 is not None else None
        acc = (0, 1, 0)
        for bit in range(max(k1.bit_length(), k2.bit_length()) - 1, -1, -1):
            acc = self._double(*acc)
            b1 = (k1 >> bit) & 1 and p1 is not None
            b2 = (k2 >> bit) & 1 and p2 is not None
            addend = both if b1 and b2 else p1 if b1 else p2 if b2 else None
            if b1 and b2 and both is None:
                continue  # P1 = -P2: the two additions cancel
            if addend is not None:
                acc = self._add_affine(*acc, *addend)
        return self._affine(*acc)

    def on_curve(self, point: tuple[int, int]) -> bool:
        x, y = point
        return (
            0 <= x < self.p
            and 0 <= y < self.p
            and (y * y - x**3 - self.a * x - self.b) % self.p == 0
        )

    @property
    def generator(self) -> tuple[int, int]:
        return self.x, self.y


Point = tuple[int, int] | None


def _curve(name: str, size: int) -> Curve:
    params = _GOST_CURVES[name]
    return Curve(
        name, params["p"], params["a"], params["b"], params["q"], params["x"], params["y"], size
    )


CURVE_256A: Final = _curve("id-tc26-gost-3410-2012-256-paramSetA", 32)
CURVE_512A: Final = _curve("id-tc26-gost-3410-12-512-paramSetA", 64)
# The KZ parameter-set OIDs name the TC26 curves (the same p, a, b, q and base point).
CURVES: Final = {
    GOST2015_256_PARAMS_A: CURVE_256A,
    GOST2015_512_PARAMS_A: CURVE_512A,
    "1.2.643.7.1.2.1.1.1": CURVE_256A,
    "1.2.643.7.1.2.1.2.1": CURVE_512A,
}
KEY_CURVES: Final = {GOST2015_256_KEY: CURVE_256A, GOST2015_512_KEY: CURVE_512A}


def _e(curve: Curve, hashed: bytes) -> int:
    e = int.from_bytes(hashed, "little") % curve.q
    return e or 1


def gost_verify(curve: Curve, public: tuple[int, int], hashed: bytes, signature: bytes) -> bool:
    """Verify a GOST 34.10-2015 signature in the NCA layout (r‖s little-endian, digest LE)."""
    n = curve.size
    if len(signature) != 2 * n or not curve.on_curve(public):
        return False
    r = int.from_bytes(signature[:n], "little")
    s = int.from_bytes(signature[n:], "little")
    return _verify_rs(curve, public, _e(curve, hashed), r, s)


def _verify_rs(curve: Curve, public: tuple[int, int], e: int, r: int, s: int) -> bool:
    q = curve.q
    if not (0 < r < q and 0 < s < q):
        return False
    v = pow(e, -1, q)
    z1 = s * v % q
    z2 = (-r * v) % q
    point = curve.multiply_add(z1, curve.generator, z2, public)
    return point is not None and point[0] % q == r


def gost_verify_rfc4491(
    curve: Curve, public: tuple[int, int], hashed: bytes, signature: bytes
) -> bool:
    """The RFC 4491 reading (s‖r big-endian, digest big-endian), kept only so a test can show
    that it refuses NCA's signatures: the reason the NCA layout above is the one we use."""
    n = curve.size
    if len(signature) != 2 * n:
        return False
    s = int.from_bytes(signature[:n], "big")
    r = int.from_bytes(signature[n:], "big")
    e = int.from_bytes(hashed, "big") % curve.q or 1
    return _verify_rs(curve, public, e, r, s)


def gost_sign(curve: Curve, private: int, hashed: bytes) -> bytes:
    """Sign a digest in the NCA layout (used by the test signer and TestPki)."""
    q = curve.q
    e = _e(curve, hashed)
    while True:
        k = secrets.randbelow(q - 1) + 1
        point = curve.multiply(k, curve.generator)
        if point is None:  # never for 0 < k < q; kept for the type
            continue
        r = point[0] % q
        if r == 0:
            continue
        s = (r * private + k * e) % q
        if s:
            break
    n = curve.size
    return r.to_bytes(n, "little") + s.to_bytes(n, "little")


def gost_public_key(curve: Curve, private: int) -> tuple[int, int]:
    point = curve.multiply(private, curve.generator)
    if point is None:
        raise ValueError("a private key must be in [1, q)")
    return point


def gost_encode_public(curve: Curve, public: tuple[int, int]) -> bytes:
    """x‖y little-endian: the content of the OCTET STRING inside the SPKI's BIT STRING."""
    n = curve.size
    return public[0].to_bytes(n, "little") + public[1].to_bytes(n, "little")


def gost_decode_public(curve: Curve, raw: bytes) -> tuple[int, int]:
    n = curve.size
    if len(raw) != 2 * n:
        raise ValueError("GOST public key of the wrong length")
    return int.from_bytes(raw[:n], "little"), int.from_bytes(raw[n:], "little")


# --- RSA ----------------------------------------------------------------------------------------

_RSA_HASHES: Final[dict[str, hashes.HashAlgorithm]] = {
    "sha256": hashes.SHA256(),
    "sha384": hashes.SHA384(),
    "sha512": hashes.SHA512(),
}


def rsa_verify(spki_der: bytes, digest_name: str, message: bytes, signature: bytes) -> bool:
    """PKCS#1 v1.5 over `message` hashed with `digest_name`."""
    key = load_der_public_key(spki_der)
    if not isinstance(key, rsa.RSAPublicKey):
        raise UnsupportedAlgorithm("not an RSA key")
    if digest_name not in _RSA_HASHES:
        raise UnsupportedAlgorithm(f"RSA with {digest_name}")
    try:
        key.verify(signature, message, padding.PKCS1v15(), _RSA_HASHES[digest_name])
    except InvalidSignature:
        return False
    return True


def rsa_sign(key: rsa.RSAPrivateKey, digest_name: str, message: bytes) -> bytes:
    return key.sign(message, padding.PKCS1v15(), _RSA_HASHES[digest_name])
