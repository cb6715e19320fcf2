"""`aips eds verify` for auditors, the stored signature and its bundle (R57.9)."""

import io
import shutil
import subprocess
import zipfile
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from asn1crypto import pem
from django.core.management import CommandError, call_command

from aips.shared.accounts.models import User
from aips.shared.audit.models import AuditEvent
from aips.shared.eds.bundle import export_bundle
from aips.shared.eds.models import ImmutableError, RevocationRecord, Signature
from aips.shared.eds.services import signature_store
from aips.shared.eds.signing import sign_cms
from aips.shared.eds.testing import NCA_TEST_TIME, TestPki, nca_key, vectors_dir
from aips.shared.eds.types import Purpose
from aips.shared.eds.verify import verify_cms


def run(*args: str) -> tuple[int, str]:
    out = StringIO()
    try:
        call_command("eds", "verify", *args, stdout=out, stderr=StringIO())
    except CommandError as exc:
        return exc.returncode, out.getvalue() + str(exc)
    return 0, out.getvalue()


@pytest.fixture
def nca_trust_dir(tmp_path: Path) -> Path:
    target = tmp_path / "trust"
    shutil.copytree(vectors_dir() / "ca", target / "ca")
    shutil.copytree(vectors_dir() / "crl", target / "crl")
    return target


def test_r57_9_command_verifies_kalkan_cms_and_prints_signer_chain_and_evidence(
    nca_trust_dir: Path, tmp_path: Path
) -> None:
    data = tmp_path / "content.bin"
    data.write_bytes(b"test123")
    cms = vectors_dir() / "cms" / "kalkan_gost2015_rsa_detached.p7s"
    code, out = run(str(cms), "--data", str(data), "--trust", str(nca_trust_dir))
    # Two signers: the GOST one is valid, the RSA one signed after its certificate expired.
    assert code == 1
    assert "Result: VALID" in out
    assert "IIN: 123456789012" in out
    assert "gost2015-512" in out
    assert "ҰЛТТЫҚ КУӘЛАНДЫРУШЫ ОРТАЛЫҚ (GOST) TEST 2022" in out
    assert "crl crl/nca_gost2022_test.crl: good" in out
    assert "Result: REFUSED (expired)" in out
    assert "The certificate had expired at the time of signing." in out


def test_r57_9_command_exit_codes(nca_trust_dir: Path, tmp_path: Path) -> None:
    key = nca_key("individual_valid_2015")
    good = tmp_path / "good.p7s"
    good.write_bytes(pem.armor("CMS", sign_cms(b"doc", key=key, signing_time=NCA_TEST_TIME)))
    code, out = run(str(good), "--trust", str(nca_trust_dir))
    assert code == 0, out
    assert "Signing time: 2022-09-01T12:00:00Z" in out
    # The same signature judged a year later: the certificate has expired.
    code, out = run(str(good), "--trust", str(nca_trust_dir), "--at", "2023-09-01T00:00:00Z")
    assert code == 1
    assert "expired" in out
    # Someone else's IIN expected.
    code, out = run(str(good), "--trust", str(nca_trust_dir), "--expect-iin", "123456789011")
    assert code == 1
    assert "iin_mismatch" in out
    # Sign-in needs an authentication key.
    code, out = run(str(good), "--trust", str(nca_trust_dir), "--purpose", "authentication")
    assert code == 1
    assert "wrong_key_usage" in out
    revoked = tmp_path / "revoked.p7s"
    revoked.write_bytes(
        sign_cms(b"doc", key=nca_key("ceo_revoked_2015"), signing_time=NCA_TEST_TIME)
    )
    code, out = run(str(revoked), "--trust", str(nca_trust_dir))
    assert code == 1
    assert "REFUSED (revoked)" in out
    junk = tmp_path / "junk.p7s"
    junk.write_bytes(b"\x30\x03junk")
    assert run(str(junk), "--trust", str(nca_trust_dir))[0] == 1
    assert run(str(tmp_path / "missing.p7s"))[0] == 2
    assert run(str(good), "--trust", str(tmp_path / "nowhere"))[0] == 2
    assert run(str(good), "--at", "yesterday")[0] == 2


@pytest.fixture
def stored(personas: dict[str, User]) -> tuple[TestPki, Signature, bytes]:
    pki = TestPki(name="AIPS BUNDLE CA")
    key = pki.issue(
        iin="850101300111", bin="123456789021", organization="Bank A", purpose=Purpose.SIGNING
    )
    content = "Решение № 1".encode()
    cms = sign_cms(content, key=key, detached=True)
    verification = verify_cms(
        cms, purpose=Purpose.SIGNING, data=content, trust=pki.trust(delta=True)
    )
    signature = signature_store(actor=personas["bank_a_head"], verification=verification, cms=cms)
    return pki, signature, content


