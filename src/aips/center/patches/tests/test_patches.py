"""Patch deadlines (R57.13): every locked dependency with a known vulnerability, when its fix was
published and the days left of the one month, from a canned pip-audit JSON and SCA report."""

import json
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django.utils import timezone

from aips.center.patches import selectors, services
from aips.center.patches.models import DependencyScan, KnownVulnerability, add_months
from aips.core.actors import SystemActor
from aips.core.errors import Forbidden, ValidationFailed
from aips.shared.audit.models import AuditEvent

PIP_AUDIT = Path(__file__).with_name("data") / "pip-audit.json"
SYSTEM = SystemActor()


def sca_report(*, scanned_at: datetime, vulns: list[dict[str, Any]]) -> dict[str, Any]:
    """The shape `python -m security.scan sca` writes (format aips-sca/1)."""
    return {
        "format": "aips-sca/1",
        "scanned_at": scanned_at.isoformat(),
        "tool": {"name": "pip-audit", "version": "2.10.1", "service": "pypi"},
        "dependencies": [{"name": f"pkg{i}", "version": "1.0", "locks": []} for i in range(70)],
        "vulnerabilities": vulns,
    }


def vuln(package: str, vuln_id: str, fix: list[str], published: date | None) -> dict[str, Any]:
    return {
        "package": package,
        "version": "1.0",
        "id": vuln_id,
        "aliases": [],
        "fix_versions": fix,
        "fix_published": published.isoformat() if published else None,
        "description": "",
        "locks": ["requirements.lock"],
    }


def test_r57_13_one_month_is_a_calendar_month() -> None:
    assert add_months(date(2026, 12, 5), 1) == date(2027, 1, 5)
    assert add_months(date(2027, 1, 31), 1) == date(2027, 2, 28)
    assert add_months(date(2028, 1, 31), 1) == date(2028, 2, 29)


@pytest.mark.django_db
def test_r57_13_pip_audit_json_becomes_the_report(
    capsys: pytest.CaptureFixture[str], django_db_blocker: Any
) -> None:
    call_command("patch-report", "--import", str(PIP_AUDIT))
    out = capsys.readouterr().out
    scan = DependencyScan.objects.get()
    assert (scan.dependencies, scan.vulnerabilities, scan.source) == (4, 4, "pip-audit.json")
    rows = selectors.patch_rows(actor=SYSTEM, today=timezone.localdate())
    by_id = {r.vulnerability.vuln_id: r for r in rows}
    assert set(by_id) == {
        "PYSEC-2025-47",
        "GHSA-q2x7-8rv6-6q7h",
        "GHSA-cpwx-vrp4-4pq7",
        "GHSA-wj6h-64fc-37mp",
    }
    # pip-audit's JSON does not say when the fix came out: the clock runs from today, when the
    # vulnerability was first seen, and says so.
    django = by_id["PYSEC-2025-47"]
    assert django.basis == "first_seen"
    assert django.deadline == add_months(timezone.localdate(), 1)
    assert django.vulnerability.aliases == ["CVE-2025-48432", "GHSA-7xr5-9hcq-chf9"]
    # No fixing release: watched, no deadline, listed last.
    assert by_id["GHSA-wj6h-64fc-37mp"].basis == "no_fix"
    assert rows[-1].vulnerability.vuln_id == "GHSA-wj6h-64fc-37mp"
    assert "django\t5.2.1\tPYSEC-2025-47\tfixed in 4.2.22, 5.1.10, 5.2.2" in out
    event = AuditEvent.objects.get(event="patch:scan_imported")
    assert event.details["vulnerabilities"] == 4


@pytest.mark.django_db
def test_r57_13_days_left_run_from_the_fix_and_overdue_ones_come_first() -> None:
    today = timezone.localdate()
    services.scan_import(
        actor=SYSTEM,
        source="sca.json",
        report=sca_report(
            scanned_at=timezone.now(),
            vulns=[
                vuln("fresh", "V-1", ["1.1"], today - timedelta(days=3)),
                vuln("late", "V-2", ["1.2"], today - timedelta(days=45)),
                vuln("nofix", "V-3", [], None),
            ],
        ),
    )
    rows = selectors.patch_rows(actor=SYSTEM, today=today)
    assert [r.vulnerability.package for r in rows] == ["late", "fresh", "nofix"]
    late, fresh, nofix = rows
    assert late.overdue
    assert late.deadline == add_months(today - timedelta(days=45), 1)
    assert late.overdue_days == (today - late.deadline).days > 0
    assert not fresh.overdue
    assert fresh.days_left == (add_months(today - timedelta(days=3), 1) - today).days
    assert fresh.basis == "fix_published"
    assert (nofix.deadline, nofix.days_left, nofix.overdue) == (None, None, False)
    with pytest.raises(CommandError, match="1 security update"):
        call_command("patch-report", "--fail-on-overdue")


