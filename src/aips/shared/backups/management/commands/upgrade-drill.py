"""`aips upgrade-drill [ARCHIVE]` (and `etp upgrade-drill`): before an update reaches production
(R57.13, R57.14), restore a recent backup (the newest in AIPS_BACKUP_DIR by default) into a
scratch instance, run this release's migrations on it and smoke checks, and report. Run it with
the new release installed on the staging host (docs/deployment.md, "Updates")."""

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from aips.core.actors import cli_actor
from aips.shared.backups import services


class Command(BaseCommand):
    help = (
        "Upgrade drill: restore a backup into a scratch instance, migrate it, then check tables, "
        "files, the audit journal (before and after), `check`, and requests through the test "
        "client; writes a report into AIPS_BACKUP_DIR/reports and journals the result."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("archive", type=Path, nargs="?")

    def handle(self, *args: Any, **options: Any) -> None:
        report = services.drill_run(
            actor=cli_actor(), archive_path=options.get("archive"), upgrade=True
        )
        self.stdout.write(report.text())
        self.stdout.write(f"report: {report.path}")
        if not report.ok:
            raise CommandError("the upgrade drill failed: do not update production")
