import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.pki import Issued, TestCA
from tests.stub import TOKEN, StubServer

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="session")
def ca(tmp_path_factory: pytest.TempPathFactory) -> TestCA:
    return TestCA(tmp_path_factory.mktemp("ca"))


@pytest.fixture(scope="session")
def server_cert(ca: TestCA) -> Issued:
    return ca.issue("localhost")


@pytest.fixture
def stub(server_cert: Issued) -> Iterator[StubServer]:
    server = StubServer(server_cert.cert, server_cert.key)
    yield server
    server.stop()


def toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k} = {toml_value(v)}" for k, v in value.items()) + "}"
    return repr(value)


def write_config(
    directory: Path,
    *,
    url: str,
    ca_file: Path,
    inputs: list[dict[str, Any]],
    server: dict[str, Any] | None = None,
    spool: dict[str, Any] | None = None,
    agent: dict[str, Any] | None = None,
    detectors: str = "",
) -> Path:
    lines = ["[agent]", 'name = "test-agent"', f"state_dir = {toml_value(str(directory))}"]
    lines += [f"{k} = {toml_value(v)}" for k, v in (agent or {}).items()]
    settings: dict[str, Any] = {
        "url": url,
        "ca_file": str(ca_file),
        "token": TOKEN,
        "backoff_initial": 0.05,
        "backoff_max": 0.5,
        "heartbeat_seconds": 1,
    }
    settings.update(server or {})
    lines += ["", "[server]"]
    lines += [f"{k} = {toml_value(v)}" for k, v in settings.items() if v is not None]
    if spool:
        lines += ["", "[spool]"] + [f"{k} = {toml_value(v)}" for k, v in spool.items()]
    if detectors:
        lines += ["", detectors]
    for item in inputs:
        lines += ["", "[[inputs]]"] + [f"{k} = {toml_value(v)}" for k, v in item.items()]
    path = directory / "agent.toml"
    path.write_text("\n".join(lines) + "\n")
    return path
