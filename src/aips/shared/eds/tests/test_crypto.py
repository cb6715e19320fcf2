"""The primitives under the EDS module: NCA's GOST byte layout, pinned on NCA's real test PKI,
PKCS#12 containers, digests."""

import hashlib

import pytest

from aips.shared.eds import algorithms
from aips.shared.eds.certificates import load_certificates, parse_certificate, signed_by
from aips.shared.eds.keystore import KeystoreError, load_pkcs12, rc2_decrypt_cbc
from aips.shared.eds.testing import NCA_PASSWORDS, nca_key, vectors_dir


def _cert(name: str):  # type: ignore[no-untyped-def]
    return load_certificates((vectors_dir() / name).read_bytes())[0]


def test_r57_9_real_nca_gost_intermediate_verifies_against_the_test_root() -> None:
    root = _cert("ca/root_test_gost_2022.cer")
    intermediate = _cert("ca/nca_gost2015_test.cer")
    assert root.public_key.curve is algorithms.CURVE_512A
    assert intermediate.signature_algorithm == algorithms.GOST2015_512_SIGNATURE
    assert signed_by(intermediate, root)
    assert signed_by(root, root)  # the root is self-signed
    assert not signed_by(root, intermediate)


def test_r57_9_the_rfc4491_layout_refuses_nca_signatures() -> None:
    """Why the NCA layout (r‖s little-endian, digest little-endian) is the one we implement: the
    RFC 4491 reading of the very same certificate fails."""
    root = _cert("ca/root_test_gost_2022.cer")
    intermediate = _cert("ca/nca_gost2015_test.cer")
    curve, point = root.public_key.curve, root.public_key.point
    assert curve is not None
    assert point is not None
    hashed = algorithms.digest(intermediate.tbs, "streebog512")
    assert algorithms.gost_verify(curve, point, hashed, intermediate.signature)
    assert not algorithms.gost_verify_rfc4491(curve, point, hashed, intermediate.signature)
    # Nor does the NCA layout with a big-endian digest.
    assert not algorithms.gost_verify(curve, point, hashed[::-1], intermediate.signature)


@pytest.mark.parametrize(
    "curve", [algorithms.CURVE_256A, algorithms.CURVE_512A], ids=["256", "512"]
)
def test_gost_sign_and_verify_round_trip(curve: algorithms.Curve) -> None:
    private = 0x1234567890ABCDEF % curve.q
    public = algorithms.gost_public_key(curve, private)
    assert curve.on_curve(public)
    name = "streebog512" if curve.size == 64 else "streebog256"
    hashed = algorithms.digest(b"document", name)
    signature = algorithms.gost_sign(curve, private, hashed)
    assert len(signature) == 2 * curve.size
    assert algorithms.gost_verify(curve, public, hashed, signature)
    assert not algorithms.gost_verify(curve, public, algorithms.digest(b"other", name), signature)
    # One bit flipped: setting the last byte to 0 left a signature that ended in 0 (one in 256,
    # the signature being randomized) unchanged, and the test failed.
    tampered = signature[:-1] + bytes([signature[-1] ^ 1])
    assert not algorithms.gost_verify(curve, public, hashed, tampered)
    assert not algorithms.gost_verify(curve, public, hashed, b"\x00" * len(signature))
    encoded = algorithms.gost_encode_public(curve, public)
    assert algorithms.gost_decode_public(curve, encoded) == public


def test_r57_9_nca_pkcs12_containers_open_for_gost_and_rsa() -> None:
    gost = nca_key("individual_valid_2015")
    assert gost.gost_key is not None
    assert gost.algorithm == "gost2015-512"
    assert gost.cert.iin == "123456789012"
    curve = gost.cert.public_key.curve
    assert curve is not None
    # The key opened from the container is the certificate's.
    assert algorithms.gost_public_key(curve, gost.gost_key) == gost.cert.public_key.point
    rsa = nca_key("individual_valid_sign_2004")
    assert rsa.rsa_key is not None
    assert rsa.algorithm == "rsa-sha256"
    assert rsa.cert.public_key.rsa_numbers == (
        rsa.rsa_key.public_key().public_numbers().n,
        rsa.rsa_key.public_key().public_numbers().e,
    )
    head = nca_key("ceo_revoked_2015")
    assert head.cert.bin == "123456789021"
    assert head.cert.iin == "123456789011"


def test_pkcs12_wrong_password_and_garbage_are_refused() -> None:
    path = vectors_dir() / "keys" / "individual_valid_2015.p12"
    with pytest.raises(KeystoreError):
        load_pkcs12(path, "wrong")
    with pytest.raises(KeystoreError):
        load_pkcs12(b"\x30\x03\x02\x01\x03", NCA_PASSWORDS["individual_valid_2015"])
    with pytest.raises(KeystoreError):
        # GOST 34.310-2004 keys are not supported (no GOST 34.311-95 hash here).
        load_pkcs12(vectors_dir() / "keys" / "ceo_sign_revoked_2004.p12", "Qwerty12")


def test_rc2_matches_the_rfc2268_test_vector() -> None:
    # RFC 2268 section 5: key 88bca90e90875a, effective bits 64, plaintext 0, ciphertext
    # 6ccf4308974c267f. Decrypting the ciphertext in CBC with a zero IV gives the plaintext back.
    key = bytes.fromhex("88bca90e90875a")
    plain = rc2_decrypt_cbc(key, 64, b"\x00" * 8, bytes.fromhex("6ccf4308974c267f"))
    assert plain == b"\x00" * 8


def test_digest_helper() -> None:
    assert algorithms.digest(b"abc", "sha256") == hashlib.sha256(b"abc").digest()
    assert algorithms.digest(b"abc", algorithms.SHA256) == hashlib.sha256(b"abc").digest()
    assert len(algorithms.digest(b"abc", "streebog512")) == 64
    assert len(algorithms.digest(b"abc", algorithms.STREEBOG256)) == 32
    with pytest.raises(algorithms.UnsupportedAlgorithm):
        algorithms.digest(b"abc", "md5")


def test_nca_subject_fields_and_roles() -> None:
    head = parse_certificate(nca_key("ceo_revoked_2015").certificate)
    assert head.iin == "123456789011"
    assert head.bin == "123456789021"
    assert {role.value for role in head.roles} == {"1.2.398.3.3.4.1.2", "1.2.398.3.3.4.1.2.1"}
    auth = _cert("certs/individual_valid_sign_2004_rsa_auth.cer")
    assert "1.3.6.1.5.5.7.3.2" in auth.eku
    assert auth.bin == ""
