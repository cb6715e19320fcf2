import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from aips.shared.audit import selectors, signing
from aips.shared.audit.anchor import AnchorError, anchor_path, anchor_pending, witness_pending
from aips.shared.audit.archive import (
    ArchiveError,
    archive_run,
    check_against_database,
    watch_content,
)
from aips.shared.audit.models import AuditCheckpoint
from aips.shared.audit.services import checkpoint_create
from aips.shared.audit.verifier import (
    AnchorWatch,
    Report,
    check_anchors,
    read_anchor_lines,
    verify,
    verify_archive,
)


class Command(BaseCommand):
    help = "The audit journal (R57.17): verify, checkpoint, export, archive."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        verify = sub.add_parser("verify", help="recompute the chain, the tree and signatures")
        verify.add_argument("--archive", type=Path, help="check sealed archive segments in DIR")
        verify.add_argument(
            "--anchor",
            type=Path,
            action="append",
            default=[],
            help="check against this anchor file or a witness's copy of its lines (repeatable; "
            "default: AIPS_AUDIT_ANCHOR_FILE)",
        )
        sub.add_parser(
            "checkpoint",
            help="sign the current tree head now, anchor it outside the database and send it to "
            "the witnesses",
        )
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
            self._verify(options.get("archive"), options["anchor"])
        elif action == "checkpoint":
            self._checkpoint()
        elif action == "export":
            self._export(options["directory"])
        elif action == "archive":
            self._archive()

    def _checkpoint(self) -> None:
        cp = checkpoint_create()
        self.stdout.write(
            f"checkpoint at {cp.tree_size}: {cp.root_hash}" if cp else "nothing new to sign"
        )
        try:
            anchored = anchor_pending()
        except AnchorError as exc:
            raise CommandError(f"not anchored: {exc}") from exc
        if anchored is not None:
            self.stdout.write(
                f"anchored the checkpoint at {anchored.tree_size} (proven to extend "
                f"{anchored.previous_size})"
            )
        for witness, count in witness_pending().items():
            self.stdout.write(f"sent {count} anchor lines to the {witness} witness")

    def _anchors(self, files: list[Path], trusted: set[str], checkpoints: int) -> tuple[Any, Any]:
        """The anchor lines that verify, and a report of what is wrong with the files."""
        report = Report()
        if not files:
            default = anchor_path()
            if not default.exists():
                if checkpoints:
                    self.stderr.write(
                        f"warning: no anchor file at {default}: the journal is checked only "
                        "against itself, which cannot show a rollback (see docs/deployment.md)"
                    )
                return [], report
            files = [default]
        anchors = []
        for path in files:
            try:
                anchors += check_anchors(read_anchor_lines(path), report, trusted_keys=trusted)
            except OSError as exc:
                report.fail(None, f"anchor file {path} cannot be read ({exc.strerror})")
        return anchors, report

    def _verify(self, archive: Path | None, anchor_files: list[Path]) -> None:
        from itertools import takewhile

        trusted = {signing.public_key_b64()}
        if archive is not None:
            report = verify_archive(archive, trusted_keys=trusted)
            # Also after a failure: the database may name an earlier bad entry.
            check_against_database(archive, report)
            if not report.ok:
                raise CommandError(self._tampered(report))
            self.stdout.write(f"archive OK: {report.entries} entries in {archive}")
        # The anchor first (whatever it holds was committed before it was anchored), then the
        # checkpoints, the head, and entries up to that head: on a live journal, entries appended
        # while this runs are neither reported as extra nor as a truncation.
        anchors, anchor_report = self._anchors(
            anchor_files, trusted, AuditCheckpoint.objects.count()
        )
        checkpoints = selectors.journal_checkpoints()
        head = selectors.head_seq()
        missing: list[int] = []
        watch = AnchorWatch(anchors)
        entries = takewhile(lambda e: e.seq <= head, selectors.journal_entries())
        watched = watch.watch(watch_content(entries, missing))
        report = verify(watched, checkpoints, trusted_keys=trusted, head_seq=head)
        for _rest in watched:  # verify stops at the first problem; the anchors need every leaf
            pass
        if missing:
            report.fail(missing[0], f"entry {missing[0]}'s content was removed but never archived")
        watch.finish(report, checkpoints)
        for problem in anchor_report.problems:
            report.fail(None, problem)
        if not report.ok:
            raise CommandError(self._tampered(report))
        line = f"OK: {report.entries} entries, {report.checkpoints} checkpoints verified"
        newest = watch.newest
        if newest is not None:
            line += (
                f"; entries 1..{newest.tree_size} match the newest anchored checkpoint "
                f"(signed at {newest.created_at})"
            )
            if head > newest.tree_size:
                line += f", entries {newest.tree_size + 1}..{head} are not anchored yet"
        self.stdout.write(line)

    def _archive(self) -> None:
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
        where = (
            ""
            if report.first_bad_seq is None
            else f" first bad sequence number {report.first_bad_seq}:"
        )
        return f"TAMPERED:{where} " + "; ".join(report.problems)

    def _export(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        # Before the entries: everything anchored was committed first, so the export holds it.
        anchored = anchor_path().read_bytes() if anchor_path().exists() else None
        count = 0
        with (directory / "entries.jsonl").open("w", encoding="utf-8") as handle:
            for entry in selectors.journal_entries():
                handle.write(json.dumps(asdict(entry), sort_keys=True, ensure_ascii=False) + "\n")
                count += 1
        with (directory / "checkpoints.jsonl").open("w", encoding="utf-8") as handle:
            for cp in selectors.journal_checkpoints():
                handle.write(json.dumps(asdict(cp), sort_keys=True) + "\n")
        (directory / "trusted_keys.txt").write_text(signing.public_key_b64() + "\n")
        if anchored is not None:
            # A convenience copy; an outside auditor should rather pass their own (a witness's).
            (directory / "anchor.jsonl").write_bytes(anchored)
        verifier = Path(__file__).resolve().parents[2] / "verifier.py"
        (directory / "verifier.py").write_text(verifier.read_text())
        self.stdout.write(
            f"exported {count} entries to {directory}; check with: python verifier.py {directory}"
        )
