"""Storing a dependency scan: one transaction keeps the scan, the vulnerabilities it lists (new
ones first seen today, known ones refreshed, missing ones resolved) and its audit entry."""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _

from aips.center.patches.models import DependencyScan, KnownVulnerability
from aips.core.access import ensure_perm
from aips.core.actors import Actor
from aips.core.errors import ValidationFailed
from aips.core.permissions import Perm
from aips.shared.audit.models import EventType
from aips.shared.audit.services import record

# Far above any real lock file (about a hundred packages), low enough that a wrong file is refused
# before it fills a table.
MAX_DEPENDENCIES = 5000
MAX_VULNERABILITIES = 2000


@dataclass(frozen=True)
class ParsedVulnerability:
    package: str
    version: str
    vuln_id: str
    aliases: list[str]
    fix_versions: list[str]
    fix_published: date | None
    description: str
    locks: list[str]


@dataclass(frozen=True)
class ParsedScan:
    scanned_at: datetime | None
    tool: str
    dependencies: int
    vulnerabilities: list[ParsedVulnerability]


def _bad(message: str) -> ValidationFailed:
    return ValidationFailed.field("report", message)


def _text(value: Any, limit: int, what: str) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > limit:
        message = _("Every %(what)s must be a non-empty text of at most %(limit)s characters.")
        raise _bad(message % {"what": what, "limit": limit})
    return value.strip()


def _texts(value: Any, limit: int, what: str) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or len(value) > 100:
        raise _bad(_("%(what)s must be a list.") % {"what": what})
    return [_text(item, limit, what) for item in value]


def _vulnerability(package: str, version: str, raw: Any, locks: list[str]) -> ParsedVulnerability:
    if not isinstance(raw, Mapping):
        raise _bad(_("A vulnerability must be an object."))
    published = raw.get("fix_published")
    fix_date = parse_date(published) if isinstance(published, str) else None
    if published is not None and fix_date is None:
        raise _bad(_("fix_published must be a date (YYYY-MM-DD)."))
    description = raw.get("description") or ""
    return ParsedVulnerability(
        package=package,
        version=version,
        vuln_id=_text(raw.get("id"), 100, "vulnerability id"),
        aliases=_texts(raw.get("aliases"), 100, "aliases"),
        fix_versions=_texts(raw.get("fix_versions"), 100, "fix_versions"),
        fix_published=fix_date,
        description=description[:4000] if isinstance(description, str) else "",
        locks=locks,
    )


def parse_report(data: Any) -> ParsedScan:
    """pip-audit's JSON (`pip-audit -f json`: dependencies with their vulns) or the report of
    `python -m security.scan sca` (format aips-sca/1, which adds the lock files and the date each
    fix was published). Anything else is refused with one field error."""
    if isinstance(data, Mapping) and data.get("format") == "aips-sca/1":
        raw_vulns = data.get("vulnerabilities")
        deps = data.get("dependencies")
        if not isinstance(raw_vulns, list) or not isinstance(deps, list):
            raise _bad(_("The report has no list of dependencies and vulnerabilities."))
        if len(deps) > MAX_DEPENDENCIES or len(raw_vulns) > MAX_VULNERABILITIES:
            raise _bad(_("The report is larger than any real scan."))
        vulns = []
        for raw in raw_vulns:
            if not isinstance(raw, Mapping):
                raise _bad(_("A vulnerability must be an object."))
            vulns.append(
                _vulnerability(
                    _text(raw.get("package"), 200, "package"),
                    _text(raw.get("version"), 100, "version"),
                    raw,
                    _texts(raw.get("locks"), 200, "locks"),
                )
            )
        raw_tool = data.get("tool")
        tool: Mapping[str, Any] = raw_tool if isinstance(raw_tool, Mapping) else {}
        scanned = data.get("scanned_at")
        return ParsedScan(
            scanned_at=parse_datetime(scanned) if isinstance(scanned, str) else None,
            tool=f"{tool.get('name', 'pip-audit')} {tool.get('version', '')}".strip()[:100],
            dependencies=len(deps),
            vulnerabilities=vulns,
        )
    dependencies = data.get("dependencies") if isinstance(data, Mapping) else data
    if not isinstance(dependencies, list):
        raise _bad(_("This is not pip-audit's JSON output (no list of dependencies)."))
    if len(dependencies) > MAX_DEPENDENCIES:
        raise _bad(_("The report is larger than any real scan."))
    vulns = []
    counted = 0
    for dep in dependencies:
        if not isinstance(dep, Mapping):
            raise _bad(_("A dependency must be an object."))
        if "skip_reason" in dep and "version" not in dep:
            continue
        counted += 1
        name = _text(dep.get("name"), 200, "package")
        version = _text(dep.get("version"), 100, "version")
        raw_vulns = dep.get("vulns") or []
        if not isinstance(raw_vulns, list):
            raise _bad(_("A dependency's vulns must be a list."))
        vulns += [_vulnerability(name, version, raw, []) for raw in raw_vulns]
    if len(vulns) > MAX_VULNERABILITIES:
        raise _bad(_("The report is larger than any real scan."))
    return ParsedScan(
        scanned_at=None, tool="pip-audit", dependencies=counted, vulnerabilities=vulns
    )


