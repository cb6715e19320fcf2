"""verify_cms on NCA RK's real test PKI (judged at NCA_TEST_TIME), on CMS made by Kalkan and by
OpenSSL, and on a CA of our own for the "valid now" cases (R57.9, R57.10)."""

import base64
import contextlib
import random
import shutil
import subprocess
from datetime import timedelta
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from asn1crypto import ocsp as asn1_ocsp
from asn1crypto import pem

from aips.shared.eds import revocation
from aips.shared.eds.signing import sign_cms
from aips.shared.eds.testing import (
    NCA_TEST_TIME,
    NCA_TEST_TIME_RSA,
    TestPki,
    nca_key,
    nca_test_trust,
    vectors_dir,
)
from aips.shared.eds.trust import TrustStore, default_trust_store
from aips.shared.eds.types import EdsRefused, Purpose, Refusal, Role
from aips.shared.eds.verify import parse_cms, split_signers, verify_cms


def refusal(cms: bytes, **kwargs: Any) -> Refusal:
    with pytest.raises(EdsRefused) as caught:
        verify_cms(cms, **kwargs)
    return caught.value.reason


@cache
def rsa_pki() -> TestPki:
    return TestPki(name="AIPS TEST RSA CA")


@cache
def gost_pki() -> TestPki:
    return TestPki(name="AIPS TEST GOST CA", algorithm="gost512")


# --- NCA RK's test keys ---------------------------------------------------------------------------


@pytest.mark.parametrize("detached", [False, True], ids=["attached", "detached"])
def test_r57_9_gost2015_key_signs_a_document_that_verifies(detached: bool) -> None:
    key = nca_key("individual_valid_2015")
    cms = sign_cms(b"document", key=key, detached=detached, signing_time=NCA_TEST_TIME)
    result = verify_cms(
        cms,
        purpose=Purpose.SIGNING,
        data=b"document" if detached else None,
        at=NCA_TEST_TIME,
        trust=nca_test_trust(),
    )
    assert result.content == b"document"
    assert result.algorithm == "gost2015-512"
    assert result.signer.iin == "123456789012"
    assert result.signer.bin == ""
    assert result.signer.roles == frozenset({Role.INDIVIDUAL})
    assert result.signing_time == NCA_TEST_TIME
    assert result.checked_at == NCA_TEST_TIME
    assert len(result.chain) == 3  # signer, NCA GOST 2022 test intermediate, test root
    assert [(e.kind, e.status) for e in result.revocation] == [("crl", "good")]
    assert result.purpose is Purpose.SIGNING


def test_r57_10_gost2015_key_signs_a_nonce_and_its_usage_decides() -> None:
    """individual_valid_2015 is a signing key (nonRepudiation, e-mail protection): it signs the
    nonce, but sign-in wants an authentication key (EKU client auth)."""
    key = nca_key("individual_valid_2015")
    nonce = b"aips-challenge-5f1c"
    cms = sign_cms(nonce, key=key, detached=True, signing_time=NCA_TEST_TIME)
    common: dict[str, Any] = {"data": nonce, "at": NCA_TEST_TIME, "trust": nca_test_trust()}
    assert verify_cms(cms, purpose=Purpose.SIGNING, **common).content == nonce
    assert refusal(cms, purpose=Purpose.AUTHENTICATION, **common) is Refusal.WRONG_KEY_USAGE


@pytest.mark.parametrize("detached", [False, True], ids=["attached", "detached"])
def test_r57_9_rsa_key_signs_a_document_that_verifies(detached: bool) -> None:
    key = nca_key("individual_valid_sign_2004")
    cms = sign_cms(b"document", key=key, detached=detached, signing_time=NCA_TEST_TIME_RSA)
    result = verify_cms(
        cms,
        purpose=Purpose.SIGNING,
        data=b"document" if detached else None,
        trust=nca_test_trust(),
        at=NCA_TEST_TIME_RSA,
    )
    assert result.algorithm == "rsa-sha256"
    assert result.signer.iin == "123456789011"
    assert [(e.kind, e.source, e.status) for e in result.revocation] == [
        ("crl", "crl/nca_rsa_test.crl", "good")
    ]