@pytest.mark.django_db
def test_r57_13_a_later_scan_resolves_what_it_no_longer_lists_and_keeps_first_seen() -> None:
    now = timezone.now()
    first = sca_report(
        scanned_at=now - timedelta(days=10),
        vulns=[vuln("a", "V-1", ["2.0"], None), vuln("b", "V-2", ["2.0"], None)],
    )
    services.scan_import(actor=SYSTEM, report=first, source="one.json")
    services.scan_import(
        actor=SYSTEM,
        report=sca_report(scanned_at=now, vulns=[vuln("b", "V-2", ["2.0"], None)]),
        source="two.json",
    )
    a = KnownVulnerability.objects.get(package="a")
    b = KnownVulnerability.objects.get(package="b")
    assert a.resolved_at is not None
    assert b.resolved_at is None
    assert b.first_seen == timezone.localdate(now - timedelta(days=10))
    assert [
        r.vulnerability.package
        for r in selectors.patch_rows(actor=SYSTEM, today=timezone.localdate())
    ] == ["b"]
    assert [v.package for v in selectors.recently_resolved(actor=SYSTEM)] == ["a"]
    # An older scan would reopen what was fixed since: refused.
    with pytest.raises(ValidationFailed):
        services.scan_import(actor=SYSTEM, report=first, source="one.json")


@pytest.mark.django_db
@pytest.mark.parametrize(
    "report",
    [
        "not json object",
        {"dependencies": "nope"},
        {"dependencies": [{"name": "x", "version": "1", "vulns": [{"fix_versions": []}]}]},
        {"format": "aips-sca/1", "dependencies": [], "vulnerabilities": [
            {"package": "x", "version": "1", "id": "V", "fix_published": "yesterday"}]},
    ],
)  # fmt: skip
def test_r57_13_a_report_that_is_not_a_scan_is_refused(report: Any) -> None:
    with pytest.raises(ValidationFailed):
        services.scan_import(actor=SYSTEM, report=report, source="bad.json")
    assert not DependencyScan.objects.exists()


def test_r57_13_only_the_center_admin_imports(personas: dict[str, Any]) -> None:
    with pytest.raises(Forbidden):
        services.scan_import(actor=personas["auditor"], report={"dependencies": []}, source="x")


def test_r57_13_the_page_shows_deadlines_and_highlights_overdue(
    client_as: Any, personas: dict[str, Any]
) -> None:
    today = timezone.localdate()
    services.scan_import(
        actor=personas["center_admin"],
        source="sca.json",
        report=sca_report(
            scanned_at=timezone.now(),
            vulns=[
                vuln("late", "V-2", ["1.2"], today - timedelta(days=45)),
                vuln("fresh", "V-1", ["1.1"], today - timedelta(days=3)),
            ],
        ),
    )
    for persona in ("center_admin", "auditor"):
        page = client_as(persona).get("/security-updates/")
        assert page.status_code == 200
        html = page.content.decode()
        assert 'data-package="late" data-vulnerability="V-2" class="overdue"' in html
        assert 'id="overdue-count"' in html
        assert "1 update is overdue" in html
        assert 'data-package="fresh" data-vulnerability="V-1">' in html
        assert "Last scan:" in html
        assert "70 dependencies checked" in html
    for persona in ("center_analyst", "bank_a_head", "bank_a_maker"):
        assert client_as(persona).get("/security-updates/").status_code == 403
    anonymous: Client = client_as(None)
    assert anonymous.get("/security-updates/").status_code == 302


def test_r57_13_the_page_works_before_any_scan(client_as: Any) -> None:
    page = client_as("center_admin").get("/security-updates/")
    assert page.status_code == 200
    assert "No scan has been imported yet" in page.content.decode()


@pytest.mark.django_db
def test_r57_13_json_output_for_scripts(capsys: pytest.CaptureFixture[str]) -> None:
    call_command("patch-report", "--import", str(PIP_AUDIT), "--json")
    data = json.loads(capsys.readouterr().out)
    assert data["last_scan"]["tool"] == "pip-audit"
    assert {row["id"] for row in data["open"]} >= {"PYSEC-2025-47"}
