"""R67.3.8: one TOML file configures the agent; every problem is reported with its key."""

import subprocess
import sys
from pathlib import Path

import pytest

from aips_agent.config import ConfigError, load, parse

BASE = """
[agent]
name = "edge-1"
state_dir = "state"
timezone = "Asia/Almaty"

[server]
url = "https://aips.example.kz"
ca_file = "ca.pem"
token = "aipsa_abc"

[[inputs]]
name = "eve"
type = "suricata_eve"
path = "/var/log/suricata/eve.json"
"""


def problems(text: str, tmp_path: Path) -> list[str]:
    path = tmp_path / "agent.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as error:
        load(path)
    return error.value.problems


def test_r67_3_8_a_minimal_config_loads_with_defaults(tmp_path: Path) -> None:
    path = tmp_path / "agent.toml"
    path.write_text(BASE)
    config = load(path)
    assert config.server.host == "aips.example.kz"
    assert config.server.port == 443
    assert config.server.ca_file == tmp_path / "ca.pem"  # relative to the config file
    assert config.spool.path == tmp_path / "state" / "spool.db"
    assert config.inputs[0].start_at == "end"
    assert config.brute_force.threshold == 10
    assert config.spraying.window_seconds == 600
    assert config.server.batch_size == 500
    assert config.server.gzip is True


def test_r67_9_plain_http_is_refused(tmp_path: Path) -> None:
    text = BASE.replace("https://aips.example.kz", "http://aips.example.kz")
    assert problems(text, tmp_path) == [
        "server.url: must start with https:// (R57.25), got 'http://aips.example.kz'"
    ]


def test_r67_3_8_every_problem_names_its_key(tmp_path: Path) -> None:
    text = (
        BASE.replace('token = "aipsa_abc"', 'token = "abc"\ntimeout = "soon"\nverify = false')
        + """
[detectors.brute_force]
threshold = 0

[[inputs]]
name = "eve"
type = "suricata_eve"

[[inputs]]
name = "mail"
type = "jsonl"
path = "/x"
kind = "phishing"
fields = {subject = "s", colour = "c"}

[[inputs]]
name = "siem"
type = "syslog"
udp = "nope"
rules = [{kind = "waf", product = "("}]

[[inputs]]
name = "x"
type = "netflow"
"""
    )
    found = problems(text, tmp_path)
    assert "server.token: an agent token starts with aipsa_" in found
    assert "server.timeout: expected a number, got 'soon'" in found
    assert "server.verify: unknown setting" in found
    assert "detectors.brute_force.threshold: must be greater than 0" in found
    assert 'inputs[1].path: required for type "suricata_eve"' in found
    assert "inputs[1].name: 'eve' is used twice" in found
    assert any(p.startswith("inputs[2].fields.colour: not a field of a phishing") for p in found)
    assert "inputs[2].fields.sender: a phishing signal needs it; map it" in found
    assert 'inputs[3].udp: give host:port, e.g. "0.0.0.0:5514"' in found
    assert any(p.startswith("inputs[3].rules[0].product: not a regular expression") for p in found)
    assert any(p.startswith("inputs[4].type: one of") for p in found)


def test_r67_9_credentials_are_required_and_the_proxy_comes_from_the_environment(
    tmp_path: Path,
) -> None:
    raw = {
        "server": {"url": "https://aips.example.kz", "ca_file": "ca.pem"},
        "inputs": [{"name": "a", "type": "clamav", "path": "/x"}],
    }
    with pytest.raises(ConfigError) as error:
        parse(raw, source=tmp_path / "a.toml", env={})
    assert error.value.problems[0].startswith("server.token: give an agent token")
    raw["server"]["client_cert"] = "c.pem"  # type: ignore[index]
    raw["server"]["client_key"] = "c.key"  # type: ignore[index]
    config = parse(raw, source=tmp_path / "a.toml", env={"HTTPS_PROXY": "http://proxy:3128"})
    assert config.server.proxy == "http://proxy:3128"
    assert config.server.token is None
    assert config.server.client_cert == tmp_path / "c.pem"
    config = parse(
        raw,
        source=tmp_path / "a.toml",
        env={"HTTPS_PROXY": "http://proxy:3128", "NO_PROXY": ".example.kz"},
    )
    assert config.server.proxy is None


