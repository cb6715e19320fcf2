"""What a bank's administrator meets (issue 13, finding 10): the server's refusal in words, the
module and organization by name, and one line naming the file or address and the reason — exit
code non-zero, never a Python traceback — for a taken syslog port, an unreadable, missing or
invalid agent.toml, and an unreadable token or CA file."""

import os
import shutil
import socket
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import write_config
from tests.pki import TestCA
from tests.stub import StubServer

NOBODY = 65534


def agent(config: Path, *args: str, user: int | None = None) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "aips_agent", "--config", str(config), *args]
    if user is not None:
        setpriv = shutil.which("setpriv")
        assert setpriv is not None
        command = [setpriv, f"--reuid={user}", f"--regid={user}", "--clear-groups", *command]
    return subprocess.run(  # noqa: S603 - our own command, fixed arguments
        command, capture_output=True, text=True, timeout=60, check=False
    )


def one_clear_line(result: subprocess.CompletedProcess[str], *expected: str) -> None:
    assert result.returncode != 0, result.stdout + result.stderr
    assert "Traceback" not in result.stderr + result.stdout, result.stderr
    for text in expected:
        assert text in result.stderr, result.stderr


def config_with(tmp_path: Path, stub: StubServer, ca: TestCA, **kw: Any) -> Path:
    inputs = kw.pop("inputs", [{"name": "eve", "type": "suricata_eve", "path": "eve.json"}])
    return write_config(tmp_path, url=stub.url, ca_file=ca.cert_path, inputs=inputs, **kw)


def test_r67_7_test_connection_names_the_module_and_organization(
    tmp_path: Path, stub: StubServer, ca: TestCA
) -> None:
    result = agent(config_with(tmp_path, stub, ca), "test-connection")
    assert result.returncode == 0, result.stderr
    assert (
        'authenticated: module "SIEM connector" (id 1), organization "АО «Алатау Банк»" (id 2)'
        in result.stdout
    )


def test_r67_7_test_connection_shows_the_servers_refusal_in_words(
    tmp_path: Path, stub: StubServer, ca: TestCA
) -> None:
    config = config_with(tmp_path, stub, ca, server={"token": "aipsa_wrong"})
    result = agent(config, "test-connection")
    assert result.returncode == 1
    assert "HTTP 401 (the token is wrong or revoked" in result.stderr
    assert "Неверный токен агента." in result.stderr
    assert "\\u" not in result.stderr
    assert "b'" not in result.stderr


def test_r67_7_a_taken_syslog_port_is_one_line_naming_the_address(
    tmp_path: Path, stub: StubServer, ca: TestCA
) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp, socket.socket() as tcp:
        udp.bind(("127.0.0.1", 0))
        tcp.bind(("127.0.0.1", 0))
        tcp.listen(1)
        for transport, port in (("udp", udp.getsockname()[1]), ("tcp", tcp.getsockname()[1])):
            config = config_with(
                tmp_path,
                stub,
                ca,
                inputs=[{"name": "siem", "type": "syslog", transport: f"127.0.0.1:{port}"}],
            )
            result = agent(config, "run")
            one_clear_line(
                result,
                f"input 'siem' cannot listen on {transport.upper()} 127.0.0.1:{port}",
                "Address already in use",
            )
            assert len(result.stderr.strip().splitlines()) == 1, result.stderr


def test_r67_7_a_missing_or_invalid_agent_toml_is_one_line_naming_it(tmp_path: Path) -> None:
    missing = tmp_path / "nope.toml"
    one_clear_line(agent(missing, "check-config"), f"{missing}: no such file")
    broken = tmp_path / "broken.toml"
    broken.write_text("[server\n")
    one_clear_line(agent(broken, "run"), f"{broken}: not valid TOML")
    binary = tmp_path / "binary.toml"
    binary.write_bytes(b"\xff\xfe[agent]\n")
    one_clear_line(agent(binary, "status"), f"{binary}: not UTF-8 text")
    directory = tmp_path / "dir.toml"
    directory.mkdir()
    one_clear_line(agent(directory, "run"), f"{directory}: cannot be read")


@pytest.mark.skipif(
    os.geteuid() != 0 and shutil.which("setpriv") is None, reason="needs a second identity"
)
def test_r67_7_an_unreadable_agent_toml_or_token_names_the_file_and_the_user(
    stub: StubServer, ca: TestCA
) -> None:
    # Outside pytest's 0700 temporary root, so that the other identity can reach the files.
    tmp_path = Path(tempfile.mkdtemp(prefix="aips-agent-perm-"))
    os.chmod(tmp_path, 0o755)  # noqa: S103 - the other identity must traverse it
    token = tmp_path / "token"
    token.write_text("aipsa_x\n")
    token.chmod(0o600)
    config = config_with(tmp_path, stub, ca, server={"token": None, "token_file": str(token)})
    user = NOBODY if os.geteuid() == 0 else None
    config.chmod(0o644)
    one_clear_line(
        agent(config, "check-config", user=user),
        f"server.token_file: {token} cannot be read by",
        "permission denied",
    )
    config.chmod(0o600)
    one_clear_line(
        agent(config, "run", user=user), f"{config}: cannot be read by", "permission denied"
    )
    shutil.rmtree(tmp_path)


def test_r67_7_an_unreadable_ca_file_is_one_line_naming_it(
    tmp_path: Path, stub: StubServer, ca: TestCA
) -> None:
    missing = tmp_path / "missing-ca.pem"
    config = write_config(
        tmp_path,
        url=stub.url,
        ca_file=missing,
        inputs=[{"name": "eve", "type": "suricata_eve", "path": "eve.json"}],
    )
    for command in ("check-config", "test-connection", "run"):
        one_clear_line(
            agent(config, command), f"server.ca_file: cannot load {missing}", "No such file"
        )