def test_r57_9_revoked_keys_are_refused_by_the_crl() -> None:
    gost = sign_cms(b"x", key=nca_key("ceo_revoked_2015"), signing_time=NCA_TEST_TIME)
    rsa = sign_cms(b"x", key=nca_key("individual_sign_revoked_2004"), signing_time=NCA_TEST_TIME)
    for cms in (gost, rsa):
        with pytest.raises(EdsRefused) as caught:
            verify_cms(cms, purpose=Purpose.SIGNING, at=NCA_TEST_TIME, trust=nca_test_trust())
        assert caught.value.reason is Refusal.REVOKED
        assert "revoked" in caught.value.detail


def test_r57_9_revoked_key_is_refused_by_nca_s_real_ocsp_answer() -> None:
    cms = sign_cms(b"x", key=nca_key("ceo_revoked_2015"), signing_time=NCA_TEST_TIME)
    answer = (vectors_dir() / "ocsp" / "ocsp_response_ceo_2015_revoked.bin").read_bytes()
    trust = nca_test_trust().without_revocation().extended(ocsp_responses=[("ceo.ocsp", answer)])
    with pytest.raises(EdsRefused) as caught:
        verify_cms(cms, purpose=Purpose.SIGNING, at=NCA_TEST_TIME, trust=trust)
    assert caught.value.reason is Refusal.REVOKED
    assert caught.value.detail.startswith("OCSP ceo.ocsp")


def test_r57_9_ocsp_answer_for_an_unknown_serial_fails_closed() -> None:
    """NCA's responder says "revoked 1970-01-01" for a serial it does not know (here the valid
    individual_valid_2015): that answer refuses, even with a CRL that says good."""
    cms = sign_cms(b"x", key=nca_key("individual_valid_2015"), signing_time=NCA_TEST_TIME)
    answer = (vectors_dir() / "ocsp" / "ocsp_response_individual_2015.bin").read_bytes()
    trust = nca_test_trust().extended(ocsp_responses=[answer])
    assert refusal(cms, purpose=Purpose.SIGNING, at=NCA_TEST_TIME, trust=trust) is Refusal.REVOKED


def test_r57_9_expired_key_is_refused() -> None:
    cms = sign_cms(b"x", key=nca_key("individual_valid_sign_2004"), signing_time=NCA_TEST_TIME)
    with pytest.raises(EdsRefused) as caught:
        verify_cms(cms, purpose=Purpose.SIGNING, at=NCA_TEST_TIME, trust=nca_test_trust())
    assert caught.value.reason is Refusal.EXPIRED
    before = NCA_TEST_TIME_RSA.replace(year=2020)
    assert (
        refusal(cms, purpose=Purpose.SIGNING, at=before, trust=nca_test_trust())
        is Refusal.NOT_YET_VALID
    )


def test_r57_9_iin_of_someone_else_is_refused() -> None:
    cms = sign_cms(b"x", key=nca_key("individual_valid_2015"), signing_time=NCA_TEST_TIME)
    common: dict[str, Any] = {
        "purpose": Purpose.SIGNING,
        "at": NCA_TEST_TIME,
        "trust": nca_test_trust(),
    }
    assert verify_cms(cms, expected_iin="123456789012", **common).signer.iin == "123456789012"
    assert refusal(cms, expected_iin="123456789011", **common) is Refusal.IIN_MISMATCH
    assert refusal(cms, expected_bin="123456789021", **common) is Refusal.BIN_MISMATCH


def test_r57_9_tampered_document_is_refused() -> None:
    key = nca_key("individual_valid_2015")
    detached = sign_cms(b"pay 100", key=key, detached=True, signing_time=NCA_TEST_TIME)
    common: dict[str, Any] = {
        "purpose": Purpose.SIGNING,
        "at": NCA_TEST_TIME,
        "trust": nca_test_trust(),
    }
    assert refusal(detached, data=b"pay 900", **common) is Refusal.CONTENT_MISMATCH
    attached = sign_cms(b"pay 100", key=key, signing_time=NCA_TEST_TIME)
    assert refusal(attached, data=b"pay 900", **common) is Refusal.CONTENT_MISMATCH
    tampered = attached.replace(b"pay 100", b"pay 900")
    assert refusal(tampered, **common) is Refusal.CONTENT_MISMATCH
    assert refusal(detached, **common) is Refusal.MALFORMED  # detached without its data


