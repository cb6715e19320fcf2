"""`aips backup` (and `etp backup`): write one encrypted, verifiable archive of this instance
(R57.15); `backup verify ARCHIVE`; `backup key` makes the key; `backup drill` restores into a
scratch instance and checks it (R57.16); `backup list`. See docs/deployment.md, "Backups"."""

import json
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from aips.core.actors import cli_actor
from aips.shared.backups import archive, crypto, scratch, services


class Command(BaseCommand):
    help = (
        "Backups (R57.15, R57.16): with no action, write an encrypted archive of the database, "
        "the stored files, the audit key and anchor, and the CA and EDS material into "
        "AIPS_BACKUP_DIR."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action")
        sub.add_parser("create", help="write a backup (the default action)")
        verify = sub.add_parser(
            "verify", help="decrypt an archive and check every member against its manifest"
        )
        verify.add_argument("archive", type=Path)
        sub.add_parser(
            "key", help="create the backup key at AIPS_BACKUP_KEY_FILE (never replaces one)"
        )
        sub.add_parser("list", help="this product's archives in AIPS_BACKUP_DIR, newest first")
        sub.add_parser("prune", help="remove the archives past the retention policy")
        drill = sub.add_parser(
            "drill",
            help="restore an archive (the newest by default) into a scratch instance, compare "
            "its tables and files with the manifest, run `audit verify`, write a report",
        )
        drill.add_argument("archive", type=Path, nargs="?")
        # Internal: what a drill runs inside its scratch instance (scratch.py).
        check = sub.add_parser("check-instance")
        check.add_argument("--manifest", type=Path, required=True)
        check.add_argument("--report", type=Path, required=True)
        check.add_argument("--upgrade", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        action = options.get("action") or "create"
        try:
            getattr(self, "_" + action.replace("-", "_"))(options)
        except crypto.BackupError as exc:
            raise CommandError(str(exc)) from exc

    def _create(self, options: dict[str, Any]) -> None:
        result = services.backup_create(actor=cli_actor())
        db = result.manifest["database"]
        self.stdout.write(
            f"wrote {result.path} ({result.path.stat().st_size} bytes): {db['engine']} "
            f"({len(db['tables'])} tables, {sum(db['tables'].values())} rows), "
            f"{len(result.manifest['members']) - 1} files"
        )
        for path in result.removed:
            self.stdout.write(f"removed expired {path.name}")

    def _verify(self, options: dict[str, Any]) -> None:
        manifest = archive.read(options["archive"], services.key())
        db = manifest["database"]
        self.stdout.write(
            f"OK: {options['archive']} ({manifest['product']}, {manifest['created_at']}): "
            f"{len(manifest['members'])} members match the manifest; {db['engine']} "
            f"{len(db['tables'])} tables, {sum(db['tables'].values())} rows"
        )

    def _key(self, options: dict[str, Any]) -> None:
        path = str(settings.AIPS_BACKUP_KEY_FILE or "")
        if not path:
            raise CommandError("set AIPS_BACKUP_KEY_FILE first (a path outside AIPS_BACKUP_DIR)")
        key = crypto.create_key(Path(path))
        self.stdout.write(
            f"created {path} (key id {crypto.key_id(key).hex()}, mode 0600). Keep a copy "
            "offline and apart from the backups: without it no backup can be read."
        )

    def _list(self, options: dict[str, Any]) -> None:
        for at, path in services.archives():
            self.stdout.write(f"{at.isoformat()}  {path.stat().st_size:>12}  {path}")

    def _prune(self, options: dict[str, Any]) -> None:
        removed = services.backups_prune(actor=cli_actor())
        self.stdout.write(f"removed {len(removed)} expired archives")

    def _drill(self, options: dict[str, Any]) -> None:
        report = services.drill_run(actor=cli_actor(), archive_path=options.get("archive"))
        self.stdout.write(report.text())
        self.stdout.write(f"report: {report.path}")
        if not report.ok:
            raise CommandError("the restore drill failed")

    def _check_instance(self, options: dict[str, Any]) -> None:
        manifest = json.loads(options["manifest"].read_text())
        steps = scratch.check_here(manifest, upgrade=options["upgrade"])
        options["report"].write_text(json.dumps(steps))