def test_r57_9_a_stored_signature_keeps_its_evidence_and_never_changes(
    personas: dict[str, User], stored: tuple[TestPki, Signature, bytes]
) -> None:
    _pki, signature, content = stored
    assert signature.signer_iin == "850101300111"
    assert signature.signer_bin == "123456789021"
    assert signature.purpose == "signing"
    assert signature.algorithm == "rsa-sha256"
    assert len(signature.chain_certificates) == 2
    assert [r.kind for r in RevocationRecord.objects.filter(signature=signature)] == [
        "crl",
        "delta_crl",
    ]
    event = AuditEvent.objects.get(event="eds:signature_stored", target_id=str(signature.pk))
    assert event.details["iin"] == "850101300111"
    assert event.organization_id == personas["bank_a_head"].organization_id
    # Who sees it: the signer's organization and the center, not another bank.
    assert Signature.objects.visible_to(personas["bank_a_viewer"]).filter(pk=signature.pk).exists()
    assert Signature.objects.visible_to(personas["center_analyst"]).filter(pk=signature.pk).exists()
    assert (
        not Signature.objects.visible_to(personas["bank_b_head"]).filter(pk=signature.pk).exists()
    )
    signature.signer_iin = "000000000000"
    with pytest.raises(ImmutableError):
        signature.save()
    with pytest.raises(ImmutableError):
        Signature.objects.filter(pk=signature.pk).update(signer_iin="000000000000")
    with pytest.raises(ImmutableError):
        signature.delete()
    _ = content


def test_r57_9_bundle_round_trip(
    stored: tuple[TestPki, Signature, bytes], tmp_path: Path, settings: Any
) -> None:
    pki, signature, content = stored
    with pytest.raises(ValueError, match="not the one"):
        export_bundle(signature, content + b" ")
    archive = tmp_path / "bundle.zip"
    archive.write_bytes(export_bundle(signature, content))
    with zipfile.ZipFile(archive) as opened:
        names = sorted(opened.namelist())
        opened.extractall(tmp_path / "unzipped")
    assert names == [
        "README.txt",
        "chain/01-AIPS_BUNDLE_CA.cer",
        "content.bin",
        "revocation/01-crl.crl",
        "revocation/02-delta_crl.crl",
        "signature.p7s",
    ]
    root = tmp_path / "unzipped"
    readme = (root / "README.txt").read_text()
    assert (
        "aips eds verify signature.p7s --data content.bin --trust chain/ --trust revocation/"
        in readme
    )
    assert signature.certificate_fingerprint in readme
    # As the README says, from the unzipped directory.
    at = signature.checked_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    code, out = run(
        str(root / "signature.p7s"),
        "--data",
        str(root / "content.bin"),
        "--trust",
        str(root / "chain"),
        "--trust",
        str(root / "revocation"),
        "--at",
        at,
    )
    assert code == 0, out
    assert "IIN: 850101300111" in out
    assert "BIN: 123456789021" in out
    assert "delta_crl 02-delta_crl.crl: good" in out
    # The zip directly, and the directory, against the configured store (the CA's root only: the
    # bundle brings its own revocation evidence).
    trust_dir = tmp_path / "configured"
    trust_dir.mkdir()
    (trust_dir / "root.cer").write_bytes(pki.root.certificate)
    settings.AIPS_EDS_TRUST_DIR = str(trust_dir)
    assert run(str(archive))[0] == 0
    assert run(str(root))[0] == 0
    # A bundle whose content was changed is refused.
    (root / "content.bin").write_bytes(content + b"!")
    code, out = run(str(root))
    assert code == 1
    assert "content_mismatch" in out


def test_r57_9_openssl_verifies_an_rsa_bundle_as_its_readme_says(
    stored: tuple[TestPki, Signature, bytes], tmp_path: Path
) -> None:
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("openssl is not installed")
    _pki, signature, content = stored
    with zipfile.ZipFile(io.BytesIO(export_bundle(signature, content))) as opened:
        opened.extractall(tmp_path)
    ca = b"".join(
        pem.armor("CERTIFICATE", p.read_bytes()) for p in sorted((tmp_path / "chain").glob("*.cer"))
    )
    (tmp_path / "ca.pem").write_bytes(ca)
    result = subprocess.run(  # noqa: S603 - fixed arguments, as in README.txt
        [
            openssl,
            "cms",
            "-verify",
            "-inform",
            "DER",
            "-in",
            "signature.p7s",
            "-content",
            "content.bin",
            "-binary",
            "-CAfile",
            "ca.pem",
            "-partial_chain",
            "-purpose",
            "any",
            "-out",
            "/dev/null",
        ],
        cwd=tmp_path,
        capture_output=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
