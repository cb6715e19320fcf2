"""The SAST rules catch a planted example of each item of R57.22, and the gate fails on a new high
finding and on an expired acceptance (R57.21, R57.22).

security/fixtures/r57_22/ holds the planted code; each planted line ends with
`expect: TOOL:RULE ...`, and every tool named there must report that line. The scanners run
once per module over the fixtures (semgrep with the committed rules, bandit, the key-file
check)."""

import datetime as dt
import json
import re
from pathlib import Path

import pytest

from security import scan

FIXTURES = scan.ROOT / scan.FIXTURES / "r57_22"
EXPECT = re.compile(r"expect: ((?:(?:semgrep|bandit|files):[\w.-]+\s*)+)")
ITEMS = {
    1: "injection",
    2: "vulnerable functions",
    3: "weak cryptography",
    4: "denial of service",
    5: "protection bypass",
    6: "secrets in code",
    7: "insecure patterns",
}


def planted() -> set[tuple[str, int, str]]:
    """(file name, line, tool:rule) of every planted expectation."""
    out = set()
    for path in sorted(FIXTURES.iterdir()):
        if not path.is_file() or path.suffix == ".md":
            continue
        for number, line in enumerate(path.read_text().splitlines(), start=1):
            match = EXPECT.search(line)
            if match:
                out |= {(path.name, number, key) for key in match.group(1).split()}
    return out


@pytest.fixture(scope="module")
def reported() -> list[scan.Finding]:
    root = scan.ROOT
    target = [f"{scan.FIXTURES}/r57_22"]
    findings = scan.run_semgrep(root, target, exclude=())
    findings += scan.run_bandit(root, target, exclude=())
    findings += scan.committed_key_files(scan.repository_files(root, target, exclude=()), root)
    return findings


def _found(findings: list[scan.Finding]) -> set[tuple[str, int, str]]:
    return {(Path(f.path).name, f.line, f.key) for f in findings}


def _semgrep_rules() -> dict[str, int]:
    """Every committed semgrep rule id → its R57.22 item."""
    rules: dict[str, int] = {}
    for path in sorted(scan.RULES.glob("*.yml")):
        text = path.read_text()
        for rule_id, item in re.findall(
            r"- id: (aips\.[\w-]+)\n(?:.*\n)*?\s+metadata: \{r57_22: (\d)", text
        ):
            rules[rule_id] = int(item)
    return rules


def _caught_items(findings: list[scan.Finding]) -> dict[int, set[str]]:
    by_item: dict[int, set[str]] = {}
    expected = planted()
    for f in findings:
        if (Path(f.path).name, f.line, f.key) in expected and f.r57_22 is not None:
            by_item.setdefault(f.r57_22, set()).add(f.key)
    return by_item


def test_r57_22_every_planted_example_is_reported_by_each_tool_it_names(
    reported: list[scan.Finding],
) -> None:
    missing = sorted(planted() - _found(reported))
    assert not missing, f"planted examples not reported: {missing}"


def test_r57_22_every_semgrep_rule_has_a_planted_example() -> None:
    rules = _semgrep_rules()
    assert len(rules) >= 30
    exercised = {
        key.split(":", 1)[1] for _name, _line, key in planted() if key.startswith("semgrep:")
    }
    assert sorted(set(rules) - exercised) == []


@pytest.mark.parametrize("item", sorted(ITEMS), ids=[f"{n}-{ITEMS[n]}" for n in sorted(ITEMS)])
def test_r57_22_each_item_is_caught_with_its_own_rules(
    reported: list[scan.Finding], item: int
) -> None:
    """Each of R57.22's seven items: planted examples reported by rules that answer that item,
    in more than one language where the item applies to more than Python."""
    caught = _caught_items(reported).get(item, set())
    assert any(k.startswith("semgrep:") for k in caught), f"item {item}: {caught}"
    if item in (1, 2, 5, 6):
        languages = {
            Path(name).suffix
            for name, _line, key in planted()
            if key in caught and key.startswith("semgrep:")
        }
        assert len(languages) >= 2, f"item {item} is caught in {languages} only"


def test_r57_22_1_injection_sql_command_template_and_xss(reported: list[scan.Finding]) -> None:
    keys = {f.key for f in reported if f.r57_22 == 1}
    assert {
        "semgrep:aips.sql-built-from-strings",
        "semgrep:aips.command-built-from-strings",
        "semgrep:aips.template-from-data",
        "semgrep:aips.xss-mark-safe",
        "semgrep:aips.xss-template-safe",
        "semgrep:aips.xss-dom-sink",
        "bandit:B608",
    } <= keys


