import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser


class Command(BaseCommand):
    help = "The audit journal (R57.17): verify, checkpoint, export, archive."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        verify = sub.add_parser("verify", help="recompute the chain, the tree and signatures")
        verify.add_argument("--archive", type=Path, help="check sealed archive segments in DIR")
        sub.add_parser("checkpoint", help="sign the current tree head now")
        export = sub.add_parser("export", help="write the journal for the stand-alone verifier")
        export.add_argument("directory", type=Path)
        sub.add_parser(
            "archive",
            help="seal entries older than the online period into signed segments, then remove "
            "their content from the database (the worker does this daily)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action == "verify":
            self._verify(options.get("archive"))
        elif action == "checkpoint":
            from aips.audit.services import checkpoint_create

            cp = checkpoint_create()
            self.stdout.write(
                f"checkpoint at {cp.tree_size}: {cp.root_hash}" if cp else "nothing new to sign"
            )
        elif action == "export":
            self._export(options["directory"])
        elif action == "archive":
            self._archive()

    def _verify(self, archive: Path | None) -> None:
        from itertools import takewhile

        from aips.audit import selectors, signing
        from aips.audit.archive import check_against_database, watch_content
        from aips.audit.verifier import verify, verify_archive

        trusted = {signing.public_key_b64()}
        if archive is not None:
            report = verify_archive(archive, trusted_keys=trusted)
            # Also after a failure: the database may name an earlier bad entry.
            check_against_database(archive, report)
            if not report.ok:
                raise CommandError(self._tampered(report))
            self.stdout.write(f"archive OK: {report.entries} entries in {archive}")
        # Checkpoints, then the head, then entries up to that head: on a live journal, entries
        # appended while this runs are neither reported as extra nor as a truncation.
        checkpoints = selectors.journal_checkpoints()
        head = selectors.head_seq()
        missing: list[int] = []
        entries = takewhile(lambda e: e.seq <= head, selectors.journal_entries())
        report = verify(
            watch_content(entries, missing), checkpoints, trusted_keys=trusted, head_seq=head
        )
        if missing:
            report.fail(missing[0], f"entry {missing[0]}'s content was removed but never archived")
        if not report.ok:
            raise CommandError(self._tampered(report))
        self.stdout.write(
            f"OK: {report.entries} entries, {report.checkpoints} checkpoints verified"
        )

    def _archive(self) -> None:
        from aips.audit.archive import ArchiveError, archive_run

        try:
            segments = archive_run()
        except ArchiveError as exc:
            raise CommandError(f"nothing archived: {exc}") from exc
        if not segments:
            self.stdout.write("nothing to archive")
        for segment in segments:
            self.stdout.write(
                f"sealed {segment.first_seq}-{segment.last_seq} into {segment.file_name} "
                f"({segment.last_seq - segment.first_seq + 1} entries)"
            )

    @staticmethod
    def _tampered(report: Any) -> str:
        return f"TAMPERED: first bad sequence number {report.first_bad_seq}: " + "; ".join(
            report.problems
        )

    def _export(self, directory: Path) -> None:
        from aips.audit import selectors, signing

        directory.mkdir(parents=True, exist_ok=True)
        count = 0
        with (directory / "entries.jsonl").open("w", encoding="utf-8") as handle:
            for entry in selectors.journal_entries():
                handle.write(json.dumps(asdict(entry), sort_keys=True, ensure_ascii=False) + "\n")
                count += 1
        with (directory / "checkpoints.jsonl").open("w", encoding="utf-8") as handle:
            for cp in selectors.journal_checkpoints():
                handle.write(json.dumps(asdict(cp), sort_keys=True) + "\n")
        (directory / "trusted_keys.txt").write_text(signing.public_key_b64() + "\n")
        verifier = Path(__file__).resolve().parents[2] / "verifier.py"
        (directory / "verifier.py").write_text(verifier.read_text())
        self.stdout.write(
            f"exported {count} entries to {directory}; check with: python verifier.py {directory}"
        )
