"""Security testing of the repository: SAST, SCA, the JavaScript inventory, SBOMs, release evidence.

    python -m security.scan sast [--out FILE]          ruff S, bandit, semgrep, committed key files;
                                                       gated by security/accepted.toml (make test)
    python -m security.scan sca [--out FILE]           pip-audit of both lock files (needs PyPI)
    python -m security.scan js-inventory [--out FILE]  every JavaScript file the deployments serve
    python -m security.scan sbom --out-dir DIR         CycloneDX SBOMs of the server and the agent
    python -m security.scan evidence --version X.Y.Z   all of it into security/evidence/X.Y.Z/

Every finding is normalized to one shape (tool, rule, severity, path, line, code, R57.22 item).
"High" is a semgrep ERROR, a bandit HIGH, any ruff S finding (ruff already fails `make lint` on
them) and any committed key file. A high finding fails the gate unless an entry of
security/accepted.toml matches it; an entry past its expiry fails the gate by itself, so every
acceptance is reviewed again. Inline suppressions of bandit (# nosec) and semgrep (# nosemgrep)
are ignored: the accepted list is the one place where a finding is accepted, with its reason.
Exit codes: 0 clean, 1 findings or expired acceptances, 2 the scan could not run (a tool or the
network missing), so a broken scan never passes silently."""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import fnmatch
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SECURITY = ROOT / "security"
RULES = SECURITY / "semgrep"
FIXTURES = "security/fixtures"
ACCEPTED = SECURITY / "accepted.toml"
JS_SOURCES = SECURITY / "js-sources.toml"
EVIDENCE = SECURITY / "evidence"
LOCKS = ("requirements.lock", "requirements-dev.lock")
# What SAST reads: every language of the repository (Python, Django templates, JavaScript, shell,
# the Makefile and CI script), tests included; the planted fixtures are left out.
SAST_TARGETS = ("src", "agent", "scripts", ".ci", "Makefile", "security")
PYPI = "https://pypi.org/pypi"
NETWORK_TIMEOUT = 20


class ScanError(Exception):
    """The scan itself could not run (exit code 2): never reported as a clean result."""


@dataclass(frozen=True)
class Finding:
    tool: str  # ruff | bandit | semgrep | files | pip-audit
    rule: str
    severity: str  # high | medium | low | info
    path: str  # relative to the scanned root, with forward slashes
    line: int
    code: str  # the flagged line, stripped
    message: str
    r57_22: int | None  # the item of R57.22 the rule answers (SAST only)

    @property
    def key(self) -> str:
        return f"{self.tool}:{self.rule}"


@dataclass(frozen=True)
class Acceptance:
    tool: str
    rule: str
    path: str  # an fnmatch pattern over the finding's path
    code: str  # the flagged line must contain this ("" for any line of the path)
    reason: str
    expires: dt.date
    index: int  # position in the file, for messages

    def matches(self, finding: Finding) -> bool:
        return (
            self.tool == finding.tool
            and fnmatch.fnmatchcase(finding.rule, self.rule)
            and fnmatch.fnmatchcase(finding.path, self.path)
            and self.code in finding.code
        )


@dataclass
class GateResult:
    new_high: list[Finding] = field(default_factory=list)
    accepted: list[tuple[Finding, Acceptance]] = field(default_factory=list)
    expired: list[Acceptance] = field(default_factory=list)
    unused: list[Acceptance] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.new_high and not self.expired


# --- R57.22 items of the rules of bandit and ruff (semgrep rules carry theirs) --------------------
# 1 injection, 2 vulnerable functions, 3 weak cryptography, 4 denial of service, 5 protection
# bypass, 6 secrets in code, 7 insecure coding patterns. Bandit's Bnnn and ruff's Snnn share
# numbers.
_ITEM_BY_NUMBER: dict[str, int] = {
    **dict.fromkeys(["101", "103", "104", "108", "110", "112", "201", "613", "701"], 7),
    **dict.fromkeys(["102", "301", "302", "306", "307", "310", "506", "612", "614", "615"], 2),
    **dict.fromkeys(["105", "106", "107"], 6),
    **dict.fromkeys(["113", "202", "313", "314", "315", "316", "317", "318", "319", "320"], 4),
    **dict.fromkeys(["405", "406", "407", "408", "409", "410", "411"], 4),
    **dict.fromkeys(["303", "304", "305", "311", "312", "321", "324", "401", "402", "413"], 3),
    **dict.fromkeys(["502", "503", "504", "505", "508", "509"], 3),
    **dict.fromkeys(["323", "501", "507"], 5),
    **dict.fromkeys(["308", "601", "602", "603", "604", "605", "606", "607", "608", "609"], 1),
    **dict.fromkeys(["610", "611", "702", "703", "704"], 1),
    **dict.fromkeys(["403", "404", "412", "414", "415"], 2),
}


def r57_22_item(rule: str) -> int | None:
    """The R57.22 item of a bandit (B608) or ruff (S608) rule code."""
    match = re.fullmatch(r"[BS](\d{3})", rule)
    return _ITEM_BY_NUMBER.get(match.group(1)) if match else None