def test_r67_3_8_check_config_command_reports_and_exits_nonzero(tmp_path: Path) -> None:
    path = tmp_path / "agent.toml"
    path.write_text(BASE.replace('type = "suricata_eve"', 'type = "suricata"'))
    result = subprocess.run(  # noqa: S603 - our own command, fixed arguments
        [sys.executable, "-m", "aips_agent", "--config", str(path), "check-config"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "inputs[0].type: one of suricata_eve" in result.stderr


def test_r67_3_8_the_shipped_example_config_is_valid(tmp_path: Path) -> None:
    import tomllib

    example = Path(__file__).parent.parent / "packaging" / "agent.example.toml"
    raw = tomllib.loads(example.read_text())
    token = tmp_path / "token"
    token.write_text("aipsa_example\n")
    raw["server"]["token_file"] = str(token)
    config = parse(raw, source=tmp_path / "agent.toml", env={})
    assert [i.type for i in config.inputs] == [
        "suricata_eve",
        "modsecurity",
        "wazuh",
        "clamav",
        "sshd",
        "windows_4625",
        "syslog",
        "jsonl",
    ]
    assert config.server.token == "aipsa_example"


def test_r67_8_mapping_rules_are_checked_at_load_and_the_shipped_ones_are_valid(
    tmp_path: Path,
) -> None:
    from aips_agent.rules import check_cef_rule, check_wazuh_rule, shipped

    rules = shipped()
    assert [p for i, r in enumerate(rules["cef"]) for p in check_cef_rule(r, f"cef[{i}].")] == []
    assert [
        p for i, r in enumerate(rules["wazuh"]) for p in check_wazuh_rule(r, f"wazuh[{i}].")
    ] == []
    good = BASE + (
        '\n[[inputs]]\nname = "wazuh"\ntype = "wazuh"\npath = "/var/ossec/alerts.json"\n'
        '[[inputs.rules]]\ngroups = ["local"]\nrule_id = "^100$"\nkind = "endpoint"\n'
        'where = { "data.x" = "y" }\nfields = { file_name = "data.path" }\n'
        '\n[[inputs]]\nname = "siem"\ntype = "cef"\npath = "/var/log/cef.log"\n'
        'default_rules = false\n[[inputs.rules]]\nvendor = "acme"\next = { act = "^blocked$" }\n'
        'kind = "waf"\nfields = { url = "cs7" }\nlabel = "Acme"\n'
    )
    path = tmp_path / "agent.toml"
    path.write_text(good)
    config = load(path)
    assert config.inputs[1].options["rules"][0]["groups"] == ["local"]
    assert config.inputs[2].options["default_rules"] is False
    bad = BASE + (
        '\n[[inputs]]\nname = "wazuh"\ntype = "wazuh"\npath = "/a"\n'
        '[[inputs.rules]]\ngroups = "local"\nkind = "vulnerability"\nrule_id = "("\n'
        '\n[[inputs]]\nname = "siem"\ntype = "cef"\npath = "/b"\n'
        '[[inputs.rules]]\nvendor = "acme"\nkind = "ids"\nfields = { url = "cs7" }\ncolour = 1\n'
    )
    found = problems(bad, tmp_path)
    assert "inputs[1].rules[0].kind: one of" in " ".join(found)
    assert "inputs[1].rules[0].groups: a list of Wazuh rule group names" in found
    assert any(p.startswith("inputs[1].rules[0].rule_id: not a regular expression") for p in found)
    assert "inputs[2].rules[0].colour: unknown setting" in found
    assert "inputs[2].rules[0].fields.url: ids signals have no such field" in found
