"""Integration-module fixtures. Modules, tokens and the signal helpers come from the signal
tests (one definition of "bank A's module"); the CA lives in a per-test data directory."""

from pathlib import Path
from typing import Any

import pytest

from aips.center.signals.tests.conftest import agent, module_a, module_b  # noqa: F401 - fixtures


@pytest.fixture(autouse=True)
def data_dir(settings: Any, tmp_path: Path) -> Path:
    # The CA's files go to AIPS_DATA_DIR/ca/: never the developer's ./var in a test.
    settings.DATA_DIR = tmp_path
    return tmp_path


@pytest.fixture
def center_ca(personas: dict[str, Any]) -> str:
    from aips.center.integrations.services import ca_init
    from aips.core.actors import SystemActor

    return ca_init(actor=SystemActor(label="test"))


@pytest.fixture
def cert_header(settings: Any) -> str:
    """Trust the proxy's client-certificate header, as behind nginx; returns the META key."""
    settings.AIPS_CLIENT_CERT_HEADER = "X-Client-Cert"
    return "HTTP_X_CLIENT_CERT"