# --- running the tools ---------------------------------------------------------------------------


def tool(name: str) -> str:
    """A scanner's executable: beside this interpreter (the project's venv), else on PATH.
    semgrep lives in its own venv (.venv/semgrep; AIPS_SEMGREP names another)."""
    if name == "semgrep":
        candidates = [os.environ.get("AIPS_SEMGREP", ""), str(ROOT / ".venv/semgrep/bin/semgrep")]
    else:
        candidates = [str(Path(sys.executable).parent / name)]
    for candidate in candidates:
        if candidate and Path(candidate).is_file():
            # Absolute: the scanners run with the scanned tree as their working directory.
            return str(Path(candidate).resolve())
    found = shutil.which(name)
    if found is None:
        raise ScanError(f"{name} is not installed (make venv; semgrep: make semgrep)")
    return found


def _run(argv: Sequence[str], *, cwd: Path, ok_codes: Iterable[int] = (0,)) -> str:
    env = {**os.environ, "SEMGREP_ENABLE_VERSION_CHECK": "0", "SEMGREP_SEND_METRICS": "off"}
    completed = subprocess.run(  # noqa: S603 - a fixed scanner with arguments we build
        list(argv), cwd=cwd, env=env, capture_output=True, text=True, check=False
    )
    if completed.returncode not in set(ok_codes):
        tail = (completed.stderr or completed.stdout).strip().splitlines()[-5:]
        raise ScanError(
            f"{Path(argv[0]).name} failed ({completed.returncode}): " + " | ".join(tail)
        )
    return completed.stdout


def _version(argv: Sequence[str]) -> str:
    try:
        out = _run(argv, cwd=ROOT)
    except (ScanError, OSError):
        return "unknown"
    return out.strip().splitlines()[-1] if out.strip() else "unknown"


def _line(root: Path, path: str, line: int) -> str:
    try:
        lines = (root / path).read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return ""
    return lines[line - 1].strip() if 0 < line <= len(lines) else ""


def _relative(root: Path, path: str) -> str:
    p = Path(path)
    if p.is_absolute():
        p = p.relative_to(root)
    return p.as_posix().removeprefix("./")


def _existing(root: Path, targets: Iterable[str]) -> list[str]:
    return [t for t in targets if (root / t).exists()]


def run_ruff(root: Path, targets: Sequence[str], exclude: Sequence[str]) -> list[Finding]:
    py_targets = [t for t in _existing(root, targets) if (root / t).is_dir() or t.endswith(".py")]
    if not py_targets:
        return []
    argv = [tool("ruff"), "check", "--select", "S", "--output-format", "json", "--no-cache"]
    argv += [f"--extend-exclude={e}" for e in exclude]
    out = _run([*argv, *py_targets], cwd=root, ok_codes=(0, 1))
    findings = []
    for item in json.loads(out or "[]"):
        path = _relative(root, item["filename"])
        line = int(item["location"]["row"])
        code = str(item["code"])
        findings.append(
            Finding(
                "ruff",
                code,
                "high",
                path,
                line,
                _line(root, path, line),
                item["message"],
                r57_22_item(code),
            )
        )
    return findings


BANDIT_SKIPS = ("*/tests/*", "*/conftest.py")
_BANDIT_SEVERITY = {"HIGH": "high", "MEDIUM": "medium", "LOW": "low"}


def run_bandit(root: Path, targets: Sequence[str], exclude: Sequence[str]) -> list[Finding]:
    py_targets = [t for t in _existing(root, targets) if (root / t).is_dir() or t.endswith(".py")]
    if not py_targets:
        return []
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "bandit.json"
        # Tests are not shipped: ruff's S rules and semgrep read them, bandit reads what ships.
        patterns = [
            *BANDIT_SKIPS,
            *(f"{e.rstrip('/')}/*" for e in exclude),
            *(f"*/{e.rstrip('/')}/*" for e in exclude),
        ]
        argv = [tool("bandit"), "-r", "-q", "--ignore-nosec", "-f", "json", "-o", str(report)]
        argv += ["-x", ",".join(patterns)]
        _run([*argv, *py_targets], cwd=root, ok_codes=(0, 1))
        data = json.loads(report.read_text())
    if data.get("errors"):
        raise ScanError(f"bandit could not read: {data['errors'][:3]}")
    findings = []
    for item in data["results"]:
        path = _relative(root, item["filename"])
        line = int(item["line_number"])
        findings.append(
            Finding(
                "bandit",
                item["test_id"],
                _BANDIT_SEVERITY[item["issue_severity"]],
                path,
                line,
                _line(root, path, line),
                f"{item['issue_text']} (confidence {item['issue_confidence'].lower()})",
                r57_22_item(item["test_id"]),
            )
        )
    return findings


_SEMGREP_SEVERITY = {"ERROR": "high", "WARNING": "medium", "INFO": "info"}


