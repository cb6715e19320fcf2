"""`aips signals`: the operator's handles on signal storage (the worker does the same daily)."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from aips.center.signals.archive import archive_run, due_months
from aips.center.signals.partitions import ensure_partitions
from aips.center.signals.services import correlate
from aips.core.actors import cli_actor
from aips.core.db_locks import try_xact_lock


class Command(BaseCommand):
    help = "Signals (R57.17): monthly partitions, archiving of months past the online period."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser(
            "partitions",
            help="create the monthly partitions up to two months ahead (PostgreSQL only)",
        )
        archive = sub.add_parser(
            "archive",
            help="write each month older than AIPS_SIGNAL_RETENTION_MONTHS to "
            "AIPS_DATA_DIR/signals-archive/YYYY-MM.jsonl.gz, then remove it from the database",
        )
        archive.add_argument(
            "--dry-run", action="store_true", help="only list the months that are due"
        )
        sub.add_parser("correlate", help="run the cross-organization correlation once")

    def handle(self, *args: Any, **options: Any) -> None:
        from django.utils import timezone

        action = options["action"]
        if action == "partitions":
            created = ensure_partitions(timezone.localdate())
            self.stdout.write(", ".join(created) or "partitions ready")
        elif action == "archive":
            if options["dry_run"]:
                months = due_months(timezone.localdate())
                self.stdout.write(", ".join(f"{m:%Y-%m}" for m in months) or "nothing is due")
                return
            try:
                # Not in a transaction of its own: each month commits separately.
                done = archive_run(actor=cli_actor())
            except (OSError, RuntimeError) as exc:
                raise CommandError(str(exc)) from exc
            for result in done:
                verb = "archived" if result.archived else "already archived"
                self.stdout.write(
                    f"{result.month:%Y-%m}: {verb}, {result.rows} signals, "
                    f"{result.path} sha256={result.sha256}"
                )
            if not done:
                self.stdout.write("nothing to archive")
        elif action == "correlate":
            from django.db import transaction

            with transaction.atomic():
                # The worker's job lock: two runs at once could open the same finding twice.
                if not try_xact_lock("aips.worker.correlate"):
                    raise CommandError("correlation is running elsewhere; try again later")
                opened = correlate()
            self.stdout.write(f"{opened} correlation findings opened")
