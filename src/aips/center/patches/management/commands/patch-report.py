"""`aips patch-report`: the patch deadlines of R57.13 on the command line.

aips patch-report                      the open vulnerabilities, the most urgent first
aips patch-report --import FILE        store a scan first (pip-audit -f json, or
                                       `python -m security.scan sca`'s report)
aips patch-report --fail-on-overdue    exit 1 while an update is overdue (for cron or CI)
"""

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from aips.center.patches import selectors, services
from aips.core.actors import cli_actor
from aips.core.errors import AppError

# A scan is a few hundred kilobytes; refuse anything that could not be one before reading it.
MAX_BYTES = 20 * 1024 * 1024


class Command(BaseCommand):
    help = (
        "Dependencies with known vulnerabilities, when their fix was published and the days left "
        "of the one-month deadline (R57.13). Acts as a center administrator."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--import", dest="source", help="a pip-audit JSON or SCA report")
        parser.add_argument("--fail-on-overdue", action="store_true")
        parser.add_argument("--json", action="store_true", help="the report as JSON")

    def handle(self, *args: Any, **options: Any) -> None:
        actor = cli_actor()
        if options["source"]:
            path = Path(options["source"])
            try:
                if path.stat().st_size > MAX_BYTES:
                    raise CommandError(f"{path}: larger than any scan ({MAX_BYTES} bytes)")
                data = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                raise CommandError(f"{path}: {exc}") from exc
            try:
                stored = services.scan_import(actor=actor, report=data, source=path.name)
            except AppError as exc:
                problems = "; ".join(" ".join(v) for v in exc.fields.values())
                raise CommandError(f"{path}: {problems or exc.message}") from exc
            self.stderr.write(
                f"imported {path.name}: {stored.dependencies} dependencies, "
                f"{stored.vulnerabilities} known vulnerabilities"
            )
        today = timezone.localdate()
        rows = selectors.patch_rows(actor=actor, today=today)
        scan = selectors.latest_scan(actor=actor)
        if options["json"]:
            self.stdout.write(json.dumps(_as_json(rows, scan, today), indent=2))
        else:
            self._table(rows, scan)
        overdue = [r for r in rows if r.overdue]
        if options["fail_on_overdue"] and overdue:
            raise CommandError(f"{len(overdue)} security update(s) overdue (R57.13)")

    def _table(self, rows: list[selectors.PatchRow], scan: Any) -> None:
        if scan is None:
            self.stdout.write("no scan imported yet (aips patch-report --import FILE)")
            return
        self.stdout.write(
            f"last scan {scan.scanned_at:%Y-%m-%d %H:%M} UTC, {scan.tool}, "
            f"{scan.dependencies} dependencies, {len(rows)} open vulnerabilities"
        )
        for r in rows:
            v = r.vulnerability
            if r.days_left is None:
                left = "no fix yet"
            elif r.overdue:
                left = f"OVERDUE by {r.overdue_days} days"
            else:
                left = f"{r.days_left} days left"
            published = v.fix_published.isoformat() if v.fix_published else "unknown"
            deadline = r.deadline.isoformat() if r.deadline else "-"
            fixed = ", ".join(v.fix_versions) or "-"
            self.stdout.write(
                f"{v.package}\t{v.version}\t{v.vuln_id}\tfixed in {fixed}\t"
                f"published {published}\tdeadline {deadline}\t{left}"
            )


def _as_json(rows: list[selectors.PatchRow], scan: Any, today: Any) -> dict[str, Any]:
    return {
        "today": today.isoformat(),
        "last_scan": None
        if scan is None
        else {"scanned_at": scan.scanned_at.isoformat(), "tool": scan.tool, "source": scan.source},
        "open": [
            {
                "package": r.vulnerability.package,
                "version": r.vulnerability.version,
                "id": r.vulnerability.vuln_id,
                "fix_versions": r.vulnerability.fix_versions,
                "fix_published": r.vulnerability.fix_published.isoformat()
                if r.vulnerability.fix_published
                else None,
                "deadline": r.deadline.isoformat() if r.deadline else None,
                "days_left": r.days_left,
                "overdue": r.overdue,
                "basis": r.basis,
            }
            for r in rows
        ],
    }