def run_semgrep(root: Path, targets: Sequence[str], exclude: Sequence[str]) -> list[Finding]:
    existing = _existing(root, targets)
    if not existing:
        return []
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "semgrep.json"
        argv = [
            tool("semgrep"),
            "scan",
            "--config",
            str(RULES),
            "--metrics=off",
            "--disable-version-check",
            "--disable-nosem",
            "--no-git-ignore",
            "--quiet",
            "--json",
            "--output",
            str(report),
            "--jobs",
            "2",
            "--timeout",
            "30",
        ]
        argv += [f"--exclude={e}" for e in exclude]
        _run([*argv, *existing], cwd=root, ok_codes=(0, 1))
        data = json.loads(report.read_text())
    errors = [e for e in data.get("errors", []) if e.get("level", "error") == "error"]
    if errors:
        raise ScanError(f"semgrep errors: {[e.get('message', '')[:200] for e in errors[:3]]}")
    findings = []
    for item in data["results"]:
        path = _relative(root, item["path"])
        line = int(item["start"]["line"])
        rule = "aips." + item["check_id"].split(".aips.", 1)[-1]
        meta = item["extra"].get("metadata", {})
        findings.append(
            Finding(
                "semgrep",
                rule,
                _SEMGREP_SEVERITY.get(item["extra"]["severity"], "medium"),
                path,
                line,
                _line(root, path, line),
                " ".join(str(item["extra"]["message"]).split()),
                int(meta["r57_22"]) if "r57_22" in meta else None,
            )
        )
    return findings


# Files that hold key material by their name; certificates are public and not listed.
KEY_FILE_PATTERNS = (
    "secret_key",
    "*.key",
    "*.pem",
    "*.p12",
    "*.pfx",
    "*.jks",
    "*.keystore",
    "id_rsa",
    "id_dsa",
    "id_ecdsa",
    "id_ed25519",
    ".env",
    "*.env",
    ".htpasswd",
    "*.kdbx",
)


def committed_key_files(paths: Iterable[str], root: Path | None = None) -> list[Finding]:
    """R57.22 (6): files named like keys in the repository (a generated secret_key, a PKCS#12).
    A PEM file counts only when it holds a private key: certificates are public."""
    root = root or ROOT
    found = []
    for path in paths:
        name = path.rsplit("/", 1)[-1]
        if name.endswith(".pem") and not _holds_private_key(root / path):
            continue
        if any(fnmatch.fnmatchcase(name, pattern) for pattern in KEY_FILE_PATTERNS):
            found.append(
                Finding(
                    "files",
                    "aips.committed-key-file",
                    "high",
                    path,
                    1,
                    name,
                    "A file named like key material is committed.",
                    6,
                )
            )
    return found


def _holds_private_key(path: Path) -> bool:
    try:
        return b"PRIVATE KEY-----" in path.read_bytes()
    except OSError:
        return True


def repository_files(root: Path, targets: Sequence[str], exclude: Sequence[str]) -> list[str]:
    """The files under the targets that git holds or would take (tracked and untracked, not
    ignored: a key file is found before its commit); every file outside a git tree."""
    try:
        out = _run(
            ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard", "--", *targets],
            cwd=root,
        )
        paths = [p for p in out.split("\0") if p]
    except (ScanError, OSError):
        paths = [
            p.relative_to(root).as_posix()
            for t in _existing(root, targets)
            for p in ([root / t] if (root / t).is_file() else (root / t).rglob("*"))
            if p.is_file()
        ]
    return [
        p for p in paths if not any(p == e or p.startswith(e.rstrip("/") + "/") for e in exclude)
    ]


def sast(
    root: Path | None = None,
    targets: Sequence[str] = SAST_TARGETS,
    exclude: Sequence[str] = (FIXTURES,),
) -> dict[str, Any]:
    """Run every SAST tool; the report lists each finding once per tool."""
    root = root or ROOT
    timings: dict[str, float] = {}
    findings: list[Finding] = []
    steps: tuple[tuple[str, Callable[[], list[Finding]]], ...] = (
        ("ruff", lambda: run_ruff(root, targets, exclude)),
        ("bandit", lambda: run_bandit(root, targets, exclude)),
        ("semgrep", lambda: run_semgrep(root, targets, exclude)),
        ("files", lambda: committed_key_files(repository_files(root, targets, exclude), root)),
    )
    for name, step in steps:
        started = time.monotonic()
        findings += step()
        timings[name] = round(time.monotonic() - started, 1)
    findings.sort(key=lambda f: (f.path, f.line, f.tool, f.rule))
    return {
        "format": "aips-sast/1",
        "scanned_at": _now(),
        "targets": list(targets),
        "excluded": list(exclude),
        "tools": {
            "ruff": _version([tool("ruff"), "--version"]),
            "bandit": _bandit_version(),
            "semgrep": _version([tool("semgrep"), "--version", "--disable-version-check"]),
            "semgrep_rules": sorted(p.name for p in RULES.glob("*.yml")),
        },
        "seconds": timings,
        "findings": [asdict(f) for f in findings],
    }


def _bandit_version() -> str:
    try:
        return metadata.version("bandit")
    except metadata.PackageNotFoundError:
        return "unknown"


def findings_of(report: dict[str, Any]) -> list[Finding]:
    return [Finding(**item) for item in report["findings"]]


