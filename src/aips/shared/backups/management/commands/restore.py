"""`aips restore ARCHIVE` (and `etp restore`): restore a backup into this instance, which must be
new and empty (R57.15). See docs/deployment.md, "Backups"."""

import io
from pathlib import Path
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection

from aips.core.actors import cli_actor
from aips.shared.backups import crypto, database, parts, services


class Command(BaseCommand):
    help = (
        "Restore a backup into this instance: only into an empty database and empty file "
        "directories. The archive is decrypted and checked whole before anything is written; "
        "on PostgreSQL it is loaded with pg_restore --no-owner --no-acl as the connecting (owner) "
        "role and the application role then gets its grants (`db grants`); finally the restored "
        "audit journal is verified."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("archive", type=Path)
        parser.add_argument(
            "--app-role",
            help="PostgreSQL: the role the web server and workers connect as (required there)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        postgresql = database.engine(connection.settings_dict) == "postgresql"
        if postgresql and not options["app_role"]:
            raise CommandError("on PostgreSQL give --app-role (docs/deployment.md: aips)")
        connection.close()  # SQLite: the file is replaced under this connection otherwise
        try:
            manifest = services.restore(
                archive_path=options["archive"],
                target=services.live_target(),
                app_role=options["app_role"] if postgresql else None,
            )
        except crypto.BackupError as exc:
            raise CommandError(str(exc)) from exc
        db = manifest["database"]
        self.stdout.write(
            f"restored {options['archive']} of {manifest['created_at']}: {len(db['tables'])} "
            f"tables, {len(manifest['members']) - 1} files"
        )
        if postgresql:
            self.stdout.write(f"granted the application role {options['app_role']} its rights")
        verify = ["verify"]
        archive_dir = parts.live_layout().get("audit-archive")
        if archive_dir is not None and parts.files_of(archive_dir):
            verify += ["--archive", str(archive_dir)]
        out = io.StringIO()
        call_command("audit", *verify, stdout=out, stderr=self.stderr)
        self.stdout.write("audit journal: " + out.getvalue().strip())
        services.restore_journal(
            actor=cli_actor(), archive_path=options["archive"], manifest=manifest
        )
        then = "`migrate` and `db grants` again" if postgresql else "`migrate`"
        self.stdout.write(f"Next, on a newer release than the backup's: {then}; then start.")