def test_r57_9_a_broken_signature_value_is_refused() -> None:
    cms = sign_cms(b"x", key=nca_key("individual_valid_2015"), signing_time=NCA_TEST_TIME)
    signature = parse_cms(cms).signers[0].signature
    broken = cms.replace(signature, bytes([signature[0] ^ 1]) + signature[1:])
    common: dict[str, Any] = {
        "purpose": Purpose.SIGNING,
        "at": NCA_TEST_TIME,
        "trust": nca_test_trust(),
    }
    assert refusal(broken, **common) is Refusal.BAD_SIGNATURE


# --- CMS made by other software -----------------------------------------------------------------


def test_r57_9_cms_made_by_kalkan_verifies_signer_by_signer() -> None:
    raw = (vectors_dir() / "cms" / "kalkan_gost2015_rsa_attached.p7s").read_bytes()
    assert refusal(raw, purpose=Purpose.SIGNING, trust=nca_test_trust()) is Refusal.MALFORMED
    gost, rsa = split_signers(raw)
    signed_at = parse_cms(gost).signers[0].signing_time
    result = verify_cms(gost, purpose=Purpose.SIGNING, at=signed_at, trust=nca_test_trust())
    assert result.content == b"test123"
    assert result.algorithm == "gost2015-512"
    assert result.signer.iin == "123456789012"
    # The RSA signer signed after its certificate expired.
    rsa_at = parse_cms(rsa).signers[0].signing_time
    assert (
        refusal(rsa, purpose=Purpose.SIGNING, at=rsa_at, trust=nca_test_trust()) is Refusal.EXPIRED
    )
    assert verify_cms(rsa, purpose=Purpose.SIGNING, at=NCA_TEST_TIME_RSA, trust=nca_test_trust())


def test_r57_9_detached_cms_made_by_kalkan_verifies() -> None:
    raw = (vectors_dir() / "cms" / "kalkan_gost2015_rsa_detached.p7s").read_bytes()
    gost = split_signers(raw)[0]
    at = parse_cms(gost).signers[0].signing_time
    common: dict[str, Any] = {"purpose": Purpose.SIGNING, "at": at, "trust": nca_test_trust()}
    assert verify_cms(gost, data=b"test123", **common).signer.iin == "123456789012"
    assert refusal(gost, data=b"test124", **common) is Refusal.CONTENT_MISMATCH


@pytest.fixture
def openssl() -> str:
    path = shutil.which("openssl")
    if path is None:
        pytest.skip("openssl is not installed")
    return path


@pytest.mark.parametrize("detached", [False, True], ids=["attached", "detached"])
def test_r57_9_cms_made_by_openssl_verifies(openssl: str, tmp_path: Path, detached: bool) -> None:
    pki = rsa_pki()
    key = pki.issue(iin="880101300456")
    key_file, cert_file = pki.write_pem(key, tmp_path)
    document = tmp_path / "document.txt"
    document.write_bytes("Акт № 7\r\n".encode())
    out = tmp_path / "document.p7s"
    command = [openssl, "cms", "-sign", "-binary", "-md", "sha256", "-in", str(document)]
    command += [
        "-signer",
        str(cert_file),
        "-inkey",
        str(key_file),
        "-outform",
        "DER",
        "-out",
        str(out),
    ]
    if not detached:
        command.append("-nodetach")
    subprocess.run(command, check=True, capture_output=True)  # noqa: S603 - fixed arguments
    result = verify_cms(
        out.read_bytes(),
        purpose=Purpose.SIGNING,
        data=document.read_bytes() if detached else None,
        trust=pki.trust(),
    )
    assert result.content == document.read_bytes()
    assert result.signer.iin == "880101300456"