# --- accepted findings ---------------------------------------------------------------------------


def load_accepted(path: Path = ACCEPTED) -> list[Acceptance]:
    """Every entry needs tool, rule, path, reason and an expiry date; a wrong file fails loudly."""
    if not path.exists():
        return []
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    entries = []
    for index, raw in enumerate(data.get("accepted", []), start=1):
        missing = [k for k in ("tool", "rule", "path", "reason", "expires") if not raw.get(k)]
        if missing:
            raise ScanError(f"{path.name} entry {index}: missing {', '.join(missing)}")
        expires = raw["expires"]
        if not isinstance(expires, dt.date) or isinstance(expires, dt.datetime):
            raise ScanError(f"{path.name} entry {index}: expires must be a date (2027-06-30)")
        entries.append(
            Acceptance(
                tool=str(raw["tool"]),
                rule=str(raw["rule"]),
                path=str(raw["path"]),
                code=str(raw.get("code", "")),
                reason=" ".join(str(raw["reason"]).split()),
                expires=expires,
                index=index,
            )
        )
    return entries


SAST_TOOLS = frozenset({"ruff", "bandit", "semgrep", "files"})
SCA_TOOLS = frozenset({"pip-audit"})


def gate(
    findings: Iterable[Finding],
    accepted: Sequence[Acceptance],
    today: dt.date,
    tools: frozenset[str] = SAST_TOOLS,
) -> GateResult:
    """New high findings and expired acceptances fail; lower severities are reported only.
    Only the acceptances of `tools` count (SAST's and SCA's are gated apart)."""
    accepted = [a for a in accepted if a.tool in tools]
    result = GateResult()
    used: set[int] = set()
    for finding in findings:
        if finding.severity != "high":
            continue
        match = next((a for a in accepted if a.matches(finding)), None)
        if match is None:
            result.new_high.append(finding)
        else:
            used.add(match.index)
            result.accepted.append((finding, match))
    result.expired = [a for a in accepted if a.expires < today]
    result.unused = [a for a in accepted if a.index not in used and a.expires >= today]
    return result


def print_gate(result: GateResult, *, scope: str, out: Any = sys.stdout) -> None:
    for f in result.new_high:
        print(f"NEW HIGH {f.tool}:{f.rule} {f.path}:{f.line}: {f.message}\n    {f.code}", file=out)
    for a in result.expired:
        print(
            f"EXPIRED acceptance #{a.index} ({a.tool}:{a.rule} {a.path}) on {a.expires}: fix the "
            f"finding or review it and set a new expiry. Reason was: {a.reason}",
            file=out,
        )
    for a in result.unused:
        print(
            f"note: acceptance #{a.index} ({a.tool}:{a.rule} {a.path}) matches nothing now",
            file=out,
        )
    print(
        f"{scope}: {len(result.new_high)} new high, {len(result.accepted)} accepted, "
        f"{len(result.expired)} expired acceptances",
        file=out,
    )


# --- SCA -----------------------------------------------------------------------------------------


def _get_json(url: str) -> Any:
    if not url.startswith("https://"):
        raise ScanError(f"refusing a non-HTTPS address: {url}")
    request = urllib.request.Request(url, headers={"Accept": "application/json"})  # noqa: S310 - https only, checked above
    with urllib.request.urlopen(request, timeout=NETWORK_TIMEOUT) as response:  # noqa: S310
        return json.load(response)


def check_network() -> None:
    """SCA asks PyPI's vulnerability API (the per-version JSON that pip-audit reads); without it
    the scan must fail, never pass empty. A package index mirror that serves only the simple
    index answers 404 here."""
    try:
        _get_json(f"{PYPI}/pip/24.0/json")
    except (urllib.error.URLError, TimeoutError, OSError, ValueError) as error:
        raise ScanError(
            f"SCA needs PyPI's vulnerability API ({PYPI}/<name>/<version>/json), which does not "
            f"answer from here: {error}. Run `make security` where pypi.org is reachable; no "
            "result was produced."
        ) from error


def fix_published(package: str, fix_versions: Sequence[str], installed: str) -> str | None:
    """The date the first fixing release after the installed one was uploaded to PyPI."""
    from packaging.version import InvalidVersion, Version

    try:
        current = Version(installed)
        candidates = sorted(Version(v) for v in fix_versions if Version(v) > current)
    except InvalidVersion:
        return None
    if not candidates:
        return None
    try:
        data = _get_json(f"{PYPI}/{package}/json")
    except (urllib.error.URLError, TimeoutError, OSError, ValueError):
        return None
    files = data.get("releases", {}).get(str(candidates[0])) or []
    uploads = [u["upload_time_iso_8601"] for u in files if u.get("upload_time_iso_8601")]
    return min(uploads)[:10] if uploads else None


