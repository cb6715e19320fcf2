"""Test support for EDS-signed approvals (issue 16, item 4): a test CA of our own trusted by the
platform (AIPS_EDS_TRUST_DIR), a head whose IIN is bound through the accounts service, and
their signing key; plus the NCA RK test keys judged at their pinned moment."""

import base64
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import pytest

from aips.shared.accounts import services as account_services
from aips.shared.accounts.models import User
from aips.shared.eds import verify
from aips.shared.eds.keystore import KeyBundle
from aips.shared.eds.testing import TestPki, nca_key, nca_test_trust, sign_cms
from aips.shared.eds.types import Purpose
from aips.shared.workflow import signing

HEAD_IIN = "850101300111"
OTHER_IIN = "900202400222"


@dataclass
class Eds:
    pki: TestPki
    key: KeyBundle  # the head's signing key (an individual's, no BIN)
    iin: str

    def sign(self, data: bytes, key: KeyBundle | None = None) -> str:
        """A detached CMS over `data`, base64, as NCALayer hands it to the page."""
        return base64.b64encode(sign_cms(data, key=key or self.key, detached=True)).decode()


def bind_iin(person: User, pki: TestPki, iin: str) -> None:
    """Bind `iin` to `person` as an EDS sign-in would: a verified authentication signature."""
    auth = pki.issue(iin=iin, purpose=Purpose.AUTHENTICATION)
    proof = verify.verify_cms(
        sign_cms(b"bind", key=auth, detached=True),
        purpose=Purpose.AUTHENTICATION,
        data=b"bind",
        trust=pki.trust(),
    )
    account_services.iin_bind(actor=person, user=person, eds=proof)


def eds_world(settings: Any, tmp_path: Path, head: User, iin: str = HEAD_IIN) -> Eds:
    """A test CA the platform trusts, `head` bound to `iin`, and the head's signing key."""
    pki = TestPki()
    settings.AIPS_EDS_TRUST_DIR = str(pki.write_trust_dir(tmp_path / "eds-trust"))
    bind_iin(head, pki, iin)
    return Eds(pki=pki, key=pki.issue(iin=iin, purpose=Purpose.SIGNING), iin=iin)


def judge_at(monkeypatch: pytest.MonkeyPatch, moment: Any) -> None:
    """Signatures of approvals judged at `moment` against NCA's test PKI (its keys expired)."""
    monkeypatch.setattr(
        signing, "verify_cms", partial(verify.verify_cms, at=moment, trust=nca_test_trust())
    )


def nca_signing_key(name: str) -> KeyBundle:
    return nca_key(name)