def test_r57_9_openssl_verifies_our_rsa_cms(openssl: str, tmp_path: Path) -> None:
    pki = rsa_pki()
    key = pki.issue()
    (tmp_path / "sig.p7s").write_bytes(sign_cms(b"hello", key=key))
    (tmp_path / "root.pem").write_bytes(pem.armor("CERTIFICATE", pki.root.certificate))
    result = subprocess.run(  # noqa: S603 - fixed arguments
        [
            openssl,
            "cms",
            "-verify",
            "-inform",
            "DER",
            "-in",
            str(tmp_path / "sig.p7s"),
            "-CAfile",
            str(tmp_path / "root.pem"),
            "-purpose",
            "any",
        ],
        capture_output=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == b"hello"


def test_pem_and_base64_input_are_accepted() -> None:
    pki = rsa_pki()
    cms = sign_cms(b"x", key=pki.issue())
    for form in (pem.armor("CMS", cms), base64.b64encode(cms), base64.encodebytes(cms)):
        assert verify_cms(form, purpose=Purpose.SIGNING, trust=pki.trust()).content == b"x"


# --- A CA of our own -----------------------------------------------------------------------------


@pytest.mark.parametrize("make_pki", [rsa_pki, gost_pki], ids=["rsa", "gost512"])
def test_r57_10_authentication_key_signs_in_and_signing_key_does_not(make_pki: Any) -> None:
    pki = make_pki()
    auth = pki.issue(purpose=Purpose.AUTHENTICATION, iin="900101300123")
    signing = pki.issue(purpose=Purpose.SIGNING, iin="900101300123")
    nonce = b"nonce-1"
    ok = verify_cms(
        sign_cms(nonce, key=auth, detached=True),
        purpose=Purpose.AUTHENTICATION,
        data=nonce,
        trust=pki.trust(),
        expected_iin="900101300123",
    )
    assert ok.signer.iin == "900101300123"
    cms = sign_cms(nonce, key=signing, detached=True)
    assert (
        refusal(cms, purpose=Purpose.AUTHENTICATION, data=nonce, trust=pki.trust())
        is Refusal.WRONG_KEY_USAGE
    )
    # And an authentication key does not sign documents.
    cms = sign_cms(b"doc", key=auth)
    assert refusal(cms, purpose=Purpose.SIGNING, trust=pki.trust()) is Refusal.WRONG_KEY_USAGE


def test_r57_10_a_key_for_both_purposes_and_the_organization_roles() -> None:
    pki = rsa_pki()
    head = pki.issue(purpose=None, bin="123456789021", organization='АО "ТЕСТ"')
    for purpose in Purpose:
        result = verify_cms(
            sign_cms(b"x", key=head),
            purpose=purpose,
            trust=pki.trust(),
            expected_bin="123456789021",
        )
        assert result.signer.bin == "123456789021"
        assert result.signer.organization == 'АО "ТЕСТ"'
        assert result.signer.roles == frozenset({Role.EMPLOYEE_OF_LEGAL_ENTITY, Role.HEAD})


def test_r57_9_a_certificate_of_a_ca_that_is_not_configured_is_refused() -> None:
    stranger = TestPki(name="AIPS TEST CA")  # the same name as a trusted one, another key
    cms = sign_cms(b"x", key=stranger.issue())
    assert refusal(cms, purpose=Purpose.SIGNING, trust=rsa_pki().trust()) is Refusal.UNKNOWN_CA
    assert refusal(cms, purpose=Purpose.SIGNING, trust=nca_test_trust()) is Refusal.UNKNOWN_CA
    # Certificates inside the CMS are never trusted: the stranger's root does not help.
    assert refusal(cms, purpose=Purpose.SIGNING, trust=TrustStore()) is Refusal.UNKNOWN_CA


def test_r57_9_expired_and_not_yet_valid_now() -> None:
    pki = rsa_pki()
    old = pki.issue(not_before=pki.now - timedelta(days=400), not_after=pki.now - timedelta(days=1))
    assert (
        refusal(sign_cms(b"x", key=old), purpose=Purpose.SIGNING, trust=pki.trust())
        is Refusal.EXPIRED
    )
    early = pki.issue(not_before=pki.now + timedelta(days=1))
    assert (
        refusal(sign_cms(b"x", key=early), purpose=Purpose.SIGNING, trust=pki.trust())
        is Refusal.NOT_YET_VALID
    )


def test_r57_9_revocation_by_crl_delta_crl_and_ocsp() -> None:
    pki = TestPki()
    revoked = pki.issue()
    pki.revoke(revoked)
    late = pki.issue()
    pki.revoke(late, delta=True)
    good = pki.issue()
    sign = sign_cms  # short
    assert (
        refusal(sign(b"x", key=revoked), purpose=Purpose.SIGNING, trust=pki.trust())
        is Refusal.REVOKED
    )
    # Only the delta CRL knows about `late`.
    assert verify_cms(sign(b"x", key=late), purpose=Purpose.SIGNING, trust=pki.trust())
    with_delta = pki.trust(delta=True)
    assert (
        refusal(sign(b"x", key=late), purpose=Purpose.SIGNING, trust=with_delta) is Refusal.REVOKED
    )
    result = verify_cms(sign(b"x", key=good), purpose=Purpose.SIGNING, trust=with_delta)
    assert [e.kind for e in result.revocation] == ["crl", "delta_crl"]
    # OCSP answers, from the CA or from a responder it delegated.
    only_ocsp = pki.trust(crl=False, ocsp_for=[good, revoked])
    assert [
        e.kind
        for e in verify_cms(
            sign(b"x", key=good), purpose=Purpose.SIGNING, trust=only_ocsp
        ).revocation
    ] == ["ocsp"]
    assert (
        refusal(sign(b"x", key=revoked), purpose=Purpose.SIGNING, trust=only_ocsp)
        is Refusal.REVOKED
    )
    delegated = pki.trust(crl=False).extended(
        ocsp_responses=[pki.ocsp_response(good, delegated=True)]
    )
    assert verify_cms(sign(b"x", key=good), purpose=Purpose.SIGNING, trust=delegated)
    # An answer signed by another CA's key proves nothing.
    forged = TestPki().ocsp_response(good, status="good")
    assert (
        refusal(
            sign(b"x", key=good),
            purpose=Purpose.SIGNING,
            trust=pki.trust(crl=False).extended(ocsp_responses=[forged]),
        )
        is Refusal.REVOCATION_UNKNOWN
    )


def test_r57_9_revocation_unknown_is_refused_by_default_and_accepted_by_the_setting(
    settings: Any,
) -> None:
    pki = rsa_pki()
    cms = sign_cms(b"x", key=pki.issue())
    no_sources = pki.trust(crl=False)
    stale = pki.trust(crl=False).extended(
        crls=[
            pki.crl(
                this_update=pki.now - timedelta(days=9), next_update=pki.now - timedelta(days=2)
            )
        ]
    )
    assert refusal(cms, purpose=Purpose.SIGNING, trust=no_sources) is Refusal.REVOCATION_UNKNOWN
    assert refusal(cms, purpose=Purpose.SIGNING, trust=stale) is Refusal.REVOCATION_UNKNOWN
    settings.AIPS_EDS_REVOCATION_UNKNOWN = "accept"
    result = verify_cms(cms, purpose=Purpose.SIGNING, trust=no_sources)
    assert result.revocation == ()


def test_r57_9_a_signing_time_before_the_revocation_does_not_help_without_at() -> None:
    """Without `at`, validity is judged at the signing time but revocation up to now: a key
    revoked an hour ago cannot sign today with yesterday's date and pass."""
    pki = TestPki()
    key = pki.issue()
    pki.revoke(key, at=pki.now - timedelta(hours=1))
    backdated = sign_cms(b"x", key=key, signing_time=pki.now - timedelta(days=1))
    assert refusal(backdated, purpose=Purpose.SIGNING, trust=pki.trust()) is Refusal.REVOKED
    # An auditor who asks about yesterday explicitly gets yesterday's answer.
    at = pki.now - timedelta(days=1)
    assert verify_cms(backdated, purpose=Purpose.SIGNING, at=at, trust=pki.trust())
    future = sign_cms(b"x", key=pki.issue(), signing_time=pki.now + timedelta(days=1))
    assert refusal(future, purpose=Purpose.SIGNING, trust=pki.trust()) is Refusal.NOT_YET_VALID


def test_r57_9_chain_through_an_intermediate_checks_its_crl_too() -> None:
    pki = TestPki()
    intermediate = pki.issue_ca()
    key = pki.issue(issuer=intermediate)
    cms = sign_cms(b"x", key=key)
    trust = pki.trust(extra_certificates=[intermediate.certificate]).extended(
        crls=[pki.crl(issuer=intermediate)]
    )
    assert len(verify_cms(cms, purpose=Purpose.SIGNING, trust=trust).chain) == 3
    # The intermediate is not in the store: the chain cannot be built.
    assert refusal(cms, purpose=Purpose.SIGNING, trust=pki.trust()) is Refusal.UNKNOWN_CA
    # The root's CRL revokes the intermediate: everything under it is refused.
    pki.revoke(intermediate)
    trust = pki.trust(extra_certificates=[intermediate.certificate]).extended(
        crls=[pki.crl(issuer=intermediate)]
    )
    assert refusal(cms, purpose=Purpose.SIGNING, trust=trust) is Refusal.REVOKED


def test_r57_9_online_ocsp_is_used_only_when_switched_on_and_cached(
    settings: Any, monkeypatch: Any
) -> None:
    pki = TestPki()
    key = pki.issue()
    cms = sign_cms(b"x", key=key)
    calls: list[str] = []

    def fake_post(url: str, body: bytes, timeout: float) -> bytes:
        calls.append(url)
        request = asn1_ocsp.OCSPRequest.load(body)
        nonce = request["tbs_request"]["request_extensions"][0]["extn_value"].parsed.native
        return pki.ocsp_response(key, nonce=nonce)

    monkeypatch.setattr(revocation, "post_ocsp", fake_post)
    revocation.clear_cache()
    trust = pki.trust(crl=False)
    assert refusal(cms, purpose=Purpose.SIGNING, trust=trust) is Refusal.REVOCATION_UNKNOWN
    assert calls == []  # off by default: no network
    settings.AIPS_EDS_OCSP_ONLINE = True
    result = verify_cms(cms, purpose=Purpose.SIGNING, trust=trust)
    assert [(e.kind, e.source, e.status) for e in result.revocation] == [
        ("ocsp", pki.ocsp_url, "good")
    ]
    verify_cms(cms, purpose=Purpose.SIGNING, trust=trust)
    assert calls == [pki.ocsp_url]  # the second answer came from the cache
    settings.AIPS_EDS_OCSP_URL_OVERRIDE = "http://ocsp.override.invalid/"
    revocation.clear_cache()
    verify_cms(cms, purpose=Purpose.SIGNING, trust=trust)
    assert calls[-1] == "http://ocsp.override.invalid/"
    revocation.clear_cache()


def test_default_trust_store_reads_the_setting_and_rereads_changes(
    settings: Any, tmp_path: Path
) -> None:
    pki = TestPki()
    cms = sign_cms(b"x", key=pki.issue())
    settings.AIPS_EDS_TRUST_DIR = str(tmp_path)
    assert refusal(cms, purpose=Purpose.SIGNING) is Refusal.UNKNOWN_CA
    pki.write_trust_dir(tmp_path)
    (tmp_path / "README.txt").write_text("ignored")
    (tmp_path / "broken.crl").write_bytes(b"not a CRL")
    assert verify_cms(cms, purpose=Purpose.SIGNING).signer.iin == "900101300123"
    assert any("broken.crl" in problem for problem in default_trust_store().problems)


# --- Malformed input -----------------------------------------------------------------------------


def test_r57_9_malformed_input_is_refused_never_crashes() -> None:
    rng = random.Random(57_9)
    pki = rsa_pki()
    trust = pki.trust()
    good = sign_cms(b"fuzz", key=pki.issue())
    for size in (0, 1, 2, 5, 40, 300):
        junk = bytes(rng.randrange(256) for _ in range(size))
        assert refusal(junk, purpose=Purpose.SIGNING, trust=trust) is Refusal.MALFORMED
        assert refusal(b"\x30" + junk, purpose=Purpose.SIGNING, trust=trust) is Refusal.MALFORMED
    for text in (b"-----BEGIN CMS-----\n!!\n-----END CMS-----", b"not base64 at all", b"MIIB" * 3):
        assert refusal(text, purpose=Purpose.SIGNING, trust=trust) is Refusal.MALFORMED
    for _ in range(150):
        mutated = bytearray(good)
        for _ in range(rng.randrange(1, 4)):
            mutated[rng.randrange(len(mutated))] = rng.randrange(256)
        with contextlib.suppress(EdsRefused):
            verify_cms(bytes(mutated), purpose=Purpose.SIGNING, trust=trust)
    for cut in (10, len(good) // 2, len(good) - 1):
        assert refusal(good[:cut], purpose=Purpose.SIGNING, trust=trust) is Refusal.MALFORMED


def test_malformed_gost_structures_are_refused() -> None:
    pki = gost_pki()
    cms = sign_cms(b"x", key=pki.issue())
    rng = random.Random(2015)
    for _ in range(15):
        mutated = bytearray(cms)
        mutated[rng.randrange(len(mutated))] ^= 1 << rng.randrange(8)
        with contextlib.suppress(EdsRefused):
            verify_cms(bytes(mutated), purpose=Purpose.SIGNING, trust=pki.trust())