def sca(root: Path | None = None, locks: Sequence[str] = LOCKS) -> dict[str, Any]:
    root = root or ROOT
    check_network()
    raw: dict[str, Any] = {}
    for lock in locks:
        with tempfile.TemporaryDirectory() as tmp:
            report = Path(tmp) / "audit.json"
            argv = [
                tool("pip-audit"),
                "-r",
                str(root / lock),
                "--require-hashes",
                "--disable-pip",
                "--vulnerability-service",
                "pypi",
                "--format",
                "json",
                "--output",
                str(report),
                "--progress-spinner",
                "off",
                "--desc",
                "on",
                "--aliases",
                "on",
            ]
            _run(argv, cwd=root, ok_codes=(0, 1))
            if not report.exists():
                raise ScanError(f"pip-audit wrote no report for {lock}")
            raw[lock] = json.loads(report.read_text())
        # pip-audit exits 0 when it could audit nothing ("not found on PyPI"): that is no result.
        skipped = [d for d in raw[lock].get("dependencies", []) if "skip_reason" in d]
        if skipped:
            raise ScanError(
                f"pip-audit could not audit {len(skipped)} of "
                f"{len(raw[lock].get('dependencies', []))} "
                f"dependencies of {lock}, e.g. {skipped[0]['skip_reason']}; no result was produced."
            )
    return sca_report(raw, resolve_fix_dates=True)


def sca_report(raw: dict[str, Any], *, resolve_fix_dates: bool) -> dict[str, Any]:
    """One list of dependencies and vulnerabilities over the lock files' pip-audit outputs."""
    dependencies: dict[tuple[str, str], dict[str, Any]] = {}
    vulns: dict[tuple[str, str, str], dict[str, Any]] = {}
    for lock, data in raw.items():
        for dep in data.get("dependencies", []):
            if "version" not in dep:
                continue
            key = (dep["name"], dep["version"])
            dependencies.setdefault(key, {"name": key[0], "version": key[1], "locks": []})[
                "locks"
            ].append(lock)
            for v in dep.get("vulns", []):
                entry = vulns.setdefault(
                    (dep["name"], dep["version"], v["id"]),
                    {
                        "package": dep["name"],
                        "version": dep["version"],
                        "id": v["id"],
                        "aliases": sorted(v.get("aliases", [])),
                        "fix_versions": v.get("fix_versions", []),
                        "fix_published": v.get("fix_published"),
                        "description": v.get("description", ""),
                        "locks": [],
                    },
                )
                entry["locks"].append(lock)
    if resolve_fix_dates:
        for entry in vulns.values():
            if not entry["fix_published"]:
                entry["fix_published"] = fix_published(
                    entry["package"], entry["fix_versions"], entry["version"]
                )
    return {
        "format": "aips-sca/1",
        "scanned_at": _now(),
        "tool": {"name": "pip-audit", "version": _pkg_version("pip-audit"), "service": "pypi"},
        "locks": {
            lock: {
                "dependencies": len([d for d in data.get("dependencies", []) if "version" in d]),
                "vulnerable": len([d for d in data.get("dependencies", []) if d.get("vulns")]),
            }
            for lock, data in raw.items()
        },
        "dependencies": sorted(dependencies.values(), key=lambda d: (d["name"], d["version"])),
        "vulnerabilities": sorted(vulns.values(), key=lambda v: (v["package"], v["id"])),
        "raw": raw,
    }


def sca_findings(report: dict[str, Any]) -> list[Finding]:
    """Each known vulnerability is a high finding of the package (accepted.toml: tool pip-audit)."""
    return [
        Finding(
            "pip-audit",
            v["id"],
            "high",
            v["package"],
            0,
            f"{v['package']}=={v['version']}",
            f"fix: {', '.join(v['fix_versions']) or 'none yet'}",
            None,
        )
        for v in report["vulnerabilities"]
    ]


def _pkg_version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "unknown"


# --- JavaScript inventory ------------------------------------------------------------------------

_LIST_STATIC = """
import json, django
django.setup()
from django.contrib.staticfiles.finders import get_finders
out = []
for finder in get_finders():
    for path, storage in finder.list([]):
        if path.endswith(".js"):
            out.append([path, storage.path(path)])
print(json.dumps(out))
"""