def _user_or_none(actor: Actor) -> Any:
    return actor if getattr(actor, "actor_kind", "") == "user" and actor.pk is not None else None


@transaction.atomic
def scan_import(*, actor: Actor, report: Any, source: str) -> DependencyScan:
    """Store a scan. The vulnerabilities it lists are open from now on; those it no longer lists
    are resolved. An older scan than the last one stored is refused (it would reopen what was
    fixed since)."""
    ensure_perm(actor, Perm.PATCH_IMPORT)
    parsed = parse_report(report)
    now = timezone.now()
    scanned_at = parsed.scanned_at or now
    if timezone.is_naive(scanned_at):
        raise ValidationFailed.field("report", _("scanned_at must carry its time zone."))
    if scanned_at > now + timedelta(minutes=5):
        raise ValidationFailed.field("report", _("The scan's date is in the future."))
    last = DependencyScan.objects.select_for_update().order_by("-scanned_at").first()
    if last is not None and scanned_at < last.scanned_at:
        raise ValidationFailed.field(
            "report",
            _("This scan (%(this)s) is older than the last one stored (%(last)s).")
            % {"this": f"{scanned_at:%Y-%m-%d %H:%M}", "last": f"{last.scanned_at:%Y-%m-%d %H:%M}"},
        )
    scan = DependencyScan(
        scanned_at=scanned_at,
        source=(source or "-")[:255],
        tool=parsed.tool,
        dependencies=parsed.dependencies,
        vulnerabilities=len({(v.package, v.version, v.vuln_id) for v in parsed.vulnerabilities}),
        imported_by=_user_or_none(actor),
    )
    scan.save(force_insert=True)
    seen_on = timezone.localdate(scanned_at)
    open_rows = {
        (row.package, row.version, row.vuln_id): row
        for row in KnownVulnerability.objects.select_for_update().all()
    }
    created = 0
    listed: set[tuple[str, str, str]] = set()
    for vuln in parsed.vulnerabilities:
        key = (vuln.package, vuln.version, vuln.vuln_id)
        if key in listed:
            continue
        listed.add(key)
        row = open_rows.get(key)
        if row is None:
            row = KnownVulnerability(
                package=vuln.package, version=vuln.version, vuln_id=vuln.vuln_id, first_seen=seen_on
            )
            created += 1
        row.aliases = vuln.aliases
        row.fix_versions = vuln.fix_versions
        # A date learnt once is kept when a later scan could not ask PyPI for it.
        row.fix_published = vuln.fix_published or row.fix_published
        row.description = vuln.description or row.description
        row.locks = vuln.locks or row.locks
        row.last_scan = scan
        row.resolved_at = None
        row.save()
    resolved = [
        row for key, row in open_rows.items() if key not in listed and row.resolved_at is None
    ]
    for row in resolved:
        row.resolved_at = scanned_at
        row.save(update_fields=["resolved_at"])
    record(
        actor=actor,
        event=EventType.PATCH_SCAN_IMPORTED,
        target=scan,
        details={
            "source": scan.source,
            "tool": scan.tool,
            "scanned_at": scanned_at.isoformat(),
            "dependencies": scan.dependencies,
            "vulnerabilities": scan.vulnerabilities,
            "new": created,
            "resolved": [f"{r.package} {r.version} {r.vuln_id}" for r in resolved],
        },
    )
    return scan