def test_r57_22_6_committed_key_file_is_found(reported: list[scan.Finding]) -> None:
    files = [f for f in reported if f.tool == "files"]
    assert [(f.path, f.severity, f.r57_22) for f in files] == [
        (f"{scan.FIXTURES}/r57_22/keys/secret_key", "high", 6)
    ]


def test_r57_22_6_a_pem_file_counts_only_with_a_private_key(tmp_path: Path) -> None:
    (tmp_path / "cert.pem").write_text("-----BEGIN CERTIFICATE-----\nMIIB\n")
    (tmp_path / "key.pem").write_text("-----BEGIN EC PRIVATE KEY-----\nMHc\n")
    found = scan.committed_key_files(["cert.pem", "key.pem", "server.p12"], tmp_path)
    assert [f.path for f in found] == ["key.pem", "server.p12"]


def test_r57_22_constants_in_sql_and_safe_calls_are_not_reported(tmp_path: Path) -> None:
    """The rules stay quiet on the safe forms, so the gate's failures mean something."""
    (tmp_path / "safe.py").write_text(
        "import hashlib, re, secrets, subprocess\n"
        "TABLE = 'audit'\n"
        "def f(cursor, name, data):\n"
        "    cursor.execute(f'LOCK TABLE {TABLE}')\n"
        "    cursor.execute(f'DROP TABLE {_quote(name)}')\n"
        "    cursor.execute('SELECT * FROM t WHERE name = %s', [name])\n"
        "    subprocess.run(['ls', name], check=True)\n"
        "    hashlib.sha1(data, usedforsecurity=False)\n"
        "    reset_token = secrets.token_urlsafe(32)\n"
        '    re.compile(r\'"[^"\\\\]*(?:\\\\.[^"\\\\]*)*"\')\n'
        "    return reset_token\n"
    )
    findings = scan.run_semgrep(tmp_path, ["safe.py"], exclude=())
    assert [(f.rule, f.line) for f in findings] == []


# --- the gate ------------------------------------------------------------------------------------

HIGH = scan.Finding("semgrep", "aips.weak-hash", "high", "src/x.py", 3, "hashlib.sha1(b)", "m", 3)


def _accepted(tmp_path: Path, expires: str, code: str = "hashlib.sha1(") -> list[scan.Acceptance]:
    path = tmp_path / "accepted.toml"
    path.write_text(
        "[[accepted]]\n"
        'tool = "semgrep"\nrule = "aips.weak-hash"\npath = "src/*.py"\n'
        f'code = "{code}"\nreason = "a format fixes it"\nexpires = {expires}\n'
    )
    return scan.load_accepted(path)


def test_r57_21_a_new_high_finding_fails_the_gate() -> None:
    result = scan.gate([HIGH], [], dt.date(2026, 12, 5))
    assert not result.ok
    assert result.new_high == [HIGH]


def test_r57_21_an_accepted_finding_passes_and_lower_severities_never_fail(tmp_path: Path) -> None:
    low = scan.Finding("bandit", "B101", "low", "src/y.py", 1, "assert x", "m", 7)
    result = scan.gate([HIGH, low], _accepted(tmp_path, "2027-06-30"), dt.date(2026, 12, 5))
    assert result.ok
    assert [f for f, _a in result.accepted] == [HIGH]


def test_r57_21_an_expired_acceptance_fails_the_gate(tmp_path: Path) -> None:
    accepted = _accepted(tmp_path, "2026-12-04")
    result = scan.gate([HIGH], accepted, dt.date(2026, 12, 5))
    assert not result.ok
    assert result.expired == accepted
    # The day of expiry itself still holds.
    assert scan.gate([HIGH], accepted, dt.date(2026, 12, 4)).ok


def test_r57_21_an_acceptance_covers_only_its_code(tmp_path: Path) -> None:
    other = scan.Finding(
        "semgrep", "aips.weak-hash", "high", "src/x.py", 9, "hashlib.md5(b)", "m", 3
    )
    result = scan.gate([HIGH, other], _accepted(tmp_path, "2027-06-30"), dt.date(2026, 12, 5))
    assert result.new_high == [other]


def test_r57_21_an_acceptance_without_reason_or_expiry_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "accepted.toml"
    path.write_text(
        '[[accepted]]\ntool = "semgrep"\nrule = "x"\npath = "*"\nexpires = 2027-01-01\n'
    )
    with pytest.raises(scan.ScanError, match="missing reason"):
        scan.load_accepted(path)


def test_r57_21_the_committed_acceptances_are_valid_and_none_has_expired() -> None:
    accepted = scan.load_accepted()
    today = dt.datetime.now(dt.UTC).date()
    assert accepted
    assert [a for a in accepted if a.expires < today] == []
    assert all(len(a.reason) > 20 for a in accepted)
    assert all(a.expires <= today + dt.timedelta(days=400) for a in accepted)