def served_javascript(root: Path = ROOT) -> dict[str, Path]:
    """Every .js file either deployment serves (its static finders), by its static path."""
    served: dict[str, Path] = {}
    for settings, db_var in (
        ("aips.settings", "AIPS_DATABASE_URL"),
        ("aips.settings_etp", "AIPS_ETP_DATABASE_URL"),
    ):
        env = {**os.environ, "DJANGO_SETTINGS_MODULE": settings, db_var: ""}
        completed = subprocess.run(  # noqa: S603 - this interpreter, a fixed script
            [sys.executable, "-c", _LIST_STATIC],
            cwd=root,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        if completed.returncode != 0:
            raise ScanError(
                f"listing static files of {settings} failed: {completed.stderr.strip()[-300:]}"
            )
        for path, location in json.loads(completed.stdout.strip().splitlines()[-1]):
            served.setdefault(path, Path(location))
    return served


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def js_inventory(root: Path = ROOT) -> tuple[dict[str, Any], list[str]]:
    """(inventory, problems): every served file must be described in security/js-sources.toml."""
    sources = tomllib.loads(JS_SOURCES.read_text(encoding="utf-8")).get("file", [])
    described = {s["path"]: s for s in sources}
    problems = []
    items = []
    for path, location in sorted(served_javascript(root).items()):
        entry = described.get(path)
        if entry is None:
            problems.append(f"{path} is served but not described in security/js-sources.toml")
            continue
        shipped_by = entry.get("shipped_by", "")
        version = entry.get("version") or (
            f"as shipped by {shipped_by} {_pkg_version(shipped_by)}"
            if shipped_by
            else _project_version(root)
        )
        try:
            relative = location.relative_to(root).as_posix()
        except ValueError:
            relative = f"{shipped_by} package: {path}"
        items.append(
            {
                "path": path,
                "component": entry["component"],
                "version": version,
                "licence": entry["licence"],
                "source": entry["source"],
                "first_party": not shipped_by,
                "file": relative,
                "sha256": _sha256(location),
            }
        )
    for path in sorted(
        set(described) - {i["path"] for i in items} - {p.split(" ")[0] for p in problems}
    ):
        problems.append(f"security/js-sources.toml describes {path}, which nothing serves any more")
    return {"format": "aips-js-inventory/1", "made_at": _now(), "files": items}, problems


def _project_version(root: Path) -> str:
    data = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))
    return f"{data['project']['version']} (first-party)"


# --- SBOM ----------------------------------------------------------------------------------------


def _requirement_names(requires: Iterable[str]) -> list[str]:
    from packaging.requirements import InvalidRequirement, Requirement

    names = []
    for text in requires:
        try:
            requirement = Requirement(text)
        except InvalidRequirement:
            continue
        # Dependencies of extras are not installed by the lock's plain names; markers for this
        # platform (Linux, CPython 3.11) decide the rest.
        marker_env = {"extra": ""}
        if requirement.marker is None or requirement.marker.evaluate(marker_env):
            names.append(_canonical(requirement.name))
    return names


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _dependency_graph(bom: dict[str, Any], direct: Iterable[str]) -> None:
    """Fill the SBOM's dependency graph (R57.23: links between components and versions) from
    the installed distributions' metadata, restricted to the components the lock pins."""
    refs = {_canonical(c["name"]): c["bom-ref"] for c in bom.get("components", [])}
    graph = []
    for name, ref in sorted(refs.items()):
        try:
            requires = metadata.requires(name) or []
        except metadata.PackageNotFoundError:
            requires = []
        depends = sorted(
            {refs[n] for n in _requirement_names(requires) if n in refs and refs[n] != ref}
        )
        graph.append({"ref": ref, "dependsOn": depends} if depends else {"ref": ref})
        component = next(c for c in bom["components"] if c["bom-ref"] == ref)
        licence, spdx = _licence(name)
        if licence and "licenses" not in component:
            # A License-Expression is SPDX; a classifier or free text is a licence's name.
            component["licenses"] = (
                [{"expression": licence}] if spdx else [{"license": {"name": licence}}]
            )
    root_ref = bom["metadata"]["component"]["bom-ref"]
    graph.append({"ref": root_ref, "dependsOn": sorted({refs[n] for n in direct if n in refs})})
    bom["dependencies"] = graph


def _licence(name: str) -> tuple[str, bool]:
    """(licence, whether it is an SPDX expression) from the installed distribution's metadata."""
    try:
        info = metadata.metadata(name).json
    except metadata.PackageNotFoundError:
        return "", False
    expression = info.get("license_expression")
    if isinstance(expression, str) and expression:
        return expression, True
    classifiers = info.get("classifier", [])
    licences = [
        c.split(" :: ")[-1]
        for c in classifiers
        if isinstance(c, str) and c.startswith("License ::")
    ]
    if licences:
        return licences[0], False
    text = info.get("license")
    text = text.strip() if isinstance(text, str) else ""
    return (text, False) if text and len(text) < 60 and "\n" not in text else ("", False)


def _direct(requirements_in: Path) -> list[str]:
    names = []
    for line in requirements_in.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line and not line.startswith("-"):
            names.append(_canonical(re.split(r"[<>=!~\[; ]", line, maxsplit=1)[0]))
    return names


def _locked(lock: Path) -> dict[str, str]:
    """name → the lock file's whole entry (the pin and its hashes)."""
    entries: dict[str, str] = {}
    current: list[str] = []
    for line in lock.read_text(encoding="utf-8").splitlines():
        if re.match(r"^[A-Za-z0-9]", line):
            current = [line]
            entries[_canonical(line.split("==", 1)[0])] = ""
        elif line.startswith("    --hash") and current:
            current.append(line)
        else:
            continue
        entries[_canonical(current[0].split("==", 1)[0])] = "\n".join(current)
    return entries


