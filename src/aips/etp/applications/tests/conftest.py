"""The applications' fixtures: the server's clock and a test CA the platform trusts."""

from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from aips.etp.applications import clock
from aips.shared.eds.testing import TestPki

NOW = datetime.fromisoformat("2026-12-01T10:00:00+05:00")


@pytest.fixture
def at(monkeypatch: pytest.MonkeyPatch) -> Any:
    """The server's clock, set by the test."""
    moment = {"now": NOW}
    monkeypatch.setattr(clock, "now", lambda: moment["now"])
    return moment


@pytest.fixture
def pki(settings: Any, tmp_path: Path) -> TestPki:
    pki = TestPki()
    settings.AIPS_EDS_TRUST_DIR = str(pki.write_trust_dir(tmp_path / "eds-trust"))
    return pki