def test_r57_21_the_scan_fails_with_exit_2_when_a_tool_is_missing(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A scanner that cannot run never reads as a clean result."""
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "a.py").write_text("x = 1\n")
    monkeypatch.setenv("AIPS_SEMGREP", str(tmp_path / "nowhere"))
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(scan, "ROOT", tmp_path)
    assert scan.main(["sast", "--out", str(tmp_path / "sast.json")]) == 2
    assert not (tmp_path / "sast.json").exists()


def test_r57_23_sca_fails_clearly_without_the_network(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def unreachable(url: str) -> None:
        raise OSError("Network is unreachable")

    monkeypatch.setattr(scan, "_get_json", unreachable)
    assert scan.main(["sca", "--out", "/dev/null"]) == 2
    assert "unreachable" in capsys.readouterr().err


def test_r57_23_sca_report_joins_both_locks_and_marks_each_vulnerability_high() -> None:
    raw = {
        "requirements.lock": {
            "dependencies": [
                {
                    "name": "django",
                    "version": "5.2.1",
                    "vulns": [
                        {
                            "id": "PYSEC-2025-1",
                            "fix_versions": ["5.2.2"],
                            "aliases": ["CVE-2025-1"],
                            "description": "d",
                        }
                    ],
                },
                {"name": "idna", "version": "3.10", "vulns": []},
            ]
        },
        "requirements-dev.lock": {
            "dependencies": [
                {
                    "name": "django",
                    "version": "5.2.1",
                    "vulns": [
                        {
                            "id": "PYSEC-2025-1",
                            "fix_versions": ["5.2.2"],
                            "aliases": [],
                            "description": "d",
                        }
                    ],
                },
                {"name": "ruff", "version": "0.9.0", "vulns": []},
            ]
        },
    }
    report = scan.sca_report(raw, resolve_fix_dates=False)
    assert [d["name"] for d in report["dependencies"]] == ["django", "idna", "ruff"]
    (vuln,) = report["vulnerabilities"]
    assert vuln["locks"] == ["requirements.lock", "requirements-dev.lock"]
    assert [f.severity for f in scan.sca_findings(report)] == ["high"]


def test_r57_24_evidence_manifest_detects_a_changed_file(tmp_path: Path) -> None:
    (tmp_path / "sast.json").write_text("{}")
    (tmp_path / "manifest.json").write_text(
        '{{"files": {{"sast.json": {{"sha256": "{}"}}}}}}'.format(
            scan._sha256(tmp_path / "sast.json")
        )
    )
    assert scan.verify_evidence(tmp_path) == []
    (tmp_path / "sast.json").write_text('{"changed": true}')
    (tmp_path / "extra.json").write_text("{}")
    assert scan.verify_evidence(tmp_path) == [
        "sast.json does not match its SHA-256 in the manifest",
        "extra.json is not in the manifest",
    ]


def test_r57_24_release_evidence_is_written_once_with_hashes(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """`make security-evidence VERSION=x.y.z`: the release's results side by side with a manifest
    of their SHA-256, the commit and the date; a second run never rewrites them."""

    def fake_sbom(out_dir: Path, root: Path = scan.ROOT) -> dict[str, Path]:
        made = {}
        for name in ("server", "agent"):
            made[name] = out_dir / f"sbom-{name}.json"
            made[name].write_text('{"bomFormat": "CycloneDX", "components": []}')
        return made

    clean_sca = scan.sca_report(
        {"requirements.lock": {"dependencies": []}}, resolve_fix_dates=False
    )
    monkeypatch.setattr(scan, "sast", lambda root=None: {"tools": {}, "findings": []})
    monkeypatch.setattr(scan, "sca", lambda root=None: clean_sca)
    monkeypatch.setattr(scan, "js_inventory", lambda root=None: ({"files": []}, []))
    monkeypatch.setattr(scan, "sbom", fake_sbom)
    target = scan.evidence("1.2.3", base=tmp_path)
    assert target == tmp_path / "1.2.3"
    names = sorted(p.name for p in target.iterdir())
    assert names == [
        "accepted.toml",
        "js-inventory.json",
        "manifest.json",
        "sast.json",
        "sbom-agent.json",
        "sbom-server.json",
        "sca.json",
    ]
    manifest = json.loads((target / "manifest.json").read_text())
    assert manifest["version"] == "1.2.3"
    assert manifest["sast_passed"]
    assert manifest["sca_passed"]
    assert "3 years" in manifest["retention"]
    assert len(manifest["commit"]) == 40
    assert scan.verify_evidence(target) == []
    with pytest.raises(scan.ScanError, match="never rewritten"):
        scan.evidence("1.2.3", base=tmp_path)
    with pytest.raises(scan.ScanError, match="not a release version"):
        scan.evidence("../x", base=tmp_path)