def sbom(out_dir: Path, root: Path = ROOT) -> dict[str, Path]:
    """CycloneDX 1.6 JSON of the server (requirements.lock) and of the agent (its closure)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    made = {}
    server = out_dir / "sbom-server.json"
    _cyclonedx(root / "requirements.lock", root / "pyproject.toml", server, root)
    _finish_sbom(server, _direct(root / "requirements.in"))
    made["server"] = server
    # The agent installs msgspec only: its lock is the server lock's entries of that closure.
    agent_meta = tomllib.loads((root / "agent/pyproject.toml").read_text(encoding="utf-8"))
    agent_direct = _requirement_names(agent_meta["project"].get("dependencies", []))
    locked = _locked(root / "requirements.lock")
    closure: list[str] = []
    pending = list(agent_direct)
    while pending:
        name = pending.pop()
        if name in closure or name not in locked:
            continue
        closure.append(name)
        with contextlib.suppress(metadata.PackageNotFoundError):
            pending += _requirement_names(metadata.requires(name) or [])
    with tempfile.TemporaryDirectory() as tmp:
        agent_lock = Path(tmp) / "agent-requirements.txt"
        agent_lock.write_text(
            "\n".join(locked[n] for n in sorted(closure)) + "\n", encoding="utf-8"
        )
        agent = out_dir / "sbom-agent.json"
        _cyclonedx(agent_lock, root / "agent/pyproject.toml", agent, root)
    _finish_sbom(agent, agent_direct)
    made["agent"] = agent
    return made


def _cyclonedx(requirements: Path, pyproject: Path, out: Path, root: Path) -> None:
    _run(
        [
            tool("cyclonedx-py"),
            "requirements",
            str(requirements),
            "--pyproject",
            str(pyproject),
            "--output-reproducible",
            "--sv",
            "1.6",
            "--of",
            "JSON",
            "-o",
            str(out),
        ],
        cwd=root,
    )


def _finish_sbom(path: Path, direct: Iterable[str]) -> None:
    bom = json.loads(path.read_text(encoding="utf-8"))
    _dependency_graph(bom, direct)
    path.write_text(json.dumps(bom, indent=2, sort_keys=True) + "\n", encoding="utf-8")


# --- release evidence (R57.24) -------------------------------------------------------------------

VERSION_RE = re.compile(r"^\d+\.\d+\.\d+([.-]?[A-Za-z0-9.]+)?$")


def evidence(version: str, root: Path = ROOT, base: Path = EVIDENCE) -> Path:
    """security/evidence/<version>/: the release's SAST, SCA, SBOMs and JS inventory, and a
    manifest with their SHA-256, the commit and the date. Evidence is written once."""
    if not VERSION_RE.match(version):
        raise ScanError(f"not a release version: {version!r} (expected like 1.4.0)")
    target = base / version
    if target.exists():
        raise ScanError(f"{target} exists: a release's evidence is never rewritten")
    work = Path(tempfile.mkdtemp(prefix=f"evidence-{version}-"))
    sast_report = sast(root)
    sast_result = gate(findings_of(sast_report), load_accepted(), dt.datetime.now(dt.UTC).date())
    sast_report["gate"] = _gate_json(sast_result)
    _write_json(work / "sast.json", sast_report)
    sca_report_ = sca(root)
    sca_result = gate(
        sca_findings(sca_report_), load_accepted(), dt.datetime.now(dt.UTC).date(), SCA_TOOLS
    )
    sca_report_["gate"] = _gate_json(sca_result)
    _write_json(work / "sca.json", sca_report_)
    inventory, problems = js_inventory(root)
    inventory["problems"] = problems
    _write_json(work / "js-inventory.json", inventory)
    sbom(work, root)
    shutil.copy2(ACCEPTED, work / "accepted.toml")
    files = sorted(p.name for p in work.iterdir())
    manifest = {
        "format": "aips-security-evidence/1",
        "version": version,
        "made_at": _now(),
        "commit": _commit(root),
        "retention": "3 years from the release date (R57.24)",
        "sast_passed": sast_result.ok,
        "sca_passed": sca_result.ok,
        "js_inventory_complete": not problems,
        "tools": {
            **sast_report["tools"],
            "pip-audit": _pkg_version("pip-audit"),
            "cyclonedx-bom": _pkg_version("cyclonedx-bom"),
        },
        "files": {
            name: {"sha256": _sha256(work / name), "bytes": (work / name).stat().st_size}
            for name in files
        },
    }
    _write_json(work / "manifest.json", manifest)
    base.mkdir(parents=True, exist_ok=True)
    shutil.move(str(work), str(target))
    return target


def verify_evidence(directory: Path) -> list[str]:
    """Problems with a release's evidence folder: files missing, changed or unlisted."""
    manifest = json.loads((directory / "manifest.json").read_text(encoding="utf-8"))
    problems = []
    for name, entry in manifest["files"].items():
        path = directory / name
        if not path.exists():
            problems.append(f"{name} is missing")
        elif _sha256(path) != entry["sha256"]:
            problems.append(f"{name} does not match its SHA-256 in the manifest")
    extra = {p.name for p in directory.iterdir()} - set(manifest["files"]) - {"manifest.json"}
    problems += [f"{name} is not in the manifest" for name in sorted(extra)]
    return problems


def _gate_json(result: GateResult) -> dict[str, Any]:
    return {
        "passed": result.ok,
        "new_high": [asdict(f) for f in result.new_high],
        "accepted": [
            {
                "finding": asdict(f),
                "acceptance": a.index,
                "reason": a.reason,
                "expires": a.expires.isoformat(),
            }
            for f, a in result.accepted
        ],
        "expired": [
            {
                "acceptance": a.index,
                "rule": f"{a.tool}:{a.rule}",
                "path": a.path,
                "expires": a.expires.isoformat(),
            }
            for a in result.expired
        ],
    }


def _commit(root: Path) -> str:
    try:
        return _run(["git", "rev-parse", "HEAD"], cwd=root).strip()
    except (ScanError, OSError):
        return "unknown"


def _now() -> str:
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _write_json(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


# --- command line --------------------------------------------------------------------------------


def _summary(findings: Sequence[Finding]) -> str:
    counts: dict[str, dict[str, int]] = {}
    for f in findings:
        counts.setdefault(f.tool, {}).setdefault(f.severity, 0)
        counts[f.tool][f.severity] += 1
    return (
        "; ".join(
            f"{t}: " + ", ".join(f"{n} {s}" for s, n in sorted(c.items()))
            for t, c in sorted(counts.items())
        )
        or "no findings"
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m security.scan", description=__doc__.split("\n\n")[0]
    )
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("sast", help="ruff S, bandit, semgrep, key files; gated by accepted.toml")
    p.add_argument("--out", type=Path, default=ROOT / "var/security/sast.json")
    p = sub.add_parser("sca", help="pip-audit of the lock files (needs PyPI)")
    p.add_argument("--out", type=Path, default=ROOT / "var/security/sca.json")
    p = sub.add_parser("js-inventory", help="every served JavaScript file with version and licence")
    p.add_argument("--out", type=Path, default=ROOT / "var/security/js-inventory.json")
    p = sub.add_parser("sbom", help="CycloneDX SBOMs of the server and the agent")
    p.add_argument("--out-dir", type=Path, default=ROOT / "var/security")
    p = sub.add_parser("evidence", help="a release's results into security/evidence/VERSION/")
    p.add_argument("--version", required=True)
    p = sub.add_parser("verify-evidence", help="check a release's evidence against its manifest")
    p.add_argument("directory", type=Path)
    args = parser.parse_args(argv)
    started = time.monotonic()
    today = dt.datetime.now(dt.UTC).date()
    try:
        if args.command == "sast":
            report = sast()
            findings = findings_of(report)
            result = gate(findings, load_accepted(), today)
            report["gate"] = _gate_json(result)
            _write_json(args.out, report)
            print(
                f"SAST ({_summary(findings)}) in {time.monotonic() - started:.0f} s "
                f"{report['seconds']}"
            )
            print_gate(result, scope="SAST")
            print(f"report: {args.out}")
            return 0 if result.ok else 1
        if args.command == "sca":
            report = sca()
            result = gate(sca_findings(report), load_accepted(), today, SCA_TOOLS)
            report["gate"] = _gate_json(result)
            _write_json(args.out, report)
            n = len(report["dependencies"])
            print(
                f"SCA: {n} locked dependencies, "
                f"{len(report['vulnerabilities'])} known vulnerabilities"
            )
            for v in report["vulnerabilities"]:
                fixed = ", ".join(v["fix_versions"]) or "-"
                published = v["fix_published"] or "unknown"
                print(
                    f"  {v['package']} {v['version']} {v['id']} fix {fixed} published {published}"
                )
            print_gate(result, scope="SCA")
            print(f"report: {args.out} (import it with `aips patch-report --import {args.out}`)")
            return 0 if result.ok else 1
        if args.command == "js-inventory":
            inventory, problems = js_inventory()
            _write_json(args.out, inventory)
            for item in inventory["files"]:
                print(f"  {item['path']}: {item['component']} {item['version']}, {item['licence']}")
            for problem in problems:
                print(f"PROBLEM {problem}")
            print(
                f"JavaScript inventory: {len(inventory['files'])} files, "
                f"{len(problems)} problems; {args.out}"
            )
            return 1 if problems else 0
        if args.command == "sbom":
            for name, path in sbom(args.out_dir).items():
                count = len(json.loads(path.read_text())["components"])
                print(f"SBOM of the {name}: {count} components, {path}")
            return 0
        if args.command == "evidence":
            target = evidence(args.version)
            manifest = json.loads((target / "manifest.json").read_text())
            where = target
            print(
                f"evidence of {args.version}: {where} (commit {manifest['commit'][:12]}); "
                f"SAST passed: {manifest['sast_passed']}, SCA passed: {manifest['sca_passed']}"
            )
            print("commit it with the release tag: git add security/evidence/" + args.version)
            return 0 if manifest["sast_passed"] and manifest["sca_passed"] else 1
        if args.command == "verify-evidence":
            problems = verify_evidence(args.directory)
            for problem in problems:
                print(f"PROBLEM {problem}")
            print(f"{args.directory}: {'intact' if not problems else 'NOT intact'}")
            return 1 if problems else 0
    except ScanError as error:
        print(f"security scan could not run: {error}", file=sys.stderr)
        return 2
    return 2


if __name__ == "__main__":
    sys.exit(main())
